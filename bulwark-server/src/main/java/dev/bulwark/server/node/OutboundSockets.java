package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.Message;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The WebSockets workers open to servers ({@code fetch(url, {headers: {Upgrade: "websocket"}})}):
 * the node holds the real client connection (Jetty's WebSocket client on the egress gateway's
 * HTTP client, so it connects only to addresses {@code AddressGuard} checked), and the worker's
 * isolate holds the other end under the id {@code -id}, exactly as it holds the client end of a
 * durable object's socket: {@code SocketClaim} when it calls {@code accept()}, {@code SocketSend}
 * / {@code SocketClose} from it, {@code SocketEvent}s to it.
 *
 * <p>Nothing is read from the server before the worker accepts, and then one message at a time:
 * the next is asked for (explicit demand) only when the worker's event for the previous one is
 * done, and a message over {@link SocketHub#MAX_MESSAGE_BYTES} is refused by Jetty (close 1009)
 * before it is held. What the worker sends is bounded by {@link SocketHub#MAX_BUFFERED_BYTES}.
 *
 * <p>A socket belongs to the invocation that opened it and is closed when that invocation is
 * done, unless that invocation's response opened a WebSocket to its client (a proxy): then it
 * lives as long as that socket (workerd keeps such a request's context alive while it is open).
 * A socket a durable object's event accepts is the object's (workerd: one IoContext per actor):
 * its events go to the object (through its gates), and it closes when the sandbox says the
 * object is gone or the sandbox dies.
 * A socket the worker returns unaccepted in its own 101 is spliced to the client's connection
 * ({@link #passThrough}): then the node relays frames between the two, one in flight each way.
 */
public final class OutboundSockets implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OutboundSockets.class);
    /** The close a server hears when the worker's invocation that held the socket is over. */
    static final int GOING_AWAY = 1001;
    /** Bytes all outbound sockets together may hold toward servers that read slowly: 64 MiB. */
    static final long NODE_SEND_BUDGET = 64L << 20;

    /** What the node holds toward all servers at once (each socket also has its own bound). */
    private final ByteBudget sendBuffered = new ByteBudget(NODE_SEND_BUDGET);

    private final WebSocketClient client;
    private final LongSupplier ids;
    private volatile SandboxSupervisor supervisor;
    private volatile SocketHub hub;
    private final Map<Long, Outbound> sockets = new ConcurrentHashMap<>();
    /** Invocation id (or hub socket id, for a proxy) → the outbound sockets it holds. */
    private final Map<Long, Set<Long>> heldBy = new ConcurrentHashMap<>();

    OutboundSockets(HttpClient http, LongSupplier ids) {
        this.ids = ids;
        this.client = new WebSocketClient(http);
        client.setMaxTextMessageSize(SocketHub.MAX_MESSAGE_BYTES);
        client.setMaxBinaryMessageSize(SocketHub.MAX_MESSAGE_BYTES);
        client.setIdleTimeout(Duration.ofMinutes(5));
        try {
            client.start();
        } catch (Exception e) {
            throw new IllegalStateException("could not start the outbound WebSocket client", e);
        }
    }

    void wire(SandboxSupervisor supervisor, SocketHub hub) {
        this.supervisor = supervisor;
        this.hub = hub;
    }

    WebSocketClient client() {
        return client;
    }

    /** A new socket of {@code invocationId}, run by {@code home}, before its connection is made. */
    Outbound register(long invocationId, String tenant, SandboxProcess home) {
        Outbound o = new Outbound(ids.getAsLong(), tenant, home);
        sockets.put(o.id, o);
        heldBy.computeIfAbsent(invocationId, k -> ConcurrentHashMap.newKeySet()).add(o.id);
        return o;
    }

    /** The connection was not made: the socket is forgotten. */
    void unregister(long invocationId, Outbound o) {
        sockets.remove(o.id);
        Set<Long> held = heldBy.get(invocationId);
        if (held != null) held.remove(o.id);
    }

    int open() {
        return sockets.size();
    }

    /** The ids of the open sockets (tests). */
    Set<Long> ids() {
        return Set.copyOf(sockets.keySet());
    }

    /** Bytes held toward servers now, over all sockets (tests). */
    long sendBuffered() {
        return sendBuffered.held();
    }

    /**
     * Messages a sandbox sends about an outbound socket (its end goes by the negated id); false
     * for every other message (the hub's).
     */
    boolean fromSandbox(SandboxProcess from, Message m) {
        switch (m) {
            case Message.SocketClaim c -> {
                Outbound o = sockets.get(c.socketId());
                if (o == null) return false;
                o.claim(from, c);
                return true;
            }
            case Message.SocketSend s when s.socketId() < 0 -> {
                Outbound o = sockets.get(-s.socketId());
                if (o == null) return false;
                o.send(from, s);
                return true;
            }
            case Message.SocketClose c when c.socketId() < 0 -> {
                Outbound o = sockets.get(-c.socketId());
                if (o == null) return false;
                o.workerClosed(from, c.code(), c.reason());
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    /** Whether {@code socketId} is an outbound socket's (see {@link #passThrough}). */
    boolean holds(long socketId) {
        return sockets.containsKey(socketId);
    }

    /**
     * A worker returned an outbound socket it did not accept in its own 101 (workerd's
     * {@code couple()}: {@code return fetch(request)} for a WebSocket request): the client's
     * connection will be spliced to the server's when the front door upgrades it. Null when
     * accepted, else why not. Its lifetime is the client's connection from now on, not the
     * invocation's.
     */
    String passThrough(SandboxProcess from, String tenant, Message.SocketOpen open) {
        Outbound o = sockets.get(open.socketId());
        if (o == null) return "no such WebSocket";
        synchronized (o) {
            if (o.home != from || !o.tenant.equals(tenant)) return "no such WebSocket";
            if (o.claimed || o.passed) return "the WebSocket was already returned";
            o.passed = true;
        }
        for (Set<Long> held : heldBy.values()) held.remove(o.id);
        // A 101 that never reaches a client (it went to a caller, or the upgrade failed) does not leave the server's connection open.
        Thread.startVirtualThread(() -> {
            try {
                Thread.sleep(SocketHub.CONNECT_WAIT_MS);
            } catch (InterruptedException e) {
                return;
            }
            boolean unclaimed;
            synchronized (o) {
                unclaimed = o.client == null;
            }
            if (unclaimed) o.shut(GOING_AWAY, "the WebSocket was never connected");
        });
        return null;
    }

    /** The front door upgraded the client of a passed-through socket: frames flow both ways. */
    boolean spliceClient(long socketId, Session client) {
        Outbound o = sockets.get(socketId);
        if (o == null) return false;
        Session server;
        synchronized (o) {
            if (!o.passed || o.client != null) {
                client.close(1011, "the WebSocket is not available", Callback.NOOP);
                return true;
            }
            o.client = client;
            server = o.session;
        }
        client.demand();
        if (server != null) server.demand();
        return true;
    }

    /** A frame from the client of a passed-through socket: to the server; the client's next is read once it is written. */
    boolean fromClient(long socketId, String text, byte[] data) {
        Outbound o = sockets.get(socketId);
        if (o == null) return false;
        Session server, client;
        synchronized (o) {
            if (o.client == null) return o.passed;
            server = o.session;
            client = o.client;
        }
        Callback next = Callback.from(client::demand, x -> client.close(1011, "the server's connection failed", Callback.NOOP));
        o.sent(text, data);
        if (text != null) server.sendText(text, next);
        else server.sendBinary(ByteBuffer.wrap(data), next);
        return true;
    }

    /** The client of a passed-through socket closed: the server hears the same close. */
    boolean clientClosed(long socketId, int code, String reason) {
        Outbound o = sockets.get(socketId);
        if (o == null) return false;
        Session server;
        synchronized (o) {
            if (!o.passed) return false;
            server = o.session;
        }
        if (server != null && server.isOpen()) server.close(code == 1005 || code == 1006 ? 1000 : code, reason, Callback.NOOP);
        else o.forgetNow();
        return true;
    }

    /**
     * An invocation is over: its sockets close, unless its response opened a WebSocket to its
     * client that is still open (then they are that socket's until it closes).
     */
    void invocationDone(long invocationId) {
        Set<Long> held = heldBy.remove(invocationId);
        if (held == null || held.isEmpty()) return;
        SocketHub h = hub;
        if (h != null && h.isOpen(invocationId)) {
            heldBy.computeIfAbsent(invocationId, k -> ConcurrentHashMap.newKeySet()).addAll(held);
            if (h.isOpen(invocationId)) return;
            heldBy.remove(invocationId);
        }
        closeAll(held, "the invocation that opened the WebSocket is over");
    }

    /** A client's WebSocket that kept this invocation's sockets alive is gone. */
    void holderGone(long socketId) {
        Set<Long> held = heldBy.remove(socketId);
        if (held != null) closeAll(held, "the WebSocket that kept this one open closed");
    }

    private void closeAll(Set<Long> held, String why) {
        for (Long id : held) {
            Outbound o = sockets.get(id);
            if (o != null) o.shut(GOING_AWAY, why);
        }
    }

    void sandboxGone(SandboxProcess p) {
        for (Outbound o : sockets.values()) {
            boolean passed;
            synchronized (o) {
                passed = o.passed;
            }
            // A socket passed through to a client no longer needs its sandbox.
            if (o.home == p && !passed) o.shut(GOING_AWAY, "the worker's sandbox is gone");
        }
    }

    @Override
    public void close() {
        try {
            client.stop();
        } catch (Exception e) {
            log.warn("stopping the outbound WebSocket client: {}", e.toString());
        }
    }

    /**
     * One outbound socket: Jetty's end toward the server, and the isolate's end. Guarded by itself.
     * Public only because Jetty calls its listener methods through method handles.
     */
    public final class Outbound implements Session.Listener {
        final long id;
        final String tenant;
        final SandboxProcess home;
        private Session session;
        /** Where its events go: the worker, or the durable object that accepted it (its events are the object's). */
        private Address target;
        private boolean claimed;
        private boolean inFlight;
        private boolean closedToWorker;
        private long buffered;
        /** Frames waiting for the one Jetty is writing ({@link #writing}). */
        private final ArrayDeque<Object> outgoing = new ArrayDeque<>();
        private boolean writing;
        private boolean forgotten;
        private Runnable onForget;
        /** Returned in a 101 unaccepted; {@link #client} is the front door's connection once upgraded. */
        boolean passed;
        Session client;
        private final ArrayDeque<Message.SocketEvent> toWorker = new ArrayDeque<>();
        /** Its events that answered and still run ({@link SocketEventOutcome}). */
        private final java.util.concurrent.atomic.AtomicInteger lingering = new java.util.concurrent.atomic.AtomicInteger();
        private volatile SocketMeter meter;

        /** Counts its frames into the record of the invocation that opened it. */
        void meter(SocketMeter m) {
            meter = m;
        }

        private void received(String text, byte[] data) {
            SocketMeter m = meter;
            if (m != null) m.received(SocketMeter.size(text, data));
        }

        private void sent(String text, byte[] data) {
            SocketMeter m = meter;
            if (m != null) m.sent(SocketMeter.size(text, data));
        }

        Outbound(long id, String tenant, SandboxProcess home) {
            this.id = id;
            this.tenant = tenant;
            this.home = home;
        }

        @Override
        public void onWebSocketOpen(Session session) {
            synchronized (this) {
                this.session = session; // no demand: nothing is read before the worker accepts
            }
        }

        @Override
        public void onWebSocketText(String message) {
            received(message, null);
            Session c = spliced();
            if (c != null) c.sendText(message, nextFromServer(c));
            else toWorker(Message.SocketEventKind.MESSAGE, message, null, 0, null);
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
            byte[] data = new byte[payload.remaining()];
            payload.get(data);
            callback.succeed();
            received(null, data);
            Session c = spliced();
            if (c != null) c.sendBinary(ByteBuffer.wrap(data), nextFromServer(c));
            else toWorker(Message.SocketEventKind.MESSAGE, null, data, 0, null);
        }

        @Override
        public void onWebSocketClose(int statusCode, String reason) {
            Session c = spliced();
            if (c != null) {
                if (c.isOpen()) c.close(statusCode == 1005 || statusCode == 1006 ? 1000 : statusCode, reason, Callback.NOOP);
                forget();
                return;
            }
            toWorker(Message.SocketEventKind.CLOSE, null, null, statusCode, reason);
        }

        /** The front door's connection when this socket was passed through to a client, else null. */
        private synchronized Session spliced() {
            return passed ? client : null;
        }

        /** The server's next frame is read once this one reached the client. */
        private Callback nextFromServer(Session c) {
            Session server;
            synchronized (this) {
                server = session;
            }
            return Callback.from(server::demand, x -> server.close(1011, "the client's connection failed", Callback.NOOP));
        }

        void forgetNow() {
            forget();
        }

        @Override
        public void onWebSocketError(Throwable cause) {
            // Jetty closes the session after an error (a message over the limit: 1009), and
            // onWebSocketClose tells the worker with the close code.
            log.debug("outbound WebSocket {} failed: {}", id, cause.toString());
        }

        void claim(SandboxProcess from, Message.SocketClaim c) {
            Address.DurableObject by = c.object();
            // An object's claim speaks for an object of the claiming worker that runs in that very sandbox.
            boolean asObject = by == null || by.workerId().equals(c.workerId()) && supervisor.placement(by) == from;
            boolean ok;
            synchronized (this) {
                ok = from == home && from.runs(c.invocationId()) && from.tenant().equals(tenant) && !claimed && asObject;
                if (ok) {
                    claimed = true;
                    target = by != null ? by : new Address.Worker(c.workerId());
                }
            }
            if (!ok) return; // only the sandbox that opened it may take it, once
            // The object's now: it outlives the invocation that opened it (workerd: the actor's one
            // IoContext holds it), and closes when the object goes (its sandbox says so) or its sandbox dies.
            if (by != null) for (Set<Long> held : heldBy.values()) held.remove(id);
            pump();
        }

        void send(SandboxProcess from, Message.SocketSend s) {
            long size = sizeOf(s.text() != null ? s.text() : s.data());
            Object first = null;
            Session drop = null;
            synchronized (this) {
                if (from != home || !claimed || closedToWorker || session == null || size > SocketHub.MAX_MESSAGE_BYTES * 3L) return;
                boolean over = buffered + size > SocketHub.MAX_BUFFERED_BYTES;
                if (!over && !sendBuffered.take(size)) over = true;
                if (over) {
                    long queued = 0;
                    for (Object o : outgoing) queued += sizeOf(o);
                    outgoing.clear();
                    buffered -= queued;
                    sendBuffered.give(queued);
                    drop = session;
                } else {
                    buffered += size;
                    first = queue(s.text() != null ? s.text() : s.data());
                    sent(s.text(), s.data());
                }
            }
            if (drop != null) {
                // A server that does not read: a close frame would wait behind what it does not
                // read, so the connection is dropped and the worker told at once.
                toWorker(Message.SocketEventKind.CLOSE, null, null, 1011, "send buffer full");
                drop.disconnect();
                return;
            }
            if (first != null) write(first);
        }

        private static long sizeOf(Object frame) {
            return switch (frame) {
                case String t -> t.length();
                case byte[] d -> d.length;
                case null, default -> 0;
            };
        }

        /** The worker closed its end: after what it sent, the server gets the close; its reply is the worker's close event. */
        void workerClosed(SandboxProcess from, int code, String reason) {
            Object first;
            synchronized (this) {
                if (from != home || session == null) return;
                first = queue(new Message.SocketClose(-id, code == 1005 ? 1000 : code, reason));
            }
            if (first != null) write(first);
        }

        /** Queues a frame; returns it when nothing is being written (the caller writes it), else null. Holds this. */
        private Object queue(Object frame) {
            if (writing) {
                outgoing.add(frame);
                return null;
            }
            writing = true;
            return frame;
        }

        /**
         * One frame at a time (Jetty takes one send at a time): the next is written when this one
         * is done, on a new virtual thread so a send that completes at once does not recurse.
         */
        private void write(Object frame) {
            Session sess;
            synchronized (this) {
                sess = session;
            }
            long size = sizeOf(frame);
            Callback done = Callback.from(() -> written(size), x -> written(size));
            try {
                switch (frame) {
                    case String t -> sess.sendText(t, done);
                    case byte[] d -> sess.sendBinary(ByteBuffer.wrap(d), done);
                    case Message.SocketClose c -> sess.close(c.code(), c.reason(), done);
                    default -> throw new IllegalStateException("not a frame: " + frame);
                }
            } catch (RuntimeException e) {
                log.debug("outbound WebSocket {} send failed: {}", id, e.toString());
                done.fail(e);
            }
        }

        private void written(long size) {
            Object next;
            synchronized (this) {
                buffered -= size;
                sendBuffered.give(size);
                next = outgoing.poll();
                if (next == null) writing = false;
            }
            if (next != null) Thread.startVirtualThread(() -> write(next));
        }

        /** The node ends the socket (its holder is over): the server hears {@code code}. */
        void shut(int code, String reason) {
            Session sess;
            boolean taken;
            synchronized (this) {
                sess = session;
                taken = claimed;
            }
            if (sess != null && sess.isOpen()) sess.close(code, reason, Callback.NOOP);
            if (!taken || sess == null || !sess.isOpen()) forget(); // no isolate will hear its close
        }

        private void toWorker(Message.SocketEventKind kind, String text, byte[] data, int code, String reason) {
            synchronized (this) {
                if (closedToWorker) return;
                if (kind != Message.SocketEventKind.MESSAGE) closedToWorker = true;
                toWorker.add(new Message.SocketEvent(0, null, -id, kind, text, data, code, reason));
            }
            pump();
        }

        /** Delivers the next event to the isolate (one at a time); asks the server for more when none waits. */
        private void pump() {
            Message.SocketEvent next;
            Session sess;
            synchronized (this) {
                if (!claimed || inFlight) return;
                next = toWorker.poll();
                sess = session;
                if (next == null) {
                    if (closedToWorker) forget();
                    else if (sess != null) sess.demand();
                    return;
                }
                inFlight = true;
            }
            Message.SocketEvent event = new Message.SocketEvent(ids.getAsLong(), target, next.socketId(), next.kind(),
                    next.text(), next.data(), next.code(), next.reason());
            supervisor.socketEventAt(home, event, new SocketEventOutcome(lingering) {
                public void failed(Message.InvocationFailed failure) {
                    log.debug("outbound WebSocket {} event failed: {}", id, failure.message());
                }

                void delivered(boolean ended) {
                    synchronized (Outbound.this) {
                        inFlight = false;
                    }
                    Thread.startVirtualThread(Outbound.this::pump);
                }
            });
        }

        /** Runs once the socket is gone (the egress slots it holds go back). */
        void onForget(Runnable release) {
            boolean gone;
            synchronized (this) {
                gone = forgotten;
                if (!gone) onForget = release;
            }
            if (gone) release.run();
        }

        private void forget() {
            Runnable release;
            synchronized (this) {
                if (forgotten) return;
                forgotten = true;
                release = onForget;
                onForget = null;
            }
            sockets.remove(id, this);
            if (release != null) release.run();
            SocketMeter m = meter;
            if (m != null) m.closed();
        }
    }

    /** The upgrade headers a worker may not set itself (the client makes them). */
    static final Set<String> HANDSHAKE_HEADERS = Set.of("sec-websocket-key", "sec-websocket-version",
            "sec-websocket-extensions", "sec-websocket-accept", "sec-websocket-protocol");

    /** The sub-protocols a worker asked for in its {@code Sec-WebSocket-Protocol} headers. */
    static List<String> subProtocols(List<Message.Header> headers) {
        List<String> out = new java.util.ArrayList<>();
        for (Message.Header h : headers) {
            if (!h.name().equalsIgnoreCase("sec-websocket-protocol")) continue;
            for (String p : h.value().split(",")) {
                String t = p.trim();
                if (!t.isEmpty()) out.add(t);
            }
        }
        return out;
    }
}
