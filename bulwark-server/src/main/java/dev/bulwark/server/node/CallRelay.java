package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;

import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.function.Consumer;

/**
 * Carries the response of an invocation the node made for a worker's call (a durable object
 * stub's {@code fetch()}) back to the caller, whole, as one {@link Message.CallResult}. It
 * acknowledges what it received in steps well inside the callee's response window, so the window
 * never closes on it, and fails the call when the body passes {@link #MAX_BODY_BYTES}. Runs on the callee
 * sandbox's reader thread: never blocks.
 */
final class CallRelay implements InvocationListener {
    /** Largest response body a call carries back. */
    static final int MAX_BODY_BYTES = 32 << 20;

    private final long callId;
    private final long invocationId;
    private final Consumer<Message> caller;
    private InvocationChannel callee;
    /** Bytes received before {@link #connect}: acknowledged as soon as the way to the callee is known. */
    private long unacknowledged;
    private Message.ResponseHead head;
    private ByteArrayOutputStream body;
    private boolean answered;
    /** The WebSocket the callee's 101 carries, handed to the caller by id. */
    private Long socketId;

    CallRelay(long callId, long invocationId, Consumer<Message> caller) {
        this.callId = callId;
        this.invocationId = invocationId;
        this.caller = caller;
    }

    /** The way to the sandbox running the callee, once the invocation has started there. */
    synchronized void connect(InvocationChannel channel) {
        callee = channel;
        if (unacknowledged >= ACK_BYTES) {
            channel.send(new Message.ResponseAck(invocationId, unacknowledged));
            unacknowledged = 0;
        }
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
        this.head = head;
        this.body = new ByteArrayOutputStream();
    }

    @Override
    public synchronized void chunk(byte[] data) {
        if (answered || body == null) return;
        acknowledge(data.length);
        if (body.size() + (long) data.length > MAX_BODY_BYTES) {
            answer(new Message.CallFailed(callId, ErrorCode.INTERNAL.code(),
                    "the durable object's response is larger than " + MAX_BODY_BYTES + " bytes"));
            if (callee != null) callee.send(new Message.Cancel(invocationId, "response too large for the caller"));
            return;
        }
        body.writeBytes(data);
    }

    @Override
    public synchronized void end() {
        if (head == null) return;
        // Names starting with ':' are the node's own: no worker can set them, none passes through.
        List<Message.Header> headers = new java.util.ArrayList<>();
        for (Message.Header h : head.headers()) if (!h.name().startsWith(":")) headers.add(h);
        if (head.status() == 101 && socketId != null) headers.add(new Message.Header(":bulwark-websocket", Long.toString(socketId)));
        answer(new Message.CallResult(callId, head.status(), head.statusText(), headers, body.toByteArray()));
    }

    @Override
    public synchronized void failed(Message.InvocationFailed failure) {
        answer(new Message.CallFailed(callId, failure.code(), failure.message()));
    }

    @Override
    public synchronized void done(long cpuMicros) {
        answer(new Message.CallFailed(callId, ErrorCode.INTERNAL.code(), "the durable object sent no response"));
    }

    private void answer(Message m) {
        if (answered) return;
        answered = true;
        body = null;
        caller.accept(m);
    }
}
