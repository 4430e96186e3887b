package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.V8Host;
import com.caoccao.javet.interop.V8Runtime;
import com.caoccao.javet.interop.options.V8RuntimeOptions;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Making an isolate, and closing one: from the prelude snapshot the way the pool does it
 * ({@link IsolatePool#create()}: runtime from the snapshot, host functions installed, event-loop
 * thread started) against a plain runtime that evaluates the prelude, a bare runtime from the
 * snapshot (the V8 share of the first), and a plain empty runtime as the floor. Each operation makes (or closes) one isolate; the other half of its life happens
 * outside the timed region, in per-invocation setup/teardown (fine at millisecond scale).
 *
 * <p>Closing an {@link Isolate} is asynchronous (a poison task; the isolate thread disposes the
 * runtime): {@link #closeSnapshotIsolate} times from {@code close()} until the runtime is gone.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xss8m"})
public class IsolateCreateBench {

    @State(Scope.Benchmark)
    public static class Env {
        V8Host v8;
        Bench.Services services;
        IsolatePool pool;
        String prelude;
        V8RuntimeOptions fromSnapshot;

        @Setup(Level.Trial)
        public void setUp() throws JavetException {
            v8 = Bench.v8();
            services = new Bench.Services();
            pool = Bench.pool(0, services); // no background refill: create() is called directly
            prelude = Prelude.source();
            fromSnapshot = new V8RuntimeOptions();
            fromSnapshot.setSnapshotBlob(IsolatePool.snapshot(v8));
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            pool.close();
            services.shutdown();
        }
    }

    /** Holds what one operation made, and disposes of it untimed. */
    @State(Scope.Thread)
    public static class Made {
        Isolate isolate;
        V8Runtime runtime;

        @TearDown(Level.Invocation)
        public void dispose(Env env) throws JavetException {
            if (isolate != null) env.services.closeAndWait(isolate);
            if (runtime != null) runtime.close();
            isolate = null;
            runtime = null;
        }
    }

    /** What the pool does for each isolate it keeps ready. */
    @Benchmark
    public Isolate createFromSnapshot(Env env, Made made) throws JavetException {
        return made.isolate = env.pool.create();
    }

    /** Only the V8 part of {@link #createFromSnapshot}: no host functions, no event-loop thread. */
    @Benchmark
    public V8Runtime createRawFromSnapshot(Env env, Made made) throws JavetException {
        return made.runtime = env.v8.createV8Runtime(env.fromSnapshot);
    }

    /** The same Web API surface without a snapshot: a plain runtime, then the prelude evaluated. */
    @Benchmark
    public V8Runtime createPlainAndEvalPrelude(Env env, Made made) throws JavetException {
        V8Runtime rt = made.runtime = env.v8.createV8Runtime();
        rt.getExecutor(env.prelude).setResourceName("bulwark:prelude").executeVoid();
        return rt;
    }

    /** The floor: a plain runtime, no prelude, no host functions, no thread. */
    @Benchmark
    public V8Runtime createPlainEmpty(Env env, Made made) throws JavetException {
        return made.runtime = env.v8.createV8Runtime();
    }

    /** An isolate to close, made untimed. */
    @State(Scope.Thread)
    public static class IsolateToClose {
        Isolate isolate;

        @Setup(Level.Invocation)
        public void make(Env env) throws JavetException {
            isolate = env.pool.create();
        }
    }

    /** A plain runtime holding the evaluated prelude, to close, made untimed. */
    @State(Scope.Thread)
    public static class RuntimeToClose {
        V8Runtime runtime;

        @Setup(Level.Invocation)
        public void make(Env env) throws JavetException {
            runtime = env.v8.createV8Runtime();
            runtime.getExecutor(env.prelude).setResourceName("bulwark:prelude").executeVoid();
        }
    }

    /** Isolate.close() until its thread has closed the V8 runtime (host callbacks unbound). */
    @Benchmark
    public void closeSnapshotIsolate(Env env, IsolateToClose c) {
        env.services.closeAndWait(c.isolate);
    }

    /** V8Runtime.close() of a plain runtime holding the evaluated prelude, on the caller's thread. */
    @Benchmark
    public void closePlainRuntime(RuntimeToClose c) throws JavetException {
        c.runtime.close();
    }
}
