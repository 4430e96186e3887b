package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Message;

import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** An outbox that assembles what a sandbox says into per-invocation results, for tests. */
final class Recorder implements Outbox {
    /** Where acknowledgements go, as a node would send them (the runtime's deliver). */
    volatile java.util.function.Consumer<Message> node;

    /** What became of one invocation. */
    record Outcome(int status, List<Message.Header> headers, String body, Message.InvocationFailed failure,
                   long cpuMicros) {
        String header(String name) {
            return headers.stream().filter(h -> h.name().equalsIgnoreCase(name)).map(Message.Header::value)
                    .findFirst().orElse(null);
        }
    }

    private final class Pending {
        volatile Message.ResponseHead head;
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        volatile Message.InvocationFailed failure;
        final CompletableFuture<Outcome> done = new CompletableFuture<>();
        /** Everything said about this invocation, in the order it was said (log lines and subrequests included). */
        final List<Message> events = new CopyOnWriteArrayList<>();
    }

    private final Map<Long, Pending> invocations = new ConcurrentHashMap<>();
    private final Map<Long, CompletableFuture<Message>> loads = new ConcurrentHashMap<>();
    /** The thread that reported each load's outcome (read it after the load's future completed). */
    private final Map<Long, String> loadReporters = new ConcurrentHashMap<>();
    final List<Message.LogLine> logs = new CopyOnWriteArrayList<>();
    final List<Message.Subrequest> subrequests = new CopyOnWriteArrayList<>();
    final List<Message.SubrequestAck> subrequestAcks = new CopyOnWriteArrayList<>();
    final List<Message.SubrequestCancel> subrequestCancels = new CopyOnWriteArrayList<>();
    /** The close frames workers sent to the node's sockets (a 101 response's socket). */
    final List<Message.SocketClose> socketCloses = new CopyOnWriteArrayList<>();

    private Pending pending(long id) {
        return invocations.computeIfAbsent(id, k -> new Pending());
    }

    CompletableFuture<Message> load(long correlationId) {
        return loads.computeIfAbsent(correlationId, k -> new CompletableFuture<>());
    }

    /**
     * The name of the thread that reported the load. Recorded at {@link #send} rather than in a
     * dependent of the load's future: a thread blocked in {@code get()} may run the dependents
     * itself once it wakes (CompletableFuture's waitingGet calls postComplete).
     */
    String loadReporter(long correlationId) {
        return loadReporters.get(correlationId);
    }

    Outcome await(long invocationId) throws Exception {
        return pending(invocationId).done.get(30, TimeUnit.SECONDS);
    }

    /** Like {@link #await} with another bound on how long the invocation may take to end. */
    Outcome awaitWithin(long invocationId, long timeout, TimeUnit unit) throws Exception {
        return pending(invocationId).done.get(timeout, unit);
    }

    /** The invocation's messages so far, in order: head, chunks, end, failure, done, and its log lines and subrequests. */
    List<Message> events(long invocationId) {
        return List.copyOf(pending(invocationId).events);
    }

    /** The invocation's log lines so far, in order. */
    List<Message.LogLine> logs(long invocationId) {
        return pending(invocationId).events.stream().filter(m -> m instanceof Message.LogLine)
                .map(m -> (Message.LogLine) m).toList();
    }

    /** Waits until the invocation has asked for its {@code n}-th (from 0) request body chunk. */
    void awaitBodyPull(long invocationId, int n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (pending(invocationId).events.stream().filter(m -> m instanceof Message.RequestBodyPull).count() > n) return;
            Thread.sleep(2);
        }
        throw new java.util.concurrent.TimeoutException("no body pull #" + n + " of invocation " + invocationId
                + "; events: " + events(invocationId));
    }

    /** Waits for the invocation's {@code n}-th (from 0) subrequest to reach the outbox. */
    Message.Subrequest awaitSubrequest(long invocationId, int n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            List<Message.Subrequest> sent = pending(invocationId).events.stream()
                    .filter(m -> m instanceof Message.Subrequest).map(m -> (Message.Subrequest) m).toList();
            if (sent.size() > n) return sent.get(n);
            Thread.sleep(5);
        }
        throw new java.util.concurrent.TimeoutException("no subrequest #" + n + " of invocation " + invocationId
                + "; events: " + events(invocationId));
    }

    @Override
    public void send(Message message) {
        long invocation = switch (message) {
            case Message.ResponseHead m -> m.invocationId();
            case Message.ResponseChunk m -> m.invocationId();
            case Message.ResponseEnd m -> m.invocationId();
            case Message.InvocationFailed m -> m.invocationId();
            case Message.InvocationDone m -> m.invocationId();
            case Message.LogLine m -> m.invocationId();
            case Message.Subrequest m -> m.invocationId();
            case Message.RequestBodyPull m -> m.invocationId();
            default -> 0;
        };
        if (invocation != 0) pending(invocation).events.add(message);
        switch (message) {
            case Message.WorkerLoaded m -> {
                loadReporters.put(m.correlationId(), Thread.currentThread().getName());
                load(m.correlationId()).complete(m);
            }
            case Message.WorkerLoadFailed m -> {
                loadReporters.put(m.correlationId(), Thread.currentThread().getName());
                load(m.correlationId()).complete(m);
            }
            case Message.ResponseHead m -> pending(m.invocationId()).head = m;
            case Message.ResponseChunk m -> {
                Pending p = pending(m.invocationId());
                synchronized (p.body) {
                    p.body.writeBytes(m.data());
                }
                // Like a node whose client reads at once: every chunk is acknowledged.
                java.util.function.Consumer<Message> n = node;
                if (n != null) n.accept(new Message.ResponseAck(m.invocationId(), m.data().length));
            }
            case Message.ResponseEnd m -> { }
            case Message.InvocationFailed m -> pending(m.invocationId()).failure = m;
            case Message.InvocationDone m -> {
                Pending p = pending(m.invocationId());
                Message.ResponseHead h = p.head;
                String body;
                synchronized (p.body) {
                    body = p.body.toString(java.nio.charset.StandardCharsets.UTF_8);
                }
                p.done.complete(new Outcome(h == null ? -1 : h.status(), h == null ? List.of() : h.headers(),
                        body, p.failure, m.cpuMicros()));
            }
            case Message.LogLine m -> logs.add(m);
            case Message.Subrequest m -> subrequests.add(m);
            case Message.RequestBodyPull m -> { }
            case Message.SubrequestAck m -> subrequestAcks.add(m);
            case Message.SubrequestCancel m -> subrequestCancels.add(m);
            case Message.StreamedSubrequest m -> { }
            case Message.SubrequestBodyChunk m -> { }
            case Message.SubrequestBodyEnd m -> { }
            case Message.SubrequestStartTls m -> { }
            case Message.SocketOpen m -> { }
            case Message.SocketClose m -> socketCloses.add(m);
            default -> throw new IllegalStateException("unexpected " + message);
        }
    }
}
