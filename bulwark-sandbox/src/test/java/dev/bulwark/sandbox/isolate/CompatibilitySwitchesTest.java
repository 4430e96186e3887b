package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.worker.Compatibility;
import dev.bulwark.sandbox.worker.Limits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.bulwark.sandbox.isolate.Sandboxes.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a worker's compatibility date and flags change in the isolate, each switch both ways
 * (before and after its date, its enable and its disable flag), as workerd does.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class CompatibilitySwitchesTest {

    /** The body a worker's fetch() answers, under this date (or "-" for none) and these flags. */
    static String run(String source, String date, String... flags) throws Exception {
        String w = load(bundle(source).withCompatibility(new Compatibility(date.equals("-") ? null : date,
                Arrays.asList(flags))), Limits.DEFAULTS);
        Recorder.Outcome out = fetch(w, "http://c.test/");
        assertThat(out.failure()).as("outcome %s", out).isNull();
        return out.body();
    }

    @Test
    void requestCacheOptionFollowsCacheOptionEnabled() throws Exception {
        String source = """
                export default { fetch() {
                  try { return new Response(new Request('https://x.test/', { cache: 'no-store' }).cache); }
                  catch (e) { return new Response(e.constructor.name + ': ' + e.message); }
                } };""";
        String refused = "Error: The 'cache' field on 'RequestInitializerDict' is not implemented.";
        assertThat(run(source, "2024-11-11")).isEqualTo("no-store");
        assertThat(run(source, "2024-11-10")).isEqualTo(refused);
        assertThat(run(source, "2024-11-10", "cache_option_enabled")).isEqualTo("no-store");
        assertThat(run(source, "2025-01-01", "cache_option_disabled")).isEqualTo(refused);
    }
}
