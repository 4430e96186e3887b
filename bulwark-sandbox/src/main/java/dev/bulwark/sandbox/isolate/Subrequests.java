package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Message;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Outbound fetches waiting for the node's egress gateway, and the response bodies it is still
 * streaming. A subrequest lives from {@link #register} until its answer is complete (a failure,
 * a head without a body, or the end of its body), the worker cancels it, or its invocation ends.
 */
final class Subrequests {
    private static final class Pending {
        final long invocationId;
        /** The invocation's count of host work still to come back (Invocation.outstanding), or null. */
        final InFlight outstanding;
        final Consumer<Message> events;
        final Runnable dropped;
        /** Who streams the answer, and so which messages the reader's side sends. */
        volatile StreamWire wire;
        /**
         * A connect() socket: the peer's end of stream (SubrequestEnd; for a socket to a worker's
         * connect handler, CallEnd or a whole CallResult) does not end it, since the worker may
         * still write (a half-open socket); it ends when the worker cancels it (its close(), or both
         * directions over), when its invocation ends, or (a call) with the CallFailed the node sends
         * when the callee's invocation is over.
         */
        boolean duplex;
        /** Body bytes delivered to the worker and not yet acknowledged by it. */
        long unacknowledged;

        /** The subrequest is over; after its last task is queued, so an idle isolate never sees neither. */
        void over() {
            if (outstanding != null) outstanding.down();
        }

        Pending(long invocationId, InFlight outstanding, StreamWire wire, Consumer<Message> events, Runnable dropped) {
            this.invocationId = invocationId;
            this.outstanding = outstanding;
            if (outstanding != null) outstanding.up();
            this.wire = wire;
            this.events = events;
            this.dropped = dropped;
        }
    }

    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();

    /**
     * @param events  receives the answer: a SubrequestResult or SubrequestFailed, or a
     *                SubrequestHead followed (if it has a body) by chunks and a SubrequestEnd
     * @param dropped runs instead when the invocation ends before the answer is complete
     */
    long register(long invocationId, Consumer<Message> events, Runnable dropped) {
        return register(invocationId, null, StreamWire.EGRESS, events, dropped);
    }

    /**
     * {@link #register(long, Consumer, Runnable)} for an answer streamed by {@code wire} (a call:
     * CallHead, chunks, CallEnd); {@code outstanding} (or null) counts it until it is over, for the
     * isolate's hang detection.
     */
    long register(long invocationId, InFlight outstanding, StreamWire wire, Consumer<Message> events, Runnable dropped) {
        return register(invocationId, outstanding, wire, false, events, dropped);
    }

    /** {@link #register(long, InFlight, StreamWire, Consumer, Runnable)}; {@code duplex} for a connect() socket. */
    long register(long invocationId, InFlight outstanding, StreamWire wire, boolean duplex, Consumer<Message> events,
                  Runnable dropped) {
        long id = ids.incrementAndGet();
        Pending p = new Pending(invocationId, outstanding, wire, events, dropped);
        p.duplex = duplex;
        pending.put(id, p);
        return id;
    }

    /** The call turned out to run in this sandbox (LocalCalls): its streams talk to that invocation. */
    void rewire(long id, StreamWire wire) {
        Pending p = pending.get(id);
        if (p != null) p.wire = wire;
    }

    /** How subrequest {@code id} of {@code invocationId} talks back, or null when it is not one of its live ones. */
    StreamWire wireOf(long id, long invocationId) {
        Pending p = pending.get(id);
        return p == null || p.invocationId != invocationId ? null : p.wire;
    }

    /** Passes on one message of a subrequest's answer; unknown ids (ended, canceled) are dropped. */
    void complete(long subrequestId, Message answer) {
        if (dev.bulwark.sandbox.trace.LatencyTrace.ON) dev.bulwark.sandbox.trace.LatencyTrace.stampMessage("subrequest.complete:", answer, subrequestId);
        Pending p = pending.get(subrequestId);
        if (p == null) return;
        boolean last = switch (answer) {
            case Message.SubrequestHead h -> !h.hasBody();
            case Message.SubrequestChunk c -> false;
            case Message.SubrequestBodyPull bp -> false;
            case Message.SubrequestEnd e -> !p.duplex;
            case Message.CallHead h -> false;
            // A connect() call's whole answer or body end is the callee's half-close (it may still read).
            case Message.CallResult r -> !p.duplex;
            case Message.CallEnd e -> !p.duplex;
            case Message.CallChunk c -> false;
            case Message.CallBodyPull bp -> false;
            default -> true; // SubrequestResult, SubrequestFailed, CallFailed
        };
        if (last && !pending.remove(subrequestId, p)) return;
        int delivered = switch (answer) {
            case Message.SubrequestChunk c -> c.data().length;
            case Message.CallChunk c -> c.data().length;
            default -> 0;
        };
        if (delivered > 0) {
            synchronized (p) {
                p.unacknowledged += delivered;
            }
        }
        p.events.accept(answer);
        if (last) p.over();
    }

    /**
     * The worker read {@code bytes} of a body: how much of that may be acknowledged to the node
     * (never more than was delivered, so a worker cannot talk the node into sending ahead), or
     * 0 when the subrequest is not one of {@code invocationId}'s.
     */
    long acknowledge(long subrequestId, long invocationId, long bytes) {
        Pending p = pending.get(subrequestId);
        if (p == null || p.invocationId != invocationId || bytes <= 0) return 0;
        synchronized (p) {
            long n = Math.min(bytes, p.unacknowledged);
            p.unacknowledged -= n;
            return n;
        }
    }

    /** Whether a live subrequest is one of {@code invocationId}'s. */
    boolean owns(long subrequestId, long invocationId) {
        Pending p = pending.get(subrequestId);
        return p != null && p.invocationId == invocationId;
    }

    /**
     * The worker canceled the body of one of {@code invocationId}'s subrequests: the message that
     * tells its streamer, or null if it was not live.
     */
    Message cancel(long subrequestId, long invocationId) {
        Pending p = pending.get(subrequestId);
        if (p == null || p.invocationId != invocationId || !pending.remove(subrequestId, p)) return null;
        p.over();
        return p.wire.cancel(subrequestId);
    }

    /**
     * The invocation is over: its answers, when they come, go nowhere. Returns the messages that
     * cancel them (one per subrequest or call dropped).
     */
    List<Message> dropAll(long invocationId) {
        List<Message> dropped = new ArrayList<>();
        pending.entrySet().removeIf(e -> {
            if (e.getValue().invocationId != invocationId) return false;
            e.getValue().dropped.run();
            e.getValue().over();
            dropped.add(e.getValue().wire.cancel(e.getKey()));
            return true;
        });
        return dropped;
    }
}
