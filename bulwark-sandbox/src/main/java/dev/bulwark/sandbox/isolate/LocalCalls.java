package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * Calls from this sandbox's isolates to durable objects that the node placed in this very
 * sandbox, dispatched here instead of through the node (which costs four socket hops).
 *
 * <p>Why it is right: the node's directory places an object in one live sandbox of its tenant on
 * its first event and keeps it there until that sandbox dies or evicts it and says so ({@link
 * #evicted}: this sandbox forgets the placement before the node may drop it). So once the node
 * has delivered an event for object X here, every later event for X comes here too until X is
 * evicted; and X belongs to this sandbox's tenant, or the node would not have placed it here. A call to X from an isolate of
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
    /**
     * Placements remembered at most; past it new ones are not remembered (forgetting only costs
     * the node's route). Evicted objects are forgotten, so this is about live objects.
     */
    static final int MAX_PLACEMENTS = 100_000;

    private final Outbox node;
    private final Consumer<Message> runtime;
    private final Subrequests subrequests;
    /**
     * The objects placed here, each with its local calls starting (between {@link #fetch}'s look
     * and the start's hand-over to its isolate): an object with one starting is not forgotten
     * at eviction, so the node is never told it left while a local call is about to re-activate it.
     */
    private final Map<String, Integer> placed = new ConcurrentHashMap<>();
    private final Map<Long, Relay> relays = new ConcurrentHashMap<>();
    /** What the current task of this thread handed over to local receivers, delivered at its flush. */
    private final ThreadLocal<List<Runnable>> held = ThreadLocal.withInitial(ArrayList::new);
    /** The relays whose callee said something in the current task of this thread (see Relay.flushed). */
    private final ThreadLocal<java.util.Set<Relay>> flushing = ThreadLocal.withInitial(java.util.LinkedHashSet::new);

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
            FetchRelay callee = calleeOf(message);
            if (callee != null) {
                callee.fromCaller(message);
                return;
            }
            Relay r = relayOf(message);
            if (r == null) {
                node.send(message);
                return;
            }
            if (message instanceof Message.InvocationDone) node.send(message);
            r.accept(message);
            r.flushed();
        }

        @Override
        public void sendLater(Message message) {
            FetchRelay callee = calleeOf(message);
            if (callee != null) {
                // Request body pieces leave at the caller's flush, after its writes (the output gate).
                held.get().add(() -> callee.fromCaller(message));
                return;
            }
            Relay r = relayOf(message);
            if (r == null) {
                node.sendLater(message);
                return;
            }
            if (message instanceof Message.InvocationDone) node.sendLater(message);
            held.get().add(() -> r.accept(message));
            // After everything the task said: a head and a body in hand go to the caller as one answer.
            flushing.get().add(r);
        }

        @Override
        public void idle() {
            node.idle();
        }

        @Override
        public void discard() {
            node.discard();
            for (Runnable r : held.get()) {
                if (r instanceof Start s) s.dropped();
            }
            held.get().clear();
            flushing.get().clear();
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
            java.util.Set<Relay> relaysSaid = flushing.get();
            if (!relaysSaid.isEmpty()) {
                List<Relay> now = List.copyOf(relaysSaid);
                relaysSaid.clear();
                for (Relay r : now) r.flushed();
            }
        }
    };

    /** The node delivered an event for {@code target} here: the object is placed in this sandbox. */
    void delivered(long invocationId, Address target) {
        if (!(target instanceof Address.DurableObject o) || (invocationId & LOCAL_ID_BIT) != 0) return;
        String key = key(o);
        if (placed.size() >= MAX_PLACEMENTS && !placed.containsKey(key)) return;
        placed.putIfAbsent(key, 0);
    }

    /** Whether the node placed this object here (as far as this sandbox remembers). */
    boolean placedHere(Address.DurableObject o) {
        return placed.containsKey(key(o));
    }

    /**
     * An isolate evicted these objects: they are forgotten here, except those with a local call
     * starting (it re-activates them here; the next sweep evicts them again). Returns the objects
     * forgotten, which the node is told of. Isolate thread, inside the eviction's task.
     */
    List<Address.DurableObject> evicted(List<Address.DurableObject> objects) {
        List<Address.DurableObject> forgotten = new ArrayList<>(objects.size());
        for (Address.DurableObject o : objects) {
            boolean[] kept = {false};
            placed.computeIfPresent(key(o), (k, starting) -> {
                if (starting == 0) return null;
                kept[0] = true;
                return starting;
            });
            if (!kept[0]) forgotten.add(o);
        }
        return forgotten;
    }

    /** Placements remembered (tests). */
    int placements() {
        return placed.size();
    }

    /** Marks a local call of {@code o} as starting, if {@code o} is placed here. */
    private boolean starting(Address.DurableObject o) {
        return placed.computeIfPresent(key(o), (k, starting) -> starting + 1) != null;
    }

    private void started(Address.DurableObject o) {
        placed.computeIfPresent(key(o), (k, starting) -> starting - 1);
    }

    /**
     * A stub's {@code fetch()} from invocation {@code caller}: started here if the object lives
     * here; false if it must go through the node. Isolate thread, inside the caller's task.
     */
    boolean fetch(Outbox via, long caller, long callId, Address.DurableObject target, String method, String url,
                  List<Message.Header> headers, byte[] body, boolean bodyStreamed) {
        if (needsNode(headers) || !starting(target)) return false;
        dev.bulwark.sandbox.trace.LatencyTrace.stamp("local.fetch", callId);
        long id = register(new FetchRelay(callId));
        // The caller's side of the streams (acknowledgements, cancel, body pieces) now talks to this invocation.
        subrequests.rewire(callId, new StreamWire.Local(id));
        start(via, target, new Message.LocalInvocation(id, caller, target, false),
                new Message.FetchStart(id, target, method, url, headers, body, bodyStreamed));
        return true;
    }

    /** Local invocations in flight (tests). */
    int inFlight() {
        return relays.size();
    }

    private void start(Outbox via, Address.DurableObject target, Message.LocalInvocation notice, Message startMessage) {
        via.send(notice);
        // At the flush of the caller's task: after the notice has left, so the node knows the
        // invocation before anything of it (an outbound request, its end) reaches the node. Once
        // the start is queued on its isolate, an eviction sweep there may forget the object: the
        // node holds the object's placement for this invocation, announced before.
        held.get().add(new Start(target, notice.invocationId(), startMessage));
    }

    /** A local call's start, held until its caller's task ends. */
    private final class Start implements Runnable {
        private final Address.DurableObject target;
        private final long invocationId;
        private final Message message;

        Start(Address.DurableObject target, long invocationId, Message message) {
            this.target = target;
            this.invocationId = invocationId;
            this.message = message;
        }

        @Override
        public void run() {
            try {
                runtime.accept(message);
            } finally {
                started(target);
            }
        }

        /** Its caller's task was discarded: the call never starts, and nothing waits for it here. */
        void dropped() {
            started(target);
            relays.remove(invocationId);
        }
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

    /** The local call a message of a caller to its callee is for (StreamWire.Local), or null. */
    private FetchRelay calleeOf(Message m) {
        long id = switch (m) {
            case Message.ResponseAck x -> x.invocationId();
            case Message.Cancel x -> x.invocationId();
            case Message.RequestBodyChunk x -> x.invocationId();
            case Message.RequestBodyEnd x -> x.invocationId();
            default -> 0;
        };
        return (id & LOCAL_ID_BIT) != 0 && relays.get(id) instanceof FetchRelay f ? f : null;
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
                if (!streaming()) answer(new Message.CallFailed(callId, ErrorCode.INTERNAL.code(), noAnswer()));
                else finishStream(noAnswer());
                return;
            }
            if (m instanceof Message.InvocationFailed f) {
                if (!streaming()) answer(new Message.CallFailed(callId, f.code(), f.message(), f.thrown()));
                else finishStream(f.message());
                return;
            }
            if (!answered) outcome(m);
        }

        /** Whether the answer is a stream under way (its head was handed to the caller). */
        boolean streaming() {
            return false;
        }

        /** Ends a stream under way: with {@code error}, the caller's body stream errors. */
        void finishStream(String error) {}

        /** What the callee said at once (one flush of its task) has been accepted. */
        synchronized void flushed() {}

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

        /** The last message of a streamed answer. */
        final void answerStream(Message end) {
            answered = true;
            subrequests.complete(callId, end);
        }
    }

    /**
     * The answer of a local fetch, streamed as the node's relay streams it: the head is held until
     * the callee's task that said it has flushed, so a head with its body in hand still reaches the
     * caller as one CallResult; otherwise the caller gets CallHead at once, then CallChunks and a
     * CallEnd, and the callee's response window opens only as the caller reads (its
     * acknowledgements come back through {@link #fromCaller}). No size cap: the window bounds what
     * is held.
     */
    private final class FetchRelay extends Relay {
        private Message.ResponseHead head;
        private boolean headSent, ended;
        /** The caller dropped the call before its head: the callee is canceled once it answers. */
        private boolean callerGone;
        /** Body bytes handed to the caller and not yet acknowledged by it. */
        private long unacknowledged;
        /** Pulls of the request body the callee made and the caller has not answered yet. */
        private int pulls;
        /** Chunks of this flush of the callee, held until it is over (see {@link #flushed}). */
        private final List<byte[]> firstChunks = new ArrayList<>();

        FetchRelay(long callId) {
            super(callId);
        }

        @Override
        boolean streaming() {
            return headSent;
        }

        @Override
        void outcome(Message m) {
            switch (m) {
                case Message.ResponseHead h -> {
                    if (callerGone) {
                        runtime.accept(new Message.Cancel(invocationId, "the caller is gone"));
                        return;
                    }
                    head = h;
                }
                case Message.ResponseChunk c -> {
                    if (head == null || ended) return;
                    unacknowledged += c.data().length;
                    if (headSent) subrequests.complete(callId, new Message.CallChunk(callId, c.data()));
                    else firstChunks.add(c.data());
                }
                case Message.ResponseEnd e -> {
                    if (head == null || ended) return;
                    if (headSent) {
                        finishStream(null);
                        return;
                    }
                    // The whole answer came in one go: one CallResult, as before streaming.
                    java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
                    for (byte[] b : firstChunks) body.writeBytes(b);
                    firstChunks.clear();
                    // Taken at once: nothing more of this response will come.
                    if (unacknowledged > 0) runtime.accept(new Message.ResponseAck(invocationId, unacknowledged));
                    unacknowledged = 0;
                    ended = true;
                    answer(new Message.CallResult(callId, head.status(), head.statusText(), plain(head), body.toByteArray()));
                }
                case Message.SocketOpen s -> answer(new Message.CallFailed(callId, ErrorCode.INTERNAL.code(),
                        "a durable object can return a WebSocket only to a request with 'Upgrade: websocket'"));
                case Message.RequestBodyPull p -> {
                    synchronized (this) {
                        pulls++;
                    }
                    subrequests.complete(callId, new Message.CallBodyPull(callId));
                }
                default -> {
                }
            }
        }

        @Override
        synchronized void flushed() {
            if (head == null || headSent || ended || answered()) return;
            headSent = true;
            subrequests.complete(callId, new Message.CallHead(callId, head.status(), head.statusText(), plain(head)));
            for (byte[] b : firstChunks) subrequests.complete(callId, new Message.CallChunk(callId, b));
            firstChunks.clear();
        }

        @Override
        void finishStream(String error) {
            if (ended) return;
            ended = true;
            answerStream(new Message.CallEnd(callId, error));
        }

        /**
         * What the caller's side says to this call's callee: acknowledgements (never more than was
         * handed over), a cancel, request body pieces (only those the callee pulled).
         */
        synchronized void fromCaller(Message m) {
            switch (m) {
                case Message.ResponseAck a -> {
                    long n = Math.min(a.bytes(), unacknowledged);
                    unacknowledged -= n;
                    if (n > 0) runtime.accept(new Message.ResponseAck(invocationId, n));
                }
                case Message.Cancel c -> {
                    if (head == null && !answered()) callerGone = true;
                    else if (!ended) runtime.accept(c);
                }
                case Message.RequestBodyChunk c -> {
                    if (pulls == 0) return;
                    pulls--;
                    runtime.accept(c);
                }
                case Message.RequestBodyEnd e -> {
                    if (pulls == 0) return;
                    pulls--;
                    runtime.accept(e);
                }
                default -> {
                }
            }
        }

        @Override
        String noAnswer() {
            return "the durable object sent no response";
        }
    }

    /** The head's headers without the node's own (names starting with ':'); none passes through a call. */
    private static List<Message.Header> plain(Message.ResponseHead head) {
        List<Message.Header> headers = new ArrayList<>();
        for (Message.Header h : head.headers()) if (!h.name().startsWith(":")) headers.add(h);
        return headers;
    }
}
