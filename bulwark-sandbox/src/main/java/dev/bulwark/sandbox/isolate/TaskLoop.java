package dev.bulwark.sandbox.isolate;

import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An isolate's event loop without a thread of its own: a queue of tasks and, while the queue is
 * not empty, one turn on a {@link Carriers} thread that runs them in order. At most one turn runs
 * at a time, so the tasks of one isolate never run concurrently and each sees what the previous
 * one wrote (the {@code scheduled} flag is the hand-over). A turn gives its carrier back after
 * {@link #BATCH} tasks and queues a new turn, so a busy isolate cannot keep a carrier from the
 * others' queued turns.
 *
 * @param <T> a task
 */
final class TaskLoop<T> {
    /** Tasks one turn runs at most before it lets other isolates' turns go first. */
    static final int BATCH = 64;

    /** What the loop runs; {@code false} ends the loop for good (the isolate was closed). */
    @FunctionalInterface
    interface Body<T> {
        boolean run(T task);
    }

    private final LinkedBlockingDeque<T> tasks = new LinkedBlockingDeque<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final Carriers carriers;
    private final Body<T> body;
    private final Runnable idle;
    private volatile boolean ended;
    /** The carrier running a turn now; null between turns. */
    private volatile Thread carrier;

    TaskLoop(Carriers carriers, Body<T> body) {
        this(carriers, body, () -> {});
    }

    /** {@code idle}: run by a turn that leaves the queue empty, on its carrier, before it lets go. */
    TaskLoop(Carriers carriers, Body<T> body, Runnable idle) {
        this.carriers = carriers;
        this.body = body;
        this.idle = idle;
    }

    void add(T task) {
        tasks.addLast(task);
        schedule();
    }

    /** Runs {@code task} before the queued ones (after the task running now). */
    void addFirst(T task) {
        tasks.addFirst(task);
        schedule();
    }

    /** The tasks still queued (a snapshot, weakly consistent). */
    Iterable<T> queued() {
        return tasks::iterator;
    }

    /** Whether no task is queued (the running one aside). */
    boolean isEmpty() {
        return tasks.isEmpty();
    }

    /** Whether the current thread is this loop's carrier, in a turn. */
    boolean inLoop() {
        return carrier == Thread.currentThread();
    }

    /**
     * Runs a task's end-of-task flush: a loop it makes runnable (a local call's callee, a caller
     * given its answer) runs next on this carrier instead of waking another ({@link Carriers}).
     */
    void handingOver(Runnable flush) {
        carriers.handingOver(flush);
    }

    /** The current task goes on with long work (disposing the isolate): a kept hand-over leaves now. */
    void release() {
        carriers.release();
    }

    /** The carrier running a turn of this loop now, or null. */
    Thread carrier() {
        return carrier;
    }

    private void schedule() {
        if (!ended && scheduled.compareAndSet(false, true)) {
            dev.bulwark.sandbox.trace.LatencyTrace.stamp("loop.submit", 0);
            carriers.submit(this::turn);
        }
    }

    private void turn() {
        carrier = Thread.currentThread();
        dev.bulwark.sandbox.trace.LatencyTrace.stamp("loop.turn", 0);
        try {
            for (int k = 0; k < BATCH && !ended; k++) {
                // A carrier that reads the node's socket goes back to it when a message waits
                // (after a few tasks); the rest go to another carrier (the finally below).
                if (k >= CarrierReader.YIELD_TASKS && carriers.readingWaits()) break;
                T task = tasks.pollFirst();
                if (task == null) break;
                // A turn the previous task handed over at its end must not wait behind this one.
                if (k > 0) carriers.release();
                if (!body.run(task)) {
                    ended = true;
                    tasks.clear();
                }
            }
            if (!ended && tasks.isEmpty()) idle.run();
        } finally {
            carrier = null;
            scheduled.set(false);
            // A task added after the last poll saw scheduled still set: this turn queues the next
            // (also when a task threw past its own handling, so the loop does not stall).
            if (!ended && !tasks.isEmpty()) schedule();
        }
    }
}
