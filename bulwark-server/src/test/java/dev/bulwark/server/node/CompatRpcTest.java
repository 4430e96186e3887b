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

    @Test
    void fromTheNewDateATargetWithDupIsPassedAsItsDupAndTheDupIsDisposed() throws Exception {
        JsonNode out = run("targets", NEW, "");
        value(out.get("dupCalls").get(0), 2, "first call");
        value(out.get("dupCalls").get(1), 5, "second call");
        JsonNode dupable = out.get("dupable");
        assertThat(dupable.path("made").asInt()).as("dup() once per call: " + dupable).isEqualTo(2);
        assertThat(dupable.path("dupsDisposed").asInt()).as("each dup disposed by the time the caller saw the result").isEqualTo(2);
        assertThat(dupable.path("originalDisposed").asInt()).as("the original stays the caller's").isZero();
        assertThat(out.path("plainDisposed").asInt()).as("a target without dup() is the callee's: disposed per call").isEqualTo(2);
        value(out.get("fnCall"), 4, "a function with dup()");
        assertThat(out.path("fn").path("dups").asInt()).isEqualTo(1);
        assertThat(out.path("fn").path("disposed").asInt()).isEqualTo(1);
        error(out.get("badDup"), "DataCloneError", "Couldn't create a stub for the RcpTarget because it has a dup() method which "
                + "did not return another RpcTarget. Either remove the dup() method or make sure it returns an RpcTarget.", "dup() answering a plain object");
        error(out.get("throwingDup"), "RangeError", "no dup for you", "dup() that throws");
        assertThat(out.path("throwingCount").asInt()).as("nothing was called").isZero();
        assertThat(out.path("failedSend").path("error").path("name").asText()).isEqualTo("DataCloneError");
        assertThat(out.path("failedDup").path("made").asInt()).as(out.path("failedDup").toString()).isEqualTo(1);
        assertThat(out.path("failedDup").path("dupsDisposed").asInt()).as("the dup of a message that never left is disposed").isEqualTo(1);
        assertThat(out.path("returnedPing").asText()).isEqualTo("pong");
        assertThat(out.path("returnedDups").asInt()).as("a result moves its targets: dup() never called").isZero();
    }

    @Test
    void beforeItDupIsNeverCalledAndTheTargetItselfIsDisposedPerCall() throws Exception {
        JsonNode out = run("targets", OLD, "");
        value(out.get("dupCalls").get(1), 5, "second call");
        JsonNode dupable = out.get("dupable");
        assertThat(dupable.path("made").asInt()).as(dupable.toString()).isZero();
        assertThat(dupable.path("originalDisposed").asInt()).as("the target itself, once per call").isEqualTo(2);
        assertThat(out.path("plainDisposed").asInt()).isEqualTo(2);
        assertThat(out.path("fn").path("dups").asInt()).isZero();
        assertThat(out.path("fn").path("disposed").asInt()).isEqualTo(1);
        value(out.get("badDup"), 1, "dup() is not read");
        value(out.get("throwingDup"), 1, "dup() is not read");
        assertThat(out.path("failedDup").path("made").asInt()).isZero();
        assertThat(out.path("returnedDups").asInt()).isZero();
    }

    @Test
    void aStubForwardedThroughAProxyFollowsEachCallersDate() throws Exception {
        // Each hop by its own caller's date: the proxy's decides whether it may pass the stub twice,
        // the first caller's whether it still holds its own afterwards.
        for (String caller : new String[] {NEW, OLD}) {
            for (String proxy : new String[] {NEW, OLD}) {
                JsonNode out = run("forward", caller, "&proxy=" + proxy);
                JsonNode f = out.get("forward");
                value(f.path("value").get("first"), 1, "proxy's first forward");
                if (proxy.equals(NEW)) {
                    value(f.path("value").get("second"), 2, "proxy's second forward");
                    value(f.path("value").get("own"), 3, "the proxy's own stub after");
                } else {
                    error(f.path("value").get("second"), "Error", DISPOSED, "proxy's second forward");
                    error(f.path("value").get("own"), "Error", DISPOSED, "the proxy's own stub after");
                }
                if (caller.equals(NEW)) {
                    assertThat(out.path("own").path("value").asInt()).as("the caller's stub after: " + out)
                            .isEqualTo(out.path("countAfterForward").asInt());
                } else {
                    error(out.get("own"), "Error", DISPOSED, "the caller's stub after");
                }
                // The last callee kept a dup() past its call and used it 100 ms later.
                assertThat(out.path("keep").path("value").asText()).isEqualTo("kept");
                assertThat(out.path("keptBeforeUse").asInt()).isZero();
                assertThat(out.path("keptCount").asInt()).as("the kept dup reached the caller's target").isEqualTo(100);
                assertThat(out.path("keptDisposed").asInt()).as("disposed once everyone let go").isEqualTo(1);
            }
        }
    }

    @Test
    void aCalleeCannotUseAParameterOrItsDupOnceItsCallEnded() throws Exception {
        for (String date : new String[] {NEW, OLD}) {
            JsonNode out = run("stash", date, "");
            assertThat(out.path("stash").path("value").asText()).isEqualTo("stashed");
            JsonNode later = out.get("later");
            error(later.get("param"), "Error", DISPOSED, "the parameter kept in a global");
            error(later.get("dupAgain"), "Error", DISPOSED, "dup() of the kept parameter");
            // workerd: a dup() belongs to the callee's request; another request cannot use it.
            error(later.get("dupOfParam"), "Error", "This RPC stub cannot be used here: it was released when the request "
                    + "that received it ended.", "a dup() made during the call, used by a later one");
            assertThat(out.path("count").asInt()).as("neither reached the caller's target").isEqualTo(date.equals(NEW) ? 1 : 0);
            assertThat(out.path("disposed").asInt()).isEqualTo(1);
        }
    }

    @Test
    void errorsCrossByTheSendersSwitchInAValueAndTheCallersWhenThrown() throws Exception {
        for (String[] c : new String[][] {{"2026-04-21", "", "true"}, {"2025-09-01", "&flags=enhanced_error_serialization", "true"},
                {"2026-04-20", "", "false"}, {"2026-05-01", "&flags=legacy_error_serialization", "false"}}) {
            JsonNode out = run("errors", c[0], c[1]);
            JsonNode sent = out.get("sent");
            assertThat(sent.path("ctor").asText()).isEqualTo("RangeError");
            assertThat(sent.path("message").asText()).isEqualTo("boom");
            if (Boolean.parseBoolean(c[2])) {
                assertThat(sent.path("extra").asInt()).as("own properties cross: " + sent).isEqualTo(7);
                assertThat(sent.path("callersStack").asBoolean()).as("the stack does not").isFalse();
            } else {
                assertThat(sent.path("extra").isNull()).as("V8's own serialization: " + sent).isTrue();
                assertThat(sent.path("callersStack").asBoolean()).as("the stack crosses").isTrue();
            }
            // A thrown error, by the caller's switch: the serialized error, or (workerd without it)
            // one rebuilt from its text: the class by the text's prefix, no own properties.
            JsonNode thrown = out.get("thrown");
            JsonNode named = out.get("named");
            assertThat(thrown.path("ctor").asText()).isEqualTo("RangeError");
            assertThat(thrown.path("message").asText()).isEqualTo("thrown");
            assertThat(named.path("ctor").asText()).isEqualTo("Error");
            assertThat(named.path("remote").asBoolean()).as(named.toString()).isTrue();
            if (Boolean.parseBoolean(c[2])) {
                assertThat(thrown.path("extra").asInt()).as(thrown.toString()).isEqualTo(8);
                assertThat(named.path("name").asText()).isEqualTo("MyError");
                assertThat(named.path("message").asText()).isEqualTo("named");
                assertThat(named.path("code").asInt()).isEqualTo(42);
            } else {
                assertThat(thrown.path("extra").isNull()).as(thrown.toString()).isTrue();
                assertThat(named.path("name").asText()).isEqualTo("Error");
                assertThat(named.path("message").asText()).isEqualTo("MyError: named");
                assertThat(named.path("code").isNull()).isTrue();
            }
        }
    }
}
