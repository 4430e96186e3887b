package dev.bulwark.sandbox.isolate;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * workerd's hang detection, as a rule over an isolate's invocations when its loop has run out of
 * tasks: an invocation that has sent nothing of its response and waits on nothing that can ever
 * run again is hung. It waits on nothing when the queue is empty, no timer of the isolate is set
 * and no work of it is in flight elsewhere (a fetch, a call to another worker or to a durable
 * object: any of them may settle anything when it comes back, so a request may await a promise
 * another request's fetch or call will settle, for as long as that takes), it has no call or
 * request body of its own in flight, and no WebSocket is homed here (its messages come from the
 * node). Calls other invocations have in flight to this worker itself (or on capabilities) may
 * settle it too, or be the very calls waiting on it (a call to this worker that never returns:
 * nothing here says which invocation a call started), and so may calls on what this isolate
 * exported and their drops (a disposer): it is hung once it has waited only on those for
 * {@link #GRACE_MS}.
 *
 * <p>workerd's own rule (io-context.c++, {@code PendingEvent}) is stricter: a request that holds
 * no pending event of its own (its I/O, timers, callbacks) is canceled once its thread would
 * sleep, whatever other requests wait on. What runs on the thread without sleeping (a call to
 * another worker of the same process) keeps it from being idle; another request's timer or
 * network I/O does not. Bulwark's sandboxes cannot tell one from the other across processes, so
 * they keep a request that others' work may settle. An event of a durable object (or a call on
 * what an isolate hosting objects exported) is left alone: it may wait on what the object's next
 * events do (workerd gives an object one IoContext; a long poll waits for the next request). A
 * call on a callback runs inside its host ({@link Isolate#runInside}) and is left to it.
 *
 * <p>Each source is read before the queue: a source that ends queues its task first, then counts
 * down ({@link InFlight}), and asks for another check if the isolate may have run out of tasks
 * meanwhile ({@link Isolate#checkHangsSoon}). Isolate thread only (it keeps
 * {@link Invocation#waitingSince}).
 */
final class HangRule {
    /**
     * How long an invocation may wait only on other invocations' calls to this worker itself (or
     * on capabilities, or on what this isolate exported) before it is hung.
     */
    static final long GRACE_MS = 2_000;

    /** The invocations to fail as hung, and when to look again ({@code Long.MAX_VALUE}: no need). */
    record Verdict(List<Invocation> hung, long recheckNanos) {
        static final Verdict NONE = new Verdict(List.of(), Long.MAX_VALUE);
    }

    private HangRule() {}

    /**
     * @param exported    whether the isolate exported something the node may still call or drop
     * @param busyElsewise whether a task is queued or a WebSocket is homed in the isolate (read after
     *                    the invocations, as the sources are)
     */
    static Verdict judge(Collection<Invocation> invocations, BooleanSupplier exported, BooleanSupplier busyElsewise,
                         long nowNanos) {
        List<Invocation> candidates = null;
        boolean timersSet = false, anyInFlight = false;
        for (Invocation inv : invocations) {
            if (inv.isFinished()) continue;
            // A timer or work elsewhere of any invocation may settle anything when it comes back.
            boolean external = inv.external.any();
            timersSet |= !inv.timers.isEmpty() || external;
            boolean inFlight = external || inv.outstanding.any() || inv.bodyOpen;
            anyInFlight |= inFlight;
            if (inFlight || !inv.dispatched || !inv.responsePending() || inv.objectEvent || inv.hostedBy != null
                    || !inv.hosted.isEmpty()) {
                inv.waitingSince = 0;
                continue;
            }
            if (candidates == null) candidates = new ArrayList<>(2);
            candidates.add(inv);
        }
        if (candidates == null) return Verdict.NONE;
        anyInFlight |= exported.getAsBoolean();
        if (timersSet || busyElsewise.getAsBoolean()) {
            for (Invocation inv : candidates) inv.waitingSince = 0;
            return Verdict.NONE;
        }
        List<Invocation> hung = new ArrayList<>(candidates.size());
        long recheck = Long.MAX_VALUE;
        for (Invocation inv : candidates) {
            if (anyInFlight) {
                if (inv.waitingSince == 0) inv.waitingSince = nowNanos;
                long left = TimeUnit.MILLISECONDS.toNanos(GRACE_MS) - (nowNanos - inv.waitingSince);
                if (left > 0) {
                    recheck = Math.min(recheck, left);
                    continue;
                }
            }
            hung.add(inv);
        }
        return new Verdict(hung, recheck);
    }
}
