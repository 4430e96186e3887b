package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The clients' WebSockets, which live in the node: a socket outlives the sandbox (and the object
 * instance) that accepted it when it is hibernatable. A socket's client end is a client's
 * connection at the front door, or an isolate: a worker that {@code accept()}ed the socket a
 * durable object's 101 handed it (then the node carries frames between two isolates, see
 * {@link IsolateEnd}). The hub checks what sandboxes say about
 * sockets (a sandbox may speak only for sockets of its own invocations and objects), delivers the
 * clients' frames as socket events one at a time per socket (Jetty reads the next frame only when
 * the previous event is done: back-pressure and order), answers auto-responses without waking the
 * object, keeps attachments, and bounds sockets per object and bytes buffered per socket.
 */
public final class SocketHub {
    private static final Logger log = LoggerFactory.getLogger(SocketHub.class);
    /** Workers' limit on one WebSocket message, both ways. */
    public static final int MAX_MESSAGE_BYTES = 1 << 20;
    /** Bytes a socket may have queued toward a slow client before the node closes it. */
    static final long MAX_BUFFERED_BYTES = 16L << 20;
    /** How long a socket may wait for its client to connect (a 101 the worker never returned). */
    static final long CONNECT_WAIT_MS = 60_000;
    static final int MAX_ATTACHMENT_BYTES = 2048;

    private final SandboxSupervisor supervisor;
    private final LongSupplier invocationIds;
    private volatile OutboundSockets outbound;
    private final int perObjectLimit;
    /** Bytes all sockets together hold toward their clients ({@code front_door.websocket_buffer_bytes}). */
    private final ByteBudget toClients;
    private final Map<Long, Socket> sockets = new ConcurrentHashMap<>();
    private final Map<String, Set<Long>> byObject = new ConcurrentHashMap<>();
    private final Map<String, String[]> autoResponses = new ConcurrentHashMap<>();
    private final Map<SandboxProcess, Set<String>> restored = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "socket-hub");
        t.setDaemon(true);
        return t;
    });

    SocketHub(SandboxSupervisor supervisor, LongSupplier invocationIds, int perObjectLimit, long bufferBytes) {
        this.supervisor = supervisor;
        this.invocationIds = invocationIds;
        this.perObjectLimit = perObjectLimit;
        this.toClients = new ByteBudget(bufferBytes);
    }

    /**
     * Where a facet's socket events go: the address that runs the facet now (started again if it
     * is not running), or null. A facet's code version can change under its sockets (abort, a new
     * version, a restarted sandbox): its sockets are keyed by the facet's id, and each event goes
     * where the facet runs when it is delivered.
     */
    private volatile java.util.function.UnaryOperator<Address.DurableObject> facetTargets = o -> o;

    void facetTargets(java.util.function.UnaryOperator<Address.DurableObject> resolve) {
        this.facetTargets = resolve;
    }

    /**
     * A caller's call got a response carrying a socket: invocation {@code callerInvocation} may
     * claim it (pass it on in its own response) even when it was already claimed once. This is how
     * a socket crosses more than one hop (facet → supervisor → worker in front) and from a
     * tenant's generated code to the tenant.
     */
    java.util.function.Consumer<Message> offering(long callerInvocation, java.util.function.Consumer<Message> reply) {
        java.util.function.Consumer<Message> offer = m -> {
            List<Message.Header> headers = switch (m) {
                case Message.CallResult r when r.status() == 101 -> r.headers();
                case Message.CallHead h when h.status() == 101 -> h.headers();
                default -> List.of();
            };
            for (Message.Header h : headers) {
                if (!h.name().equals(":bulwark-websocket")) continue;
                try {
                    Socket s = sockets.get(Long.parseLong(h.value()));
                    if (s != null) {
                        synchronized (s) {
                            s.offeredTo = callerInvocation;
                        }
                    }
                } catch (NumberFormatException e) {
                    // the node's own header: never malformed
                }
            }
        };
        // A sandbox caller's link stays a link (its call streams both ways), with the offer seen first.
        CallerLink link = CallerLink.of(reply);
        if (link != null) return link.observed(offer);
        return m -> {
            offer.accept(m);
            reply.accept(m);
        };
    }

    /** The WebSockets workers opened to servers: their isolate ends speak through this hub's messages. */
    void outbound(OutboundSockets sockets) {
        this.outbound = sockets;
    }

    /** Whether a socket with this id is registered and not closed. */
    boolean isOpen(long socketId) {
        Socket s = sockets.get(socketId);
        if (s == null) return false;
        synchronized (s) {
            return !s.closed;
        }
    }

    public int perObjectLimit() {
        return perObjectLimit;
    }

    /** One client's socket. Guarded by itself. */
    static final class Socket {
        final long id;
        final String tenant;
        /** Changes for a facet's socket: the facet's current code version (see {@link #facetTargets}). */
        volatile Address target;
        /** The sandbox holding the socket's JS object; null for a hibernatable one (it goes where the object is). */
        final SandboxProcess home;
        final boolean hibernatable;
        final List<String> tags;
        volatile byte[] attachment;
        /** The client end once connected (or claimed by an isolate); null before. */
        ClientEnd client;
        /** Frames written before the client end came. */
        final ArrayDeque<Object> outgoing = new ArrayDeque<>();
        /** Bytes of this socket held in the node toward its client: queued in {@link #outgoing}, or handed to its end and not yet written. */
        long buffered;
        final ArrayDeque<Message.SocketEvent> inbound = new ArrayDeque<>();
        /** Bytes of the client's messages queued toward the server end (bounds an isolate client end; a front-door client is held back by demand). */
        long inboundBytes;
        boolean inFlight;
        /** Its events that answered and still run ({@link SocketEventOutcome}). */
        final java.util.concurrent.atomic.AtomicInteger lingering = new java.util.concurrent.atomic.AtomicInteger();
        boolean claimed;
        /** The invocation a call's response offered the socket to ({@link #offering}), or -1. */
        long offeredTo = -1;
        boolean closed;

        Socket(long id, String tenant, Address target, SandboxProcess home, boolean hibernatable, List<String> tags) {
            this.id = id;
            this.tenant = tenant;
            this.target = target;
            this.home = home;
            this.hibernatable = hibernatable;
            this.tags = tags;
        }
    }

    /** The tags of each open WebSocket an object holds (for operators), in no particular order. */
    List<List<String>> objectSockets(Address.DurableObject o) {
        Set<Long> ids = byObject.get(key(o));
        if (ids == null) return List.of();
        List<List<String>> out = new java.util.ArrayList<>();
        for (Long id : List.copyOf(ids)) { // a concurrent set: copied without its lock (no lock order to keep)
            Socket s = sockets.get(id);
            if (s == null) continue;
            synchronized (s) {
                if (!s.closed) out.add(List.copyOf(s.tags));
            }
        }
        return out;
    }

    /** An object's sockets and auto-response: a facet's by its id alone (its code version changes). */
    private static String key(Address.DurableObject o) {
        if (dev.bulwark.sandbox.ipc.FacetIds.isFacet(o)) return "facet\n" + o.objectId();
        return o.workerId() + "\n" + o.className() + "\n" + o.objectId();
    }

    /** An object instance in a sandbox (which sockets it was told of). */
    private static String instanceKey(Address.DurableObject o) {
        return o.workerId() + "\n" + o.className() + "\n" + o.objectId();
    }

    // ---------------------------------------------------------------- opening

    /**
     * Wraps the listener of a fetch invocation so the sockets its response opens are checked and
     * registered before the listener hears of them.
     */
    InvocationListener watch(String tenant, Address target, SandboxProcess sandbox, InvocationListener listener) {
        return new InvocationListener() {
            private boolean refused;

            @Override
            public void socketOpen(Message.SocketOpen open) {
                String problem = opened(tenant, target, sandbox, open);
                if (problem == null) {
                    listener.socketOpen(open);
                } else {
                    // The refusal is the response: a caller (the worker in front of the object) sees it
                    // as a Response it can return, and the client gets it as the answer to its upgrade.
                    refused = true;
                    ErrorCode code = problem.startsWith("too many") ? ErrorCode.TOO_MANY_WEBSOCKETS : ErrorCode.NOT_FOUND;
                    listener.head(new Message.ResponseHead(open.invocationId(), code.status(), "",
                            List.of(new Message.Header("content-type", "application/json; charset=utf-8"),
                                    new Message.Header("cache-control", "no-store"))));
                    listener.chunk(dev.bulwark.server.http.ErrorResponse.body(code.code(), problem, null)
                            .getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    listener.end();
                }
            }

            @Override
            public void head(Message.ResponseHead head) {
                if (!refused) listener.head(head);
            }

            @Override
            public void chunk(byte[] data) {
                if (!refused) listener.chunk(data);
            }

            @Override
            public void end() {
                if (!refused) listener.end();
            }

            @Override
            public void lastChunk(byte[] data) {
                if (!refused) listener.lastChunk(data);
            }

            @Override
            public void failed(Message.InvocationFailed failure) {
                listener.failed(failure);
            }

            @Override
            public void rpcReturn(Message.RpcReturn result) {
                listener.rpcReturn(result);
            }

            @Override
            public void pull() {
                listener.pull();
            }

            @Override
            public void done(long cpuMicros) {
                listener.done(cpuMicros);
            }
        };
    }

    /** Registers (or, for a handed-over socket, claims) a socket; null when accepted, else why not. */
    private String opened(String tenant, Address target, SandboxProcess sandbox, Message.SocketOpen open) {
        if (open.socketId() != open.invocationId()) {
            OutboundSockets o = outbound;
            if (o != null && o.holds(open.socketId())) return o.passThrough(sandbox, tenant, open);
            Socket s = sockets.get(open.socketId());
            if (s == null) return "no such WebSocket";
            synchronized (s) {
                boolean offered = s.offeredTo == open.invocationId();
                if (!offered && !s.tenant.equals(tenant)) return "no such WebSocket";
                if ((s.claimed && !offered) || s.closed || s.client != null) return "the WebSocket was already returned";
                s.claimed = true;
                s.offeredTo = -1;
            }
            return null;
        }
        if (open.tags().size() > 10) return "a WebSocket can have at most 10 tags";
        boolean hibernatable = open.hibernatable() && target instanceof Address.DurableObject;
        Socket s = new Socket(open.socketId(), tenant, target, hibernatable ? null : sandbox, hibernatable, open.tags());
        if (target instanceof Address.DurableObject o) {
            Set<Long> ids = byObject.computeIfAbsent(key(o), k -> ConcurrentHashMap.newKeySet());
            synchronized (ids) {
                if (ids.size() >= perObjectLimit) {
                    // The object counted it as accepted: tell it the socket is gone.
                    sockets.put(s.id, s);
                    s.closed = true;
                    deliver(s, new Message.SocketEvent(0, target, s.id, Message.SocketEventKind.CLOSE, null, null, 1013,
                            "too many WebSockets"), false);
                    sockets.remove(s.id);
                    return "too many WebSockets: the durable object holds " + ids.size() + "; the limit is "
                            + perObjectLimit + " (sandboxes.websockets_per_object)";
                }
                ids.add(s.id);
            }
        }
        sockets.put(s.id, s);
        timer.schedule(() -> {
            synchronized (s) {
                if (s.client != null || s.closed) return;
            }
            clientClosed(s.id, 1006, "the WebSocket was never connected");
        }, CONNECT_WAIT_MS, TimeUnit.MILLISECONDS);
        return null;
    }

    /** The client's connection is upgraded: frames may flow. */
    public void connect(long socketId, Session session) {
        OutboundSockets out = outbound;
        if (out != null && out.spliceClient(socketId, session)) return;
        Socket s = sockets.get(socketId);
        if (s == null) {
            session.close(1011, "unknown WebSocket", Callback.NOOP);
            return;
        }
        synchronized (s) {
            if (s.closed) {
                session.close(1011, "the WebSocket is closed", Callback.NOOP);
                return;
            }
            s.client = new FrontDoorEnd(session);
            writeQueued(s);
        }
        session.demand();
    }

    // ---------------------------------------------------------------- from the client

    /** A message from the client (text or data). */
    public void clientMessage(long socketId, String text, byte[] data) {
        OutboundSockets out = outbound;
        if (out != null && out.fromClient(socketId, text, data)) return;
        Socket s = sockets.get(socketId);
        if (s == null) return;
        if (s.hibernatable && text != null && s.target instanceof Address.DurableObject o) {
            String[] pair = autoResponses.get(key(o));
            if (pair != null && pair[0].equals(text)) {
                synchronized (s) {
                    write(s, pair[1]);
                    if (s.client != null) s.client.demand();
                }
                return;
            }
        }
        enqueue(s, new Message.SocketEvent(0, s.target, s.id, Message.SocketEventKind.MESSAGE, text, data, 0, null));
    }

    /** The client closed, or the connection broke (code 1006). */
    public void clientClosed(long socketId, int code, String reason) {
        OutboundSockets out = outbound;
        if (out != null && out.clientClosed(socketId, code, reason)) return;
        Socket s = sockets.get(socketId);
        if (s == null) return;
        synchronized (s) {
            if (s.closed) return;
            s.closed = true;
            dropQueued(s);
        }
        enqueue(s, new Message.SocketEvent(0, s.target, s.id, Message.SocketEventKind.CLOSE, null, null, code, reason));
    }

    /** Queues a client event; its invocation id is 0 until it is sent (-1 marks a second attempt). */
    private void enqueue(Socket s, Message.SocketEvent event) {
        synchronized (s) {
            s.inbound.add(event);
            s.inboundBytes += frameSize(event.text(), event.data());
            if (s.inFlight) return;
            s.inFlight = true;
        }
        pump(s);
    }

    /** Sends the socket's next event; the one after it waits until this one is done. */
    private void pump(Socket s) {
        Message.SocketEvent next;
        synchronized (s) {
            next = s.inbound.poll();
            if (next == null) {
                s.inFlight = false;
                if (s.closed) forget(s);
                else if (s.client != null) s.client.demand();
                return;
            }
            s.inboundBytes -= frameSize(next.text(), next.data());
        }
        deliver(s, next);
    }

    private void deliver(Socket s, Message.SocketEvent e) {
        deliver(s, e, true);
    }

    /** Runs one event where the socket's JS side lives; with {@code thenNext}, the next one follows it. */
    private void deliver(Socket s, Message.SocketEvent e, boolean thenNext) {
        Message.SocketEvent event = new Message.SocketEvent(invocationIds.getAsLong(), e.target(), e.socketId(), e.kind(),
                e.text(), e.data(), e.code(), e.reason());
        InvocationListener listener = new SocketEventOutcome(s.lingering) {
            private boolean crashed;

            public void failed(Message.InvocationFailed failure) {
                crashed = failure.code().equals(ErrorCode.SANDBOX_CRASHED.code());
                log.debug("WebSocket {} event failed: {}", s.id, failure.message());
            }

            void delivered(boolean ended) {
                if (!thenNext) return;
                // The object's sandbox died under the event: it goes once more, to the object's next
                // placement (a hibernatable socket outlives its sandbox; a plain one was closed).
                if (ended && crashed && s.hibernatable && e.invocationId() == 0) {
                    Message.SocketEvent again = new Message.SocketEvent(-1, e.target(), e.socketId(), e.kind(), e.text(),
                            e.data(), e.code(), e.reason());
                    Thread.startVirtualThread(() -> deliver(s, again, true));
                    return;
                }
                Thread.startVirtualThread(() -> pump(s));
            }
        };
        Thread.startVirtualThread(() -> {
            if (s.home != null) {
                supervisor.socketEventAt(s.home, event, listener);
                return;
            }
            Message.SocketEvent toSend = event;
            if (event.target() instanceof Address.DurableObject o && dev.bulwark.sandbox.ipc.FacetIds.isFacet(o)) {
                Address.DurableObject now = facetTargets.apply(o);
                if (now == null) {
                    listener.failed(new Message.InvocationFailed(event.invocationId(), ErrorCode.NOT_FOUND.code(),
                            "the facet could not be started", false));
                    listener.done(0);
                    return;
                }
                s.target = now;
                toSend = new Message.SocketEvent(event.invocationId(), now, event.socketId(), event.kind(), event.text(),
                        event.data(), event.code(), event.reason());
            }
            supervisor.socketEvent(s.tenant, toSend, listener);
        });
    }

    private void forget(Socket s) {
        sockets.remove(s.id);
        OutboundSockets held = outbound;
        if (held != null) held.holderGone(s.id);
        if (s.target instanceof Address.DurableObject o) {
            Set<Long> ids = byObject.get(key(o));
            if (ids != null) {
                synchronized (ids) {
                    ids.remove(s.id);
                }
            }
        }
    }

    // ---------------------------------------------------------------- from sandboxes

    /** A sandbox speaks about a socket: checked against where the socket's JS side lives. */
    void fromSandbox(SandboxProcess from, Message m) {
        OutboundSockets o = outbound;
        if (o != null && o.fromSandbox(from, m)) return;
        switch (m) {
            case Message.SocketClaim c -> claim(from, c);
            case Message.SocketSend send when send.socketId() < 0 -> fromClientEnd(from, send.socketId(), send, null);
            case Message.SocketClose close when close.socketId() < 0 -> fromClientEnd(from, close.socketId(), null, close);
            case Message.SocketSend send -> {
                Socket s = owned(from, send.socketId());
                if (s == null) return;
                long size = frameSize(send.text(), send.data());
                if (size > MAX_MESSAGE_BYTES * 3L) return;
                synchronized (s) {
                    if (s.closed) return;
                    write(s, send.text() != null ? send.text() : send.data());
                }
            }
            case Message.SocketClose close -> {
                Socket s = owned(from, close.socketId());
                if (s == null) return;
                synchronized (s) {
                    write(s, close);
                }
            }
            case Message.SocketAttachment a -> {
                Socket s = owned(from, a.socketId());
                if (s != null && (a.attachment() == null || a.attachment().length <= MAX_ATTACHMENT_BYTES)) {
                    s.attachment = a.attachment();
                }
            }
            case Message.SocketAutoResponse r -> {
                if (supervisor.placement(r.target()) != from) return;
                if (r.request() == null) autoResponses.remove(key(r.target()));
                else autoResponses.put(key(r.target()), new String[] {r.request(), r.response()});
            }
            default -> log.warn("unexpected socket message {}", m.getClass().getSimpleName());
        }
    }

    /**
     * An isolate of {@code from} accepted the client end of a socket a response handed it. Refused
     * (the isolate's end hears a close) unless the invocation runs there, the socket was handed to
     * it (or is its tenant's) and no client holds the socket yet.
     */
    private void claim(SandboxProcess from, Message.SocketClaim c) {
        Address.Worker target = new Address.Worker(c.workerId());
        Socket s = sockets.get(c.socketId());
        String refused = null;
        if (s == null || !from.runs(c.invocationId())) {
            refused = "no such WebSocket";
        } else {
            synchronized (s) {
                boolean offered = s.offeredTo == c.invocationId();
                if (!offered && !s.tenant.equals(from.tenant())) refused = "no such WebSocket";
                else if ((s.claimed && !offered) || s.closed || s.client != null) refused = "the WebSocket was already taken";
                else {
                    s.claimed = true;
                    s.offeredTo = -1;
                    IsolateEnd end = new IsolateEnd(s, from, target, supervisor, invocationIds, this::clientClosed);
                    s.client = end;
                    writeQueued(s);
                }
            }
        }
        if (refused != null) {
            Message.SocketEvent gone = new Message.SocketEvent(invocationIds.getAsLong(), target, -c.socketId(),
                    Message.SocketEventKind.CLOSE, null, null, 1011, refused);
            supervisor.socketEventAt(from, gone, new InvocationListener.NoResponse() {
                public void rpcReturn(Message.RpcReturn result) {}
                public void failed(Message.InvocationFailed failure) {}
                public void done(long cpuMicros) {}
            });
        }
    }

    /**
     * A frame from an isolate that holds a socket's client end ({@code endId} = -socket id): to the
     * server end as a client's frame. What it queues toward the server end is bounded, as a
     * client's connection is by Jetty's demand: past {@link #MAX_BUFFERED_BYTES} the socket closes.
     */
    private void fromClientEnd(SandboxProcess from, long endId, Message.SocketSend send, Message.SocketClose close) {
        Socket s = sockets.get(-endId);
        if (s == null) return;
        IsolateEnd end;
        synchronized (s) {
            if (!(s.client instanceof IsolateEnd e) || e.home != from) return;
            end = e;
            if (send != null) {
                long size = frameSize(send.text(), send.data());
                if (size > MAX_MESSAGE_BYTES * 3L || s.closed) return;
                if (s.inboundBytes + size > MAX_BUFFERED_BYTES) close = new Message.SocketClose(endId, 1011, "receive buffer full");
            }
        }
        if (close == null) {
            clientMessage(s.id, send.text(), send.data());
            return;
        }
        end.closeReply(close.code(), close.reason());
        clientClosed(s.id, close.code(), close.reason());
    }

    /** The socket if {@code from} holds its JS side, else null (and the message is dropped). */
    private Socket owned(SandboxProcess from, long socketId) {
        Socket s = sockets.get(socketId);
        if (s == null) return null;
        boolean ok = s.home != null ? s.home == from
                : s.target instanceof Address.DurableObject o && supervisor.placement(o) == from;
        return ok ? s : null;
    }

    /**
     * Writes (or queues, before the client end comes) a text, binary or close. Bounded per socket
     * and for the node: a socket whose frame would pass either bound is cut off (a queued socket
     * gets a 1011 close in place of what it queued). Holds s.
     */
    private void write(Socket s, Object what) {
        ClientEnd client = s.client;
        long size = sizeOf(what);
        if (client == null) {
            if (s.outgoing.peekLast() instanceof Message.SocketClose) return; // nothing goes after a close
            if (s.buffered + size > MAX_BUFFERED_BYTES || !toClients.take(size)) {
                dropQueued(s);
                s.outgoing.add(new Message.SocketClose(s.id, 1011, "send buffer full"));
                return;
            }
            s.outgoing.add(what);
            s.buffered += size;
            return;
        }
        if (s.buffered + size > MAX_BUFFERED_BYTES || !toClients.take(size)) {
            client.overrun();
            return;
        }
        s.buffered += size;
        Runnable done = () -> release(s, size);
        switch (what) {
            case String text -> client.text(text, done);
            case byte[] data -> client.binary(data, done);
            case Message.SocketClose c -> client.close(c.code(), c.reason(), done);
            default -> throw new IllegalStateException("not a frame: " + what);
        }
    }

    private void release(Socket s, long size) {
        synchronized (s) {
            s.buffered -= size;
        }
        toClients.give(size);
    }

    /** The client end came: what was queued for it is written (and counted again as it is). Holds s. */
    private void writeQueued(Socket s) {
        toClients.give(s.buffered);
        s.buffered = 0;
        for (Object o : s.outgoing) write(s, o);
        s.outgoing.clear();
    }

    /** What was queued before a client end came is dropped (the socket closed, or overran). Holds s. */
    private void dropQueued(Socket s) {
        if (s.client != null) return; // its bytes are in its end's hands, given back as they go
        toClients.give(s.buffered);
        s.buffered = 0;
        s.outgoing.clear();
    }

    /** Bytes all sockets hold toward their clients now (for operators and tests). */
    long bufferedTowardClients() {
        return toClients.held();
    }

    /** The size of a text or binary frame (exactly one of the two is set; none for a close). */
    private static long frameSize(String text, byte[] data) {
        return sizeOf(text != null ? text : data);
    }

    private static long sizeOf(Object what) {
        return switch (what) {
            case null -> 0;
            case String t -> t.length();
            case byte[] d -> d.length;
            default -> 0;
        };
    }

    // ---------------------------------------------------------------- placement

    /**
     * Before a sandbox gets its first event for an object, it learns the hibernatable sockets the
     * node keeps for it (the object may have lived in a sandbox that died).
     */
    void beforeObjectEvent(SandboxProcess p, Address.DurableObject o, boolean mayWait) {
        Set<String> seen = restored.computeIfAbsent(p, k -> ConcurrentHashMap.newKeySet());
        if (!seen.add(instanceKey(o))) return;
        Set<Long> ids = byObject.get(key(o));
        if (ids == null) return;
        List<Message.SocketState> kept = new ArrayList<>();
        synchronized (ids) {
            for (Long id : ids) {
                Socket s = sockets.get(id);
                if (s != null && s.hibernatable && !s.closed) kept.add(new Message.SocketState(id, s.tags, s.attachment));
            }
        }
        if (kept.isEmpty()) return;
        Message.SocketRestore restore = new Message.SocketRestore(o, kept);
        if (mayWait) p.deliver(restore);
        else p.post(restore); // ahead of the event, which is posted too
    }

    /** Whether the node keeps any WebSocket of this object (its placement must then stay: branch dirgc). */
    boolean keepsSockets(Address.DurableObject o) {
        Set<Long> ids = byObject.get(key(o));
        return ids != null && !ids.isEmpty();
    }

    /** The object's placement in {@code p} was dropped (evicted there): its next placement is told afresh. */
    void placementDropped(SandboxProcess p, Address.DurableObject o) {
        Set<String> seen = restored.get(p);
        if (seen != null) seen.remove(instanceKey(o));
    }

    /**
     * A sandbox died: the sockets whose JS side it held are closed (hibernatable ones stay), and
     * so are those whose client end an isolate of it had accepted.
     */
    void sandboxGone(SandboxProcess p) {
        restored.remove(p);
        for (Socket s : sockets.values()) {
            if (s.client instanceof IsolateEnd e && e.home == p) {
                clientClosed(s.id, 1006, "the isolate holding the WebSocket's other end is gone");
                continue;
            }
            if (s.home != p) continue;
            ClientEnd client;
            synchronized (s) {
                if (s.closed) continue;
                s.closed = true;
                client = s.client;
                dropQueued(s);
            }
            forget(s);
            if (client != null) client.close(1011, "the worker's sandbox restarted", () -> {});
        }
    }

    /** Sockets open now (for operators and tests). */
    public int openSockets() {
        return sockets.size();
    }

    void close() {
        timer.shutdownNow();
    }
}
