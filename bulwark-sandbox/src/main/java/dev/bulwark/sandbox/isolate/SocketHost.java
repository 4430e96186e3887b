package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.V8Runtime;
import com.caoccao.javet.interop.callback.IJavetDirectCallable;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.primitive.V8ValueBoolean;
import com.caoccao.javet.values.primitive.V8ValueString;
import com.caoccao.javet.values.reference.V8ValueArray;
import com.caoccao.javet.values.reference.V8ValueTypedArray;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.Message;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The host functions of WebSockets (the prelude's websocket.js and objects.js call them). What they
 * send goes through the isolate's outbox, so it leaves after the task's writes are durable (the
 * output gate). Sizes are checked before bytes are copied out of V8.
 */
final class SocketHost {
    /** Workers' limit on one WebSocket message. */
    static final int MAX_MESSAGE_BYTES = 1 << 20;
    static final int MAX_ATTACHMENT_BYTES = 2048;
    static final int MAX_TAGS = 10;
    static final int MAX_TAG_CHARS = 256;

    interface Binder {
        void bind(String name, IJavetDirectCallable.NoThisAndResult<Exception> fn) throws JavetException;
    }

    private final V8Runtime runtime;
    private final Outbox outbox;
    private final SocketRegistry registry;
    private final Isolate isolate;
    /** The worker this isolate runs (for an object's address). */
    private final java.util.function.Supplier<String> workerId;

    SocketHost(V8Runtime runtime, Outbox outbox, SocketRegistry registry, Isolate isolate,
               java.util.function.Supplier<String> workerId) {
        this.runtime = runtime;
        this.outbox = outbox;
        this.registry = registry;
        this.isolate = isolate;
        this.workerId = workerId;
    }

    void install(Binder b) throws JavetException {
        b.bind("socketOpen", this::open);
        b.bind("socketClaim", this::claim);
        b.bind("socketSend", this::send);
        b.bind("socketClose", this::close);
        b.bind("socketAttachment", this::attachment);
        b.bind("socketAutoResponse", this::autoResponse);
        b.bind("socketEventTimeout", args -> {
            registry.eventTimeout(HostValues.string(args, 0), HostValues.string(args, 1), (long) HostValues.number(args, 2));
            return runtime.createV8ValueUndefined();
        });
        b.bind("socketList", this::list);
    }

    /** {@code (invocationId, socketId, hibernatable, tagLines, className, objectId)}. */
    private V8Value open(V8Value[] args) {
        long invocationId = (long) HostValues.number(args, 0);
        long socketId = (long) HostValues.number(args, 1);
        boolean hibernatable = args.length > 2 && args[2] instanceof V8ValueBoolean v && v.getValue();
        String lines = HostValues.string(args, 3);
        List<String> tags = lines == null || lines.isEmpty() ? List.of() : List.of(lines.split("\n", -1));
        if (tags.size() > MAX_TAGS) throw new IllegalArgumentException("a WebSocket can have at most " + MAX_TAGS + " tags");
        for (String t : tags) {
            if (t.length() > MAX_TAG_CHARS) throw new IllegalArgumentException("a WebSocket tag is longer than " + MAX_TAG_CHARS);
        }
        if (socketId == invocationId) {
            registry.home(socketId, isolate);
            String className = HostValues.string(args, 4), objectId = HostValues.string(args, 5);
            if (hibernatable && className != null && objectId != null) registry.accepted(className, objectId, socketId, tags);
        }
        outbox.send(new Message.SocketOpen(invocationId, socketId, hibernatable, tags));
        return runtime.createV8ValueUndefined();
    }

    /**
     * {@code (invocationId, socketId)}: the isolate accepted the client end of a socket a response
     * handed it (a durable object's 101); that end goes by {@code -socketId} from now on.
     */
    private V8Value claim(V8Value[] args) {
        long invocationId = (long) HostValues.number(args, 0);
        long socketId = (long) HostValues.number(args, 1);
        if (socketId <= 0) throw new IllegalArgumentException("socketClaim: not a socket id");
        registry.home(-socketId, isolate);
        // A durable object's event accepted it: the socket is the object's (it lives as long as the
        // object, its events go through the object's gates, and the object stays while it is open).
        Address.DurableObject object = isolate.objectOf(invocationId);
        if (object != null) registry.heldBy(-socketId, isolate, object.className(), object.objectId());
        outbox.send(new Message.SocketClaim(invocationId, socketId, workerId.get(), object));
        return runtime.createV8ValueUndefined();
    }

    /** {@code (socketId, string | Uint8Array)}. */
    private V8Value send(V8Value[] args) throws JavetException {
        long socketId = (long) HostValues.number(args, 0);
        if (args.length > 1 && args[1] instanceof V8ValueString s) {
            String text = s.getValue();
            // Three bytes per UTF-16 unit at most: only long strings need counting.
            if ((long) text.length() * 3 > MAX_MESSAGE_BYTES
                    && text.getBytes(StandardCharsets.UTF_8).length > MAX_MESSAGE_BYTES) {
                throw new IllegalArgumentException("WebSocket message too large: the limit is " + MAX_MESSAGE_BYTES + " bytes");
            }
            outbox.send(new Message.SocketSend(socketId, text, null));
        } else if (args.length > 1 && args[1] instanceof V8ValueTypedArray t) {
            if (t.getByteLength() > MAX_MESSAGE_BYTES) {
                throw new IllegalArgumentException("WebSocket message too large: the limit is " + MAX_MESSAGE_BYTES + " bytes");
            }
            outbox.send(new Message.SocketSend(socketId, null, t.toBytes()));
        } else {
            throw new IllegalArgumentException("socketSend: a string or bytes");
        }
        return runtime.createV8ValueUndefined();
    }

    /**
     * {@code (socketId, code, reason[, abandoned])}; abandoned: the durable object that held this
     * client end is gone (reset), so no event of the socket is delivered any more.
     */
    private V8Value close(V8Value[] args) {
        long socketId = (long) HostValues.number(args, 0);
        boolean abandoned = args.length > 3 && args[3] instanceof V8ValueBoolean b && b.getValue();
        // A claimed client end (negative id) keeps its home until the node's close reply arrives.
        if (socketId > 0 || abandoned) registry.closed(socketId);
        outbox.send(new Message.SocketClose(socketId, HostValues.integer(args, 1), HostValues.string(args, 2)));
        return runtime.createV8ValueUndefined();
    }

    /** {@code (socketId, bytes | null)}. */
    private V8Value attachment(V8Value[] args) throws JavetException {
        long socketId = (long) HostValues.number(args, 0);
        byte[] bytes = null;
        if (args.length > 1 && args[1] instanceof V8ValueTypedArray t) {
            if (t.getByteLength() > MAX_ATTACHMENT_BYTES) {
                throw new IllegalArgumentException("the attachment is larger than " + MAX_ATTACHMENT_BYTES + " bytes");
            }
            bytes = t.toBytes();
        }
        registry.attachment(socketId, bytes);
        outbox.send(new Message.SocketAttachment(socketId, bytes));
        return runtime.createV8ValueUndefined();
    }

    /** {@code (workerId, className, objectId, name, request | null, response | null)}. */
    private V8Value autoResponse(V8Value[] args) {
        String worker = workerId.get();
        Address.DurableObject target = new Address.DurableObject(worker, HostValues.string(args, 1),
                HostValues.string(args, 2), HostValues.string(args, 3));
        outbox.send(new Message.SocketAutoResponse(target, HostValues.string(args, 4), HostValues.string(args, 5)));
        return runtime.createV8ValueUndefined();
    }

    /** {@code (className, objectId)} → a flat array {@code [id, tagLines, attachment|null, ...]}. */
    private V8Value list(V8Value[] args) throws JavetException {
        Map<Long, SocketRegistry.Kept> kept = registry.keptBy(HostValues.string(args, 0), HostValues.string(args, 1));
        V8ValueArray out = runtime.createV8ValueArray();
        for (var e : kept.entrySet()) {
            out.push(runtime.createV8ValueDouble(e.getKey()));
            out.push(runtime.createV8ValueString(String.join("\n", e.getValue().tags())));
            byte[] a = e.getValue().attachment();
            if (a == null) out.push(runtime.createV8ValueNull());
            else {
                try (V8ValueTypedArray t = HostValues.bytes(runtime, a)) {
                    out.push(t);
                }
            }
        }
        return out;
    }
}
