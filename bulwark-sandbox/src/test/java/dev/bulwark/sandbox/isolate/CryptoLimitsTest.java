package dev.bulwark.sandbox.isolate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

import static dev.bulwark.sandbox.isolate.Sandboxes.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * crypto.subtle with inputs near the isolate's memory budget ({@code crypto-huge.js}): a digest
 * and an HMAC of 96 MiB complete (the host reads them in place), and one-shot operations above
 * 16 MiB fail with a catchable OperationError, not with a memory kill or an OutOfMemoryError.
 */
class CryptoLimitsTest {
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void hugeDigestsCompleteAndOneShotOperationsHaveACatchableCap() throws Exception {
        String source;
        try (var in = Objects.requireNonNull(getClass().getClassLoader().getResourceAsStream("crypto-huge.js"))) {
            source = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        String w = load(bundle(source), limits(10_000, 30_000));
        for (String path : new String[] {"/digest", "/caps"}) {
            long id = start(w, "GET", "http://crypto.test" + path, null);
            Recorder.Outcome out = RECORDER.await(id);
            String logs = String.join("\n", RECORDER.logs(id).stream().map(l -> l.level() + ": " + l.message()).toList());
            assertThat(out.failure()).as("%s failed; logs:%n%s", path, logs).isNull();
            assertThat(out.body()).as("%s; logs:%n%s", path, logs).isEqualTo("ok");
        }
    }
}
