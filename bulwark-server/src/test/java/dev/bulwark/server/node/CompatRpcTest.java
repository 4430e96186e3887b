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
 * Who owns the stubs in JS RPC params, by the calling worker's compatibility date and flags, as
 * workerd's rpcParamsDupStubs (on from 2026-01-20; rpc_params_dup_stubs / rpc_params_transfer_stubs):
 * on a real node, with dynamic workers loaded at the date under test as the callers and as a proxy
 * between a caller and the callee (compatrpc-project).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class CompatRpcTest {
    @TempDir
    static Path data;
    static Node node;
    static final ObjectMapper json = new ObjectMapper();
    static final String NEW = "2026-02-01";
    static final String OLD = "2025-12-01";
    static final String DISPOSED = "RPC stub used after being disposed.";

    @BeforeAll
    static void start() throws Exception {
        node = TestProjects.serve(data, "compatrpc-project");
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static JsonNode run(String test, String date, String more) throws Exception {
        JsonNode out = json.readTree(TestProjects.ok(node, "compatrpc.localhost", "/?case=" + test + "&date=" + date + more));
        System.out.println("compatrpc " + test + " " + date + more + ": " + out);
        return out;
    }

    static void value(JsonNode outcome, int expected, String what) {
        assertThat(outcome.path("value").asInt(-1)).as(what + ": " + outcome).isEqualTo(expected);
    }

    static void error(JsonNode outcome, String name, String message, String what) {
        assertThat(outcome.path("error").path("name").asText()).as(what + ": " + outcome).isEqualTo(name);
        assertThat(outcome.path("error").path("message").asText()).as(what).isEqualTo(message);
    }

    @Test
    void fromTheNewDateAStubPassedInParamsStaysTheCallers() throws Exception {
        for (String[] c : new String[][] {{NEW, ""}, {OLD, "&flags=rpc_params_dup_stubs"}}) {
            JsonNode out = run("reuse", c[0], c[1]);
            value(out.get("first"), 2, "first call");
            value(out.get("second"), 5, "the same stub passed again");
            value(out.get("own"), 6, "the caller's own stub after both calls");
            assertThat(out.path("disposedWhileHeld").asInt()).as("no disposer while the caller holds its stub").isZero();
            assertThat(out.path("count").asInt()).isEqualTo(6);
            assertThat(out.path("disposed").asInt()).as("disposed once, when the caller's stub went").isEqualTo(1);
        }
    }

    @Test
    void beforeItAStubPassedInParamsMovesToTheCallee() throws Exception {
        for (String[] c : new String[][] {{OLD, ""}, {NEW, "&flags=rpc_params_transfer_stubs"}}) {
            JsonNode out = run("reuse", c[0], c[1]);
            value(out.get("first"), 2, "first call");
            error(out.get("second"), "Error", DISPOSED, "the moved stub passed again");
            error(out.get("own"), "Error", DISPOSED, "the caller's moved stub");
            assertThat(out.path("disposedWhileHeld").asInt()).as("disposed when the callee was done with it").isEqualTo(1);
            assertThat(out.path("count").asInt()).isEqualTo(2);
            assertThat(out.path("disposed").asInt()).isEqualTo(1);
        }
    }
}
