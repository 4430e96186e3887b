package dev.bulwark.sandbox.isolate;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * Gives back what an isolate no longer needs once it has been idle for a while: V8's low-memory
 * notification (a full, compacting GC that also shrinks the young generation) runs as a task of
 * the isolate when it had no invocation and ran no task for {@link #IDLE_MS}. Measured with
 * IdleIsolateRss: about 210 KiB of RSS per isolate after its first request, and V8's committed
 * heap from 3.6 to 2.0 MiB (docs/notes/isomem.md). A busy isolate is never collected this way:
 * at most one reclaim is pending, and it checks again when it fires.
 */
final class IdleReclaim {
    /** How long an isolate must stay idle before its heap is compacted. */
    static final long IDLE_MS = Long.getLong("bulwark.isolate.idleReclaimMs", 5_000);

    private final ScheduledExecutorService scheduler;
    private final LongSupplier taskSequence;
    private final BooleanSupplier idle;
    private final java.util.function.Consumer<Runnable> enqueue;
    private final Runnable reclaim;
    private final AtomicBoolean pending = new AtomicBoolean();
    private volatile long seenSequence;

    /**
     * @param taskSequence counts the isolate's tasks (any activity changes it)
     * @param idle         whether the isolate has no invocation now
     * @param enqueue      runs a task on the isolate's loop (dropped once the isolate is closed)
     * @param reclaim      the reclaim itself, run as a task of the isolate
     */
    IdleReclaim(ScheduledExecutorService scheduler, LongSupplier taskSequence, BooleanSupplier idle,
                java.util.function.Consumer<Runnable> enqueue, Runnable reclaim) {
        this.scheduler = scheduler;
        this.taskSequence = taskSequence;
        this.idle = idle;
        this.enqueue = enqueue;
        this.reclaim = reclaim;
    }

    /** The isolate's last invocation ended: reclaim once it has stayed idle. */
    void becameIdle() {
        if (!pending.compareAndSet(false, true)) return;
        arm();
    }

    private void arm() {
        seenSequence = taskSequence.getAsLong();
        try {
            scheduler.schedule(this::check, IDLE_MS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            pending.set(false); // the sandbox is shutting down
        }
    }

    private void check() {
        if (taskSequence.getAsLong() != seenSequence || !idle.getAsBoolean()) {
            if (idle.getAsBoolean()) arm(); // busy since, idle now: wait a full period again
            else pending.set(false);        // busy: the next idle transition arms it
            return;
        }
        enqueue.accept(() -> {
            pending.set(false);
            // This task is the only one since the check: nothing ran in between.
            if (idle.getAsBoolean() && taskSequence.getAsLong() == seenSequence + 1) reclaim.run();
        });
    }
}
