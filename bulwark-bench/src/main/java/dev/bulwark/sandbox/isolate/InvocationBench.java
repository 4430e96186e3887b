package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Limits;
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

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A warm invocation in process: {@link SandboxRuntime#deliver} of a {@code FetchStart} to a loaded
 * hello worker, until {@code InvocationDone} reaches the outbox. Covers the hand-off to the
 * isolate thread, building the request, the JS handler and the Response, the outbox messages
 * (head, chunk, end, done) and the wake-up of the caller; not the IPC socket or the node.
 * One invocation in flight at a time.
 *
 * <p>{@link #handoffBaseline} is the control: the same two thread hand-offs (a task queued to a
 * waiting platform thread, as {@code Isolate}'s event loop takes its tasks, and a future completed
 * back to the caller) with no V8 in between. What it costs is the machine's wake-up latency, not
 * Bulwark's.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 3, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xss8m"})
public class InvocationBench {

    /** Completes the current invocation's future at InvocationDone; checks the answer on the way. */
    static final class DoneOutbox implements Outbox {
        volatile long currentId;
        volatile CompletableFuture<Void> current;
        volatile int status;
        final CompletableFuture<Message> loaded = new CompletableFuture<>();

        @Override
        public void send(Message message) {
            switch (message) {
                case Message.WorkerLoaded m -> loaded.complete(m);
                case Message.WorkerLoadFailed m -> loaded.complete(m);
                case Message.ResponseHead m -> status = m.status();
                case Message.ResponseChunk m -> {
                    if (!"Hello World".equals(new String(m.data(), StandardCharsets.UTF_8))) {
                        fail("unexpected body chunk");
                    }
                }
                case Message.InvocationFailed m -> fail(m.code() + ": " + m.message());
                case Message.InvocationDone m -> {
                    if (m.invocationId() != currentId) {
                        fail("InvocationDone for " + m.invocationId() + ", expected " + currentId);
                    } else if (status != 200) {
                        fail("status " + status);
                    } else {
                        current.complete(null);
                    }
                }
                default -> { }
            }
        }

        private void fail(String why) {
            CompletableFuture<Void> f = current;
            if (f != null) f.completeExceptionally(new IllegalStateException(why));
        }
    }

    @State(Scope.Benchmark)
    public static class Warm {
        final DoneOutbox outbox = new DoneOutbox();
        final AtomicLong ids = new AtomicLong();
        SandboxRuntime runtime;

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            Bench.v8();
            runtime = new SandboxRuntime(Bench.SETTINGS, 2, 0, outbox);
            runtime.deliver(new Message.LoadWorker(1, "hello", Bench.helloBundle(), "{}", Limits.DEFAULTS));
            Message m = outbox.loaded.get(30, TimeUnit.SECONDS);
            if (!(m instanceof Message.WorkerLoaded)) throw new IllegalStateException("load failed: " + m);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            runtime.close();
        }
    }

    /** A platform thread that completes whatever future it is handed, like an isolate's event loop. */
    @State(Scope.Benchmark)
    public static class Echo {
        final java.util.concurrent.LinkedBlockingQueue<CompletableFuture<Void>> tasks =
                new java.util.concurrent.LinkedBlockingQueue<>();
        Thread thread;

        @Setup(Level.Trial)
        public void setUp() {
            thread = Thread.ofPlatform().name("echo").daemon(true).start(() -> {
                try {
                    while (true) tasks.take().complete(null);
                } catch (InterruptedException e) {
                    // done
                }
            });
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            thread.interrupt();
        }
    }

    @Benchmark
    public void handoffBaseline(Echo e) throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        e.tasks.add(done);
        done.get(10, TimeUnit.SECONDS);
    }

    @Benchmark
    public void fetchHello(Warm w) throws Exception {
        long id = w.ids.incrementAndGet();
        CompletableFuture<Void> done = new CompletableFuture<>();
        w.outbox.status = 0;
        w.outbox.current = done;
        w.outbox.currentId = id;
        w.runtime.deliver(Bench.helloFetch(id, "hello"));
        done.get(10, TimeUnit.SECONDS);
    }
}
