package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.JsonNode;
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
 * JS RPC arguments and results up to Workers' 32 MiB (carried from a sandbox in pieces), to a
 * durable object and to a dynamic worker; one byte more is workerd's Error; a child answering
 * 100 MB hurts nobody (rpcgaps-project: gapfront).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class Rpc32Test {
    static final String TOO_LARGE =
            "Error: Serialized RPC arguments or return values are limited to 32MiB, but the size of this value was: ";
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

    static JsonNode get(String path) throws Exception {
        return get(node, path);
    }

    /** {@code path} of the gapfront worker on {@code on}: its JSON answer, after asserting a 200. */
    static JsonNode get(Node on, String path) throws Exception {
        return json.readTree(TestProjects.ok(on, "gapfront.localhost", path));
    }

    /** What each case of /rpc32 answers, to either kind of callee. */
    static void roundTripsAndLimits(String to) throws Exception {
        roundTripsUpToTheResultLimit(node, to);
        assertThat(get("/rpc32?to=" + to + "&case=resultPastLimit")).isEqualTo(json.readTree("""
                {"out":"%s33554433 bytes.","after":"rrr"}""".formatted(TOO_LARGE)));
    }

    /** Every case of /rpc32 on {@code on} but a result past the limit (see {@link Rpc32DynamicTest}). */
    static void roundTripsUpToTheResultLimit(Node on, String to) throws Exception {
        assertThat(get(on, "/rpc32?to=" + to + "&case=echo")).isEqualTo(json.readTree("""
                {"out":{"same":true,"length":20971523},"after":"rrr"}"""));
        assertThat(get(on, "/rpc32?to=" + to + "&case=make")).isEqualTo(json.readTree("""
                {"out":{"same":true,"length":20971520},"after":"rrr"}"""));
        assertThat(get(on, "/rpc32?to=" + to + "&case=argsAtLimit")).isEqualTo(json.readTree("""
                {"out":33554422,"after":"rrr"}"""));
        assertThat(get(on, "/rpc32?to=" + to + "&case=argsPastLimit")).isEqualTo(json.readTree("""
                {"out":"%s33554433 bytes.","after":"rrr"}""".formatted(TOO_LARGE)));
        assertThat(get(on, "/rpc32?to=" + to + "&case=resultAtLimit")).isEqualTo(json.readTree("""
                {"out":33554425,"after":"rrr"}"""));
    }

    @Test
    void twentyMebibytesCrossBothWaysToADurableObjectAndOneByteOverTheLimitIsRefused() throws Exception {
        roundTripsAndLimits("object");
    }

    @Test
    void aChildAnsweringOneHundredMegabytesIsStoppedAndEveryoneGoesOn() throws Exception {
        // 100 MB in the child's isolate plus its serialized copy pass the sandbox's per-task memory
        // limit before the 32 MiB check is reached: the child's task is stopped, the caller's call
        // fails, and the child, the parent, a durable object and the node go on serving.
        assertThat(get("/hostile")).isEqualTo(json.readTree("""
                {"flood":"TypeError: the worker exceeded its memory limit (the sandbox process grew by more than 256 MiB during one task)",
                 "small":"fine","room":"room says hello to me"}"""));
        assertThat(get("/rpc32?to=worker&case=echo")).isEqualTo(json.readTree("""
                {"out":{"same":true,"length":20971523},"after":"rrr"}"""));
    }
}
