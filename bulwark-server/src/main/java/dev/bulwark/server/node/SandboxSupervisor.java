package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps every tenant's sandbox processes running. Cordoning: a sandbox serves exactly one tenant,
 * so two tenants' code never shares a process. A sandbox that dies is replaced, and the tenant's
 * workers are loaded into the replacement before it takes requests; a sandbox whose resident
 * memory passes the ceiling is killed.
 */
public final class SandboxSupervisor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SandboxSupervisor.class);
    /** How long a request waits for a tenant's sandbox to come (back) up. */
    static final long READY_WAIT_SECONDS = 60;

    private final SandboxLauncher launcher;
    private final int processesPerTenant;
    private final long rssCeilingBytes;
    private final SandboxEvents events;
    private final Map<String, Tenant> tenants = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final ObjectDirectory directory = new ObjectDirectory();
    /** The clients' WebSockets (set once by the node). */
    private volatile SocketHub sockets;
    private final Thread monitor;
    private volatile boolean closed;

    SandboxSupervisor(SandboxLauncher launcher, int processesPerTenant, long rssCeilingBytes,
                      SandboxEvents events) {
        this.launcher = launcher;
        this.processesPerTenant = processesPerTenant;
        this.rssCeilingBytes = rssCeilingBytes;
        this.events = events;
        this.monitor = Thread.ofPlatform().name("sandbox-monitor").daemon(true).start(this::monitor);
    }

    /** One tenant's sandboxes and the workers they must all hold. */
    private final class Tenant {
        final String name;
        final List<DeployedWorker> workers = new CopyOnWriteArrayList<>();
        final List<SandboxProcess> live = new CopyOnWriteArrayList<>();
        volatile CompletableFuture<Void> ready = new CompletableFuture<>();
        int starting;
        /** One process for one session's run ({@link #startSingle}): never replaced, gone with its process. */
        final boolean single;

        Tenant(String name) {
            this(name, false);
        }

        Tenant(String name, boolean single) {
            this.name = name;
            this.single = single;
        }
    }

    /**
     * Starts one sandbox process under {@code key}, a tenant key no other sandbox has (a session's
     * run, {@link SessionSandboxes}), and waits for it: it is never replaced when it dies (its run
     * fails, nothing else), and {@link #retire} ends it.
     *
     * @throws IOException when it could not start (no retry)
     */
    SandboxProcess startSingle(String key) throws IOException {
        Tenant t = new Tenant(key, true);
        if (closed) throw new IOException("the node is closing");
        if (tenants.putIfAbsent(key, t) != null) throw new IllegalStateException("a sandbox key is in use: " + key);
        String name = "sandbox-" + ids.incrementAndGet();
        try {
            long t0 = System.nanoTime();
            var self = new java.util.concurrent.atomic.AtomicReference<SandboxProcess>();
            SandboxProcess p = SandboxProcess.start(name, key, launcher, m -> unsolicited(self.get(), m), this::exited);
            p.capHooks(capHooks);
            self.set(p);
            synchronized (t) {
                t.live.add(p);
                t.ready.complete(null);
            }
            log.debug("sandbox {} (pid {}) serves {} (up in {} ms)", name, p.pid(), key, (System.nanoTime() - t0) / 1_000_000);
            return p;
        } catch (IOException | RuntimeException e) {
            tenants.remove(key, t);
            launcher.release(name);
            launcher.discard(name, key);
            throw e;
        }
    }

    /** Ends the process started by {@link #startSingle} for {@code key} (killed: it may have run hostile code). */
    void retire(String key) {
        Tenant t = tenants.get(key);
        if (t == null || !t.single) return;
        for (SandboxProcess p : t.live) p.kill("its session run is over");
        if (t.live.isEmpty()) tenants.remove(key, t);
    }

    /**
     * Deploys a worker into its tenant's sandboxes (starting them if needed) and waits for the
     * load. Returns null on success, or the failure (code and message).
     */
    public Message.WorkerLoadFailed deploy(DeployedWorker worker) {
        return deploy(worker, true);
    }

    /**
     * Loads a worker into its tenant's live sandboxes. With {@code durable} false it is loaded
     * only there, not into a sandbox started later (a dynamic worker: a replacement sandbox must not
     * load hundreds of them at once; each comes back from its parent's code on its next call).
     */
    Message.WorkerLoadFailed deploy(DeployedWorker worker, boolean durable) {
        return deploying(worker, durable).join();
    }

    /**
     * {@link #deploy(DeployedWorker, boolean)} that waits for the sandboxes to be up (blocks) but
     * not for the loads: the future completes with null or the failure once every sandbox
     * answered, on the reader thread that read the last answer (a dynamic worker's load goes on
     * there, not on a thread woken for it), or on this thread when there was nothing to wait for.
     */
    CompletableFuture<Message.WorkerLoadFailed> deploying(DeployedWorker worker, boolean durable) {
        // A session's sandbox is started by startSingle only: a load after it is gone finds none.
        Tenant t = DynamicWorkers.isSession(worker.tenant()) ? tenants.get(worker.tenant())
                : tenants.computeIfAbsent(worker.tenant(), Tenant::new);
        if (t == null) {
            return CompletableFuture.completedFuture(new Message.WorkerLoadFailed(0, worker.name(),
                    ErrorCode.SANDBOX_UNAVAILABLE.code(), "its sandbox is gone"));
        }
        t.workers.removeIf(w -> w.name().equals(worker.name()));
        if (durable) t.workers.add(worker);
        ensureStarted(t);
        awaitReady(t);
        List<CompletableFuture<Message.WorkerLoadFailed>> each = new ArrayList<>();
        for (SandboxProcess p : t.live) {
            // A sandbox started for this deploy has loaded this very worker already.
            SandboxProcess.Loaded loaded = p.loaded(worker.name());
            each.add(loaded != null && loaded.worker() == worker ? CompletableFuture.completedFuture(loaded.failure())
                    : loadInto(p, worker));
        }
        if (each.size() == 1) return each.getFirst();
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new)).thenApply(v -> {
            Message.WorkerLoadFailed failure = null;
            for (CompletableFuture<Message.WorkerLoadFailed> f : each) if (f.join() != null) failure = f.join();
            return failure;
        });
    }

    /** Loads that take too long (almost never): a timer that wakes no thread per load (see Deadlines). */
    private static final dev.bulwark.sandbox.isolate.Deadlines LOAD_TIMEOUTS =
            new dev.bulwark.sandbox.isolate.Deadlines("sandbox-load-timeouts");

    /** Loads a worker into one sandbox; completes (never exceptionally) with null or the failure, recorded in {@code p}. */
    private CompletableFuture<Message.WorkerLoadFailed> loadInto(SandboxProcess p, DeployedWorker w) {
        Message.LoadWorker load = new Message.LoadWorker(ids.incrementAndGet(), w.name(), w.bundle(), w.envJson(),
                w.bindings(), w.networkAllowed(), w.limits());
        CompletableFuture<Message> answer = p.load(load);
        var timeout = LOAD_TIMEOUTS.schedule(() -> answer.completeExceptionally(
                new java.util.concurrent.TimeoutException("no answer within " + READY_WAIT_SECONDS + " s")), READY_WAIT_SECONDS * 1000);
        return answer.handle((result, e) -> {
            timeout.cancel();
            Message.WorkerLoadFailed failure = e != null
                    ? new Message.WorkerLoadFailed(load.correlationId(), w.name(), ErrorCode.INTERNAL.code(),
                            "loading timed out or failed: " + e)
                    : result instanceof Message.WorkerLoadFailed f ? f : null;
            p.loaded(w, failure);
            return failure;
        });
    }

    /**
     * Starts an invocation in one of the tenant's sandboxes: for a worker the least busy, for a
     * durable object the one the directory placed it in.
     *
     * @return where further messages of this invocation go (body chunks, cancellation)
     */
    public InvocationChannel fetch(String tenant, Message.FetchStart start, InvocationListener listener) {
        return start(tenant, start.target(), start.invocationId(), start, listener, true);
    }

    /**
     * Starts a fetch invocation as {@link #fetch} does, but never blocks: for a thread that must not
     * (the front door's selector, {@code FrontDoor}; a sandbox's reader thread relaying a call,
     * {@code WorkerCalls.callAtOnce}). It does not wait for the tenant's sandboxes (callers check
     * {@link #ready} first; one that is not ready fails as with no sandbox at all, 503),
     * and the {@code FetchStart} is posted: written at once when the socket has room, else queued
     * for the channel's writer (so it also stays behind whatever was posted before it).
     */
    public InvocationChannel fetchAtOnce(String tenant, Message.FetchStart start, InvocationListener listener) {
        return start(tenant, start.target(), start.invocationId(), start, listener, false);
    }

    /** Starts an object's alarm handler, placed as {@link #fetch} places a fetch. */
    InvocationChannel alarm(String tenant, Message.AlarmStart start, InvocationListener listener) {
        return start(tenant, start.target(), start.invocationId(), start, listener, true);
    }

    /** Delivers trace items to a tail worker, placed as {@link #fetch} places a fetch. */
    void tail(String tenant, Message.TailStart start, InvocationListener listener) {
        start(tenant, start.target(), start.invocationId(), start, listener, true);
    }

    /** Starts an RPC invocation, placed as {@link #fetch} places a fetch. */
    InvocationChannel rpc(String tenant, Message.RpcStart start, InvocationListener listener) {
        return start(tenant, start.target(), start.invocationId(), start, listener, true);
    }

    private volatile SandboxProcess.CapHooks capHooks = SandboxProcess.CapHooks.NONE;

    /** The capability table's hooks, for every sandbox started from now on (set before any starts). */
    void capHooks(SandboxProcess.CapHooks hooks) {
        this.capHooks = hooks;
    }

    void sockets(SocketHub hub) {
        this.sockets = hub;
    }

    /** Runs a WebSocket event where the object it is for lives (placed as {@link #fetch} places a fetch). */
    void socketEvent(String tenant, Message.SocketEvent event, InvocationListener listener) {
        start(tenant, event.target(), event.invocationId(), event, listener, true);
    }

    /** Runs a WebSocket event in the sandbox that holds the socket's JS side. */
    void socketEventAt(SandboxProcess sandbox, Message.SocketEvent event, InvocationListener listener) {
        sandbox.start(event.invocationId(), event, listener, true);
    }

    /**
     * Takes a snapshot of an object's database where the directory places it (placing it if it
     * runs nowhere, as its next event would), so the copy is serial with its events and holds every
     * write acknowledged before it. Returns null when the sandbox wrote {@code fileName} into the
     * tenant's snapshot directory, else why not.
     */
    String snapshot(String tenant, Address.DurableObject object, String fileName) {
        Tenant t = tenants.get(tenant);
        if (t == null) return "no sandbox runs tenant '" + tenant + "'";
        awaitReady(t);
        SandboxProcess p = directory.place(object, t.live);
        if (p == null) return "no sandbox is available for tenant '" + tenant + "'";
        long id = ids.incrementAndGet();
        try (Held ignored = () -> directory.letGo(object, p)) {
            Message answer = p.snapshot(new Message.SnapshotObject(id, object, fileName))
                    .get(READY_WAIT_SECONDS, TimeUnit.SECONDS);
            return switch (answer) {
                case Message.SnapshotTaken taken -> taken.error();
                case Message.WorkerLoadFailed gone -> gone.message();
                default -> "unexpected answer " + answer.getClass().getSimpleName();
            };
        } catch (java.util.concurrent.TimeoutException e) {
            p.forgetAnswer(id);
            return "the sandbox did not answer within " + READY_WAIT_SECONDS + " s";
        } catch (Exception e) {
            return "the snapshot failed: " + e.getClass().getSimpleName();
        }
    }

    /**
     * Resets a facet in the sandbox that runs it (issue 14): its instance is dropped, its running
     * events fail with {@code reason}, its database is closed and, if {@code delete}, removed.
     * Returns false when no sandbox runs it now (nothing to stop); null-free: a sandbox that dies
     * meanwhile has stopped it too. Throws if the sandbox answers an error.
     */
    boolean resetFacet(Address.DurableObject facet, String reason, boolean delete) {
        SandboxProcess p = directory.current(facet);
        if (p == null) return false;
        long id = ids.incrementAndGet();
        try {
            Message answer = p.resetFacet(new Message.FacetReset(id, facet, reason, delete))
                    .get(READY_WAIT_SECONDS, TimeUnit.SECONDS);
            if (answer instanceof Message.FacetResetDone done && done.error() != null) {
                throw new IllegalStateException(done.error());
            }
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            p.forgetAnswer(id);
            throw new IllegalStateException("the sandbox did not answer within " + READY_WAIT_SECONDS + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("the reset failed");
        }
    }

    /** Whether some object of the class runs now (a migration must not move its storage). */
    boolean anyPlaced(String workerId, String className) {
        return directory.anyPlaced(workerId, className);
    }

    /** The sandbox that runs an object now, or null. */
    SandboxProcess placement(Address.DurableObject object) {
        return directory.current(object);
    }

    /** @param mayWait whether this thread may wait for the tenant's sandboxes and on their sockets */
    private InvocationChannel start(String tenant, Address target, long invocationId, Message start,
                                    InvocationListener listener, boolean mayWait) {
        Tenant t = tenants.get(tenant);
        SandboxProcess p = null;
        if (t != null && (mayWait || t.ready.isDone())) {
            if (mayWait) awaitReady(t);
            p = switch (target) {
                case Address.Worker w -> t.live.stream().filter(SandboxProcess::isAlive)
                        .min(Comparator.comparingInt(SandboxProcess::inFlight)).orElse(null);
                case Address.DurableObject o -> directory.place(o, t.live);
            };
        }
        if (p != null) {
            listener = events.admit(tenant, invocationId, target.workerId(),
                    start instanceof Message.FetchStart f ? f.headers() : java.util.List.of(), listener);
            if (listener == null) {
                if (target instanceof Address.DurableObject o) directory.letGo(o, p);
                return InvocationChannel.NOWHERE;
            }
            listener = events.watch(tenant, invocationId, start, listener);
            // The placement holds this event until it is over (an eviction notice cannot drop it meanwhile).
            if (target instanceof Address.DurableObject o) listener = letGoAtEnd(listener, o, p);
        }
        if (p == null) {
            listener.failed(new Message.InvocationFailed(invocationId, ErrorCode.SANDBOX_UNAVAILABLE.code(),
                    "no sandbox is available for tenant '" + tenant + "'", false));
            listener.done(0);
            return InvocationChannel.NOWHERE;
        }
        SocketHub hub = sockets;
        if (hub != null) {
            if (target instanceof Address.DurableObject o) hub.beforeObjectEvent(p, o, mayWait);
            if (start instanceof Message.FetchStart) listener = hub.watch(tenant, target, p, listener);
        }
        p.start(invocationId, start, listener, mayWait);
        // Later messages of the invocation (acknowledgements, body pieces, a cancel) are often sent
        // from a sandbox's reader thread (a call relay): queued, never written there, so no reader
        // waits on a sandbox that waits on it.
        return p::post;
    }

    /** Releases a held event: closed once, whatever the snapshot's outcome. */
    private interface Held extends AutoCloseable {
        @Override
        void close();
    }

    /** The listener, which also lets the object's placement go when the event is done (once). */
    private InvocationListener letGoAtEnd(InvocationListener listener, Address.DurableObject o, SandboxProcess p) {
        java.util.concurrent.atomic.AtomicBoolean over = new java.util.concurrent.atomic.AtomicBoolean();
        return new ForwardingInvocationListener(listener) {
            @Override
            public void done(long cpuMicros) {
                try {
                    super.done(cpuMicros);
                } finally {
                    if (over.compareAndSet(false, true)) directory.letGo(o, p);
                }
            }
        };
    }

    /**
     * A sandbox announced a local invocation of {@code object}: held on its placement if the
     * object is placed in that very sandbox (else false, nothing held); let go when {@code
     * listener} is done. Returns the listener to track, or null when the object is not placed there.
     */
    InvocationListener holdLocal(Address.DurableObject object, SandboxProcess from, InvocationListener listener) {
        if (!directory.hold(object, from)) return null;
        return letGoAtEnd(listener, object, from);
    }

    /** A local invocation held by {@link #holdLocal} was refused before it was tracked. */
    void letGoLocal(Address.DurableObject object, SandboxProcess from) {
        directory.letGo(object, from);
    }

    /**
     * A sandbox evicted idle objects: their placements are dropped where nothing of theirs is held
     * and no WebSocket of theirs is kept (its events go to the sandbox that holds it).
     */
    private void objectsEvicted(SandboxProcess from, Message.ObjectsEvicted notice) {
        SocketHub hub = sockets;
        List<Address.DurableObject> dropped = directory.evicted(from, notice.objects(),
                o -> hub != null && hub.keepsSockets(o));
        if (hub != null) for (Address.DurableObject o : dropped) hub.placementDropped(from, o);
    }

    /** Placements the directory keeps (tests). */
    int placements() {
        return directory.size();
    }

    /** Events held on an object's placement (tests). */
    int heldEvents(Address.DurableObject object) {
        return directory.held(object);
    }

    /** Removes a worker from its tenant's sandboxes (an evicted dynamic worker). */
    void undeploy(String tenant, String workerName) {
        Tenant t = tenants.get(tenant);
        if (t == null) return;
        t.workers.removeIf(w -> w.name().equals(workerName));
        for (SandboxProcess p : t.live) {
            p.forget(workerName);
            p.deliver(new Message.UnloadWorker(workerName));
        }
    }

    /** Live sandbox processes of a tenant (for operators and tests). */
    public List<Long> pids(String tenant) {
        Tenant t = tenants.get(tenant);
        if (t == null) return List.of();
        return t.live.stream().filter(SandboxProcess::isAlive).map(SandboxProcess::pid).toList();
    }

    /** Whether starting an invocation for {@code tenant} now would not wait for a sandbox to start. */
    public boolean ready(String tenant) {
        Tenant t = tenants.get(tenant);
        return t != null && t.ready.isDone();
    }

    /**
     * Starts {@code tenant}'s sandboxes now if none are up or starting, without waiting for them
     * (docs/notes/jitwarm2.md: a tenant's sandbox for generated code, right after a deploy of a
     * worker with a loader binding, so that its first load does not wait ~1 s for a JVM). A start
     * that fails is logged and retried as for any tenant, and the first load waits for it as it
     * would have without this.
     */
    void prestart(String tenant) {
        if (closed || DynamicWorkers.isSession(tenant)) return;
        ensureStarted(tenants.computeIfAbsent(tenant, Tenant::new));
    }

    /** Whether {@code tenant} has a sandbox up or starting. */
    boolean upOrStarting(String tenant) {
        Tenant t = tenants.get(tenant);
        if (t == null) return false;
        synchronized (t) {
            return t.starting > 0 || !t.live.isEmpty();
        }
    }

    private void awaitReady(Tenant t) {
        try {
            t.ready.get(READY_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
            // fall through: the caller finds no live sandbox and answers 503
        }
    }

    private void ensureStarted(Tenant t) {
        if (t.single) return; // started by startSingle, or gone
        synchronized (t) {
            int missing = processesPerTenant - t.live.size() - t.starting;
            for (int i = 0; i < missing; i++) {
                t.starting++;
                Thread.startVirtualThread(() -> startOne(t, 0));
            }
        }
    }

    private void startOne(Tenant t, int attempt) {
        if (closed) return;
        String name = "sandbox-" + ids.incrementAndGet();
        try {
            long t0 = System.nanoTime();
            var self = new java.util.concurrent.atomic.AtomicReference<SandboxProcess>();
            SandboxProcess p = SandboxProcess.start(name, t.name, launcher, m -> unsolicited(self.get(), m), this::exited);
            p.capHooks(capHooks);
            self.set(p);
            long startMs = (System.nanoTime() - t0) / 1_000_000;
            for (DeployedWorker w : t.workers) {
                Message.WorkerLoadFailed f = loadInto(p, w).join();
                // Node.deploy reports a failed load once, with project paths; this is its detail.
                if (f != null) log.debug("worker {} failed to load in {}: {}", w.name(), name, f.message());
            }
            synchronized (t) {
                t.starting--;
                t.live.add(p);
                t.ready.complete(null);
            }
            log.info("sandbox {} (pid {}) serves tenant {} (up in {} ms)", name, p.pid(), t.name, startMs);
        } catch (IOException e) {
            launcher.release(name);
            log.error("could not start a sandbox for tenant {}: {}", t.name, e.getMessage());
            if (closed) return;
            try {
                Thread.sleep(Math.min(10_000, 250L << Math.min(attempt, 6)));
            } catch (InterruptedException ie) {
                return;
            }
            startOne(t, attempt + 1);
        }
    }

    private void unsolicited(SandboxProcess from, Message m) {
        switch (m) {
            case Message.LogLine line -> events.log(line);
            case Message.Subrequest s -> {
                if (from != null) events.egress(from, s);
            }
            case Message.SubrequestAck a -> {
                if (from != null) events.egress(from, a);
            }
            case Message.SubrequestCancel c -> {
                if (from != null) events.egress(from, c);
            }
            case Message.StreamedSubrequest s -> {
                if (from != null) events.egress(from, s);
            }
            case Message.SubrequestBodyChunk c -> {
                if (from != null) events.egress(from, c);
            }
            case Message.SubrequestStartTls t -> {
                if (from != null) events.egress(from, t);
            }
            case Message.SubrequestBodyEnd e -> {
                if (from != null) events.egress(from, e);
            }
            case Message.CallStart c -> {
                if (from != null) events.call(from, c, from.link(c.callId(), false));
            }
            case Message.StreamedCallStart c -> {
                // The request body follows on the callee's pulls (CallRelay, CallerLink).
                if (from != null) events.call(from, new Message.CallStart(c.invocationId(), c.callId(), c.target(),
                        c.method(), c.url(), c.headers(), null), from.link(c.callId(), true));
            }
            case Message.StreamedCapFetch c -> {
                if (from != null) events.capabilities(from, c);
            }
            case Message.AlarmSet a -> {
                if (from != null) events.alarmSet(from.tenant(), a);
            }
            case Message.RpcCall c -> {
                if (from != null) events.rpc(from, c, from::deliver);
            }
            case Message.CapCall c -> {
                if (from != null) events.capabilities(from, c);
            }
            case Message.CapFetch c -> {
                if (from != null) events.capabilities(from, c);
            }
            case Message.CapRelease c -> {
                if (from != null) events.capabilities(from, c);
            }
            case Message.CapRevoke c -> {
                if (from != null) events.capabilities(from, c);
            }
            case Message.LocalInvocation n -> {
                if (from != null) events.localInvocation(from, n);
            }
            case Message.ObjectsEvicted n -> {
                if (from != null) objectsEvicted(from, n);
            }
            case Message.SocketClaim x -> socketMessage(from, x);
            case Message.SocketSend x -> socketMessage(from, x);
            case Message.SocketClose x -> socketMessage(from, x);
            case Message.SocketAttachment x -> socketMessage(from, x);
            case Message.SocketAutoResponse x -> socketMessage(from, x);
            case Message.LoadDynamic d -> {
                // Answered on a reader thread too (a load goes on where its WorkerLoaded is read): posted.
                if (from != null) events.loadDynamic(from, d, from::post);
            }
            default -> log.warn("unexpected message from a sandbox: {}", m.getClass().getSimpleName());
        }
    }

    private void socketMessage(SandboxProcess from, Message m) {
        SocketHub hub = sockets;
        if (hub != null && from != null) hub.fromSandbox(from, m);
    }

    private void exited(SandboxProcess p) {
        events.sandboxGone(p);
        Tenant t = tenants.get(p.tenant());
        if (t == null) return;
        directory.release(p);
        SocketHub hub = sockets;
        if (hub != null) hub.sandboxGone(p);
        launcher.release(p.name());
        if (t.single) { // a session's process: never replaced, nothing of it left behind
            t.live.remove(p);
            tenants.remove(p.tenant(), t);
            launcher.discard(p.name(), p.tenant());
            return;
        }
        synchronized (t) {
            t.live.remove(p);
            if (t.live.isEmpty()) t.ready = new CompletableFuture<>();
        }
        if (closed) return;
        log.warn("sandbox {} (pid {}) of tenant {} is gone: {}; starting a replacement", p.name(), p.pid(), t.name,
                p.exited().getNow("unknown cause"));
        ensureStarted(t);
    }

    private void monitor() {
        while (!closed) {
            for (Tenant t : tenants.values()) {
                for (SandboxProcess p : t.live) {
                    long rss = p.residentBytes();
                    if (rss > rssCeilingBytes) {
                        p.kill("its resident memory " + (rss >> 20) + " MiB passed the ceiling of "
                                + (rssCeilingBytes >> 20) + " MiB");
                    }
                }
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Test and operator hook: the live sandbox processes of every tenant. */
    List<SandboxProcess> processes() {
        List<SandboxProcess> all = new ArrayList<>();
        for (Tenant t : tenants.values()) all.addAll(t.live);
        return all;
    }

    @Override
    public void close() {
        closed = true;
        monitor.interrupt();
        for (SandboxProcess p : processes()) p.close();
        launcher.killAll();
    }
}
