package dev.bulwark.sandbox.isolate;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The old generation of a sandbox that makes and closes isolates in turn stays near its live size
 * ({@link HeapReclaim}), modelled as the serial collector behaves: each cold worker promotes its
 * isolate's ~20 KiB of Java objects, which are garbage once the isolate closed, and the old
 * generation is collected (back to its live size) only when asked or when it is full.
 */
class HeapReclaimTest {
    static final long MIB = 1 << 20;
    static final long LIVE = 14 * MIB;
    static final long PER_WORKER = 20 * 1024;
    static final long OLD_CAPACITY = 170 * MIB;

    /** A serial old generation: promotions raise its top; a collection brings it back to the live size. */
    static final class OldGen {
        long used = LIVE;
        long afterLast;
        long top = LIVE; // the highest address ever used: every page below it was touched
        int fullCollections;

        void promote(long bytes) {
            if (used + bytes > OLD_CAPACITY) collect(); // full: the collector's own full collection
            used += bytes;
            top = Math.max(top, used);
        }

        void collect() {
            used = LIVE;
            afterLast = LIVE;
            fullCollections++;
        }
    }

    static OldGen coldWorkers(int workers, long thresholdBytes) {
        OldGen old = new OldGen();
        HeapReclaim reclaim = new HeapReclaim(new HeapReclaim.OldGeneration(() -> old.used, () -> old.afterLast), thresholdBytes, old::collect);
        for (int i = 0; i < workers; i++) {
            old.promote(PER_WORKER);
            if (i % 30 == 0) reclaim.check(); // a sweep about every second at ~30 cold workers per second
        }
        return old;
    }

    @Test
    void tenThousandColdWorkersKeepTheOldGenerationsTouchedPagesNearItsLiveSize() {
        OldGen old = coldWorkers(10_000, 32 * MIB);
        // Promoted garbage since the last collection, plus at most one sweep's worth of promotions.
        assertThat(old.top).isLessThanOrEqualTo(LIVE + 32 * MIB + 30 * PER_WORKER);
        assertThat(old.fullCollections).isEqualTo(6); // 10,000 × 20 KiB / 32 MiB
    }

    @Test
    void withoutItTheWholeOldGenerationIsTouched() {
        OldGen old = coldWorkers(10_000, 0);
        assertThat(old.top).isGreaterThan(OLD_CAPACITY - PER_WORKER);
    }

    @Test
    void noGrowthNoCollection() {
        OldGen old = new OldGen();
        old.collect(); // (before its first collection the JVM says 0 was left after it)
        HeapReclaim reclaim = new HeapReclaim(new HeapReclaim.OldGeneration(() -> old.used, () -> old.afterLast), 32 * MIB, old::collect);
        for (int i = 0; i < 1_000; i++) assertThat(reclaim.check()).isFalse();
        old.promote(32 * MIB - 1);
        assertThat(reclaim.check()).isFalse();
        old.promote(1);
        assertThat(reclaim.check()).isTrue();
        assertThat(reclaim.check()).isFalse(); // collected: back at its live size
        assertThat(reclaim.collections()).isEqualTo(1);
        assertThat(old.fullCollections).isEqualTo(2);
    }

    @Test
    void thisJvmsOldGenerationIsFoundAndItsSizeAfterACollectionRead() {
        HeapReclaim.OldGeneration old = HeapReclaim.oldGeneration();
        byte[][] kept = new byte[64][];
        for (int i = 0; i < kept.length; i++) kept[i] = new byte[64 * 1024];
        System.gc(); // the serial collector's full collection moves what lives into the old generation
        assertThat(old.usedAfterLastCollection()).isGreaterThanOrEqualTo(4 * MIB);
        assertThat(old.used()).isGreaterThanOrEqualTo(old.usedAfterLastCollection());
        assertThat(kept[63]).hasSize(64 * 1024);
    }
}
