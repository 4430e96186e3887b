package dev.bulwark.sandbox.ipc;

import dev.bulwark.sandbox.worker.Binding;
import dev.bulwark.sandbox.worker.Compatibility;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.WorkerBundle;

import java.util.List;

/**
 * The messages node and sandbox exchange over their Unix domain socket. One codec
 * ({@link MessageCodec}) writes and reads all of them; {@link #PROTOCOL_VERSION} changes whenever
 * a record's shape does, and the handshake refuses a peer of another version.
 *
 * <p>Invocation ids are chosen by the node and are unique within one sandbox connection.
 */
public sealed interface Message {

    // 4: services (TailStart, bindings in LoadDynamic); 5: capabilities by reference (CapCall..CapRevoke, envCaps,
    // Binding.Capability); 6: connect() sockets (SubrequestStartTls); 7: SocketClaim.object (a durable
    // object's outbound WebSocket).
    int PROTOCOL_VERSION = 7;

    /** A header as it crosses the wire: name and value, in order, duplicates kept. */
    record Header(String name, String value) {}

    // ---- sandbox → node ----

    /** First message of a sandbox: its protocol version and process id. */
    record Ready(int protocolVersion, long pid) implements Message {}

    /** A worker finished loading (modules compiled, instantiated, evaluated). */
    record WorkerLoaded(long correlationId, String workerId) implements Message {}

    /** A worker could not be loaded. {@code code} is an {@link ErrorCode} name. */
    record WorkerLoadFailed(long correlationId, String workerId, String code, String message) implements Message {}

    record ResponseHead(long invocationId, int status, String statusText, List<Header> headers) implements Message {}

    record ResponseChunk(long invocationId, byte[] data) implements Message {}

    record ResponseEnd(long invocationId) implements Message {}

    /**
     * The invocation failed. Before a {@link ResponseHead} the node answers with an error
     * response; after it, the node aborts the response. {@code passThrough} is set when the
     * worker had called {@code ctx.passThroughOnException()}. {@code thrown}, when not null, is
     * the value the worker threw, serialized by the prelude (remote-errors.js): a caller through a
     * stub rejects with it; the front door does not use it.
     */
    record InvocationFailed(long invocationId, String code, String message, boolean passThrough, byte[] thrown)
            implements Message {
        public InvocationFailed(long invocationId, String code, String message, boolean passThrough) {
            this(invocationId, code, message, passThrough, null);
        }
    }

    /** Everything of the invocation is over, {@code waitUntil} work included. */
    record InvocationDone(long invocationId, long cpuMicros) implements Message {}

    /** A console line or an uncaught exception of a worker, for the operator. */
    record LogLine(String workerId, long invocationId, String level, String message, long timestampMillis)
            implements Message {}

    /** The worker wants the next chunk of a streamed request body. */
    record RequestBodyPull(long invocationId) implements Message {}

    /**
     * A worker calls a capability the node granted it (a durable object stub's {@code fetch()}):
     * the node routes it to {@code target} as a new invocation and answers with one
     * {@link CallResult} or {@link CallFailed} under {@code callId}.
     */
    record CallStart(long invocationId, long callId, Address target, String method, String url, List<Header> headers,
                     byte[] body) implements Message {}

    /**
     * A JS RPC call from a worker to a stub ({@code stub.method(...args)}): {@code args} is the
     * serialized argument array, or null to read the property {@code method} instead. Routed
     * like {@link CallStart}; answered by {@link RpcResult} or {@link CallFailed} under {@code callId}.
     */
    record RpcCall(long invocationId, long callId, Address target, String method, byte[] args) implements Message {}

    /**
     * The sandbox started an invocation of {@code target} itself, without the node: a call from
     * one of its isolates to a durable object the node placed in this very sandbox (see
     * {@code LocalCalls}). One-way: the node records it as it records the invocations it starts
     * (its {@link InvocationDone} follows), so its outbound requests are attributed and its end
     * is logged. {@code invocationId} is in the sandbox's own range (bit 52 set).
     */
    record LocalInvocation(long invocationId, long callerInvocationId, Address.DurableObject target, boolean rpc)
            implements Message {}

    /**
     * The sandbox evicted these idle objects (one notice per eviction sweep of an isolate; issue
     * 11, branch dirgc) and forgot that they were placed in it: the node may drop their
     * placements, but only those that still point at this sandbox with no event of theirs in
     * flight or starting there (an event it placed meanwhile re-activates the object here).
     */
    record ObjectsEvicted(List<Address.DurableObject> objects) implements Message {
        public ObjectsEvicted {
            objects = List.copyOf(objects);
        }
    }

    /**
     * An object's alarm changed and the change is durable: {@code epochMillis} is the new time,
     * or null when it was deleted. The node keeps the index alarms fire from.
     */
    record AlarmSet(Address.DurableObject target, Long epochMillis) implements Message {}

    /** An RPC invocation ended: its serialized result, or (threw) the serialized error it threw. */
    record RpcReturn(long invocationId, byte[] value, boolean threw) implements Message {}

    /**
     * A worker's loader binding asks for a dynamic worker: {@code id} is the {@code get()} id (null
     * for {@code load()}, which is always fresh). With {@code bundle} null it only asks whether
     * that id is loaded; otherwise it loads the code. Answered by {@link DynamicLoaded} or
     * {@link CallFailed} under {@code callId}.
     *
     * @param parentWorker   the worker whose loader asks: ids are cached per parent, never shared
     * @param networkAllowed false when the code's {@code globalOutbound} is null: fetch() throws
     * @param limits         the dynamic worker's limits (never above the parent's)
     * @param envCaps        the env entries that are capabilities (stubs, RpcTargets, functions): a
     *                       {@link CapPayload} whose value is the UTF-8 JSON array of their names,
     *                       in the order of its refs; null for none
     */
    record LoadDynamic(long invocationId, long callId, String parentWorker, String id, WorkerBundle bundle, String envJson,
                       boolean networkAllowed, Limits limits, List<Binding> bindings, byte[] envCaps) implements Message {
        /**
         * @param bindings the capabilities the parent grants beyond the JSON env: its
         *                 {@code globalOutbound} fetcher ({@link Binding.Outbound}) and {@code tails}
         *                 ({@link Binding.Tail}); the node checks the parent may grant each
         * @param envCaps  the env's capabilities (stubs, RpcTargets, functions) as a capability
         *                 payload, or null when the env holds none
         */
        public LoadDynamic {
            bindings = List.copyOf(bindings);
        }

        public LoadDynamic(long invocationId, long callId, String parentWorker, String id, WorkerBundle bundle,
                           String envJson, boolean networkAllowed, Limits limits, List<Binding> bindings) {
            this(invocationId, callId, parentWorker, id, bundle, envJson, networkAllowed, limits, bindings, null);
        }

        public LoadDynamic(long invocationId, long callId, String parentWorker, String id, WorkerBundle bundle,
                           String envJson, boolean networkAllowed, Limits limits) {
            this(invocationId, callId, parentWorker, id, bundle, envJson, networkAllowed, limits, List.of(), null);
        }
    }
    /** One module of a {@link LoadDynamicStart}: its content follows in {@link LoadDynamicChunk}s. */
    record ModuleHead(String name, String type, long size) {}

    record LoadDynamicStart(long invocationId, long callId, String parentWorker, String id, String mainModule,
                            List<ModuleHead> modules, String envJson, boolean networkAllowed, Limits limits,
                            List<Binding> bindings, byte[] envCaps, Compatibility compatibility) implements Message {
        /**
         * @param bindings as {@link LoadDynamic#bindings()}; @param envCaps as {@link LoadDynamic#envCaps()};
         * @param compatibility the bundle's ({@link WorkerBundle#compatibility()}: the WorkerCode's date and flags)
         */
        public LoadDynamicStart {
            modules = List.copyOf(modules);
            bindings = List.copyOf(bindings);
            java.util.Objects.requireNonNull(compatibility, "compatibility");
        }

        public LoadDynamicStart(long invocationId, long callId, String parentWorker, String id, String mainModule,
                                List<ModuleHead> modules, String envJson, boolean networkAllowed, Limits limits) {
            this(invocationId, callId, parentWorker, id, mainModule, modules, envJson, networkAllowed, limits, List.of(), null,
                    Compatibility.NONE);
        }
    }

    /** The next bytes of a {@link LoadDynamicStart}'s module contents. */
    record LoadDynamicChunk(long callId, byte[] data) implements Message {}

    /**
     * A piece of the serialized payload of the next {@link RpcCall} or {@link CapCall} under
     * {@code id} (its call id; {@code result} false) or of the next {@link RpcReturn} of invocation
     * {@code id} ({@code result} true), whose own payload is then empty: a payload of up to
     * {@link RpcPayloadParts#MAX_PAYLOAD} bytes leaves a sandbox in pieces of at most
     * {@link RpcPayloadParts#PIECE} bytes (see {@link RpcPayloadParts}). {@code total} is the
     * whole payload's size, the same in every piece.
     */
    record RpcPayloadChunk(long id, boolean result, long total, byte[] data) implements Message {}

    /** Largest piece of dynamic worker code in one {@link LoadDynamicChunk}. */
    int LOAD_CHUNK = 1 << 20;

    /** An outbound {@code fetch()} the node's egress gateway must decide and perform. */
    record Subrequest(long invocationId, long subrequestId, String method, String url, List<Header> headers,
                      byte[] body) implements Message {}

    /**
     * The worker consumed {@code bytes} more of a streamed subrequest response body: the node may
     * send that much more. At most {@link #SUBREQUEST_WINDOW} bytes are ever unacknowledged.
     */
    record SubrequestAck(long subrequestId, long bytes) implements Message {}

    /** The worker no longer wants a subrequest (its body stream was canceled, or its invocation ended). */
    record SubrequestCancel(long subrequestId) implements Message {}

    /**
     * A {@code connect()} socket opened with {@code secureTransport: "starttls"} calls
     * {@code startTls()}: sent in answer to a {@link SubrequestBodyPull}, after the last plain
     * piece, so the node starts TLS exactly there. The node answers a second {@link SubrequestHead}
     * once the handshake is done (or a {@link SubrequestEnd} with why it failed).
     */
    record SubrequestStartTls(long subrequestId) implements Message {}

    /**
     * A {@link Subrequest} whose request body is a stream: the node asks for it one chunk at a time
     * ({@link SubrequestBodyPull}), and the sandbox answers each pull with one {@link
     * SubrequestBodyChunk} (at most {@link #STREAM_CHUNK} bytes) or the {@link SubrequestBodyEnd}.
     */
    record StreamedSubrequest(long invocationId, long subrequestId, String method, String url, List<Header> headers)
            implements Message {}

    record SubrequestBodyChunk(long subrequestId, byte[] data) implements Message {}

    /** The streamed request body is complete ({@code error} null) or broken (the reason). */
    record SubrequestBodyEnd(long subrequestId, String error) implements Message {}

    /**
     * The response of invocation {@code invocationId} carries a WebSocket (a 101): {@code socketId} is
     * the invocation's own id for a socket made in it ({@code new WebSocketPair()}), or the id of a
     * socket another invocation handed over (a durable object's 101 returned by the worker). Sent
     * before the ResponseHead. {@code hibernatable}: accepted with {@code ctx.acceptWebSocket(ws, tags)}.
     */
    record SocketOpen(long invocationId, long socketId, boolean hibernatable, List<String> tags) implements Message {
        public SocketOpen {
            tags = List.copyOf(tags);
        }
    }

    /**
     * Invocation {@code invocationId} accepted ({@code ws.accept()}) the client end of socket
     * {@code socketId}, which a response handed to it (a durable object's 101), in an isolate of
     * worker {@code workerId}: the node now carries the socket between two isolates. That end's
     * events come to this sandbox, and its sends and closes leave it, under the id
     * {@code -socketId} (the server end keeps {@code socketId}). {@code object} is the durable
     * object whose event accepted it (null for a plain worker): an outbound socket it claims is
     * the object's, not the invocation's, and its events are the object's (through its gates).
     */
    record SocketClaim(long invocationId, long socketId, String workerId, Address.DurableObject object) implements Message {}

    /** {@code ws.send(...)} on a socket of this sandbox: exactly one of {@code text} and {@code data} is set. */
    record SocketSend(long socketId, String text, byte[] data) implements Message {}

    /** {@code ws.close(code, reason)} on a socket of this sandbox. */
    record SocketClose(long socketId, int code, String reason) implements Message {}

    /** {@code ws.serializeAttachment(value)}: the serialized value (null: none), kept by the node. */
    record SocketAttachment(long socketId, byte[] attachment) implements Message {}

    /**
     * {@code ctx.setWebSocketAutoResponse(pair)} of an object: the node answers {@code request} with
     * {@code response} on the object's hibernatable sockets without waking it. Null request: none.
     */
    record SocketAutoResponse(Address.DurableObject target, String request, String response) implements Message {}

    /**
     * The answer to a {@link SnapshotObject}: {@code error} is null when the copy was written, else
     * why not (shown to the operator).
     */
    record SnapshotTaken(long correlationId, String error) implements Message {}

    // ---- node → sandbox ----

    /**
     * Load a worker under an id; the sandbox answers WorkerLoaded or WorkerLoadFailed. Its env is
     * the JSON of its plain values plus the typed {@code bindings}.
     */
    record LoadWorker(long correlationId, String workerId, WorkerBundle bundle, String envJson,
                      List<Binding> bindings, boolean networkAllowed, Limits limits) implements Message {
        public LoadWorker {
            bindings = List.copyOf(bindings);
        }

        public LoadWorker(long correlationId, String workerId, WorkerBundle bundle, String envJson, Limits limits) {
            this(correlationId, workerId, bundle, envJson, List.of(), true, limits);
        }
    }

    /**
     * Start one fetch invocation of a loaded worker. Either {@code body} holds the whole request
     * body (or is null for none), or {@code bodyStreamed} is set and the body follows in
     * {@link RequestBodyChunk}s, one for each {@link RequestBodyPull}, then a {@link RequestBodyEnd}.
     */
    record FetchStart(long invocationId, Address target, String method, String url, List<Header> headers,
                      byte[] body, boolean bodyStreamed) implements Message {
        public FetchStart(long invocationId, String workerId, String method, String url, List<Header> headers,
                          byte[] body, boolean bodyStreamed) {
            this(invocationId, new Address.Worker(workerId), method, url, headers, body, bodyStreamed);
        }

        public FetchStart(long invocationId, String workerId, String method, String url, List<Header> headers,
                          byte[] body) {
            this(invocationId, workerId, method, url, headers, body, false);
        }

        public String workerId() {
            return target.workerId();
        }
    }

    /**
     * Run an object's {@code alarm({scheduledTime, retryCount, isRetry})} handler as an invocation
     * ({@code scheduledTime}: the alarm's time, epoch ms, as set). It answers as an RPC does:
     * RpcReturn (threw: the handler threw), then InvocationDone.
     */
    record AlarmStart(long invocationId, Address.DurableObject target, long scheduledTime, int retryCount, boolean isRetry)
            implements Message {}

    /** Start one RPC invocation at {@code target}: see {@link RpcCall}. Answered by RpcReturn, then InvocationDone. */
    record RpcStart(long invocationId, Address target, String method, byte[] args) implements Message {}

    /**
     * Deliver trace items to a tail worker: {@code target}'s {@code tail(events)} handler runs as an
     * invocation with {@code eventsJson} (a JSON array of Workers' TraceItem objects) as its
     * argument. Answered by InvocationDone (and InvocationFailed if the handler threw).
     */
    record TailStart(long invocationId, Address.Worker target, String eventsJson) implements Message {}

    /** The next chunk of a streamed request body, answering one pull. */
    record RequestBodyChunk(long invocationId, byte[] data) implements Message {}

    /** The streamed request body is complete ({@code error} null) or broken (the reason). */
    record RequestBodyEnd(long invocationId, String error) implements Message {}

    /**
     * The node has written {@code bytes} more of an invocation's response to its client. A worker
     * may have at most {@code Invocation.RESPONSE_WINDOW} bytes unacknowledged; past that its
     * response stream waits, so a client that reads slowly slows the worker, not the node's memory.
     */
    record ResponseAck(long invocationId, long bytes) implements Message {}

    /** The client went away or the node gave up: stop the invocation and drop its timers. */
    record Cancel(long invocationId, String reason) implements Message {}

    record SubrequestResult(long subrequestId, int status, String statusText, List<Header> headers, byte[] body,
                            String url) implements Message {}

    record SubrequestFailed(long subrequestId, String message) implements Message {}

    /**
     * The head of a subrequest's upstream response. Its body follows as {@link SubrequestChunk}s
     * (each at most {@link #STREAM_CHUNK} bytes, never more than {@link #SUBREQUEST_WINDOW} ahead
     * of the worker's {@link SubrequestAck}s) and one {@link SubrequestEnd}; {@code hasBody} false
     * means no chunk and no end follow.
     */
    record SubrequestHead(long subrequestId, int status, String statusText, List<Header> headers, String url,
                          boolean hasBody) implements Message {}

    record SubrequestChunk(long subrequestId, byte[] data) implements Message {}

    /** The upstream is ready for the next chunk of a {@link StreamedSubrequest}'s body. */
    record SubrequestBodyPull(long subrequestId) implements Message {}

    /** The upstream body is complete ({@code error} null) or broken (the reason, for the worker). */
    record SubrequestEnd(long subrequestId, String error) implements Message {}

    /** Largest body chunk either side puts in one streamed-body message. */
    int STREAM_CHUNK = 64 << 10;

    /** Subrequest response bytes the node may send ahead of the worker's acknowledgements. */
    long SUBREQUEST_WINDOW = 256 << 10;
    /** The answer to an {@link RpcCall}: the serialized result, or (threw) the serialized error. */
    record RpcResult(long callId, byte[] value, boolean threw) implements Message {}

    /** The dynamic worker a {@link LoadDynamic} asked for is loaded, under {@code workerId}. */
    record DynamicLoaded(long callId, String workerId) implements Message {}

    /** Forget a worker (an evicted dynamic worker): its isolates close, its later events fail. */
    record UnloadWorker(String workerId) implements Message {}

    /** The response of a {@link CallStart}, whole. */
    record CallResult(long callId, int status, String statusText, List<Header> headers, byte[] body)
            implements Message {}

    /**
     * A {@link CallStart} failed; {@code code} is an {@link ErrorCode} name. {@code thrown}: the
     * callee's thrown value as {@link InvocationFailed#thrown()} carried it, or null.
     */
    record CallFailed(long callId, String code, String message, byte[] thrown) implements Message {
        public CallFailed(long callId, String code, String message) {
            this(callId, code, message, null);
        }
    }

    /** What happened on a client's WebSocket. */
    enum SocketEventKind { MESSAGE, CLOSE, ERROR }

    /**
     * An event of a WebSocket at {@code target}, run as an invocation (answered by InvocationDone):
     * a message ({@code text} or {@code data}), the client's close ({@code code}, {@code reason}), or
     * an error ({@code reason}). Events of one socket are sent one at a time, in order.
     */
    record SocketEvent(long invocationId, Address target, long socketId, SocketEventKind kind, String text, byte[] data,
                       int code, String reason) implements Message {}

    /** One hibernatable WebSocket of an object as the node keeps it. */
    record SocketState(long socketId, List<String> tags, byte[] attachment) {
        public SocketState {
            tags = List.copyOf(tags);
        }
    }

    /**
     * The hibernatable WebSockets an object holds, sent to a sandbox before the first event it
     * delivers to that object there (the object comes back after its sandbox died).
     */
    record SocketRestore(Address.DurableObject target, List<SocketState> sockets) implements Message {
        public SocketRestore {
            sockets = List.copyOf(sockets);
        }
    }

    /**
     * Write a consistent copy of an object's committed database (SQLite's backup API) to the
     * sandbox's snapshot directory as {@code fileName}, on the object's own thread between its
     * events. Answered by {@link SnapshotTaken} under {@code correlationId}.
     */
    record SnapshotObject(long correlationId, Address.DurableObject target, String fileName) implements Message {}

    /** Ask the sandbox to exit cleanly. */
    record Shutdown() implements Message {}

    // ---- facets (issue 14; tags 120-121) ----

    /**
     * node → sandbox: stop the facet {@code target} (its instance is dropped, every event of it
     * still running fails with {@code reason}, its database is closed) and, if {@code delete},
     * remove its database. Answered by {@link FacetResetDone} under {@code correlationId}.
     */
    record FacetReset(long correlationId, Address.DurableObject target, String reason, boolean delete)
            implements Message {}

    /** sandbox → node: the answer to a {@link FacetReset}: {@code error} is null when it was done. */
    record FacetResetDone(long correlationId, String error) implements Message {}

    // ---- streamed calls (branch streamcalls; tags 101-109 and 116) ----
    //
    // A call's response streams back to its caller, and its request body may stream to the callee,
    // as the egress gateway's subrequests do: the callee's response window (Invocation.RESPONSE_WINDOW)
    // is opened only by the caller's CallAcks, so a caller that reads slowly slows the callee, and
    // nothing is buffered whole in the node. A response the callee ends before its first chunk
    // left (a body in hand) still travels as one CallResult.

    /**
     * node → sandbox: the head of a call's response whose body streams: {@link CallChunk}s (each at
     * most {@link #STREAM_CHUNK} bytes, never more than the callee's response window ahead of the
     * caller's {@link CallAck}s), then one {@link CallEnd}.
     */
    record CallHead(long callId, int status, String statusText, List<Header> headers) implements Message {}

    /** node → sandbox: the next bytes of a streamed call response. */
    record CallChunk(long callId, byte[] data) implements Message {}

    /** node → sandbox: the streamed call response is complete ({@code error} null) or broken (the reason). */
    record CallEnd(long callId, String error) implements Message {}

    /**
     * node → sandbox: the callee wants the next piece of a {@link StreamedCallStart}'s (or
     * {@link StreamedCapFetch}'s) request body; answered by one {@link CallBodyChunk} (at most
     * {@link #STREAM_CHUNK} bytes) or the {@link CallBodyEnd}.
     */
    record CallBodyPull(long callId) implements Message {}

    /** sandbox → node: the caller read {@code bytes} more of a streamed call response. */
    record CallAck(long callId, long bytes) implements Message {}

    /** sandbox → node: the caller no longer wants the call's response (its body was canceled, or its invocation ended). */
    record CallCancel(long callId) implements Message {}

    /** sandbox → node: the next piece of a streamed call request body, answering one {@link CallBodyPull}. */
    record CallBodyChunk(long callId, byte[] data) implements Message {}

    /** sandbox → node: the streamed call request body is complete ({@code error} null) or broken (the reason). */
    record CallBodyEnd(long callId, String error) implements Message {}

    /** sandbox → node: a {@link CallStart} whose request body follows on the node's {@link CallBodyPull}s. */
    record StreamedCallStart(long invocationId, long callId, Address target, String method, String url,
                             List<Header> headers) implements Message {}

    /** sandbox → node: a {@link CapFetch} whose request body follows on the node's {@link CallBodyPull}s. */
    record StreamedCapFetch(long invocationId, long callId, long capId, String method, String url,
                            List<Header> headers) implements Message {}

    // ---- capabilities passed by reference (see CapPayload; tags 110-114) ----

    /**
     * sandbox → node: a call on a stub the calling invocation holds: {@code capId} is the id the
     * node issued to it; {@code method} is "" to call a function stub itself; {@code args} is the
     * payload of the argument array, or null to read the property {@code method}. Answered, like
     * {@link RpcCall}, by {@link RpcResult} or {@link CallFailed} under {@code callId}.
     */
    record CapCall(long invocationId, long callId, long capId, String method, byte[] args) implements Message {}

    /**
     * sandbox → node: {@code fetch()} on a stub the calling invocation holds whose capability is a
     * durable object or a worker entrypoint (a stub passed on keeps its fetch()). Routed as
     * {@link CallStart} to the capability's address; answered by {@link CallResult} or
     * {@link CallFailed} under {@code callId}. Tag 115 (branch rpcgaps).
     */
    record CapFetch(long invocationId, long callId, long capId, String method, String url, List<Header> headers,
                    byte[] body) implements Message {}

    /**
     * node → sandbox: run a call on something this sandbox exported ({@code exportId} is the
     * sandbox's own id) as a new invocation in the isolate that exported it. Answered by RpcReturn,
     * then InvocationDone, as {@link RpcStart} is.
     */
    record CapStart(long invocationId, long exportId, String method, byte[] args) implements Message {}

    /**
     * sandbox → node: invocation {@code invocationId} gives up these capabilities (disposed, or the
     * invocation ended). Invocation 0: references held by a loaded worker's env.
     */
    record CapRelease(long invocationId, List<Long> capIds) implements Message {
        public CapRelease {
            capIds = List.copyOf(capIds);
        }
    }

    /** node → sandbox: no one holds these exports any more: drop them (their disposers run). */
    record ExportDrop(List<Long> exportIds) implements Message {
        public ExportDrop {
            exportIds = List.copyOf(exportIds);
        }
    }

    /**
     * sandbox → node: the exporter revokes these exports: every call on them fails from now on.
     * {@code contextEnded}: not revoked by the worker but ended with the durable object whose
     * events exported them (its reset), which callers are told in workerd's words.
     */
    record CapRevoke(List<Long> exportIds, boolean contextEnded) implements Message {
        public CapRevoke {
            exportIds = List.copyOf(exportIds);
        }

        public CapRevoke(List<Long> exportIds) {
            this(exportIds, false);
        }
    }
}
