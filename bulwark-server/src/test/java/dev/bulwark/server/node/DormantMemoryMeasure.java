package dev.bulwark.server.node;

import dev.bulwark.server.config.DormantWorkerSettings;
import dev.bulwark.server.config.ProjectLoader;
import dev.bulwark.server.config.SandboxSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Figures for docs/notes/dormant.md, not a test of the suite (its name does not end in Test): run it
 * with {@code -Dtest=DormantMemoryMeasure}. Serves {@code dormant-measure} (the shared bench's /dyn
 * route) on a fresh node per scenario.
 *
 * <ul>
 * <li>{@code memory}: as the bench's mem phase: N ids loaded (4 clients), resident memory of the
 * tenant's sandbox for generated code, of the parent's sandbox and of this JVM (the node, and the
 * client) before, 1 s after, and after 15 s idle; with the defaults (64 live, idle 10 s) and with
 * every worker live ({@code -Dbulwark.measure.liveIds}, default 200).</li>
 * <li>{@code cpu}: CPU per call (process CPU of each sandbox from /proc, of this JVM) of a call to a
 * live worker, to a dormant one (woken), and to a new id (cold), interleaved over three rounds.</li>
 * </ul>
 */
@Timeout(value = 60, unit = TimeUnit.MINUTES)
class DormantMemoryMeasure {
    static final int IDS = Integer.getInteger("bulwark.measure.ids", 1000);
    static final int LIVE_IDS = Integer.getInteger("bulwark.measure.liveIds", 200);
    static final int CALLS = Integer.getInteger("bulwark.measure.calls", 100);
    static final String MODES = System.getProperty("bulwark.measure.modes", "memory,cpu");

    @TempDir
    Path data;

    static Node serve(Path data, int liveMax, DormantWorkerSettings dormant) throws Exception {
        Path project = TestProjects.resource("dormant-measure");
        return Node.serve(ProjectLoader.load(project, s -> {
            SandboxSettings sb = s.sandboxes();
            SandboxSettings changed = sb.withRssCeilingMb(4096).withDynamicWorkersMax(liveMax).withDormant(dormant);
            return s.withPort(0).withDataDir(data).withSandboxes(changed);
        }));
    }

    static void get(Node node, String id) {
        try {
            HttpResponse<String> r = TestProjects.HTTP.send(TestProjects.request(node, "/dyn?id=" + id).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.body()).isEqualTo("dyn-" + id);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    static void load(Node node, String prefix, int n, int clients) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            AtomicInteger next = new AtomicInteger();
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                done.add(pool.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < n; ) get(node, prefix + i);
                    return null;
                }));
            }
            for (Future<?> f : done) f.get();
        } finally {
            pool.shutdownNow();
        }
    }

    static long pid(Node node, String tenant) {
        List<Long> pids = node.supervisor().pids(tenant);
        assertThat(pids).hasSize(1);
        return pids.getFirst();
    }

    static long rssKib(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
        }
        throw new IllegalStateException("no VmRSS");
    }

    /** utime + stime of a process, in ms (clock ticks of 10 ms). */
    static long cpuMs(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;
    }

    static long selfCpuMs() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() / 1_000_000;
    }

    @Test
    void memory() throws Exception {
        if (!MODES.contains("memory")) return;
        memory("dormant (defaults: 64 live, idle 10 s)", data.resolve("a"), SandboxSettings.DEFAULT_DYNAMIC_WORKERS_MAX,
                DormantWorkerSettings.DEFAULTS, IDS);
        memory("all live (dormancy off)", data.resolve("b"), LIVE_IDS + 20, new DormantWorkerSettings(0, 0), LIVE_IDS);
    }

    private void memory(String label, Path dir, int liveMax, DormantWorkerSettings dormant, int n) throws Exception {
        try (Node node = serve(dir, liveMax, dormant)) {
            load(node, "warm-", 10, 1);
            Thread.sleep(2000);
            long gen = pid(node, DynamicWorkers.generatedTenant(node.settings().tenant()));
            long parent = pid(node, node.settings().tenant());
            long self = ProcessHandle.current().pid();
            long[] before = {rssKib(gen), rssKib(parent), rssKib(self)};
            long t0 = System.nanoTime();
            load(node, "mem-", n, 4);
            double seconds = (System.nanoTime() - t0) / 1e9;
            Thread.sleep(1000);
            long[] after = {rssKib(gen), rssKib(parent), rssKib(self)};
            Thread.sleep(15_000);
            long[] idle = {rssKib(gen), rssKib(parent), rssKib(self)};
            System.out.printf("DormantMemoryMeasure %s: %d ids loaded in %.1f s%n", label, n, seconds);
            String[] names = {"generated sandbox", "parent sandbox", "node JVM (+client)"};
            for (int i = 0; i < 3; i++) {
                System.out.printf("  %-20s RSS %7d -> %7d KiB 1 s after (%+.0f KiB/id), %7d after 15 s idle (%+.0f KiB/id)%n",
                        names[i], before[i], after[i], (after[i] - before[i]) / (double) n, idle[i],
                        (idle[i] - before[i]) / (double) n);
            }
            System.out.printf("  live isolates in the generated sandbox after 15 s idle: %d%n",
                    DynamicWorkersLruTest.liveIsolates(gen));
        }
    }

    @Test
    void cpu() throws Exception {
        if (!MODES.contains("cpu")) return;
        try (Node node = serve(data.resolve("c"), 64, new DormantWorkerSettings(1000, 1000))) {
            load(node, "warm-", 10, 1);
            long gen = pid(node, DynamicWorkers.generatedTenant(node.settings().tenant()));
            long parent = pid(node, node.settings().tenant());
            int pool = node.settings().sandboxes().poolSize();
            for (int round = 0; round < 3; round++) {
                // live: one id called again and again
                awaitDormant(gen, pool);
                get(node, "hot");
                report("live", round, gen, parent, () -> {
                    for (int i = 0; i < CALLS; i++) get(node, "hot");
                });
                // dormant: CALLS ids loaded, all dormant, then each called once
                String prefix = "sleep-" + round + "-";
                load(node, prefix, CALLS, 1);
                awaitDormant(gen, pool);
                report("dormant", round, gen, parent, () -> {
                    for (int i = 0; i < CALLS; i++) get(node, prefix + i);
                });
                // cold: new ids
                int r = round;
                awaitDormant(gen, pool);
                report("cold", r, gen, parent, () -> {
                    for (int i = 0; i < CALLS; i++) get(node, "cold-" + r + "-" + i);
                });
            }
        }
    }

    /** Until the generated sandbox holds only its ready isolates (every worker dormant), and a little more. */
    static void awaitDormant(long pid, int pool) throws Exception {
        // The ready pool may be refilling while a worker still holds its isolate: the count must
        // stay at the pool's size across a second look, 1.5 s later.
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < end) {
            if (DynamicWorkersLruTest.liveIsolates(pid) == pool) {
                Thread.sleep(1500);
                if (DynamicWorkersLruTest.liveIsolates(pid) == pool) return;
            }
            Thread.sleep(100);
        }
    }

    private static void report(String what, int round, long gen, long parent, Runnable calls) throws Exception {
        long g = cpuMs(gen), p = cpuMs(parent), s = selfCpuMs();
        long[] wall = new long[1];
        long t0 = System.nanoTime();
        calls.run();
        wall[0] = System.nanoTime() - t0;
        // the pool refills in the background after a take: let it finish inside the window
        Thread.sleep(300);
        double n = CALLS;
        System.out.printf("DormantMemoryMeasure cpu round %d %-8s per call: generated sandbox %.2f ms, parent sandbox %.2f ms, "
                        + "node+client %.2f ms; wall mean %.2f ms%n", round, what, (cpuMs(gen) - g) / n, (cpuMs(parent) - p) / n,
                (selfCpuMs() - s) / n, wall[0] / 1e6 / n);
    }

    static String join(long[] a) {
        return Arrays.toString(a);
    }
}
