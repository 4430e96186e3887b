package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.interop.V8Host;
import com.caoccao.javet.interop.V8Runtime;
import com.caoccao.javet.interop.options.V8RuntimeOptions;
import dev.bulwark.sandbox.worker.WorkerBundle;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * CPU time of the steps of a cold isolate, in process: {@code createV8Runtime} from the prelude
 * snapshot and {@code new Isolate} (both on this thread, as the pool's refill thread does them),
 * then loading the hello worker and its first request (on the carriers: the CPU of the live
 * {@code isolate-*} threads). Timings on a loaded machine are noise; thread CPU time is not.
 *
 * <pre>IsolateSetupCpu [isolates per round (40)] [rounds (4)]</pre>
 */
public final class IsolateSetupCpu {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private IsolateSetupCpu() {}

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 40;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        Bench.Services services = new Bench.Services(BenchCalls::onMessage);
        V8Host v8 = Bench.v8();
        byte[] snapshot = IsolatePool.snapshot(v8);
        WorkerBundle hello = Bench.helloBundle();
        System.out.printf("IsolateSetupCpu: snapshot %d bytes, prelude %d chars, load average %s%n",
                snapshot.length, Prelude.source().length(), Files.readString(Path.of("/proc/loadavg")).trim());
        for (int round = 0; round < rounds; round++) {
            long rt = 0, iso = 0;
            List<Isolate> isolates = new ArrayList<>(n);
            for (int k = 0; k < n; k++) {
                long c0 = THREADS.getCurrentThreadCpuTime();
                V8RuntimeOptions options = new V8RuntimeOptions();
                options.setSnapshotBlob(snapshot);
                V8Runtime runtime = v8.createV8Runtime(options);
                long c1 = THREADS.getCurrentThreadCpuTime();
                isolates.add(new Isolate(runtime, services.services()));
                long c2 = THREADS.getCurrentThreadCpuTime();
                rt += c1 - c0;
                iso += c2 - c1;
            }
            long l0 = isolateCpu();
            for (int k = 0; k < n; k++) BenchCalls.load(isolates.get(k), "hello-" + k, hello);
            long load = isolateCpu() - l0;
            long f0 = isolateCpu();
            BenchCalls.fetch(isolates);
            long first = isolateCpu() - f0;
            long s0 = isolateCpu();
            BenchCalls.fetch(isolates);
            long second = isolateCpu() - s0;
            for (Isolate i : isolates) services.closeAndWait(i);
            System.out.printf("round %d (n=%d): createV8Runtime %.0f us, new Isolate %.0f us, load hello %.0f us, "
                            + "first fetch %.0f us, second fetch %.0f us (CPU per isolate)%n",
                    round, n, rt / 1e3 / n, iso / 1e3 / n, load / 1e3 / n, first / 1e3 / n, second / 1e3 / n);
        }
        System.out.printf("load average at end: %s%n", Files.readString(Path.of("/proc/loadavg")).trim());
        services.shutdown();
        System.exit(0);
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
