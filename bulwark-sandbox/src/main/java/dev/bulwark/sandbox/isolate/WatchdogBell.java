package dev.bulwark.sandbox.isolate;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Wakes a sandbox's watchdog from its idle sleep. A watchdog that has had nothing to watch for a
 * while (no isolate in a task, no carrier turn holding the node's socket's reading) stops ticking
 * and sleeps until {@link #ring} says something began: an idle sandbox then costs no CPU (ticking
 * every few milliseconds cost an idle sandbox 1–2 % of a core on the 2-core VM, so a node of many
 * idle tenants burnt cores doing nothing).
 *
 * <p>{@link #ring} is on every task's path: one volatile read while the watchdog is awake. The
 * sleeper announces itself before it looks a last time at what it watches, and a starter sets its
 * own flag before it rings: one of the two always sees the other (both sides volatile), so no start
 * is missed. A runtime's isolates ring its own bell; the carriers, one pool per process, ring every
 * open bell ({@link #ringAll}: in a sandbox process there is one runtime, tests make several).
 */
final class WatchdogBell {
    private static final Set<WatchdogBell> OPEN = ConcurrentHashMap.newKeySet();
    private static final AtomicInteger SLEEPING = new AtomicInteger();

    /** The watchdog thread while it sleeps here; null while it is awake. */
    private volatile Thread sleeper;

    private WatchdogBell() {}

    /** A bell for a new runtime's watchdog, rung by {@link #ringAll} too until {@link #close}. */
    static WatchdogBell open() {
        WatchdogBell bell = new WatchdogBell();
        OPEN.add(bell);
        return bell;
    }

    void close() {
        OPEN.remove(this);
        ring();
    }

    /** Something this bell's watchdog must watch has begun: if it sleeps, it wakes. Any thread. */
    void ring() {
        Thread t = sleeper;
        if (t != null) LockSupport.unpark(t);
    }

    /** Something every watchdog of the process must watch has begun (a carrier's turn holds the reading). */
    static void ringAll() {
        if (SLEEPING.get() == 0) return;
        for (WatchdogBell bell : OPEN) bell.ring();
    }

    /**
     * Sleeps the calling watchdog until {@link #ring} (or an interrupt), unless {@code stillQuiet}
     * — asked after the sleeper is announced — says something began meanwhile.
     */
    void sleepWhile(BooleanSupplier stillQuiet) {
        sleeper = Thread.currentThread();
        SLEEPING.incrementAndGet();
        try {
            if (stillQuiet.getAsBoolean()) LockSupport.park(this);
        } finally {
            SLEEPING.decrementAndGet();
            sleeper = null;
        }
    }
}
