package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Limits;
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
 * Memory outside the V8 heap (typed arrays) is bounded by the sandbox's resident-size watchdog.
 * The shared in-process runtime runs without it, so this class makes a second runtime (same
 * process-wide V8 settings) whose soft RSS limit sits a fixed margin above the process's size now.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RssWatchdogTest {
    static final long MARGIN = 768L << 20;

    static final Recorder recorder = new Recorder();
    static SandboxRuntime runtime;
    static long limit;

    @BeforeAll
    static void start() throws Exception {
        limit = SandboxRuntime.residentBytes() + MARGIN;
        runtime = new SandboxRuntime(IsolateSettings.forHeap(Sandboxes.HEAP_MB), 1, limit, recorder);
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
    }

    static String load(String source, Limits limits) throws Exception {
        String id = "rss" + Sandboxes.nextId();
        long correlation = Sandboxes.nextId();
        runtime.deliver(new Message.LoadWorker(correlation, id,
                WorkerBundle.of("index.js", List.of(WorkerModule.text("index.js", ModuleType.JS, source))), "{}", limits));
        Message m = recorder.load(correlation).get(30, TimeUnit.SECONDS);
        assertThat(m).isInstanceOf(Message.WorkerLoaded.class);
        return id;
    }

    static Recorder.Outcome fetch(String worker, String url) throws Exception {
        long id = Sandboxes.nextId();
        runtime.deliver(new Message.FetchStart(id, worker, "GET", url, List.of(), null));
        return recorder.await(id);
    }

    @Test
    void aTypedArrayBombIsEndedByTheRssWatchdog() throws Exception {
        // Capped at 6 GiB so that a broken watchdog fails this test instead of exhausting the machine.
        String w = load("""
                export default {
                  async fetch(request) {
                    if (new URL(request.url).pathname === '/ok') return new Response('ok');
                    const keep = []; let total = 0;
                    while (total < 6 * 2 ** 30) {
                      const u = new Uint8Array(32 << 20);
                      u.fill(7);
                      keep.push(u);
                      total += u.length;
                    }
                    return new Response('allocated ' + total);
                  }
                };""", Sandboxes.limits(30_000, 50_000));
        Recorder.Outcome out = fetch(w, "http://rss.test/bomb");
        assertThat(out.failure()).as("%s", out).isNotNull();
        assertThat(out.failure().code()).isEqualTo(ErrorCode.MEMORY_LIMIT_EXCEEDED.code());

        // The terminated isolate is disposed and its memory returned; then the sandbox serves again.
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (SandboxRuntime.residentBytes() > limit && System.nanoTime() < end) Thread.sleep(50);
        assertThat(SandboxRuntime.residentBytes()).as("resident size after the bomb").isLessThan(limit);
        Recorder.Outcome after = fetch(w, "http://rss.test/ok");
        assertThat(after.failure()).as("%s", after).isNull();
        assertThat(after.body()).isEqualTo("ok");
    }
}
