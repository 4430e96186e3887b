package dev.bulwark.server.http;

import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.server.node.InvocationChannel;
import dev.bulwark.server.node.InvocationListener;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.IteratingCallback;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;

/**
 * Carries one invocation's events to its HTTP response without a thread of its own: the sandbox
 * connection's reader hands events over, and each is written asynchronously, one write in flight
 * at a time (Jetty's {@link IteratingCallback} pattern). Before the head, a failure becomes a JSON
 * error response; after it, the response is aborted, because a truncated body must not look whole.
 */
final class ResponseRelay extends IteratingCallback implements InvocationListener {
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "transfer-encoding", "te",
            "upgrade", "proxy-connection", "trailer");
    private static final Object END = new Object();

    /** Whether a response field a worker or object set reaches the client (hop-by-hop ones are the node's). */
    static boolean passes(String name) {
        return !HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT));
    }

    /** A streamed request body went past its limit (sent by the body pump). */
    record TooLarge(long limit) {}

    /** No answer came from the sandbox in time (sent by the node's guard timer). */
    record NoAnswer() {}

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ResponseRelay.class);

    private final Response response;
    private final Callback jettyCallback;
    private final long invocationId;
    private final String requestId;
    private final String worker;
    private volatile InvocationChannel sandbox = InvocationChannel.NOWHERE;
    private final ConcurrentLinkedQueue<Object> events = new ConcurrentLinkedQueue<>();
    /** Pulls of a streamed request body the worker asked for (taken by the body pump). */
    final Semaphore pulls = new Semaphore(0);
    /** Acknowledge written bytes to the sandbox in steps of this size (see Message.ResponseAck). */
    static final long ACK_BYTES = 256 << 10;
    private long lastWriteBytes, unacknowledgedBytes;
    private volatile boolean headSent;
    private volatile boolean finished;
    private boolean lastWritten;

    ResponseRelay(Response response, Callback jettyCallback, long invocationId, String requestId, String worker) {
        this.worker = worker;
        this.response = response;
        this.jettyCallback = jettyCallback;
        this.invocationId = invocationId;
        this.requestId = requestId;
    }

    private volatile dev.bulwark.sandbox.isolate.Deadlines.Handle guard;

    /** The guard timer's task for this request: canceled when the response completes. */
    void guard(dev.bulwark.sandbox.isolate.Deadlines.Handle task) {
        this.guard = task;
        if (finished) task.cancel();
    }

    private void releaseGuard() {
        dev.bulwark.sandbox.isolate.Deadlines.Handle g = guard;
        if (g != null) g.cancel();
    }

    /** Where cancellations go: the sandbox that runs the invocation (known once it started). */
    void connect(InvocationChannel sandbox) {
        this.sandbox = sandbox;
    }

    /** The connection was upgraded to a WebSocket: the relay never writes to it. */
    void handOver() {
        finished = true;
    }

    boolean isFinished() {
        return finished;
    }

    /** Queues an event from any thread and makes sure it is written. */
    void offer(Object event) {
        events.add(event);
        iterate();
    }

    // ---- InvocationListener (the sandbox connection's reader thread)

    @Override
    public void head(Message.ResponseHead head) {
        offer(head);
        // A head whose body did not come with it (a stream the worker writes later: server-sent
        // events, an MCP stream) goes to the client once the sandbox's burst is read, as Workers
        // sends the head when the handler's Response is returned; a body in hand joins it instead.
        if (!InvocationListener.afterReadBurst(() -> offer(COMMIT_HEAD))) offer(COMMIT_HEAD);
    }

    /** Writes a head not yet followed by any of its body (see {@link #head}). */
    private static final Object COMMIT_HEAD = new Object();
    /** Whether any of the body (or its end) was written: a head is then committed already. */
    private boolean bodyStarted;

    @Override
    public void chunk(byte[] data) {
        offer(data);
    }

    @Override
    public void end() {
        offer(END);
    }

    /** The last chunk and the end: written as one (see {@link Last}). */
    @Override
    public void lastChunk(byte[] data) {
        offer(new Last(data));
    }

    /**
     * A body's last chunk with its end, as one write: one system call and one packet instead of
     * two, and a Content-Length instead of chunked encoding when it is the whole body.
     */
    private record Last(byte[] data) {}

    @Override
    public void failed(Message.InvocationFailed failure) {
        offer(failure);
    }

    /** A fetch invocation never returns an RPC result. */
    @Override
    public void rpcReturn(Message.RpcReturn result) {}

    /** Upgrades are decided by the {@link SocketUpgrade} in front of this relay. */
    @Override
    public void socketOpen(Message.SocketOpen open) {}

    @Override
    public void pull() {
        pulls.release();
    }

    @Override
    public void done(long cpuMicros) {
        // waitUntil work ended; nothing for the client
    }

    // ---- IteratingCallback

    @Override
    protected Action process() {
        if (lastWritten) return Action.SUCCEEDED;
        // The previous write (if any) has completed: the sandbox may send that much more.
        unacknowledgedBytes += lastWriteBytes;
        lastWriteBytes = 0;
        if (unacknowledgedBytes >= ACK_BYTES) {
            sandbox.send(new Message.ResponseAck(invocationId, unacknowledgedBytes));
            unacknowledgedBytes = 0;
        }
        while (true) {
            Object e = events.poll();
            if (e == null) return Action.IDLE;
            switch (e) {
                case Message.ResponseHead head -> {
                    if (headSent) continue;
                    if (head.status() < 200) {
                        // A 101 without a WebSocket would leave the client's connection half-switched
                        // and the bytes after it parsed as another HTTP message (a desync).
                        sandbox.send(new Message.Cancel(invocationId, "invalid response status " + head.status()));
                        log.warn("request {} of worker {}: the worker answered with status {} without a WebSocket",
                                requestId, worker, head.status());
                        return error(500, "invalid_response", "the worker answered with status " + head.status()
                                + " without a WebSocket; a worker's response status must be 200 to 599");
                    }
                    response.setStatus(head.status());
                    for (Message.Header h : head.headers()) {
                        if (passes(h.name())) {
                            response.getHeaders().add(h.name(), h.value());
                        }
                    }
                    headSent = true;
                }
                case byte[] data -> {
                    if (!headSent) continue;
                    bodyStarted = true;
                    lastWriteBytes = data.length;
                    response.write(false, ByteBuffer.wrap(data), this);
                    return Action.SCHEDULED;
                }
                case Last last -> {
                    if (!headSent) continue;
                    bodyStarted = true;
                    lastWriteBytes = last.data().length;
                    lastWritten = true;
                    dev.bulwark.sandbox.trace.LatencyTrace.stamp("node.writeLast", invocationId);
                    response.write(true, ByteBuffer.wrap(last.data()), this);
                    return Action.SCHEDULED;
                }
                case TooLarge t -> {
                    if (headSent) continue; // the worker answered already; only its body read failed
                    sandbox.send(new Message.Cancel(invocationId, "request body too large"));
                    return error(ErrorCode.REQUEST_TOO_LARGE.status(), ErrorCode.REQUEST_TOO_LARGE.code(),
                            "the request body is larger than the limit of " + t.limit() + " bytes");
                }
                case NoAnswer n -> {
                    sandbox.send(new Message.Cancel(invocationId, "no answer from the sandbox"));
                    if (headSent) throw new Aborted("no answer from the sandbox");
                    return error(ErrorCode.WALL_TIME_EXCEEDED.status(), ErrorCode.WALL_TIME_EXCEEDED.code(),
                            "no answer from the sandbox");
                }
                case Message.InvocationFailed f -> {
                    if (headSent) {
                        // Headers are gone already: the only honest signal left is an aborted response.
                        throw new Aborted(f.message());
                    }
                    ErrorCode code = ErrorCode.fromCode(f.code());
                    logFailure(code, f.message());
                    return error(code.status(), code.code(), ErrorResponse.clientMessage(code, f.message()));
                }
                default -> {
                    if (e == COMMIT_HEAD) {
                        if (!headSent || bodyStarted) continue;
                        bodyStarted = true;
                        response.write(false, BufferUtil.EMPTY_BUFFER, this);
                        return Action.SCHEDULED;
                    }
                    if (e != END || !headSent) continue;
                    lastWritten = true;
                    dev.bulwark.sandbox.trace.LatencyTrace.stamp("node.writeEnd", invocationId);
                    response.write(true, BufferUtil.EMPTY_BUFFER, this);
                    return Action.SCHEDULED;
                }
            }
        }
    }

    /**
     * Failures the sandbox has not reported itself go to the operator's log here, once, with the
     * request id the client was given. (Uncaught exceptions and limit kills are logged by the
     * sandbox; a crashed sandbox by the supervisor.)
     */
    private void logFailure(ErrorCode code, String detail) {
        switch (code) {
            case WORKER_THREW, CPU_LIMIT_EXCEEDED, WALL_TIME_EXCEEDED, MEMORY_LIMIT_EXCEEDED, CANCELED,
                 REQUEST_TOO_LARGE, WORKER_LOAD_FAILED, CODE_TOO_LARGE, ENV_TOO_LARGE, SANDBOX_CRASHED, WORKER_HUNG ->
                    log.debug("request {} of worker {} failed: {}: {}", requestId, worker, code.code(), detail);
            case ISOLATE_RESET, SANDBOX_UNAVAILABLE, NOT_FOUND, INTERNAL, OBJECT_STORAGE_FAILED ->
                    log.warn("request {} of worker {} failed: {}: {}", requestId, worker, code.code(), detail);
        }
    }

    private Action error(int status, String code, String message) {
        lastWritten = true;
        headSent = true;
        response.write(true, ErrorResponse.prepare(response, status, code, message, requestId), this);
        return Action.SCHEDULED;
    }

    @Override
    protected void onCompleteSuccess() {
        dev.bulwark.sandbox.trace.LatencyTrace.stamp("node.written", invocationId);
        finished = true;
        releaseGuard();
        pulls.release();
        jettyCallback.succeeded();
    }

    @Override
    protected void onCompleteFailure(Throwable cause) {
        finished = true;
        releaseGuard();
        pulls.release();
        // The client went away, or the response was aborted: either way the worker can stop.
        sandbox.send(new Message.Cancel(invocationId, "response ended: " + cause.getMessage()));
        if (!(cause instanceof Aborted) && !(cause instanceof org.eclipse.jetty.io.EofException)) {
            // E.g. a body longer than the worker's own Content-Length: the client gets a bare 500 or an
            // aborted response; the reason is for the operator only.
            log.warn("request {} of worker {}: the response failed: {}", requestId, worker, cause.toString());
        }
        jettyCallback.failed(cause instanceof Aborted a ? new IOException("response aborted: " + a.getMessage()) : cause);
    }

    /** Thrown out of {@link #process} to abort a response whose head was sent. */
    private static final class Aborted extends RuntimeException {
        Aborted(String why) {
            super(why, null, false, false);
        }
    }
}
