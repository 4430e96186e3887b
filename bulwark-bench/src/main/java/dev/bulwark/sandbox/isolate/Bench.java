package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.V8Host;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What the benchmarks share: where Javet's native library lives, the process-wide V8 settings
 * (those of a sandbox process with its defaults), the hello worker, and minimal
 * {@link SandboxServices} for driving {@link IsolatePool} and {@link Isolate} directly.
 */
final class Bench {
    /** A sandbox process's defaults: {@code --heap-mb 128} (SandboxMain), so the same V8 flags. */
    static final IsolateSettings SETTINGS = IsolateSettings.forHeap(128);

    static final String HELLO_SOURCE =
            "export default { fetch() { return new Response(\"Hello World\") } }";

    private static volatile boolean initialized;

    private Bench() {}

    /**
     * Loads the V8 library from one fixed directory ({@code -Dbulwark.bench.lib}, by default
     * {@code ${java.io.tmpdir}/bulwark-javet}) (and ICU data) instead of letting Javet extract 45 MB per JVM, and
     * applies the V8 flags. Idempotent; call before anything touches V8.
     */
    static synchronized V8Host v8() {
        if (!initialized) {
            String dir = System.getProperty("bulwark.bench.lib",
                    Path.of(System.getProperty("java.io.tmpdir"), "bulwark-javet").toString());
            try {
                NativeLibrary.useDirectory(Path.of(dir));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            IsolateSettings.apply(SETTINGS);
            // Experiments: -Dbulwark.bench.v8flags="--a --b" adds V8 flags to the sandbox's own.
            String extra = System.getProperty("bulwark.bench.v8flags", "").trim();
            if (!extra.isEmpty()) {
                var flags = com.caoccao.javet.interop.options.V8RuntimeOptions.V8_FLAGS;
                flags.setCustomFlags(flags.getCustomFlags() + " " + extra);
                System.out.println("extra V8 flags: " + extra);
            }
            initialized = true;
        }
        V8Host host = V8Host.getV8I18nInstance();
        V8Threads.init(); // carriers start from a thread with rights to V8's memory protection key
        return host;
    }

    static WorkerBundle helloBundle() {
        return WorkerBundle.of("index.js", List.of(WorkerModule.text("index.js", ModuleType.JS, HELLO_SOURCE)));
    }

    /** Services for isolates made outside a SandboxRuntime; tells who waits when an isolate is closed. */
    static final class Services implements SandboxServices {
        private final Outbox outbox;
        private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bench-timers");
            t.setDaemon(true);
            return t;
        });
        private final Subrequests subrequests = new Subrequests();
        private final SecureRandom random = new SecureRandom();
        private final Map<Isolate, CompletableFuture<Void>> closing = new ConcurrentHashMap<>();

        Services(Outbox outbox) {
            this.outbox = outbox;
        }

        Services() {
            this(message -> { });
        }

        @Override
        public ObjectStore objectStore() {
            return ObjectStore.NONE;
        }

        @Override
        public long objectIdleMs() {
            return SandboxRuntime.DEFAULT_OBJECT_IDLE_MS;
        }

        /** What isolates and pools are given. */
        SandboxServices services() {
            return this;
        }

        /** Completes once the isolate's thread has closed its V8 runtime. Call before {@code close()}. */
        CompletableFuture<Void> whenClosed(Isolate isolate) {
            return closing.computeIfAbsent(isolate, k -> new CompletableFuture<>());
        }

        /** Closes the isolate and waits until its runtime is gone. */
        void closeAndWait(Isolate isolate) {
            CompletableFuture<Void> done = whenClosed(isolate);
            isolate.close();
            try {
                done.get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("isolate did not close", e);
            }
        }

        @Override
        public Outbox outbox() {
            return outbox;
        }

        @Override
        public ScheduledExecutorService scheduler() {
            return scheduler;
        }

        private final Deadlines deadlines = new Deadlines("bench-deadlines");

        @Override
        public Deadlines deadlines() {
            return deadlines;
        }

        @Override
        public Subrequests subrequests() {
            return subrequests;
        }

        @Override
        public SecureRandom random() {
            return random;
        }

        @Override
        public void condemned(Isolate isolate) {
            isolate.close();
        }

        @Override
        public void closed(Isolate isolate) {
            CompletableFuture<Void> f = closing.remove(isolate);
            if (f != null) f.complete(null);
        }

        @Override
        public void fatal(String reason) {
            throw new IllegalStateException("fatal: " + reason);
        }

        void shutdown() {
            scheduler.shutdownNow();
            deadlines.close();
        }
    }

    /** A fresh pool of {@code size} (0: no background refill) over the prelude snapshot. */
    static IsolatePool pool(int size, Services services) throws JavetException {
        V8Host v8 = v8();
        return new IsolatePool(v8, IsolatePool.snapshot(v8), size, services.services());
    }

    /** A message for the hello worker, used by the invocation benchmark. */
    static Message.FetchStart helloFetch(long invocationId, String workerId) {
        return new Message.FetchStart(invocationId, workerId, "GET", "http://localhost/", List.of(), null);
    }
}
