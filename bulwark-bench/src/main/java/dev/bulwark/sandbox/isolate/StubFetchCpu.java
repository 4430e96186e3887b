package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Binding;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * CPU time of the isolate threads per request of the bench's front worker calling through a stub
 * ({@code /dyn}: {@code env.LOADER.get(id, cb).getEntrypoint().fetch(request)}; {@code /do}:
 * {@code env.COUNTER.get(idFromName(n)).fetch(request)}), in process: the parent's side alone. The
 * harness plays the node: it says the dynamic worker is loaded and answers each call at once with a
 * small whole response, so what is measured is the caller's JavaScript (and its host crossings)
 * from the request's start to the call leaving and from the call's result to its response.
 *
 * <pre>
 * $J $JOPTS -Xss8m -cp "$CP" dev.bulwark.sandbox.isolate.StubFetchCpu [rounds] [requests per round] [paths]
 * </pre>
 * {@code paths}: comma-separated, {@code /dyn?id=x,/do/get?name=x} by default.
 */
public final class StubFetchCpu {
    private StubFetchCpu() {}

    // What ../shared/bench/worker/front.js does on these two paths.
    static final String FRONT = """
            export default {
              async fetch(request, env) {
                const url = new URL(request.url);
                if (url.pathname.startsWith("/do/")) {
                  const name = url.searchParams.get("name") || "default";
                  const stub = env.COUNTER.get(env.COUNTER.idFromName(name));
                  return stub.fetch(request);
                }
                const id = url.searchParams.get("id") || "default";
                const worker = env.LOADER.get(id, () => ({
                  compatibilityDate: "2025-09-01", mainModule: "main.js",
                  modules: { "main.js": "export default { fetch() { return new Response('dyn'); } };" },
                  env: {}, globalOutbound: null,
                }));
                return worker.getEntrypoint().fetch(request);
              },
            };
            """;

    /** Plays the node: answers loads and calls (from another thread, as the socket reader would). */
    static final class Node implements Outbox {
        final ExecutorService answers = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "bench-node");
            t.setDaemon(true);
            return t;
        });
        final CompletableFuture<Message> loaded = new CompletableFuture<>();
        volatile SandboxRuntime runtime;
        volatile long currentId;
        volatile CompletableFuture<Void> current;
        volatile int status;

        @Override
        public void send(Message message) {
            switch (message) {
                case Message.WorkerLoaded m -> loaded.complete(m);
                case Message.WorkerLoadFailed m -> loaded.complete(m);
                case Message.LoadDynamic m -> answers.execute(() -> runtime.deliver(new Message.DynamicLoaded(m.callId(), "dyn-1")));
                case Message.CallStart m -> answers.execute(() -> runtime.deliver(new Message.CallResult(m.callId(), 200, "",
                        List.of(new Message.Header("content-type", "text/plain;charset=UTF-8")),
                        "dyn".getBytes(StandardCharsets.UTF_8))));
                case Message.ResponseHead m -> status = m.status();
                case Message.InvocationFailed m -> fail(m.code() + ": " + m.message());
                case Message.InvocationDone m -> {
                    if (m.invocationId() != currentId) fail("InvocationDone for " + m.invocationId());
                    else if (status != 200) fail("status " + status);
                    else current.complete(null);
                }
                default -> { }
            }
        }

        private void fail(String why) {
            CompletableFuture<Void> f = current;
            if (f != null) f.completeExceptionally(new IllegalStateException(why));
        }
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 5000;
        Bench.v8();
        Node node = new Node();
        SandboxRuntime runtime = new SandboxRuntime(Bench.SETTINGS, 2, 0, node);
        node.runtime = runtime;
        try {
            WorkerBundle bundle = WorkerBundle.of("index.js", List.of(WorkerModule.text("index.js", ModuleType.JS, FRONT)));
            List<Binding> bindings = List.of(new Binding.WorkerLoader("LOADER"),
                    new Binding.DurableObjectNamespace("COUNTER", "other", "Counter", new byte[32]));
            runtime.deliver(new Message.LoadWorker(1, "front", bundle, "{}", bindings, true, Limits.DEFAULTS));
            Message m = node.loaded.get(30, TimeUnit.SECONDS);
            if (!(m instanceof Message.WorkerLoaded)) throw new IllegalStateException("load failed: " + m);
            AtomicLong ids = new AtomicLong();
            for (String path : (args.length > 2 ? args[2] : "/dyn?id=x,/do/get?name=x").split(",")) {
                for (int i = 0; i < 3; i++) round(node, runtime, ids, path, n); // warm-up
                List<Double> v = new ArrayList<>();
                for (int r = 0; r < rounds; r++) v.add(round(node, runtime, ids, path, n));
                List<Double> sorted = new ArrayList<>(v);
                sorted.sort(null);
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT,
                        "%-16s median %8.2f  min %8.2f us CPU/request   rounds:", path, sorted.get(sorted.size() / 2),
                        sorted.getFirst()));
                for (double x : v) line.append(String.format(Locale.ROOT, " %.2f", x));
                System.out.println(line);
            }
        } finally {
            runtime.close();
            node.answers.shutdownNow();
        }
    }

    private static double round(Node node, SandboxRuntime runtime, AtomicLong ids, String path, int n) throws Exception {
        long cpu0 = HelloCpu.isolateCpu();
        for (int i = 0; i < n; i++) {
            long id = ids.incrementAndGet();
            CompletableFuture<Void> done = new CompletableFuture<>();
            node.status = 0;
            node.current = done;
            node.currentId = id;
            runtime.deliver(new Message.FetchStart(id, "front", "GET", "http://localhost:8080" + path, HelloCpu.HEADERS, null));
            done.get(10, TimeUnit.SECONDS);
        }
        return (HelloCpu.isolateCpu() - cpu0) / 1e3 / n;
    }
}
