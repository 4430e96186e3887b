package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Errors thrown behind a stub, as the caller sees them, pinned to what workerd does: the same
 * worker (errors-project/front) ran on workerd 2026-11-17 and its answers are
 * errors-project/workerd-measured.json. Each kind of thrown value (Error, TypeError, a subclass, a
 * string, a plain object, an error with own properties, ...) goes through a durable object's
 * fetch() and RPC, a service binding's fetch() and RPC and a dynamic worker's fetch() and RPC; the
 * caller describes what it caught (class, name, message, own properties and their attributes,
 * remote, durableObjectId, the stack's first line). Then an object's resets: ctx.abort(reason) and
 * a rejected blockConcurrencyWhile, seen by the caller, by the same stub afterwards and by a new one.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class StubErrorsTest {
    @TempDir
    static Path data;
    static Node node;
    static final ObjectMapper json = new ObjectMapper();
    static JsonNode workerd;
    static String objectId;

    @BeforeAll
    static void start() throws Exception {
        node = TestProjects.serve(data, "errors-project", "front", "back");
        try (InputStream in = StubErrorsTest.class.getResourceAsStream("/errors-project/workerd-measured.json")) {
            workerd = json.readTree(in);
        }
        objectId = TestProjects.ok(node, "front.localhost", "/?w=id");
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static JsonNode get(String path) throws Exception {
        return json.readTree(TestProjects.ok(node, "front.localhost", path));
    }

    /** What the caller saw, cut as the measurement was: the stack's first line, the object's id checked and named. */
    static JsonNode normalized(JsonNode outcome) {
        JsonNode copy = outcome.deepCopy();
        if (copy.get("rejected") instanceof ObjectNode r) {
            if (r.has("stack0")) r.put("stack0", r.get("stack0").asText().split(" \\| ")[0]);
            r.remove("json");
            if (r.get("desc") instanceof ObjectNode d) d.remove("stack");
            if (r.has("durableObjectId")) {
                assertThat(r.get("durableObjectId").asText()).isEqualTo(objectId);
                r.put("durableObjectId", "<the object id>");
            }
        }
        if (copy instanceof ObjectNode o && o.path("value").asText().startsWith("ok ")) o.put("value", "ok");
        if (copy instanceof ObjectNode o && o.path("body").asText().startsWith("ok ")) o.put("body", "ok");
        return copy;
    }

    /** Bulwark's DOMException keeps code, name and message on its prototype (workerd's are own properties). */
    static JsonNode withoutOwnList(JsonNode outcome) {
        JsonNode copy = outcome.deepCopy();
        if (copy.get("rejected") instanceof ObjectNode r) {
            r.remove("own");
            r.remove("keys");
            r.remove("desc");
        }
        return copy;
    }

    void sameAsWorkerd(String kind) throws Exception {
        JsonNode expected = workerd.get("kinds").get(kind);
        JsonNode actual = get("/?k=" + kind).get(kind);
        Iterator<Map.Entry<String, JsonNode>> paths = expected.fields();
        int n = 0;
        while (paths.hasNext()) {
            Map.Entry<String, JsonNode> path = paths.next();
            JsonNode want = path.getValue(), got = normalized(actual.get(path.getKey()));
            if (kind.equals("dom")) {
                want = withoutOwnList(want);
                got = withoutOwnList(got);
            }
            assertThat(got).as(kind + " through " + path.getKey()).isEqualTo(want);
            n++;
        }
        assertThat(n).as("paths of " + kind).isEqualTo(8);
    }

    @Test
    void anErrorKeepsItsClassMessageAndOwnPropertiesAndIsMarkedRemoteOnEveryPath() throws Exception {
        // The gap this closes: stub.fetch() of an object whose fetch threw new TypeError('type boom')
        // rejected with a TypeError "TypeError: type boom" (and a code); now as workerd's.
        JsonNode type = get("/?k=type").get("type").get("doFetch").get("rejected");
        assertThat(type.get("ctor").asText()).isEqualTo("TypeError");
        assertThat(type.get("message").asText()).isEqualTo("type boom");
        assertThat(type.get("remote").asBoolean()).isTrue();
        assertThat(type.has("code")).isFalse();
        for (String kind : new String[] {"error", "type", "range", "eval", "syntax", "custom", "protoname", "props", "getter",
                "nested", "cause", "agg", "nomsg", "fnprop", "remoteflag", "dom"}) {
            sameAsWorkerd(kind);
        }
    }

    @Test
    void aThrownNonErrorBecomesAnErrorOfItsTextAndAPlainObjectStaysAnObject() throws Exception {
        for (String kind : new String[] {"string", "number", "undefined", "null", "object"}) sameAsWorkerd(kind);
        JsonNode s = get("/?k=string").get("string").get("svcRpc").get("rejected");
        assertThat(s.get("ctor").asText()).isEqualTo("Error");
        assertThat(s.get("message").asText()).isEqualTo("string boom");
    }

    @Test
    void anObjectsResetReachesItsCallersMarkedDurableObjectResetAndBreaksTheStub() throws Exception {
        JsonNode life = get("/?w=life");
        Iterator<Map.Entry<String, JsonNode>> steps = workerd.get("life").fields();
        while (steps.hasNext()) {
            Map.Entry<String, JsonNode> step = steps.next();
            assertThat(normalized(life.get(step.getKey()))).as(step.getKey()).isEqualTo(step.getValue());
        }
        // ctx.abort(new Error('bye now')): an Error of the reason's text, durableObjectReset, not remote.
        JsonNode abort = life.get("abortErr").get("rejected");
        assertThat(abort.get("message").asText()).isEqualTo("Error: bye now");
        assertThat(abort.get("durableObjectReset").asBoolean()).isTrue();
        assertThat(abort.has("remote")).isFalse();
        // A new stub reaches a new instance; the stub that saw the reset keeps failing with it.
        assertThat(number(life.get("afterAbortRpc").get("value"))).isEqualTo(number(life.get("n0").get("value")) + 1);
        assertThat(life.get("sameStubAfter").get("rejected").get("message").asText()).isEqualTo("Error: x");
        assertThat(life.get("sameStubAfterFetch").get("rejected").get("message").asText()).isEqualTo("Error: x");
    }

    @Test
    void whatAHostileCalleeThrowsStaysBoundedAndCannotBreakTheCaller() throws Exception {
        JsonNode r = get("/?w=hostile");
        // Over 64 KiB serialized: an Error of its message crosses, not the 200 kB property.
        JsonNode big = r.get("big").get("rejected");
        assertThat(big.get("ctor").asText()).isEqualTo("Error");
        assertThat(big.get("message").asText()).isEqualTo("big boom");
        assertThat(big.get("own").toString()).isEqualTo("[\"message\",\"remote\"]");
        // A proxy whose traps throw: the caller still gets an Error, not the callee's trap.
        JsonNode proxy = r.get("proxy").get("rejected");
        assertThat(proxy.get("ctor").asText()).isEqualTo("Error");
        assertThat(proxy.get("message").asText()).isEqualTo("Uncaught exception");
        assertThat(proxy.get("remote").asBoolean()).isTrue();
        // A worker's own durableObjectReset is data: it crosses, and fetch() marks the error remote.
        JsonNode reset = r.get("reset").get("rejected");
        assertThat(reset.get("message").asText()).isEqualTo("fake reset");
        assertThat(reset.get("remote").asBoolean()).isTrue();
    }

    static int number(JsonNode okN) {
        return Integer.parseInt(okN.asText().substring("ok ".length()));
    }
}
