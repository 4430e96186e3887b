package dev.bulwark.server.governance;

import dev.bulwark.server.config.LaneSettings;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One lane's places: at most {@code concurrency} runs, at most {@code perTenant} of one tenant, and
 * a FIFO queue of runs waiting for a place. A waiter whose tenant is at its budget does not hold
 * back waiters of other tenants behind it: each freed place goes to the first waiter that fits.
 */
final class LaneQueue {
    /** How a wait in the queue ended. */
    enum Outcome { ADMITTED, QUEUE_FULL, TIMED_OUT }

    private static final class Waiter {
        final String tenant;
        final Condition ready;
        boolean granted;

        Waiter(String tenant, Condition ready) {
            this.tenant = tenant;
            this.ready = ready;
        }
    }

    final Lane lane;
    private volatile LaneSettings.Lane limit;
    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<Waiter> waiting = new ArrayDeque<>();
    private final Map<String, Integer> perTenant = new HashMap<>();
    private int running;

    LaneQueue(Lane lane, LaneSettings.Lane limit) {
        this.lane = lane;
        this.limit = limit;
    }

    LaneSettings.Lane limit() {
        return limit;
    }

    /** New limits; waiters that fit under them start. Runs above them finish as they are. */
    void limit(LaneSettings.Lane l) {
        lock.lock();
        try {
            this.limit = l;
            dispatch();
        } finally {
            lock.unlock();
        }
    }

    /** Takes a place now if one is free for the tenant. */
    boolean tryEnter(String tenant) {
        lock.lock();
        try {
            if (!fits(tenant)) return false;
            take(tenant);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Takes a place whatever the limits say (a run coming back from the approval lane). */
    void forceEnter(String tenant) {
        lock.lock();
        try {
            take(tenant);
        } finally {
            lock.unlock();
        }
    }

    /** Takes a place, waiting in the queue up to {@code timeoutNanos} when none is free. */
    Outcome enter(String tenant, long timeoutNanos) throws InterruptedException {
        lock.lock();
        try {
            if (fits(tenant)) {
                take(tenant);
                return Outcome.ADMITTED;
            }
            if (waiting.size() >= limit.queueMax()) return Outcome.QUEUE_FULL;
            Waiter w = new Waiter(tenant, lock.newCondition());
            waiting.add(w);
            long left = timeoutNanos;
            try {
                while (!w.granted) {
                    if (left <= 0) {
                        waiting.remove(w);
                        return Outcome.TIMED_OUT;
                    }
                    left = w.ready.awaitNanos(left);
                }
                return Outcome.ADMITTED;
            } catch (InterruptedException e) {
                if (w.granted) leaveLocked(tenant);
                else waiting.remove(w);
                throw e;
            }
        } finally {
            lock.unlock();
        }
    }

    void leave(String tenant) {
        lock.lock();
        try {
            leaveLocked(tenant);
        } finally {
            lock.unlock();
        }
    }

    int waiting() {
        lock.lock();
        try {
            return waiting.size();
        } finally {
            lock.unlock();
        }
    }

    int running() {
        lock.lock();
        try {
            return running;
        } finally {
            lock.unlock();
        }
    }

    int running(String tenant) {
        lock.lock();
        try {
            return perTenant.getOrDefault(tenant, 0);
        } finally {
            lock.unlock();
        }
    }

    static long nanos(long ms) {
        return TimeUnit.MILLISECONDS.toNanos(ms);
    }

    private void leaveLocked(String tenant) {
        running--;
        perTenant.computeIfPresent(tenant, (k, n) -> n == 1 ? null : n - 1);
        dispatch();
    }

    private boolean fits(String tenant) {
        LaneSettings.Lane l = limit;
        return running < l.concurrency() && perTenant.getOrDefault(tenant, 0) < l.perTenant();
    }

    private void take(String tenant) {
        running++;
        perTenant.merge(tenant, 1, Integer::sum);
    }

    /** Gives free places to waiters in arrival order, skipping those whose tenant is at its budget. */
    private void dispatch() {
        for (var it = waiting.iterator(); it.hasNext() && running < limit.concurrency(); ) {
            Waiter w = it.next();
            if (!fits(w.tenant)) continue;
            take(w.tenant);
            w.granted = true;
            it.remove();
            w.ready.signal();
        }
    }
}
