package dev.bulwark.sandbox.isolate;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** On glibc 2.33 or later (mallinfo2) both calls are found and answer. */
class MallocTrimTest {
    @Test
    void trimsAndReadsTheAllocatorsFigures() {
        assertThat(MallocTrim.trim()).isTrue();
        long[] figures = MallocTrim.inUseAndArenaBytes();
        assertThat(figures).hasSize(2);
        assertThat(figures[0]).isPositive();
        assertThat(figures[1]).isPositive();
    }
}
