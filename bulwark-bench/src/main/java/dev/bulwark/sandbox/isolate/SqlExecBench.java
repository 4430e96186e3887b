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
                ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
              }
              async fetch(request) {
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
                  case "/counter":
                    // the bench front's /do/counter: an upsert with RETURNING, read with one()
                    for (let i = 0; i < n; i++) t += sql.exec("INSERT INTO counter (id, n) VALUES (1, 1) ON CONFLICT(id) DO UPDATE SET n = n + 1 RETURNING n").one().n;
                    break;
                  case "/txn":
                    this.ctx.storage.transactionSync(() => {
                      for (let i = 0; i < n; i++) sql.exec("INSERT INTO rows (v) VALUES (?)", "r" + i);
                    });
                    break;
                  case "/put":
                    for (let i = 0; i < n; i++) await this.ctx.storage.put("k" + (i % 100), i);
                    break;
                  case "/get":
                    for (let i = 0; i < n; i++) t += (await this.ctx.storage.get("k" + (i % 100))) ?? 0;
                    break;
                  case "/new":
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
            run("/put?n=100"); // the keys /get reads
        }

        void run(String path) throws Exception {
            run(target, path);
        }

        void run(Address.DurableObject to, String path) throws Exception {
            CompletableFuture<Void> done = new CompletableFuture<>();
            outbox.current = done;
            runtime.deliver(new Message.FetchStart(ids.incrementAndGet(), to, "GET", "http://do" + path, List.of(),
                    null, false));
            done.get(60, TimeUnit.SECONDS);
        }

        /** A durable object this runtime never saw: its first event creates its SQLite file. */
        Address.DurableObject fresh() {
            return new Address.DurableObject("db", "Db", String.format("%064x", ids.incrementAndGet()), null);
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

    /** {@value #N} INSERTs inside one {@code transactionSync}. */
    @Benchmark
    @OperationsPerInvocation(N)
    public void txn(Db db) throws Exception {
        db.run("/txn?n=" + N);
    }

    /** {@code await ctx.storage.put(key, number)} over 100 keys. */
    @Benchmark
    @OperationsPerInvocation(N)
    public void put(Db db) throws Exception {
        db.run("/put?n=" + N);
    }

    /** {@code await ctx.storage.get(key)} over 100 keys. */
    @Benchmark
    @OperationsPerInvocation(N)
    public void get(Db db) throws Exception {
        db.run("/get?n=" + N);
    }

    /**
     * One event to an object never seen before (per event, not per call): opening its new
     * SQLite file, its constructor (a CREATE TABLE) and the commit. New objects stay open (the
     * idle timeout is a minute), as a burst of new objects would in a sandbox.
     */
    @Benchmark
    public void newObject(Db db) throws Exception {
        db.run(db.fresh(), "/new?n=0");
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public void loop(Db db) throws Exception {
        db.run("/loop?n=" + N);
    }
}
