package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Carries the response of an invocation the node made for a call (a stub's {@code fetch()} to a
 * durable object, a dynamic worker's entrypoint, a service) back to its caller, and, for a sandbox
 * caller, its streamed request body to the callee.
 *
 * <p><b>Streamed</b> (a sandbox caller, {@link #CallRelay(long, long, Consumer)}): the head is held
 * until what the callee's sandbox wrote at once has been read (SandboxProcess's read bursts), so a
 * head with its body in hand still travels as one {@link Message.CallResult}; otherwise the caller
 * gets {@link Message.CallHead}, {@link Message.CallChunk}s as they come and one
 * {@link Message.CallEnd}. The callee's response window is opened only by the caller's
 * {@link Message.CallAck}s (never by more than was forwarded), so a slow reader slows the callee
 * and the node holds nothing: there is no size cap on a streamed body. A streamed request body
 * ({@link #streamsBody()}) is pulled from the caller piece by piece, only as the callee pulls.
 *
 * <p><b>Whole</b> ({@link #whole}, for Java callers: the tenant API, supervisors in the node): the
 * body is collected into one CallResult of at most {@link #MAX_BODY_BYTES}, each chunk
 * acknowledged at once.
 *
 * <p>Callee events run on the callee sandbox's reader thread, caller events on the caller's: never blocks.
 */
final class CallRelay implements InvocationListener {
    /** Largest response body a whole call carries back. */
    static final int MAX_BODY_BYTES = 32 << 20;

    private final long callId;
    private final long invocationId;
    private final Consumer<Message> caller;
    private final boolean streamed;
    private final boolean bodyStreamed;
    private InvocationChannel callee;
    /** Acknowledgements and request body messages for the callee before {@link #connect}. */
    private final List<Message> beforeConnect = new ArrayList<>();
    private long unacknowledged;
    private Message.ResponseHead head;
    private ByteArrayOutputStream body;
    private boolean answered;
    /** The WebSocket the callee's 101 carries, handed to the caller by id. */
    private Long socketId;

    // Streamed mode.
    private boolean headSent, ended, callerGone;
    /** Chunks read in the same burst as the head, held until the burst is over. */
    private final List<byte[]> firstChunks = new ArrayList<>();
    /** Bytes forwarded to the caller and not yet acknowledged by it. */
    private long forwarded;
    /** Request body pulls of the callee not yet answered by the caller. */
    private int pulls;
    /** The end of the request body, sent before the callee pulled for it, and its error (or null). */
    private boolean bodyEndHeld;
    private String heldBodyEnd;

    /** A relay to a sandbox caller that sent its call under {@code callId}: streamed both ways (see {@link CallerLink}). */
    CallRelay(long callId, long invocationId, Consumer<Message> caller) {
        this(callId, invocationId, caller, true);
    }

    private CallRelay(long callId, long invocationId, Consumer<Message> caller, boolean streamed) {
        this.callId = callId;
        this.invocationId = invocationId;
        this.caller = caller;
        this.streamed = streamed;
        CallerLink link = streamed ? CallerLink.of(caller) : null;
        this.bodyStreamed = link != null && link.bodyStreamed();
        if (link != null) link.attach(this);
    }

    /** A relay that answers {@code answer} with one CallResult (at most {@link #MAX_BODY_BYTES}) or CallFailed. */
    static CallRelay whole(long invocationId, Consumer<Message> answer) {
        return new CallRelay(0, invocationId, answer, false);
    }

    /** Whether the call's request body streams from the caller (the FetchStart's {@code bodyStreamed}). */
    boolean streamsBody() {
        return bodyStreamed;
    }

    /** The way to the sandbox running the callee, once the invocation has started there. */
    synchronized void connect(InvocationChannel channel) {
        callee = channel;
        if (unacknowledged >= ACK_BYTES) {
            channel.send(new Message.ResponseAck(invocationId, unacknowledged));
            unacknowledged = 0;
        }
        for (Message m : beforeConnect) channel.send(m);
        beforeConnect.clear();
    }

    private void toCallee(Message m) {
        if (callee == null) beforeConnect.add(m);
        else callee.send(m);
    }

    /**
     * Acknowledges in steps of {@link #ACK_BYTES}, as the front door does: far below the callee's
     * window (1 MiB), so it never waits on the relay, and a small response costs the callee's
     * sandbox no message (and its reader no wake-up) at all.
     */
    static final long ACK_BYTES = 256 << 10;

    private void acknowledge(long bytes) {
        unacknowledged += bytes;
        if (callee == null || unacknowledged < ACK_BYTES) return;
        callee.send(new Message.ResponseAck(invocationId, unacknowledged));
        unacknowledged = 0;
    }

    @Override
    public synchronized void socketOpen(Message.SocketOpen open) {
        socketId = open.socketId();
    }

    /** A fetch invocation never returns an RPC result. */
    @Override
    public void rpcReturn(Message.RpcReturn result) {}

    @Override
    public synchronized void head(Message.ResponseHead head) {
        if (answered) return;
        this.head = head;
        if (!streamed) {
            this.body = new ByteArrayOutputStream();
            return;
        }
        if (callerGone) {
            toCallee(new Message.Cancel(invocationId, "the caller no longer wants the response"));
            answered = true;
            return;
        }
        // Sent once what the callee's sandbox wrote with it has been read: a body in hand joins it.
        if (!SandboxProcess.afterBurst(this::burstOver)) burstOver();
    }

    /** The read burst that brought the head is over: a head still held goes to the caller now. */
    private synchronized void burstOver() {
        if (answered || headSent || head == null) return;
        headSent = true;
        caller.accept(new Message.CallHead(callId, head.status(), head.statusText(), headers()));
        for (byte[] b : firstChunks) forward(b);
        firstChunks.clear();
    }

    private void forward(byte[] data) {
        forwarded += data.length;
        caller.accept(new Message.CallChunk(callId, data));
    }

    @Override
    public synchronized void chunk(byte[] data) {
        if (answered || head == null) return;
        if (streamed) {
            if (headSent) forward(data);
            else firstChunks.add(data);
            return;
        }
        acknowledge(data.length);
        if (body.size() + (long) data.length > MAX_BODY_BYTES) {
            answer(new Message.CallFailed(callId, ErrorCode.INTERNAL.code(),
                    "the durable object's response is larger than " + MAX_BODY_BYTES + " bytes"));
            toCallee(new Message.Cancel(invocationId, "response too large for the caller"));
            return;
        }
        body.writeBytes(data);
    }

    @Override
    public synchronized void end() {
        if (answered || head == null) return;
        if (streamed && headSent) {
            endStream(null);
            return;
        }
        byte[] whole;
        if (streamed) {
            // The head and the whole body came in one burst: one answer, and the callee's bytes are taken.
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            long n = 0;
            for (byte[] c : firstChunks) {
                b.writeBytes(c);
                n += c.length;
            }
            firstChunks.clear();
            if (n > 0) acknowledge(n);
            whole = b.toByteArray();
        } else {
            whole = body.toByteArray();
        }
        answer(new Message.CallResult(callId, head.status(), head.statusText(), headers(), whole));
    }

    /** The head's headers for the caller: the node's own (':' names) dropped, the handed-over socket added. */
    private List<Message.Header> headers() {
        // Names starting with ':' are the node's own: no worker can set them, none passes through.
        List<Message.Header> headers = new ArrayList<>();
        for (Message.Header h : head.headers()) if (!h.name().startsWith(":")) headers.add(h);
        if (head.status() == 101 && socketId != null) headers.add(new Message.Header(":bulwark-websocket", Long.toString(socketId)));
        return headers;
    }

    @Override
    public synchronized void failed(Message.InvocationFailed failure) {
        if (streamed && headSent) endStream(failure.message());
        else answer(new Message.CallFailed(callId, failure.code(), failure.message(), failure.thrown()));
    }

    /** What a caller still listening after the answer hears when the callee's invocation is over. */
    static final String CALLEE_OVER = "the callee's invocation is over";

    @Override
    public synchronized void done(long cpuMicros) {
        boolean answeredBefore = answered;
        if (streamed && headSent) endStream("the response ended before its body was complete");
        else answer(new Message.CallFailed(callId, ErrorCode.INTERNAL.code(), "the durable object sent no response"));
        // A caller whose request body was still streaming may still be writing: a connect() socket
        // (duplex, OutboundCalls.socketAnswer) learns so that nothing more will be pulled. Any other
        // call is over at its caller already, which drops this.
        if (answeredBefore && bodyStreamed && !callerGone) {
            caller.accept(new Message.CallFailed(callId, ErrorCode.INTERNAL.code(), CALLEE_OVER));
        }
        CallerLink link = streamed ? CallerLink.of(caller) : null;
        if (link != null) link.detach(this);
    }

    /** The callee pulls the next piece of a streamed request body: the caller is asked for it. */
    @Override
    public synchronized void pull() {
        if (!bodyStreamed) return;
        if (bodyEndHeld) {
            bodyEndHeld = false;
            toCallee(new Message.RequestBodyEnd(invocationId, heldBodyEnd));
            return;
        }
        if (callerGone) {
            // Nobody will answer it: the callee's read ends instead of waiting for its limits.
            toCallee(new Message.RequestBodyEnd(invocationId, CALLER_GONE));
            return;
        }
        pulls++;
        caller.accept(new Message.CallBodyPull(callId));
    }

    private void endStream(String error) {
        if (ended) return;
        ended = true;
        answered = true;
        caller.accept(new Message.CallEnd(callId, error));
    }

    private void answer(Message m) {
        if (answered) return;
        answered = true;
        body = null;
        firstChunks.clear();
        caller.accept(m);
    }

    // ---- what the caller says (its sandbox's reader thread; see SandboxProcess)

    /** The caller read {@code bytes} more: the callee may send that much more (never more than was forwarded). */
    synchronized void callerAck(long bytes) {
        long n = Math.min(Math.max(0, bytes), forwarded);
        if (n == 0) return;
        forwarded -= n;
        acknowledge(n);
    }

    /**
     * The caller canceled the response (its body stream, or its invocation ended, or its sandbox
     * died): a body under way is canceled at the callee. A callee that has not answered yet runs to
     * its answer (its writes complete), which is then canceled (see {@link #head}); one that
     * answered whole is left alone (its waitUntil work goes on).
     */
    synchronized void callerCancel(String why) {
        if (callerGone) return;
        callerGone = true;
        if (bodyStreamed && pulls > 0) {
            pulls = 0;
            toCallee(new Message.RequestBodyEnd(invocationId, CALLER_GONE));
        }
        if ((headSent && !ended) || (head != null && !answered)) {
            toCallee(new Message.Cancel(invocationId, why));
            ended = true;
            answered = true;
            firstChunks.clear();
        }
    }

    /** How a streamed request body the caller abandoned ends at the callee. */
    static final String CALLER_GONE = "The caller disconnected before the request body was complete.";

    /** A piece of the streamed request body, answering one pull; one nobody asked for is dropped. */
    synchronized void callerBodyChunk(byte[] data) {
        if (!bodyStreamed || pulls == 0) return;
        pulls--;
        toCallee(new Message.RequestBodyChunk(invocationId, data));
    }

    /**
     * The streamed request body is complete or broken. A connect() socket's end comes without a
     * pull (its caller closes while the callee does not read): it is held for the callee's next pull.
     */
    synchronized void callerBodyEnd(String error) {
        if (!bodyStreamed) return;
        if (pulls == 0) {
            if (!bodyEndHeld) {
                bodyEndHeld = true;
                heldBodyEnd = error;
            }
            return;
        }
        pulls--;
        toCallee(new Message.RequestBodyEnd(invocationId, error));
    }
}
