package dev.bulwark.sandbox.trace;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The trace is off unless bulwark.trace.dir is set: stamps do nothing, and there is nothing to dump. */
class LatencyTraceTest {
    @Test
    void isOffByDefaultAndStampsAreNoOps() {
        assertThat(System.getProperty("bulwark.trace.dir")).isNull();
        assertThat(LatencyTrace.ON).isFalse();
        for (int i = 0; i < 1_000; i++) {
            LatencyTrace.stamp("test.point", i);
            LatencyTrace.stampMessage("test:", this, i);
        }
        assertThatThrownBy(LatencyTrace::dump).isInstanceOf(IllegalStateException.class)
                .hasMessage("the latency trace is off");
    }
}
