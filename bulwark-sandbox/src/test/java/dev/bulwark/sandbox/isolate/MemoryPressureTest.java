package dev.bulwark.sandbox.isolate;

import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The soft limit's order: past three quarters of it the isolates collect their garbage; past it,
 * the running code gets a grace after a collection, then a trim, then it is stopped.
 */
class MemoryPressureTest {
    static final long LIMIT = 800L << 20;
    static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    /** A reclaimer that counts what it was asked and answers a set resident size after a trim. */
    static final class Counting implements MemoryPressure.Reclaimer {
        int collections;
        int trims;
        long afterTrim;

        @Override
        public void collectIsolates() {
            collections++;
        }

        @Override
        public long trimAndMeasure() {
            trims++;
            return afterTrim;
        }
    }

    static final long COLLECT_ABOVE = LIMIT / 100 * MemoryPressure.COLLECT_PERCENT;

    @Test
    void belowThreeQuartersOfTheLimitNothingIsCollectedOrStopped() {
        Counting r = new Counting();
        MemoryPressure p = new MemoryPressure(LIMIT, r);
        assertThat(p.mustStop(COLLECT_ABOVE, 1_000 * MS)).isFalse();
        assertThat(r.collections).isZero();
        assertThat(r.trims).isZero();
    }

    @Test
    void pastThreeQuartersTheIsolatesCollectOnceARoundAndNothingIsStopped() {
        Counting r = new Counting();
        MemoryPressure p = new MemoryPressure(LIMIT, r);
        long t = 1_000 * MS;
        assertThat(p.mustStop(COLLECT_ABOVE + 1, t)).isFalse();
        assertThat(r.collections).isEqualTo(1);
        assertThat(p.mustStop(LIMIT, t + (MemoryPressure.ROUND_MS - 1) * MS)).isFalse();
        assertThat(r.collections).isEqualTo(1);
        assertThat(p.mustStop(LIMIT, t + MemoryPressure.ROUND_MS * MS)).isFalse();
        assertThat(r.collections).isEqualTo(2);
        assertThat(r.trims).isZero();
    }

    @Test
    void pastTheLimitRightAfterACollectionTheRunningCodeStillHasItsGrace() {
        Counting r = new Counting();
        r.afterTrim = LIMIT + 1;
        MemoryPressure p = new MemoryPressure(LIMIT, r);
        long t = 1_000 * MS;
        p.mustStop(COLLECT_ABOVE + 1, t);
        assertThat(p.mustStop(LIMIT + 1, t + (MemoryPressure.GRACE_MS - 1) * MS)).isFalse();
        assertThat(p.mustStop(LIMIT + 1, t + MemoryPressure.GRACE_MS * MS)).isTrue();
        assertThat(r.collections).isEqualTo(1);
    }

    @Test
    void overTheLimitTheIsolatesCollectFirstAndTheRunningCodeHasItsGrace() {
        Counting r = new Counting();
        MemoryPressure p = new MemoryPressure(LIMIT, r);
        long t = 1_000 * MS;
        assertThat(p.mustStop(LIMIT + 1, t)).isFalse();
        assertThat(r.collections).isEqualTo(1);
        assertThat(p.mustStop(LIMIT + 1, t + (MemoryPressure.GRACE_MS - 1) * MS)).isFalse();
        assertThat(r.collections).isEqualTo(1);
        assertThat(r.trims).isZero();
    }

    @Test
    void stillOverAfterTheGraceAndATrimTheRunningCodeIsStopped() {
        Counting r = new Counting();
        r.afterTrim = LIMIT + 1;
        MemoryPressure p = new MemoryPressure(LIMIT, r);
        long t = 1_000 * MS;
        p.mustStop(LIMIT + 1, t);
        assertThat(p.mustStop(LIMIT + 1, t + MemoryPressure.GRACE_MS * MS)).isTrue();
        assertThat(r.trims).isEqualTo(1);
        // Held past the limit: stopped at every check, no new collection or trim within the round.
        assertThat(p.mustStop(LIMIT + 1, t + (MemoryPressure.GRACE_MS + 10) * MS)).isTrue();
        assertThat(r.trims).isEqualTo(1);
        assertThat(r.collections).isEqualTo(1);
    }

    @Test
    void aTrimThatBringsTheProcessUnderTheLimitStopsNothing() {
        Counting r = new Counting();
        r.afterTrim = LIMIT - 1;
        MemoryPressure p = new MemoryPressure(LIMIT, r);
        long t = 1_000 * MS;
        p.mustStop(LIMIT + 1, t);
        assertThat(p.mustStop(LIMIT + 1, t + MemoryPressure.GRACE_MS * MS)).isFalse();
        assertThat(r.trims).isEqualTo(1);
    }

    @Test
    void aNewRoundOfCollectionComesOnlyAfterARound() {
        Counting r = new Counting();
        r.afterTrim = LIMIT + 1;
        MemoryPressure p = new MemoryPressure(LIMIT, r);
        long t = 1_000 * MS;
        p.mustStop(LIMIT + 1, t);
        assertThat(p.mustStop(LIMIT - 1, t + 200 * MS)).isFalse();
        // Over again within the round: no second collection, and the grace is spent: stopped.
        assertThat(p.mustStop(LIMIT + 1, t + 300 * MS)).isTrue();
        assertThat(r.collections).isEqualTo(1);
        assertThat(p.mustStop(LIMIT + 1, t + MemoryPressure.ROUND_MS * MS)).isFalse();
        assertThat(r.collections).isEqualTo(2);
    }

    @Test
    void withoutALimitNothingEverStops() {
        Counting r = new Counting();
        MemoryPressure p = new MemoryPressure(0, r);
        assertThat(p.mustStop(Long.MAX_VALUE, 1_000 * MS)).isFalse();
        assertThat(r.collections).isZero();
    }
}
