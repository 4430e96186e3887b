package dev.bulwark.sandbox.isolate;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.function.LongSupplier;

/**
 * Keeps the Java heap's old generation from walking through all of its pages when a sandbox
 * makes and closes isolates in turn (the sandboxes for generated code under cold loads).
 *
 * <p>Every isolate carries ~20 KiB of Java objects (Javet's runtime with its 512 cached small
 * numbers, ~100 callback contexts and their lambdas: measured with a class histogram of a
 * generated-code sandbox, docs/notes/genrss.md). An isolate lives seconds (the pool, then its
 * worker until dormancy gives it back), long enough to be promoted, so each cold worker leaves
 * them in the old generation as garbage. The serial collector only collects that generation when
 * it is full; until then each promotion touches pages it never touched before, and every touched
 * page stays resident: the old generation's ~170 MiB ended up resident while ~14 MiB was live.
 * Asking for a full collection once {@link #thresholdBytes} were promoted since the last one keeps
 * the old generation's top, and so its resident pages, near its live size. Cost: one full
 * collection of a mostly empty heap (~14 MiB live) per that many bytes promoted (~1,500 cold
 * workers at 32 MiB).
 */
final class HeapReclaim {
    /** Bytes promoted since the last collection of the old generation before one is asked for. */
    static final long DEFAULT_THRESHOLD_BYTES = Long.getLong("bulwark.sandbox.heapReclaimMb", 32) << 20;

    /** The old generation's figures: bytes in use now, and in use right after its last collection. */
    record OldGeneration(LongSupplier usedNow, LongSupplier usedAfterCollection) {
        long used() {
            return usedNow.getAsLong();
        }

        long usedAfterLastCollection() {
            return usedAfterCollection.getAsLong();
        }
    }

    private final OldGeneration old;
    private final long thresholdBytes;
    private final Runnable collect;
    private long collections;

    HeapReclaim(OldGeneration old, long thresholdBytes, Runnable collect) {
        this.old = old;
        this.thresholdBytes = thresholdBytes;
        this.collect = collect;
    }

    /** This JVM's old generation (none found: never collects), {@link System#gc()} to collect. */
    static HeapReclaim forThisJvm() {
        return new HeapReclaim(oldGeneration(), DEFAULT_THRESHOLD_BYTES, System::gc);
    }

    /**
     * Asks for a full collection if the old generation grew by the threshold since its last one.
     * Called from a sweeper thread (never an isolate's); returns whether it asked.
     */
    boolean check() {
        if (thresholdBytes <= 0) return false;
        long used = old.used();
        if (used - old.usedAfterLastCollection() < thresholdBytes) return false;
        collections++;
        collect.run();
        return true;
    }

    /** Collections asked for so far (tests). */
    long collections() {
        return collections;
    }

    /** The heap pool that is neither eden nor a survivor space (serial: "Tenured Gen"; G1: "G1 Old Gen"). */
    static OldGeneration oldGeneration() {
        MemoryPoolMXBean found = null;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            String name = pool.getName();
            if (pool.getType() == MemoryType.HEAP && (name.contains("Old") || name.contains("Tenured"))) found = pool;
        }
        if (found == null) return NONE;
        MemoryPoolMXBean pool = found;
        return new OldGeneration(() -> pool.getUsage().getUsed(), () -> {
            java.lang.management.MemoryUsage after = pool.getCollectionUsage();
            return after == null ? 0 : after.getUsed();
        });
    }

    private static final OldGeneration NONE = new OldGeneration(() -> 0, () -> 0);
}
