package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.reference.V8ValueTypedArray;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.CapPayload;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.ipc.ObjectIds;
import dev.bulwark.sandbox.worker.Binding;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One isolate's side of capabilities passed by reference. JS holds a stub as an index into this
 * isolate's import table; an entry holds the node's capability id and the invocation it was
 * granted to, and an index is usable only by that invocation (a negative index names a
 * {@link Binding.Capability} of the worker's env, usable by any of its invocations). Exports (a
 * function or RpcTarget JS passed) get a sandbox-wide id in {@link CapExports}. Payloads are
 * rewritten at the border both ways, so JS never holds an id the node issued, and the node never
 * sees an index. The node checks every call again: this table is for clear errors and for
 * keeping ids out of JS, not the security boundary. Isolate thread only.
 */
final class CapabilityHost {
    private record Entry(long capId, long holder) {}

    private final Isolate isolate;
    private final Map<Long, Entry> imports = new HashMap<>();
    /** Sandbox-wide export ids by the JS export id they stand for (1:1: JS exports anew each time it sends). */
    private final Map<Long, Long> exportIds = new HashMap<>();
    private long nextIndex = 1;

    CapabilityHost(Isolate isolate) {
        this.isolate = isolate;
    }

    static final String NOT_HELD = "This RPC stub cannot be used here: it was released when the request that "
            + "received it ended.";
    /** workerd's words for I/O objects of another request (here a stub another live invocation holds). */
    static final String OTHER_REQUEST = "Cannot perform I/O on behalf of a different request. I/O objects (such as "
            + "streams, request/response bodies, and others) created in the context of one request handler cannot be "
            + "accessed from a different request's handler. This is a limitation of Cloudflare Workers which allows us "
            + "to improve overall performance.";

    /** A payload JS made, for {@code inv} to send as arguments or an env: see {@link #outbound(byte[], Invocation, boolean)}. */
    byte[] outbound(byte[] js, Invocation inv) {
        return outbound(js, inv, false);
    }

    /**
     * A payload JS made, for {@code inv} to send: exports registered (as {@code inv}'s; {@code
     * result}: a call's result, which outlives {@code inv}), stubs turned into capability ids.
     */
    byte[] outbound(byte[] js, Invocation inv, boolean result) {
        if (!CapPayload.hasRefs(js)) return js;
        CapPayload p = CapPayload.decode(js);
        List<CapPayload.Ref> out = new ArrayList<>(p.refs().size());
        for (CapPayload.Ref ref : p.refs()) {
            out.add(switch (ref) {
                case CapPayload.Export e -> {
                    long id = isolate.services.capExports().register(new CapExports.Export(isolate, e.id(), inv.id, result));
                    exportIds.put(e.id(), id);
                    yield new CapPayload.Export(id);
                }
                case CapPayload.Import i -> new CapPayload.Held(usable(i.index(), inv).capId());
                case CapPayload.ObjectStub s -> {
                    Binding.DurableObjectNamespace ns = isolate.outboundCalls().namespace((int) s.binding());
                    if (!ObjectIds.belongsTo(ns.namespaceKey(), s.id())) throw new IllegalArgumentException("ID is not for this namespace.");
                    yield new CapPayload.Addressed(new Address.DurableObject(ns.workerId(), ns.className(), s.id(), s.name()));
                }
                // A service binding or ctx.exports stub: the address (and grant) the host knows, never JS.
                case CapPayload.Service sv -> new CapPayload.Addressed(
                        isolate.outboundCalls().serviceCalls.address((int) sv.index(), sv.entrypoint(), notPassedOn(sv.props())));
                case CapPayload.Addressed a when a.address() instanceof Address.Worker w -> {
                    if (w.grant() != null) notPassedOn(w.grant().props());
                    yield a;
                }
                case CapPayload.Addressed a -> throw new IllegalArgumentException("malformed RPC payload");
                case CapPayload.Held h -> throw new IllegalArgumentException("malformed RPC payload");
            });
        }
        return p.withRefs(out).encode();
    }

    /**
     * Props with stubs in them are granted to each call's callee for that call (see
     * {@link #outboundTarget}): an entrypoint that carries such props is not passed on (the prelude
     * refuses it first; the node refuses such props in an address too).
     */
    private static byte[] notPassedOn(byte[] props) {
        if (CapPayload.hasRefs(props)) {
            throw new IllegalArgumentException("an entrypoint whose props hold stubs cannot be passed on");
        }
        return props;
    }

    /**
     * The target of a call {@code inv} sends: when the props its granter fixed hold stubs, functions
     * or RpcTargets, those are turned into capability ids for this call (as arguments are; a stub
     * is not moved: the granter keeps its own). The callee holds them for its invocation only.
     */
    Address outboundTarget(Address target, Invocation inv) {
        if (!(target instanceof Address.Worker w) || w.grant() == null || !CapPayload.hasRefs(w.grant().props())) return target;
        Address.Grant g = w.grant();
        return new Address.Worker(w.workerId(), w.entrypoint(),
                new Address.Grant(outbound(g.props(), inv), g.cpuMs(), g.subrequests()));
    }

    /** A payload from the node for invocation {@code holder}: its capability ids become import indexes. */
    byte[] inbound(byte[] wire, long holder) {
        if (!CapPayload.hasRefs(wire)) return wire;
        CapPayload p = CapPayload.decode(wire);
        List<CapPayload.Ref> out = new ArrayList<>(p.refs().size());
        for (CapPayload.Ref ref : p.refs()) {
            if (!(ref instanceof CapPayload.Held h)) throw new IllegalArgumentException("malformed RPC payload from the node");
            long index = nextIndex++;
            imports.put(index, new Entry(h.capId(), holder));
            out.add(new CapPayload.Import(index, h.shape()));
        }
        return p.withRefs(out).encode();
    }

    /**
     * The entry {@code index} names for {@code inv}: its own, or (a call on a callback running
     * inside the invocation that passed it) that invocation's: a callback may return what it holds.
     */
    private Entry usable(long index, Invocation inv) {
        Invocation host = inv.hostedBy;
        if (host == null || host.isFinished() || index < 0) return usable(index, inv.id);
        Entry e = imports.get(index);
        return e != null && e.holder() == host.id ? e : usable(index, inv.id);
    }

    private Entry usable(long index, long invocationId) {
        if (index < 0) {
            int b = (int) (-index - 1);
            if (isolate.worker != null && b < isolate.worker.bindings().size()
                    && isolate.worker.bindings().get(b) instanceof Binding.Capability c) {
                return new Entry(c.capId(), invocationId);
            }
            throw new IllegalStateException(NOT_HELD);
        }
        Entry e = imports.get(index);
        if (e == null) throw new IllegalStateException(NOT_HELD);
        // A holder's imports go when it ends (invocationEnded): this one's is live.
        if (e.holder() != invocationId) throw new IllegalStateException(OTHER_REQUEST + " (I/O type: Client)");
        return e;
    }

    /** {@code capCall(index, method, payload|null)}: a call on a stub; resolves to {@code {value, threw}}. */
    V8Value capCall(V8Value[] args) throws Exception {
        Invocation inv = isolate.outboundCalls().callingInvocation("an RPC stub");
        long index = (long) HostValues.number(args, 0);
        Entry e = usable(index, inv.id);
        isolate.countSubrequest(inv);
        String method = HostValues.boundedString(args, 1, 1024, "an RPC method name");
        byte[] payload = HostValues.rpcPayload(args, 2);
        byte[] wire = outbound(payload, inv);
        // A capability may be a callback into this very isolate: it counts as a call to itself.
        return isolate.outboundCalls().rpcSend(inv, inv.outstanding,
                callId -> new Message.CapCall(inv.id, callId, e.capId(), method == null ? "" : method, wire));
    }

    /**
     * {@code capFetch(index, method, url, headerLines, body|null)}: fetch() on a stub whose
     * capability is a durable object or a worker entrypoint; resolves to the response's parts. The
     * node checks the capability again and routes it to the address only it knows.
     */
    V8Value capFetch(V8Value[] args) throws Exception {
        Invocation inv = isolate.outboundCalls().callingInvocation("an RPC stub");
        Entry e = usable((long) HostValues.number(args, 0), inv.id);
        isolate.countSubrequest(inv);
        return isolate.outboundCalls().send(inv, inv.outstanding, args, 1, null,
                (callId, method, url, headers, body, streamed) -> streamed
                        ? new Message.StreamedCapFetch(inv.id, callId, e.capId(), method, url, headers)
                        : new Message.CapFetch(inv.id, callId, e.capId(), method, url, headers, body));
    }

    /** {@code capRelease(index)}: the stub was disposed (or passed on): the node may let go of it. */
    V8Value capRelease(V8Value[] args) throws JavetException {
        long index = (long) HostValues.number(args, 0);
        Entry e = index > 0 ? imports.remove(index) : null;
        if (e != null) isolate.outbox.send(new Message.CapRelease(e.holder(), List.of(e.capId())));
        return isolate.runtime.createV8ValueUndefined();
    }

    /**
     * {@code capRevoke([exportId...], contextEnded)}: the exporter revokes what it exported (or
     * its durable object was reset, contextEnded true): calls fail from now on.
     */
    V8Value capRevoke(V8Value[] args) throws JavetException {
        List<Long> ids = new ArrayList<>();
        if (args.length > 0 && args[0] instanceof com.caoccao.javet.values.reference.IV8ValueArray a) {
            int n = Math.min(a.getLength(), CapPayload.MAX_REFS * 64);
            for (int i = 0; i < n; i++) {
                Long id = exportIds.get((long) (double) a.getDouble(i));
                if (id != null) ids.add(id);
            }
        }
        boolean contextEnded = args.length > 1 && args[1] instanceof com.caoccao.javet.values.primitive.V8ValueBoolean b && b.getValue();
        if (!ids.isEmpty()) isolate.outbox.send(new Message.CapRevoke(ids, contextEnded));
        return isolate.runtime.createV8ValueUndefined();
    }

    /** Whether something this isolate exported is still held (the node has not dropped it). */
    boolean hasExports() {
        return !exportIds.isEmpty();
    }

    /** The node dropped an export: forget its id. */
    void exportDropped(long localId) {
        exportIds.remove(localId);
    }

    /** An invocation ended: its stubs die with it (the node releases them when it sees the end). */
    void invocationEnded(long invocationId) {
        imports.values().removeIf(e -> e.holder() == invocationId);
    }
}
