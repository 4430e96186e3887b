package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.WorkerBundle;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Loads and hello requests on in-process isolates for the harnesses that measure them
 * ({@link IdleIsolateRss}, {@link IsolateSetupCpu}): give {@link #onMessage} to {@link Bench.Services}.
 */
final class BenchCalls {
    private static final Map<Long, CompletableFuture<Message>> DONE = new ConcurrentHashMap<>();
    private static final AtomicLong IDS = new AtomicLong();

    private BenchCalls() {}

    /** What the isolates say: an invocation's end completes its {@link #fetch}. */
    static void onMessage(Message m) {
        switch (m) {
            case Message.InvocationFailed f -> future(f.invocationId()).complete(f);
            case Message.InvocationDone d -> future(d.invocationId()).complete(d);
            default -> { }
        }
    }

    private static CompletableFuture<Message> future(long id) {
        return DONE.computeIfAbsent(id, k -> new CompletableFuture<>());
    }

    /** Loads {@code bundle} into {@code isolate}: completes with WorkerLoaded or WorkerLoadFailed. */
    static CompletableFuture<Message> loadAsync(Isolate isolate, String workerId, WorkerBundle bundle) {
        CompletableFuture<Message> f = new CompletableFuture<>();
        isolate.load(workerId, bundle, "{}", List.of(), true, Limits.DEFAULTS, new Isolate.LoadCallback() {
            @Override
            public void loaded(Isolate i) {
                f.complete(new Message.WorkerLoaded(0, workerId));
            }

            @Override
            public void failed(Isolate i, WorkerLoadException e) {
                f.complete(new Message.WorkerLoadFailed(0, workerId, e.code().code(), e.getMessage()));
            }
        });
        return f;
    }

    static void load(Isolate isolate, String workerId, WorkerBundle bundle) throws Exception {
        Message m = loadAsync(isolate, workerId, bundle).get(60, TimeUnit.SECONDS);
        if (!(m instanceof Message.WorkerLoaded)) throw new IllegalStateException("load failed: " + m);
    }

    /** One GET to the worker "hello-" + {@code index} in {@code isolate}; fails on anything but a clean finish. */
    static void fetch(Isolate isolate, int index) throws Exception {
        long id = IDS.incrementAndGet();
        CompletableFuture<Message> done = future(id);
        isolate.events.dispatch(Bench.helloFetch(id, "hello-" + index), Limits.DEFAULTS);
        Message m = done.get(30, TimeUnit.SECONDS);
        DONE.remove(id);
        if (!(m instanceof Message.InvocationDone)) throw new IllegalStateException("fetch failed: " + m);
    }

    /** One GET to each isolate's worker ("hello-" + its index), one at a time; fails on anything but a clean finish. */
    static void fetch(List<Isolate> isolates) throws Exception {
        for (int k = 0; k < isolates.size(); k++) {
            long id = IDS.incrementAndGet();
            CompletableFuture<Message> done = future(id);
            isolates.get(k).events.dispatch(Bench.helloFetch(id, "hello-" + k), Limits.DEFAULTS);
            Message m = done.get(30, TimeUnit.SECONDS);
            DONE.remove(id);
            if (!(m instanceof Message.InvocationDone)) throw new IllegalStateException("fetch failed: " + m);
        }
    }
}
