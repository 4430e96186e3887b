package dev.bulwark.sandbox.isolate;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Host work of one invocation that will come back as a task (a call's answer, a timer firing, a
 * drain), for the isolate's hang detection ({@link HangRule}). Whoever queues the task
 * counts down after queuing it, so a check that reads this before the queue never sees neither;
 * and a count that drops to zero after the isolate ran out of tasks (the task was queued, run and
 * the check done before the count went down) asks for another check ({@code drained}).
 */
final class InFlight {
    private final AtomicInteger count = new AtomicInteger();
    private final Runnable drained;

    InFlight(Runnable drained) {
        this.drained = drained;
    }

    void up() {
        count.incrementAndGet();
    }

    void down() {
        if (count.decrementAndGet() == 0) drained.run();
    }

    boolean any() {
        return count.get() > 0;
    }
}
