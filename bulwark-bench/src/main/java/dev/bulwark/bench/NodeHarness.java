package dev.bulwark.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Measurements through a real node that compare.sh does not make: RPC round trips to a durable
 * object, {@code sql.exec} through the isolate boundary, resident memory per idle durable object,
 * and 10,000 dynamic worker ids loaded in turn. A plain {@code main}, not JMH: it starts
 * {@code ./bulwark serve} on a project it writes, talks HTTP to it, reads {@code /proc} of the
 * node's process tree, and stops the node by its pid.
 *
 * <pre>
 *   java -cp bulwark-bench/target/classes dev.bulwark.bench.NodeHarness MODE [options]
 *   MODE: rpc | sql | dorss | dynrss | dyn10k | do100k | wsrss
 *   --bulwark PATH (./bulwark)  --n N  --max M (sandboxes.dynamic_workers_max)  --dir DIR
 *   --idle-isolate-ms MS (sandboxes.dynamic_workers_idle_isolate_ms; dynrss: 0, its workers stay live)
 *   --object-idle-ms N (sandboxes.object_idle_ms)  --storage-idle-ms N (sandboxes.object_storage_idle_ms)
 * </pre>
 *
 * Latencies are client-side (java.net.http over keep-alive HTTP/1.1), so each includes the
 * front door; per-call costs are taken as differences between requests that differ only in the
 * number of calls, which cancels the HTTP part.
 */
public final class NodeHarness {

    private static final String FRONT = """
            import { DurableObject } from "cloudflare:workers";

            export class Obj extends DurableObject {
              constructor(ctx, env) {
                super(ctx, env);
                this.sql = ctx.storage.sql;
                this.sql.exec("CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
                this.sql.exec("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT NOT NULL)");
              }
              ping(x) { return x + 1; }
              bump() {
                return this.sql.exec("INSERT INTO counter (id, n) VALUES (1, 1) ON CONFLICT(id) DO UPDATE SET n = n + 1 RETURNING n").one().n;
              }
              sqlLoop(n, kind) {
                let s = 0;
                if (kind === "select") {
                  for (let i = 0; i < n; i++) s += this.sql.exec("SELECT ? AS v", i).one().v;
                } else if (kind === "insert") {
                  for (let i = 0; i < n; i++) this.sql.exec("INSERT INTO rows (v) VALUES (?)", "r" + i);
                } else {
                  for (let i = 0; i < n; i++) s += i;  // the loop alone
                }
                return s;
              }
            }

            // A chat room that keeps its sockets through hibernation (the object may be evicted).
            export class Room extends DurableObject {
              fetch(request) {
                const pair = new WebSocketPair();
                this.ctx.acceptWebSocket(pair[1]);
                return new Response(null, { status: 101, webSocket: pair[0] });
              }
              webSocketMessage(ws, message) { ws.send(message); }
            }

            const code = (id) => `export default { fetch() { return new Response("dyn:" + ${JSON.stringify(id)}); } };`;

            export default {
              async fetch(request, env) {
                const url = new URL(request.url);
                const q = url.searchParams;
                const stub = () => env.OBJ.get(env.OBJ.idFromName(q.get("name") || "a"));
                switch (url.pathname) {
                  case "/hello": return new Response("hello");
                  case "/rpc": return new Response(String(await stub().ping(1)));
                  case "/rpcn": {
                    const s = stub(); const n = Number(q.get("n")); let x = 0;
                    for (let i = 0; i < n; i++) x = await s.ping(x);
                    return new Response(String(x));
                  }
                  case "/sql": return new Response(String(await stub().sqlLoop(Number(q.get("n")), q.get("kind"))));
                  case "/touch": return new Response(String(await stub().bump()));
                  case "/ws": return env.ROOM.get(env.ROOM.idFromName(q.get("name") || "a")).fetch(request);
                  case "/dyn": {
                    const id = q.get("id");
                    const w = env.LOADER.get(id, () => ({ compatibilityDate: "2025-09-01", mainModule: "main.js",
                        modules: { "main.js": code(id) }, env: {}, globalOutbound: null }));
                    return w.getEntrypoint().fetch(request);
                  }
                  default: return new Response("not found", { status: 404 });
                }
              },
            };
            """;

    private static final String WRANGLER = """
            {
              "name": "harness",
              "main": "front.js",
              "compatibility_date": "2025-09-01",
              "durable_objects": { "bindings": [ { "name": "OBJ", "class_name": "Obj" }, { "name": "ROOM", "class_name": "Room" } ] },
              "migrations": [ { "tag": "v1", "new_sqlite_classes": [ "Obj", "Room" ] } ],
              "worker_loaders": [ { "binding": "LOADER" } ]
            }
            """;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final String base;
    private final long nodePid;

    private NodeHarness(String base, long nodePid) {
        this.base = base;
        this.nodePid = nodePid;
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: NodeHarness rpc|sql|dorss|dynrss|dyn10k|do100k|wsrss [--bulwark ./bulwark] [--n N] [--max M] [--dir DIR]");
            System.exit(2);
        }
        String mode = args[0];
        String bulwark = opt(args, "--bulwark", "./bulwark");
        int n = Integer.parseInt(opt(args, "--n", "0"));
        int max = Integer.parseInt(opt(args, "--max", "1000"));
        Path dir = Path.of(opt(args, "--dir", "bulwark-bench/target/harness")).toAbsolutePath();
        deleteTree(dir);
        Path project = dir.resolve("project");
        Files.createDirectories(project);
        Files.writeString(project.resolve("front.js"), FRONT);
        Files.writeString(project.resolve("wrangler.jsonc"), WRANGLER);
        StringBuilder toml = new StringBuilder("[sandboxes]\ndynamic_workers_max = " + max + "\n");
        String objectIdle = opt(args, "--object-idle-ms", null);
        String storageIdle = opt(args, "--storage-idle-ms", null);
        if (objectIdle != null) toml.append("object_idle_ms = ").append(Long.parseLong(objectIdle)).append('\n');
        if (storageIdle != null) toml.append("object_storage_idle_ms = ").append(Long.parseLong(storageIdle)).append('\n');
        // dynrss measures live isolates: its workers must not go dormant (give their isolates back)
        // while it waits; other modes keep the node's default unless told.
        String idleIsolate = opt(args, "--idle-isolate-ms", mode.equals("dynrss") ? "0" : null);
        if (idleIsolate != null) toml.append("dynamic_workers_idle_isolate_ms = ").append(Long.parseLong(idleIsolate)).append('\n');
        Files.writeString(project.resolve("bulwark.toml"), toml);
        System.out.println("bulwark.toml: " + toml.toString().replace('\n', ' '));
        int port = freePort();
        Process node = new ProcessBuilder(bulwark, "serve", project.toString(), "--port", Integer.toString(port),
                "--data", dir.resolve("data").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("node.log").toFile()).start();
        try {
            NodeHarness h = new NodeHarness("http://127.0.0.1:" + port, node.pid());
            h.awaitReady(node);
            System.out.println("load before: " + loadavg());
            switch (mode) {
                case "rpc" -> h.rpc(n == 0 ? 2000 : n);
                case "sql" -> h.sql(n == 0 ? 10000 : n);
                case "dorss" -> h.doRss(n == 0 ? 1000 : n);
                case "dynrss" -> h.dynRss(n == 0 ? 200 : n);
                case "dyn10k" -> h.dyn10k(n == 0 ? 10000 : n, max);
                case "do100k" -> h.do100k(n == 0 ? 100_000 : n);
                case "wsrss" -> h.wsRss(n == 0 ? 2000 : n);
                default -> throw new IllegalArgumentException("unknown mode " + mode);
            }
            System.out.println("load after: " + loadavg());
        } finally {
            node.destroy();
            if (!node.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) node.destroyForcibly();
        }
    }

    // --- modes --------------------------------------------------------------------------------

    /** Parent → durable object → parent: one RPC per request vs none, and 200 in one request. */
    private void rpc(int n) throws Exception {
        warm("/hello", 500);
        warm("/rpc?name=a", 500);
        double[] hello = times("/hello", n);
        double[] rpc = times("/rpc?name=a", n);
        System.out.printf(Locale.ROOT, "hello        p50 %.0f µs  p90 %.0f  p99 %.0f  (%d requests)%n",
                pct(hello, 50), pct(hello, 90), pct(hello, 99), n);
        System.out.printf(Locale.ROOT, "hello + 1 rpc p50 %.0f µs  p90 %.0f  p99 %.0f%n", pct(rpc, 50), pct(rpc, 90), pct(rpc, 99));
        System.out.printf(Locale.ROOT, "RESULT rpc_p50_added_us %.0f%n", pct(rpc, 50) - pct(hello, 50));
        int k = 40;  // an RPC is a subrequest of the caller: limits.subrequests (50) bounds k
        warm("/rpcn?name=a&n=" + k, 5);
        double[] zero = times("/rpcn?name=a&n=0", 100);
        double[] many = times("/rpcn?name=a&n=" + k, 100);
        System.out.printf(Locale.ROOT, "RESULT rpc_sequential_in_one_request_us %.0f  (median of 100: (T(%d rpcs) - T(0)) / %d)%n",
                (pct(many, 50) - pct(zero, 50)) / k, k, k);
    }

    /** sql.exec from JS through the isolate boundary into SQLite, per call. */
    private void sql(int n) throws Exception {
        warm("/sql?name=s&kind=select&n=1000", 10);
        warm("/sql?name=s&kind=insert&n=1000", 5);
        warm("/sql?name=s&kind=loop&n=" + n, 5);
        int reps = 15;
        double loop = pct(times("/sql?name=s&kind=loop&n=" + n, reps), 50);
        double select = pct(times("/sql?name=s&kind=select&n=" + n, reps), 50);
        double insert = pct(times("/sql?name=s&kind=insert&n=" + n, reps), 50);
        System.out.printf(Locale.ROOT, "request with an empty loop of %d: %.0f µs (median of %d)%n", n, loop, reps);
        System.out.printf(Locale.ROOT, "RESULT sql_exec_select_us %.2f  (exec(\"SELECT ? AS v\", i).one(), %d per request)%n", (select - loop) / n, n);
        System.out.printf(Locale.ROOT, "RESULT sql_exec_insert_us %.2f  (exec(\"INSERT ...\", v), %d per request, one commit)%n", (insert - loop) / n, n);
    }

    /** Resident memory per idle durable object: touch N new objects, compare the sandbox's RSS. */
    private void doRss(int n) throws Exception {
        for (int i = 0; i < 50; i++) get("/touch?name=warm-" + i);
        warm("/hello", 200);
        Thread.sleep(3000);
        Proc before = sandbox(false);
        System.out.println("before: " + before);
        double[] t = new double[n];
        for (int i = 0; i < n; i++) t[i] = time("/touch?name=obj-" + i);
        Thread.sleep(3000);
        Proc after = sandbox(false);
        System.out.println("after " + n + " objects: " + after);
        Arrays.sort(t);
        System.out.printf(Locale.ROOT, "new object (first event, constructor creates two tables) p50 %.0f µs p90 %.0f%n", pct(t, 50), pct(t, 90));
        System.out.printf(Locale.ROOT, "RESULT do_rss_kib_per_object %.1f  threads %d -> %d  fds %d -> %d%n",
                (after.rssKib - before.rssKib) / (double) n, before.threads, after.threads, before.fds, after.fds);
    }

    /** Resident memory per loaded idle dynamic worker (N below dynamic_workers_max). */
    private void dynRss(int n) throws Exception {
        for (int i = 0; i < 20; i++) get("/dyn?id=warm-" + i);
        Thread.sleep(3000);
        Proc before = sandbox(true);
        System.out.println("before: " + before);
        double[] t = new double[n];
        for (int i = 0; i < n; i++) t[i] = time("/dyn?id=d-" + i);
        Thread.sleep(3000);
        Proc after = sandbox(true);
        System.out.println("after " + n + " dynamic workers: " + after);
        double[] cached = times("/dyn?id=d-" + (n - 1), 500);
        Arrays.sort(t);
        System.out.printf(Locale.ROOT, "new id (cold) p50 %.0f µs p90 %.0f; cached id p50 %.0f µs%n", pct(t, 50), pct(t, 90), pct(cached, 50));
        System.out.printf(Locale.ROOT, "RESULT dyn_rss_kib_per_worker %.1f  threads %d -> %d (%.2f per worker)%n",
                (after.rssKib - before.rssKib) / (double) n, before.threads, after.threads,
                (after.threads - before.threads) / (double) n);
    }

    /** N distinct ids in turn with dynamic_workers_max small: RSS and threads must level off. */
    private void dyn10k(int n, int max) throws Exception {
        System.out.println("dynamic_workers_max = " + max);
        get("/dyn?id=warm");
        int step = Math.max(1, n / 20);
        double[] t = new double[n];
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            t[i] = time("/dyn?id=id-" + i);
            if ((i + 1) % step == 0) {
                Proc g = sandbox(true);
                Proc nd = proc(nodePid);
                double[] window = Arrays.copyOfRange(t, i + 1 - step, i + 1);
                Arrays.sort(window);
                System.out.printf(Locale.ROOT, "%6d ids  generated sandbox: RSS %7d KiB threads %4d fds %4d | node: RSS %7d KiB threads %4d | load p50 %.0f µs (last %d) | %s%n",
                        i + 1, g.rssKib, g.threads, g.fds, nd.rssKib, nd.threads, pct(window, 50), step, loadavg());
            }
        }
        double secs = (System.nanoTime() - start) / 1e9;
        Arrays.sort(t);
        System.out.printf(Locale.ROOT, "RESULT dyn10k %d ids in %.1f s, per load p50 %.0f µs p99 %.0f µs%n", n, secs, pct(t, 50), pct(t, 99));
    }

    /**
     * N distinct objects touched in turn, each once: idle eviction ({@code sandboxes.object_idle_ms},
     * 10 s) must keep the sandbox's RSS, threads and file descriptors level.
     */
    private void do100k(int n) throws Exception {
        get("/touch?name=warm");
        int step = Math.max(1, n / 20);
        double[] t = new double[n];
        int failed = 0;
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            HttpResponse<String> r = send("/touch?name=o-" + i);
            t[i] = (System.nanoTime() - t0) / 1e3;
            if (r.statusCode() != 200) {
                // Counted, not fatal: the run goes on to show whether memory stays bounded after it.
                if (failed++ < 5) System.out.println("object " + i + " failed: " + r.statusCode() + " " + r.body());
            }
            if ((i + 1) % step == 0) {
                Proc sb = sandbox(false);
                Proc nd = proc(nodePid);
                double[] window = Arrays.copyOfRange(t, i + 1 - step, i + 1);
                Arrays.sort(window);
                System.out.printf(Locale.ROOT, "%7d objects  sandbox (pid %d): RSS %7d KiB threads %4d fds %5d | node: RSS %7d KiB threads %4d | new object p50 %.0f µs | failed %d | %s%n",
                        i + 1, sb.pid, sb.rssKib, sb.threads, sb.fds, nd.rssKib, nd.threads, pct(window, 50), failed, loadavg());
            }
        }
        double secs = (System.nanoTime() - start) / 1e9;
        Arrays.sort(t);
        System.out.printf(Locale.ROOT, "RESULT do100k %d objects in %.1f s, per new object p50 %.0f µs p99 %.0f µs, failed %d%n",
                n, secs, pct(t, 50), pct(t, 99), failed);
    }

    /**
     * Resident memory per hibernated WebSocket: N sockets accepted with the Hibernation API by N/100
     * rooms, then the rooms are left idle until they are evicted (the sockets stay open in the
     * node); node + sandbox RSS before and after, per socket. One echo per room checks a socket
     * still wakes its room.
     */
    private void wsRss(int n) throws Exception {
        int perRoom = 100;
        get("/touch?name=warm");
        for (int r = 0; r < 3; r++) openSocket("/ws?name=warm-" + r).sendClose(1000, "").join();
        Thread.sleep(12_000); // the warm rooms are evicted too
        Proc nodeBefore = proc(nodePid);
        Proc sbBefore = sandbox(false);
        System.out.println("before: node " + nodeBefore + " | sandbox " + sbBefore);
        List<java.net.http.WebSocket> sockets = new ArrayList<>();
        for (int i = 0; i < n; i++) sockets.add(openSocket("/ws?name=room-" + i / perRoom));
        Thread.sleep(15_000); // object_idle_ms (10 s) and a watchdog period: every room hibernates
        Proc nodeAfter = proc(nodePid);
        Proc sbAfter = sandbox(false);
        System.out.println("after " + n + " hibernated sockets: node " + nodeAfter + " | sandbox " + sbAfter);
        long total = (nodeAfter.rssKib - nodeBefore.rssKib) + (sbAfter.rssKib - sbBefore.rssKib);
        System.out.printf(Locale.ROOT, "RESULT ws_rss_bytes_per_hibernated_socket %.0f  (node %+d KiB, sandbox %+d KiB for %d sockets)%n",
                total * 1024.0 / n, nodeAfter.rssKib - nodeBefore.rssKib, sbAfter.rssKib - sbBefore.rssKib, n);
        // A message wakes its room, which answers.
        java.util.concurrent.CompletableFuture<String> echo = new java.util.concurrent.CompletableFuture<>();
        java.net.http.WebSocket probe = http.newWebSocketBuilder().buildAsync(URI.create(base.replace("http", "ws") + "/ws?name=room-0"),
                new java.net.http.WebSocket.Listener() {
                    @Override
                    public java.util.concurrent.CompletionStage<?> onText(java.net.http.WebSocket ws, CharSequence data, boolean last) {
                        echo.complete(data.toString());
                        return null;
                    }
                }).join();
        Thread.sleep(12_000);
        probe.sendText("wake", true).join();
        System.out.println("echo after hibernation: " + echo.get(30, java.util.concurrent.TimeUnit.SECONDS));
        for (java.net.http.WebSocket ws : sockets) ws.abort();
        probe.abort();
    }

    private java.net.http.WebSocket openSocket(String path) {
        return http.newWebSocketBuilder().buildAsync(URI.create(base.replace("http", "ws") + path),
                new java.net.http.WebSocket.Listener() {}).join();
    }

    // --- HTTP ---------------------------------------------------------------------------------

    private void awaitReady(Process node) throws Exception {
        for (int i = 0; i < 600; i++) {
            if (!node.isAlive()) throw new IllegalStateException("the node exited; see node.log");
            try {
                HttpResponse<String> r = send("/hello");
                if (r.statusCode() == 200) return;
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the node did not answer /hello in 120 s");
    }

    private HttpResponse<String> send(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private String get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = send(path);
        if (r.statusCode() != 200) throw new IllegalStateException(path + " -> " + r.statusCode() + " " + r.body());
        return r.body();
    }

    private void warm(String path, int n) throws Exception {
        for (int i = 0; i < n; i++) get(path);
    }

    /** Microseconds of one request. */
    private double time(String path) throws Exception {
        long t0 = System.nanoTime();
        get(path);
        return (System.nanoTime() - t0) / 1e3;
    }

    private double[] times(String path, int n) throws Exception {
        double[] t = new double[n];
        for (int i = 0; i < n; i++) t[i] = time(path);
        Arrays.sort(t);
        return t;
    }

    private static double pct(double[] sorted, double p) {
        double[] s = sorted.clone();
        Arrays.sort(s);
        int i = (int) Math.min(s.length - 1, Math.max(0, Math.ceil(p / 100 * s.length) - 1));
        return s[i];
    }

    // --- /proc ----------------------------------------------------------------------------------

    record Proc(long pid, long rssKib, int threads, int fds) {
        @Override
        public String toString() {
            return "pid " + pid + " RSS " + rssKib + " KiB, threads " + threads + ", fds " + fds;
        }
    }

    /** The sandbox of the tenant (generated = its sandbox for generated code). */
    private Proc sandbox(boolean generated) throws IOException {
        List<Proc> found = new ArrayList<>();
        // A confined sandbox's JVM sits below unshare and sh: look at every descendant's argv[0].
        for (ProcessHandle c : ProcessHandle.of(nodePid).orElseThrow().descendants().toList()) {
            String cmd;
            try {
                cmd = Files.readString(Path.of("/proc/" + c.pid() + "/cmdline")).replace('\0', ' ');
            } catch (IOException gone) {
                continue;
            }
            if (!cmd.split(" ")[0].endsWith("/java") || !cmd.contains("SandboxMain")) continue;
            // The tenant's own sandbox is told tenants/harness; its sandbox for generated code
            // (tenant key "generated:harness") gets a hashed directory name.
            if (cmd.contains("tenants/harness ") != generated) found.add(proc(c.pid()));
        }
        if (found.size() != 1) throw new IllegalStateException("expected one sandbox (generated=" + generated + "), found " + found);
        return found.getFirst();
    }

    private static Proc proc(long pid) throws IOException {
        long rss = 0;
        int threads = 0;
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) rss = Long.parseLong(line.replaceAll("\\D", ""));
            if (line.startsWith("Threads:")) threads = Integer.parseInt(line.replaceAll("\\D", ""));
        }
        int fds;
        try (var s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            fds = (int) s.count();
        }
        return new Proc(pid, rss, threads, fds);
    }

    // --- misc -----------------------------------------------------------------------------------

    private static String loadavg() throws IOException {
        return Files.readString(Path.of("/proc/loadavg")).trim();
    }

    private static String opt(String[] args, String name, String dflt) {
        for (int i = 1; i + 1 < args.length; i++) if (args[i].equals(name)) return args[i + 1];
        return dflt;
    }

    private static int freePort() throws IOException {
        try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
