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

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With no spare isolate, a load does not make one on the thread that delivers the node's messages:
 * the load waits for a pool thread, the delivering thread goes on, and the worker's later events
 * (calls, a cancel, its unload) are held behind its load in the order they came. The tests hold
 * the pool's lock while they deliver, so no pool thread can make an isolate meanwhile: had the
 * delivering thread made it, the isolate would exist before the lock is let go.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EmptyPoolLoadTest {
    static final Recorder recorder = new Recorder();
    static SandboxRuntime runtime;

    static final String COUNTER = """
            let calls = 0;
            export default {
              async fetch(request) {
                calls++;
                // A long timer, not a promise nothing settles: that one would be canceled as hung.
                if (new URL(request.url).pathname === "/hang") await scheduler.wait(60_000);
                return new Response(String(calls));
              }
            };
            """;

    @BeforeAll
    static void start() throws Exception {
        // The shared runtime first (its ids are used here): a runtime set up (V8's flags, the
        // snapshot) while another runtime's pool thread makes an isolate crashed libjavet in
        // createV8Runtime. One runtime per sandbox process in production; here they must not overlap.
        Sandboxes.nextId();
        // No spare isolates at all: every load and every wake waits for a pool thread.
        runtime = new SandboxRuntime(IsolateSettings.forHeap(Sandboxes.HEAP_MB), 0, 1, 0, recorder);
        recorder.node = runtime::deliver;
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
    }

    static Message.LoadWorker loadMessage(long correlation, String id, String source) {
        return new Message.LoadWorker(correlation, id,
                WorkerBundle.of("index.js", List.of(WorkerModule.text("index.js", ModuleType.JS, source))), "{}", Limits.DEFAULTS);
    }

    static Message.FetchStart fetch(long invocation, String worker, String path) {
        return new Message.FetchStart(invocation, worker, "GET", "http://empty.pool" + path, List.of(), null);
    }

    @Test
    void callsDeliveredRightAfterTheLoadRunInOrderOnTheIsolateAPoolThreadMade() throws Exception {
        String w = "held" + Sandboxes.nextId();
        long load = Sandboxes.nextId();
        List<Long> calls = new ArrayList<>();
        int liveBefore;
        synchronized (runtime.pool()) {
            liveBefore = runtime.liveWorkers();
            runtime.deliver(loadMessage(load, w, COUNTER));
            for (int i = 0; i < 6; i++) {
                long id = Sandboxes.nextId();
                calls.add(id);
                runtime.deliver(fetch(id, w, "/"));
            }
            // Every message was taken while no isolate could be made: the load waits in line.
            assertThat(runtime.pool().waiting()).isEqualTo(1);
            assertThat(recorder.load(load)).isNotDone();
        }
        assertThat(recorder.load(load).get(30, TimeUnit.SECONDS)).isInstanceOf(Message.WorkerLoaded.class);
        for (int i = 0; i < calls.size(); i++) {
            Recorder.Outcome o = recorder.await(calls.get(i));
            assertThat(o.failure()).isNull();
            assertThat(o.body()).as("call %d", i + 1).isEqualTo(String.valueOf(i + 1));
        }
        assertThat(runtime.liveWorkers()).isEqualTo(liveBefore + 1);
    }

    @Test
    void aCancelDeliveredWhileTheCallIsHeldReachesTheCall() throws Exception {
        String w = "cancel" + Sandboxes.nextId();
        long load = Sandboxes.nextId();
        long hanging = Sandboxes.nextId();
        long after = Sandboxes.nextId();
        synchronized (runtime.pool()) {
            runtime.deliver(loadMessage(load, w, COUNTER));
            runtime.deliver(fetch(hanging, w, "/hang"));
            runtime.deliver(new Message.Cancel(hanging, "client went away"));
            runtime.deliver(fetch(after, w, "/"));
        }
        Recorder.Outcome canceled = recorder.await(hanging);
        assertThat(canceled.failure()).isNotNull();
        assertThat(canceled.failure().code()).isEqualTo(ErrorCode.CANCELED.code());
        // The worker goes on serving: the call after the cancel is answered. (Whether the canceled
        // handler started before the cancel arrived is a race here as with a spare isolate.)
        Recorder.Outcome next = recorder.await(after);
        assertThat(next.failure()).isNull();
        assertThat(next.status()).isEqualTo(200);
    }

    @Test
    void aLoadErrorIsWhatTheCallsHeldBehindItAnswer() throws Exception {
        String w = "broken" + Sandboxes.nextId();
        long load = Sandboxes.nextId();
        long call = Sandboxes.nextId();
        synchronized (runtime.pool()) {
            runtime.deliver(loadMessage(load, w, "throw new Error('top level says no');"));
            runtime.deliver(fetch(call, w, "/"));
        }
        Message failed = recorder.load(load).get(30, TimeUnit.SECONDS);
        assertThat(failed).isInstanceOf(Message.WorkerLoadFailed.class);
        Recorder.Outcome o = recorder.await(call);
        assertThat(o.failure().code()).isEqualTo(ErrorCode.WORKER_LOAD_FAILED.code());
        assertThat(o.failure().message()).isEqualTo(((Message.WorkerLoadFailed) failed).message())
                .contains("top level says no");
    }

    @Test
    void anUnloadDeliveredBehindAHeldLoadComesAfterItAndTheCallsBeforeIt() throws Exception {
        String w = "unload" + Sandboxes.nextId();
        long load = Sandboxes.nextId();
        long call = Sandboxes.nextId();
        long late = Sandboxes.nextId();
        synchronized (runtime.pool()) {
            runtime.deliver(loadMessage(load, w, COUNTER));
            runtime.deliver(fetch(call, w, "/"));
            runtime.deliver(new Message.UnloadWorker(w));
            runtime.deliver(fetch(late, w, "/"));
        }
        // The late call came after the unload: the worker is gone for it at once.
        Recorder.Outcome gone = recorder.await(late);
        assertThat(gone.failure().code()).isEqualTo(ErrorCode.NOT_FOUND.code());
        // The load and the call before the unload still ran on the isolate made for them.
        assertThat(recorder.load(load).get(30, TimeUnit.SECONDS)).isInstanceOf(Message.WorkerLoaded.class);
        Recorder.Outcome first = recorder.await(call);
        assertThat(first.failure()).isNull();
        assertThat(first.body()).isEqualTo("1");
    }

    @Test
    void manyWorkersLoadedAtOnceWithNoSpareIsolateAllAnswer() throws Exception {
        List<String> workers = new ArrayList<>();
        List<Long> loads = new ArrayList<>();
        List<Long> calls = new ArrayList<>();
        synchronized (runtime.pool()) {
            for (int i = 0; i < 8; i++) {
                String w = "many" + Sandboxes.nextId();
                long load = Sandboxes.nextId();
                long call = Sandboxes.nextId();
                workers.add(w);
                loads.add(load);
                calls.add(call);
                runtime.deliver(loadMessage(load, w, COUNTER));
                runtime.deliver(fetch(call, w, "/"));
            }
            assertThat(runtime.pool().waiting()).isEqualTo(8);
        }
        for (int i = 0; i < 8; i++) {
            assertThat(recorder.load(loads.get(i)).get(30, TimeUnit.SECONDS)).isInstanceOf(Message.WorkerLoaded.class);
            assertThat(recorder.await(calls.get(i)).body()).isEqualTo("1");
        }
        for (String w : workers) runtime.deliver(new Message.UnloadWorker(w));
    }
}
