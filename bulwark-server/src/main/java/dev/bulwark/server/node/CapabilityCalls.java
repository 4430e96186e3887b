package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.objects.java.RpcError;
import dev.bulwark.objects.java.StructuredValues;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.CapPayload;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Binding;
import dev.bulwark.server.caps.CapabilityError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.LongSupplier;

/**
 * Calls on capabilities passed by reference, as the node relays them: a call on an export runs as
 * a new invocation in the sandbox (and isolate) that exported it; on a durable object or worker
 * address as an RPC to it, under the tenant that passed it; on a Java capability here, on a
 * virtual thread. Checks come first ({@link Capabilities#use}), on the sandbox's reader thread, so
 * a call and a later release of the same stub are seen in order.
 */
final class CapabilityCalls {
    private static final Logger log = LoggerFactory.getLogger(CapabilityCalls.class);

    /** The CallFailed code of a refused capability; the prelude rejects with an Error of its message. */
    static final String CODE = "capability";

    private final Capabilities caps;
    private final SandboxSupervisor supervisor;
    private final LongSupplier invocationIds;
    private final BiFunction<String, Address, DeployedWorker> callable;
    private final Fetches fetches;
    private final java.util.function.LongFunction<dev.bulwark.server.egress.OutboundSummary> summaries;

    /** How the node relays a fetch() to an address for a tenant (Node's CallStart path). */
    interface Fetches {
        void call(String tenant, Message.CallStart call, java.util.function.Consumer<Message> reply);
    }

    CapabilityCalls(Capabilities caps, SandboxSupervisor supervisor, LongSupplier invocationIds,
                    BiFunction<String, Address, DeployedWorker> callable, Fetches fetches,
                    java.util.function.LongFunction<dev.bulwark.server.egress.OutboundSummary> summaries) {
        this.summaries = summaries;
        this.caps = caps;
        this.supervisor = supervisor;
        this.invocationIds = invocationIds;
        this.callable = callable;
        this.fetches = fetches;
    }

    SandboxProcess.CapHooks hooks() {
        return new SandboxProcess.CapHooks() {
            @Override
            public Message.RpcReturn returned(SandboxProcess from, Message.RpcReturn r) {
                try {
                    return new Message.RpcReturn(r.invocationId(), caps.accept(from, r.invocationId(), r.value(),
                            (tenant, address) -> callable.apply(tenant, address) != null), r.threw());
                } catch (Capabilities.CapabilityException e) {
                    // A result that names a stub its invocation does not hold: the caller gets the refusal.
                    return new Message.RpcReturn(r.invocationId(), error(RpcError.Type.ERROR, e.getMessage()), true);
                }
            }

            @Override
            public void invocationDone(long invocationId) {
                caps.invocationDone(invocationId);
            }

            @Override
            public void starting(SandboxProcess in, Message start) {
                switch (start) {
                    case Message.FetchStart f -> caps.starting(in, f.invocationId(), f.target().workerId(), 0);
                    case Message.RpcStart r -> caps.starting(in, r.invocationId(), r.target().workerId(), 0);
                    case Message.AlarmStart a -> caps.starting(in, a.invocationId(), a.target().workerId(), 0);
                    case Message.SocketEvent e -> caps.starting(in, e.invocationId(), e.target().workerId(), 0);
                    case Message.TailStart t -> caps.starting(in, t.invocationId(), t.target().workerId(), 0);
                    case Message.CapStart c -> caps.starting(in, c.invocationId(), null, c.exportId());
                    default -> { } // not an invocation's start
                }
            }
        };
    }

    void receive(SandboxProcess from, Message message) {
        switch (message) {
            case Message.CapCall c -> call(from, c);
            case Message.CapFetch f -> fetch(from, f);
            case Message.StreamedCapFetch f -> fetch(from, new Message.CapFetch(f.invocationId(), f.callId(), f.capId(),
                    f.method(), f.url(), f.headers(), null), true);
            case Message.CapRelease r -> caps.release(from, r.invocationId(), r.capIds());
            case Message.CapRevoke r -> caps.revoke(from, r.exportIds(), r.contextEnded());
            default -> log.warn("not a capability message: {}", message.getClass().getSimpleName());
        }
    }

    private void call(SandboxProcess from, Message.CapCall c) {
        Capabilities.Cap cap;
        byte[] args;
        java.util.function.Consumer<Message> reply;
        try {
            cap = caps.use(from, c.invocationId(), c.capId());
            reply = recorded(c.invocationId(), "RPC", cap, size(c.args()), from::post);
            args = caps.accept(from, c.invocationId(), c.args(), (tenant, address) -> callable.apply(tenant, address) != null);
        } catch (Capabilities.CapabilityException e) {
            foreign(from, c.invocationId(), e, c.method());
            refused(c.invocationId(), "RPC", size(c.args()));
            from.post(new Message.CallFailed(c.callId(), CODE, e.getMessage()));
            return;
        }
        if (cap.target instanceof Capabilities.Java) {
            Thread.startVirtualThread(() -> run(from, reply, c, cap, args));
        } else {
            startInOrder(new OrderKey(from, c.capId()), () -> run(from, reply, c, cap, args));
        }
    }

    private record OrderKey(SandboxProcess from, long capId) {}

    /** Per caller sandbox and capability: the start of the last call it sent, until it is handed on. */
    private final Map<OrderKey, CompletableFuture<Void>> lastStart = new ConcurrentHashMap<>();

    /**
     * Starts the calls a sandbox makes on one capability in the order it sent them (workerd's
     * e-order): each waits until the one before it was handed to its target, not until it finished.
     * A Java capability answers within the call itself, so its calls are not ordered.
     */
    private void startInOrder(OrderKey key, Runnable start) {
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> before = lastStart.put(key, mine);
        Runnable go = () -> {
            try {
                start.run();
            } finally {
                mine.complete(null);
                lastStart.remove(key, mine);
            }
        };
        if (before == null) Thread.startVirtualThread(go);
        else before.whenComplete((v, e) -> Thread.startVirtualThread(go));
    }

    /**
     * A call named a worker's env capability from an invocation of another worker: no JS can do
     * that (ids never reach JS), so a sandbox forged it. Logged, and a Java capability hears of it
     * (a session's TOOLS audits it in its own trail).
     */
    private static void foreign(SandboxProcess from, long invocationId, Capabilities.CapabilityException e, String method) {
        if (e.foreign == null) return;
        log.warn("sandbox {} of tenant {} named another worker's capability ({}) from invocation {}", from.name(), from.tenant(),
                describe(e.foreign.target), LogHub.requestId(invocationId));
        if (e.foreign.target instanceof Capabilities.Java j) Thread.startVirtualThread(() -> j.object().foreignCall(method));
    }

    private static long size(byte[] b) {
        return b == null ? 0 : b.length;
    }

    /**
     * The caller's answer, recorded on its way in the calling invocation's outbound summary (its
     * log record and tail events): method "RPC" (or the fetch's), host {@code capability:<what>}.
     */
    private java.util.function.Consumer<Message> recorded(long invocationId, String method, Capabilities.Cap cap,
                                                          long bytesOut, java.util.function.Consumer<Message> reply) {
        dev.bulwark.server.egress.OutboundSummary summary = summaries.apply(invocationId);
        if (summary == null) return reply;
        long started = System.nanoTime();
        String host = "capability:" + describe(cap.target);
        java.util.concurrent.atomic.AtomicBoolean once = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.function.Consumer<Message> observer = m -> {
            if (m instanceof Message.CallBodyPull) return; // the callee reads the body: not the answer yet
            if (once.compareAndSet(false, true)) {
                long ms = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                summary.add(switch (m) {
                    case Message.RpcResult r -> new dev.bulwark.server.egress.OutboundCall(method, host, r.threw() ? 500 : 200,
                            r.threw() ? "threw" : "ok", size(r.value()), bytesOut, ms);
                    case Message.CallResult r -> new dev.bulwark.server.egress.OutboundCall(method, host, r.status(), "ok",
                            size(r.body()), bytesOut, ms);
                    case Message.CallHead h -> new dev.bulwark.server.egress.OutboundCall(method, host, h.status(), "ok",
                            0, bytesOut, ms); // a streamed body: its bytes are not counted
                    case Message.CallFailed f -> new dev.bulwark.server.egress.OutboundCall(method, host, 0,
                            CODE.equals(f.code()) ? "refused" : "failed", 0, bytesOut, ms);
                    default -> new dev.bulwark.server.egress.OutboundCall(method, host, 0, "failed", 0, bytesOut, ms);
                });
            }
        };
        // A sandbox caller keeps its link (its streams find the call's relay through it).
        if (reply instanceof CallerLink link) return link.observed(observer);
        return m -> {
            observer.accept(m);
            reply.accept(m);
        };
    }

    /** A call the table refused before it left: "denied" in the caller's summary. */
    private void refused(long invocationId, String method, long bytesOut) {
        dev.bulwark.server.egress.OutboundSummary summary = summaries.apply(invocationId);
        if (summary != null) {
            summary.add(new dev.bulwark.server.egress.OutboundCall(method, "capability", 0, "denied", 0, bytesOut, 0));
        }
    }

    /** What a capability is, as the caller's summary names it (never an export's or a grant's secret). */
    private static String describe(Capabilities.Target target) {
        return switch (target) {
            case Capabilities.Exported e -> "callback";
            case Capabilities.AtAddress a -> switch (a.address()) {
                case Address.DurableObject d -> "object/" + d.className();
                case Address.Worker w -> "worker/" + w.workerId() + (w.entrypoint() == null ? "" : "/" + w.entrypoint());
            };
            case Capabilities.Java j -> "java/" + j.name();
        };
    }

    /**
     * {@code fetch()} on a passed-on durable object or entrypoint stub: relayed as the fetch of the
     * worker that passed it (its tenant), to the address it names. Functions, RpcTargets and Java
     * capabilities have no fetch() of their own (JS calls an RPC method "fetch" on them instead).
     */
    private void fetch(SandboxProcess from, Message.CapFetch f) {
        fetch(from, f, false);
    }

    /** {@code bodyStreamed}: the request body follows on the callee's pulls (a StreamedCapFetch). */
    private void fetch(SandboxProcess from, Message.CapFetch f, boolean bodyStreamed) {
        Capabilities.Cap cap;
        try {
            cap = caps.use(from, f.invocationId(), f.capId());
        } catch (Capabilities.CapabilityException e) {
            foreign(from, f.invocationId(), e, "fetch");
            refused(f.invocationId(), f.method(), size(f.body()));
            from.post(new Message.CallFailed(f.callId(), CODE, e.getMessage()));
            return;
        }
        java.util.function.Consumer<Message> reply = recorded(f.invocationId(), f.method(), cap, size(f.body()),
                from.link(f.callId(), bodyStreamed));
        if (!(cap.target instanceof Capabilities.AtAddress a)) {
            reply.accept(new Message.CallFailed(f.callId(), CODE, "This RPC stub has no fetch(): it is not a durable object or a worker entrypoint."));
            return;
        }
        Message.CallStart call = new Message.CallStart(f.invocationId(), f.callId(), a.address(), f.method(), f.url(),
                f.headers(), f.body());
        Thread.startVirtualThread(() -> fetches.call(a.tenant(), call, reply));
    }

    private void run(SandboxProcess from, java.util.function.Consumer<Message> reply, Message.CapCall c,
                     Capabilities.Cap cap, byte[] args) {
        RpcRelay relay = new RpcRelay(c.callId(), reply, caps, c.invocationId());
        switch (cap.target) {
            case Capabilities.Exported e -> {
                long invocationId = invocationIds.getAsLong();
                if (!(e.sandbox() instanceof SandboxProcess exporter)) throw new IllegalStateException("not a sandbox");
                // The call runs inside the invocation that passed the export while that one lives (the
                // sandbox decides the same way): stubs in its arguments are that invocation's.
                boolean inside = exporter.runs(e.invocation());
                if (inside) caps.runsInside(invocationId, e.invocation());
                caps.deliver(args, inside ? e.invocation() : invocationId);
                exporter.start(invocationId, new Message.CapStart(invocationId, e.exportId(), c.method(), args), relay, true);
            }
            case Capabilities.AtAddress a -> {
                DeployedWorker target = callable.apply(a.tenant(), a.address());
                if (target == null) {
                    caps.discard(args);
                    reply.accept(new Message.CallFailed(c.callId(), CODE,
                            "The RPC stub points to a worker that is no longer loaded."));
                    return;
                }
                long invocationId = invocationIds.getAsLong();
                caps.deliver(args, invocationId);
                supervisor.rpc(target.tenant(), new Message.RpcStart(invocationId, a.address(), c.method(), args), relay);
            }
            case Capabilities.Java j -> {
                if (CapPayload.hasRefs(args)) {
                    caps.discard(args);
                    reply.accept(new Message.RpcResult(c.callId(), error(RpcError.Type.TYPE_ERROR,
                            "A Java capability takes plain values only: no functions, RpcTargets or stubs."), true));
                    return;
                }
                reply.accept(callJava(c.callId(), j, c.method(), args));
            }
        }
    }

    private static Message callJava(long callId, Capabilities.Java j, String method, byte[] args) {
        if (args == null) {
            return new Message.RpcResult(callId, error(RpcError.Type.TYPE_ERROR,
                    "\"" + method + "\" is a method of a Java capability: call it."), true);
        }
        List<Object> list;
        try {
            Object decoded = StructuredValues.decode(args);
            if (!(decoded instanceof List<?> l)) throw new RpcError(RpcError.Type.TYPE_ERROR, "the arguments are not an array");
            list = new ArrayList<>(l);
        } catch (RpcError e) {
            return new Message.RpcResult(callId, error(RpcError.Type.TYPE_ERROR,
                    "Java capability " + j.name() + ": " + e.getMessage()), true);
        }
        Object result;
        try {
            result = j.object().call(method, list);
        } catch (CapabilityError e) {
            return new Message.RpcResult(callId, error(errorType(e.type()), e.getMessage()), true);
        } catch (Exception | LinkageError e) {
            log.warn("Java capability {} failed on {}: {}", j.name(), method, e.toString());
            return new Message.RpcResult(callId, error(RpcError.Type.ERROR,
                    "internal error in capability " + j.name()), true);
        }
        try {
            return new Message.RpcResult(callId, StructuredValues.encode(result), false);
        } catch (IllegalArgumentException e) {
            // The result has no JS form: the capability's bug, told to the operator.
            log.warn("Java capability {} returned a value JavaScript cannot take: {}", j.name(), e.getMessage());
            return new Message.RpcResult(callId, error(RpcError.Type.ERROR,
                    "internal error in capability " + j.name()), true);
        }
    }

    /** The bytes of a JS error of {@code type} with {@code message}, as an RPC result that threw. */
    static byte[] error(RpcError.Type type, String message) {
        return StructuredValues.encode(new RpcError(type, message));
    }

    /** The standard JS error named {@code name} (a {@link CapabilityError}'s type); another name is Error. */
    private static RpcError.Type errorType(String name) {
        for (RpcError.Type t : RpcError.Type.values()) if (t.jsName().equals(name)) return t;
        return RpcError.Type.ERROR;
    }

    /** The env bindings of a dynamic worker from its parent's accepted env capabilities (null: none). */
    List<Binding> envBindings(byte[] envCaps, String workerId, String sandboxTenant) {
        if (envCaps == null) return List.of();
        List<String> names;
        try {
            names = List.of(new ObjectMapper().readValue(new String(CapPayload.decode(envCaps).value(),
                    StandardCharsets.UTF_8), String[].class));
        } catch (Exception e) {
            caps.discard(envCaps);
            return List.of();
        }
        List<Capabilities.EnvRef> ids = caps.deliverToWorker(envCaps, workerId, sandboxTenant);
        List<Binding> out = new ArrayList<>();
        for (int i = 0; i < ids.size() && i < names.size(); i++) {
            out.add(new Binding.Capability(names.get(i), ids.get(i).capId(), ids.get(i).shape()));
        }
        return out;
    }
}
