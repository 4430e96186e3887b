package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.function.LongSupplier;

/**
 * The client end accepted by an isolate: each frame becomes a socket event for the socket id
 * {@code -socket.id} in that isolate's sandbox, one at a time and in order. What the isolate
 * sends and closes arrives under that id too ({@code SocketHub.fromClientEnd}). Its close is
 * answered for the other side, as a client's connection answers a close frame: each side gets one
 * close event, whichever closed first.
 */
final class IsolateEnd implements ClientEnd {
    private static final Logger log = LoggerFactory.getLogger(IsolateEnd.class);

    /** The hub's answer to a close: the other side hears it ({@link SocketHub#clientClosed}). */
    interface Closed {
        void closed(long socketId, int code, String reason);
    }

    final SocketHub.Socket socket;
    final SandboxProcess home;
    final Address.Worker target;
    private final SandboxSupervisor supervisor;
    private final LongSupplier invocationIds;
    private final Closed onClosed;
    /** A frame waiting for the one before it to be delivered, and what runs once it is. */
    private record Queued(Message.SocketEventKind kind, String text, byte[] data, int code, String reason, Runnable done) {}

    private final ArrayDeque<Queued> pending = new ArrayDeque<>();
    private boolean inFlight;
    private boolean closed;
    /** Its events that answered and still run ({@link SocketEventOutcome}). */
    private final java.util.concurrent.atomic.AtomicInteger lingering = new java.util.concurrent.atomic.AtomicInteger();

    IsolateEnd(SocketHub.Socket socket, SandboxProcess home, Address.Worker target, SandboxSupervisor supervisor,
               LongSupplier invocationIds, Closed onClosed) {
        this.socket = socket;
        this.home = home;
        this.target = target;
        this.supervisor = supervisor;
        this.invocationIds = invocationIds;
        this.onClosed = onClosed;
    }

    public void text(String text, Runnable done) {
        push(Message.SocketEventKind.MESSAGE, text, null, 0, null, done);
    }

    public void binary(byte[] data, Runnable done) {
        push(Message.SocketEventKind.MESSAGE, null, data, 0, null, done);
    }

    /** An isolate reads its events as they come: it hears the close. */
    public void overrun() {
        close(1011, "send buffer full", () -> {});
    }

    /** The server end closed: the isolate hears it, then the server end gets the reply. */
    public void close(int code, String reason, Runnable done) {
        push(Message.SocketEventKind.CLOSE, null, null, code, reason, () -> {
            done.run();
            onClosed.closed(socket.id, code, reason);
        });
    }

    public void demand() {
        // the isolate's sends are bounded by inboundBytes instead
    }

    /** The isolate closed its end: the server end hears it (the caller's job) and the isolate gets the reply. */
    void closeReply(int code, String reason) {
        synchronized (socket) {
            push(Message.SocketEventKind.CLOSE, null, null, code, reason, () -> {});
        }
    }

    /** Holds the socket. */
    private void push(Message.SocketEventKind kind, String text, byte[] data, int code, String reason, Runnable done) {
        if (closed) {
            done.run();
            return;
        }
        if (kind != Message.SocketEventKind.MESSAGE) closed = true;
        pending.add(new Queued(kind, text, data, code, reason, done));
        if (inFlight) return;
        inFlight = true;
        Thread.startVirtualThread(this::next);
    }

    private void next() {
        Queued q;
        synchronized (socket) {
            q = pending.poll();
            if (q == null) {
                inFlight = false;
                return;
            }
        }
        Message.SocketEvent event = new Message.SocketEvent(invocationIds.getAsLong(), target, -socket.id, q.kind(),
                q.text(), q.data(), q.code(), q.reason());
        supervisor.socketEventAt(home, event, new SocketEventOutcome(lingering) {
            public void failed(Message.InvocationFailed failure) {
                log.debug("WebSocket {} event to its isolate end failed: {}", socket.id, failure.message());
            }

            void delivered(boolean ended) {
                q.done().run();
                next();
            }
        });
    }
}
