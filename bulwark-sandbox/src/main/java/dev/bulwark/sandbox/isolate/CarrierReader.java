package dev.bulwark.sandbox.isolate;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads the node's messages on the isolates' carriers ({@link Carriers}) instead of a thread of
 * its own, so that no thread is woken between the socket and the isolate on a request's path.
 *
 * <p>One carrier at a time has the reading: the leader. A message that makes a loop runnable (a
 * request's start) is kept by the leader ({@link Carriers#submit} while it reads), and the leader
 * runs that turn itself <em>keeping the reading</em>: nobody is woken, and when the turn ends the
 * same carrier reads the next message (at c=1 one thread does it all, and an isolate stays on one
 * carrier). While that turn runs nobody reads, so a message that arrives meanwhile waits; the
 * watchdog bounds that wait ({@link #tick}, every few ms while a task runs, as Go's sysmon takes a
 * processor from a thread stuck in a system call): once a turn has held the reading for
 * {@code holdNanos} and bytes of a next message are here, the reading passes to another carrier —
 * an idle one, woken, or a new one (one place of {@code max} is kept free for it while a turn holds
 * the reading). So the node's messages (cancels, socket events, acknowledgements) are still read
 * while every other carrier runs a long turn, at most about a watchdog interval plus a thread's
 * wake-up after they arrive; and a long turn with nothing to read costs no wake-up at all.
 *
 * <p>Under load the reading must not wait behind a whole turn (up to {@link TaskLoop#BATCH} tasks,
 * fed by storage and local calls while it runs): a turn run keeping the reading gives its carrier
 * back between two tasks, after its first {@link #YIELD_TASKS}, when bytes of a message are here
 * ({@link Carriers#readingWaits}); its loop's remaining tasks go to another carrier and the leader
 * reads. In a burst (bytes of a next
 * message already here when a start was read) the turn goes to a carrier as from a reader thread
 * and the leader reads on. Other rules: the leader keeps a turn
 * only when nobody waits in line ({@link Carriers#submit}: it overtakes nobody) and a successor
 * could start (fewer than {@code max} carriers); otherwise the turn queues and the leader reads
 * on. A leader whose reading was passed on goes back to the pool when its turn ends; if the
 * successor has not taken the reading by then, it takes it back.
 */
public final class CarrierReader {
    /** Reads and handles one message (blocking); false when there will be no more. */
    public interface Source {
        boolean next() throws Exception;

        /** Whether a next message is already here (reading it will not wait). */
        default boolean pending() throws Exception {
            return false;
        }
    }

    /** How long a turn may hold the reading while a message waits: one watchdog tick. */
    static final long HOLD_NANOS = TimeUnit.MILLISECONDS.toNanos(SandboxRuntime.WATCHDOG_TICK_MS);
    /**
     * Tasks a turn runs keeping the reading before it gives its carrier back between two tasks
     * when a message waits: a request's turn at c=1 (a few tasks; the node's acknowledgement may
     * arrive meanwhile) never does, a batch of queued requests under load does.
     */
    static final int YIELD_TASKS = 8;

    private final Carriers carriers;
    private final Source source;
    private final long holdNanos;
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    /** Turns the reading carrier ran itself, keeping the reading (counts, for tests and figures). */
    private final AtomicLong held = new AtomicLong();
    /** Times the watchdog passed the reading from a turn that held it to another carrier. */
    private final AtomicLong handOffs = new AtomicLong();
    // Guarded by carriers.
    /** The carrier that has the reading; null while it is vacant. */
    private volatile Carriers.Carrier leader;
    private boolean open = true;
    /** When the leader began a turn keeping the reading (nanoTime, never 0); 0 while it reads. */
    private volatile long heldSince;

    CarrierReader(Carriers carriers, Source source, long holdNanos) {
        this.carriers = carriers;
        this.source = source;
        this.holdNanos = holdNanos;
    }

    /** Reads {@code source} on the process's carriers until it ends; throws what ended it, if it failed. */
    public static void serve(Source source) throws Exception {
        new CarrierReader(Carriers.SHARED, source, HOLD_NANOS).read();
    }

    /** Has the carriers read the source until it ends; blocks until then, throws what ended it. */
    void read() throws Exception {
        carriers.attach(this);
        try {
            ended.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception x) throw x;
            throw e;
        }
    }

    /** Turns the reading carrier ran itself so far, keeping the reading. */
    long heldTurns() {
        return held.get();
    }

    /** Times the reading passed from a turn that held it to another carrier so far. */
    long handOffs() {
        return handOffs.get();
    }

    /** Guarded by carriers: the reading needs a carrier. */
    boolean vacantLocked() {
        return open && leader == null;
    }

    /** Guarded by carriers: the leader runs a turn and may need a successor. */
    boolean holdingLocked() {
        return heldSince != 0;
    }

    /** Guarded by carriers: {@code c} takes the vacant reading. */
    void takeLocked(Carriers.Carrier c) {
        leader = c;
    }

    /** Run by the carrier that took the reading: reads until the source ends or the reading passes on. */
    void lead(Carriers.Carrier me) {
        while (true) {
            boolean more;
            me.handingOver = true;
            try {
                more = source.next();
            } catch (Throwable e) {
                end(e);
                return;
            } finally {
                me.handingOver = false;
            }
            if (!more) {
                end(null);
                return;
            }
            Runnable turn = me.next;
            if (turn == null) continue;
            me.next = null;
            boolean pending;
            try {
                pending = source.pending();
            } catch (Throwable e) {
                pending = false; // the next read reports the failure
            }
            boolean spawn = false;
            boolean hold;
            synchronized (carriers) {
                hold = !pending && carriers.roomForSuccessorLocked();
                if (hold) {
                    long now = System.nanoTime();
                    heldSince = now == 0 ? 1 : now;
                } else {
                    // A burst (reading on beats stalling it for anyone's wake-up), or no successor
                    // could start: the turn goes to a carrier as from a reader thread.
                    spawn = carriers.queueLocked(turn);
                }
            }
            if (!hold) {
                if (spawn) carriers.startCarrier();
                continue;
            }
            WatchdogBell.ringAll(); // the watchdog bounds how long this turn holds the reading (tick)
            held.incrementAndGet();
            me.holding = true;
            try {
                carriers.runHere(me, turn);
            } finally {
                me.holding = false;
            }
            synchronized (carriers) {
                heldSince = 0;
                // Still ours, or passed on and not taken yet (the successor finds nothing to do).
                if (open && (leader == me || leader == null)) {
                    leader = me;
                    continue;
                }
            }
            return; // a successor reads: back to the pool
        }
    }

    /**
     * Asked by {@code c} between two tasks of the turn it runs keeping the reading: whether a
     * message waits, so that it should give the rest of the turn to another carrier and read.
     * (Nobody reads while {@code c} has the reading and runs a turn, so the look does not block.)
     * Under the lock: once the watchdog passed the reading on, a successor may be blocked in a
     * read, and looking at the stream then would wait for it.
     */
    boolean waiting(Carriers.Carrier c) {
        if (leader != c || heldSince == 0) return false;
        synchronized (carriers) {
            if (leader != c || heldSince == 0) return false; // passed on meanwhile
            try {
                return source.pending();
            } catch (Throwable e) {
                return true; // the next read reports it
            }
        }
    }

    /** Whether a turn holds the reading now (the watchdog must keep ticking). */
    boolean holding() {
        return heldSince != 0;
    }

    /**
     * The watchdog's look: a turn that has held the reading for {@code holdNanos} while bytes of a
     * next message are here gives the reading to another carrier (woken or started). The socket is
     * looked at only while the leader runs a turn, under the lock it needs to read again, so this
     * never touches the stream while the leader reads it.
     */
    void tick(long now) {
        long since = heldSince;
        if (since == 0 || now - since < holdNanos) return;
        boolean spawn;
        synchronized (carriers) {
            since = heldSince;
            if (since == 0 || now - since < holdNanos || leader == null || !open) return;
            boolean pending;
            try {
                pending = source.pending();
            } catch (Throwable e) {
                pending = true; // a successor's read reports it
            }
            if (!pending) return; // nothing to read: a successor would only wait
            leader = null;
            heldSince = 0;
            handOffs.incrementAndGet();
            if (carriers.spareLocked() > 0) {
                carriers.wakeLocked(); // an idle carrier takes the reading before any waiting turn
                return;
            }
            spawn = carriers.addThreadLocked();
        }
        // If no thread starts, the reading stays vacant until a carrier is free (the leader's turn
        // end takes it back at the latest).
        if (spawn) carriers.startCarrier();
    }

    private void end(Throwable failure) {
        synchronized (carriers) {
            open = false;
            leader = null;
        }
        carriers.detach(this);
        if (failure == null) {
            ended.complete(null);
        } else {
            ended.completeExceptionally(failure);
        }
    }
}
