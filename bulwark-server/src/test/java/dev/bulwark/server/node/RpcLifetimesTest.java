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
 * Lifetimes of RPC references, as workerd's (issues 10 and 11): what a durable object's events
 * exported dies with the object's reset (ctx.abort(), a rejected blockConcurrencyWhile), seen from
 * the caller's side, the one that keeps calling; and a callee that returned a stream lingers while
 * it is read, until its caller drops it (rpclife-project).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class RpcLifetimesTest {
    @TempDir
    static Path data;
    static Node node;
    static final ObjectMapper json = new ObjectMapper();
    static final String NO_LONGER_RUNNING = "The execution context which hosts this callback is no longer running.";

    @BeforeAll
    static void start() throws Exception {
        node = TestProjects.serve(data, "rpclife-project");
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static JsonNode get(String path) throws Exception {
        return json.readTree(TestProjects.ok(node, "rpclife.localhost", path));
    }

    static void rejected(JsonNode outcome, String what, String message) {
        assertThat(outcome.has("hung")).as(what + " never settled").isFalse();
        assertThat(outcome.path("error").path("message").asText()).as(what + ": " + outcome).isEqualTo(message);
        assertThat(outcome.path("error").path("name").asText()).as(what).isEqualTo("Error");
    }

    /** The calls around a reset of the object that returned the target, and after it. */
    static void resetReachesEveryCall(JsonNode out, String reason) {
        assertThat(out.path("count").path("value").asInt()).as("the target reads its object").isEqualTo(1);
        assertThat(out.path("ping").path("value").asText()).isEqualTo("pong");
        rejected(out.get("breaking"), "the call that reset it", reason);
        rejected(out.get("pingAfter"), "a call sent before the reset's answer", reason);
        rejected(out.get("hang"), "a call pending at the reset", reason);
        rejected(out.get("waiting"), "a call awaiting a timer at the reset", reason);
        rejected(out.get("ownHang"), "a call on the object itself pending at the reset", reason);
        rejected(out.get("child"), "a target a call on the target made", NO_LONGER_RUNNING);
        assertThat(out.get("later")).hasSize(5);
        for (JsonNode later : out.get("later")) rejected(later, "a call after the reset", NO_LONGER_RUNNING);
        rejected(out.get("objectStub"), "the object's own stub", reason);
        assertThat(out.path("newStub").path("value").asInt()).as("a new stub reaches a new instance: " + out).isEqualTo(1);
    }

    @Test
    void afterCtxAbortCallsOnWhatTheObjectReturnedRejectWithTheReasonAndNeverHang() throws Exception {
        // Before: later calls still ran ("pong"), the pending ones never settled, the object's stub
        // reached a new instance.
        resetReachesEveryCall(get("/abort"), "stop here");
    }

    @Test
    void aRejectedBlockConcurrencyWhileEndsWhatTheObjectReturnedToo() throws Exception {
        resetReachesEveryCall(get("/gate"), "gate broke");
    }

    @Test
    void aStreamWhosePullAwaitsTheCalleesTimersIsReadToItsEnd() throws Exception {
        // Before: the callee's timers were canceled when it returned, so the first pull never settled.
        JsonNode out = get("/stream");
        assertThat(out.path("text").asText()).isEqualTo("c0;c1;c2;");
        assertThat(out.path("ms").asLong()).as("three pulls of 150 ms each").isGreaterThanOrEqualTo(400);
    }

    @Test
    void aCallerThatDropsAStreamReleasesTheLingeringCallee() throws Exception {
        // The caller reads one chunk of a long stream and returns: its stub dies with it, the
        // callee's source is canceled (its cancel() logs through the object) and the callee ends.
        String tag = "dropped-" + System.nanoTime();
        assertThat(get("/stream-dropped?tag=" + tag).path("first").asText()).isEqualTo("c0;");
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        JsonNode lines;
        do {
            Thread.sleep(100);
            lines = get("/log?tag=" + tag);
        } while (lines.isEmpty() && System.nanoTime() < until);
        assertThat(lines).as("the source's cancel() ran").hasSize(1);
        assertThat(lines.get(0).asText()).isEqualTo("canceled");
    }
}
