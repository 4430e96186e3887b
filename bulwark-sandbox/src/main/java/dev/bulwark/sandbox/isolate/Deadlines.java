package dev.bulwark.sandbox.isolate;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Deadlines that are almost always canceled before they fall due (the wall-clock limit of every
 * invocation, the node's guard on every request), kept without waking a thread per request.
 *
 * <p>A {@link java.util.concurrent.ScheduledThreadPoolExecutor} that removes canceled tasks
 * wakes its thread for nearly every schedule: when one request's deadline is canceled the queue
 * empties, so the next one becomes its head and signals the thread, which wakes only to sleep
 * again. Here the thread sleeps until the earliest deadline it saw; a cancel only removes the
 * entry (it is not retained), and a new deadline wakes the thread only when it falls earlier than
 * that time. So requests with the same limit cost no wake-up at all; the thread wakes when a
 * deadline falls due (or when the one it slept for was canceled), sweeps the live entries, and
 * sleeps again. A sweep costs one look per live entry, once per wake-up.
 */
public final class Deadlines implements AutoCloseable {
    /** Sleeping with no deadline. */
    private static final long NONE = Long.MAX_VALUE;

    /** A scheduled action; {@link #cancel} forgets it. */
    public final class Handle {
        private final long due;
        private final Runnable action;

        private Handle(long due, Runnable action) {
            this.due = due;
            this.action = action;
        }

        /** Forgets the action: it will not run (unless it is running now). */
        public void cancel() {
            live.remove(this);
        }
    }

    private final Set<Handle> live = ConcurrentHashMap.newKeySet();
    private final Thread thread;
    /** The nanoTime the thread sleeps until, or NONE; NONE also while it sweeps (so an add wakes it). */
    private volatile long wakeAt = NONE;
    private volatile boolean closed;

    public Deadlines(String threadName) {
        thread = Thread.ofPlatform().name(threadName).daemon(true).unstarted(this::run);
        thread.start();
    }

    /** Runs {@code action} on this timer's thread after {@code delayMs}, unless canceled first. */
    public Handle schedule(Runnable action, long delayMs) {
        Handle h = new Handle(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(0, delayMs)), action);
        live.add(h);
        long w = wakeAt;
        if (w == NONE || h.due - w < 0) LockSupport.unpark(thread);
        return h;
    }

    /** Deadlines not yet canceled or run (tests: finished work leaves nothing behind). */
    public int pending() {
        return live.size();
    }

    private void run() {
        while (!closed) {
            wakeAt = NONE; // from here an add always unparks: the sweep below may miss it
            long now = System.nanoTime();
            long next = NONE;
            for (Handle h : live) {
                if (h.due - now <= 0) {
                    if (live.remove(h)) fire(h);
                } else if (next == NONE || h.due - next < 0) {
                    next = h.due;
                }
            }
            wakeAt = next;
            if (next == NONE) LockSupport.park(this);
            else LockSupport.parkNanos(this, next - System.nanoTime());
        }
    }

    private static void fire(Handle h) {
        try {
            h.action.run();
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable e) {
            // One action failing must not stop the others' deadlines.
            System.err.println("bulwark: a deadline action failed: " + e);
        }
    }

    /** Stops the thread; deadlines not yet due never run. */
    @Override
    public void close() {
        closed = true;
        live.clear();
        LockSupport.unpark(thread);
    }
}
