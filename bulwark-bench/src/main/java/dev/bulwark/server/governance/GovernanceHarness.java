package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerCode;
import dev.bulwark.sandbox.worker.WorkerModule;
import dev.bulwark.server.config.ApiSettings;
import dev.bulwark.server.config.LaneSettings;
import dev.bulwark.server.config.LaneSettings.WhenFull;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import dev.bulwark.server.node.Node;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Governance measurements that need a whole node (in this JVM; nothing is installed or served from
 * ~/.m2). A plain {@code main}, not JMH:
 * <pre>
 *   $J $JOPTS -cp "$CP" dev.bulwark.server.governance.GovernanceHarness calls [--runs 40] [--warmup 5] [--sessions one|per-run]
 *   $J $JOPTS -cp "$CP" dev.bulwark.server.governance.GovernanceHarness steps [--n 3000]
 *   $J $JOPTS -cp "$CP" dev.bulwark.server.governance.GovernanceHarness cpu [--n 3000]
 *   $J $JOPTS -cp "$CP" dev.bulwark.server.governance.GovernanceHarness flood [--n 200] [--clients 16] [--per-tenant 2]
 * </pre>
 * {@code calls}: tool-call mediation end to end, as generated code sees it: runs of 45 calls in a
 * tight JS loop ({@code await env.TOOLS.call(...)}); the tool notes {@code System.nanoTime()} at
 * each invocation and the gaps between consecutive invocations are the cost of one whole call (JS →
 * node → decide → tool → record → answer to JS → the next call), the tool itself excepted.
 * {@code --sessions one} (the default) runs every run in one session (its sandbox process started
 * once: the steady state of a session's calls); {@code per-run} admits a new session for each run,
 * so each run also pays for a session process of its own (a warm spare is taken and another started
 * behind it, concurrently with the run's calls).
 * <p>
 * {@code flood}: tenant {@code quiet} runs interactive runs one after the other over HTTP (one tool
 * call each) and the client times each; first alone, then while tenant {@code flood} has
 * {@code clients} clients running the same runs plus ~20 ms of JS work in a loop, with the
 * interactive lane's per-tenant budget at {@code per-tenant} (queue, 60 s), then again with no
 * lane budget (1,000 per tenant). Prints p50/p99 of each phase.
 */
public final class GovernanceHarness {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String QUIET_KEY = "tk_quiet_0123456789abcdef0123456789ab";
    static final String FLOOD_KEY = "tk_flood_0123456789abcdef0123456789ab";

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "calls";
        Map<String, String> opt = new java.util.HashMap<>();
        for (int i = 1; i + 1 < args.length; i += 2) opt.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        System.out.println("load average at start: " + loadAverage());
        switch (mode) {
            case "calls" -> calls(Integer.parseInt(opt.getOrDefault("runs", "40")), Integer.parseInt(opt.getOrDefault("warmup", "5")),
                    switch (opt.getOrDefault("sessions", "one")) {
                        case "one" -> false;
                        case "per-run" -> true;
                        default -> throw new IllegalArgumentException("--sessions is one or per-run");
                    });
            case "cpu" -> cpu(Integer.parseInt(opt.getOrDefault("n", "3000")));
            case "steps" -> steps(Integer.parseInt(opt.getOrDefault("n", "3000")));
            case "flood" -> flood(Integer.parseInt(opt.getOrDefault("n", "200")), Integer.parseInt(opt.getOrDefault("clients", "16")),
                    Integer.parseInt(opt.getOrDefault("per-tenant", "2")));
            default -> throw new IllegalArgumentException("mode is calls, cpu, steps or flood");
        }
        System.out.println("load average at end: " + loadAverage());
        System.exit(0);
    }

    /** Extra JVM options of the sandboxes ({@code -Dbulwark.bench.sandboxJvm="-XX:... -XX:..."}), e.g. a flight recording. */
    static final String sandboxJvm = System.getProperty("bulwark.bench.sandboxJvm");

    static Node node(ApiSettings keys) throws Exception {
        SandboxSettings sandboxes = sandboxJvm == null
                ? SandboxSettings.DEFAULTS.withIsolatesPerWorker(4).withPoolSize(0)
                // Unconfined, so that a profiler of the sandbox (jcmd, a recording file) can reach it.
                : SandboxSettings.DEFAULTS.withIsolatesPerWorker(4).withPoolSize(0).withJvmOptions(List.of(sandboxJvm.split(" ")))
                        .withConfine(SandboxSettings.Confine.OFF);
        return Node.start(Settings.of(Files.createTempDirectory("govharness"), "quiet").withPort(0)
                .withSandboxes(sandboxes).withApi(keys));
    }

    static void calls(int runs, int warmup, boolean sessionPerRun) throws Exception {
        Node node = node(new ApiSettings(List.of()));
        try {
            Governance gov = node.governance();
            List<Long> stamps = Collections.synchronizedList(new ArrayList<>());
            gov.registerTool(new Tool("tickets.open", JSON.readTree("{\"type\": \"object\"}"), Contract.CONTROLLED_MUTATION, 0, call -> {
                stamps.add(System.nanoTime());
                return "T-1";
            }));
            List<Long> gaps = new ArrayList<>();
            // CPU per call: runs of 45 calls and runs of 5 alternate; the difference of their CPU (node JVM,
            // sandbox processes) over the 40 extra calls is what a call costs, the run's own costs excepted.
            long[] cpu45 = new long[2];
            long[] cpu5 = new long[2];
            int measured = 0;
            Map<String, Long> threads0 = null;
            String id = null;
            // -Dbulwark.bench.gaps=<file>: every gap as "run call nanoseconds", to see where the tail falls.
            String gapFile = System.getProperty("bulwark.bench.gaps");
            java.io.PrintWriter gapLog = gapFile == null ? null : new java.io.PrintWriter(Files.newBufferedWriter(java.nio.file.Path.of(gapFile)), true);
            System.out.println(sessionPerRun ? "a new session per run" : "one session for every run");
            for (int r = 0; r < runs; r++) {
                if (r == warmup) threads0 = threadTicks();
                for (int calls : new int[] {45, 5}) {
                    String main = "export default async (input, env) => { for (let i = 0; i < " + calls
                            + "; i++) await env.TOOLS.call(\"tickets.open\", { i }); return 1; };";
                    if (sessionPerRun || id == null) {
                        id = (String) gov.admit("quiet", new Admission("alice", "low", List.of("tickets.open"),
                                new Budgets(1_000_000, 60_000, 3_600_000, 1_000), Map.of())).get("id");
                    }
                    stamps.clear();
                    long node0 = processCpu();
                    long sandboxes0 = sandboxCpu();
                    gov.run("quiet", id, code(main), Map.of());
                    long[] into = calls == 45 ? cpu45 : cpu5;
                    if (r >= warmup) {
                        into[0] += processCpu() - node0;
                        into[1] += sandboxCpu() - sandboxes0;
                    }
                    if (r < warmup || calls != 45) continue; // warm-up runs
                    measured++;
                    for (int i = 1; i < stamps.size(); i++) {
                        gaps.add(stamps.get(i) - stamps.get(i - 1));
                        if (gapLog != null) gapLog.println(r + " " + i + " " + (stamps.get(i) - stamps.get(i - 1)));
                    }
                }
            }
            System.out.println("tool call end to end (gap between consecutive calls from JS): " + stats(gaps));
            if (threads0 != null && Boolean.getBoolean("bulwark.bench.threads")) {
                Map<String, Long> threads1 = threadTicks();
                Map<String, Long> delta = new java.util.TreeMap<>();
                for (var e : threads1.entrySet()) {
                    long d = e.getValue() - threads0.getOrDefault(e.getKey(), 0L);
                    if (d > 0) delta.merge(e.getKey().replaceAll("^\\d+:", "").replaceAll("\\d+", "N"), d, Long::sum);
                }
                long calls = 50L * (runs - warmup);
                delta.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(15).forEach(e ->
                        System.out.println(String.format(Locale.ROOT, "  node thread %-28s %.3f ms per call", e.getKey(), e.getValue() * 10.0 / calls)));
            }
            if (measured > 0) {
                System.out.println(String.format(Locale.ROOT, "CPU per call (45-call runs minus 5-call runs, /40): node %.3f ms, sandboxes %.3f ms",
                        (cpu45[0] - cpu5[0]) / 40.0 / measured / 1e6, (cpu45[1] - cpu5[1]) / 40.0 / measured / 1e6));
            }
        } finally {
            node.close();
        }
    }

    /** Clock ticks (10 ms) of CPU per thread of this process, keyed "tid:name" (from /proc/self/task). */
    static Map<String, Long> threadTicks() {
        Map<String, Long> out = new java.util.HashMap<>();
        try (var tasks = Files.list(java.nio.file.Path.of("/proc/self/task"))) {
            for (var t : tasks.toList()) {
                try {
                    String stat = Files.readString(t.resolve("stat"));
                    int open = stat.indexOf('('), close = stat.lastIndexOf(')');
                    String[] f = stat.substring(close + 2).split(" ");
                    out.put(t.getFileName() + ":" + stat.substring(open + 1, close), Long.parseLong(f[11]) + Long.parseLong(f[12]));
                } catch (Exception gone) {
                    // the thread ended meanwhile
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    /** This JVM's CPU time (all threads), ns. */
    static long processCpu() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** The CPU time of this JVM's child processes (the sandboxes), ns. */
    static long sandboxCpu() {
        return ProcessHandle.current().descendants().mapToLong(p -> p.info().totalCpuDuration().map(Duration::toNanos).orElse(0L)).sum();
    }

    /**
     * The three operations of {@link GovernanceBench}, each timed twice: wall time and the calling
     * thread's CPU time (the object events run on the calling thread). On a loaded machine the CPU
     * time is what the operation costs; the wall time adds the waits for a core.
     */
    static void cpu(int n) throws Exception {
        GovernanceBench.PolicyState p = new GovernanceBench.PolicyState();
        p.setup();
        GovernanceBench.NodeState s = new GovernanceBench.NodeState();
        s.start();
        GovernanceBench.TreeState t = new GovernanceBench.TreeState();
        t.size = Integer.getInteger("bulwark.bench.leaves", 1024); // -Dbulwark.bench.leaves=65536
        t.fill();
        GovernanceBench b = new GovernanceBench();
        try {
            s.session();
            Map<String, Runnable> ops = new java.util.LinkedHashMap<>();
            ops.put("policy decision       ", () -> b.policyDecision(p));
            ops.put("mediate (Java)        ", () -> b.mediate(s));
            ops.put("audit append + proof  ", () -> {
                try {
                    b.auditAppendAndProof(s, t);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            cpuTable(ops, n, s::session);
        } finally {
            s.stop();
            t.drop();
        }
    }

    /**
     * Where a mediated call's CPU goes: each step of {@code Governance.mediate} timed alone (the calling
     * thread's CPU time, p50/p99 over {@code n} after {@code n/3} warm-up), next to the whole call.
     */
    static void steps(int n) throws Exception {
        GovernanceBench.NodeState s = new GovernanceBench.NodeState();
        s.start();
        GovernanceBench b = new GovernanceBench();
        GovernanceBench.PolicyState p = new GovernanceBench.PolicyState();
        p.setup();
        try {
            s.session();
            s.node.javaObjects().register(dev.bulwark.objects.java.JavaObjectClass.javaOnly("BenchSteps", ctx -> new BenchSteps(ctx.storage()),
                    "noop", "insert"));
            var steps = s.node.javaObjects().namespace("acme", "BenchSteps").getByName("steps");
            Map<String, Object> args = new java.util.LinkedHashMap<>();
            args.put("title", "printer on fire");
            var schema = s.gov.tool("tickets.open").argsSchema();
            Map<String, Runnable> ops = new java.util.LinkedHashMap<>();
            ops.put("envelope open (verify+parse) ", () -> s.gov.keys().open(s.token));
            ops.put("args schema                  ", () -> ArgsSchema.violation(schema, args));
            ops.put("args canonical hash          ", () -> Canonical.sha256(Canonical.text(args)));
            ops.put("cedar decision               ", () -> b.policyDecision(p));
            ops.put("object event, no write       ", () -> steps.call("noop"));
            ops.put("object event, 1 insert+commit", () -> steps.call("insert"));
            ops.put("mediate (whole call)         ", () -> b.mediate(s));
            cpuTable(ops, n, s::session);
        } finally {
            s.stop();
        }
    }

    /** Each operation n times after n/3 warm-up runs and {@code fresh}: wall and CPU time of the calling thread. */
    static void cpuTable(Map<String, Runnable> ops, int n, Runnable fresh) {
        var mx = java.lang.management.ManagementFactory.getThreadMXBean();
        for (Map.Entry<String, Runnable> op : ops.entrySet()) {
            for (int i = 0; i < n / 3; i++) op.getValue().run();
            fresh.run();
            List<Long> wall = new ArrayList<>();
            List<Long> cpu = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                long c0 = mx.getCurrentThreadCpuTime();
                long w0 = System.nanoTime();
                op.getValue().run();
                wall.add(System.nanoTime() - w0);
                cpu.add(mx.getCurrentThreadCpuTime() - c0);
            }
            System.out.println(op.getKey() + " wall " + stats(wall) + " | cpu " + stats(cpu) + "  load " + loadAverage());
        }
    }

    static final class BenchSteps implements dev.bulwark.objects.java.JavaDurableObject {
        private final dev.bulwark.objects.java.JavaStorage db;

        BenchSteps(dev.bulwark.objects.java.JavaStorage db) {
            this.db = db;
            db.sql("CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT)").close();
        }

        @Override
        public Object call(String method, List<Object> args) {
            if (method.equals("insert")) db.sql("INSERT INTO t (v) VALUES (?)", "x".repeat(200)).close();
            return null;
        }
    }

    static void flood(int n, int clients, int perTenant) throws Exception {
        Node node = node(new ApiSettings(List.of(ApiSettings.Key.of("quiet", QUIET_KEY), ApiSettings.Key.of("flood", FLOOD_KEY))));
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(30)).build();
        try {
            Governance gov = node.governance();
            gov.registerTool(new Tool("tickets.open", JSON.readTree("{\"type\": \"object\"}"), Contract.CONTROLLED_MUTATION, 0, call -> "T-1"));
            String quietRun = body("export default async (input, env) => env.TOOLS.call(\"tickets.open\", { a: 1 });");
            String floodRun = body("export default async (input, env) => { let x = 0;"
                    + " for (let i = 0; i < 2e6; i++) x += i % 7; await env.TOOLS.call(\"tickets.open\", { x }); return x; };");
            LaneSettings budgeted = new LaneSettings(new LaneSettings.Lane(perTenant, 64, WhenFull.QUEUE, 60_000, 10_000, 1),
                    LaneSettings.DEFAULTS.longRunning(), LaneSettings.DEFAULTS.approval());
            LaneSettings unbounded = new LaneSettings(new LaneSettings.Lane(1_000, 1_000, WhenFull.QUEUE, 60_000, 10_000, 1),
                    LaneSettings.DEFAULTS.longRunning(), LaneSettings.DEFAULTS.approval());
            gov.lanes().configure(budgeted);
            String quietSession = admit(http, node, QUIET_KEY);
            for (int i = 0; i < 20; i++) post(http, node, QUIET_KEY, quietSession, quietRun); // warm-up
            System.out.println("quiet alone:                      " + stats(measure(http, node, quietSession, quietRun, n)) + "  load " + loadAverage());

            for (LaneSettings lanes : List.of(budgeted, unbounded)) {
                gov.lanes().configure(lanes);
                AtomicBoolean stop = new AtomicBoolean();
                Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();
                List<Thread> flooders = new ArrayList<>();
                for (int c = 0; c < clients; c++) {
                    String s = admit(http, node, FLOOD_KEY);
                    flooders.add(Thread.ofVirtual().start(() -> {
                        while (!stop.get()) {
                            int status = post(http, node, FLOOD_KEY, s, floodRun);
                            statuses.computeIfAbsent(status, k -> new AtomicLong()).incrementAndGet();
                        }
                    }));
                }
                Thread.sleep(3_000); // the flood reaches its steady state
                List<Long> during = measure(http, node, quietSession, quietRun, n);
                String load = loadAverage();
                stop.set(true);
                for (Thread t : flooders) t.join();
                System.out.println("quiet during flood, per_tenant " + String.format(Locale.ROOT, "%-5d", lanes.interactive().perTenant())
                        + ": " + stats(during) + "  load " + load + "  flood answers " + statuses);
            }
        } finally {
            node.close();
        }
    }

    static List<Long> measure(HttpClient http, Node node, String session, String run, int n) {
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            int status = post(http, node, QUIET_KEY, session, run);
            if (status != 200) throw new IllegalStateException("quiet run answered " + status);
            out.add(System.nanoTime() - t0);
        }
        return out;
    }

    static String admit(HttpClient http, Node node, String key) throws Exception {
        HttpResponse<String> r = http.send(request(node, key, "v1/sessions",
                "{\"actor\": \"bench\", \"risk\": \"low\", \"tools\": [\"tickets.open\"], \"budgets\": {\"toolCalls\": 1000000, \"spendUnits\": 1000000}}"),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201) throw new IllegalStateException(r.body());
        return JSON.readTree(r.body()).get("id").asText();
    }

    static int post(HttpClient http, Node node, String key, String session, String body) {
        try {
            return http.send(request(node, key, "v1/sessions/" + session + "/run", body), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    static HttpRequest request(Node node, String key, String path, String body) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/cdn-cgi/bulwark/api/" + path))
                .timeout(Duration.ofSeconds(120)).header("Authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    static String body(String main) {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode code = body.putObject("code").put("compatibilityDate", "2025-06-01").put("mainModule", "agent.js");
        code.putObject("modules").put("agent.js", main);
        return body.toString();
    }

    static WorkerCode code(String main) {
        return WorkerCode.of("2025-06-01", List.of(), "agent.js", List.of(WorkerModule.text("agent.js", ModuleType.JS, main)), "{}", false, null, null);
    }

    static String stats(List<Long> nanos) {
        List<Long> s = new ArrayList<>(nanos);
        Collections.sort(s);
        if (s.isEmpty()) return "no samples";
        return String.format(Locale.ROOT, "n=%d p50=%.2f ms p99=%.2f ms max=%.2f ms", s.size(), pct(s, 0.50), pct(s, 0.99),
                s.getLast() / 1e6);
    }

    static double pct(List<Long> sorted, double p) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1)) / 1e6;
    }

    static String loadAverage() {
        try {
            return Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
        } catch (Exception e) {
            return "?";
        }
    }
}
