package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Dormant workers in one sandbox runtime ({@link Dormancy}): a worker idle for 1 ms gives its
 * isolate back at the next sweep (every 50 ms), at most two keep isolates at once, and every event
 * still reaches a loaded worker, whenever it arrives.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DormancyTest {
    static final Recorder recorder = new Recorder();
    static SandboxRuntime runtime;

    static final String COUNTER = """
            let calls = 0;
            export default { fetch() { calls++; return new Response(String(calls)); } };
            """;

    @BeforeAll
    static void start() throws Exception {
        runtime = new SandboxRuntime(IsolateSettings.forHeap(Sandboxes.HEAP_MB), 1, 1, 0, ObjectStore.NONE,
                SandboxRuntime.DEFAULT_OBJECT_IDLE_MS, new Dormancy(1, 2), recorder);
        recorder.node = runtime::deliver;
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
    }

    static String load(String source) throws Exception {
        String id = "dormant" + Sandboxes.nextId();
        long correlation = Sandboxes.nextId();
        runtime.deliver(new Message.LoadWorker(correlation, id,
                WorkerBundle.of("index.js", List.of(WorkerModule.text("index.js", ModuleType.JS, source))), "{}", Limits.DEFAULTS));
        assertThat(recorder.load(correlation).get(30, TimeUnit.SECONDS)).isInstanceOf(Message.WorkerLoaded.class);
        return id;
    }

    static void awaitUntil(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - end).as("waited 30 s").isNegative();
            Thread.sleep(20);
        }
    }

    static Recorder.Outcome fetch(String worker) throws Exception {
        long id = Sandboxes.nextId();
        runtime.deliver(new Message.FetchStart(id, worker, "GET", "http://dormant.test/", List.of(), null));
        return recorder.await(id);
    }

    @Test
    void anIdleWorkerIsMadeAgainOnItsNextEventWithFreshModuleState() throws Exception {
        String w = load(COUNTER);
        assertThat(fetch(w).body()).isEqualTo("1");
        awaitUntil(() -> runtime.liveWorkers() == 0);
        Recorder.Outcome again = fetch(w);
        assertThat(again.failure()).isNull();
        assertThat(again.body()).isEqualTo("1");
    }

    @Test
    void eventsArrivingWhileTheIsolateIsGivenBackAreAllServed() throws Exception {
        String w = load(COUNTER);
        int fresh = 0;
        for (int i = 0; i < 150; i++) {
            // Around the sweep's period, so some arrive just as the isolate is being given back.
            Thread.sleep(ThreadLocalRandom.current().nextInt(0, 80));
            Recorder.Outcome o = fetch(w);
            assertThat(o.failure()).as("call %d", i).isNull();
            assertThat(o.status()).isEqualTo(200);
            if (o.body().equals("1")) fresh++;
        }
        System.out.println("DormancyTest: 150 calls, " + fresh + " found a freshly made isolate");
        assertThat(fresh).as("the worker went dormant between calls").isPositive();
    }

    @Test
    void concurrentEventsOnADormantWorkerShareTheIsolateMadeForThem() throws Exception {
        String w = load("""
                let calls = 0;
                export default { async fetch() { calls++; const n = calls; await new Promise(r => setTimeout(r, 20)); return new Response(String(n)); } };
                """);
        assertThat(fetch(w).body()).isEqualTo("1");
        awaitUntil(() -> runtime.liveWorkers() == 0);
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            long id = Sandboxes.nextId();
            ids.add(id);
            runtime.deliver(new Message.FetchStart(id, w, "GET", "http://dormant.test/", List.of(), null));
        }
        List<String> bodies = new ArrayList<>();
        for (long id : ids) bodies.add(recorder.await(id).body());
        // Dispatched together, before any could end: one isolate took them all, in order.
        assertThat(bodies).containsExactly("1", "2", "3", "4", "5", "6");
    }

    @Test
    void aWakeWhoseTopLevelCodeFailsFailsItsEventAndTheNextEventTriesAgain() throws Exception {
        // Top-level code that fails half the time: some wakes fail, and the worker is not stuck.
        String source = """
                if (Math.random() < 0.5) throw new Error("unlucky top level");
                export default { fetch() { return new Response("ok"); } };
                """;
        String w = null;
        while (w == null) {
            String id = "dormant" + Sandboxes.nextId();
            long correlation = Sandboxes.nextId();
            runtime.deliver(new Message.LoadWorker(correlation, id,
                    WorkerBundle.of("index.js", List.of(WorkerModule.text("index.js", ModuleType.JS, source))), "{}", Limits.DEFAULTS));
            if (recorder.load(correlation).get(30, TimeUnit.SECONDS) instanceof Message.WorkerLoaded) w = id;
            else runtime.deliver(new Message.UnloadWorker(id)); // as the node does with a failed load
        }
        boolean failedBefore = false, recovered = false;
        for (int i = 0; i < 60 && !recovered; i++) {
            awaitUntil(() -> runtime.liveWorkers() == 0);
            Recorder.Outcome o = fetch(w);
            if (o.failure() == null) {
                assertThat(o.body()).isEqualTo("ok");
                recovered = failedBefore;
            } else {
                assertThat(o.failure().code()).isEqualTo("worker_load_failed");
                assertThat(o.failure().message()).contains("unlucky top level");
                failedBefore = true;
            }
        }
        assertThat(recovered).as("a call after a failed wake made the worker again").isTrue();
    }

    @Test
    void pastTheLiveBudgetTheLeastRecentlyUsedIdleWorkersGoDormant() throws Exception {
        List<String> workers = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            String w = load(COUNTER);
            workers.add(w);
            assertThat(fetch(w).body()).isEqualTo("1");
        }
        awaitUntil(() -> runtime.liveWorkers() <= 2);
        for (String w : workers) assertThat(fetch(w).failure()).isNull();
    }
}
