package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.V8Host;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Binding;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.WorkerBundle;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Everything that runs inside one sandbox: the workers loaded into it, their isolates, the
 * isolate pool, timers and the watchdog that enforces CPU and memory limits. It speaks the
 * node-sandbox protocol: {@link #deliver} takes the node's messages, the {@link Outbox} carries
 * the answers. The sandbox process wraps it around a socket; trusted in-process use wraps it
 * around nothing at all.
 */
public final class SandboxRuntime implements IsolateHost, SandboxServices {
    /** How often the watchdog looks at running isolates. */
    static final long WATCHDOG_TICK_MS = 2;
    /** How often it looks while no isolate runs a task. */
    static final long WATCHDOG_IDLE_MS = 5;
    /** How often it measures the process's memory while a task runs. */
    static final long MEMORY_CHECK_MS = 10;
    /** How long it ticks with nothing to watch before it sleeps until something begins. */
    static final long WATCHDOG_QUIET_MS = 500;

    private final Outbox outbox;
    private final LocalCalls local;
    private final ObjectStore objectStore;
    private final long objectIdleMs;
    private final MemoryPressure pressure;
    private final int isolatesPerWorker;
    private final long memoryGrowthLimitBytes;
    private final ScheduledExecutorService scheduler;
    private final Deadlines deadlines;
    private final Subrequests subrequests = new Subrequests();
    private final SecureRandom random = new SecureRandom();
    private final IsolatePool pool;
    private final Map<String, WorkerSlot> workers = new ConcurrentHashMap<>();
    /** Invocations whose start is held behind an isolate being made for their worker, and that worker. */
    private final Map<Long, WorkerSlot> held = new ConcurrentHashMap<>();
    private final Set<Isolate> live = ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.atomic.AtomicLong sleeps = new java.util.concurrent.atomic.AtomicLong();
    private final WatchdogBell bell = WatchdogBell.open();
    private final SocketRegistry sockets = new SocketRegistry();
    private final Thread watchdog;
    private final Dormancy dormancy;
    /** Where dormancy's sweeps run; null when it is off. */
    private final ScheduledExecutorService sweeper;
    private volatile boolean closed;

    /**
     * @param settings          process-wide V8 settings (heap cap, Wasm pages)
     * @param poolSize          isolates kept ready
     * @param rssSoftLimitBytes above this resident size, running JavaScript is terminated (0: off)
     * @param outbox            where answers go
     */
    public SandboxRuntime(IsolateSettings settings, int poolSize, long rssSoftLimitBytes, Outbox outbox)
            throws JavetException {
        this(settings, poolSize, 1, rssSoftLimitBytes, outbox);
    }

    /**
     * @param isolatesPerWorker isolates that serve one worker side by side (requests go to the least busy)
     */
    public SandboxRuntime(IsolateSettings settings, int poolSize, int isolatesPerWorker, long rssSoftLimitBytes,
                          Outbox outbox) throws JavetException {
        this(settings, poolSize, isolatesPerWorker, rssSoftLimitBytes, ObjectStore.NONE, DEFAULT_OBJECT_IDLE_MS, outbox);
    }

    /** As workerd: an object idle for about ten seconds is evicted. */
    public static final long DEFAULT_OBJECT_IDLE_MS = 10_000;

    /**
     * @param objectStore  where the durable objects this sandbox runs keep their data
     * @param objectIdleMs a durable object with no event for this long leaves its isolate
     */
    public SandboxRuntime(IsolateSettings settings, int poolSize, int isolatesPerWorker, long rssSoftLimitBytes,
                          ObjectStore objectStore, long objectIdleMs, Outbox outbox) throws JavetException {
        this(settings, poolSize, isolatesPerWorker, rssSoftLimitBytes, objectStore, objectIdleMs, Dormancy.OFF, outbox);
    }

    /**
     * @param dormancy when loaded workers give their isolates back and keep their code (the
     *                 sandboxes for generated code); {@link Dormancy#OFF} for the others
     */
    public SandboxRuntime(IsolateSettings settings, int poolSize, int isolatesPerWorker, long rssSoftLimitBytes,
                          ObjectStore objectStore, long objectIdleMs, Dormancy dormancy, Outbox outbox)
            throws JavetException {
        this.objectIdleMs = objectIdleMs;
        this.dormancy = dormancy;
        if (isolatesPerWorker < 1) throw new IllegalArgumentException("isolatesPerWorker must be at least 1");
        this.objectStore = objectStore;
        this.isolatesPerWorker = isolatesPerWorker;
        IsolateSettings.apply(settings);
        this.local = new LocalCalls(RpcPieces.splitting(outbox), this::deliver, subrequests);
        this.outbox = local.outbox;
        this.pressure = new MemoryPressure(rssSoftLimitBytes, new MemoryPressure.Reclaimer() {
            @Override
            public void collectIsolates() {
                for (Isolate i : live) i.collectGarbageSoon();
            }

            @Override
            public long trimAndMeasure() {
                MallocTrim.trim();
                return residentBytes();
            }
        });
        ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "sandbox-timers");
            t.setDaemon(true);
            return t;
        });
        // A worker that sets and clears 10,000 timers must not leave 10,000 futures queued.
        timers.setRemoveOnCancelPolicy(true);
        this.scheduler = timers;
        this.deadlines = new Deadlines("sandbox-deadlines");
        // A task may grow the process by its heap plus as much again outside the heap (typed arrays).
        this.memoryGrowthLimitBytes = 2L * settings.heapMb() << 20;
        V8Host v8 = V8Host.getV8I18nInstance();
        V8Threads.init(); // carriers start from here on (V8's memory protection key: see V8Threads)
        byte[] snapshot = IsolatePool.snapshot(v8);
        this.pool = new IsolatePool(v8, snapshot, poolSize, this);
        this.watchdog = Thread.ofPlatform().name("sandbox-watchdog").daemon(true).start(this::watch);
        // A thread of its own: a sweep may wait for a worker's lock while an isolate is made under
        // it, and must not delay the timers of every isolate meanwhile.
        this.sweeper = dormancy.enabled() ? new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "sandbox-dormancy");
            t.setDaemon(true);
            return t;
        }) : null;
        if (sweeper != null) {
            sweeper.scheduleWithFixedDelay(this::sweep, dormancy.sweepMs(), dormancy.sweepMs(), TimeUnit.MILLISECONDS);
        }
    }

    /** Isolates closed since the arenas were last trimmed. */
    private final java.util.concurrent.atomic.AtomicBoolean closedSinceTrim = new java.util.concurrent.atomic.AtomicBoolean();
    /** Closed isolates' Java objects, promoted garbage, collected before they spread over the old generation. */
    private final HeapReclaim heapReclaim = HeapReclaim.forThisJvm();

    /**
     * Dormancy's sweep; then, if isolates were closed since the last one, the Java heap's old
     * generation is collected when enough was promoted ({@link HeapReclaim}) and malloc's free
     * pages go back to the OS (a closed isolate's memory otherwise stays in the process as free chunks).
     */
    private void sweep() {
        dormancy.sweep(workers.values(), System.nanoTime());
        if (closedSinceTrim.getAndSet(false)) {
            heapReclaim.check();
            MallocTrim.trim();
            if (MEMORY_LOG) logMemory();
        }
    }

    /** Opt-in (-Dbulwark.sandbox.memoryLog=true): one line per trimming sweep on stderr, for measurements. */
    private static final boolean MEMORY_LOG = Boolean.getBoolean("bulwark.sandbox.memoryLog");
    private final java.util.concurrent.atomic.AtomicLong isolatesClosed = new java.util.concurrent.atomic.AtomicLong();

    private void logMemory() {
        long[] malloc = MallocTrim.inUseAndArenaBytes();
        HeapReclaim.OldGeneration old = HeapReclaim.oldGeneration();
        System.err.println("bulwark sandbox: memory: isolates_closed=" + isolatesClosed.get() + " workers=" + workers.size()
                + " rss_kb=" + (residentBytes() >> 10) + " malloc_in_use_kb=" + (malloc == null ? -1 : malloc[0] >> 10)
                + " malloc_arena_kb=" + (malloc == null ? -1 : malloc[1] >> 10) + " old_gen_used_kb=" + (old.used() >> 10)
                + " heap_collections=" + heapReclaim.collections());
    }

    /** Full collections the sweeps asked for; tests. */
    long heapCollections() {
        return heapReclaim.collections();
    }

    /** Past the live budget, the least recently used idle workers give their isolates back (off the caller's thread). */
    private void capLive() {
        if (sweeper == null || dormancy.liveMax() == Integer.MAX_VALUE || closed) return;
        try {
            sweeper.execute(() -> dormancy.capLive(workers.values()));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    // ---------------------------------------------------------------- the protocol

    @Override
    public void deliver(Message message) {
        switch (message) {
            case Message.LoadWorker m -> load(m);
            case Message.FetchStart m -> {
                local.delivered(m.invocationId(), m.target());
                fetch(m);
            }
            case Message.RpcStart m -> {
                local.delivered(m.invocationId(), m.target());
                rpc(m);
            }
            case Message.AlarmStart m -> {
                local.delivered(m.invocationId(), m.target());
                alarm(m);
            }
            case Message.TailStart m -> tail(m);
            case Message.CapStart m -> capStart(m);
            case Message.ExportDrop m -> {
                for (long id : m.exportIds()) {
                    CapExports.Export e = capExports().remove(id);
                    if (e != null) e.isolate().events.dropExport(e.localId(), e.invocation());
                }
            }
            case Message.SocketEvent m -> socketEvent(m);
            case Message.SocketRestore m -> sockets.restore(m);
            case Message.RpcResult m -> subrequests.complete(m.callId(), m);
            case Message.Cancel m -> toOwner(m.invocationId(), i -> i.events.cancel(m.invocationId(), m.reason()));
            case Message.ResponseAck m -> toOwner(m.invocationId(), i -> i.events.acknowledge(m));
            case Message.RequestBodyChunk m -> toOwner(m.invocationId(), i -> i.events.requestBody(m));
            case Message.RequestBodyEnd m -> toOwner(m.invocationId(), i -> i.events.requestBody(m));
            case Message.SubrequestResult m -> subrequests.complete(m.subrequestId(), m);
            case Message.SubrequestFailed m -> subrequests.complete(m.subrequestId(), m);
            case Message.SubrequestHead m -> subrequests.complete(m.subrequestId(), m);
            case Message.SubrequestChunk m -> subrequests.complete(m.subrequestId(), m);
            case Message.SubrequestEnd m -> subrequests.complete(m.subrequestId(), m);
            case Message.SubrequestBodyPull m -> subrequests.complete(m.subrequestId(), m);
            case Message.CallResult m -> subrequests.complete(m.callId(), m);
            case Message.CallHead m -> subrequests.complete(m.callId(), m);
            case Message.CallChunk m -> subrequests.complete(m.callId(), m);
            case Message.CallEnd m -> subrequests.complete(m.callId(), m);
            case Message.CallBodyPull m -> subrequests.complete(m.callId(), m);
            case Message.CallFailed m -> subrequests.complete(m.callId(), m);
            case Message.DynamicLoaded m -> subrequests.complete(m.callId(), m);
            case Message.UnloadWorker m -> {
                WorkerSlot slot = workers.remove(m.workerId());
                if (slot != null) slot.retire();
            }
            case Message.SnapshotObject m -> snapshot(m);
            case Message.FacetReset m -> resetFacet(m);
            case Message.Shutdown m -> close();
            default -> throw new IllegalArgumentException("not a node-to-sandbox message: " + message);
        }
    }

    /** The isolate pool; tests. */
    IsolatePool pool() {
        return pool;
    }

    /** Loaded workers holding at least one isolate (not dormant); tests. */
    int liveWorkers() {
        int n = 0;
        for (WorkerSlot slot : workers.values()) {
            if (slot.live()) n++;
        }
        return n;
    }

    /**
     * Hands a message about an invocation to the isolate it runs in; when its start is still held
     * behind an isolate being made, the message is held behind it (in order). Dropped when the
     * invocation ended or never started here.
     */
    private void toOwner(long invocationId, java.util.function.Consumer<Isolate> action) {
        // The held table first: an invocation leaves it (under its slot's lock) only once it is
        // registered in its isolate, so a miss here means ownerOf finds it or it is not here.
        WorkerSlot slot = held.get(invocationId);
        if (slot != null && slot.follow(invocationId, action)) return;
        Isolate i = ownerOf(invocationId);
        if (i != null) action.accept(i);
    }

    /** The isolate an invocation is in flight in, or null (it ended, or never started here). */
    private Isolate ownerOf(long invocationId) {
        for (Isolate i : live) {
            if (i.owns(invocationId)) return i;
        }
        return null;
    }

    private void load(Message.LoadWorker m) {
        Limits limits = m.limits();
        WorkerBundle bundle = m.bundle();
        if (bundle.codeSize() > limits.codeBytes()) {
            outbox.send(new Message.WorkerLoadFailed(m.correlationId(), m.workerId(), ErrorCode.CODE_TOO_LARGE.code(),
                    "the worker's code is " + bundle.codeSize() + " bytes; the limit is " + limits.codeBytes()));
            return;
        }
        String env = m.envJson() == null ? "{}" : m.envJson();
        long envBytes = env.getBytes(StandardCharsets.UTF_8).length;
        if (envBytes > limits.envBytes()) {
            outbox.send(new Message.WorkerLoadFailed(m.correlationId(), m.workerId(), ErrorCode.ENV_TOO_LARGE.code(),
                    "the worker's env is " + envBytes + " bytes; the limit is " + limits.envBytes()));
            return;
        }
        WorkerSlot slot = new WorkerSlot(m.workerId(), bundle, env, m.bindings(), m.networkAllowed(), limits);
        WorkerSlot previous = workers.put(m.workerId(), slot);
        if (previous != null) previous.retire();
        slot.load(m.correlationId());
        capLive();
    }

    private void fetch(Message.FetchStart m) {
        WorkerSlot slot = workers.get(m.workerId());
        if (slot == null) {
            outbox.send(new Message.InvocationFailed(m.invocationId(), ErrorCode.NOT_FOUND.code(),
                    "no worker '" + m.workerId() + "' is loaded in this sandbox", false));
            outbox.send(new Message.InvocationDone(m.invocationId(), 0));
            return;
        }
        String loadError = slot.loadError;
        if (loadError != null) {
            outbox.send(new Message.InvocationFailed(m.invocationId(), ErrorCode.WORKER_LOAD_FAILED.code(), loadError, false));
            outbox.send(new Message.InvocationDone(m.invocationId(), 0));
            return;
        }
        // Each object lives in one isolate of its class's worker: its instance, its storage handle
        // and its gate are there. The least busy isolate takes any other event.
        Limits limits = granted(slot.limits, m.target());
        slot.use(m.target(), m.invocationId(), isolate -> isolate.events.dispatch(m, limits), () -> unavailable(m.invocationId()));
    }

    /** An invocation for which no isolate could be made. */
    private void unavailable(long invocationId) {
        outbox.send(new Message.InvocationFailed(invocationId, ErrorCode.SANDBOX_UNAVAILABLE.code(),
                "could not create an isolate", false));
        outbox.send(new Message.InvocationDone(invocationId, 0));
    }

    /** A tail worker's tail(events) handler, run as an invocation of its own. */
    private void tail(Message.TailStart m) {
        dispatchTo(m.invocationId(), m.target(), (isolate, limits) -> isolate.events.dispatch(m, granted(limits, m.target())));
    }

    /** A worker's limits, lowered by the grant of the entrypoint stub the call came through (never raised). */
    static Limits granted(Limits limits, Address target) {
        if (!(target instanceof Address.Worker w) || w.grant() == null) return limits;
        Address.Grant g = w.grant();
        long cpuMs = g.cpuMs() >= 0 ? Math.max(1, Math.min(limits.cpuMs(), g.cpuMs())) : limits.cpuMs();
        int subrequests = g.subrequests() >= 0 ? Math.min(limits.subrequests(), g.subrequests()) : limits.subrequests();
        if (cpuMs == limits.cpuMs() && subrequests == limits.subrequests()) return limits;
        return new Limits(cpuMs, limits.wallMs(), limits.heapMb(), subrequests, limits.codeBytes(), limits.envBytes(),
                limits.requestBodyBytes());
    }

    private void alarm(Message.AlarmStart m) {
        dispatchTo(m.invocationId(), m.target(), (isolate, limits) -> isolate.events.dispatch(m, limits));
    }

    /**
     * A WebSocket event: an object's goes to the object's isolate, under its hibernatable event
     * timeout when it set one; a plain worker's to the isolate that holds the socket.
     */
    private void socketEvent(Message.SocketEvent m) {
        // A client end an isolate accepted (negative id) lives in that isolate: an object's outbound
        // socket too, whose event still runs as the object's (EventDispatch: its gates), but never
        // constructs an object that is gone (its socket was closed with it).
        boolean clientEnd = m.target() instanceof Address.Worker || m.socketId() < 0;
        if (m.kind() != Message.SocketEventKind.MESSAGE) {
            // The JS side forgets the socket when it sees the event; the mirror forgets it now.
            Isolate home = sockets.homeOf(m.socketId());
            sockets.closed(m.socketId());
            if (clientEnd) {
                deliverToHome(home, m);
                return;
            }
        } else if (clientEnd) {
            deliverToHome(sockets.homeOf(m.socketId()), m);
            return;
        }
        dispatchTo(m.invocationId(), m.target(), (isolate, limits) -> {
            if (m.target() instanceof Address.DurableObject o) {
                long timeout = sockets.eventTimeout(o.className(), o.objectId());
                if (timeout > 0 && timeout < limits.wallMs()) {
                    limits = new Limits(limits.cpuMs(), timeout, limits.heapMb(), limits.subrequests(), limits.codeBytes(),
                            limits.envBytes(), limits.requestBodyBytes());
                }
            }
            isolate.events.dispatch(m, limits);
        });
    }

    private void deliverToHome(Isolate home, Message.SocketEvent m) {
        WorkerSlot slot = workers.get(m.target().workerId());
        if (home == null || home.isCondemned() || slot == null) {
            outbox.send(new Message.InvocationFailed(m.invocationId(), ErrorCode.NOT_FOUND.code(),
                    "the WebSocket's isolate is gone", false));
            outbox.send(new Message.InvocationDone(m.invocationId(), 0));
            return;
        }
        home.events.dispatch(m, slot.limits);
    }

    /**
     * A snapshot of an object's database, taken in the isolate that runs (or would run) the object,
     * so it is serial with the object's events. A worker whose code failed to load still has its
     * objects' storage: the copy needs no JavaScript.
     */
    private void snapshot(Message.SnapshotObject m) {
        WorkerSlot slot = workers.get(m.target().workerId());
        if (slot == null) {
            outbox.send(new Message.SnapshotTaken(m.correlationId(), "no worker '" + m.target().workerId() + "' is loaded in this sandbox"));
            return;
        }
        slot.use(m.target(), 0, isolate -> isolate.snapshotObject(m.target(), m.fileName(),
                        error -> outbox.send(new Message.SnapshotTaken(m.correlationId(), error))),
                () -> outbox.send(new Message.SnapshotTaken(m.correlationId(), "could not create an isolate")));
    }

    /**
     * A facet's supervisor aborted or deleted it: reset in the isolate that runs (or would run) it,
     * serial with its events; with no such isolate (its code is not loaded here), only the file.
     */
    private void resetFacet(Message.FacetReset m) {
        WorkerSlot slot = workers.get(m.target().workerId());
        if (slot == null) {
            resetFacetFile(m);
            return;
        }
        slot.use(m.target(), 0, isolate -> isolate.resetFacet(m.target(), m.reason(), m.delete(),
                error -> outbox.send(new Message.FacetResetDone(m.correlationId(), error))), () -> resetFacetFile(m));
    }

    /** A facet reset with no isolate to run it in: only its file. */
    private void resetFacetFile(Message.FacetReset m) {
        String error = null;
        if (m.delete()) {
            try {
                objectStore.delete(m.target().workerId(), m.target().className(), m.target().objectId());
            } catch (ObjectStore.StorageException e) {
                error = e.getMessage();
            }
        }
        outbox.send(new Message.FacetResetDone(m.correlationId(), error));
    }

    @Override
    public SocketRegistry sockets() {
        return sockets;
    }

    /** A call on an export runs in the isolate that exported it, under that worker's limits. */
    private void capStart(Message.CapStart m) {
        CapExports.Export e = capExports().get(m.exportId());
        Isolate isolate = e == null ? null : e.isolate();
        WorkerSlot slot = isolate == null || isolate.worker == null ? null : workers.get(isolate.worker.workerId());
        if (slot == null || isolate.isCondemned()) {
            outbox.send(new Message.InvocationFailed(m.invocationId(), ErrorCode.NOT_FOUND.code(),
                    "The object this RPC stub points to is gone (its isolate was reset or its worker unloaded).", false));
            outbox.send(new Message.InvocationDone(m.invocationId(), 0));
            return;
        }
        isolate.events.dispatch(m, e, slot.limits);
    }

    private void rpc(Message.RpcStart m) {
        dispatchTo(m.invocationId(), m.target(), (isolate, limits) -> isolate.events.dispatch(m, granted(limits, m.target())));
    }

    /** Hands an event to an isolate of its worker, with the worker's limits. */
    @FunctionalInterface
    private interface Dispatch {
        void to(Isolate isolate, Limits limits);
    }

    /** Dispatches an event at {@code target} to its isolate; without one, the invocation fails. */
    private void dispatchTo(long invocationId, Address target, Dispatch dispatch) {
        WorkerSlot slot = workers.get(target.workerId());
        String problem = slot == null ? "no worker '" + target.workerId() + "' is loaded in this sandbox"
                : slot.loadError;
        if (problem == null) {
            slot.use(target, invocationId, isolate -> dispatch.to(isolate, slot.limits), () -> unavailable(invocationId));
            return;
        }
        ErrorCode code = slot == null ? ErrorCode.NOT_FOUND : ErrorCode.WORKER_LOAD_FAILED;
        outbox.send(new Message.InvocationFailed(invocationId, code.code(), problem, false));
        outbox.send(new Message.InvocationDone(invocationId, 0));
    }

    /** An event held until its worker's isolate is made: for place {@code index} (-1: any). */
    private record Held(int index, long invocationId, java.util.function.Consumer<Isolate> dispatch, Runnable unavailable) {
    }

    /**
     * One loaded worker and the isolates that run it. An isolate that was condemned is replaced
     * by a fresh one from the pool on the next request; loading is queued on the new isolate
     * before any dispatch, so order needs no lock beyond this slot's.
     *
     * <p>A worker may also be <em>dormant</em> ({@link Dormancy}): its isolates given back, its
     * code kept here. Every event reaches an isolate through {@link #use}, which picks (making an
     * isolate for a dormant worker) and dispatches under this slot's lock, and an isolate is given
     * back only by a task of its own that finds, under the same lock, that nothing was dispatched
     * to it since it was asked: an event is never dispatched to an isolate being given back.
     */
    private final class WorkerSlot implements Dormancy.Slot {
        final String workerId;
        final WorkerBundle bundle;
        final String env;
        final List<Binding> bindings;
        final boolean networkAllowed;
        final Limits limits;
        volatile String loadError;
        /** Console lines written by the worker's top-level code, in all of its isolates. */
        private final java.util.concurrent.atomic.AtomicInteger topLevelLogLines = new java.util.concurrent.atomic.AtomicInteger();
        private final Isolate[] isolates = new Isolate[isolatesPerWorker];
        /** Places whose isolate a pool thread is making (guarded by the lock). */
        private final boolean[] making = new boolean[isolatesPerWorker];
        /** Events held until the isolate of their place is made, in arrival order (guarded by the lock). */
        private final java.util.ArrayDeque<Held> waiting = new java.util.ArrayDeque<>();
        private boolean retired;
        /** Its first load succeeded: an empty place is a dormant isolate, made again on the next event. */
        private volatile boolean loadedOnce;
        /** When it last had an event dispatched (or was seen running one); written under the lock. */
        private volatile long lastUse = System.nanoTime();
        /** Events dispatched so far (guarded by the lock): a give-back asked before the last one is void. */
        private long uses;
        /** Its isolates were asked to give themselves back and have not answered yet. */
        private volatile boolean releasing;

        WorkerSlot(String workerId, WorkerBundle bundle, String env, List<Binding> bindings, boolean networkAllowed,
                   Limits limits) {
            this.workerId = workerId;
            this.bundle = bundle;
            this.env = env;
            this.bindings = bindings;
            this.networkAllowed = networkAllowed;
            this.limits = limits;
        }

        /** Loads the worker into its first isolate and reports the outcome under the correlation id. */
        synchronized void load(long correlationId) {
            replace(0, correlationId);
        }

        /**
         * Runs {@code dispatch} with the isolate for an event at {@code target} (an object's own,
         * else the least busy), made if need be. When the isolate is still being made (the pool was
         * empty), the event is held and dispatched, in order, by the thread that made it; when none
         * can be made, {@code unavailable} runs instead.
         *
         * @param invocationId the event's invocation (0: none): messages about it follow it while it is held
         */
        void use(Address target, long invocationId, java.util.function.Consumer<Isolate> dispatch, Runnable unavailable) {
            boolean woke;
            synchronized (this) {
                boolean wasLive = live();
                int index = target instanceof Address.DurableObject o ? Math.floorMod(o.objectId().hashCode(), isolatesPerWorker) : -1;
                Isolate isolate = index >= 0 ? pick(index) : pick();
                if (isolate == null && !retired && (index >= 0 ? making[index] : makingAny())) {
                    uses++;
                    lastUse = System.nanoTime();
                    waiting.addLast(new Held(index, invocationId, dispatch, unavailable));
                    if (invocationId != 0) held.put(invocationId, this);
                    return;
                }
                if (isolate == null) {
                    unavailable.run();
                    return;
                }
                lastUse = System.nanoTime();
                uses++;
                dispatch.accept(isolate);
                woke = !wasLive;
            }
            if (woke) capLive();
        }

        /**
         * Holds {@code action} behind the held start of {@code invocationId}; false when that start
         * is no longer held (it was dispatched: the caller finds its isolate).
         */
        synchronized boolean follow(long invocationId, java.util.function.Consumer<Isolate> action) {
            if (held.get(invocationId) != this) return false;
            for (Held h : waiting) {
                if (h.invocationId == invocationId) {
                    waiting.addLast(new Held(h.index, 0, isolate -> {
                        Isolate owner = ownerOf(invocationId);
                        if (owner != null) action.accept(owner);
                    }, () -> { }));
                    return true;
                }
            }
            return false;
        }

        private boolean makingAny() {
            for (boolean m : making) {
                if (m) return true;
            }
            return false;
        }

        /** The least busy live isolate, replacing condemned ones; null if none is ready (or can be made). */
        private Isolate pick() {
            if (retired) return null;
            Isolate best = null;
            for (int i = 0; i < isolates.length; i++) {
                Isolate candidate = isolates[i];
                if ((candidate == null || candidate.isCondemned()) && !making[i]) candidate = replace(i, 0);
                else if (making[i]) candidate = null;
                if (candidate != null && (best == null || candidate.activeInvocations() < best.activeInvocations())) {
                    best = candidate;
                }
            }
            // Events held for a place being made go first: a later one must not overtake them.
            return best != null && !waiting.isEmpty() ? null : best;
        }

        /** The isolate at {@code index}, replacing it if it was condemned; null if none is ready (or can be made). */
        private Isolate pick(int index) {
            if (retired || making[index]) return null;
            Isolate candidate = isolates[index];
            if (candidate == null || candidate.isCondemned()) candidate = replace(index, 0);
            return candidate;
        }

        /**
         * Puts a fresh isolate at {@code index} and queues the worker's load on it: from the pool when
         * it has one (returned); else null, the place is marked as being made, and a pool thread
         * installs the isolate and dispatches the events held meanwhile ({@link #made}). An isolate
         * is never made on the caller's thread (the socket reader).
         */
        private Isolate replace(int index, long correlationId) {
            // Made again for a dormant worker: a failure of its top-level code this time fails the
            // events waiting for it, and the next event tries again (it loaded before).
            boolean wake = isolates[index] == null && loadedOnce;
            making[index] = true;
            Isolate isolate = pool.takeOrWait(new IsolatePool.Waiter() {
                @Override
                public void made(Isolate isolate) {
                    WorkerSlot.this.made(index, isolate, correlationId, wake);
                }

                @Override
                public void failed(Exception e) {
                    WorkerSlot.this.failed(index, correlationId, e);
                }
            });
            if (isolate == null) return null;
            making[index] = false;
            install(index, isolate, correlationId, wake);
            return isolate;
        }

        /** A pool thread made the isolate for {@code index}: installed, then the events held for it dispatched in order. */
        private void made(int index, Isolate isolate, long correlationId, boolean wake) {
            boolean retiredNow;
            synchronized (this) {
                making[index] = false;
                install(index, isolate, correlationId, wake);
                for (java.util.Iterator<Held> it = waiting.iterator(); it.hasNext(); ) {
                    Held h = it.next();
                    if (h.index != index && h.index >= 0) continue;
                    it.remove();
                    h.dispatch.accept(isolate);
                    if (h.invocationId != 0) held.remove(h.invocationId, this);
                }
                // Unloaded meanwhile: as when it is unloaded right after an event, what was queued runs first.
                retiredNow = retired;
                if (retiredNow) isolate.close();
            }
            if (wake && !retiredNow) capLive(); // a dormant worker woke: past the live budget another goes dormant
        }

        /** No isolate could be made for {@code index}: the load (if any) and the events held for it fail. */
        private void failed(int index, long correlationId, Exception e) {
            List<Held> failing = new java.util.ArrayList<>();
            synchronized (this) {
                making[index] = false;
                boolean other = makingAny();
                for (java.util.Iterator<Held> it = waiting.iterator(); it.hasNext(); ) {
                    Held h = it.next();
                    if (h.index != index && (h.index >= 0 || other)) continue;
                    it.remove();
                    if (h.invocationId != 0) held.remove(h.invocationId, this);
                    failing.add(h);
                }
            }
            if (correlationId != 0) {
                outbox.send(new Message.WorkerLoadFailed(correlationId, workerId, ErrorCode.INTERNAL.code(),
                        "could not create an isolate: " + e.getMessage()));
            }
            for (Held h : failing) h.unavailable.run();
        }

        private void install(int index, Isolate isolate, long correlationId, boolean wake) {
            isolates[index] = isolate;
            live.add(isolate);
            isolate.load(workerId, bundle, env, bindings, networkAllowed, limits, topLevelLogLines, new Isolate.LoadCallback() {
                @Override
                public void loaded(Isolate loaded) {
                    loadedOnce = true;
                    lastUse = System.nanoTime();
                    // Through the isolate's outbox: it leaves with the load task's end, written by this
                    // isolate thread, not handed to the channel's writer thread (one wake-up less per load).
                    if (correlationId != 0) loaded.outbox.send(new Message.WorkerLoaded(correlationId, workerId));
                }

                @Override
                public void failed(Isolate failed, WorkerLoadException e) {
                    if (wake) {
                        synchronized (WorkerSlot.this) {
                            if (isolates[index] == failed) isolates[index] = null;
                        }
                        failed.close();
                        return;
                    }
                    loadError = e.getMessage();
                    if (correlationId != 0) {
                        outbox.send(new Message.WorkerLoadFailed(correlationId, workerId, e.code().code(), e.getMessage()));
                    }
                }
            });
        }

        synchronized void retire() {
            retired = true;
            for (Isolate i : isolates) {
                if (i != null) i.close();
            }
        }

        // ------------------------------------------------------------ dormancy

        /** Holds an isolate, or is having one made. */
        @Override
        public synchronized boolean live() {
            for (Isolate i : isolates) {
                if (i != null) return true;
            }
            return makingAny();
        }

        @Override
        public boolean releasing() {
            return releasing;
        }

        @Override
        public long lastUse() {
            return lastUse;
        }

        @Override
        public synchronized void sweep(long now, long idleMs) {
            if (retired || releasing || !loadedOnce || loadError != null) return;
            for (Isolate i : isolates) {
                if (i != null && i.activeInvocations() > 0) {
                    lastUse = now; // idle time counts from the end of its last invocation
                    return;
                }
            }
            if (idleMs > 0 && now - lastUse >= idleMs * 1_000_000L) release();
        }

        @Override
        public synchronized void release() {
            if (retired || releasing || !loadedOnce || loadError != null) return;
            long asked = uses;
            for (int i = 0; i < isolates.length; i++) {
                Isolate isolate = isolates[i];
                if (isolate == null || isolate.isCondemned() || isolate.activeInvocations() > 0) continue;
                int index = i;
                releasing = true;
                isolate.enqueue(0, () -> giveBack(isolate, index, asked));
            }
        }

        /**
         * A task of {@code isolate}: gives it back if it holds only the worker's code and nothing was
         * dispatched to this worker since it was asked ({@code asked}); the worker is dormant once
         * all of its places are empty.
         */
        private void giveBack(Isolate isolate, int index, long asked) {
            boolean onlyCode = isolate.holdsOnlyCode();
            synchronized (this) {
                releasing = false;
                if (!onlyCode || retired || isolates[index] != isolate || uses != asked
                        || isolate.isCondemned() || isolate.activeInvocations() > 0) {
                    return;
                }
                isolates[index] = null;
            }
            isolate.close(); // after this task; nothing can be dispatched to it any more
        }
    }

    // ---------------------------------------------------------------- services for isolates

    @Override
    public Outbox outbox() {
        return outbox;
    }

    @Override
    public void taskStarted() {
        bell.ring();
    }

    @Override
    public ScheduledExecutorService scheduler() {
        return scheduler;
    }

    @Override
    public Deadlines deadlines() {
        return deadlines;
    }

    @Override
    public LocalCalls localCalls() {
        return local;
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
    public ObjectStore objectStore() {
        return objectStore;
    }

    @Override
    public long objectIdleMs() {
        return objectIdleMs;
    }

    @Override
    public boolean givesBackIdleWithin(long idleMs) {
        return dormancy.idleMs() > 0 && dormancy.idleMs() <= 2 * idleMs;
    }

    @Override
    public void condemned(Isolate isolate) {
        // The slot notices on its next request and takes a fresh isolate; the loop then disposes.
        closeClientEnds(isolate, "the isolate holding the WebSocket was reset");
        isolate.close();
    }

    /**
     * The client ends an isolate claimed go with it (outbound sockets, and a durable object's socket
     * it accepted): their other ends hear 1001.
     */
    private void closeClientEnds(Isolate isolate, String why) {
        for (long endId : sockets.clientEndsAt(isolate)) {
            sockets.closed(endId);
            outbox.send(new Message.SocketClose(endId, 1001, why));
        }
    }

    @Override
    public void closed(Isolate isolate) {
        closeClientEnds(isolate, "the isolate holding the WebSocket is gone");
        live.remove(isolate);
        isolatesClosed.incrementAndGet();
        closedSinceTrim.set(true);
        capExports().isolateGone(isolate);
    }

    @Override
    public void fatal(String reason) {
        System.err.println("bulwark sandbox: fatal: " + reason);
        System.err.flush();
        Runtime.getRuntime().halt(70);
    }

    // ---------------------------------------------------------------- the watchdog

    /**
     * The watchdog. While some isolate runs a task it looks every {@link #WATCHDOG_TICK_MS} at CPU
     * and every {@link #MEMORY_CHECK_MS} at memory; while all are idle it looks every
     * {@link #WATCHDOG_IDLE_MS}, so a runaway task is caught at most that much late, and a short
     * request costs the watchdog nothing. After {@link #WATCHDOG_QUIET_MS} with nothing to watch it
     * sends what the outbox still holds and sleeps until a task starts or a carrier's turn holds the
     * reading ({@link WatchdogBell}): an idle sandbox costs no CPU.
     */
    private void watch() {
        long lastMemoryCheck = 0;
        long quietSince = System.nanoTime();
        while (!closed) {
            long now = System.nanoTime();
            boolean busy = false;
            for (Isolate i : live) {
                i.termination.checkCpu(now);
                busy |= i.isBusy();
            }
            if (busy && now - lastMemoryCheck >= TimeUnit.MILLISECONDS.toNanos(MEMORY_CHECK_MS)) {
                lastMemoryCheck = now;
                long rss = residentBytes();
                for (Isolate i : live) i.termination.checkMemoryGrowth(rss, memoryGrowthLimitBytes);
                if (pressure.mustStop(rss, now)) {
                    for (Isolate i : live) i.termination.memoryPressure();
                }
            }
            // Bookkeeping a task left in the socket's buffer (Outbox.flush) waits at most a tick,
            // even when the isolate that left it went on to a long task.
            outbox.idle();
            // A turn that holds the node's socket's reading past a tick passes it on (CarrierReader).
            Carriers.SHARED.watch(now);
            if (busy || Carriers.SHARED.readingHeld()) {
                quietSince = now;
            } else if (now - quietSince >= TimeUnit.MILLISECONDS.toNanos(WATCHDOG_QUIET_MS)) {
                sleeps.incrementAndGet();
                // What a task left in the socket's buffer leaves first (only tasks leave any, and
                // a task's start wakes the watchdog).
                bell.sleepWhile(() -> {
                    outbox.idle();
                    return !closed && !anyInTask() && !Carriers.SHARED.readingHeld();
                });
                quietSince = System.nanoTime();
                continue;
            }
            try {
                Thread.sleep(busy ? WATCHDOG_TICK_MS : WATCHDOG_IDLE_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private boolean anyInTask() {
        for (Isolate i : live) {
            if (i.isBusy()) return true;
        }
        return false;
    }

    /** Times the watchdog went to sleep for want of anything to watch (tests). */
    long watchdogSleeps() {
        return sleeps.get();
    }

    /** Whether the watchdog sleeps now (tests). */
    boolean watchdogAsleep() {
        return watchdog.getState() == Thread.State.WAITING;
    }

    /** This process's resident set size, from /proc (Linux). */
    static long residentBytes() {
        return dev.bulwark.sandbox.jvm.ResidentSize.ofSelf();
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        bell.close();
        watchdog.interrupt();
        for (WorkerSlot slot : workers.values()) slot.retire();
        pool.close();
        scheduler.shutdownNow();
        if (sweeper != null) sweeper.shutdownNow();
        deadlines.close();
    }
}
