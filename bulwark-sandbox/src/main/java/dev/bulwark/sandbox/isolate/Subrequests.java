package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Message;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/** Outbound fetches waiting for the node's egress gateway to answer. */
final class Subrequests {
    private record Pending(long invocationId, Consumer<Message> completion, Runnable dropped) {}

    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();

    /**
     * @param completion receives the answer
     * @param dropped    runs instead when the invocation ends before the answer came
     */
    long register(long invocationId, Consumer<Message> completion, Runnable dropped) {
        long id = ids.incrementAndGet();
        pending.put(id, new Pending(invocationId, completion, dropped));
        return id;
    }

    /** Completes a subrequest with a SubrequestResult or SubrequestFailed; unknown ids are dropped. */
    void complete(long subrequestId, Message result) {
        Pending p = pending.remove(subrequestId);
        if (p != null) p.completion.accept(result);
    }

    /** The invocation is over: its answers, when they come, go nowhere. */
    void dropAll(long invocationId) {
        pending.values().removeIf(p -> {
            if (p.invocationId != invocationId) return false;
            p.dropped.run();
            return true;
        });
    }
}
