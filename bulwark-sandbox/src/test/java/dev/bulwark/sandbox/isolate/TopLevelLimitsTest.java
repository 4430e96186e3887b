package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.worker.Limits;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Top-level code's wall clock: ten times its CPU limit, at least 2 s, never above the request's. */
class TopLevelLimitsTest {
    static Limits limits(long cpuMs, long wallMs) {
        return new Limits(cpuMs, wallMs, 128, 50, 1 << 20, 1 << 20, 1 << 20);
    }

    @Test
    void topLevelCodeGetsAShorterWallClockThanTheRequestItLoadsIn() {
        assertThat(Isolate.topLevelLimits(Limits.DEFAULTS).wallMs()).isEqualTo(10_000);
        assertThat(Isolate.topLevelLimits(Limits.DEFAULTS).cpuMs()).isEqualTo(Limits.DEFAULTS.cpuMs());
        assertThat(Isolate.topLevelLimits(limits(50, 30_000)).wallMs()).isEqualTo(2_000);
        assertThat(Isolate.topLevelLimits(limits(150, 300)).wallMs()).isEqualTo(300);
        assertThat(Isolate.topLevelLimits(limits(Long.MAX_VALUE, Long.MAX_VALUE)).wallMs()).isEqualTo(Long.MAX_VALUE / 10 * 10);
    }
}
