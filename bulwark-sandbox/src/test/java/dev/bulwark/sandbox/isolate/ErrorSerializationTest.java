package dev.bulwark.sandbox.isolate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.sandbox.worker.Compatibility;
import dev.bulwark.sandbox.worker.Limits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.bulwark.sandbox.isolate.Sandboxes.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * structuredClone of errors by compatibility date, as workerd's enhancedErrorSerialization (on from
 * 2026-04-21; enhanced_error_serialization / legacy_error_serialization): V8's own serialization
 * before (seven classes, message, stack, cause), workerd's after (class by name, own properties,
 * no stack).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ErrorSerializationTest {
    static final ObjectMapper json = new ObjectMapper();
    static final String PROBE = """
            const describe = (e, orig) => ({
              ctor: e.constructor.name, name: e.name, message: e.message,
              own: Object.getOwnPropertyNames(e).filter((k) => k !== 'stack').sort(),
              extra: e.extra ?? null, cause: e.cause ?? null,
              causeEnumerable: Object.getOwnPropertyDescriptor(e, 'cause')?.enumerable ?? null,
              stackKept: e.stack === orig.stack,
            });
            const attempt = (f) => { try { return { value: f() }; } catch (e) { return { error: { name: e.name, message: e.message } }; } };
            export default { fetch() {
              const out = {};
              const range = new RangeError('out', { cause: 'why' });
              range.extra = 1;
              out.range = describe(structuredClone(range), range);
              class MyError extends Error { constructor(m) { super(m); this.name = 'MyError'; } }
              const mine = new MyError('mine');
              out.mine = describe(structuredClone(mine), mine);
              const agg = new AggregateError([new TypeError('a')], 'many');
              const aggClone = structuredClone(agg);
              out.agg = { ...describe(aggClone, agg), inner: aggClone.errors ? aggClone.errors[0].constructor.name : null };
              const withFn = new Error('f');
              withFn.fn = () => 1;
              out.withFn = attempt(() => describe(structuredClone(withFn), withFn));
              let setterRan = false;
              const s = new Error('s');
              Object.defineProperty(s, 'sneaky', { value: 5, enumerable: true, writable: true, configurable: true });
              Object.defineProperty(Object.prototype, 'sneaky', { set() { setterRan = true; }, get() { return undefined; }, configurable: true });
              let copied;
              try {
                copied = Object.getOwnPropertyDescriptor(structuredClone(s), 'sneaky')?.value ?? null;
              } finally { delete Object.prototype.sneaky; }
              out.protoSetter = { copied, setterRan };
              return Response.json(out);
            } };
            """;

    static JsonNode run(String date, String... flags) throws Exception {
        String w = load(bundle(PROBE).withCompatibility(new Compatibility(date, List.of(flags))), Limits.DEFAULTS);
        Recorder.Outcome out = fetch(w, "http://e.test/");
        assertThat(out.failure()).as("outcome %s", out).isNull();
        return json.readTree(out.body());
    }

    @Test
    void fromTheDateAnErrorKeepsItsOwnPropertiesAndNameButNotItsStack() throws Exception {
        for (JsonNode out : List.of(run("2026-04-21"), run("2025-09-01", "enhanced_error_serialization"))) {
            JsonNode range = out.get("range");
            assertThat(range.path("ctor").asText()).isEqualTo("RangeError");
            assertThat(range.path("extra").asInt()).as(range.toString()).isEqualTo(1);
            assertThat(range.path("cause").asText()).isEqualTo("why");
            assertThat(range.path("causeEnumerable").asBoolean()).as("defined as a data property").isTrue();
            assertThat(range.path("stackKept").asBoolean()).as("the copy has its own stack").isFalse();
            JsonNode mine = out.get("mine");
            assertThat(mine.path("ctor").asText()).isEqualTo("Error");
            assertThat(mine.path("name").asText()).as("a name of its own is kept").isEqualTo("MyError");
            JsonNode agg = out.get("agg");
            assertThat(agg.path("ctor").asText()).isEqualTo("AggregateError");
            assertThat(agg.path("inner").asText()).isEqualTo("TypeError");
            assertThat(out.path("withFn").path("error").path("name").asText()).as("a function among its properties").isEqualTo("DataCloneError");
            // workerd copies the properties through a plain object by assignment: a setter on
            // Object.prototype sees them (and keeps them).
            assertThat(out.path("protoSetter").path("setterRan").asBoolean()).isTrue();
            assertThat(out.path("protoSetter").path("copied").isNull()).isTrue();
        }
    }

    @Test
    void beforeItAnErrorClonesAsV8SerializesIt() throws Exception {
        for (JsonNode out : List.of(run("2026-04-20"), run("2026-05-01", "legacy_error_serialization"))) {
            JsonNode range = out.get("range");
            assertThat(range.path("ctor").asText()).isEqualTo("RangeError");
            assertThat(range.path("extra").isNull()).as(range.toString()).isTrue();
            assertThat(range.path("cause").asText()).isEqualTo("why");
            assertThat(range.path("causeEnumerable").asBoolean()).isFalse();
            assertThat(range.path("stackKept").asBoolean()).as("V8 keeps the stack").isTrue();
            JsonNode mine = out.get("mine");
            assertThat(mine.path("ctor").asText()).isEqualTo("Error");
            assertThat(mine.path("name").asText()).isEqualTo("Error");
            assertThat(out.get("agg").path("ctor").asText()).as("not one of V8's seven").isEqualTo("Error");
            assertThat(out.path("withFn").path("value").path("message").asText()).isEqualTo("f");
            assertThat(out.path("protoSetter").path("setterRan").asBoolean()).isFalse();
        }
    }
}
