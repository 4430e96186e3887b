package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.function.Consumer;

/**
 * What the sandboxes tell the node, handed to the part of the node that owns it: log lines to the
 * log hub and tails, subrequests to the egress gateway, calls and RPC to {@link WorkerCalls},
 * loads to {@link DynamicLoads}, alarms set to the alarm index, capability messages to
 * {@link CapabilityCalls}. It decides which thread each one runs on: what cannot wait runs on the
 * sandbox's reader thread (so it is ordered with the messages after it), what may wait gets a
 * virtual thread of its own.
 *
 * <p>The supervisor needs these events before the node's parts that they reach exist (those
 * parts need the supervisor), so the parts are read from the node when an event comes.
 */
final class NodeEvents implements SandboxEvents {
    private static final Logger log = LoggerFactory.getLogger(NodeEvents.class);

    private final Node node;

    NodeEvents(Node node) {
        this.node = node;
    }

    @Override
    public void log(Message.LogLine line) {
        node.logs.accept(line);
        node.tails.log(line);
    }

    @Override
    public InvocationListener watch(String tenant, long invocationId, Message start, InvocationListener listener) {
        return node.loads.watch(tenant, invocationId, start, listener);
    }

    @Override
    public void egress(SandboxProcess from, Message message) {
        if (node.loads.refusesNetwork(from, message)) return;
        node.egress.receive(new EgressGateway.Origin(from, from.tenant()), message);
    }

    @Override
    public InvocationListener admit(String tenant, long invocationId, String workerId, List<Message.Header> headers,
                                    InvocationListener listener) {
        InvocationRecords.Record record = node.invocationRecords.admit(tenant, invocationId, workerId, headers, listener);
        return record == null ? null : new RecordedInvocation(listener, record, node.invocationRecords, node.egress);
    }

    @Override
    public void sandboxGone(SandboxProcess sandbox) {
        node.caps.sandboxGone(sandbox);
        node.egress.sandboxGone(sandbox);
        node.dynamicWorkers.sandboxGone(sandbox.tenant());
        node.calls.pendingLoads.gone(sandbox);
    }

    @Override
    public void call(String tenant, Message.CallStart call, Consumer<Message> reply) {
        // Starting the callee may wait for a sandbox: never on the caller's reader thread.
        // When it cannot wait (the callee's sandbox is up), it starts here: no thread
        // started and woken per call.
        WorkerCalls calls = node.calls;
        if (!calls.callAtOnce(tenant, call, reply)) {
            Thread.startVirtualThread(() -> calls.call(tenant, call, reply));
        }
    }

    @Override
    public void call(SandboxProcess from, Message.CallStart sent, Consumer<Message> reply) {
        // Stubs in the target's props are taken in now, on the reader thread, as RPC arguments are.
        Message.CallStart call;
        try {
            call = new Message.CallStart(sent.invocationId(), sent.callId(),
                    node.caps.acceptTarget(from, sent.invocationId(), sent.target(), node.calls::mayCall),
                    sent.method(), sent.url(), sent.headers(), sent.body());
        } catch (Capabilities.CapabilityException e) {
            reply.accept(new Message.CallFailed(sent.callId(), CapabilityCalls.CODE, e.getMessage()));
            return;
        }
        if (call.target() != sent.target() && reply instanceof CallerLink link) {
            // A call that fails before its callee starts (its load failed, its target cannot be
            // called) lets go of the props' refs; once delivered they are the callee's (a no-op then).
            byte[] props = Capabilities.propsOf(call.target());
            reply = link.observed(m -> {
                if (m instanceof Message.CallFailed) node.caps.discard(props);
            });
        }
        if (!node.calls.pendingLoads.take(from, call, reply)) call(from.tenant(), call, reply); // a first call behind its load?
    }

    @Override
    public void localInvocation(SandboxProcess from, Message.LocalInvocation notice) {
        node.calls.localInvocation(from, notice);
    }

    @Override
    public void alarmSet(String tenant, Message.AlarmSet change) {
        DeployedWorker w = node.deployments.deployed(change.target().workerId());
        if (w != null && w.tenant().equals(tenant)) node.alarms.set(tenant, change.target(), change.epochMillis());
        else if (node.facets.runs(tenant, change.target())) {
            node.alarms.set(tenant, Facets.alarmAddress(change.target()), change.epochMillis());
        }
        else log.warn("a sandbox of tenant {} set an alarm for an object it does not run", tenant);
    }

    @Override
    public void rpc(String tenant, Message.RpcCall call, Consumer<Message> reply) {
        Thread.startVirtualThread(() -> node.calls.rpc(tenant, call, reply));
    }

    @Override
    public void rpc(SandboxProcess from, Message.RpcCall call, Consumer<Message> reply) {
        // A facet's abort or delete is noted now, on the reader thread: calls the caller
        // sends after it wait until it is done.
        node.facets.arrived(call);
        // Capabilities in the arguments are taken in now, on the reader thread, before any
        // later message of the caller (a release of a stub it passed on) is read.
        WorkerCalls calls = node.calls;
        byte[] args = null;
        dev.bulwark.sandbox.ipc.Address target;
        try {
            args = node.caps.accept(from, call.invocationId(), call.args(), calls::mayCall);
            target = node.caps.acceptTarget(from, call.invocationId(), call.target(), calls::mayCall); // stubs in its props
        } catch (Capabilities.CapabilityException e) {
            if (args != null) node.caps.discard(args);
            reply.accept(new Message.CallFailed(call.callId(), CapabilityCalls.CODE, e.getMessage()));
            return;
        }
        Message.RpcCall accepted = new Message.RpcCall(call.invocationId(), call.callId(), target,
                call.method(), args);
        Thread.startVirtualThread(() -> calls.rpc(from.tenant(), accepted, reply));
    }

    @Override
    public void capabilities(SandboxProcess from, Message message) {
        node.capCalls.receive(from, message);
    }

    @Override
    public void loadDynamic(SandboxProcess from, Message.LoadDynamic request, Consumer<Message> reply) {
        node.loads.loadDynamic(from, request, reply);
    }

    @Override
    public void loadDynamic(String tenant, Message.LoadDynamic request, Consumer<Message> reply) {
        // Loading may wait for the tenant's sandbox for generated code to start.
        Thread.startVirtualThread(() -> node.loads.loadDynamic(tenant, request, reply));
    }
}
