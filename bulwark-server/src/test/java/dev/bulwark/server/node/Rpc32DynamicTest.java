package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * As {@link Rpc32Test}, to a dynamic worker, on a node of its own (a sandbox holds both isolates
 * and every copy of these payloads: a fresh one keeps its resident memory under the soft limit;
 * six 32 MiB cases in a row through one sandbox holding caller and callee pass it, see
 * docs/notes/rpc32.md).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class Rpc32DynamicTest {
    @TempDir
    static Path data;
    static Node node;
    static final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        node = TestProjects.serve(data, "rpcgaps-project", "front", "back");
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    @Test
    void twentyMebibytesCrossBothWaysToADynamicWorkerAndOneByteOverTheLimitIsRefused() throws Exception {
        Rpc32Test.roundTripsUpToTheResultLimit(node, "worker");
    }

    @Test
    void aResultOneByteOverTheLimitIsRefused() throws Exception {
        // On a sandbox of its own: see the class comment and docs/notes/rpc32.md (memory).
        java.nio.file.Files.createDirectories(data.resolve("fresh"));
        try (Node fresh = TestProjects.serve(data.resolve("fresh"), "rpcgaps-project", "front", "back")) {
            assertThat(Rpc32Test.get(fresh, "/rpc32?to=worker&case=resultPastLimit")).isEqualTo(json.readTree("""
                    {"out":"%s33554433 bytes.","after":"rrr"}""".formatted(Rpc32Test.TOO_LARGE)));
        }
    }
}
