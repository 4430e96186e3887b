package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An idle sandbox's watchdog sleeps instead of ticking, and whatever begins afterwards wakes it:
 * a runaway task started while it slept is still ended by its CPU limit. A runtime of its own, so
 * no other test's isolates keep its watchdog awake.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WatchdogSleepTest {
    static final Recorder recorder = new Recorder();
    static SandboxRuntime runtime;

    @BeforeAll
    static void start() throws Exception {
        runtime = new SandboxRuntime(IsolateSettings.forHeap(Sandboxes.HEAP_MB), 1, Long.MAX_VALUE, recorder);
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
    }

    static void awaitAsleep() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!runtime.watchdogAsleep()) {
            assertThat(System.nanoTime()).as("the watchdog fell asleep").isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    static String load(String source) throws Exception {
        String id = "wd" + Sandboxes.nextId();
        long correlation = Sandboxes.nextId();
        runtime.deliver(new Message.LoadWorker(correlation, id,
                WorkerBundle.of("index.js", List.of(WorkerModule.text("index.js", ModuleType.JS, source))), "{}",
                Sandboxes.limits(50, 600_000)));
        assertThat(recorder.load(correlation).get(30, TimeUnit.SECONDS)).isInstanceOf(Message.WorkerLoaded.class);
        return id;
    }

    @Test
    void anIdleWatchdogSleepsUntilATaskStartsAndThenEndsARunawayTask() throws Exception {
        String w = load("""
                export default {
                  async fetch(request) {
                    if (new URL(request.url).pathname === '/ok') return new Response('ok');
                    while (true) {}
                  }
                };""");
        awaitAsleep();
        long sleeps = runtime.watchdogSleeps();
        Thread.sleep(1_000); // an awake watchdog would tick ~200 times here and sleep again after 500 ms
        assertThat(runtime.watchdogAsleep()).isTrue();
        assertThat(runtime.watchdogSleeps()).as("no wake-up while nothing ran").isEqualTo(sleeps);

        // Started while the watchdog slept: only the task's start can wake it to end the loop.
        long id = Sandboxes.nextId();
        runtime.deliver(new Message.FetchStart(id, w, "GET", "http://wd.test/spin", List.of(), null));
        Recorder.Outcome out = recorder.await(id);
        assertThat(out.failure()).as("%s", out).isNotNull();
        assertThat(out.failure().code()).isEqualTo(ErrorCode.CPU_LIMIT_EXCEEDED.code());

        // It sleeps again once idle, and the sandbox still serves.
        awaitAsleep();
        assertThat(runtime.watchdogSleeps()).isGreaterThan(sleeps);
        long ok = Sandboxes.nextId();
        String w2 = load("export default { fetch() { return new Response('ok'); } };");
        runtime.deliver(new Message.FetchStart(ok, w2, "GET", "http://wd.test/ok", List.of(), null));
        assertThat(recorder.await(ok).status()).isEqualTo(200);
    }
}
