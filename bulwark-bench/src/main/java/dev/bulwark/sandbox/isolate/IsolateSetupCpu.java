package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.interop.V8Host;
import com.caoccao.javet.interop.V8Runtime;
import com.caoccao.javet.interop.options.V8RuntimeOptions;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * CPU time of the steps of a cold isolate, in process: {@code createV8Runtime} from the prelude
 * snapshot and {@code new Isolate} (both on this thread, as the pool's refill thread does them),
 * then loading the hello worker, its first and second request and the isolate's close (on the
 * carriers: the CPU of the live {@code isolate-*} threads, one isolate at a time, so each
 * sample is one isolate's). Timings on a loaded machine are noise; thread CPU time much less so.
 * Prints per round the median and the mean per isolate of each step, then the medians over all
 * rounds but the first (JIT warm-up of the JVM side).
 *
 * <pre>IsolateSetupCpu [isolates per round (40)] [rounds (4)]</pre>
 *
 * {@code -Dbulwark.bench.worker=FILE} loads that ES module instead of the hello worker (e.g. one
 * whose fetch calls crypto.subtle, to see what a lazy prelude part costs its first use).
 */
public final class IsolateSetupCpu {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final String[] STEPS = {"createV8Runtime", "new Isolate", "load hello", "first fetch",
            "second fetch", "close"};

    private IsolateSetupCpu() {}

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 40;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        Bench.Services services = new Bench.Services(BenchCalls::onMessage);
        V8Host v8 = Bench.v8();
        byte[] snapshot = IsolatePool.snapshot(v8);
        String workerFile = System.getProperty("bulwark.bench.worker");
        WorkerBundle hello = workerFile == null ? Bench.helloBundle()
                : WorkerBundle.of("index.js", List.of(WorkerModule.text("index.js", ModuleType.JS, Files.readString(Path.of(workerFile)))));
        System.out.printf("IsolateSetupCpu: snapshot %d bytes, prelude %d chars, load average %s%n",
                snapshot.length, Prelude.source().length(), Files.readString(Path.of("/proc/loadavg")).trim());
        List<long[]> kept = new ArrayList<>(); // per step, the samples of rounds 1..
        for (int s = 0; s < STEPS.length; s++) kept.add(new long[0]);
        for (int round = 0; round < rounds; round++) {
            long[][] t = new long[STEPS.length][n];
            List<Isolate> isolates = new ArrayList<>(n);
            for (int k = 0; k < n; k++) {
                long c0 = THREADS.getCurrentThreadCpuTime();
                V8RuntimeOptions options = new V8RuntimeOptions();
                options.setSnapshotBlob(snapshot);
                V8Runtime runtime = v8.createV8Runtime(options);
                long c1 = THREADS.getCurrentThreadCpuTime();
                isolates.add(new Isolate(runtime, services.services()));
                long c2 = THREADS.getCurrentThreadCpuTime();
                t[0][k] = c1 - c0;
                t[1][k] = c2 - c1;
            }
            for (int k = 0; k < n; k++) {
                long l0 = isolateCpu();
                BenchCalls.load(isolates.get(k), "hello-" + k, hello);
                t[2][k] = isolateCpu() - l0;
            }
            for (int pass = 3; pass <= 4; pass++) {
                for (int k = 0; k < n; k++) {
                    long f0 = isolateCpu();
                    BenchCalls.fetch(isolates.get(k), k);
                    t[pass][k] = isolateCpu() - f0;
                }
            }
            for (int k = 0; k < n; k++) {
                long d0 = isolateCpu();
                services.closeAndWait(isolates.get(k));
                t[5][k] = isolateCpu() - d0;
            }
            StringBuilder line = new StringBuilder("round " + round + " (n=" + n + ", median/mean us):");
            long sum = 0;
            for (int s = 0; s < STEPS.length; s++) {
                line.append(String.format(" %s %d/%d,", STEPS[s], median(t[s]) / 1000, mean(t[s]) / 1000));
                if (s != 4) sum += median(t[s]);
                if (round > 0) kept.set(s, concat(kept.get(s), t[s]));
            }
            System.out.println(line.append(" cold sum (medians, no second fetch) ").append(sum / 1000));
        }
        if (rounds > 1) {
            StringBuilder line = new StringBuilder("RESULT medians over rounds 1.. (us):");
            long sum = 0;
            for (int s = 0; s < STEPS.length; s++) {
                long m = median(kept.get(s));
                line.append(String.format(" %s %d,", STEPS[s], m / 1000));
                if (s != 4) sum += m;
            }
            System.out.println(line.append(" cold sum ").append(sum / 1000));
        }
        System.out.printf("load average at end: %s%n", Files.readString(Path.of("/proc/loadavg")).trim());
        services.shutdown();
        System.exit(0);
    }

    private static long median(long[] a) {
        long[] c = a.clone();
        Arrays.sort(c);
        return c.length == 0 ? 0 : c[c.length / 2];
    }

    private static long mean(long[] a) {
        long s = 0;
        for (long v : a) s += v;
        return a.length == 0 ? 0 : s / a.length;
    }

    private static long[] concat(long[] a, long[] b) {
        long[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** CPU nanoseconds used so far by the live threads named isolate-* (the carriers). */
    private static long isolateCpu() {
        long sum = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("isolate")) sum += Math.max(0, THREADS.getThreadCpuTime(t.threadId()));
        }
        return sum;
    }
}
