package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.reference.V8ValueObject;
import com.caoccao.javet.values.reference.V8ValuePromise;
import com.caoccao.javet.values.reference.V8ValueTypedArray;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.LoadDynamicParts;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.ipc.ObjectIds;
import dev.bulwark.sandbox.worker.Binding;

/**
 * The host functions by which a worker reaches out through the node: its durable object
 * namespaces (ids, a stub's {@code fetch()} and RPC), its loader binding (loading dynamic workers)
 * and their entrypoints ({@code fetch()} and RPC). Each call is registered under the calling
 * invocation, so its answer is dropped if the invocation ended first; each counts as a
 * subrequest. A binding is named by its index in the loaded worker's bindings: JS never holds
 * anything that names a capability it was not given. Isolate thread only.
 */
final class OutboundCalls {
    private final Isolate isolate;
    /** Service bindings and ctx.exports stubs, which go out through this class. */
    final ServiceCalls serviceCalls;

    OutboundCalls(Isolate isolate) {
        this.isolate = isolate;
        this.serviceCalls = new ServiceCalls(isolate, this);
    }

    /** A namespace binding's id operations: {@code name} and {@code unique} make ids, {@code check} validates one. */
    V8Value objectId(V8Value[] args) throws JavetException {
        Binding.DurableObjectNamespace ns = namespace(HostValues.integer(args, 0));
        String kind = HostValues.string(args, 1), arg = HostValues.string(args, 2);
        byte[] key = ns.namespaceKey();
        return switch (kind == null ? "" : kind) {
            case "name" -> isolate.runtime.createV8ValueString(ObjectIds.fromName(key, arg));
            case "unique" -> isolate.runtime.createV8ValueString(ObjectIds.unique(key));
            case "check" -> isolate.runtime.createV8ValueBoolean(ObjectIds.belongsTo(key, arg));
            default -> throw new IllegalArgumentException("unknown id operation " + kind);
        };
    }

    Binding.DurableObjectNamespace namespace(int index) {
        if (isolate.worker != null && index >= 0 && index < isolate.worker.bindings().size()) {
            switch (isolate.worker.bindings().get(index)) {
                case Binding.DurableObjectNamespace ns -> {
                    return ns;
                }
                // ctx.exports.ClassName: the worker's own class.
                case Binding.ExportedNamespace e -> {
                    return new Binding.DurableObjectNamespace(e.name(), isolate.worker.workerId(), e.className(),
                            e.namespaceKey());
                }
                case Binding.WorkerLoader l -> { }
                case Binding.Service sv -> { }
                case Binding.Outbound o -> { }
                case Binding.Tail t -> { }
                case Binding.Capability c -> { }
            }
        }
        throw new IllegalArgumentException("no such durable object namespace");
    }

    /** A stub's fetch(): the node routes it to the object, which may live in another sandbox. */
    V8Value callObject(V8Value[] args) throws Exception {
        dev.bulwark.sandbox.trace.LatencyTrace.stamp("js.callObject", 0);
        Binding.DurableObjectNamespace ns = namespace(HostValues.integer(args, 0));
        String id = HostValues.string(args, 1);
        if (!ObjectIds.belongsTo(ns.namespaceKey(), id)) throw new IllegalArgumentException("ID is not for this namespace.");
        Address target = new Address.DurableObject(ns.workerId(), ns.className(), id, HostValues.string(args, 2));
        return call(target, args, 3);
    }

    /**
     * A dynamic worker's entrypoint's fetch(): {@code (workerId, entrypoint, props, cpuMs, subRequests,
     * method, url, headers, body)}; props, cpuMs and subRequests are what getEntrypoint(name,
     * {props, limits}) fixed (null: none).
     */
    V8Value callWorker(V8Value[] args) throws Exception {
        String workerId = HostValues.string(args, 0);
        if (workerId.startsWith(LOAD_PREFIX) && !followsLoad(workerId, args, 5)) return isolate.runtime.createV8ValueNull();
        return call(new Address.Worker(workerId, HostValues.string(args, 1), grant(args, 2)), args, 5);
    }

    /** How a call names the load it follows (the node's PendingLoads): never a worker id. */
    static final String LOAD_PREFIX = "load:";

    /** Loads with code sent and not answered yet, by call id: the invocation each was sent in. */
    private final java.util.Map<Long, Long> pendingLoads = new java.util.HashMap<>();

    /**
     * Whether a call may go right behind the load it names ({@code load:<callId>}): the load is still
     * unanswered, was sent in this invocation, no call followed it yet, and the body is bytes (a
     * streamed body waits for the worker's id). False: the prelude waits for the load and calls
     * the worker by its id.
     */
    private boolean followsLoad(String workerId, V8Value[] args, int from) throws Exception {
        long loadCallId;
        try {
            loadCallId = Long.parseLong(workerId.substring(LOAD_PREFIX.length()));
        } catch (NumberFormatException e) {
            return false;
        }
        V8Value body = args.length > from + 3 ? args[from + 3] : null;
        if (body != null && !body.isNullOrUndefined() && !(body instanceof V8ValueTypedArray)) return false;
        Long sentIn = pendingLoads.get(loadCallId);
        if (sentIn == null || sentIn != isolate.currentInvocation()) return false;
        pendingLoads.remove(loadCallId);
        return true;
    }

    /** The grant of {@code args[from..from+2]}: props bytes, cpuMs, subRequests (each may be null); null if none. */
    static Address.Grant grant(V8Value[] args, int from) throws Exception {
        byte[] props = args.length > from && args[from] instanceof V8ValueTypedArray
                ? HostValues.boundedBytes(args, from, ServiceCalls.MAX_PROPS_BYTES, "getEntrypoint: the props") : null;
        long cpuMs = args.length > from + 1 && !ServiceCalls.absent(args[from + 1])
                ? (long) Math.max(0, Math.min(Long.MAX_VALUE, HostValues.number(args, from + 1))) : -1;
        int subrequests = args.length > from + 2 && !ServiceCalls.absent(args[from + 2])
                ? (int) Math.max(0, Math.min(Integer.MAX_VALUE, HostValues.number(args, from + 2))) : -1;
        Address.Grant g = new Address.Grant(props, cpuMs, subrequests);
        return g.isEmpty() ? null : g;
    }

    Invocation callingInvocation(String what) {
        Invocation inv = isolate.invocations.get(isolate.currentInvocation());
        if (inv == null || inv.isFinished()) {
            throw new IllegalStateException(what + " can only be called while handling a request");
        }
        return inv;
    }

    /**
     * Sends a fetch to another address through the node; {@code args[from..]} are method, url,
     * header lines and body. Counts as a subrequest of the calling invocation.
     */
    V8Value call(Address target, V8Value[] args, int from) throws Exception {
        return call(target, args, from, true);
    }

    /** {@link #call(Address, V8Value[], int)}; {@code mayRunLocally} false: always through the node (facets). */
    V8Value call(Address address, V8Value[] args, int from, boolean mayRunLocally) throws Exception {
        Invocation inv = callingInvocation("a durable object or dynamic worker");
        isolate.countSubrequest(inv);
        Address target = isolate.caps.outboundTarget(address, inv);
        return send(inv, countedIn(inv, address), args, from, mayRunLocally ? target : null,
                (callId, method, url, headers, body, streamed) -> streamed
                ? new Message.StreamedCallStart(inv.id, callId, target, method, url, headers)
                : new Message.CallStart(inv.id, callId, target, method, url, headers, body));
    }

    /**
     * Where a call of {@code inv} to {@code target} counts until it is answered, for the isolate's
     * hang detection: a call to another worker or to a durable object is work elsewhere that may
     * settle anything when it comes back, as a fetch is ({@link Invocation#external}); a call to
     * this worker's own entrypoints may be the very call that waits on the invocation the check
     * looks at (a request that awaits its own call to itself), so it only delays the check.
     */
    private InFlight countedIn(Invocation inv, Address target) {
        return target instanceof Address.Worker w && isolate.worker != null
                && w.workerId().equals(isolate.worker.workerId()) ? inv.outstanding : inv.external;
    }

    /** Makes the message of a fetch through the node under its call id ({@code body} null and {@code streamed}: pulled). */
    interface FetchMessage {
        Message make(long callId, String method, String url, java.util.List<Message.Header> headers, byte[] body,
                     boolean streamed);
    }

    /**
     * Sends a fetch of {@code inv} ({@code args[from..]}: method, url, header lines, body) as the
     * message {@code make} builds, counted in {@code counted} until it is over ({@link Invocation});
     * resolves to the host's response. {@code local}: the address, when
     * an object placed in this sandbox may take it without the node (null: always the node).
     *
     * <p>The body is bytes (at most {@link HostLimits#MAX_CALL_PAYLOAD}, in the start message), or a
     * number: the prelude's token of a stream it registered (egress.js), pulled piece by piece by
     * the callee through {@link Message.CallBodyPull}s. The response comes back whole
     * ({@link Message.CallResult}) or streamed ({@link Message.CallHead}, chunks, {@link Message.CallEnd}),
     * its body then read through the same stream machinery as a subrequest's.
     */
    V8Value send(Invocation inv, InFlight counted, V8Value[] args, int from, Address local, FetchMessage make)
            throws Exception {
        // Sizes are checked before anything is copied.
        String method = HostValues.boundedString(args, from, HostLimits.MAX_METHOD_CHARS, "fetch: the method");
        String url = HostValues.boundedString(args, from + 1, HostLimits.MAX_URL_CHARS, "fetch: the URL");
        java.util.List<Message.Header> headers = HostValues.boundedHeaders(args, from + 2, "fetch: the request headers");
        V8Value bodyArg = args.length > from + 3 ? args[from + 3] : null;
        byte[] body = bodyArg instanceof V8ValueTypedArray
                ? HostValues.boundedBytes(args, from + 3, HostLimits.MAX_CALL_PAYLOAD, "fetch: the request body") : null;
        boolean streamed = body == null && bodyArg != null && !bodyArg.isNullOrUndefined()
                && !(bodyArg instanceof V8ValueTypedArray);
        long token = streamed ? (long) HostValues.number(args, from + 3) : 0;
        // A stub's connect() (sockets.js): a streamed CONNECT to the callee's connect handler, both
        // ways at once, so it is duplex as an egress socket is (Subrequests), and never local.
        boolean socket = streamed && method.equals("CONNECT");
        V8ValuePromise resolver = isolate.runtime.createV8ValuePromise();
        java.util.concurrent.atomic.AtomicBoolean settled = new java.util.concurrent.atomic.AtomicBoolean();
        long[] idHolder = new long[1];
        boolean[] bodyOver = new boolean[1]; // a socket's: its readable side has ended (isolate thread)
        long callId = isolate.services.subrequests().register(inv.id, counted, StreamWire.CALL, socket,
                result -> isolate.enqueue(inv.id, () -> {
                    if (socket) socketAnswer(idHolder[0], token, result, resolver, settled, bodyOver);
                    else answer(idHolder[0], token, result, resolver, settled);
                }),
                () -> isolate.enqueue(0, () -> {
                    if (settled.compareAndSet(false, true)) resolver.close();
                    else isolate.jsRuntime().invokeVoid("callDrop", isolate.runtime.createV8ValueLong(idHolder[0]),
                            isolate.runtime.createV8ValueLong(token));
                }));
        idHolder[0] = callId;
        LocalCalls localCalls = isolate.services.localCalls();
        if (!socket && localCalls != null && local instanceof Address.DurableObject o
                && localCalls.fetch(isolate.outbox, inv.id, callId, o, method, url, headers, body, streamed)) {
            return resolver.getPromise();
        }
        isolate.outbox.send(make.make(callId, method, url, headers, body, streamed));
        if (!socket) return resolver.getPromise();
        // The socket's readable side is this call's body stream: the prelude needs the id now.
        com.caoccao.javet.values.reference.V8ValueArray pair = isolate.runtime.createV8ValueArray();
        try (V8ValuePromise promise = resolver.getPromise()) {
            pair.push(promise, isolate.runtime.createV8ValueDouble(callId));
        }
        return pair;
    }

    /**
     * One message of a connect() call's answer (isolate thread). The head (or a whole answer: its
     * body goes into the socket's readable side, then its end) opens the socket; the end of the
     * body is the callee's half-close, not the end of the call, since the callee may still read:
     * the callee's pulls go on. A failure after that is the node saying the callee's invocation is
     * over (CallRelay.done): nothing more will be pulled, so what the socket still has to write is
     * dropped ({@code callPeerDone}).
     */
    private void socketAnswer(long id, long token, Message result, V8ValuePromise resolver,
                              java.util.concurrent.atomic.AtomicBoolean settled, boolean[] bodyOver) throws JavetException {
        switch (result) {
            case Message.CallResult r -> {
                if (!settled.compareAndSet(false, true)) return;
                try (resolver; V8ValueObject res = isolate.hostResponse(r.status(), r.statusText(), r.headers(), null, null)) {
                    resolver.resolve(res);
                }
                if (r.body() != null && r.body().length > 0) {
                    try (V8ValueTypedArray b = isolate.bytes(r.body())) {
                        isolate.jsRuntime().invokeVoid("subrequestChunk", isolate.runtime.createV8ValueLong(id), b);
                    }
                }
                bodyOver[0] = true;
                isolate.jsRuntime().invokeVoid("subrequestEnd", isolate.runtime.createV8ValueLong(id), isolate.runtime.createV8ValueNull());
            }
            case Message.CallHead h -> {
                if (!settled.compareAndSet(false, true)) return;
                try (resolver; V8ValueObject res = isolate.hostResponse(h.status(), h.statusText(), h.headers(), null, null)) {
                    resolver.resolve(res);
                }
            }
            case Message.CallChunk c -> {
                try (V8ValueTypedArray b = isolate.bytes(c.data())) {
                    isolate.jsRuntime().invokeVoid("subrequestChunk", isolate.runtime.createV8ValueLong(id), b);
                }
            }
            case Message.CallEnd e -> {
                bodyOver[0] = true;
                isolate.jsRuntime().invokeVoid("subrequestEnd", isolate.runtime.createV8ValueLong(id),
                        e.error() == null ? isolate.runtime.createV8ValueNull() : isolate.runtime.createV8ValueString(e.error()));
            }
            case Message.CallBodyPull p -> isolate.jsRuntime().invokeVoid("callBodyPull", isolate.runtime.createV8ValueLong(id),
                    isolate.runtime.createV8ValueLong(token));
            case Message.CallFailed f -> {
                if (settled.compareAndSet(false, true)) {
                    try (resolver) {
                        rejectCall(resolver, f);
                    }
                    return;
                }
                if (!bodyOver[0]) {
                    bodyOver[0] = true;
                    isolate.jsRuntime().invokeVoid("subrequestEnd", isolate.runtime.createV8ValueLong(id),
                            isolate.runtime.createV8ValueString(f.message()));
                }
                isolate.jsRuntime().invokeVoid("callPeerDone", isolate.runtime.createV8ValueLong(token));
            }
            default -> throw new IllegalStateException("unexpected call result " + result);
        }
    }

    /** One message of a call's answer, on the isolate thread. */
    private void answer(long id, long token, Message result, V8ValuePromise resolver,
                        java.util.concurrent.atomic.AtomicBoolean settled) throws JavetException {
        switch (result) {
            case Message.CallResult r -> {
                if (!settled.compareAndSet(false, true)) return;
                try (resolver; V8ValueObject res = isolate.hostResponse(r.status(), r.statusText(), r.headers(), r.body(), null)) {
                    resolver.resolve(res);
                }
                endUpload(id, token);
            }
            case Message.CallHead h -> {
                if (!settled.compareAndSet(false, true)) return;
                try (resolver; V8ValueObject res = isolate.hostResponse(h.status(), h.statusText(), h.headers(), null, null)) {
                    res.set("stream", (double) id);
                    resolver.resolve(res);
                }
            }
            case Message.CallChunk c -> {
                try (V8ValueTypedArray b = isolate.bytes(c.data())) {
                    isolate.jsRuntime().invokeVoid("subrequestChunk", isolate.runtime.createV8ValueLong(id), b);
                }
            }
            case Message.CallEnd e -> {
                isolate.jsRuntime().invokeVoid("subrequestEnd", isolate.runtime.createV8ValueLong(id),
                        e.error() == null ? isolate.runtime.createV8ValueNull() : isolate.runtime.createV8ValueString(e.error()));
                endUpload(id, token);
            }
            case Message.CallBodyPull p -> {
                if (token != 0) isolate.jsRuntime().invokeVoid("callBodyPull", isolate.runtime.createV8ValueLong(id),
                        isolate.runtime.createV8ValueLong(token));
            }
            case Message.CallFailed f -> {
                if (settled.compareAndSet(false, true)) {
                    try (resolver) {
                        rejectCall(resolver, f);
                    }
                } else {
                    isolate.jsRuntime().invokeVoid("subrequestEnd", isolate.runtime.createV8ValueLong(id),
                            isolate.runtime.createV8ValueString(f.message()));
                }
                endUpload(id, token);
            }
            default -> throw new IllegalStateException("unexpected call result " + result);
        }
    }

    /** The call is over: a request body still being read for it is released (the prelude's reader). */
    private void endUpload(long id, long token) throws JavetException {
        if (token != 0) isolate.jsRuntime().invokeVoid("callDrop", isolate.runtime.createV8ValueLong(id),
                isolate.runtime.createV8ValueLong(token));
    }

    /** {@code stub.method(args)} on a durable object stub: {@code (binding, id, name, method, argsBytes|null)}. */
    V8Value rpcObject(V8Value[] args) throws Exception {
        Binding.DurableObjectNamespace ns = namespace(HostValues.integer(args, 0));
        String id = HostValues.string(args, 1);
        if (!ObjectIds.belongsTo(ns.namespaceKey(), id)) throw new IllegalArgumentException("ID is not for this namespace.");
        return rpc(new Address.DurableObject(ns.workerId(), ns.className(), id, HostValues.string(args, 2)), args, 3);
    }

    /** {@code stub.method(args)} on a dynamic worker's entrypoint: {@code (workerId, entrypoint, props, cpuMs, subRequests, method, argsBytes|null)}. */
    V8Value rpcWorker(V8Value[] args) throws Exception {
        return rpc(new Address.Worker(HostValues.string(args, 0), HostValues.string(args, 1), grant(args, 2)), args, 5);
    }

    /**
     * Sends an RPC call; {@code args[from]} is the method, {@code args[from + 1]} the serialized
     * arguments (null: a property read). Resolves to {@code {value, threw}}. Counts as a subrequest.
     */
    V8Value rpc(Address address, V8Value[] args, int from) throws Exception {
        Invocation inv = callingInvocation("an RPC call");
        isolate.countSubrequest(inv);
        String method = HostValues.string(args, from);
        byte[] payload = HostValues.rpcPayload(args, from + 1);
        // Capabilities in the arguments (and in the props of the target) become the node's:
        // checked and renamed before they leave.
        byte[] wire = isolate.caps.outbound(payload, inv);
        Address target = isolate.caps.outboundTarget(address, inv);
        return rpcSend(inv, countedIn(inv, address), callId -> new Message.RpcCall(inv.id, callId, target, method, wire));
    }

    /**
     * Sends an RPC-shaped call ({@link Message.RpcCall} or {@link Message.CapCall}) made by
     * {@code message} from its call id, counted in {@code counted} until it is answered; resolves to
     * {@code {value, threw}}, the capabilities in the value imported for {@code inv}.
     */
    V8Value rpcSend(Invocation inv, InFlight counted, java.util.function.LongFunction<Message> message) throws Exception {
        V8ValuePromise resolver = isolate.runtime.createV8ValuePromise();
        inv.pendingRpc++;
        long callId = isolate.services.subrequests().register(inv.id, counted, StreamWire.EGRESS, result -> isolate.enqueue(inv.id, () -> {
            inv.pendingRpc--;
            try (resolver) {
                switch (result) {
                    case Message.RpcResult r -> {
                        byte[] value;
                        try {
                            value = isolate.caps.inbound(r.value() == null ? new byte[0] : r.value(), inv.id);
                        } catch (IllegalArgumentException e) {
                            rejectCall(resolver, new Message.CallFailed(0, "internal", "malformed RPC result: " + e.getMessage()));
                            return;
                        }
                        try (V8ValueObject out = isolate.runtime.createV8ValueObject();
                             V8ValueTypedArray v = isolate.bytes(value)) {
                            out.set("value", v);
                            out.set("threw", r.threw());
                            resolver.resolve(out);
                        }
                    }
                    case Message.CallFailed f -> rejectCall(resolver, f);
                    default -> throw new IllegalStateException("unexpected RPC result " + result);
                }
            }
        }), () -> isolate.enqueue(0, resolver::close));
        // Not started locally (LocalCalls) as a fetch to an object in this sandbox is: an RPC's
        // arguments and result may pass capabilities, which only the node can translate between
        // the two invocations.
        isolate.outbox.send(message.apply(callId));
        return resolver.getPromise();
    }

    /**
     * Rejects with a TypeError whose {@code code} property is the failure's code (the prelude reads
     * it) and, when the callee threw, whose {@code thrown} holds its bytes (the prelude rejects with
     * what they decode to instead: rpc.js' fetchFailure).
     */
    void rejectCall(V8ValuePromise resolver, Message.CallFailed f) throws JavetException {
        try (V8ValueObject e = (V8ValueObject) isolate.intrinsicTypeError.callAsConstructor(isolate.runtime.createV8ValueString(f.message()))) {
            e.set("code", f.code());
            if (f.thrown() != null) {
                try (V8ValueTypedArray t = isolate.bytes(f.thrown())) {
                    e.set("thrown", t);
                }
            }
            resolver.reject(e);
        }
    }

    /**
     * A loader binding's request for a dynamic worker: {@code (binding, id, code)} where code is
     * null (is this id loaded?) or {@code {mainModule, names, types, contents, env, network, cpuMs,
     * subRequests}}. Resolves to the dynamic worker's id, or null when only asked and not loaded.
     */
    V8Value loadDynamic(V8Value[] args) throws Exception {
        int index = HostValues.integer(args, 0);
        if (isolate.worker == null || index < 0 || index >= isolate.worker.bindings().size()
                || !(isolate.worker.bindings().get(index) instanceof Binding.WorkerLoader)) {
            throw new IllegalArgumentException("no such worker loader");
        }
        Invocation inv = callingInvocation("the worker loader");
        Message.LoadDynamic request = args.length > 2 && args[2] instanceof V8ValueObject code
                ? DynamicCode.read(code, HostValues.string(args, 1), inv.limits, serviceCalls)
                : new Message.LoadDynamic(0, 0, null, HostValues.string(args, 1), null, null, true, inv.limits);
        V8ValuePromise resolver = isolate.runtime.createV8ValuePromise();
        long[] loadId = new long[1];
        long callId = isolate.services.subrequests().register(inv.id, inv.outstanding, StreamWire.EGRESS, result -> isolate.enqueue(inv.id, () -> {
            pendingLoads.remove(loadId[0]);
            try (resolver) {
                switch (result) {
                    case Message.DynamicLoaded l -> resolver.resolve(isolate.runtime.createV8ValueString(l.workerId()));
                    case Message.CallFailed f when f.code().equals("not_found") && request.bundle() == null ->
                            resolver.resolve(isolate.runtime.createV8ValueNull());
                    case Message.CallFailed f -> rejectCall(resolver, f);
                    default -> throw new IllegalStateException("unexpected load result " + result);
                }
            }
        }), () -> isolate.enqueue(0, () -> {
            pendingLoads.remove(loadId[0]);
            resolver.close();
        }));
        loadId[0] = callId;
        Message.LoadDynamic load = new Message.LoadDynamic(inv.id, callId, isolate.worker.workerId(), request.id(),
                request.bundle(), request.envJson(), request.networkAllowed(), request.limits(), request.bindings(),
                isolate.caps.outbound(request.envCaps(), inv));
        if (load.bundle() == null) isolate.outbox.send(load);
        else for (Message part : LoadDynamicParts.split(load)) isolate.outbox.send(part); // code up to 64 MiB, in chunks
        V8ValuePromise promise = resolver.getPromise();
        if (load.bundle() != null) {
            // The first call may follow the load at once, naming it (the node holds it until the load is answered).
            pendingLoads.put(callId, inv.id);
            promise.set("pending", LOAD_PREFIX + callId);
        }
        return promise;
    }
}
