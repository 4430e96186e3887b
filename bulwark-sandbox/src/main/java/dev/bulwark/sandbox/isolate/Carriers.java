package dev.bulwark.sandbox.isolate;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The platform threads that run isolates (DESIGN.md, "Isolates do not own threads"). An isolate
 * with work hands a turn of its event loop ({@link TaskLoop}) here; an idle isolate holds no
 * thread. A turn goes to an idle carrier when there is one, to a new carrier when all are busy
 * and fewer than {@code max} exist, and otherwise waits in line. Carriers beyond {@code core}
 * end after {@code keepAlive} without work.
 *
 * <p>Why carriers are added while all are busy instead of a fixed count: a turn may block its
 * carrier for a long time (a builtin that ignores termination until its isolate is abandoned, a
 * top-level {@code Atomics.wait} until the wall-clock limit), and the other isolates must not
 * wait for it. {@code max} bounds the threads of the process whatever the number of loaded
 * isolates; past it, turns queue (fairly: a loop gives its carrier back after a batch of tasks).
 *
 * <p>JavaScript runs only on these threads, with {@link Isolate#STACK_BYTES} stacks. Javet takes
 * V8's locker on every call, so an isolate may move from one carrier to the next between turns.
 */
final class Carriers {
    /** The process's carriers: a sandbox is one process, its isolates share them. */
    static final Carriers SHARED = new Carriers("isolate-carrier",
            Math.max(2, Runtime.getRuntime().availableProcessors()),
            Integer.getInteger("bulwark.isolate.carriers.max", 64),
            TimeUnit.SECONDS.toNanos(10));

    private final String name;
    private final int core;
    private final int max;
    private final long keepAliveNanos;
    private final ArrayDeque<Runnable> ready = new ArrayDeque<>();
    private final AtomicInteger sequence = new AtomicInteger();
    // Guarded by this.
    private int threads;
    private int idle;

    Carriers(String name, int core, int max, long keepAliveNanos) {
        if (core < 1 || max < core) throw new IllegalArgumentException("carriers: core " + core + ", max " + max);
        this.name = name;
        this.core = core;
        this.max = max;
        this.keepAliveNanos = keepAliveNanos;
    }

    /** Runs {@code turn} on a carrier, as soon as one is free. */
    void submit(Runnable turn) {
        boolean spawn;
        synchronized (this) {
            ready.addLast(turn);
            spawn = idle < ready.size() && threads < max;
            if (spawn) threads++;
            notify();
        }
        if (spawn) {
            try {
                Thread.ofPlatform().name(name + "-" + sequence.incrementAndGet())
                        .stackSize(Isolate.STACK_BYTES).daemon(true).start(this::work);
            } catch (Throwable e) {
                // No new thread (out of memory or limits): the turn waits for an existing carrier.
                synchronized (this) {
                    threads--;
                }
                if (threadCount() == 0) throw e;
            }
        }
    }

    /** Carriers that exist now, busy or idle. */
    synchronized int threadCount() {
        return threads;
    }

    int max() {
        return max;
    }

    private void work() {
        while (true) {
            Runnable turn;
            synchronized (this) {
                long deadline = System.nanoTime() + keepAliveNanos;
                while (ready.isEmpty()) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0 && threads > core) {
                        threads--;
                        return;
                    }
                    idle++;
                    try {
                        TimeUnit.NANOSECONDS.timedWait(this, Math.max(left, TimeUnit.MILLISECONDS.toNanos(100)));
                    } catch (InterruptedException e) {
                        // A carrier is never interrupted on purpose; keep serving.
                    } finally {
                        idle--;
                    }
                    if (left <= 0) deadline = System.nanoTime() + keepAliveNanos;
                }
                turn = ready.pollFirst();
            }
            try {
                turn.run();
            } catch (Throwable e) {
                // A turn handles its own failures (TaskLoop); one that escapes must not end the carrier.
                System.err.println(Thread.currentThread().getName() + ": " + e);
            }
        }
    }
}
