package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.WorkerBundle;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Resident memory of idle isolates, measured as a sandbox process would pay it: in a fresh JVM,
 * N isolates are made from the prelude snapshot (as the pool makes them), a hello worker is loaded
 * into each, each serves one request, and then they are closed. After every phase the process's
 * {@code VmRSS} (/proc/self/status) is read; the delta from the baseline, divided by N, is the cost
 * of one idle isolate. RSS, not Java heap: V8's heaps, its code, the isolate threads' stacks and
 * malloc arenas all live outside the Java heap.
 *
 * <p>Run with a fixed, pre-touched Java heap ({@code -Xms128m -Xmx128m -XX:+AlwaysPreTouch}) so the
 * Java heap's growth does not land in the deltas (see docs/benchmarks.md).
 *
 * <p>Two other modes measure the parts: {@code plain}, N plain V8 runtimes with no snapshot (no host
 * functions, no thread), then the prelude evaluated in each; {@code raw}, N bare V8 runtimes from
 * the prelude snapshot, without the {@link Isolate} around them (no host functions, no thread).
 *
 * <pre>IdleIsolateRss [N (200)] [settle ms (1000)] [snapshot|plain|raw]</pre>
 */
public final class IdleIsolateRss {

    private IdleIsolateRss() {}

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        long settleMs = args.length > 1 ? Long.parseLong(args[1]) : 1000;
        String mode = args.length > 2 ? args[2] : "snapshot";
        if (mode.equals("plain")) {
            plain(n, settleMs);
            return;
        }
        if (mode.equals("raw")) {
            raw(n, settleMs);
            return;
        }
        if (!mode.equals("snapshot")) throw new IllegalArgumentException("mode: snapshot, plain or raw, not " + mode);

        Bench.Services services = new Bench.Services(BenchCalls::onMessage);
        IsolatePool pool = Bench.pool(0, services); // every isolate is made by create(), none kept ready
        WorkerBundle hello = Bench.helloBundle();

        // One isolate through its whole life first, so one-time costs (V8 platform, snapshot,
        // JIT of the Java side, class loading) are in the baseline and not in the deltas.
        for (int k = 0; k < 3; k++) {
            Isolate warm = pool.create();
            BenchCalls.load(warm, "warm-" + k, hello);
            BenchCalls.fetch(List.of(warm));
            services.closeAndWait(warm);
        }

        System.out.printf("IdleIsolateRss: N=%d, JDK %s, %d CPUs, JVM args %s%n", n, Runtime.version(),
                Runtime.getRuntime().availableProcessors(), ManagementFactory.getRuntimeMXBean().getInputArguments());
        System.out.printf("load average at start: %s%n", loadAverage());
        Sample base = sample("baseline (warm, no isolates)", settleMs, null, n);

        List<Isolate> isolates = new ArrayList<>(n);
        long t0 = System.nanoTime();
        for (int k = 0; k < n; k++) isolates.add(pool.create());
        long createdNs = System.nanoTime() - t0;
        sample("created from snapshot", settleMs, base, n);

        t0 = System.nanoTime();
        List<CompletableFuture<Message>> loads = new ArrayList<>(n);
        for (int k = 0; k < n; k++) loads.add(BenchCalls.loadAsync(isolates.get(k), "hello-" + k, hello));
        for (CompletableFuture<Message> f : loads) {
            Message m = f.get(60, TimeUnit.SECONDS);
            if (!(m instanceof Message.WorkerLoaded)) throw new IllegalStateException("load failed: " + m);
        }
        long loadedNs = System.nanoTime() - t0;
        Sample loaded = sample("+ hello worker loaded", settleMs, base, n);

        t0 = System.nanoTime();
        BenchCalls.fetch(isolates);
        long fetchedNs = System.nanoTime() - t0;
        Sample served = sample("+ one request served", settleMs, base, n);
        spaces(isolates);

        // The isolates' own idle reclaim (IdleReclaim) runs once they have been idle for its period.
        Thread.sleep(2 * IdleReclaim.IDLE_MS + 1_000); // the heap probe above was a task: the idle period starts again
        Sample idleReclaimed = sample("+ idle reclaim (" + IdleReclaim.IDLE_MS + " ms)", settleMs, base, n);
        spaces(isolates);

        // What an idle isolate can give back: a full, compacting GC in each (V8's low-memory notification).
        for (Isolate i : isolates) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            i.enqueue(0, () -> {
                i.runtime.lowMemoryNotification();
                done.complete(null);
            });
            done.get(30, TimeUnit.SECONDS);
        }
        Sample reduced = sample("+ lowMemoryNotification", settleMs, base, n);
        spaces(isolates);

        for (Isolate i : isolates) services.closeAndWait(i);
        isolates.clear();
        Sample closed = sample("all closed", settleMs, base, n);

        System.out.printf("timing: create %.2f ms/isolate, load %.2f ms/worker, first fetch %.2f ms/isolate (sequential, %d each)%n",
                createdNs / 1e6 / n, loadedNs / 1e6 / n, fetchedNs / 1e6 / n, n);
        System.out.printf("RESULT n=%d idle_loaded_kib_per_isolate=%d after_request_kib_per_isolate=%d after_idle_reclaim_kib_per_isolate=%d after_low_memory_kib_per_isolate=%d returned_on_close_pct=%.0f%n",
                n, (loaded.rssKib - base.rssKib) / n, (served.rssKib - base.rssKib) / n,
                (idleReclaimed.rssKib - base.rssKib) / n, (reduced.rssKib - base.rssKib) / n,
                100.0 * (served.rssKib - closed.rssKib) / Math.max(1, served.rssKib - base.rssKib));
        pool.close();
        services.shutdown();
    }

    /** N plain runtimes, then the prelude evaluated in each: what the snapshot saves (or costs). */
    private static void plain(int n, long settleMs) throws Exception {
        com.caoccao.javet.interop.V8Host v8 = Bench.v8();
        String prelude = Prelude.source();
        for (int k = 0; k < 3; k++) {
            try (com.caoccao.javet.interop.V8Runtime rt = v8.createV8Runtime()) {
                rt.getExecutor(prelude).executeVoid();
            }
        }
        System.out.printf("IdleIsolateRss plain: N=%d, JDK %s, %d CPUs, JVM args %s%n", n, Runtime.version(),
                Runtime.getRuntime().availableProcessors(), ManagementFactory.getRuntimeMXBean().getInputArguments());
        System.out.printf("load average at start: %s%n", loadAverage());
        Sample base = sample("baseline (warm, no runtimes)", settleMs, null, n);
        List<com.caoccao.javet.interop.V8Runtime> runtimes = new ArrayList<>(n);
        for (int k = 0; k < n; k++) runtimes.add(v8.createV8Runtime());
        Sample empty = sample("plain runtimes, empty", settleMs, base, n);
        for (com.caoccao.javet.interop.V8Runtime rt : runtimes) {
            rt.getExecutor(prelude).setResourceName("bulwark:prelude").executeVoid();
        }
        Sample withPrelude = sample("+ prelude evaluated", settleMs, base, n);
        for (com.caoccao.javet.interop.V8Runtime rt : runtimes) rt.close();
        Sample closed = sample("all closed", settleMs, base, n);
        System.out.printf("RESULT plain n=%d empty_kib_per_runtime=%d with_prelude_kib_per_runtime=%d returned_on_close_pct=%.0f%n",
                n, (empty.rssKib - base.rssKib) / n, (withPrelude.rssKib - base.rssKib) / n,
                100.0 * (withPrelude.rssKib - closed.rssKib) / Math.max(1, withPrelude.rssKib - base.rssKib));
    }

    /** N bare runtimes from the prelude snapshot: the snapshot's share, without thread and host functions. */
    private static void raw(int n, long settleMs) throws Exception {
        com.caoccao.javet.interop.V8Host v8 = Bench.v8();
        com.caoccao.javet.interop.options.V8RuntimeOptions options = new com.caoccao.javet.interop.options.V8RuntimeOptions();
        options.setSnapshotBlob(IsolatePool.snapshot(v8));
        for (int k = 0; k < 3; k++) {
            v8.createV8Runtime(options).close();
        }
        System.out.printf("IdleIsolateRss raw: N=%d, JDK %s, %d CPUs, JVM args %s%n", n, Runtime.version(),
                Runtime.getRuntime().availableProcessors(), ManagementFactory.getRuntimeMXBean().getInputArguments());
        System.out.printf("load average at start: %s%n", loadAverage());
        Sample base = sample("baseline (warm, no runtimes)", settleMs, null, n);
        List<com.caoccao.javet.interop.V8Runtime> runtimes = new ArrayList<>(n);
        for (int k = 0; k < n; k++) runtimes.add(v8.createV8Runtime(options));
        Sample made = sample("bare runtimes from snapshot", settleMs, base, n);
        for (com.caoccao.javet.interop.V8Runtime rt : runtimes) rt.close();
        Sample closed = sample("all closed", settleMs, base, n);
        System.out.printf("RESULT raw n=%d snapshot_runtime_kib=%d returned_on_close_pct=%.0f%n",
                n, (made.rssKib - base.rssKib) / n,
                100.0 * (made.rssKib - closed.rssKib) / Math.max(1, made.rssKib - base.rssKib));
    }

    /** V8's own view of the heap, averaged over the isolates (read on each isolate's thread). */
    private static void spaces(List<Isolate> isolates) throws Exception {
        var kinds = com.caoccao.javet.enums.V8AllocationSpace.getDistinctValues();
        long[] used = new long[kinds.length], committed = new long[kinds.length], physical = new long[kinds.length];
        long[] totals = new long[4];
        String[] names = new String[kinds.length];
        for (Isolate i : isolates) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            i.enqueue(0, () -> {
                for (int k = 0; k < kinds.length; k++) {
                    var s = i.runtime.getV8HeapSpaceStatistics(kinds[k]).get();
                    names[k] = s.getSpaceName();
                    used[k] += s.getSpaceUsedSize();
                    committed[k] += s.getSpaceSize();
                    physical[k] += s.getPhysicalSpaceSize();
                }
                var h = i.runtime.getV8HeapStatistics().get();
                totals[0] += h.getTotalPhysicalSize();
                totals[1] += h.getMallocedMemory();
                totals[2] += h.getTotalGlobalHandlesSize();
                totals[3] += h.getExternalMemory();
                done.complete(null);
            });
            done.get(30, TimeUnit.SECONDS);
        }
        int n = isolates.size();
        System.out.println("V8 heap per isolate (KiB, average): space used / committed / physical");
        for (int k = 0; k < kinds.length; k++) {
            System.out.printf("  %-22s %7d %7d %7d%n", names[k], used[k] / n >> 10, committed[k] / n >> 10, physical[k] / n >> 10);
        }
        System.out.printf("  total physical %d, malloced %d, global handles %d, external %d%n",
                totals[0] / n >> 10, totals[1] / n >> 10, totals[2] / n >> 10, totals[3] / n >> 10);
    }

    private record Sample(long rssKib, long hwmKib, long heapUsedKib, long threads) {}

    private static Sample sample(String label, long settleMs, Sample base, int n) throws Exception {
        System.gc();
        Thread.sleep(settleMs);
        Map<String, Long> status = status();
        Runtime rt = Runtime.getRuntime();
        Sample s = new Sample(status.get("VmRSS"), status.get("VmHWM"), (rt.totalMemory() - rt.freeMemory()) >> 10,
                status.get("Threads"));
        if (base == null) {
            System.out.printf("%-30s VmRSS %8d KiB  (Java heap used %6d KiB, threads %d)%n",
                    label, s.rssKib, s.heapUsedKib, s.threads);
        } else {
            long delta = s.rssKib - base.rssKib;
            System.out.printf("%-30s VmRSS %8d KiB  delta %+8d KiB = %+7.1f KiB per isolate  (Java heap used %6d KiB, threads %d)%n",
                    label, s.rssKib, delta, (double) delta / n, s.heapUsedKib, s.threads);
        }
        return s;
    }

    /** VmRSS, VmHWM (KiB) and Threads from /proc/self/status. */
    private static Map<String, Long> status() throws IOException {
        Map<String, Long> out = new java.util.HashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            int colon = line.indexOf(':');
            if (colon < 0) continue;
            String key = line.substring(0, colon);
            if (key.equals("VmRSS") || key.equals("VmHWM") || key.equals("Threads")) {
                out.put(key, Long.parseLong(line.substring(colon + 1).trim().split("\\s+")[0]));
            }
        }
        return out;
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "?";
        }
    }
}
