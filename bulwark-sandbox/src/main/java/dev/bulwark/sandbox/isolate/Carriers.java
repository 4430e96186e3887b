package dev.bulwark.sandbox.isolate;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

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
 *
 * <p><b>Hand-over at a task's end ("run next", as Go's scheduler does).</b> When a task ends and
 * its flush makes another isolate's loop runnable (a local object call's start, a callee's answer
 * to its caller), waking an idle carrier for it costs a cross-CPU wake-up (tens to hundreds of µs
 * here) while this carrier is about to become free anyway. So a turn submitted from inside {@link
 * #handingOver} on a carrier of this pool is kept by that carrier (one at a time) and run by it
 * as soon as its current turn ends, with no other carrier woken. The rules that keep every
 * guarantee: a turn is kept only when no other turn is waiting in line (so it overtakes nobody:
 * FIFO holds); a kept turn is given to the pool at once ({@link #release}) when the current
 * turn goes on to run another task of its own loop, so it never waits behind a long task; and at
 * most one is kept (a second is submitted as usual).
 *
 * <p><b>The node's socket read by a carrier (leader/follower).</b> With a {@link Source} (the
 * sandbox's connection to the node, {@link #read}), one idle carrier at a time reads it: the
 * leader. A message that makes a loop runnable (a request's start) is kept by the leader as
 * above; before running that turn itself, the leader hands the reading to another carrier (an
 * idle one, woken, or a new one) — that wake-up happens while the turn runs, off the request's
 * path, instead of the reader waking a carrier to run it. The rules: reading comes first (an idle
 * carrier takes the vacant reader's place before a waiting turn, and the vacancy counts as work
 * owed a thread when carriers are added), and the leader keeps a turn only when another carrier
 * can take the reading over (an idle one not owed to a waiting turn, or a new one within {@code
 * max}) and no next message is already here; otherwise the turn queues (an idle carrier is woken
 * for it, as by a reader thread) and the leader goes on reading — in a burst, passing the reading
 * on would stall it for the successor's wake-up. So the node's messages
 * (cancels, socket events, acknowledgements) are read while every other carrier runs long turns.
 */
final class Carriers {
    /** The process's carriers: a sandbox is one process, its isolates share them. */
    static final Carriers SHARED = new Carriers("isolate-carrier",
            Math.max(2, Runtime.getRuntime().availableProcessors()),
            Integer.getInteger("bulwark.isolate.carriers.max", 64),
            TimeUnit.SECONDS.toNanos(10));

    /** A blocking source of work read by one carrier at a time (the node's socket). */
    interface Source {
        /** Blocks for the next message and handles it; false when there will be no more. */
        boolean next() throws Exception;

        /** Whether a next message is already here (reading it will not wait). */
        default boolean pending() throws Exception {
            return false;
        }
    }

    private final String name;
    private final int core;
    private final int max;
    private final long keepAliveNanos;
    private final ArrayDeque<Runnable> ready = new ArrayDeque<>();
    private final AtomicInteger sequence = new AtomicInteger();
    /** This pool's carrier running on the current thread; null on any other thread. */
    private final ThreadLocal<Carrier> self = new ThreadLocal<>();
    /** Turns kept by a carrier instead of waking another (counts, for tests and figures). */
    private final AtomicLong kept = new AtomicLong();
    /** Times the reading passed from one carrier to another (counts, for tests and figures). */
    private final AtomicLong readerHandOffs = new AtomicLong();
    // Guarded by this.
    private int threads;
    private int idle;
    /** What carriers read when {@link #read} was called; null when none or once it ended. */
    private Source source;
    /** A carrier is reading the source now. */
    private boolean leading;
    private CompletableFuture<Void> sourceEnded;

    Carriers(String name, int core, int max, long keepAliveNanos) {
        if (core < 1 || max < core) throw new IllegalArgumentException("carriers: core " + core + ", max " + max);
        this.name = name;
        this.core = core;
        this.max = max;
        this.keepAliveNanos = keepAliveNanos;
    }

    /** State of one carrier thread, touched only by that thread. */
    private static final class Carrier {
        /** Inside {@link #handingOver} or reading: a submitted turn may be kept. */
        boolean handingOver;
        /** The turn this carrier runs when its current turn ends. */
        Runnable next;
    }

    /** Runs {@code turn} on a carrier, as soon as one is free. */
    void submit(Runnable turn) {
        Carrier c = self.get();
        if (c != null && c.handingOver && c.next == null) {
            synchronized (this) {
                // Nobody waits in line: running it next on this carrier overtakes no one.
                if (ready.isEmpty()) {
                    c.next = turn;
                    kept.incrementAndGet();
                    return;
                }
            }
        }
        enqueue(turn);
    }

    /**
     * Runs {@code flush} (a task's end-of-task hand-over); a turn it submits to this pool is kept
     * by this carrier and run when the current turn ends, unless {@link #release}d before. On a
     * thread that is not a carrier of this pool it just runs {@code flush}.
     */
    void handingOver(Runnable flush) {
        Carrier c = self.get();
        if (c == null || c.handingOver) {
            flush.run();
            return;
        }
        c.handingOver = true;
        try {
            flush.run();
        } finally {
            c.handingOver = false;
        }
    }

    /**
     * The current turn goes on with more work (another task of its loop, disposing an isolate): a
     * turn this carrier kept goes to the pool now, as {@link #submit} would have sent it.
     */
    void release() {
        Carrier c = self.get();
        if (c == null || c.next == null) return;
        Runnable turn = c.next;
        c.next = null;
        enqueue(turn);
    }

    /** Turns kept by the carrier that made them runnable so far (no carrier woken for them). */
    long keptCount() {
        return kept.get();
    }

    /** Times a reading carrier passed the reading on to run a turn itself. */
    long readerHandOffs() {
        return readerHandOffs.get();
    }

    /**
     * Has carriers read {@code source} one at a time until it ends (leader/follower, see the
     * class comment); blocks until then and throws what ended it, if it failed.
     */
    void read(Source source) throws Exception {
        CompletableFuture<Void> ended = new CompletableFuture<>();
        boolean spawn;
        synchronized (this) {
            if (this.source != null) throw new IllegalStateException("carriers already read a source");
            this.source = source;
            this.sourceEnded = ended;
            spawn = idle == 0 && threads < max;
            if (spawn) threads++;
            notify();
        }
        if (spawn) startCarrier();
        try {
            ended.get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof Exception x) throw x;
            throw e;
        }
    }

    /** Carriers that exist now, busy or idle. */
    synchronized int threadCount() {
        return threads;
    }

    int max() {
        return max;
    }

    private void enqueue(Runnable turn) {
        boolean spawn;
        synchronized (this) {
            ready.addLast(turn);
            // A vacant reader's place is owed a thread too (an idle carrier takes it first).
            spawn = idle < ready.size() + (readerWanted() ? 1 : 0) && threads < max;
            if (spawn) threads++;
            notify();
        }
        if (spawn) startCarrier();
    }

    /** Starts a carrier whose place in {@code threads} was already counted; false if none could start. */
    private boolean startCarrier() {
        try {
            Thread.ofPlatform().name(name + "-" + sequence.incrementAndGet())
                    .stackSize(Isolate.STACK_BYTES).daemon(true).start(this::work);
            return true;
        } catch (Throwable e) {
            // No new thread (out of memory or limits): the work waits for an existing carrier.
            synchronized (this) {
                threads--;
            }
            if (threadCount() == 0) throw e;
            return false;
        }
    }

    /** Guarded by this: the source needs a carrier to read it. */
    private boolean readerWanted() {
        return source != null && !leading;
    }

    private void work() {
        Carrier me = new Carrier();
        self.set(me);
        while (true) {
            Runnable turn = null;
            synchronized (this) {
                long deadline = System.nanoTime() + keepAliveNanos;
                while (ready.isEmpty() && !readerWanted()) {
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
                // Reading the node comes first: a turn waiting here is owed another carrier (enqueue).
                if (readerWanted()) {
                    leading = true;
                } else {
                    turn = ready.pollFirst();
                }
            }
            if (turn == null) turn = lead(me);
            if (turn == null) continue;
            run(turn);
            // A turn kept at a task's end runs here, on this carrier, with no other carrier woken.
            while (me.next != null) {
                Runnable next = me.next;
                me.next = null;
                run(next);
            }
        }
    }

    /**
     * This carrier reads the source until a message makes a loop runnable and another carrier
     * takes the reading over; returns that turn to run here, or null once the source ended.
     */
    private Runnable lead(Carrier me) {
        Source s;
        synchronized (this) {
            s = source;
        }
        while (true) {
            boolean more;
            me.handingOver = true;
            try {
                more = s != null && s.next();
            } catch (Throwable e) {
                endSource(e);
                return null;
            } finally {
                me.handingOver = false;
            }
            if (!more) {
                endSource(null);
                return null;
            }
            Runnable turn = me.next;
            if (turn == null) continue;
            me.next = null;
            boolean pending;
            try {
                pending = s.pending();
            } catch (Throwable e) {
                pending = false; // the next read reports the failure
            }
            boolean spawn;
            synchronized (this) {
                if (pending) {
                    // More is already here (a burst): reading on beats waking a successor for it,
                    // whose wake-up would stall the reading; the turn goes to a carrier as usual.
                    ready.addLast(turn);
                    spawn = idle < ready.size() && threads < max;
                    if (spawn) threads++;
                    notify();
                } else if (idle > ready.size()) {
                    spawn = false; // an idle carrier not owed to a waiting turn reads next
                } else if (threads < max) {
                    spawn = true;
                    threads++;
                } else {
                    // Nobody can take the reading over: the turn queues, this carrier keeps reading.
                    ready.addLast(turn);
                    notify();
                    continue;
                }
                if (!pending) {
                    leading = false;
                    notify();
                }
            }
            if (pending) {
                if (spawn) startCarrier();
                continue;
            }
            if (spawn && !startCarrier()) {
                synchronized (this) {
                    if (readerWanted()) { // no thread took the reading over: keep it, queue the turn
                        leading = true;
                        ready.addLast(turn);
                        notify();
                        continue;
                    }
                }
            }
            readerHandOffs.incrementAndGet();
            return turn;
        }
    }

    private void endSource(Throwable failure) {
        CompletableFuture<Void> ended;
        synchronized (this) {
            source = null;
            leading = false;
            ended = sourceEnded;
        }
        release();
        if (failure == null) {
            ended.complete(null);
        } else {
            ended.completeExceptionally(failure);
        }
    }

    private static void run(Runnable turn) {
        try {
            turn.run();
        } catch (Throwable e) {
            // A turn handles its own failures (TaskLoop); one that escapes must not end the carrier.
            System.err.println(Thread.currentThread().getName() + ": " + e);
        }
    }
}
