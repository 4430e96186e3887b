package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One in-process sandbox runtime shared by the tests of this module (V8's flags are per process,
 * so every test runs under the same heap cap).
 */
final class Sandboxes {
    static final int HEAP_MB = 64;
    static final Recorder RECORDER = new Recorder();
    static final SandboxRuntime RUNTIME;
    private static final AtomicLong IDS = new AtomicLong(1000);

    static {
        try {
            RUNTIME = new SandboxRuntime(IsolateSettings.forHeap(HEAP_MB), 2, 0, RECORDER);
            RECORDER.node = RUNTIME::deliver;
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private Sandboxes() {}

    static long nextId() {
        return IDS.incrementAndGet();
    }

    static WorkerBundle bundle(String mainSource, WorkerModule... others) {
        List<WorkerModule> modules = new java.util.ArrayList<>();
        modules.add(WorkerModule.text("index.js", ModuleType.JS, mainSource));
        modules.addAll(List.of(others));
        return WorkerBundle.of("index.js", modules);
    }

    /** Loads a worker under a fresh id; returns the id, or throws with the load failure. */
    static String load(WorkerBundle bundle, Limits limits) throws Exception {
        return load(bundle, "{}", limits);
    }

    static String load(WorkerBundle bundle, String env, Limits limits) throws Exception {
        String id = "w" + nextId();
        long correlation = nextId();
        RUNTIME.deliver(new Message.LoadWorker(correlation, id, bundle, env, limits));
        Message m = RECORDER.load(correlation).get(30, java.util.concurrent.TimeUnit.SECONDS);
        if (m instanceof Message.WorkerLoadFailed f) throw new AssertionError("load failed: " + f.code() + ": " + f.message());
        return id;
    }

    static Message loadResult(WorkerBundle bundle, Limits limits) throws Exception {
        return loadResult(bundle, "{}", limits);
    }

    static Message loadResult(WorkerBundle bundle, String env, Limits limits) throws Exception {
        long correlation = nextId();
        RUNTIME.deliver(new Message.LoadWorker(correlation, "w" + nextId(), bundle, env, limits));
        return RECORDER.load(correlation).get(30, java.util.concurrent.TimeUnit.SECONDS);
    }

    static long start(String workerId, String method, String url, byte[] body) {
        return start(workerId, method, url, List.of(), body);
    }

    static long start(String workerId, String method, String url, List<Message.Header> headers, byte[] body) {
        long id = nextId();
        RUNTIME.deliver(new Message.FetchStart(id, workerId, method, url, headers, body));
        return id;
    }

    /** The default limits with another CPU and wall-clock budget. */
    static Limits limits(long cpuMs, long wallMs) {
        Limits d = Limits.DEFAULTS;
        return new Limits(cpuMs, wallMs, d.heapMb(), d.subrequests(), d.codeBytes(), d.envBytes(), d.requestBodyBytes());
    }

    static WorkerModule module(String name, ModuleType type, String source) {
        return WorkerModule.text(name, type, source);
    }

    static Recorder.Outcome fetch(String workerId, String url) throws Exception {
        return RECORDER.await(start(workerId, "GET", url, null));
    }
}
