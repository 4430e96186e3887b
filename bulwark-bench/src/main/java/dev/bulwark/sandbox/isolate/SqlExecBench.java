package dev.bulwark.sandbox.isolate;

import dev.bulwark.objects.runtime.SqliteObjectStore;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code ctx.storage.sql.exec} through the isolate boundary: a durable object in a
 * {@link SandboxRuntime} over real SQLite files (no node, no socket) runs {@value #N} calls in one
 * fetch event, and the time of the whole event is divided by {@value #N}. {@code loop} is the
 * control: the same event and loop with no {@code sql.exec}, so {@code insert - loop} and
 * {@code select - loop} are the cost of one call from JS. The engine alone is
 * {@code dev.bulwark.bench.SqlStorageBench}.
 *
 * <pre>
 * $J $JOPTS -cp "$CP" org.openjdk.jmh.Main SqlExecBench -f 1 -wi 3 -i 5
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xss8m"})
public class SqlExecBench {
    static final int N = 1000;

    static final String SOURCE = """
            import { DurableObject } from "cloudflare:workers";
            export class Db extends DurableObject {
              constructor(ctx, env) {
                super(ctx, env);
                ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT NOT NULL)");
              }
              fetch(request) {
                const u = new URL(request.url);
                const n = Number(u.searchParams.get("n"));
                const sql = this.ctx.storage.sql;
                let t = 0;
                switch (u.pathname) {
                  case "/insert":
                    for (let i = 0; i < n; i++) sql.exec("INSERT INTO rows (v) VALUES (?)", "r" + i);
                    break;
                  case "/select":
                    for (let i = 0; i < n; i++) t += sql.exec("SELECT ? AS v", i).one().v;
                    break;
                  case "/rows":
                    // one call that returns 100 rows of two columns, read as objects
                    for (let i = 0; i < n / 100; i++) t += sql.exec("SELECT id, v FROM rows LIMIT 100").toArray().length;
                    break;
                  default:
                    for (let i = 0; i < n; i++) t += ("r" + i).length;
                }
                return new Response(String(t));
              }
            }
            export default { fetch() { return new Response("no"); } };
            """;

    /** Completes the current event's future at InvocationDone; fails it on InvocationFailed. */
    static final class DoneOutbox implements Outbox {
        volatile CompletableFuture<Void> current;
        final CompletableFuture<Message> loaded = new CompletableFuture<>();

        @Override
        public void send(Message message) {
            switch (message) {
                case Message.WorkerLoaded m -> loaded.complete(m);
                case Message.WorkerLoadFailed m -> loaded.complete(m);
                case Message.InvocationFailed m -> current.completeExceptionally(new IllegalStateException(m.message()));
                case Message.InvocationDone m -> current.complete(null);
                default -> { }
            }
        }
    }

    @State(Scope.Benchmark)
    public static class Db {
        final DoneOutbox outbox = new DoneOutbox();
        final AtomicLong ids = new AtomicLong();
        final Address.DurableObject target = new Address.DurableObject("db", "Db", "a".repeat(64), null);
        SandboxRuntime runtime;
        Path dir;

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            Bench.v8();
            dir = Files.createTempDirectory("sqlexecbench");
            runtime = new SandboxRuntime(Bench.SETTINGS, 2, 1, 0, new SqliteObjectStore(dir), 60_000, outbox);
            runtime.deliver(new Message.LoadWorker(1, "db", WorkerBundle.of("index.js",
                    List.of(WorkerModule.text("index.js", ModuleType.JS, SOURCE))), "{}", Limits.DEFAULTS));
            Message m = outbox.loaded.get(30, TimeUnit.SECONDS);
            if (!(m instanceof Message.WorkerLoaded)) throw new IllegalStateException("load failed: " + m);
            run("/insert?n=100"); // creates the object and the rows /rows reads
        }

        void run(String path) throws Exception {
            CompletableFuture<Void> done = new CompletableFuture<>();
            outbox.current = done;
            runtime.deliver(new Message.FetchStart(ids.incrementAndGet(), target, "GET", "http://do" + path, List.of(),
                    null, false));
            done.get(60, TimeUnit.SECONDS);
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            runtime.close();
            try (var paths = Files.walk(dir)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public void insert(Db db) throws Exception {
        db.run("/insert?n=" + N);
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public void select(Db db) throws Exception {
        db.run("/select?n=" + N);
    }

    /** Per row: {@value #N} / 100 calls of 100 rows each. */
    @Benchmark
    @OperationsPerInvocation(N)
    public void rows(Db db) throws Exception {
        db.run("/rows?n=" + N);
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public void loop(Db db) throws Exception {
        db.run("/loop?n=" + N);
    }
}
