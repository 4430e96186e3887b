package dev.bulwark.server.node;

import dev.bulwark.objects.java.JavaObjects;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.CapPayload;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.FacetIds;
import dev.bulwark.sandbox.ipc.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The calls the node relays between workers (workerd's {@code IoChannelFactory} side of a
 * subrequest to another worker or object): who may call what, and where the callee's invocation
 * starts. A fetch ({@code CallStart}) or RPC ({@code RpcCall}) of a worker goes to a facet, a
 * durable object implemented in Java (run in the node), or a worker or object in a sandbox where
 * the directory places it; a call a sandbox made between its own isolates is checked and recorded
 * ({@code LocalInvocation}); an alarm runs where its object is placed. A worker can reach only
 * what its tenant owns (or, for generated code, what it was granted), whatever its sandbox claims.
 */
final class WorkerCalls {
    private static final Logger log = LoggerFactory.getLogger(WorkerCalls.class);

    /** Calls carrying at most this much body may start on the caller's reader thread ({@link #callAtOnce}). */
    private static final int AT_ONCE_BODY_BYTES = 64 << 10;

    /** The no-op end of a local invocation's record: the sandbox answers the caller itself. */
    private static final InvocationListener LOCAL = new InvocationListener.NoResponse() {
        public void failed(Message.InvocationFailed failure) {}
        public void rpcReturn(Message.RpcReturn result) {}
        public void done(long cpuMicros) {}
    };

    /** Sandbox-chosen invocation ids: bit 52 set, below 2^53 (the node's own are below 2^52). */
    private static final long LOCAL_ID_BIT = 1L << 52;

    private final SandboxSupervisor supervisor;
    private final Deployments deployments;
    private final DynamicWorkers dynamicWorkers;
    private final Facets facets;
    private final Capabilities caps;
    private final JavaObjects javaObjects;
    private final SocketHub sockets;
    private final InvocationRecords invocationRecords;
    private final EgressGateway egress;
    private final LongSupplier invocationIds;
    private final AtomicLong relayedCalls = new AtomicLong();
    private final AtomicLong localCalls = new AtomicLong();
    /** First calls sent right behind their dynamic worker's load, held until it is answered. */
    final PendingLoads pendingLoads = new PendingLoads((tenant, call, reply) -> {
        if (!callAtOnce(tenant, call, reply)) Thread.startVirtualThread(() -> call(tenant, call, reply));
    });

    WorkerCalls(SandboxSupervisor supervisor, Deployments deployments, DynamicWorkers dynamicWorkers, Facets facets,
                Capabilities caps, JavaObjects javaObjects, SocketHub sockets, InvocationRecords invocationRecords,
                EgressGateway egress, LongSupplier invocationIds) {
        this.supervisor = supervisor;
        this.deployments = deployments;
        this.dynamicWorkers = dynamicWorkers;
        this.facets = facets;
        this.caps = caps;
        this.javaObjects = javaObjects;
        this.sockets = sockets;
        this.invocationRecords = invocationRecords;
        this.egress = egress;
        this.invocationIds = invocationIds;
    }

    /**
     * A worker of {@code tenant} calls a durable object: the node starts an invocation of it where
     * the directory places it, and carries its response back. A worker can reach only the objects
     * of its own tenant's workers, whatever its sandbox claims.
     */
    void call(String tenant, Message.CallStart call, Consumer<Message> reply) {
        relayedCalls.incrementAndGet();
        if (Facets.concerns(call.target())) {
            facets.call(tenant, call, reply);
            return;
        }
        if (call.target() instanceof Address.DurableObject o && ObjectDirectory.runsInNode(o)) {
            if (call.method().equals("CONNECT")) {
                // A stub's connect() (sockets.js): a Java object has no connect handler (workerd's words).
                reply.accept(new Message.CallFailed(call.callId(), ErrorCode.NOT_FOUND.code(),
                        "Handler does not export a connect() function."));
                return;
            }
            CallerLink link = CallerLink.of(reply);
            if (link != null && link.bodyStreamed()) {
                // A Java object takes its request whole: a streamed body is read first (up to 8 MiB).
                CallBodyCollector.collect(call, link, whole -> reply.accept(JavaObjectCalls.fetch(javaObjects, tenant, o, whole)));
                return;
            }
            reply.accept(JavaObjectCalls.fetch(javaObjects, tenant, o, call));
            return;
        }
        // A facet of a deployed worker's own class is an object of it: an abort or delete its parent sent before goes first.
        if (call.target() instanceof Address.DurableObject o) facets.awaitResets(o.objectId());
        DeployedWorker target = callable(tenant, call.invocationId(), call.target());
        if (target == null) {
            reply.accept(new Message.CallFailed(call.callId(), ErrorCode.NOT_FOUND.code(),
                    "no worker '" + call.target().workerId() + "' can be called from this worker"));
            return;
        }
        start(target, call, reply, false);
    }

    /**
     * {@link #call}, when nothing in it can wait: the target is a worker or object of a sandbox
     * that is up (not a facet, not a Java object, no sandbox to start), and the body is small. The
     * same checks and the same invocation as {@link #call}; false when the call must take the
     * slow path (then nothing was done).
     */
    boolean callAtOnce(String tenant, Message.CallStart call, Consumer<Message> reply) {
        if (Facets.concerns(call.target())) {
            if (call.body() != null && call.body().length > AT_ONCE_BODY_BYTES) return false;
            if (!facets.callAtOnce(tenant, call, reply)) return false;
            relayedCalls.incrementAndGet();
            return true;
        }
        if (call.target() instanceof Address.DurableObject o && ObjectDirectory.runsInNode(o)) return false;
        if (call.body() != null && call.body().length > AT_ONCE_BODY_BYTES) return false;
        if (call.target() instanceof Address.DurableObject o && facets.resetPending(o.objectId())) return false;
        DeployedWorker target = callable(tenant, call.invocationId(), call.target());
        if (target == null || !supervisor.ready(target.tenant())) return false;
        relayedCalls.incrementAndGet();
        start(target, call, reply, true);
        return true;
    }

    /**
     * @param atOnce on a sandbox's reader thread: the callee's start is posted, never waited for on
     *               its socket (two sandboxes' readers, each waiting on the other's full socket, would
     *               wait for ever)
     */
    private void start(DeployedWorker target, Message.CallStart call, Consumer<Message> reply, boolean atOnce) {
        long invocationId = invocationIds.getAsLong();
        caps.deliver(Capabilities.propsOf(call.target()), invocationId); // stubs in the props: the callee's, for this call
        // A socket in the response may be passed on by the caller (a supervisor's facet's socket, one more hop).
        CallRelay relay = new CallRelay(call.callId(), invocationId, sockets.offering(call.invocationId(), reply));
        Message.FetchStart start = new Message.FetchStart(invocationId, call.target(),
                call.method(), call.url(), call.headers(), call.body(), relay.streamsBody());
        relay.connect(atOnce ? supervisor.fetchAtOnce(target.tenant(), start, relay) : supervisor.fetch(target.tenant(), start, relay));
    }

    /** An RPC call of a worker of {@code tenant}: placed and checked as {@link #call} is. */
    void rpc(String tenant, Message.RpcCall call, Consumer<Message> reply) {
        relayedCalls.incrementAndGet();
        if (Facets.concerns(call.target())) {
            facets.rpc(tenant, call, reply);
            return;
        }
        if (call.target() instanceof Address.DurableObject o && ObjectDirectory.runsInNode(o)) {
            if (CapPayload.hasRefs(call.args())) {
                caps.discard(call.args());
                reply.accept(new Message.CallFailed(call.callId(), CapabilityCalls.CODE,
                        "A durable object implemented in Java takes plain values only: no functions, RpcTargets or stubs."));
                return;
            }
            reply.accept(JavaObjectCalls.rpc(javaObjects, tenant, o, call));
            return;
        }
        // A facet of a deployed worker's own class is an object of it: an abort or delete its parent sent before goes first.
        if (call.target() instanceof Address.DurableObject o) facets.awaitResets(o.objectId());
        DeployedWorker target = callable(tenant, call.invocationId(), call.target());
        if (target == null) {
            caps.discard(call.args());
            caps.discard(Capabilities.propsOf(call.target()));
            reply.accept(new Message.CallFailed(call.callId(), ErrorCode.NOT_FOUND.code(),
                    "no worker '" + call.target().workerId() + "' can be called from this worker"));
            return;
        }
        long invocationId = invocationIds.getAsLong();
        caps.deliver(call.args(), invocationId);
        caps.deliver(Capabilities.propsOf(call.target()), invocationId); // stubs in the props: the callee's, for this call
        supervisor.rpc(target.tenant(), new Message.RpcStart(invocationId, call.target(), call.method(), call.args()),
                new RpcRelay(call.callId(), reply, caps, call.invocationId()));
    }

    /** Whether a worker of {@code tenant} may call {@code address} (and so pass a stub to it on). */
    boolean mayCall(String tenant, Address address) {
        return callable(tenant, 0, address) != null;
    }

    /**
     * The worker behind an address that invocation {@code invocationId} of a sandbox of {@code tenant}
     * may call, or null. A tenant's own workers may call its durable objects, its deployed workers
     * (service bindings, ctx.exports) and its dynamic workers, whatever its sandbox claims. A
     * dynamic worker (a sandbox for generated code) may call only what it was granted: its own
     * entrypoints (ctx.exports) and the exact grants in its bindings (globalOutbound), props included.
     */
    DeployedWorker callable(String tenant, long invocationId, Address address) {
        if (DynamicWorkers.isGenerated(tenant)) return callableFromGenerated(tenant, invocationId, address);
        return switch (address) {
            case Address.DurableObject o -> deployments.deployedOf(tenant, o.workerId());
            case Address.Worker w -> {
                DeployedWorker dynamic = dynamicWorkers.callable(tenant, w.workerId());
                yield dynamic != null ? dynamic : deployments.deployedOf(tenant, w.workerId());
            }
        };
    }

    private DeployedWorker callableFromGenerated(String tenant, long invocationId, Address address) {
        InvocationRecords.Record caller = invocationRecords.get(invocationId);
        if (caller == null || !caller.tenant().equals(tenant) || !(address instanceof Address.Worker w)) return null;
        DeployedWorker self = dynamicWorkers.get(caller.worker());
        if (self == null || !self.tenant().equals(tenant)) return null;
        if (!Grants.allows(self, w)) return null;
        return w.workerId().equals(self.name()) ? self : deployments.deployedOf(DynamicWorkers.tenantOf(tenant), w.workerId());
    }

    /**
     * A sandbox says it started an invocation of an object placed in it (a call between two of its
     * own isolates, made without the node). The node checks what it would have checked for a
     * relayed call (the object is its tenant's, and placed in that very sandbox) and records the
     * invocation as one it started, so the callee's outbound requests are attributed and its end is
     * logged. A notice that does not check out is refused and logged; the sandbox, which alone could
     * send it, can then reach nothing outbound for that invocation.
     */
    void localInvocation(SandboxProcess from, Message.LocalInvocation notice) {
        long id = notice.invocationId();
        Address.DurableObject target = notice.target();
        if ((id & ~(LOCAL_ID_BIT - 1)) != LOCAL_ID_BIT || callable(from.tenant(), id, target) == null
                || supervisor.placement(target) != from) {
            refusedLocal(from, id, target);
            return;
        }
        // No loop headers (a request with them goes through the node): the loop limits cannot refuse it.
        InvocationRecords.Record record = invocationRecords.admit(from.tenant(), id, target.workerId(), List.of(), LOCAL);
        if (record == null) return;
        InvocationListener watched = facets.watch(id, target, new RecordedInvocation(LOCAL, record, invocationRecords, egress));
        // Held on the object's placement until it is done, so an eviction notice cannot drop it meanwhile.
        InvocationListener listener = supervisor.holdLocal(target, from, watched);
        if (listener == null) {
            invocationRecords.done(id);
            refusedLocal(from, id, target);
            return;
        }
        if (!from.track(id, listener)) {
            supervisor.letGoLocal(target, from);
            invocationRecords.done(id);
            log.warn("sandbox {} announced local invocation {} twice or while dying", from.name(), LogHub.requestId(id));
            return;
        }
        localCalls.incrementAndGet();
    }

    private static void refusedLocal(SandboxProcess from, long id, Address.DurableObject target) {
        log.warn("sandbox {} of tenant {} announced a local invocation it may not make ({} {}.{})", from.name(),
                from.tenant(), LogHub.requestId(id), target.workerId(), target.className());
    }

    /** Runs an object's alarm handler where the directory places the object. */
    void runAlarm(String tenant, Address.DurableObject object, long scheduledTime, int retryCount, Consumer<Boolean> done) {
        if (ObjectDirectory.runsInNode(object)) {
            Thread.startVirtualThread(() -> done.accept(javaObjects.alarm(tenant, object.className(), object.objectId(),
                    object.name(), retryCount)));
            return;
        }
        if (FacetIds.isFacet(object) || FacetIds.CONTROL_WORKER.equals(object.workerId())) {
            // A facet's alarm fires where its current code version runs, or, when nothing started
            // it since the node started, at its last code version from the facet index.
            Thread.startVirtualThread(() -> {
                Address.DurableObject target = facets.startFor(object.objectId());
                if (target == null) {
                    done.accept(facets.get(object.objectId()) == null); // a deleted facet's alarm is dropped
                    return;
                }
                supervisor.alarm(tenant, new Message.AlarmStart(invocationIds.getAsLong(), target, scheduledTime, retryCount,
                        retryCount > 0),
                        new AlarmRelay(done));
            });
            return;
        }
        Thread.startVirtualThread(() -> supervisor.alarm(tenant, new Message.AlarmStart(invocationIds.getAsLong(), object,
                scheduledTime, retryCount, retryCount > 0), new AlarmRelay(done)));
    }

    /** Calls from workers to objects and entrypoints the node relayed ({@code CallStart}, {@code RpcCall}). */
    long relayedCalls() {
        return relayedCalls.get();
    }

    /** Calls to objects that sandboxes made without the node and announced ({@code LocalInvocation}). */
    long localCalls() {
        return localCalls.get();
    }
}
