package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * A pool hit: {@link IsolatePool#take()} when the pool is full, which is what a worker load costs
 * before its module compile. Only {@code take()} is timed: before each call the benchmark waits
 * (untimed) until the background thread has refilled the pool, and the isolate taken is closed
 * (untimed) after it. Sample mode, so the percentiles show the wake-up of the refiller too.
 *
 * <p>{@code settleMs}: how long to wait after the pool is full again. With 0 the previous refill
 * has just finished and V8's background tasks for the isolate it made may still be running (what a
 * burst of worker loads sees); with 20 the process is quiet (an occasional load).
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(value = 3, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xss8m"})
public class PoolTakeBench {

    @State(Scope.Benchmark)
    public static class Full {
        /** The sandbox default is 2 (SandboxMain --pool). */
        @Param({"2"})
        int size;

        @Param({"0", "20"})
        long settleMs;

        Bench.Services services;
        IsolatePool pool;
        Isolate taken;

        @Setup(Level.Trial)
        public void setUp() throws JavetException {
            services = new Bench.Services();
            pool = Bench.pool(size, services);
        }

        @Setup(Level.Invocation)
        public void awaitFull() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (pool.readyCount() < size) {
                if (System.nanoTime() > deadline) throw new IllegalStateException("the pool did not refill");
                Thread.sleep(0, 200_000);
            }
            if (settleMs > 0) Thread.sleep(settleMs);
        }

        @TearDown(Level.Invocation)
        public void closeTaken() {
            if (taken != null) services.closeAndWait(taken);
            taken = null;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            pool.close();
            services.shutdown();
        }
    }

    @Benchmark
    public Isolate takeHit(Full full) throws JavetException {
        return full.taken = full.pool.take();
    }
}
