package dev.bulwark.sandbox.isolate;

import java.util.concurrent.TimeUnit;

/**
 * The sandbox's resident-memory soft limit: reclaim first, then stop what runs.
 *
 * <p>Much of a sandbox's resident memory is often garbage no task holds: isolates that moved large
 * values keep them in their V8 heaps until a GC, which {@link IdleReclaim} runs only seconds after
 * they go idle. Measured: six 20–32 MiB RPC round trips in a row through one sandbox grew it to
 * ~830 MB with nothing live, and on CI past the soft limit, which then stopped a task that was
 * well within its own limits (docs/notes/issues-10-11.md, seventh session). So once the process
 * passes {@link #COLLECT_PERCENT} % of the soft limit, every isolate is asked to collect its garbage
 * (a task of its own, between its tasks), at most once a {@link #ROUND_MS}. Past the soft limit
 * itself, the running JavaScript is stopped, but not within {@link #GRACE_MS} of a collection
 * being asked for, and not before a trim of the C heap has been tried once in the round.
 */
final class MemoryPressure {
    static final int COLLECT_PERCENT = 75;
    static final long GRACE_MS = 250;
    static final long ROUND_MS = 1_000;

    /** What the watchdog may do about the memory of the process. */
    interface Reclaimer {
        /** Asks every isolate to collect its garbage soon (without waiting for it). */
        void collectIsolates();

        /** Gives the C heap's free pages back; answers the resident size afterwards. */
        long trimAndMeasure();
    }

    private final long softLimitBytes;
    private final long collectAboveBytes;
    private final Reclaimer reclaimer;
    private long roundStartedAt;
    private boolean rounds;
    private boolean trimmed;

    /** @param softLimitBytes above this resident size JavaScript is stopped (0: never) */
    MemoryPressure(long softLimitBytes, Reclaimer reclaimer) {
        this.softLimitBytes = softLimitBytes;
        this.collectAboveBytes = softLimitBytes / 100 * COLLECT_PERCENT;
        this.reclaimer = reclaimer;
    }

    /**
     * Called by the watchdog (its thread only) while some isolate runs a task.
     *
     * @return whether the running tasks must be stopped now
     */
    boolean mustStop(long residentBytes, long now) {
        if (softLimitBytes <= 0 || residentBytes <= collectAboveBytes) return false;
        if (!rounds || now - roundStartedAt >= TimeUnit.MILLISECONDS.toNanos(ROUND_MS)) {
            rounds = true;
            roundStartedAt = now;
            trimmed = false;
            reclaimer.collectIsolates();
        }
        if (residentBytes <= softLimitBytes) return false;
        if (now - roundStartedAt < TimeUnit.MILLISECONDS.toNanos(GRACE_MS)) return false;
        if (!trimmed) {
            trimmed = true;
            return reclaimer.trimAndMeasure() > softLimitBytes;
        }
        return true;
    }
}
