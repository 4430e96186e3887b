package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * Calls from this sandbox's isolates to durable objects that the node placed in this very
 * sandbox, dispatched here instead of through the node (which costs four socket hops).
 *
 * <p>Why it is right: the node's directory places an object in one live sandbox of its tenant on
 * its first event and keeps it there until that sandbox dies (idle eviction inside the sandbox
 * does not release it). So once the node has delivered an event for object X here, every later
 * event for X would come here too, for as long as this process lives; and X belongs to this
 * sandbox's tenant, or the node would not have placed it here. A call to X from an isolate of
 * this sandbox therefore becomes an invocation started here: the same start message, the same
 * isolate choice, limits, per-object gates and storage as a node-delivered event. Anything else
 * (an object placed elsewhere or not yet known, a WebSocket upgrade, a request that carries loop
 * headers) still goes through the node.
 *
 * <p>What the node keeps: the sandbox tells it of each local invocation ({@link
 * Message.LocalInvocation}, one-way, before the callee starts) and forwards the callee's
 * {@link Message.InvocationDone}, so the node records the invocation (its outbound requests are
 * attributed and limited, its end logged) as it records those it starts. The node does not see
 * the call's request and response.
 *
 * <p>Order: the notice and the callee's start leave at the end of the caller's task (when the
 * isolate flushes what the task said, after its writes committed), as a {@code CallStart} would;
 * what the callee says is handed to the caller only when the callee's task flushes, after its
 * own commit (the output gate).
 */
final class LocalCalls {
    /** Local invocation ids have this bit set; the node's are below it (52 bits). */
    static final long LOCAL_ID_BIT = 1L << 52;
    private static final long LOW_BITS = LOCAL_ID_BIT - 1;
    /** Placements remembered at most; past it the table starts again (forgetting only costs the node's route). */
    static final int MAX_PLACEMENTS = 100_000;
    /** Largest response body a call carries back (as the node's relay). */
    static final int MAX_BODY_BYTES = 32 << 20;

    private final Outbox node;
    private final Consumer<Message> runtime;
    private final Subrequests subrequests;
    private final Set<String> placed = ConcurrentHashMap.newKeySet();
    private final Map<Long, Relay> relays = new ConcurrentHashMap<>();
    /** What the current task of this thread handed over to local receivers, delivered at its flush. */
    private final ThreadLocal<List<Runnable>> held = ThreadLocal.withInitial(ArrayList::new);

    /**
     * @param node        the way to the node
     * @param runtime     delivers a start message inside this sandbox (as if the node had sent it)
     * @param subrequests where the callers' calls wait for their answer
     */
    LocalCalls(Outbox node, Consumer<Message> runtime, Subrequests subrequests) {
        this.node = node;
        this.runtime = runtime;
        this.subrequests = subrequests;
    }

    /** The sandbox's way out: messages of local invocations stay here, the rest go to the node. */
    final Outbox outbox = new Outbox() {
        @Override
        public void send(Message message) {
            Relay r = relayOf(message);
            if (r == null) {
                node.send(message);
                return;
            }
            if (message instanceof Message.InvocationDone) node.send(message);
            r.accept(message);
        }

        @Override
        public void sendLater(Message message) {
            Relay r = relayOf(message);
            if (r == null) {
                node.sendLater(message);
                return;
            }
            if (message instanceof Message.InvocationDone) node.sendLater(message);
            held.get().add(() -> r.accept(message));
        }

        @Override
        public void idle() {
            node.idle();
        }

        @Override
        public void flush() {
            node.flush();
            List<Runnable> list = held.get();
            while (!list.isEmpty()) {
                List<Runnable> now = List.copyOf(list);
                list.clear();
                for (Runnable r : now) r.run();
            }
        }
    };

    /** The node delivered an event for {@code target} here: the object is placed in this sandbox. */
    void delivered(long invocationId, Address target) {
        if (!(target instanceof Address.DurableObject o) || (invocationId & LOCAL_ID_BIT) != 0) return;
        if (placed.size() >= MAX_PLACEMENTS) placed.clear();
        placed.add(key(o));
    }

    /** Whether the node placed this object here (as far as this sandbox remembers). */
    boolean placedHere(Address.DurableObject o) {
        return placed.contains(key(o));
    }

    /**
     * A stub's {@code fetch()} from invocation {@code caller}: started here if the object lives
     * here; false if it must go through the node. Isolate thread, inside the caller's task.
     */
    boolean fetch(Outbox via, long caller, long callId, Address.DurableObject target, String method, String url,
                  List<Message.Header> headers, byte[] body) {
        if (!placedHere(target) || needsNode(headers)) return false;
        long id = register(new FetchRelay(callId));
        start(via, new Message.LocalInvocation(id, caller, target, false),
                new Message.FetchStart(id, target, method, url, headers, body, false));
        return true;
    }

    /** Local invocations in flight (tests). */
    int inFlight() {
        return relays.size();
    }

    private void start(Outbox via, Message.LocalInvocation notice, Message startMessage) {
        via.send(notice);
        // At the flush of the caller's task: after the notice has left, so the node knows the
        // invocation before anything of it (an outbound request, its end) reaches the node.
        held.get().add(() -> runtime.accept(startMessage));
    }

    private long register(Relay relay) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        while (true) {
            long id = LOCAL_ID_BIT | (random.nextLong() & LOW_BITS);
            if (relays.putIfAbsent(id, relay) == null) {
                relay.invocationId = id;
                return id;
            }
        }
    }

    /** Upgrades go through the node (its socket hub owns WebSockets), and so do loop headers (its loop limits). */
    private static boolean needsNode(List<Message.Header> headers) {
        if (headers == null) return false;
        for (Message.Header h : headers) {
            String name = h.name().toLowerCase(Locale.ROOT);
            if (name.equals("upgrade") || name.equals("cf-ew-via") || name.equals("x-bulwark-loop")) return true;
        }
        return false;
    }

    private static String key(Address.DurableObject o) {
        return o.workerId() + "\n" + o.className() + "\n" + o.objectId();
    }

    private Relay relayOf(Message m) {
        long id = invocationOf(m);
        return (id & LOCAL_ID_BIT) == 0 ? null : relays.get(id);
    }

    /**
     * The invocation a message of an invocation's outcome belongs to, or 0. Every other message
     * (log lines, outbound requests, alarms, socket traffic) goes to the node whoever sends it.
     */
    private static long invocationOf(Message m) {
        return switch (m) {
            case Message.ResponseHead x -> x.invocationId();
            case Message.ResponseChunk x -> x.invocationId();
            case Message.ResponseEnd x -> x.invocationId();
            case Message.InvocationFailed x -> x.invocationId();
            case Message.InvocationDone x -> x.invocationId();
            case Message.RpcReturn x -> x.invocationId();
            case Message.SocketOpen x -> x.invocationId();
            case Message.RequestBodyPull x -> x.invocationId();
            default -> 0;
        };
    }

    /** Turns the callee's outcome into the caller's answer, once. */
    private abstract class Relay {
        final long callId;
        long invocationId;
        private boolean answered;

        Relay(long callId) {
            this.callId = callId;
        }

        final synchronized void accept(Message m) {
            if (m instanceof Message.InvocationDone) {
                relays.remove(invocationId);
                answer(new Message.CallFailed(callId, ErrorCode.INTERNAL.code(), noAnswer()));
                return;
            }
            if (m instanceof Message.InvocationFailed f) {
                answer(new Message.CallFailed(callId, f.code(), f.message()));
                return;
            }
            if (!answered) outcome(m);
        }

        abstract void outcome(Message m);

        abstract String noAnswer();

        final boolean answered() {
            return answered;
        }

        final void answer(Message m) {
            if (answered) return;
            answered = true;
            subrequests.complete(callId, m);
        }
    }

    private final class FetchRelay extends Relay {
        private Message.ResponseHead head;
        private ByteArrayOutputStream body;

        FetchRelay(long callId) {
            super(callId);
        }

        @Override
        void outcome(Message m) {
            switch (m) {
                case Message.ResponseHead h -> {
                    head = h;
                    body = new ByteArrayOutputStream();
                }
                case Message.ResponseChunk c -> {
                    if (body == null) return;
                    // Taken at once, as the node's relay does: the callee's response window never closes.
                    runtime.accept(new Message.ResponseAck(invocationId, c.data().length));
                    if (body.size() + (long) c.data().length > MAX_BODY_BYTES) {
                        body = null;
                        answer(new Message.CallFailed(callId, ErrorCode.INTERNAL.code(),
                                "the durable object's response is larger than " + MAX_BODY_BYTES + " bytes"));
                        runtime.accept(new Message.Cancel(invocationId, "response too large for the caller"));
                        return;
                    }
                    body.writeBytes(c.data());
                }
                case Message.ResponseEnd e -> {
                    if (head == null || body == null) return;
                    List<Message.Header> headers = new ArrayList<>();
                    // Names starting with ':' are the node's own; none passes through a call.
                    for (Message.Header h : head.headers()) if (!h.name().startsWith(":")) headers.add(h);
                    answer(new Message.CallResult(callId, head.status(), head.statusText(), headers, body.toByteArray()));
                }
                case Message.SocketOpen s -> answer(new Message.CallFailed(callId, ErrorCode.INTERNAL.code(),
                        "a durable object can return a WebSocket only to a request with 'Upgrade: websocket'"));
                default -> {
                    // RequestBodyPull: a local call's body is whole, never streamed.
                }
            }
        }

        @Override
        String noAnswer() {
            return "the durable object sent no response";
        }
    }
}
