package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Binding;
import dev.bulwark.sandbox.worker.WorkerCode;
import dev.bulwark.sandbox.ipc.Address;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The node's side of loader bindings ({@code env.LOADER.get/load}): a load is checked (the
 * capabilities it grants name only its parent's tenant; generated code loads nothing), the
 * capabilities its parent put in the env are taken in and granted to the loaded worker, and the
 * first call right behind it is held until it is answered ({@link PendingLoads}). What the loaded
 * worker then does is watched here too: its subrequests are refused when it was given no network,
 * and its invocations report to its tail workers.
 */
final class DynamicLoads {
    private static final Logger log = LoggerFactory.getLogger(DynamicLoads.class);

    private final DynamicWorkers dynamicWorkers;
    private final Deployments deployments;
    private final WorkerCalls calls;
    private final Capabilities caps;
    private final CapabilityCalls capCalls;
    private final InvocationRecords invocationRecords;
    private final Facets facets;
    private final Tails tails;

    DynamicLoads(DynamicWorkers dynamicWorkers, Deployments deployments, WorkerCalls calls, Capabilities caps,
                 CapabilityCalls capCalls, InvocationRecords invocationRecords, Facets facets, Tails tails) {
        this.dynamicWorkers = dynamicWorkers;
        this.deployments = deployments;
        this.calls = calls;
        this.caps = caps;
        this.capCalls = capCalls;
        this.invocationRecords = invocationRecords;
        this.facets = facets;
        this.tails = tails;
    }

    /**
     * A loader binding of a worker of {@code tenant} asks for a dynamic worker. The capabilities it
     * grants (globalOutbound, tails) must name workers of its own tenant: a sandbox cannot hand
     * generated code a way into another tenant, whatever it claims.
     */
    void loadDynamic(String tenant, Message.LoadDynamic request, Consumer<Message> reply) {
        loadDynamic(tenant, request, reply, workerId -> List.of());
    }

    /**
     * A loader binding's request from sandbox {@code from}, with the capabilities its parent put in
     * the env: they are taken in now (on the reader thread, before a later release by the parent is
     * read) and granted to the loaded worker; a load refused or failed before they were granted
     * lets them go at once (an export's disposer runs in the parent), so a refused load leaks none.
     */
    void loadDynamic(Capabilities.Peer from, Message.LoadDynamic request, Consumer<Message> reply) {
        if (request.bundle() == null && request.envCaps() == null) {
            // "Is this id loaded?" waits for nothing (a map lookup): answered here, on the reader
            // thread, not on a thread of its own (dynpath: one hand-over less on a cold get()).
            // The answer is queued for the writer: a reader never blocks on a sandbox's socket.
            loadDynamic(from.tenant(), request, from instanceof SandboxProcess p ? p::post : reply, workerId -> List.of());
            return;
        }
        byte[] envCaps;
        try {
            envCaps = request.envCaps() == null ? null
                    : caps.accept(from, request.invocationId(), request.envCaps(), calls::mayCall);
        } catch (Capabilities.CapabilityException e) {
            reply.accept(new Message.CallFailed(request.callId(), CapabilityCalls.CODE, e.getMessage()));
            return;
        }
        AtomicBoolean granted = new AtomicBoolean();
        AtomicBoolean answered = new AtomicBoolean();
        Consumer<Message> once = m -> {
            if (!answered.compareAndSet(false, true)) return;
            if (envCaps != null && !granted.get()) caps.discard(envCaps);
            // The call that came right behind the load goes on first: it is what the parent waits for.
            calls.pendingLoads.answered(from, request.invocationId(), request.callId(), m);
            reply.accept(m);
        };
        // Read on the reader thread before the call that may follow it: that call finds it.
        calls.pendingLoads.started(from, request.invocationId(), request.callId());
        Function<String, List<Binding>> envBindings = workerId -> {
            granted.set(true);
            return capCalls.envBindings(envCaps, workerId, DynamicWorkers.generatedTenant(from.tenant()));
        };
        Runnable load = () -> {
            try {
                loadDynamic(from.tenant(), request, once, envBindings);
            } catch (RuntimeException e) {
                log.warn("loading a dynamic worker failed", e);
                once.accept(new Message.CallFailed(request.callId(), ErrorCode.INTERNAL.code(),
                        "the dynamic worker could not be loaded"));
            }
        };
        // Loading may wait (for the tenant's sandbox for generated code to start, for another load
        // or an unloading): then on a thread of its own. When nothing can wait it starts here, on
        // the reader thread, and its LoadWorker is posted: one thread woken less per cold load.
        if (dynamicWorkers.loadsAtOnce(from.tenant())) load.run();
        else Thread.startVirtualThread(load);
    }

    /** {@link #loadDynamic(String, Message.LoadDynamic, Consumer)} whose worker gets the env's capabilities {@code envBindings} makes. */
    private void loadDynamic(String tenant, Message.LoadDynamic request, Consumer<Message> reply,
                             Function<String, List<Binding>> envBindings) {
        if (DynamicWorkers.isGenerated(tenant)) {
            reply.accept(new Message.CallFailed(request.callId(), ErrorCode.NOT_FOUND.code(),
                    "a dynamic worker has no worker loader"));
            return;
        }
        if (request.bundle() != null) {
            try {
                // Checked by the sandbox and by the chunked path's assembly; a whole LoadDynamic is checked here.
                WorkerCode.checkFlags(request.bundle().compatibility().flags());
            } catch (WorkerCode.Invalid e) {
                reply.accept(new Message.CallFailed(request.callId(), ErrorCode.WORKER_LOAD_FAILED.code(), e.getMessage()));
                return;
            }
        }
        for (Binding b : request.bindings()) {
            Address target = switch (b) {
                case Binding.Outbound o -> o.target();
                case Binding.Tail t -> t.target();
                case Binding.Service sv -> sv.target();
                case Binding.DurableObjectNamespace ns -> null;
                case Binding.WorkerLoader l -> null;
                case Binding.ExportedNamespace e -> null;
                case Binding.Capability c -> null; // only the node makes these, from envCaps
            };
            if (target == null || deployments.deployedOf(tenant, target.workerId()) == null) {
                reply.accept(new Message.CallFailed(request.callId(), ErrorCode.NOT_FOUND.code(),
                        "a dynamic worker can be given only service bindings and ctx.exports entrypoints of its parent's tenant"));
                return;
            }
        }
        dynamicWorkers.load(tenant, request, reply, envBindings);
    }

    /**
     * Defence in depth behind the sandbox's own check: a dynamic worker whose globalOutbound is null
     * or a fetcher has no egress at all, so a subrequest it sends anyway (its sandbox subverted) is
     * answered with a failure here and never reaches the gateway.
     */
    boolean refusesNetwork(SandboxProcess from, Message message) {
        if (!DynamicWorkers.isGenerated(from.tenant())) return false;
        long invocationId;
        long subrequestId;
        switch (message) {
            case Message.Subrequest s -> {
                invocationId = s.invocationId();
                subrequestId = s.subrequestId();
            }
            case Message.StreamedSubrequest s -> {
                invocationId = s.invocationId();
                subrequestId = s.subrequestId();
            }
            default -> {
                return false; // acknowledgements and body chunks of a subrequest the gateway let through
            }
        }
        InvocationRecords.Record caller = invocationRecords.get(invocationId);
        DeployedWorker worker = caller == null || !caller.tenant().equals(from.tenant()) ? null
                : dynamicWorkers.get(caller.worker());
        if (worker != null && worker.networkAllowed()) return false;
        from.post(new Message.SubrequestFailed(subrequestId, "This worker is not permitted to access the internet "
                + "via global functions like fetch(). It must use capabilities (such as bindings in 'env') to talk to "
                + "the outside world."));
        return true;
    }

    /** An invocation of a dynamic worker that has tails reports to them (see {@link Tails}). */
    InvocationListener watch(String tenant, long invocationId, Message start, InvocationListener listener) {
        listener = facets.watch(invocationId, start, listener);
        if (!DynamicWorkers.isGenerated(tenant)) return listener;
        String workerId = switch (start) {
            case Message.FetchStart f -> f.workerId();
            case Message.RpcStart r -> r.target().workerId();
            default -> null;
        };
        DeployedWorker worker = workerId == null ? null : dynamicWorkers.get(workerId);
        if (worker == null) return listener;
        InvocationRecords.Record record = invocationRecords.get(invocationId);
        return tails.watch(worker, DynamicWorkers.tenantOf(tenant), invocationId, start, listener,
                () -> record == null ? null : record.outbound().snapshot());
    }
}
