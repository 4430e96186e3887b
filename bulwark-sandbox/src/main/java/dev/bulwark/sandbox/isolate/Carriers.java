package dev.bulwark.sandbox.isolate;

import java.util.ArrayDeque;
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
 * <p><b>The node's socket read by a carrier.</b> With a {@link CarrierReader} attached, one
 * carrier at a time reads the node's socket and runs the turn a message makes runnable itself;
 * the reading's rules are there. What the pool owes it: reading comes first (an idle carrier takes
 * a vacant reader's place before a waiting turn, and the vacancy counts as work owed a thread when
 * carriers are added), and while the reading carrier runs a turn one thread of {@code max} is kept
 * free for a successor reader.
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
    /** This pool's carrier running on the current thread; null on any other thread. */
    private final ThreadLocal<Carrier> self = new ThreadLocal<>();
    /** Turns kept by a carrier instead of waking another (counts, for tests and figures). */
    private final AtomicLong kept = new AtomicLong();
    // Guarded by this.
    private int threads;
    private int idle;
    /** The node's socket read on these carriers; null when none or once it ended. */
    private CarrierReader reader;
    /** {@link #reader}, for the watchdog's look without the lock. */
    private volatile CarrierReader watched;

    Carriers(String name, int core, int max, long keepAliveNanos) {
        if (core < 1 || max < core) throw new IllegalArgumentException("carriers: core " + core + ", max " + max);
        this.name = name;
        this.core = core;
        this.max = max;
        this.keepAliveNanos = keepAliveNanos;
    }

    /** State of one carrier thread, touched only by that thread. */
    static final class Carrier {
        /** Inside {@link #handingOver} or reading: a submitted turn may be kept. */
        boolean handingOver;
        /** The turn this carrier runs when its current turn ends. */
        Runnable next;
        /** Running a turn while it has the node's socket's reading ({@link CarrierReader}). */
        boolean holding;
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

    /** The carrier of this pool running on the current thread; null on any other thread. */
    Carrier current() {
        return self.get();
    }

    /**
     * Has carriers read {@code r}'s socket from now on (one idle carrier, or a new one, takes the
     * reading). Only one reader per pool.
     */
    void attach(CarrierReader r) {
        boolean spawn;
        synchronized (this) {
            if (reader != null) throw new IllegalStateException("carriers already read a source");
            reader = r;
            watched = r;
            spawn = idle == 0 && threads < max;
            if (spawn) threads++;
            notify();
        }
        if (spawn) startCarrier();
    }

    /** {@code r}'s socket ended: no carrier reads it any more. */
    void detach(CarrierReader r) {
        synchronized (this) {
            if (reader == r) reader = null;
            if (watched == r) watched = null;
        }
        release();
    }

    /**
     * The watchdog's look (every few ms while a task runs): a turn that has held the reading too
     * long hands it to another carrier ({@link CarrierReader#tick}).
     */
    void watch(long now) {
        CarrierReader r = watched;
        if (r != null) r.tick(now);
    }

    /** Whether a turn holds the watched reading now ({@link #watch} has work to do). */
    boolean readingHeld() {
        CarrierReader r = watched;
        return r != null && r.holding();
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
            spawn = queueLocked(turn);
        }
        if (spawn) startCarrier();
    }

    /**
     * Guarded by this: puts {@code turn} in line and wakes an idle carrier; true when a carrier
     * was counted in to run it, which the caller starts ({@link #startCarrier}) outside the lock.
     */
    boolean queueLocked(Runnable turn) {
        ready.addLast(turn);
        notify();
        // A vacant reader's place is owed a thread too (an idle carrier takes it first).
        if (idle >= ready.size() + (readerWanted() ? 1 : 0)) return false;
        return addThreadLocked();
    }

    /**
     * Guarded by this: counts in one more carrier if the pool may have it (a reading carrier
     * running a turn keeps one place of {@code max} free for its successor); the caller starts it.
     */
    boolean addThreadLocked() {
        int limit = max - (reader != null && reader.holdingLocked() ? 1 : 0);
        if (threads >= limit) return false;
        threads++;
        return true;
    }

    /** Guarded by this: whether the reading carrier may run a turn itself (a successor could start). */
    boolean roomForSuccessorLocked() {
        return threads < max;
    }

    /** Guarded by this: idle carriers not owed to a turn waiting in line. */
    int spareLocked() {
        return idle - ready.size();
    }

    /** Guarded by this: wakes one idle carrier (the reading comes first for it). */
    void wakeLocked() {
        notify();
    }

    /** Starts a carrier whose place in {@code threads} was already counted; false if none could start. */
    boolean startCarrier() {
        try {
            // From the V8 thread starter: a carrier must inherit rights to V8's protection key.
            V8Threads.start(Thread.ofPlatform().name(name + "-" + sequence.incrementAndGet())
                    .stackSize(Isolate.STACK_BYTES).daemon(true), this::work);
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

    /** Guarded by this: the socket needs a carrier to read it. */
    private boolean readerWanted() {
        return reader != null && reader.vacantLocked();
    }

    private void work() {
        Carrier me = new Carrier();
        self.set(me);
        while (true) {
            Runnable turn = null;
            CarrierReader reading = null;
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
                    reading = reader;
                    reading.takeLocked(me);
                } else {
                    turn = ready.pollFirst();
                }
            }
            if (reading != null) {
                reading.lead(me);
            } else {
                runHere(me, turn);
            }
        }
    }

    /** Runs {@code turn} on this carrier, then the turns it kept at its tasks' ends. */
    void runHere(Carrier me, Runnable turn) {
        run(turn);
        // A turn kept at a task's end runs here, on this carrier, with no other carrier woken.
        while (me.next != null) {
            Runnable next = me.next;
            me.next = null;
            run(next);
        }
    }

    /**
     * Between two tasks of a turn: whether the turn should give its carrier back now because the
     * carrier has the node's socket's reading and a message waits there ({@link CarrierReader}).
     */
    boolean readingWaits() {
        Carrier c = self.get();
        if (c == null || !c.holding) return false;
        CarrierReader r = watched;
        return r != null && r.waiting(c);
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
