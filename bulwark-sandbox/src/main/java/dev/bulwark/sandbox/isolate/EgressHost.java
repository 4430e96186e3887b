package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.V8Runtime;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.primitive.V8ValueBoolean;
import com.caoccao.javet.values.reference.V8ValueArray;
import com.caoccao.javet.values.reference.V8ValueObject;
import com.caoccao.javet.values.reference.V8ValuePromise;
import com.caoccao.javet.values.reference.V8ValueTypedArray;
import dev.bulwark.sandbox.ipc.Message;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The host functions of the prelude's egress.js: {@code fetch()} out through the node's egress
 * gateway, its answer handed back as the parts of a Response, and the body streams of subrequests
 * and calls. Each subrequest counts against the calling invocation's limit and is registered under
 * it ({@link Subrequests}), so its answer is dropped if the invocation ended first. Isolate thread only.
 */
final class EgressHost {
    private final Isolate isolate;
    private final V8Runtime runtime;
    private final SandboxServices services;
    private final Outbox outbox;
    /** False when the worker's globalOutbound is null: fetch() throws. */
    volatile boolean networkAllowed = true;

    EgressHost(Isolate isolate) {
        this.isolate = isolate;
        this.runtime = isolate.runtime;
        this.services = isolate.services;
        this.outbox = isolate.outbox;
    }

    void install(SocketHost.Binder b) throws JavetException {
        b.bind("fetch", this::fetch);
        // The body streams of subrequests and calls: each talks to its own streamer (StreamWire).
        b.bind("subrequestAck", args -> {
            long id = (long) HostValues.number(args, 0);
            StreamWire wire = services.subrequests().wireOf(id, isolate.currentInvocation());
            long n = services.subrequests().acknowledge(id, isolate.currentInvocation(), (long) HostValues.number(args, 1));
            if (n > 0 && wire != null) outbox.send(wire.ack(id, n));
            return runtime.createV8ValueUndefined();
        });
        b.bind("subrequestBodyChunk", args -> {
            long id = (long) HostValues.number(args, 0);
            byte[] data = HostValues.boundedBytes(args, 1, Message.STREAM_CHUNK, "fetch: a request body chunk");
            StreamWire wire = services.subrequests().wireOf(id, isolate.currentInvocation());
            if (wire != null) outbox.send(wire.bodyChunk(id, data));
            return runtime.createV8ValueUndefined();
        });
        b.bind("subrequestBodyEnd", args -> {
            long id = (long) HostValues.number(args, 0);
            String error = HostValues.boundedString(args, 1, 1 << 10, "fetch: a request body error");
            StreamWire wire = services.subrequests().wireOf(id, isolate.currentInvocation());
            if (wire != null) outbox.send(wire.bodyEnd(id, error));
            return runtime.createV8ValueUndefined();
        });
        // A connect() socket's startTls(), in answer to a pull (sockets.js): the node starts TLS there.
        b.bind("subrequestStartTls", args -> {
            long id = (long) HostValues.number(args, 0);
            if (services.subrequests().wireOf(id, isolate.currentInvocation()) == StreamWire.EGRESS) {
                outbox.send(new Message.SubrequestStartTls(id));
            }
            return runtime.createV8ValueUndefined();
        });
        b.bind("subrequestCancel", args -> {
            Message cancel = services.subrequests().cancel((long) HostValues.number(args, 0), isolate.currentInvocation());
            if (cancel != null) outbox.send(cancel);
            return runtime.createV8ValueUndefined();
        });
    }

    /**
     * fetch(): {@code (method, url, headers, body, invocation, streamed)}; a promise of the answer, with its id when
     * the body is streamed. The prelude's connect() uses it too, as a streamed CONNECT to {@code tcp://host:port}.
     */
    private V8Value fetch(V8Value[] args) throws Exception {
        Invocation inv = isolate.invocations.get(isolate.currentInvocation());
        if (inv == null || inv.isFinished()) {
            throw new IllegalStateException("fetch() can only be called while handling a request");
        }
        if (!networkAllowed) {
            // workerd's words for a worker whose globalOutbound is null.
            throw new IllegalStateException("This worker is not permitted to access the internet via global functions "
                    + "like fetch(). It must use capabilities (such as bindings in 'env') to talk to the outside world.");
        }
        // Sizes are checked before anything is copied into Java (and before a frame is built).
        String method = HostValues.boundedString(args, 0, HostLimits.MAX_METHOD_CHARS, "fetch: the method");
        String url = HostValues.boundedString(args, 1, HostLimits.MAX_URL_CHARS, "fetch: the URL");
        List<Message.Header> headers = HostValues.boundedHeaders(args, 2, "fetch: the request headers");
        byte[] body = args.length > 3 && args[3] instanceof V8ValueTypedArray
                ? HostValues.boundedBytes(args, 3, HostLimits.MAX_SUBREQUEST_BODY, "fetch: the request body") : null;
        boolean streamed = args.length > 5 && args[5] instanceof V8ValueBoolean b && b.getValue();
        isolate.countSubrequest(inv);
        V8ValuePromise resolver = runtime.createV8ValuePromise();
        AtomicBoolean settled = new AtomicBoolean();
        long[] idHolder = new long[1];
        // A connect() socket (cloudflare:sockets) is a streamed CONNECT: the node tunnels it (TcpTunnel).
        boolean socket = streamed && method.equals("CONNECT");
        long subrequestId = services.subrequests().register(inv.id, inv.external, StreamWire.EGRESS, socket, answer -> isolate.enqueue(inv.id,
                () -> subrequestAnswer(idHolder[0], answer, resolver, settled)),
                () -> isolate.enqueue(0, () -> {
                    // Never answered (or its body never ended): release the promise, error the body.
                    if (settled.compareAndSet(false, true)) resolver.close();
                    else isolate.jsRuntime().invokeVoid("subrequestDrop", runtime.createV8ValueLong(idHolder[0]));
                }));
        idHolder[0] = subrequestId;
        if (!streamed) {
            outbox.send(new Message.Subrequest(inv.id, subrequestId, method, url, headers, body));
            return resolver.getPromise();
        }
        // The body follows on the node's pulls: the prelude needs the id to answer them.
        outbox.send(new Message.StreamedSubrequest(inv.id, subrequestId, method, url, headers));
        V8ValueArray pair = runtime.createV8ValueArray();
        try (V8ValuePromise promise = resolver.getPromise()) {
            pair.push(promise, runtime.createV8ValueDouble(subrequestId));
        }
        return pair;
    }

    /** One message of a subrequest's answer, on the isolate thread. */
    private void subrequestAnswer(long id, Message answer, V8ValuePromise resolver,
                                  AtomicBoolean settled) throws JavetException {
        switch (answer) {
            case Message.SubrequestResult r -> {
                if (!settled.compareAndSet(false, true)) return;
                try (resolver; V8ValueObject res = responseHead(r.status(), r.statusText(), r.headers(), r.url())) {
                    if (r.body() != null) {
                        try (V8ValueTypedArray b = HostValues.bytes(runtime, r.body())) {
                            res.set("body", b);
                        }
                    } else {
                        res.setNull("body");
                    }
                    resolver.resolve(res);
                }
            }
            case Message.SubrequestHead h -> {
                if (!settled.compareAndSet(false, true)) {
                    // A second head: a connect() socket's TLS handshake after startTls() is done.
                    isolate.jsRuntime().invokeVoid("subrequestTlsStarted", runtime.createV8ValueLong(id));
                    return;
                }
                try (resolver; V8ValueObject res = responseHead(h.status(), h.statusText(), h.headers(), h.url())) {
                    res.setNull("body");
                    if (h.hasBody()) res.set("stream", (double) id);
                    resolver.resolve(res);
                }
            }
            case Message.SubrequestChunk c -> {
                try (V8ValueTypedArray b = HostValues.bytes(runtime, c.data())) {
                    isolate.jsRuntime().invokeVoid("subrequestChunk", runtime.createV8ValueLong(id), b);
                }
            }
            case Message.SubrequestBodyPull p -> isolate.jsRuntime().invokeVoid("subrequestBodyPull", runtime.createV8ValueLong(id));
            case Message.SubrequestEnd e -> isolate.jsRuntime().invokeVoid("subrequestEnd", runtime.createV8ValueLong(id),
                    e.error() == null ? runtime.createV8ValueNull() : runtime.createV8ValueString(e.error()));
            case Message.SubrequestFailed f -> {
                if (settled.compareAndSet(false, true)) {
                    try (resolver; V8Value e = isolate.intrinsicTypeError.callAsConstructor(runtime.createV8ValueString(f.message()))) {
                        resolver.reject(e);
                    }
                } else {
                    isolate.jsRuntime().invokeVoid("subrequestEnd", runtime.createV8ValueLong(id), runtime.createV8ValueString(f.message()));
                }
            }
            default -> throw new IllegalStateException("unexpected subrequest answer " + answer.getClass().getSimpleName());
        }
    }

    private V8ValueObject responseHead(int status, String statusText, List<Message.Header> headers, String url)
            throws JavetException {
        V8ValueObject res = runtime.createV8ValueObject();
        res.set("status", status);
        res.set("statusText", statusText == null ? "" : statusText);
        try (V8ValueArray h = headerArray(headers)) {
            res.set("headers", h);
        }
        res.set("url", url == null ? "" : url);
        return res;
    }

    private V8ValueArray headerArray(List<Message.Header> headers) throws JavetException {
        V8ValueArray array = runtime.createV8ValueArray();
        for (Message.Header h : headers) {
            try (V8ValueArray pair = runtime.createV8ValueArray()) {
                pair.push(h.name(), h.value());
                array.push(pair);
            }
        }
        return array;
    }
}
