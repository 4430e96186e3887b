package dev.bulwark.sandbox.isolate;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Wakes this process's sandbox watchdogs from their idle sleep. A watchdog that has had nothing
 * to watch for a while (no isolate in a task, no carrier turn holding the node's socket's reading)
 * stops ticking and sleeps until {@link #ring} says something began: an idle sandbox then costs
 * no CPU at all (ticking every few milliseconds cost an idle sandbox 1–2 % of a core on the
 * 2-core VM, per sandbox, so a node of many idle tenants burnt cores doing nothing).
 *
 * <p>{@link #ring} is on every task's path, so it is one volatile read while no watchdog sleeps.
 * The sleeper announces itself before it looks a last time at what it watches, and a starter sets
 * its own flag before it rings: one of the two always sees the other (both sides volatile), so no
 * start is missed. One bell per process because the carriers, whose held reading a watchdog also
 * watches, are one pool per process; there is usually one watchdog, tests make several.
 */
final class WatchdogBell {
    private WatchdogBell() {}

    private static final Set<Thread> SLEEPERS = ConcurrentHashMap.newKeySet();
    private static final AtomicInteger SLEEPING = new AtomicInteger();

    /** Something a watchdog must watch has begun: sleeping watchdogs wake. Any thread. */
    static void ring() {
        if (SLEEPING.get() == 0) return;
        for (Thread t : SLEEPERS) LockSupport.unpark(t);
    }

    /**
     * Sleeps the calling watchdog until {@link #ring} (or an interrupt), unless {@code stillQuiet}
     * — asked after the sleeper is announced — says something began meanwhile.
     */
    static void sleepWhile(java.util.function.BooleanSupplier stillQuiet) {
        Thread me = Thread.currentThread();
        SLEEPERS.add(me);
        SLEEPING.incrementAndGet();
        try {
            if (stillQuiet.getAsBoolean()) LockSupport.park(WatchdogBell.class);
        } finally {
            SLEEPING.decrementAndGet();
            SLEEPERS.remove(me);
        }
    }
}
