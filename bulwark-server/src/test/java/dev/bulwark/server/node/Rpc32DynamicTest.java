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
 * As {@link Rpc32Test}, to a dynamic worker, on a node of its own: a sandbox holds both isolates
 * and every copy of these payloads (docs/notes/rpc32.md).
 *
 * <p>The round trips run in sandboxes with a lower resident-memory ceiling ({@value #CEILING_MB}
 * MiB: a soft limit of 720 MiB) than the default 1,024: the garbage the five cases leave in their
 * isolates' heaps grew such a sandbox to ~810 MiB when nothing collected it, so the cases pass only
 * because the sandbox collects its isolates' garbage before it stops code at the soft limit
 * ({@code MemoryPressure}). Before that, the fifth case failed on CI at the default ceiling.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class Rpc32DynamicTest {
    @TempDir
    static Path data;
    static Node node;
    static final ObjectMapper json = new ObjectMapper();

    static final long CEILING_MB = 900;

    @BeforeAll
    static void start() throws Exception {
        node = TestProjects.serve(data, s -> s.withRssCeilingMb(CEILING_MB), "rpcgaps-project", "front", "back");
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
