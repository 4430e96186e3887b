package dev.bulwark.sandbox.ipc;

import dev.bulwark.sandbox.ipc.Message.*;
import dev.bulwark.sandbox.worker.Binding;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.Compatibility;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one codec of the node-sandbox protocol. A frame is a 4-byte big-endian length, then a
 * 1-byte tag, then the record's fields in declaration order. Strings are UTF-8 with a length
 * prefix; byte arrays are length-prefixed; a null is written as length -1.
 *
 * <p>Frames are bounded ({@link #MAX_FRAME}) so a corrupted or hostile peer cannot make the
 * reader allocate without limit.
 */
public final class MessageCodec {

    /** Larger than the largest code bundle (64 MiB) plus headroom. */
    public static final int MAX_FRAME = 96 << 20;

    private MessageCodec() {}

    private static final byte READY = 1, WORKER_LOADED = 2, WORKER_LOAD_FAILED = 3, RESPONSE_HEAD = 4,
            RESPONSE_CHUNK = 5, RESPONSE_END = 6, INVOCATION_FAILED = 7, INVOCATION_DONE = 8, LOG_LINE = 9,
            SUBREQUEST = 10, LOAD_WORKER = 20, FETCH_START = 21, CANCEL = 22, SUBREQUEST_RESULT = 23,
            SUBREQUEST_FAILED = 24, SHUTDOWN = 25, REQUEST_BODY_PULL = 11, REQUEST_BODY_CHUNK = 26,
            REQUEST_BODY_END = 27, RESPONSE_ACK = 28, CALL_START = 12, CALL_RESULT = 29, CALL_FAILED = 30,
            LOAD_DYNAMIC = 13, DYNAMIC_LOADED = 31, UNLOAD_WORKER = 32, RPC_CALL = 14, RPC_RETURN = 15, RPC_START = 33,
            RPC_RESULT = 34, ALARM_SET = 16, ALARM_START = 35, SOCKET_OPEN = 17, SOCKET_SEND = 18, SOCKET_CLOSE = 19,
            SOCKET_ATTACHMENT = 40, SOCKET_AUTO_RESPONSE = 41, SOCKET_EVENT = 36, SOCKET_RESTORE = 37,
            LOCAL_INVOCATION = 42, SOCKET_CLAIM = 38;
    private static final byte ADDRESS_WORKER = 1, ADDRESS_OBJECT = 2;
    private static final byte BINDING_NAMESPACE = 1, BINDING_LOADER = 2, BINDING_CAPABILITY = 10;
    // A capability in env whose stub has fetch() (and an object's id): branch rpcgaps.
    private static final byte BINDING_SHAPED_CAPABILITY = 11;
    // Service bindings, ctx.exports, globalOutbound, tails (the services branch): message tags from 80 up.
    private static final byte TAIL_START = 80;
    private static final byte BINDING_SERVICE = 3, BINDING_OUTBOUND = 4, BINDING_TAIL = 5, BINDING_EXPORTED_NAMESPACE = 6;
    // Streamed subrequests (egress). Tags from 60 up, apart from the others' ranges.
    private static final byte SUBREQUEST_ACK = 60, SUBREQUEST_CANCEL = 61, SUBREQUEST_HEAD = 62,
            SUBREQUEST_CHUNK = 63, SUBREQUEST_END = 64, STREAMED_SUBREQUEST = 65, SUBREQUEST_BODY_PULL = 66,
            SUBREQUEST_BODY_CHUNK = 67, SUBREQUEST_BODY_END = 68, SUBREQUEST_START_TLS = 69;
    // Dynamic worker code in chunks (the tenant API branch). Tags from 70 up.
    private static final byte LOAD_DYNAMIC_START = 70, LOAD_DYNAMIC_CHUNK = 71;
    // Capabilities passed by reference (the caps branch): tags 110-114 (80 is the services branch's TailStart, 90-91 admin's).
    private static final byte CAP_CALL = 110, CAP_START = 111, CAP_RELEASE = 112, EXPORT_DROP = 113, CAP_REVOKE = 114;
    private static final byte CAP_FETCH = 115; // branch rpcgaps
    // Operator access (the admin helper): tags from 90 up.
    private static final byte SNAPSHOT_OBJECT = 90, SNAPSHOT_TAKEN = 91;
    // Streamed calls (branch streamcalls): 101-109, and 116 beside CAP_FETCH.
    private static final byte CALL_HEAD = 101, CALL_CHUNK = 102, CALL_END = 103, CALL_BODY_PULL = 104, CALL_ACK = 105,
            CALL_CANCEL = 106, CALL_BODY_CHUNK = 107, CALL_BODY_END = 108, STREAMED_CALL_START = 109,
            STREAMED_CAP_FETCH = 116;
    // Facets (issue 14).
    private static final byte FACET_RESET = 120, FACET_RESET_DONE = 121;
    // Evicted objects' placements released (branch dirgc).
    private static final byte OBJECTS_EVICTED = (byte) 130;
    // RPC payloads in pieces (branch rpc32).
    private static final byte RPC_PAYLOAD_CHUNK = 117;

    /**
     * Writes one frame. Not thread-safe: callers serialize writes on one stream. A message whose
     * frame would pass {@link #MAX_FRAME} is refused with {@link FrameTooLargeException} before
     * anything is written, so the stream stays intact (the peer would otherwise take the stream
     * for corrupt and drop the connection, failing everything else on it).
     */
    public static void write(DataOutputStream out, Message message) throws IOException {
        Body body = new Body();
        encode(body, message);
        if (body.size() > MAX_FRAME) {
            throw new FrameTooLargeException(message.getClass().getSimpleName(), body.size());
        }
        out.writeInt(body.size());
        body.writeTo(out);
    }

    /**
     * One frame as bytes (length and body), refused as {@link #write} refuses it: a writer can
     * encode (and be refused) on its own thread and write later.
     */
    public static byte[] frame(Message message) {
        Body body = new Body();
        try {
            encode(body, message);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // (in memory: never)
        }
        int n = body.size();
        if (n > MAX_FRAME) throw new FrameTooLargeException(message.getClass().getSimpleName(), n);
        byte[] frame = new byte[4 + n];
        frame[0] = (byte) (n >>> 24);
        frame[1] = (byte) (n >>> 16);
        frame[2] = (byte) (n >>> 8);
        frame[3] = (byte) n;
        System.arraycopy(body.bytes.toByteArray(), 0, frame, 4, n);
        return frame;
    }

    /** Reads one frame; throws EOFException at a clean end of stream. */
    public static Message read(DataInputStream in) throws IOException {
        return read(in, MAX_FRAME);
    }

    /** Reads one frame of at most {@code maxFrame} bytes (a reader's own, smaller bound). */
    public static Message read(DataInputStream in, int maxFrame) throws IOException {
        int length;
        try {
            length = in.readInt();
        } catch (EOFException e) {
            throw e;
        }
        if (length < 1 || length > Math.min(maxFrame, MAX_FRAME)) throw new IOException("bad frame length " + length);
        byte[] frame = new byte[length];
        in.readFully(frame);
        DataInputStream d = new DataInputStream(new java.io.ByteArrayInputStream(frame));
        Message m = decode(d);
        if (d.available() != 0) throw new IOException("trailing bytes in frame of " + m.getClass().getSimpleName());
        return m;
    }

    private static void encode(Body b, Message message) throws IOException {
        DataOutputStream o = b.out;
        switch (message) {
            case Ready m -> { o.writeByte(READY); o.writeInt(m.protocolVersion()); o.writeLong(m.pid()); }
            case WorkerLoaded m -> { o.writeByte(WORKER_LOADED); o.writeLong(m.correlationId()); str(o, m.workerId()); }
            case WorkerLoadFailed m -> {
                o.writeByte(WORKER_LOAD_FAILED); o.writeLong(m.correlationId()); str(o, m.workerId());
                str(o, m.code()); str(o, m.message());
            }
            case ResponseHead m -> {
                o.writeByte(RESPONSE_HEAD); o.writeLong(m.invocationId()); o.writeInt(m.status());
                str(o, m.statusText()); headers(o, m.headers());
            }
            case ResponseChunk m -> { o.writeByte(RESPONSE_CHUNK); o.writeLong(m.invocationId()); bytes(o, m.data()); }
            case ResponseEnd m -> { o.writeByte(RESPONSE_END); o.writeLong(m.invocationId()); }
            case InvocationFailed m -> {
                o.writeByte(INVOCATION_FAILED); o.writeLong(m.invocationId()); str(o, m.code()); str(o, m.message());
                o.writeBoolean(m.passThrough()); bytes(o, m.thrown());
            }
            case InvocationDone m -> { o.writeByte(INVOCATION_DONE); o.writeLong(m.invocationId()); o.writeLong(m.cpuMicros()); }
            case LogLine m -> {
                o.writeByte(LOG_LINE); str(o, m.workerId()); o.writeLong(m.invocationId()); str(o, m.level());
                str(o, m.message()); o.writeLong(m.timestampMillis());
            }
            case Subrequest m -> {
                o.writeByte(SUBREQUEST); o.writeLong(m.invocationId()); o.writeLong(m.subrequestId());
                str(o, m.method()); str(o, m.url()); headers(o, m.headers()); bytes(o, m.body());
            }
            case LoadWorker m -> {
                o.writeByte(LOAD_WORKER); o.writeLong(m.correlationId()); str(o, m.workerId());
                bundle(o, m.bundle()); str(o, m.envJson()); bindings(o, m.bindings()); o.writeBoolean(m.networkAllowed());
                limits(o, m.limits());
            }
            case FetchStart m -> {
                o.writeByte(FETCH_START); o.writeLong(m.invocationId()); address(o, m.target()); str(o, m.method());
                str(o, m.url()); headers(o, m.headers()); bytes(o, m.body()); o.writeBoolean(m.bodyStreamed());
            }
            case RequestBodyPull m -> { o.writeByte(REQUEST_BODY_PULL); o.writeLong(m.invocationId()); }
            case RequestBodyChunk m -> { o.writeByte(REQUEST_BODY_CHUNK); o.writeLong(m.invocationId()); bytes(o, m.data()); }
            case RequestBodyEnd m -> { o.writeByte(REQUEST_BODY_END); o.writeLong(m.invocationId()); str(o, m.error()); }
            case ResponseAck m -> { o.writeByte(RESPONSE_ACK); o.writeLong(m.invocationId()); o.writeLong(m.bytes()); }
            case Cancel m -> { o.writeByte(CANCEL); o.writeLong(m.invocationId()); str(o, m.reason()); }
            case SubrequestResult m -> {
                o.writeByte(SUBREQUEST_RESULT); o.writeLong(m.subrequestId()); o.writeInt(m.status());
                str(o, m.statusText()); headers(o, m.headers()); bytes(o, m.body()); str(o, m.url());
            }
            case SubrequestFailed m -> { o.writeByte(SUBREQUEST_FAILED); o.writeLong(m.subrequestId()); str(o, m.message()); }
            case CallStart m -> {
                o.writeByte(CALL_START); o.writeLong(m.invocationId()); o.writeLong(m.callId()); address(o, m.target());
                str(o, m.method()); str(o, m.url()); headers(o, m.headers()); bytes(o, m.body());
            }
            case CallResult m -> {
                o.writeByte(CALL_RESULT); o.writeLong(m.callId()); o.writeInt(m.status()); str(o, m.statusText());
                headers(o, m.headers()); bytes(o, m.body());
            }
            case CallFailed m -> {
                o.writeByte(CALL_FAILED); o.writeLong(m.callId()); str(o, m.code()); str(o, m.message()); bytes(o, m.thrown());
            }
            case LoadDynamic m -> {
                o.writeByte(LOAD_DYNAMIC); o.writeLong(m.invocationId()); o.writeLong(m.callId()); str(o, m.parentWorker());
                str(o, m.id());
                o.writeBoolean(m.bundle() != null);
                if (m.bundle() != null) bundle(o, m.bundle());
                str(o, m.envJson()); o.writeBoolean(m.networkAllowed()); limits(o, m.limits()); bindings(o, m.bindings()); bytes(o, m.envCaps());
            }
            case TailStart m -> { o.writeByte(TAIL_START); o.writeLong(m.invocationId()); address(o, m.target()); str(o, m.eventsJson()); }
            case DynamicLoaded m -> { o.writeByte(DYNAMIC_LOADED); o.writeLong(m.callId()); str(o, m.workerId()); }
            case RpcCall m -> {
                o.writeByte(RPC_CALL); o.writeLong(m.invocationId()); o.writeLong(m.callId()); address(o, m.target());
                str(o, m.method()); bytes(o, m.args());
            }
            case ObjectsEvicted m -> {
                o.writeByte(OBJECTS_EVICTED); o.writeInt(m.objects().size());
                for (Address.DurableObject a : m.objects()) address(o, a);
            }
            case LocalInvocation m -> {
                o.writeByte(LOCAL_INVOCATION); o.writeLong(m.invocationId()); o.writeLong(m.callerInvocationId());
                address(o, m.target()); o.writeBoolean(m.rpc());
            }
            case RpcReturn m -> { o.writeByte(RPC_RETURN); o.writeLong(m.invocationId()); bytes(o, m.value()); o.writeBoolean(m.threw()); }
            case RpcStart m -> {
                o.writeByte(RPC_START); o.writeLong(m.invocationId()); address(o, m.target()); str(o, m.method());
                bytes(o, m.args());
            }
            case RpcResult m -> { o.writeByte(RPC_RESULT); o.writeLong(m.callId()); bytes(o, m.value()); o.writeBoolean(m.threw()); }
            case AlarmSet m -> {
                o.writeByte(ALARM_SET); address(o, m.target()); o.writeBoolean(m.epochMillis() != null);
                if (m.epochMillis() != null) o.writeLong(m.epochMillis());
            }
            case AlarmStart m -> {
                o.writeByte(ALARM_START); o.writeLong(m.invocationId()); address(o, m.target()); o.writeLong(m.scheduledTime());
                o.writeInt(m.retryCount());
                o.writeBoolean(m.isRetry());
            }
            case SocketOpen m -> {
                o.writeByte(SOCKET_OPEN); o.writeLong(m.invocationId()); o.writeLong(m.socketId());
                o.writeBoolean(m.hibernatable()); strings(o, m.tags());
            }
            case SocketClaim m -> {
                o.writeByte(SOCKET_CLAIM); o.writeLong(m.invocationId()); o.writeLong(m.socketId()); str(o, m.workerId());
                o.writeBoolean(m.object() != null);
                if (m.object() != null) address(o, m.object());
            }
            case SocketSend m -> { o.writeByte(SOCKET_SEND); o.writeLong(m.socketId()); str(o, m.text()); bytes(o, m.data()); }
            case SocketClose m -> { o.writeByte(SOCKET_CLOSE); o.writeLong(m.socketId()); o.writeInt(m.code()); str(o, m.reason()); }
            case SocketAttachment m -> { o.writeByte(SOCKET_ATTACHMENT); o.writeLong(m.socketId()); bytes(o, m.attachment()); }
            case SocketAutoResponse m -> {
                o.writeByte(SOCKET_AUTO_RESPONSE); address(o, m.target()); str(o, m.request()); str(o, m.response());
            }
            case SocketEvent m -> {
                o.writeByte(SOCKET_EVENT); o.writeLong(m.invocationId()); address(o, m.target()); o.writeLong(m.socketId());
                o.writeByte(m.kind().ordinal()); str(o, m.text()); bytes(o, m.data()); o.writeInt(m.code()); str(o, m.reason());
            }
            case SocketRestore m -> {
                o.writeByte(SOCKET_RESTORE); address(o, m.target()); o.writeInt(m.sockets().size());
                for (SocketState st : m.sockets()) {
                    o.writeLong(st.socketId()); strings(o, st.tags()); bytes(o, st.attachment());
                }
            }
            case UnloadWorker m -> { o.writeByte(UNLOAD_WORKER); str(o, m.workerId()); }
            case Shutdown m -> o.writeByte(SHUTDOWN);
            case LoadDynamicStart m -> {
                o.writeByte(LOAD_DYNAMIC_START); o.writeLong(m.invocationId()); o.writeLong(m.callId());
                str(o, m.parentWorker()); str(o, m.id()); str(o, m.mainModule());
                o.writeInt(m.modules().size());
                for (ModuleHead h : m.modules()) { str(o, h.name()); str(o, h.type()); o.writeLong(h.size()); }
                str(o, m.envJson()); o.writeBoolean(m.networkAllowed()); limits(o, m.limits()); bindings(o, m.bindings()); bytes(o, m.envCaps());
                compatibility(o, m.compatibility());
            }
            case LoadDynamicChunk m -> { o.writeByte(LOAD_DYNAMIC_CHUNK); o.writeLong(m.callId()); bytes(o, m.data()); }
            case RpcPayloadChunk m -> {
                o.writeByte(RPC_PAYLOAD_CHUNK); o.writeLong(m.id()); o.writeBoolean(m.result()); o.writeLong(m.total()); bytes(o, m.data());
            }
            case SnapshotObject m -> {
                o.writeByte(SNAPSHOT_OBJECT); o.writeLong(m.correlationId()); address(o, m.target()); str(o, m.fileName());
            }
            case SnapshotTaken m -> { o.writeByte(SNAPSHOT_TAKEN); o.writeLong(m.correlationId()); str(o, m.error()); }
            case FacetReset m -> {
                o.writeByte(FACET_RESET); o.writeLong(m.correlationId()); address(o, m.target()); str(o, m.reason());
                o.writeBoolean(m.delete());
            }
            case FacetResetDone m -> { o.writeByte(FACET_RESET_DONE); o.writeLong(m.correlationId()); str(o, m.error()); }
            case CapCall m -> {
                o.writeByte(CAP_CALL); o.writeLong(m.invocationId()); o.writeLong(m.callId()); o.writeLong(m.capId());
                str(o, m.method()); bytes(o, m.args());
            }
            case CapStart m -> {
                o.writeByte(CAP_START); o.writeLong(m.invocationId()); o.writeLong(m.exportId()); str(o, m.method());
                bytes(o, m.args());
            }
            case CapFetch m -> {
                o.writeByte(CAP_FETCH); o.writeLong(m.invocationId()); o.writeLong(m.callId()); o.writeLong(m.capId());
                str(o, m.method()); str(o, m.url()); headers(o, m.headers()); bytes(o, m.body());
            }
            case CapRelease m -> { o.writeByte(CAP_RELEASE); o.writeLong(m.invocationId()); longs(o, m.capIds()); }
            case ExportDrop m -> { o.writeByte(EXPORT_DROP); longs(o, m.exportIds()); }
            case CapRevoke m -> { o.writeByte(CAP_REVOKE); longs(o, m.exportIds()); o.writeBoolean(m.contextEnded()); }
            case SubrequestAck m -> { o.writeByte(SUBREQUEST_ACK); o.writeLong(m.subrequestId()); o.writeLong(m.bytes()); }
            case SubrequestCancel m -> { o.writeByte(SUBREQUEST_CANCEL); o.writeLong(m.subrequestId()); }
            case SubrequestHead m -> {
                o.writeByte(SUBREQUEST_HEAD); o.writeLong(m.subrequestId()); o.writeInt(m.status());
                str(o, m.statusText()); headers(o, m.headers()); str(o, m.url()); o.writeBoolean(m.hasBody());
            }
            case SubrequestChunk m -> { o.writeByte(SUBREQUEST_CHUNK); o.writeLong(m.subrequestId()); bytes(o, m.data()); }
            case SubrequestEnd m -> { o.writeByte(SUBREQUEST_END); o.writeLong(m.subrequestId()); str(o, m.error()); }
            case StreamedSubrequest m -> {
                o.writeByte(STREAMED_SUBREQUEST); o.writeLong(m.invocationId()); o.writeLong(m.subrequestId());
                str(o, m.method()); str(o, m.url()); headers(o, m.headers());
            }
            case SubrequestBodyPull m -> { o.writeByte(SUBREQUEST_BODY_PULL); o.writeLong(m.subrequestId()); }
            case SubrequestBodyChunk m -> { o.writeByte(SUBREQUEST_BODY_CHUNK); o.writeLong(m.subrequestId()); bytes(o, m.data()); }
            case SubrequestBodyEnd m -> { o.writeByte(SUBREQUEST_BODY_END); o.writeLong(m.subrequestId()); str(o, m.error()); }
            case SubrequestStartTls m -> { o.writeByte(SUBREQUEST_START_TLS); o.writeLong(m.subrequestId()); }
            case CallHead m -> {
                o.writeByte(CALL_HEAD); o.writeLong(m.callId()); o.writeInt(m.status()); str(o, m.statusText());
                headers(o, m.headers());
            }
            case CallChunk m -> { o.writeByte(CALL_CHUNK); o.writeLong(m.callId()); bytes(o, m.data()); }
            case CallEnd m -> { o.writeByte(CALL_END); o.writeLong(m.callId()); str(o, m.error()); }
            case CallBodyPull m -> { o.writeByte(CALL_BODY_PULL); o.writeLong(m.callId()); }
            case CallAck m -> { o.writeByte(CALL_ACK); o.writeLong(m.callId()); o.writeLong(m.bytes()); }
            case CallCancel m -> { o.writeByte(CALL_CANCEL); o.writeLong(m.callId()); }
            case CallBodyChunk m -> { o.writeByte(CALL_BODY_CHUNK); o.writeLong(m.callId()); bytes(o, m.data()); }
            case CallBodyEnd m -> { o.writeByte(CALL_BODY_END); o.writeLong(m.callId()); str(o, m.error()); }
            case StreamedCallStart m -> {
                o.writeByte(STREAMED_CALL_START); o.writeLong(m.invocationId()); o.writeLong(m.callId());
                address(o, m.target()); str(o, m.method()); str(o, m.url()); headers(o, m.headers());
            }
            case StreamedCapFetch m -> {
                o.writeByte(STREAMED_CAP_FETCH); o.writeLong(m.invocationId()); o.writeLong(m.callId()); o.writeLong(m.capId());
                str(o, m.method()); str(o, m.url()); headers(o, m.headers());
            }
        }
    }

    private static Message decode(DataInputStream i) throws IOException {
        byte tag = i.readByte();
        return switch (tag) {
            case READY -> new Ready(i.readInt(), i.readLong());
            case WORKER_LOADED -> new WorkerLoaded(i.readLong(), str(i));
            case WORKER_LOAD_FAILED -> new WorkerLoadFailed(i.readLong(), str(i), str(i), str(i));
            case RESPONSE_HEAD -> new ResponseHead(i.readLong(), i.readInt(), str(i), headers(i));
            case RESPONSE_CHUNK -> new ResponseChunk(i.readLong(), bytes(i));
            case RESPONSE_END -> new ResponseEnd(i.readLong());
            case INVOCATION_FAILED -> new InvocationFailed(i.readLong(), str(i), str(i), i.readBoolean(), bytes(i));
            case INVOCATION_DONE -> new InvocationDone(i.readLong(), i.readLong());
            case LOG_LINE -> new LogLine(str(i), i.readLong(), str(i), str(i), i.readLong());
            case SUBREQUEST -> new Subrequest(i.readLong(), i.readLong(), str(i), str(i), headers(i), bytes(i));
            case LOAD_WORKER -> new LoadWorker(i.readLong(), str(i), bundle(i), str(i), bindings(i), i.readBoolean(), limits(i));
            case LOAD_DYNAMIC -> new LoadDynamic(i.readLong(), i.readLong(), str(i), str(i), i.readBoolean() ? bundle(i) : null,
                    str(i), i.readBoolean(), limits(i), bindings(i), bytes(i));
            case TAIL_START -> new TailStart(i.readLong(), workerAddress(i), str(i));
            case DYNAMIC_LOADED -> new DynamicLoaded(i.readLong(), str(i));
            case RPC_CALL -> new RpcCall(i.readLong(), i.readLong(), address(i), str(i), bytes(i));
            case OBJECTS_EVICTED -> {
                int n = i.readInt();
                if (n < 0 || n > i.available()) throw new IOException("bad count " + n);
                List<Address.DurableObject> objects = new ArrayList<>(n);
                for (int k = 0; k < n; k++) objects.add(objectAddress(i));
                yield new ObjectsEvicted(objects);
            }
            case LOCAL_INVOCATION -> new LocalInvocation(i.readLong(), i.readLong(), objectAddress(i), i.readBoolean());
            case RPC_RETURN -> new RpcReturn(i.readLong(), bytes(i), i.readBoolean());
            case RPC_START -> new RpcStart(i.readLong(), address(i), str(i), bytes(i));
            case RPC_RESULT -> new RpcResult(i.readLong(), bytes(i), i.readBoolean());
            case ALARM_SET -> new AlarmSet(objectAddress(i), i.readBoolean() ? i.readLong() : null);
            case ALARM_START -> new AlarmStart(i.readLong(), objectAddress(i), i.readLong(), i.readInt(), i.readBoolean());
            case SOCKET_OPEN -> new SocketOpen(i.readLong(), i.readLong(), i.readBoolean(), strings(i));
            case SOCKET_CLAIM -> new SocketClaim(i.readLong(), i.readLong(), str(i), i.readBoolean() ? objectAddress(i) : null);
            case SOCKET_SEND -> new SocketSend(i.readLong(), str(i), bytes(i));
            case SOCKET_CLOSE -> new SocketClose(i.readLong(), i.readInt(), str(i));
            case SOCKET_ATTACHMENT -> new SocketAttachment(i.readLong(), bytes(i));
            case SOCKET_AUTO_RESPONSE -> new SocketAutoResponse(objectAddress(i), str(i), str(i));
            case SOCKET_EVENT -> new SocketEvent(i.readLong(), address(i), i.readLong(), socketEventKind(i.readByte()), str(i),
                    bytes(i), i.readInt(), str(i));
            case SOCKET_RESTORE -> {
                Address.DurableObject target = objectAddress(i);
                int n = count(i);
                List<SocketState> list = new ArrayList<>(n);
                for (int k = 0; k < n; k++) list.add(new SocketState(i.readLong(), strings(i), bytes(i)));
                yield new SocketRestore(target, list);
            }
            case UNLOAD_WORKER -> new UnloadWorker(str(i));
            case FETCH_START -> new FetchStart(i.readLong(), address(i), str(i), str(i), headers(i), bytes(i), i.readBoolean());
            case CALL_START -> new CallStart(i.readLong(), i.readLong(), address(i), str(i), str(i), headers(i), bytes(i));
            case CALL_RESULT -> new CallResult(i.readLong(), i.readInt(), str(i), headers(i), bytes(i));
            case CALL_FAILED -> new CallFailed(i.readLong(), str(i), str(i), bytes(i));
            case REQUEST_BODY_PULL -> new RequestBodyPull(i.readLong());
            case REQUEST_BODY_CHUNK -> new RequestBodyChunk(i.readLong(), bytes(i));
            case REQUEST_BODY_END -> new RequestBodyEnd(i.readLong(), str(i));
            case CANCEL -> new Cancel(i.readLong(), str(i));
            case RESPONSE_ACK -> new ResponseAck(i.readLong(), i.readLong());
            case SUBREQUEST_RESULT -> new SubrequestResult(i.readLong(), i.readInt(), str(i), headers(i), bytes(i), str(i));
            case SUBREQUEST_FAILED -> new SubrequestFailed(i.readLong(), str(i));
            case SHUTDOWN -> new Shutdown();
            case LOAD_DYNAMIC_START -> {
                long invocationId = i.readLong(), callId = i.readLong();
                String parent = str(i), id = str(i), main = str(i);
                int n = count(i);
                List<ModuleHead> heads = new ArrayList<>(Math.min(n, 1024));
                for (int k = 0; k < n; k++) heads.add(new ModuleHead(str(i), str(i), i.readLong()));
                yield new LoadDynamicStart(invocationId, callId, parent, id, main, heads, str(i), i.readBoolean(), limits(i),
                        bindings(i), bytes(i), compatibility(i));
            }
            case LOAD_DYNAMIC_CHUNK -> new LoadDynamicChunk(i.readLong(), bytes(i));
            case RPC_PAYLOAD_CHUNK -> new RpcPayloadChunk(i.readLong(), i.readBoolean(), i.readLong(), bytes(i));
            case SNAPSHOT_OBJECT -> new SnapshotObject(i.readLong(), objectAddress(i), str(i));
            case SNAPSHOT_TAKEN -> new SnapshotTaken(i.readLong(), str(i));
            case FACET_RESET -> new FacetReset(i.readLong(), objectAddress(i), str(i), i.readBoolean());
            case FACET_RESET_DONE -> new FacetResetDone(i.readLong(), str(i));
            case CAP_CALL -> new CapCall(i.readLong(), i.readLong(), i.readLong(), str(i), bytes(i));
            case CAP_START -> new CapStart(i.readLong(), i.readLong(), str(i), bytes(i));
            case CAP_RELEASE -> new CapRelease(i.readLong(), longs(i));
            case EXPORT_DROP -> new ExportDrop(longs(i));
            case CAP_REVOKE -> new CapRevoke(longs(i), i.readBoolean());
            case CAP_FETCH -> new CapFetch(i.readLong(), i.readLong(), i.readLong(), str(i), str(i), headers(i), bytes(i));
            case SUBREQUEST_ACK -> new SubrequestAck(i.readLong(), i.readLong());
            case SUBREQUEST_CANCEL -> new SubrequestCancel(i.readLong());
            case SUBREQUEST_HEAD -> new SubrequestHead(i.readLong(), i.readInt(), str(i), headers(i), str(i), i.readBoolean());
            case SUBREQUEST_CHUNK -> new SubrequestChunk(i.readLong(), bytes(i));
            case SUBREQUEST_END -> new SubrequestEnd(i.readLong(), str(i));
            case STREAMED_SUBREQUEST -> new StreamedSubrequest(i.readLong(), i.readLong(), str(i), str(i), headers(i));
            case SUBREQUEST_BODY_PULL -> new SubrequestBodyPull(i.readLong());
            case SUBREQUEST_BODY_CHUNK -> new SubrequestBodyChunk(i.readLong(), bytes(i));
            case SUBREQUEST_BODY_END -> new SubrequestBodyEnd(i.readLong(), str(i));
            case SUBREQUEST_START_TLS -> new SubrequestStartTls(i.readLong());
            case CALL_HEAD -> new CallHead(i.readLong(), i.readInt(), str(i), headers(i));
            case CALL_CHUNK -> new CallChunk(i.readLong(), bytes(i));
            case CALL_END -> new CallEnd(i.readLong(), str(i));
            case CALL_BODY_PULL -> new CallBodyPull(i.readLong());
            case CALL_ACK -> new CallAck(i.readLong(), i.readLong());
            case CALL_CANCEL -> new CallCancel(i.readLong());
            case CALL_BODY_CHUNK -> new CallBodyChunk(i.readLong(), bytes(i));
            case CALL_BODY_END -> new CallBodyEnd(i.readLong(), str(i));
            case STREAMED_CALL_START -> new StreamedCallStart(i.readLong(), i.readLong(), address(i), str(i), str(i), headers(i));
            case STREAMED_CAP_FETCH -> new StreamedCapFetch(i.readLong(), i.readLong(), i.readLong(), str(i), str(i), headers(i));
            default -> throw new IOException("unknown message tag " + tag);
        };
    }

    private static void str(DataOutputStream o, String s) throws IOException {
        bytes(o, s == null ? null : s.getBytes(StandardCharsets.UTF_8));
    }

    private static String str(DataInputStream i) throws IOException {
        byte[] b = bytes(i);
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    private static void bytes(DataOutputStream o, byte[] b) throws IOException {
        if (b != null && b.length > MAX_FRAME) throw new FrameTooLargeException("a field", b.length);
        if (b == null) {
            o.writeInt(-1);
        } else {
            o.writeInt(b.length);
            o.write(b);
        }
    }

    private static byte[] bytes(DataInputStream i) throws IOException {
        int n = i.readInt();
        if (n == -1) return null;
        if (n < 0 || n > MAX_FRAME) throw new IOException("bad length " + n);
        byte[] b = new byte[n];
        i.readFully(b);
        return b;
    }

    private static void strings(DataOutputStream o, List<String> list) throws IOException {
        o.writeInt(list.size());
        for (String v : list) str(o, v);
    }

    private static List<String> strings(DataInputStream i) throws IOException {
        int n = count(i);
        List<String> list = new ArrayList<>(n);
        for (int k = 0; k < n; k++) {
            String v = str(i);
            if (v == null) throw new IOException("null in a list of strings");
            list.add(v);
        }
        return list;
    }

    private static SocketEventKind socketEventKind(byte b) throws IOException {
        SocketEventKind[] kinds = SocketEventKind.values();
        if (b < 0 || b >= kinds.length) throw new IOException("unknown socket event kind " + b);
        return kinds[b];
    }

    private static void headers(DataOutputStream o, List<Header> headers) throws IOException {
        o.writeInt(headers.size());
        for (Header h : headers) {
            str(o, h.name());
            str(o, h.value());
        }
    }

    private static List<Header> headers(DataInputStream i) throws IOException {
        int n = count(i);
        List<Header> list = new ArrayList<>(n);
        for (int k = 0; k < n; k++) list.add(new Header(str(i), str(i)));
        return List.copyOf(list);
    }

    private static void address(DataOutputStream o, Address a) throws IOException {
        switch (a) {
            case Address.Worker w -> {
                o.writeByte(ADDRESS_WORKER); str(o, w.workerId()); str(o, w.entrypoint());
                Address.Grant g = w.grant();
                o.writeBoolean(g != null);
                if (g != null) { bytes(o, g.props()); o.writeLong(g.cpuMs()); o.writeInt(g.subrequests()); }
            }
            case Address.DurableObject d -> {
                o.writeByte(ADDRESS_OBJECT); str(o, d.workerId()); str(o, d.className()); str(o, d.objectId());
                str(o, d.name());
            }
        }
    }

    private static Address address(DataInputStream i) throws IOException {
        byte kind = i.readByte();
        try {
            return switch (kind) {
                case ADDRESS_WORKER -> new Address.Worker(str(i), str(i),
                        i.readBoolean() ? new Address.Grant(bytes(i), i.readLong(), i.readInt()) : null);
                case ADDRESS_OBJECT -> new Address.DurableObject(str(i), str(i), str(i), str(i));
                default -> throw new IOException("unknown address kind " + kind);
            };
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IOException("bad address: " + e.getMessage());
        }
    }

    private static Address.Worker workerAddress(DataInputStream i) throws IOException {
        if (address(i) instanceof Address.Worker w) return w;
        throw new IOException("expected a worker's address");
    }

    private static Address.DurableObject objectAddress(DataInputStream i) throws IOException {
        if (address(i) instanceof Address.DurableObject o) return o;
        throw new IOException("expected a durable object's address");
    }

    private static void longs(DataOutputStream o, List<Long> values) throws IOException {
        o.writeInt(values.size());
        for (long v : values) o.writeLong(v);
    }

    private static List<Long> longs(DataInputStream i) throws IOException {
        int n = i.readInt();
        if (n < 0 || n > i.available() / 8) throw new IOException("bad count " + n);
        List<Long> list = new ArrayList<>(n);
        for (int k = 0; k < n; k++) list.add(i.readLong());
        return list;
    }

    private static void bindings(DataOutputStream o, List<Binding> bindings) throws IOException {
        o.writeInt(bindings.size());
        for (Binding b : bindings) {
            switch (b) {
                case Binding.DurableObjectNamespace n -> {
                    o.writeByte(BINDING_NAMESPACE); str(o, n.name()); str(o, n.workerId()); str(o, n.className());
                    bytes(o, n.namespaceKey());
                }
                case Binding.WorkerLoader l -> { o.writeByte(BINDING_LOADER); str(o, l.name()); }
                case Binding.Capability c when c.shape() instanceof CapPayload.Plain -> {
                    o.writeByte(BINDING_CAPABILITY); str(o, c.name()); o.writeLong(c.capId());
                }
                case Binding.Capability c -> {
                    // The shape travels as a one-ref capability header (CapPayload's own encoding).
                    o.writeByte(BINDING_SHAPED_CAPABILITY); str(o, c.name());
                    bytes(o, new CapPayload(List.of(new CapPayload.Held(c.capId(), c.shape())), new byte[0]).encode());
                }
                case Binding.Service sv -> { o.writeByte(BINDING_SERVICE); str(o, sv.name()); address(o, sv.target()); }
                case Binding.Outbound ob -> { o.writeByte(BINDING_OUTBOUND); address(o, ob.target()); }
                case Binding.Tail t -> { o.writeByte(BINDING_TAIL); address(o, t.target()); }
                case Binding.ExportedNamespace e -> {
                    o.writeByte(BINDING_EXPORTED_NAMESPACE); str(o, e.className()); bytes(o, e.namespaceKey());
                }
            }
        }
    }

    private static List<Binding> bindings(DataInputStream i) throws IOException {
        int n = count(i);
        List<Binding> list = new ArrayList<>(n);
        for (int k = 0; k < n; k++) {
            byte kind = i.readByte();
            try {
                list.add(switch (kind) {
                    case BINDING_NAMESPACE -> new Binding.DurableObjectNamespace(str(i), str(i), str(i), bytes(i));
                    case BINDING_LOADER -> new Binding.WorkerLoader(str(i));
                    case BINDING_CAPABILITY -> new Binding.Capability(str(i), i.readLong());
                    case BINDING_SHAPED_CAPABILITY -> {
                        String name = str(i);
                        byte[] ref = bytes(i);
                        if (ref == null || !(CapPayload.decode(ref).refs().size() == 1
                                && CapPayload.decode(ref).refs().getFirst() instanceof CapPayload.Held h)) {
                            throw new IOException("bad capability binding");
                        }
                        yield new Binding.Capability(name, h.capId(), h.shape());
                    }
                    case BINDING_SERVICE -> new Binding.Service(str(i), workerAddress(i));
                    case BINDING_OUTBOUND -> new Binding.Outbound(workerAddress(i));
                    case BINDING_TAIL -> new Binding.Tail(address(i));
                    case BINDING_EXPORTED_NAMESPACE -> new Binding.ExportedNamespace(str(i), bytes(i));
                    default -> throw new IOException("unknown binding kind " + kind);
                });
            } catch (IllegalArgumentException | NullPointerException e) {
                throw new IOException("bad binding: " + e.getMessage());
            }
        }
        return list;
    }

    private static void bundle(DataOutputStream o, WorkerBundle b) throws IOException {
        str(o, b.mainModule());
        o.writeInt(b.modules().size());
        for (WorkerModule m : b.modules().values()) {
            str(o, m.name());
            str(o, m.type().wireName());
            bytes(o, m.content());
        }
        compatibility(o, b.compatibility());
    }

    private static void compatibility(DataOutputStream o, Compatibility c) throws IOException {
        o.writeBoolean(c.date() != null);
        if (c.date() != null) str(o, c.date());
        o.writeInt(c.flags().size());
        for (String flag : c.flags()) str(o, flag);
    }

    private static Compatibility compatibility(DataInputStream i) throws IOException {
        String date = i.readBoolean() ? str(i) : null;
        int flagCount = count(i);
        List<String> flags = new ArrayList<>(Math.min(flagCount, 1024));
        for (int k = 0; k < flagCount; k++) flags.add(str(i));
        try {
            return new Compatibility(date, flags);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage());
        }
    }

    private static WorkerBundle bundle(DataInputStream i) throws IOException {
        String main = str(i);
        int n = count(i);
        Map<String, WorkerModule> modules = new LinkedHashMap<>();
        for (int k = 0; k < n; k++) {
            String name = str(i);
            ModuleType type;
            try {
                type = ModuleType.fromWireName(str(i));
            } catch (IllegalArgumentException e) {
                throw new IOException(e.getMessage());
            }
            modules.put(name, new WorkerModule(name, type, bytes(i)));
        }
        Compatibility compatibility = compatibility(i);
        try {
            return new WorkerBundle(main, modules, compatibility);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage());
        }
    }

    private static void limits(DataOutputStream o, Limits l) throws IOException {
        o.writeLong(l.cpuMs());
        o.writeLong(l.wallMs());
        o.writeInt(l.heapMb());
        o.writeInt(l.subrequests());
        o.writeLong(l.codeBytes());
        o.writeLong(l.envBytes());
        o.writeLong(l.requestBodyBytes());
    }

    private static Limits limits(DataInputStream i) throws IOException {
        try {
            return new Limits(i.readLong(), i.readLong(), i.readInt(), i.readInt(), i.readLong(), i.readLong(), i.readLong());
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage());
        }
    }

    private static int count(DataInputStream i) throws IOException {
        int n = i.readInt();
        if (n < 0 || n > 1_000_000) throw new IOException("bad count " + n);
        return n;
    }

    /** A message too large for one frame: a bug of the sender, never a broken stream. */
    public static final class FrameTooLargeException extends IllegalArgumentException {
        FrameTooLargeException(String what, long size) {
            super(what + " of " + size + " bytes does not fit in a frame of at most " + MAX_FRAME + " bytes");
        }
    }

    /** A growable frame body. */
    private static final class Body {
        final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(256);
        final DataOutputStream out = new DataOutputStream(bytes);

        int size() {
            return bytes.size();
        }

        void writeTo(DataOutputStream o) {
            try {
                bytes.writeTo(o);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
