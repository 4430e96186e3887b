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
    }

    private final Map<Long, Pending> invocations = new ConcurrentHashMap<>();
    private final Map<Long, CompletableFuture<Message>> loads = new ConcurrentHashMap<>();
    final List<Message.LogLine> logs = new CopyOnWriteArrayList<>();
    final List<Message.Subrequest> subrequests = new CopyOnWriteArrayList<>();

    private Pending pending(long id) {
        return invocations.computeIfAbsent(id, k -> new Pending());
    }

    CompletableFuture<Message> load(long correlationId) {
        return loads.computeIfAbsent(correlationId, k -> new CompletableFuture<>());
    }

    Outcome await(long invocationId) throws Exception {
        return pending(invocationId).done.get(30, TimeUnit.SECONDS);
    }

    @Override
    public void send(Message message) {
        switch (message) {
            case Message.WorkerLoaded m -> load(m.correlationId()).complete(m);
            case Message.WorkerLoadFailed m -> load(m.correlationId()).complete(m);
            case Message.ResponseHead m -> pending(m.invocationId()).head = m;
            case Message.ResponseChunk m -> {
                Pending p = pending(m.invocationId());
                synchronized (p.body) {
                    p.body.writeBytes(m.data());
                }
            }
            case Message.ResponseEnd m -> { }
            case Message.InvocationFailed m -> pending(m.invocationId()).failure = m;
            case Message.InvocationDone m -> {
                Pending p = pending(m.invocationId());
                Message.ResponseHead h = p.head;
                p.done.complete(new Outcome(h == null ? -1 : h.status(), h == null ? List.of() : h.headers(),
                        p.body.toString(java.nio.charset.StandardCharsets.UTF_8), p.failure, m.cpuMicros()));
            }
            case Message.LogLine m -> logs.add(m);
            case Message.Subrequest m -> subrequests.add(m);
            default -> throw new IllegalStateException("unexpected " + message);
        }
    }
}
