package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.objects.java.StructuredValues;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Binding;
import dev.bulwark.server.egress.OutboundSummary;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Tail workers of dynamic workers ({@code tails} in WorkerCode): every invocation of a worker that
 * has {@link Binding.Tail} grants is watched ({@link TailListener}), its log lines are collected
 * here from the node's log stream, and its one trace item is delivered, when it is done, to each
 * tail worker's {@code tail(events)} handler as an invocation of its own ({@link Message.TailStart}),
 * or to a durable object's {@code tail(events)} method ({@link Message.RpcStart}).
 * Delivery is best effort, as in Workers: a tail worker that fails is logged, never retried.
 */
final class Tails {
    private static final Logger log = LoggerFactory.getLogger(Tails.class);

    /** Starts a tail invocation in a tenant's sandboxes. */
    interface Starter {
        void start(String tenant, Message.TailStart start, InvocationListener listener);
    }

    /** Starts an RPC invocation of a durable object in a tenant's sandboxes. */
    interface ObjectStarter {
        void start(String tenant, Message.RpcStart start, InvocationListener listener);
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<Long, TailListener> watched = new ConcurrentHashMap<>();
    private final Starter starter;
    private final ObjectStarter objects;
    private final LongSupplier ids;

    Tails(Starter starter, ObjectStarter objects, LongSupplier ids) {
        this.starter = starter;
        this.objects = objects;
        this.ids = ids;
    }

    /**
     * The listener for an invocation of {@code worker} starting with {@code start}: the given one
     * when the worker has no tails, else one that reports the invocation to them.
     *
     * @param tailTenant the tenant whose sandboxes run the tail workers
     */
    InvocationListener watch(DeployedWorker worker, String tailTenant, long invocationId, Message start,
                             InvocationListener inner, Supplier<OutboundSummary.Snapshot> outbound) {
        List<Address> tails = worker.bindings().stream()
                .filter(b -> b instanceof Binding.Tail).map(b -> ((Binding.Tail) b).target()).toList();
        if (tails.isEmpty()) return inner;
        ObjectNode event;
        String entrypoint;
        switch (start) {
            case Message.FetchStart f -> {
                event = TailListener.fetchEvent(f);
                entrypoint = f.target() instanceof Address.Worker w ? w.entrypoint() : null;
            }
            case Message.RpcStart r -> {
                event = TailListener.rpcEvent(r.method());
                entrypoint = r.target() instanceof Address.Worker w ? w.entrypoint() : null;
            }
            default -> {
                return inner; // dynamic workers get no alarms, socket events or tail events of their own
            }
        }
        TailListener[] self = new TailListener[1];
        self[0] = new TailListener(inner, worker.name(), entrypoint, event, outbound, json -> {
            watched.remove(invocationId, self[0]);
            for (Address target : tails) deliver(tailTenant, target, json);
        });
        watched.put(invocationId, self[0]);
        return self[0];
    }

    /** A log line of some invocation: kept if that invocation is watched. */
    void log(Message.LogLine line) {
        TailListener t = line.invocationId() == 0 ? null : watched.get(line.invocationId());
        if (t != null) t.log(line);
    }

    private void deliver(String tenant, Address target, String json) {
        InvocationListener listener = new InvocationListener.NoResponse() {
            @Override
            public void failed(Message.InvocationFailed failure) {
                log.warn("tail worker {} failed: {} {}", target.workerId(), failure.code(), failure.message());
            }

            @Override
            public void rpcReturn(Message.RpcReturn result) {
                // A durable object's tail() threw, or its class has none: best effort, as a tail worker's failure.
                if (result.threw()) log.warn("tail() of durable object {}.{} failed", target.workerId(), className(target));
            }

            @Override
            public void done(long cpuMicros) {}
        };
        // Not on the sandbox reader thread that reported the end: starting may wait for a sandbox.
        Thread.startVirtualThread(() -> {
            switch (target) {
                case Address.Worker w -> starter.start(tenant, new Message.TailStart(ids.getAsLong(), w, json), listener);
                // A durable object: its tail(events) method, called as RPC (workerd calls an actor's tail() handler).
                case Address.DurableObject o -> {
                    byte[] args;
                    try {
                        args = StructuredValues.encode(List.of(JSON.readValue(json, Object.class)));
                    } catch (IOException | IllegalArgumentException e) {
                        log.warn("tail event for {} could not be encoded: {}", o.className(), e.getMessage());
                        return;
                    }
                    objects.start(tenant, new Message.RpcStart(ids.getAsLong(), o, "tail", args), listener);
                }
            }
        });
    }

    private static String className(Address target) {
        return target instanceof Address.DurableObject o ? o.className() : "";
    }

    int watching() {
        return watched.size();
    }
}
