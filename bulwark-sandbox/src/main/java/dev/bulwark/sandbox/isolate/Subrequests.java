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
        final Consumer<Message> events;
        final Runnable dropped;
        /** Body bytes delivered to the worker and not yet acknowledged by it. */
        long unacknowledged;

        Pending(long invocationId, Consumer<Message> events, Runnable dropped) {
            this.invocationId = invocationId;
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
        long id = ids.incrementAndGet();
        pending.put(id, new Pending(invocationId, events, dropped));
        return id;
    }

    /** Passes on one message of a subrequest's answer; unknown ids (ended, canceled) are dropped. */
    void complete(long subrequestId, Message answer) {
        boolean last = switch (answer) {
            case Message.SubrequestHead h -> !h.hasBody();
            case Message.SubrequestChunk c -> false;
            case Message.SubrequestBodyPull p -> false;
            default -> true; // SubrequestResult, SubrequestFailed, SubrequestEnd
        };
        Pending p = last ? pending.remove(subrequestId) : pending.get(subrequestId);
        if (p == null) return;
        if (answer instanceof Message.SubrequestChunk c) {
            synchronized (p) {
                p.unacknowledged += c.data().length;
            }
        }
        p.events.accept(answer);
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

    /** The worker canceled the body of one of {@code invocationId}'s subrequests: true if it was live. */
    boolean cancel(long subrequestId, long invocationId) {
        Pending p = pending.get(subrequestId);
        return p != null && p.invocationId == invocationId && pending.remove(subrequestId, p);
    }

    /** The invocation is over: its answers, when they come, go nowhere. Returns the ids dropped. */
    List<Long> dropAll(long invocationId) {
        List<Long> dropped = new ArrayList<>();
        pending.entrySet().removeIf(e -> {
            if (e.getValue().invocationId != invocationId) return false;
            e.getValue().dropped.run();
            dropped.add(e.getKey());
            return true;
        });
        return dropped;
    }
}
