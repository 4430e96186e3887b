package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.enums.JavetPromiseRejectEvent;
import com.caoccao.javet.enums.V8AwaitMode;
import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.exceptions.JavetTerminatedException;
import com.caoccao.javet.interop.V8Runtime;
import com.caoccao.javet.interop.callback.IJavetDirectCallable;
import com.caoccao.javet.interop.callback.JavetCallbackContext;
import com.caoccao.javet.interop.callback.JavetCallbackType;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.primitive.V8ValueBoolean;
import com.caoccao.javet.values.reference.V8ValueFunction;
import com.caoccao.javet.values.reference.V8ValueArray;
import com.caoccao.javet.values.reference.V8ValueObject;
import com.caoccao.javet.values.reference.V8ValuePromise;
import com.caoccao.javet.values.reference.V8ValueTypedArray;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.isolate.crypto.CryptoHost;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.worker.Binding;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Limits;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One V8 isolate and its event loop over a queue of tasks (load, dispatch, timer, subrequest
 * completion), each tagged with the invocation it belongs to, so CPU time is charged to that
 * invocation and a finished invocation's late events are dropped. The loop has no thread of its
 * own: while it has tasks it runs on one of the process's {@link Carriers} ({@link TaskLoop}), so
 * an idle isolate costs its heap and no thread. "The isolate thread" below means the carrier
 * running the current task.
 *
 * <p>Once terminated (a limit was hit) an isolate is <em>condemned</em>: every invocation still in
 * it fails, the runtime is closed, and its worker gets a fresh isolate for the next request.
 */
public final class Isolate {
    /** JS runs only on platform threads with big stacks (see DESIGN.md). */
    static final long STACK_BYTES = 8L << 20;
    /** Active timers one isolate may hold; setTimeout past it throws. */
    static final int MAX_TIMERS = 10_000;
    static final int MAX_LOG_CHARS = 16 << 10;

    static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    /**
     * How long a durable object's blockConcurrencyWhile callback may keep its input gate shut before
     * the object is reset: Workers' 30 s. A system property of the sandbox JVM (an operator sets it
     * through {@code sandboxes.jvm_options}; tests shorten it).
     */
    private static final long GATE_TIMEOUT_MS = Math.max(1, Long.getLong("bulwark.objects.gateTimeoutMs", 30_000));

    final V8Runtime runtime;
    final SandboxServices services;
    /** Stops this isolate's JavaScript at its limits. */
    final Termination termination;
    private final List<JavetCallbackContext> callbacks = new ArrayList<>();
    private final V8ValueObject jsRuntime;
    /** The host functions, behind one V8 function (made by {@link #install}). */
    private final HostFunctions hostFunctions = new HostFunctions();
    /** dispatchFetch wrapped so that its settling reaches {@link #invocationDone}. */
    final V8ValueFunction dispatcher;
    /** The node's events, each made an invocation of this isolate and handed to the dispatcher, and the answers to them. */
    final EventDispatch events;
    /**
     * The prelude's {@code hostResult}: makes a call's answer {@code {status, statusText, headers:
     * [[name, value]...], body, url}} in one call (the headers as {@code "name\nvalue\n..."} lines).
     */
    private final V8ValueFunction hostResult;
    // When a turn leaves the queue empty, what earlier tasks left waiting in the socket's buffer leaves.
    private final TaskLoop<Task> tasks = new TaskLoop<>(Carriers.SHARED, this::step, this::idle);
    final Map<Long, Invocation> invocations = new ConcurrentHashMap<>();
    private final Map<Integer, Timer> timers = new ConcurrentHashMap<>();
    /** For messages: isolates have names, carriers run many of them. */
    final String name = "isolate-" + SEQUENCE.incrementAndGet();

    // Written by the isolate thread, read by the watchdog.
    volatile long currentInvocation;
    volatile long taskStartCpu;
    /** The carrier running the current task, whose CPU time the watchdog reads; set before inTask. */
    volatile Thread taskThread;
    volatile boolean inTask;
    /** Invocations that ended in the running task: their answers are in its held output. Isolate thread only. */
    private final List<Invocation> endedInTask = new ArrayList<>();
    volatile boolean condemned;
    /**
     * The invocation the running task belongs to, captured when the task starts: JavaScript of
     * an invocation that has just finished or been canceled (a microtask chain) is still charged
     * to it, and still stopped at its CPU limit.
     */
    volatile Invocation taskInvocation;
    /** Fails the running load when its isolate is abandoned (a builtin ignores termination); null when no load runs. */
    volatile Runnable loadAbandoned;
    /** Console lines of the worker's top-level code so far (shared by its isolates); null when no load runs. */
    private volatile AtomicInteger loadLogLines;
    /** CPU budget of the running load task (a worker's top-level code); MAX_VALUE when none runs. */
    volatile long loadCpuNanos = Long.MAX_VALUE;
    /** Counts tasks, so the memory watchdog knows when a new one started. */
    volatile long taskSequence;
    /**
     * Whether V8 told of a rejection with no handler, or of a handler added to a rejected promise,
     * since the prelude last reported them (global-scope.js keeps the promises; isolate thread only).
     */
    private boolean rejectionsNoted;
    /** The intrinsic TypeError, captured before any worker code can replace the global. */
    final V8ValueFunction intrinsicTypeError;
    /** The databases of the durable objects this isolate runs. */
    private final ObjectStorageHost storage;
    /** The sweep that evicts idle durable objects; started with the first object. */
    private ScheduledFuture<?> evictions;
    /** Calls out through the node: object stubs, dynamic workers, the loader. */
    private final OutboundCalls calls = new OutboundCalls(this);
    /** fetch() through the node's egress gateway, and the body streams of subrequests and calls. */
    private final EgressHost egress;
    /** Capabilities passed by reference: this isolate's import table and exports. */
    final CapabilityHost caps = new CapabilityHost(this);
    /** Compression streams and legacy text decoding (JDK-backed Web APIs). */
    private final WebApisHost webApis;
    /** Compacts the heap once the isolate has been idle for a while. */
    private final IdleReclaim idleReclaim;
    private final AtomicBoolean collectionQueued = new AtomicBoolean();
    private final AtomicBoolean hangRecheckQueued = new AtomicBoolean();
    /** What Date.now() answers during the running task (isolate thread only). */
    private long clockMs;

    // Set when a worker is loaded into this isolate (isolate thread only).
    LoadedWorker worker;
    /** The worker whose top-level code runs now, so its log lines carry its name (isolate thread only). */
    private String loadingWorkerId;
    /** Why the worker's top-level code failed in this isolate, for the events queued behind the load; null if it did not. */
    volatile String loadFailure;

    /**
     * The host functions that act for the current invocation. The prelude calls them with the
     * invocation of the running continuation's async context frame first (host.js): a promise
     * reaction runs as the invocation that made it, as workerd resumes it in the IoContext that
     * awaited, even when another invocation's task settled the promise ({@link #actingFor}).
     */
    private static final java.util.Set<String> OWNED = java.util.Set.of("log", "setTimer", "currentInvocation",
            "fetch", "subrequestAck", "subrequestBodyChunk", "subrequestBodyEnd", "subrequestCancel", "subrequestStartTls",
            "callObject", "callWorker", "loadDynamic", "rpcObject", "rpcWorker", "serviceCall", "serviceRpc",
            "capCall", "capFetch", "facetCall", "facetRpc", "facetControl", "zlibOpen");

    private record Task(long invocationId, JsAction action) {}

    /** Tasks of events held back while another event's transaction() holds their object (isolate thread). */
    private final List<Task> heldBack = new ArrayList<>();

    /** A timer of an invocation; registered before it is scheduled, so a short one cannot fire unseen. */
    private static final class Timer {
        final long invocationId;
        volatile ScheduledFuture<?> future;

        Timer(long invocationId) {
            this.invocationId = invocationId;
        }

        void cancel() {
            ScheduledFuture<?> f = future;
            if (f != null) f.cancel(false);
        }
    }

    @FunctionalInterface
    interface JsAction {
        void run() throws Exception;
    }

    Isolate(V8Runtime runtime, SandboxServices services) throws JavetException {
        this.runtime = runtime;
        this.services = services;
        this.termination = new Termination(this);
        runtime.allowEval(false);
        runtime.setNearHeapLimitCallback(termination::onNearHeapLimit);
        runtime.setPromiseRejectCallback(this::promiseRejectEvent);
        this.intrinsicTypeError = runtime.getGlobalObject().get("TypeError");
        this.storage = new ObjectStorageHost(runtime, services.objectStore(), this::currentInvocation);
        this.webApis = new WebApisHost(runtime, () -> currentInvocation);
        this.egress = new EgressHost(this);
        this.events = new EventDispatch(this);
        this.jsRuntime = install();
        this.dispatcher = dispatcher();
        this.hostResult = jsRuntime.get("hostResult");
        this.idleReclaim = new IdleReclaim(services.scheduler(), () -> taskSequence, invocations::isEmpty,
                r -> enqueue(0, r::run), this::reclaimIdle);
    }

    /**
     * The idle reclaim (a task of this isolate): V8's full, compacting GC; skipped for a worker's
     * isolate that holds only its code when dormancy gives it back soon anyway (a dynamic worker
     * used once would otherwise pay a full GC 5 s after its request and be closed 5 s later).
     */
    private void reclaimIdle() {
        if (worker != null && services.givesBackIdleWithin(IdleReclaim.IDLE_MS) && holdsOnlyCode()) return;
        runtime.lowMemoryNotification();
    }

    /** Nothing to start: the loop takes a carrier when its first task arrives. */
    void start() {
    }

    // ---------------------------------------------------------------- the event loop

    /** One task of the loop, on a carrier; false once the isolate is closed (the loop ends). */
    private boolean step(Task task) {
        if (task.action == null || condemned) { // poison (close()), or condemned while idle
            dispose();
            return false;
        }
        if (task.action == CHECK_HANGS) return true; // no JavaScript: the idle callback checks
        if (task.invocationId != 0) {
            Invocation inv = invocations.get(task.invocationId);
            if (inv == null || inv.isFinished()) return true;
            // Another event's async transaction() holds the object (a critical section, as workerd's
            // input gate): this event's task waits until it ends.
            if (storage.heldBack(task.invocationId)) {
                heldBack.add(task);
                return true;
            }
        }
        runTask(task);
        if (!heldBack.isEmpty()) releaseHeldBack();
        if (condemned) {
            dispose();
            return false;
        }
        return true;
    }

    /** Queues again, first and in their order, the held-back tasks whose object's transaction() ended. */
    private void releaseHeldBack() {
        List<Task> ready = new ArrayList<>();
        for (java.util.Iterator<Task> it = heldBack.iterator(); it.hasNext(); ) {
            Task t = it.next();
            if (storage.heldBack(t.invocationId)) continue;
            it.remove();
            ready.add(t);
        }
        for (int i = ready.size() - 1; i >= 0; i--) tasks.addFirst(ready.get(i));
    }

    private void idle() {
        // Once the queue is empty (also after tasks dropped unrun: their invocation had ended).
        if (!heldBack.isEmpty()) releaseHeldBack();
        detectHangs();
        services.outbox().idle();
    }

    private void runTask(Task task) {
        // Workers' clock: the time of the last I/O, i.e. when this task began; 0 in global scope.
        clockMs = task.invocationId == 0 ? 0 : Math.max(clockMs, System.currentTimeMillis());
        currentInvocation = task.invocationId;
        taskInvocation = task.invocationId == 0 ? null : invocations.get(task.invocationId);
        taskThread = Thread.currentThread();
        taskStartCpu = THREADS.getCurrentThreadCpuTime();
        taskSequence++;
        inTask = true;
        services.taskStarted(); // after inTask: a watchdog falling asleep sees the one or hears the other
        dev.bulwark.sandbox.trace.LatencyTrace.stamp("task.start", task.invocationId);
        try {
            task.action.run();
            dev.bulwark.sandbox.trace.LatencyTrace.stamp("task.ran", task.invocationId);
            runtime.await(V8AwaitMode.RunNoWait);
            dev.bulwark.sandbox.trace.LatencyTrace.stamp("task.microtasks", task.invocationId);
            reportUnhandledRejections();
            // While the task's output is still held: what it sends leaves after what the task said.
            endLingering();
        } catch (JavetTerminatedException e) {
            // handled below: the termination's reason is set by whoever terminated us
        } catch (VirtualMachineError e) {
            // The JVM itself is in trouble (out of memory, a stack overflow in Java): nothing in
            // this process can be trusted to go on. End the sandbox; the node replaces it.
            services.fatal(name + ": " + e);
        } catch (Throwable e) {
            if (!termination.requested()) {
                Invocation inv = invocations.get(task.invocationId);
                if (inv != null) {
                    inv.finish(ErrorCode.INTERNAL, "isolate task failed: " + e);
                    forget(inv);
                }
                log("error", "internal error in isolate task: " + e);
            }
        } finally {
            inTask = false;
            termination.taskEnded();
            long used = THREADS.getCurrentThreadCpuTime() - taskStartCpu;
            Invocation inv = invocations.get(task.invocationId);
            if (inv != null) inv.cpuNanos.addAndGet(used);
            currentInvocation = 0;
            taskInvocation = null;
            rejectionsNoted = false;
            // The output gate: what this task wrote is durable before anything it said leaves.
            // A commit that fails (the database is full, an I/O error) drops the held output: no
            // response may claim a write that is not on disk.
            List<ObjectStorageHost.LostCommit> lost = storage.commitTouched(outbox::send);
            if (!lost.isEmpty()) writesLost(task.invocationId, lost);
            endedInTask.clear();
            dev.bulwark.sandbox.trace.LatencyTrace.stamp("task.committed", task.invocationId);
            // A loop this flush makes runnable (a local callee, a caller's answer) runs next on this carrier.
            tasks.handingOver(services.outbox()::flush);
            dev.bulwark.sandbox.trace.LatencyTrace.stamp("task.flushed", task.invocationId);
        }
        if (termination.requested() || runtime.isDead()) {
            condemn(termination.reason() != null ? termination.reason() : ErrorCode.INTERNAL, termination.culprit());
        }
    }

    /** Ends the lingering invocations whose RPC calls have all been answered ({@link Invocation#lingering}). */
    private void endLingering() {
        for (Invocation inv : invocations.values()) {
            if (inv.lingering && inv.pendingRpc == 0) finish(inv, null, null);
        }
    }

    /**
     * workerd's hang detection, when the loop has run out of tasks ({@link HangRule} says which
     * invocations are hung): those are failed (500, workerd's message) instead of running to their
     * wall-clock limit, and the isolate checks again when the earliest grace runs out.
     */
    private void detectHangs() {
        // A task queued: nothing is hung now (the cheap way out of a busy isolate; read again below).
        if (condemned || worker == null || termination.requested() || !tasks.isEmpty()) return;
        HangRule.Verdict verdict = HangRule.judge(invocations.values(), caps::hasExports,
                () -> !tasks.isEmpty() || services.sockets().homesAt(this), System.nanoTime());
        for (Invocation inv : verdict.hung()) {
            long running = currentInvocation;
            currentInvocation = inv.id; // the line carries its request id
            log("error", "Uncaught Error: " + ErrorCode.WORKER_HUNG.description());
            currentInvocation = running;
            finish(inv, ErrorCode.WORKER_HUNG, ErrorCode.WORKER_HUNG.description());
        }
        // An empty task then, whose end checks again (at most one waits).
        if (verdict.recheckNanos() != Long.MAX_VALUE && hangRecheckQueued.compareAndSet(false, true)) {
            services.scheduler().schedule(() -> {
                hangRecheckQueued.set(false);
                checkHangsSoon();
            }, verdict.recheckNanos(), TimeUnit.NANOSECONDS);
        }
    }

    /**
     * Another hang check, from any thread: a task that runs nothing when none is queued (the loop
     * checks when it runs out of tasks).
     */
    void checkHangsSoon() {
        if (tasks.isEmpty()) enqueue(0, CHECK_HANGS);
    }

    /** A task that runs nothing: the loop's idle callback after it checks for hangs ({@link #step}). */
    private static final JsAction CHECK_HANGS = () -> {};

    /**
     * From here on the running task is charged to {@code host}: a call on a callback runs inside
     * the invocation that passed it ({@link EventDispatch}).
     */
    void runInside(Invocation host) {
        currentInvocation = host.id;
        taskInvocation = host;
    }

    /**
     * V8's promise rejection events go to the prelude, which keeps the promises: a rejection with
     * no handler, and a handler added to a rejected promise (the other two events are ignored).
     */
    private void promiseRejectEvent(JavetPromiseRejectEvent event, V8ValuePromise promise, V8Value value) {
        boolean rejected = event == JavetPromiseRejectEvent.PromiseRejectWithNoHandler;
        if ((!rejected && event != JavetPromiseRejectEvent.PromiseHandlerAddedAfterReject) || jsRuntime == null) return;
        try {
            if (rejected) jsRuntime.invokeVoid("promiseRejected", promise, value);
            else jsRuntime.invokeVoid("promiseHandled", promise);
            rejectionsNoted = true;
        } catch (JavetException e) {
            if (rejected) log("error", "Uncaught (in promise) " + HostValues.describe(value));
        }
    }

    /**
     * After the microtask checkpoint: the rejections still unhandled fire 'unhandledrejection' at
     * the global scope (logged unless a listener canceled it), a reported one handled since fires
     * 'rejectionhandled', and what the listeners queued runs, until no new rejection is left (a
     * listener that rejects forever is stopped by the CPU limit, like any loop).
     */
    private void reportUnhandledRejections() throws JavetException {
        while (rejectionsNoted) {
            fireRejectionEvents();
            runtime.await(V8AwaitMode.RunNoWait);
        }
    }

    /** A load that failed: its error says what threw, and the same rejection reported again would report one failure twice. */
    private void forgetRejections() {
        rejectionsNoted = false;
        try {
            jsRuntime.invokeVoid("forgetRejections");
        } catch (JavetException e) {
            // terminated: nothing runs in this isolate again
        }
    }

    private void fireRejectionEvents() throws JavetException {
        rejectionsNoted = false;
        jsRuntime.invokeVoid("reportRejections");
    }

    /**
     * What this isolate says goes through here: while a task runs on the isolate thread,
     * messages are held and flushed together when the task ends; from any other thread (the
     * deadline timer, the watchdog) they leave at once.
     */
    final Outbox outbox = new Outbox() {
        @Override
        public void send(Message message) {
            if (inTask && tasks.inLoop()) {
                services.outbox().sendLater(message);
            } else {
                services.outbox().send(message);
            }
        }
    };

    void enqueue(long invocationId, JsAction action) {
        if (condemned) return;
        tasks.add(new Task(invocationId, action));
    }

    // ---------------------------------------------------------------- loading

    /** Loads a worker into this (fresh) isolate; the callback runs on the isolate thread. */
    void load(String workerId, dev.bulwark.sandbox.worker.WorkerBundle bundle, String envJson,
              List<dev.bulwark.sandbox.worker.Binding> bindings, boolean networkAllowed, Limits limits,
              LoadCallback callback) {
        load(workerId, bundle, envJson, bindings, networkAllowed, limits, new AtomicInteger(), callback);
    }

    /**
     * Loads a worker into this (fresh) isolate; the callback runs on the isolate thread. Top-level
     * code runs under the request's CPU and wall-clock limits (past them the load fails), and its
     * console lines count against {@code topLevelLogLines}, which the worker's isolates share, so
     * a flood at top level is not repeated by every new isolate.
     */
    void load(String workerId, dev.bulwark.sandbox.worker.WorkerBundle bundle, String envJson,
              List<dev.bulwark.sandbox.worker.Binding> bindings, boolean networkAllowed, Limits limits,
              AtomicInteger topLevelLogLines, LoadCallback callback) {
        egress.networkAllowed = networkAllowed;
        storage.deleteAllDeletesAlarm = bundle.compatibility().deleteAllDeletesAlarm();
        // The outcome is reported once: by this task, or by the watchdog if the load is abandoned.
        AtomicBoolean reported = new AtomicBoolean();
        LoadCallback once = new LoadCallback() {
            @Override
            public void loaded(Isolate isolate) {
                if (reported.compareAndSet(false, true)) callback.loaded(isolate);
            }

            @Override
            public void failed(Isolate isolate, WorkerLoadException e) {
                if (reported.compareAndSet(false, true)) callback.failed(isolate, e);
            }
        };
        String topLevel = bundle.mainModule() + ": top-level code: ";
        Limits loadLimits = topLevelLimits(limits);
        enqueue(0, () -> {
            loadCpuNanos = loadLimits.cpuMs() * 1_000_000L;
            loadingWorkerId = workerId;
            loadLogLines = topLevelLogLines;
            loadAbandoned = () -> once.failed(this, new WorkerLoadException(termination.reason(),
                    topLevel + termination.limitMessage(termination.reason(), loadLimits)));
            // A load that blocks (Atomics.wait) uses no CPU: the wall clock ends it.
            ScheduledFuture<?> deadline = services.scheduler().schedule(() -> {
                if (inTask && currentInvocation == 0 && loadLogLines == topLevelLogLines) {
                    termination.request(ErrorCode.WALL_TIME_EXCEEDED, 0);
                }
            }, loadLimits.wallMs(), TimeUnit.MILLISECONDS);
            try {
                worker = ModuleLinker.link(runtime, jsRuntime, workerId, bundle, envJson, bindings);
                once.loaded(this);
            } catch (WorkerLoadException e) {
                // The load error names what threw; the same rejection logged again as "Uncaught (in
                // promise)" would report one failure twice.
                forgetRejections();
                ErrorCode reason = termination.reason();
                WorkerLoadException failure = reason == null ? e : new WorkerLoadException(reason, topLevel + termination.limitMessage(reason, loadLimits));
                loadFailure = failure.getMessage();
                once.failed(this, failure);
            } finally {
                loadAbandoned = null;
                deadline.cancel(false);
                loadCpuNanos = Long.MAX_VALUE;
                loadingWorkerId = null;
                loadLogLines = null;
            }
        });
    }

    /**
     * The limits top-level code runs under: the request's, with a wall clock of at most ten times
     * its CPU limit (at least 2 s). Top-level code can do no I/O, so only blocking (Atomics.wait)
     * outlasts that; a dynamic worker's load then fails well before its parent's own request, whose
     * wall clock it shares, so the parent catches a load error rather than timing out (branch rpcgaps).
     */
    static Limits topLevelLimits(Limits limits) {
        long wall = Math.min(limits.wallMs(), Math.max(2_000, Math.min(limits.cpuMs(), Long.MAX_VALUE / 10) * 10));
        return wall == limits.wallMs() ? limits : new Limits(limits.cpuMs(), wall, limits.heapMb(), limits.subrequests(),
                limits.codeBytes(), limits.envBytes(), limits.requestBodyBytes());
    }

    interface LoadCallback {
        void loaded(Isolate isolate);

        void failed(Isolate isolate, WorkerLoadException e);
    }

    // ---------------------------------------------------------------- invocations

    OutboundCalls outboundCalls() {
        return calls;
    }

    /** Registers an invocation and its deadline; null (and the invocation failed) if this isolate is condemned. */
    Invocation begin(long invocationId, String workerId, Limits limits) {
        Invocation inv = new Invocation(invocationId, workerId, limits, outbox, this::checkHangsSoon);
        if (condemned) {
            inv.finish(ErrorCode.ISOLATE_RESET, ErrorCode.ISOLATE_RESET.description());
            return null;
        }
        invocations.put(inv.id, inv);
        inv.deadline = services.deadlines().schedule(() -> onDeadline(inv), limits.wallMs());
        return inv;
    }

    /** The prelude's promise for an invocation settled: the invocation is over. */
    private V8Value invocationDone(V8Value[] args) {
        // Being terminated, a host call may have failed inside V8 with Javet's own error, which
        // the prelude then reports as the worker's: the limit that terminated it is the answer,
        // given when the task ends (condemn).
        if (termination.requested()) return undefined();
        // Its rejections are reported while it still runs, so their log lines carry its request.
        if (rejectionsNoted) {
            try {
                fireRejectionEvents();
            } catch (JavetException e) {
                log("error", "unhandled rejections could not be reported: " + e.getMessage());
            }
        }
        Invocation inv = invocations.get((long) HostValues.number(args, 0));
        dev.bulwark.sandbox.trace.LatencyTrace.stamp("js.invocationDone", inv == null ? 0 : inv.id);
        if (inv != null) {
            long now = THREADS.getCurrentThreadCpuTime();
            inv.cpuNanos.addAndGet(now - taskStartCpu);
            taskStartCpu = now;
            boolean ok = args.length > 1 && args[1] instanceof V8ValueBoolean b && b.getValue();
            if (ok && inv.rpcEvent && inv.pendingRpc > 0) {
                inv.lingering = true; // ends when they are answered (endLingering)
                return undefined();
            }
            finish(inv, ok ? null : ErrorCode.WORKER_THREW, ok ? null : HostValues.describe(args.length > 2 ? args[2] : null));
        }
        return undefined();
    }

    /** The object's storage handle for this event (its database opened if need be); starts the idle sweep. */
    int objectHandle(Address.DurableObject o, long invocationId) {
        int handle = storage.handleFor(o, invocationId);
        Invocation inv = invocations.get(invocationId);
        if (inv != null) inv.objectEvent = true;
        if (evictions == null) {
            long period = Math.max(50, services.objectIdleMs() / 2);
            evictions = services.scheduler().scheduleWithFixedDelay(() -> enqueue(0, this::evictIdleObjects),
                    period, period, TimeUnit.MILLISECONDS);
        }
        return handle;
    }

    /** Whether this isolate runs a durable object now. Isolate thread only. */
    boolean hostsObjects() {
        return storage.openObjects() > 0;
    }

    /** Whether an invocation is in flight in this isolate. */
    boolean owns(long invocationId) {
        return invocations.containsKey(invocationId);
    }

    /** The prelude's runtime object (its dispatch and stream callbacks). Isolate thread only. */
    V8ValueObject jsRuntime() {
        return jsRuntime;
    }

    private void onDeadline(Invocation inv) {
        if (inv.isFinished()) return;
        if (inv.lingering || inv.streaming) { // answered: what it still waits on is dropped, no limit was broken
            finishSoon(inv, null, null);
            return;
        }
        if (inTask && currentInvocation == inv.id) {
            termination.request(ErrorCode.WALL_TIME_EXCEEDED, inv.id);
        } else {
            finishSoon(inv, ErrorCode.WALL_TIME_EXCEEDED, termination.limitMessage(ErrorCode.WALL_TIME_EXCEEDED, inv.limits));
        }
    }

    /**
     * Ends an invocation from another thread (a timer, the node's reader) at the front of the task
     * queue: a task of it that is running now ends first and flushes what it said, so nothing of
     * the invocation can reach the node after its InvocationDone. A running task is bounded by its
     * CPU limit, so the wait is too.
     */
    private void finishSoon(Invocation inv, ErrorCode failure, String message) {
        if (condemned) {
            finish(inv, failure, message);
            return;
        }
        tasks.addFirst(new Task(0, () -> finish(inv, failure, message)));
    }

    void finish(Invocation inv, ErrorCode failure, String message) {
        Message limit = failure != null && LIMIT_NAMES.containsKey(failure)
                ? limitLine(inv.workerId, inv.id, LIMIT_NAMES.get(failure), message) : null;
        if (inv.finish(failure, message, limit)) forget(inv);
    }

    /** The name each limit kill is reported under ({@code bulwark tail} shows it as {@code limit}). */
    private static final Map<ErrorCode, String> LIMIT_NAMES = Map.of(ErrorCode.CPU_LIMIT_EXCEEDED, "cpu",
            ErrorCode.WALL_TIME_EXCEEDED, "wall_time", ErrorCode.MEMORY_LIMIT_EXCEEDED, "memory");

    /**
     * Counts one subrequest (a fetch, a call or an RPC) of {@code inv}; past the limit the first
     * refusal is logged as a limit kill, and every one throws.
     */
    void countSubrequest(Invocation inv) {
        int made = inv.subrequests.incrementAndGet();
        if (made > inv.limits.subrequests()) {
            if (made == inv.limits.subrequests() + 1) {
                outbox.send(limitLine(inv.workerId, inv.id, "subrequests",
                        "the worker exceeded its limit of " + inv.limits.subrequests() + " subrequests"));
            }
            throw new IllegalStateException("Too many subrequests: the limit is " + inv.limits.subrequests());
        }
    }

    /**
     * Tells the operator that a limit stopped a worker: one line of level {@link #LIMIT_LEVEL},
     * {@code "<limit>: <message>"}, outside the per-request log budget (a worker that logged its
     * budget away must still be reported). Worker code cannot write this level: console methods
     * have fixed levels.
     */
    private static Message.LogLine limitLine(String workerId, long invocationId, String limit, String message) {
        return new Message.LogLine(workerId, invocationId, LIMIT_LEVEL, limit + ": " + message, System.currentTimeMillis());
    }

    /** The log level of a limit kill (see {@link #limitLine}); the node's LogHub knows it too. */
    static final String LIMIT_LEVEL = "limit";

    private void forget(Invocation inv) {
        invocations.remove(inv.id);
        if (inTask && Thread.currentThread() == taskThread) endedInTask.add(inv);
        // Calls that ran inside it and are still waiting would continue in it: they fail now.
        List<Invocation> hosted = List.copyOf(inv.hosted);
        inv.hosted.clear();
        for (Invocation h : hosted) {
            if (!h.isFinished()) finish(h, ErrorCode.CANCELED, "The request that passed this RPC callback ended while the callback ran.");
        }
        for (Integer timerId : inv.timers) {
            Timer t = timers.remove(timerId);
            if (t != null) t.cancel();
        }
        for (Message cancel : services.subrequests().dropAll(inv.id)) outbox.send(cancel);
        webApis.invocationEnded(inv.id);
        storage.invocationEnded(inv.id);
        caps.invocationEnded(inv.id);
        if (invocations.isEmpty()) idleReclaim.becameIdle();
    }

    /**
     * Snapshots an object's database on this isolate's thread, as a task of its own: it runs
     * between the object's events, after the output gate committed the last one's writes.
     * {@code done} gets null or the reason it failed; it is not called if the isolate is condemned.
     */
    void snapshotObject(Address.DurableObject object, String fileName, java.util.function.Consumer<String> done) {
        enqueue(0, () -> done.accept(storage.snapshot(object, fileName)));
    }

    /**
     * Resets a facet on this isolate's thread, as a task of its own: its instance is dropped (its
     * running events fail with {@code reason}), its database closed and, if {@code delete}, removed.
     * {@code done} gets null or why it failed; it is not called if the isolate is condemned.
     */
    void resetFacet(Address.DurableObject object, String reason, boolean delete, java.util.function.Consumer<String> done) {
        enqueue(0, () -> {
            try {
                jsRuntime.invokeVoid("resetObject", runtime.createV8ValueString(object.className()),
                        runtime.createV8ValueString(object.objectId()),
                        reason == null ? runtime.createV8ValueNull() : runtime.createV8ValueString(reason));
            } catch (JavetException e) {
                // the instance stays until the database is gone: its next storage call fails
            }
            done.accept(storage.reset(object, delete));
        });
    }

    /**
     * Idle durable objects leave the isolate: their instance is dropped and their database closed
     * (a task of its own, so no event of theirs is running). Their next event constructs them again.
     */
    private void evictIdleObjects() throws JavetException {
        List<Address.DurableObject> evicted = storage.evictIdle(services.objectIdleMs(),
                o -> services.sockets().holdsOutbound(this, o.className(), o.objectId()));
        for (Address.DurableObject o : evicted) {
            jsRuntime.invokeVoid("evictObject", runtime.createV8ValueString(o.className()),
                    runtime.createV8ValueString(o.objectId()));
        }
        // One notice per sweep: the node may drop their placements (leaves at this task's flush,
        // before anything a later event of theirs says).
        LocalCalls local = services.localCalls();
        List<Address.DurableObject> forgotten = local == null ? evicted : local.evicted(evicted);
        if (!forgotten.isEmpty()) outbox.send(new Message.ObjectsEvicted(forgotten));
    }

    // ---------------------------------------------------------------- lifetime

    /**
     * Memory is short ({@link MemoryPressure}): collect this isolate's garbage (V8's low-memory
     * GC) as its next task, between its tasks; at most one such task waits at a time.
     */
    void collectGarbageSoon() {
        if (!collectionQueued.compareAndSet(false, true)) return;
        enqueue(0, () -> {
            collectionQueued.set(false);
            runtime.lowMemoryNotification();
        });
    }

    /**
     * Some of the task's writes did not commit (the object's database is full, an I/O error):
     * nothing the task said leaves, the invocations that ended in it and its own fail with why,
     * and each object whose commit failed is reset as {@code ctx.abort()} resets it (its JS state
     * may hold what was lost): its instance is dropped, its events still running fail, and its
     * next event constructs it again over its storage as of its last commit. The isolate, its
     * other objects and the sandbox go on. If an object cannot be reset alone, the isolate is.
     */
    private void writesLost(long culprit, List<ObjectStorageHost.LostCommit> lost) {
        services.outbox().discard();
        String message = "A durable object's writes could not be committed, so the object was reset: " + lost.getFirst().why();
        log("error", message);
        for (Invocation inv : endedInTask) inv.outputLost(ErrorCode.OBJECT_STORAGE_FAILED, message);
        // The task's own may have answered in the dropped output without ending (a streamed body).
        Invocation own = invocations.get(culprit);
        if (own != null && own.outputLost(ErrorCode.OBJECT_STORAGE_FAILED, message)) forget(own);
        try {
            for (ObjectStorageHost.LostCommit l : lost) {
                jsRuntime.invokeVoid("resetObject", runtime.createV8ValueString(l.object().className()),
                        runtime.createV8ValueString(l.object().objectId()), runtime.createV8ValueString(message));
            }
        } catch (JavetException | RuntimeException e) {
            for (Invocation inv : List.copyOf(invocations.values())) finish(inv, ErrorCode.OBJECT_STORAGE_FAILED, message);
            condemn(ErrorCode.ISOLATE_RESET, 0);
        }
    }

    void condemn(ErrorCode reason, long culprit) {
        if (condemned) return;
        condemned = true;
        for (Invocation inv : List.copyOf(invocations.values())) {
            if (inv.id == culprit) {
                finish(inv, reason, termination.limitMessage(reason, inv.limits));
            } else {
                finish(inv, ErrorCode.ISOLATE_RESET, ErrorCode.ISOLATE_RESET.description());
            }
        }
        for (Task t : tasks.queued()) {
            Invocation inv = invocations.get(t.invocationId);
            if (inv != null) finish(inv, ErrorCode.ISOLATE_RESET, ErrorCode.ISOLATE_RESET.description());
        }
        services.condemned(this);
    }

    /** Whether a task is running (what the watchdog must watch). */
    boolean isBusy() {
        return inTask;
    }

    boolean isCondemned() {
        return condemned;
    }

    /** The durable object invocation {@code invocationId} runs for here, or null. Isolate thread. */
    Address.DurableObject objectOf(long invocationId) {
        return storage.objectOf(invocationId);
    }

    int activeInvocations() {
        return invocations.size();
    }

    /**
     * Whether this isolate holds nothing beyond its worker's code and module state, so it may be
     * given back (a dormant worker, {@link Dormancy}): no invocation, no live durable object, no
     * export anyone holds a stub on, no WebSocket of a plain worker. Isolate thread only (a task).
     */
    boolean holdsOnlyCode() {
        return invocations.isEmpty() && storage.openObjects() == 0 && !caps.hasExports()
                && !services.sockets().homesAt(this);
    }

    /** Stops the loop after the queued tasks; the runtime is closed on the isolate's carrier. */
    void close() {
        tasks.add(new Task(0, null));
    }

    private void dispose() {
        tasks.release(); // closing the runtime takes a while: a kept hand-over goes to another carrier
        condemned = true;
        ScheduledFuture<?> sweep = evictions;
        if (sweep != null) sweep.cancel(false);
        for (Invocation inv : List.copyOf(invocations.values())) finish(inv, ErrorCode.ISOLATE_RESET, "isolate closed");
        for (Timer t : timers.values()) t.cancel();
        timers.clear();
        webApis.close();
        try {
            if (worker != null) worker.close();
            storage.close();
            dispatcher.close();
            hostResult.close();
            intrinsicTypeError.close();
            jsRuntime.close();
            for (JavetCallbackContext c : callbacks) runtime.removeCallbackContext(c.getHandle());
            runtime.close();
        } catch (Exception e) {
            // The isolate is gone either way.
        }
        services.closed(this);
    }

    // ---------------------------------------------------------------- host functions

    private V8ValueObject install() throws JavetException {
        try (V8ValueObject host = runtime.createV8ValueObject()) {
            bind("log", args -> {
                log(HostValues.string(args, 0), HostValues.string(args, 1));
                return undefined();
            });
            bind("randomBytes", args -> {
                int n = HostValues.integer(args, 0);
                if (n < 0 || n > 65_536) throw new IllegalArgumentException("randomBytes: bad length " + n);
                byte[] b = new byte[n];
                services.random().nextBytes(b);
                return bytes(b);
            });
            bind("crypto", new CryptoHost(runtime, services.random())::call);
            bind("setTimer", args -> {
                setTimer(HostValues.integer(args, 0), Math.max(0, (long) HostValues.number(args, 1)));
                return undefined();
            });
            bind("clearTimer", args -> {
                Timer t = timers.remove(HostValues.integer(args, 0));
                if (t != null) {
                    t.cancel();
                    Invocation inv = invocations.get(t.invocationId);
                    if (inv != null) inv.timers.remove(HostValues.integer(args, 0));
                }
                return undefined();
            });
            events.install(this::bind);
            bind("currentInvocation", args -> runtime.createV8ValueLong(currentInvocation));
            egress.install(this::bind);
            bind("objectId", calls::objectId);
            bind("callObject", calls::callObject);
            bind("callWorker", calls::callWorker);
            bind("loadDynamic", calls::loadDynamic);
            bind("rpcObject", calls::rpcObject);
            bind("rpcWorker", calls::rpcWorker);
            calls.serviceCalls.install(this::bind);
            new FacetHost(calls).install(this::bind);
            bind("capCall", caps::capCall);
            bind("capFetch", caps::capFetch);
            bind("capRelease", caps::capRelease);
            bind("capRevoke", caps::capRevoke);
            bind("sqlExec", storage::sqlExec);
            bind("sqlText", storage::sqlText);
            bind("sqlBuffer", storage::sqlBuffer);
            bind("kvGet", storage::kvGet);
            bind("kvPut", storage::kvPut);
            bind("kvDelete", storage::kvDelete);
            bind("kvList", storage::kvList);
            bind("storageOp", storage::storageOp);
            webApis.install(this::bind);
            PreludeParts.install(runtime, this::bind);
            NodeCryptoHost.install(runtime, this::bind);
            AsyncContextHost.install(runtime, host);
            bind("domainToAscii", args -> {
                String ascii = Idna.domainToAscii(HostValues.string(args, 0));
                return ascii == null ? runtime.createV8ValueNull() : runtime.createV8ValueString(ascii);
            });
            bind("now", args -> runtime.createV8ValueDouble(clockMs));
            bind("gateTimeoutMs", args -> runtime.createV8ValueDouble(GATE_TIMEOUT_MS));
            bind("promiseState", this::promiseState);
            new SocketHost(runtime, outbox, services.sockets(), this, () -> worker == null ? "" : worker.workerId())
                    .install(this::bind);
            bindOwn(host, "sqlRun", storage::sqlExec);
            callbacks.add(hostFunctions.install(runtime, host));
            try (V8ValueFunction installer = runtime.getGlobalObject().get("__bulwark_install")) {
                return installer.call(null, host);
            }
        }
    }

    private V8ValueFunction dispatcher() throws JavetException {
        JavetCallbackContext ctx = new JavetCallbackContext("invocationDone", JavetCallbackType.DirectCallNoThisAndResult,
                (IJavetDirectCallable.NoThisAndResult<Exception>) this::invocationDone);
        callbacks.add(ctx);
        // The prelude's makeDispatcher holds the intrinsic then (captured in the snapshot), so a
        // worker that replaces Promise.prototype.then cannot keep its invocations open.
        try (V8ValueFunction done = runtime.createV8ValueFunction(ctx)) {
            return jsRuntime.invoke("makeDispatcher", done);
        }
    }

    private void bind(String name, IJavetDirectCallable.NoThisAndResult<Exception> fn)
            throws JavetException {
        IJavetDirectCallable.NoThisAndResult<Exception> guarded = guard(name, fn);
        boolean owned = OWNED.contains(name);
        hostFunctions.add(name, HostCallCounts.wrap(name, owned ? args -> actingFor(args, guarded) : guarded), owned);
    }

    /**
     * A host function as a V8 function of its own on {@code host} instead of an index of
     * {@code hostCall}, for the one call per {@code sql.exec} (the prelude's {@code H.sqlRun}): the
     * index would be an argument, which Javet makes into a Java object with an up-call and an
     * argument array on every call.
     */
    private void bindOwn(V8ValueObject host, String name, IJavetDirectCallable.NoThisAndResult<Exception> fn)
            throws JavetException {
        JavetCallbackContext ctx = new JavetCallbackContext(name, JavetCallbackType.DirectCallNoThisAndResult,
                HostCallCounts.wrap(name, guard(name, fn)));
        callbacks.add(ctx);
        try (V8ValueFunction f = runtime.createV8ValueFunction(ctx)) {
            host.set(name, f);
        }
    }

    private IJavetDirectCallable.NoThisAndResult<Exception> guard(String name, IJavetDirectCallable.NoThisAndResult<Exception> fn) {
        // Javet turns what a callback throws into a JavaScript error; a VirtualMachineError must
        // not become one the worker can catch: it ends the sandbox (the node replaces it).
        // Trace point names, made only when the trace is on (install() runs per isolate).
        String enter = dev.bulwark.sandbox.trace.LatencyTrace.ON ? "host>" + name : null;
        String leave = dev.bulwark.sandbox.trace.LatencyTrace.ON ? "host<" + name : null;
        IJavetDirectCallable.NoThisAndResult<Exception> guarded = args -> {
            try {
                if (!dev.bulwark.sandbox.trace.LatencyTrace.ON) return fn.call(args);
                dev.bulwark.sandbox.trace.LatencyTrace.stamp(enter, 0);
                V8Value result = fn.call(args);
                dev.bulwark.sandbox.trace.LatencyTrace.stamp(leave, 0);
                return result;
            } catch (VirtualMachineError e) {
                services.fatal("host function " + name + ": " + e);
                throw e;
            } catch (Exception e) {
                // Terminated while in here (a limit was hit): a host call into V8 fails with "execution
                // is terminated". Thrown on, that error would reach the worker as a catchable one and
                // hide the termination; returning lets V8 go on unwinding the termination instead.
                if (termination.requested()) return runtime.createV8ValueUndefined();
                throw e;
            }
        };
        return guarded;
    }

    /**
     * Calls an owned host function ({@link #OWNED}) as the invocation {@code args[0]} names, the
     * frame's: when it is another live invocation than the task's, the call acts for it (its
     * timers, calls, log lines), and the task's comes back after. A frame of no invocation, or of
     * one that has ended, leaves the task's: a durable object's promise made by an earlier event
     * goes on as before in the event that runs it.
     */
    private V8Value actingFor(V8Value[] args, IJavetDirectCallable.NoThisAndResult<Exception> fn) throws Exception {
        long frame = (long) HostValues.number(args, 0);
        V8Value[] rest = java.util.Arrays.copyOfRange(args, Math.min(1, args.length), args.length);
        long own = currentInvocation;
        if (frame == 0 || frame == own) return fn.call(rest);
        Invocation inv = invocations.get(frame);
        if (inv == null || inv.isFinished()) return fn.call(rest);
        currentInvocation = frame;
        try {
            return fn.call(rest);
        } finally {
            currentInvocation = own;
        }
    }

    /**
     * What console.log and util.inspect show of a promise, as Node and workerd do: [0] pending,
     * [1, value] fulfilled, [2, reason] rejected; undefined for anything but a promise.
     */
    private V8Value promiseState(V8Value[] args) throws JavetException {
        if (args.length == 0 || !(args[0] instanceof V8ValuePromise promise)) return undefined();
        int state = promise.getState();
        V8ValueArray out = runtime.createV8ValueArray();
        out.push(runtime.createV8ValueInteger(state));
        if (state != V8ValuePromise.STATE_PENDING) {
            try (V8Value result = promise.getResult()) {
                out.push(result);
            }
        }
        return out;
    }

    private void setTimer(int id, long delayMs) {
        long owner = currentInvocation;
        Invocation inv = invocations.get(owner);
        if (inv == null) {
            throw new IllegalStateException(
                    "Disallowed operation called within global scope: timers can only be set while handling a request");
        }
        if (timers.size() >= MAX_TIMERS) {
            throw new IllegalStateException("too many timers: an isolate may hold at most " + MAX_TIMERS);
        }
        Timer timer = new Timer(owner);
        Timer previous = timers.put(id, timer);
        if (previous != null) previous.cancel();
        inv.timers.add(id);
        timer.future = services.scheduler().schedule(() -> {
            // Counted while it moves from the timers to the queue (Invocation.outstanding).
            inv.outstanding.up();
            try {
                if (!timers.remove(id, timer)) return;
                inv.timers.remove(id);
                enqueue(owner, () -> jsRuntime.invokeVoid("fireTimer", id));
            } finally {
                inv.outstanding.down();
            }
        }, delayMs, TimeUnit.MILLISECONDS);
    }

    /** The invocation whose task is running (0: none). */
    long currentInvocation() {
        return currentInvocation;
    }

    /** A response as the prelude's {@code responseInternals.fromHost} takes it. */
    V8ValueObject hostResponse(int status, String statusText, List<Message.Header> headers, byte[] body,
                                       String url) throws JavetException {
        try (V8Value b = body == null ? runtime.createV8ValueNull() : bytes(body)) {
            return hostResult.call(null, runtime.createV8ValueInteger(status),
                    runtime.createV8ValueString(statusText == null ? "" : statusText),
                    runtime.createV8ValueString(HostValues.headerLines(headers)), b, runtime.createV8ValueString(url == null ? "" : url));
        }
    }

    void log(String level, String message) {
        long invId = currentInvocation;
        // Lines are counted against the invocation whose task is running, also after its response
        // (a detached promise chain), and top-level lines against the worker's top-level budget.
        Invocation inv = tasks.inLoop() && taskInvocation != null ? taskInvocation : invocations.get(invId);
        AtomicInteger counter = inv != null ? inv.logLines : invId == 0 ? loadLogLines : null;
        if (counter != null) {
            int n = counter.incrementAndGet();
            if (n > Invocation.MAX_LOG_LINES) {
                if (n == Invocation.MAX_LOG_LINES + 1) {
                    message = inv != null ? "log limit reached: further console output of this request is dropped"
                            : "log limit reached: further console output of this worker's top-level code is dropped";
                    level = "warn";
                } else {
                    return;
                }
            }
        }
        if (message != null && message.length() > MAX_LOG_CHARS) {
            message = message.substring(0, MAX_LOG_CHARS) + "… (truncated)";
        }
        String workerId = worker != null ? worker.workerId() : loadingWorkerId != null ? loadingWorkerId : "";
        outbox.send(new Message.LogLine(workerId, invId, level, message, System.currentTimeMillis()));
    }

    // ---------------------------------------------------------------- value helpers

    private V8Value undefined() {
        return runtime.createV8ValueUndefined();
    }

    V8ValueTypedArray bytes(byte[] b) throws JavetException {
        return HostValues.bytes(runtime, b);
    }
}
