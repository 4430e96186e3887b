package dev.bulwark.server.node;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The supervisor's overhead (issue 14's bench): request round trips through a real node to the
 * same SQL counter as a plain durable object, as a facet of a JS supervisor, and as a facet of the
 * built-in Java supervisor. Prints percentiles; asserts nothing about time. Not in the default
 * suite: {@code -Dbulwark.bench.facets=true -Dtest=FacetRttBench} ({@code -Dbulwark.bench.n=2000}).
 */
@EnabledIfSystemProperty(named = "bulwark.bench.facets", matches = "true")
class FacetRttBench {
    @TempDir
    Path data;

    static final HttpClient http = TestProjects.HTTP;

    @Test
    void supervisorToFacetVersusADirectObject() throws Exception {
        int n = Integer.getInteger("bulwark.bench.n", 2000);
        Path project = Path.of("src", "test", "resources", "facets-project").toAbsolutePath();
        try (Node node = Node.serve(TestProjects.load(project, data))) {
            String code = FacetsTest.COUNTER.replace("VERSION", "facet");
            assertThat(send(node, "POST", "/b/code/X", code).statusCode()).isEqualTo(200);
            assertThat(send(node, "PUT", "/_platform/_apps/x", code).statusCode()).isEqualTo(201);
            String[] paths = PATHS;
            String[] names = NAMES;
            double[][] t = new double[paths.length][n];
            for (int i = 0; i < 300; i++) for (String p : paths) assertThat(send(node, "GET", p, null).statusCode()).isEqualTo(200);
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < paths.length; k++) {
                    long t0 = System.nanoTime();
                    HttpResponse<String> r = send(node, "GET", paths[k], null);
                    t[k][i] = (System.nanoTime() - t0) / 1000.0;
                    assertThat(r.statusCode()).isEqualTo(200);
                }
            }
            for (int k = 0; k < paths.length; k++) {
                Arrays.sort(t[k]);
                System.out.printf(Locale.ROOT, "RESULT %-34s p50 %6.0f µs  p90 %6.0f  p99 %6.0f  (%d requests)%n", names[k],
                        pct(t[k], 50), pct(t[k], 90), pct(t[k], 99), n);
            }
            System.out.printf(Locale.ROOT, "RESULT added at p50: JS supervisor %.0f µs, Java supervisor %.0f µs, "
                            + "Java supervisor by route %.0f µs; load %s%n",
                    pct(t[1], 50) - pct(t[0], 50), pct(t[2], 50) - pct(t[0], 50), pct(t[3], 50) - pct(t[0], 50),
                    java.nio.file.Files.readString(Path.of("/proc/loadavg")).trim());
        }
    }

    /**
     * CPU per request (the machine is shared: CPU, not latency, is the comparable figure): the CPU
     * time of the test JVM (node and client) and of every sandbox process over {@code n} requests
     * of one path, one path after the other, each after its own warm-up.
     */
    @Test
    void cpuPerRequest() throws Exception {
        int n = Integer.getInteger("bulwark.bench.n", 2000);
        Path project = Path.of("src", "test", "resources", "facets-project").toAbsolutePath();
        try (Node node = Node.serve(TestProjects.load(project, data))) {
            String code = FacetsTest.COUNTER.replace("VERSION", "facet");
            assertThat(send(node, "POST", "/b/code/X", code).statusCode()).isEqualTo(200);
            assertThat(send(node, "PUT", "/_platform/_apps/x", code).statusCode()).isEqualTo(201);
            // The four paths, and the route again with every facet quota on (generous: none refuses),
            // to see what the quota checks cost on the request path.
            String[] paths = {PATHS[0], PATHS[1], PATHS[2], PATHS[3], PATHS[3]};
            String[] names = {NAMES[0], NAMES[1], NAMES[2], NAMES[3], NAMES[3] + " +quotas"};
            FacetQuotas.Limits quotas = new FacetQuotas.Limits(1_000, 1L << 30, 1L << 40, 1L << 40, 60_000, 1_000_000);
            int rounds = Integer.getInteger("bulwark.bench.rounds", 4);
            double[] best = new double[paths.length];
            Arrays.fill(best, Double.MAX_VALUE);
            for (int round = 0; round < rounds; round++) {
                double[] us = new double[paths.length];
                // Each round starts at another path (no path always runs first, or right after the same one).
                for (int j = 0; j < paths.length; j++) {
                    int k = (j + round) % paths.length;
                    node.facetQuotas().setDefaults(k == 4 ? quotas : FacetQuotas.Limits.NONE);
                    for (int i = 0; i < 500; i++) assertThat(send(node, "GET", paths[k], null).statusCode()).isEqualTo(200);
                    long c0 = cpuNanos(node);
                    long w0 = wakeUps(node);
                    long relayed0 = node.relayedCalls();
                    long atOnce0 = node.facets().callsAtOnce.get();
                    for (int i = 0; i < n; i++) assertThat(send(node, "GET", paths[k], null).statusCode()).isEqualTo(200);
                    us[k] = (cpuNanos(node) - c0) / 1000.0 / n;
                    double wakes = (wakeUps(node) - w0) / (double) n;
                    best[k] = Math.min(best[k], us[k]);
                    System.out.printf(Locale.ROOT, "RESULT cpu round %d %-43s %6.0f µs CPU, %5.1f context switches, %.2f calls "
                            + "relayed by the node (%.2f at once), per request (%d requests)%n", round, names[k], us[k], wakes,
                            (node.relayedCalls() - relayed0) / (double) n, (node.facets().callsAtOnce.get() - atOnce0) / (double) n, n);
                }
                System.out.printf(Locale.ROOT, "RESULT cpu round %d added: JS supervisor %.0f µs, Java supervisor %.0f µs, "
                                + "Java supervisor by route %.0f µs (with quotas %.0f µs); load %s%n", round, us[1] - us[0],
                        us[2] - us[0], us[3] - us[0], us[4] - us[0], java.nio.file.Files.readString(Path.of("/proc/loadavg")).trim());
            }
            node.facetQuotas().setDefaults(FacetQuotas.Limits.NONE);
            System.out.printf(Locale.ROOT, "RESULT cpu best of %d rounds: direct %.0f µs, JS supervisor %.0f µs (+%.0f), "
                    + "Java supervisor %.0f µs (+%.0f), Java supervisor by route %.0f µs (+%.0f), with quotas %.0f µs (+%.0f)%n",
                    rounds, best[0], best[1], best[1] - best[0], best[2], best[2] - best[0], best[3], best[3] - best[0],
                    best[4], best[4] - best[0]);
        }
    }

    /**
     * Context switches (voluntary and not) of every thread of the test JVM and of the sandboxes: a
     * count of wake-ups, which unlike time does not depend on the machine's load.
     */
    static long wakeUps(Node node) {
        long total = wakeUps(ProcessHandle.current().pid());
        for (String tenant : new String[] {"facets", DynamicWorkers.generatedTenant("facets")}) {
            for (long pid : node.supervisor().pids(tenant)) total += wakeUps(pid);
        }
        return total;
    }

    private static long wakeUps(long pid) {
        long n = 0;
        try (var tasks = java.nio.file.Files.list(Path.of("/proc", String.valueOf(pid), "task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    for (String line : java.nio.file.Files.readAllLines(task.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
                            n += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        }
                    }
                } catch (java.io.IOException e) {
                    // the thread ended meanwhile
                }
            }
        } catch (java.io.IOException e) {
            // the process ended
        }
        return n;
    }

    /** The same counter: a plain object; a JS supervisor's facet; the built-in supervisor's through the worker and by its route. */
    static final String[] PATHS = {"/_direct/hit", "/b/app/X/hit", "/_platform/x/hit", "/_route/x/hit"};
    static final String[] NAMES = {"direct object", "JS supervisor -> facet", "Java supervisor -> facet (worker)",
            "Java supervisor -> facet (route)"};

    static long cpuNanos(Node node) {
        long total = ProcessHandle.current().info().totalCpuDuration().orElseThrow().toNanos();
        for (String tenant : new String[] {"facets", DynamicWorkers.generatedTenant("facets")}) {
            for (long pid : node.supervisor().pids(tenant)) {
                total += ProcessHandle.of(pid).flatMap(h -> h.info().totalCpuDuration()).map(Duration::toNanos).orElse(0L);
            }
        }
        return total;
    }

    static double pct(double[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    static HttpResponse<String> send(Node node, String method, String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + path))
                .header("Host", "facets").timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
    }
}
