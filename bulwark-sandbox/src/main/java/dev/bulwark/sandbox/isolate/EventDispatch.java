package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.V8Runtime;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.primitive.V8ValueBoolean;
import com.caoccao.javet.values.reference.V8ValueObject;
import com.caoccao.javet.values.reference.V8ValueTypedArray;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Limits;

/**
 * How the node's events reach the worker in an isolate: each start message (a fetch, an RPC, a
 * call on an export, an alarm, tail items, a WebSocket event) becomes an invocation of the isolate
 * and one task of it that calls the prelude's dispatcher with the worker's default export, its env
 * and the event's target (the entrypoint or durable object it is for, and the event's own fields).
 * The invocation ends when the dispatcher's promise settles (the isolate's invocationDone). The
 * node's later messages for what runs here come in through this class too (a streamed request
 * body, the acknowledgements of a streamed response, a cancel, an export it dropped), and the
 * prelude's answers go out through its host functions (the response, its body, an RPC's result),
 * each to its {@link Invocation}. The dispatch methods are called on any thread; what they queue,
 * and the host functions, run on the isolate thread.
 */
final class EventDispatch {
    private final Isolate isolate;
    private final V8Runtime runtime;
    private final Outbox outbox;

    /**
     * Made before the prelude is installed (its host functions are bound then); the dispatcher and
     * the prelude's runtime object are the isolate's, read when an event comes.
     */
    EventDispatch(Isolate isolate) {
        this.isolate = isolate;
        this.runtime = isolate.runtime;
        this.outbox = isolate.outbox;
    }

    /** The host functions by which the prelude answers an event: the response, its body, an RPC's result. */
    void install(SocketHost.Binder binder) throws JavetException {
        binder.bind("responseStart", args -> {
            Invocation inv = invocation(args);
            if (inv != null) {
                inv.responseStart(new Message.ResponseHead(inv.id, HostValues.integer(args, 1),
                        HostValues.boundedString(args, 2, HostLimits.MAX_STATUS_TEXT_CHARS, "Response: the status text"),
                        HostValues.boundedHeaders(args, 3, "Response: the headers")));
            }
            return runtime.createV8ValueUndefined();
        });
        binder.bind("responseChunk", args -> {
            Invocation inv = invocation(args);
            byte[] chunk = HostValues.boundedBytes(args, 1, HostLimits.MAX_RESPONSE_CHUNK, "Response: a body chunk");
            return runtime.createV8ValueBoolean(inv == null || inv.responseChunk(chunk));
        });
        // Head, body and end in one crossing, for a response whose body is already bytes.
        binder.bind("responseWhole", args -> {
            Invocation inv = invocation(args);
            dev.bulwark.sandbox.trace.LatencyTrace.stamp("js.responseWhole", inv == null ? 0 : inv.id);
            Message.ResponseHead head = new Message.ResponseHead(inv == null ? 0 : inv.id, HostValues.integer(args, 1),
                    HostValues.boundedString(args, 2, HostLimits.MAX_STATUS_TEXT_CHARS, "Response: the status text"),
                    HostValues.boundedHeaders(args, 3, "Response: the headers"));
            byte[] body = args.length > 4 && args[4] instanceof V8ValueTypedArray
                    ? HostValues.boundedBytes(args, 4, HostLimits.MAX_RESPONSE_CHUNK, "Response: a body chunk") : null;
            if (inv != null) inv.responseWhole(head, body);
            return runtime.createV8ValueUndefined();
        });
        binder.bind("responseEnd", args -> {
            Invocation inv = invocation(args);
            if (inv != null) inv.responseEnd();
            return runtime.createV8ValueUndefined();
        });
        binder.bind("responseError", args -> {
            if (isolate.termination.requested()) return runtime.createV8ValueUndefined(); // see Isolate's invocationDone
            Invocation inv = invocation(args);
            String name = HostValues.string(args, 1), message = HostValues.string(args, 2), stack = HostValues.string(args, 3);
            boolean passThrough = args.length > 4 && args[4] instanceof V8ValueBoolean b && b.getValue();
            // What was thrown, serialized (remote-errors.js), for a caller through a stub.
            byte[] thrown = args.length > 5 && args[5] instanceof V8ValueTypedArray t
                    && t.getByteLength() <= Invocation.MAX_THROWN_BYTES ? HostValues.byteArray(args, 5) : null;
            isolate.log("error", "Uncaught " + (stack != null && !stack.isEmpty() ? stack : name + ": " + message));
            if (inv != null) inv.responseFailed(ErrorCode.WORKER_THREW, name + ": " + message, passThrough, thrown);
            return runtime.createV8ValueUndefined();
        });
        binder.bind("requestBodyPull", args -> {
            Invocation inv = invocation(args);
            if (inv != null) outbox.send(new Message.RequestBodyPull(inv.id));
            return runtime.createV8ValueUndefined();
        });
        binder.bind("rpcReturn", args -> {
            Invocation inv = invocation(args);
            if (inv != null) {
                byte[] value = HostValues.rpcPayload(args, 1);
                inv.rpcReturn(isolate.caps.outbound(value, inv, true), args.length > 2 && args[2] instanceof V8ValueBoolean b && b.getValue());
                // Its result holds streams: it goes on while they are read (rpc.js's answer).
                if (args.length > 3 && args[3] instanceof V8ValueBoolean s && s.getValue()) inv.streaming = true;
            }
            return runtime.createV8ValueUndefined();
        });
    }

    private Invocation invocation(V8Value[] args) {
        long id = (long) HostValues.number(args, 0);
        Invocation inv = isolate.invocations.get(id);
        return inv == null || inv.isFinished() ? null : inv;
    }

    /** An event's work once its invocation is admitted and the worker is loaded. */
    @FunctionalInterface
    private interface EventAction {
        void run(Invocation inv) throws Exception;
    }

    /**
     * What every dispatcher does first: admits the invocation and queues {@code event} as its task,
     * which fails with {@code worker_load_failed} instead when no worker is loaded.
     */
    private void dispatchEvent(long invocationId, String workerId, Limits limits, EventAction event) {
        dispatchEvent(invocationId, workerId, limits, false, event);
    }

    /** {@code bodyStreamed}: its request body comes after it, open until its end is queued (Invocation.bodyOpen). */
    private void dispatchEvent(long invocationId, String workerId, Limits limits, boolean bodyStreamed, EventAction event) {
        dev.bulwark.sandbox.trace.LatencyTrace.stamp("isolate.dispatch", invocationId);
        Invocation inv = isolate.begin(invocationId, workerId, limits);
        if (inv == null) return;
        inv.bodyOpen = bodyStreamed; // before its task can run and wait for the body
        isolate.enqueue(inv.id, () -> {
            inv.dispatched = true;
            if (isolate.worker == null) {
                String failure = isolate.loadFailure;
                isolate.finish(inv, ErrorCode.WORKER_LOAD_FAILED, failure != null ? failure : "worker is not loaded");
                return;
            }
            event.run(inv);
        });
    }

    /** Starts a fetch invocation; all its outcomes go to the outbox. */
    void dispatch(Message.FetchStart start, Limits limits) {
        dispatchEvent(start.invocationId(), start.workerId(), limits, start.bodyStreamed(), inv -> fetch(start, inv));
    }

    private void fetch(Message.FetchStart start, Invocation inv) throws Exception {
        // The request's parts go as arguments of the one call (the dispatcher makes the object):
        // building it here took a JNI crossing per property.
        if (start.target() instanceof Address.DurableObject o) {
            // The object's target too: made by the dispatcher from arguments, not by a JNI set per field.
            int handle = isolate.objectHandle(o, inv.id);
            try (V8Value body = requestBody(start)) {
                isolate.dispatcher.callVoid(null, isolate.worker.defaultExport(), runtime.createV8ValueNull(), isolate.worker.env(),
                        runtime.createV8ValueLong(inv.id), runtime.createV8ValueNull(), runtime.createV8ValueString(start.method()),
                        runtime.createV8ValueString(start.url()), runtime.createV8ValueString(HostValues.headerLines(start.headers())),
                        body, runtime.createV8ValueBoolean(start.bodyStreamed()), isolate.worker.exports(),
                        runtime.createV8ValueString(o.workerId()), runtime.createV8ValueString(o.className()),
                        runtime.createV8ValueString(o.objectId()),
                        o.name() == null ? runtime.createV8ValueNull() : runtime.createV8ValueString(o.name()),
                        runtime.createV8ValueInteger(handle));
            }
            return;
        }
        try (V8Value body = requestBody(start); V8Value target = target(start.target(), inv.id)) {
            isolate.dispatcher.callVoid(null, isolate.worker.defaultExport(), runtime.createV8ValueNull(), isolate.worker.env(),
                    runtime.createV8ValueLong(inv.id), target, runtime.createV8ValueString(start.method()),
                    runtime.createV8ValueString(start.url()), runtime.createV8ValueString(HostValues.headerLines(start.headers())),
                    body, runtime.createV8ValueBoolean(start.bodyStreamed()));
        }
    }

    /** Starts an RPC invocation: the prelude calls the method and answers through rpcReturn. */
    void dispatch(Message.RpcStart start, Limits limits) {
        dispatchEvent(start.invocationId(), start.target().workerId(), limits, inv -> {
            inv.rpcEvent = true;
            try (V8ValueObject target = rpcTarget(start)) {
                isolate.dispatcher.callVoid(null, isolate.worker.defaultExport(), runtime.createV8ValueNull(), isolate.worker.env(),
                        runtime.createV8ValueLong(inv.id), target);
            }
        });
    }

    /**
     * Starts a call on something this isolate exported ({@code localId} is its JS export id) as an
     * invocation of its own; the prelude answers through rpcReturn, as for an RPC.
     */
    void dispatch(Message.CapStart start, CapExports.Export export, Limits limits) {
        long localId = export.localId();
        dispatchEvent(start.invocationId(), isolate.worker == null ? "" : isolate.worker.workerId(), limits, inv -> {
            // As in workerd, a call on a callback runs inside the invocation that passed it while that
            // one lives: its closures' I/O, the stubs it holds, its limits (branch rpcgaps). The call
            // keeps its own invocation id for the answer; what it awaits continues in the host's.
            inv.rpcEvent = true;
            // What an object exported runs in the object's context in workerd: wait with its events.
            inv.objectEvent = isolate.hostsObjects();
            Invocation host = export.invocation() == 0 ? null : isolate.invocations.get(export.invocation());
            boolean inside = host != null && !host.isFinished() && host != inv;
            try (V8ValueObject target = runtime.createV8ValueObject(); V8ValueObject cap = runtime.createV8ValueObject()) {
                cap.set("export", (double) localId);
                cap.set("method", start.method());
                if (!inside && !export.outlives()) cap.set("ended", true);
                if (inside) cap.set("host", (double) host.id); // the prelude's frame for what the call awaits
                if (inv.objectEvent) cap.set("object", true); // shares the object's I/O (the prelude's frame)
                if (start.args() == null) cap.setNull("args");
                else {
                    try (V8ValueTypedArray a = HostValues.bytes(runtime, isolate.caps.inbound(start.args(), inside ? host.id : inv.id))) {
                        cap.set("args", a);
                    }
                }
                if (inside) {
                    host.hosted.add(inv);
                    inv.hostedBy = host;
                    isolate.runInside(host);
                }
                target.set("cap", cap);
                isolate.dispatcher.callVoid(null, isolate.worker.defaultExport(), runtime.createV8ValueNull(), isolate.worker.env(),
                        runtime.createV8ValueLong(inv.id), target);
            }
        });
    }

    /** Runs an object's alarm handler; the prelude answers through rpcReturn (threw: the handler threw). */
    void dispatch(Message.AlarmStart start, Limits limits) {
        dispatchEvent(start.invocationId(), start.target().workerId(), limits, inv -> {
            try (V8Value base = target(start.target(), inv.id); V8ValueObject alarm = runtime.createV8ValueObject()) {
                V8ValueObject target = (V8ValueObject) base;
                alarm.set("scheduledTime", (double) start.scheduledTime());
                alarm.set("retryCount", start.retryCount());
                alarm.set("isRetry", start.isRetry());
                target.set("alarm", alarm);
                isolate.dispatcher.callVoid(null, isolate.worker.defaultExport(), runtime.createV8ValueNull(), isolate.worker.env(),
                        runtime.createV8ValueLong(inv.id), target);
            }
        });
    }

    /** {@link #target} as an object the dispatcher can add the event's fields to (a fresh one when the target is not). */
    private V8ValueObject targetObject(Address address, long invocationId) throws JavetException {
        V8Value base = target(address, invocationId);
        if (base instanceof V8ValueObject o) return o;
        base.close();
        return runtime.createV8ValueObject();
    }

    /** Delivers trace items to a tail worker's tail(events) handler; answered by InvocationDone. */
    void dispatch(Message.TailStart start, Limits limits) {
        dispatchEvent(start.invocationId(), start.target().workerId(), limits, inv -> {
            try (V8ValueObject target = targetObject(start.target(), inv.id)) {
                target.set("tail", start.eventsJson());
                isolate.dispatcher.callVoid(null, isolate.worker.defaultExport(), runtime.createV8ValueNull(), isolate.worker.env(),
                        runtime.createV8ValueLong(inv.id), target);
            }
        });
    }

    /**
     * Delivers a WebSocket event: to an object's hibernation handlers or its sockets' listeners
     * (through its gates), or to a plain worker's socket listeners. Answered by InvocationDone.
     */
    void dispatch(Message.SocketEvent event, Limits limits) {
        dispatchEvent(event.invocationId(), event.target().workerId(), limits, inv -> {
            try (V8ValueObject target = targetObject(event.target(), inv.id);
                 V8ValueObject socket = runtime.createV8ValueObject()) {
                socket.set("id", (double) event.socketId());
                socket.set("kind", event.kind().name().toLowerCase(java.util.Locale.ROOT));
                if (event.text() != null) socket.set("text", event.text());
                else socket.setNull("text");
                if (event.data() != null) {
                    try (V8ValueTypedArray d = HostValues.bytes(runtime, event.data())) {
                        socket.set("data", d);
                    }
                }
                socket.set("code", event.code());
                if (event.reason() != null) socket.set("reason", event.reason());
                target.set("socket", socket);
                isolate.dispatcher.callVoid(null, isolate.worker.defaultExport(), runtime.createV8ValueNull(), isolate.worker.env(),
                        runtime.createV8ValueLong(inv.id), target);
            }
        });
    }

    /** The target of an RPC event: the address's target plus {@code rpc: {method, args}}. */
    private V8ValueObject rpcTarget(Message.RpcStart start) throws JavetException {
        V8Value base = target(start.target(), start.invocationId());
        V8ValueObject t;
        if (base instanceof V8ValueObject o) {
            t = o;
        } else {
            base.close();
            t = runtime.createV8ValueObject();
            t.set("exports", isolate.worker.exports());
            t.setNull("entrypoint");
        }
        try (V8ValueObject rpc = runtime.createV8ValueObject()) {
            rpc.set("method", start.method());
            if (start.args() == null) rpc.setNull("args");
            else {
                try (V8ValueTypedArray a = HostValues.bytes(runtime, isolate.caps.inbound(start.args(), start.invocationId()))) {
                    rpc.set("args", a);
                }
            }
            t.set("rpc", rpc);
        }
        return t;
    }

    /**
     * What the prelude needs to find the object an event is for; null for the worker itself. An
     * object's storage is opened here, and the object counts as busy until the invocation ends.
     */
    private V8Value target(Address address, long invocationId) throws JavetException {
        return switch (address) {
            case Address.Worker w when w.entrypoint() == null && (w.grant() == null || w.grant().props() == null) ->
                    runtime.createV8ValueNull();
            case Address.Worker w -> {
                V8ValueObject t = runtime.createV8ValueObject();
                t.set("exports", isolate.worker.exports());
                t.set("entrypoint", w.entrypoint() == null ? "default" : w.entrypoint());
                byte[] props = w.grant() == null ? null : w.grant().props();
                if (props != null) {
                    // The callee's ctx.props: set by the granter of the stub, seen by no one else.
                    // Stubs in them are this invocation's (the node granted them to it alone).
                    try (V8ValueTypedArray p = HostValues.bytes(runtime, isolate.caps.inbound(props, invocationId))) {
                        t.set("props", p);
                    }
                }
                yield t;
            }
            case Address.DurableObject o -> {
                int handle = isolate.objectHandle(o, invocationId);
                V8ValueObject t = runtime.createV8ValueObject();
                t.set("exports", isolate.worker.exports());
                t.set("workerId", o.workerId());
                t.set("className", o.className());
                t.set("id", o.objectId());
                if (o.name() == null) t.setNull("name");
                else t.set("name", o.name());
                t.set("storage", handle);
                yield t;
            }
        };
    }

    /** The request's body when it came whole with the start; null when streamed or absent. */
    private V8Value requestBody(Message.FetchStart start) throws JavetException {
        if (start.bodyStreamed() || start.body() == null) return runtime.createV8ValueNull();
        return HostValues.bytes(runtime, start.body());
    }

    /** A chunk (or the end) of a streamed request body arrived from the node. */
    void requestBody(Message message) {
        switch (message) {
            case Message.RequestBodyChunk c -> isolate.enqueue(c.invocationId(), () -> {
                try (V8ValueTypedArray b = HostValues.bytes(runtime, c.data())) {
                    isolate.jsRuntime().invokeVoid("requestBodyChunk", runtime.createV8ValueLong(c.invocationId()), b);
                }
            });
            case Message.RequestBodyEnd e -> {
                isolate.enqueue(e.invocationId(), () -> isolate.jsRuntime().invokeVoid("requestBodyEnd",
                        runtime.createV8ValueLong(e.invocationId()),
                        e.error() == null ? runtime.createV8ValueNull() : runtime.createV8ValueString(e.error())));
                Invocation inv = isolate.invocations.get(e.invocationId());
                if (inv != null) {
                    inv.bodyOpen = false; // after its task is queued (InFlight)
                    isolate.checkHangsSoon();
                }
            }
            default -> throw new IllegalArgumentException("not a request body message: " + message);
        }
    }

    /** The node wrote more of a response; a response stream waiting for room may go on. */
    void acknowledge(Message.ResponseAck ack) {
        Invocation inv = isolate.invocations.get(ack.invocationId());
        if (inv != null && inv.acknowledge(ack.bytes())) {
            isolate.enqueue(inv.id, () -> isolate.jsRuntime().invokeVoid("responseDrained", runtime.createV8ValueLong(inv.id)));
            inv.outstanding.down();
        }
    }

    /**
     * The client is gone: the invocation ends now and its later events are dropped. JavaScript of
     * it that is running goes on to the end of its slice, still under its CPU limit.
     */
    void cancel(long invocationId, String reason) {
        Invocation inv = isolate.invocations.get(invocationId);
        // At once: the node has stopped listening, and the canceled code must not run on to its CPU limit.
        if (inv != null) {
            isolate.finish(inv, ErrorCode.CANCELED, reason);
            // The body it was streaming is canceled too, so its source (a durable object's SSE stream)
            // sees cancel(reason) as in Workers. A task of no invocation: the canceled one's are dropped.
            isolate.enqueue(0, () -> isolate.jsRuntime().invokeVoid("responseCanceled", runtime.createV8ValueLong(invocationId),
                    runtime.createV8ValueString(reason == null ? "canceled" : reason)));
        }
    }

    /**
     * The node dropped an export of this isolate: the prelude forgets it and runs its disposer,
     * inside the invocation that passed it while that one lives, so that what the disposer
     * resolves (a promise that invocation awaits) goes on inside it and can still make calls.
     */
    void dropExport(long localId, long invocation) {
        long owner = invocation != 0 && isolate.invocations.containsKey(invocation) ? invocation : 0;
        isolate.enqueue(owner, () -> {
            isolate.caps.exportDropped(localId);
            isolate.jsRuntime().invokeVoid("dropExport", runtime.createV8ValueDouble(localId));
        });
    }
}
