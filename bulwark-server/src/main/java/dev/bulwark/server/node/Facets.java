package dev.bulwark.server.node;

import dev.bulwark.objects.java.StructuredValues;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.FacetIds;
import dev.bulwark.sandbox.ipc.Message;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The node's side of durable object facets (issue 14). A facet is an object of a class a dynamic
 * worker exports, run in the tenant's sandbox for generated code; its parent is the object (a
 * supervisor, or a facet) whose invocation calls it. The node decides who may call a facet from
 * the invocation it started, never from what a sandbox says: the calling invocation must be an
 * event of the facet's parent (so its id and path follow from the parent's id and the name), and
 * the class must be a dynamic worker of the caller's tenant. It also keeps which code version
 * runs each facet, so that a new one never meets the old one's instance (its database is opened
 * exclusively): the old one is reset first.
 */
final class Facets {
    /** The object each event the node started (or was told of) is for: who is calling. */
    private final Map<Long, Address.DurableObject> eventsOf = new ConcurrentHashMap<>();
    private final Map<String, Facet> byId = new ConcurrentHashMap<>();
    private final SandboxSupervisor supervisor;
    private final DynamicWorkers dynamicWorkers;
    private final Capabilities caps;
    private final LongSupplier nextInvocationId;
    private final Path dataDir;
    private final FacetIndex index;
    final FacetQuotas quotas;
    /** The node's WebSockets (set once the hub exists): a facet's socket is offered to its parent's call. */
    private volatile SocketHub sockets;

    /**
     * One facet: its parent's tenant, its path, its root supervisor's object id (fixed: a facet's
     * parent never changes), the address that runs it now (null: none).
     */
    static final class Facet {
        final String id;
        final String tenant;
        final String parentId;
        final String root;
        final String path;
        volatile Address.DurableObject running; // changed under this
        final FacetQuotas.Usage usage = new FacetQuotas.Usage();

        Facet(String id, String tenant, String parentId, String root, String path) {
            this.id = id;
            this.tenant = tenant;
            this.parentId = parentId;
            this.root = root;
            this.path = path;
        }
    }

    Facets(SandboxSupervisor supervisor, DynamicWorkers dynamicWorkers, Capabilities caps, LongSupplier nextInvocationId,
           Path dataDir, FacetQuotas quotas, FacetIndex index) {
        this.supervisor = supervisor;
        this.dynamicWorkers = dynamicWorkers;
        this.caps = caps;
        this.nextInvocationId = nextInvocationId;
        this.dataDir = dataDir;
        this.quotas = quotas;
        this.index = index;
        // The facets of earlier runs: known (quotas count them, alarms can start them), running nowhere.
        Map<String, String> parents = new java.util.HashMap<>();
        java.util.List<FacetIndex.Row> rows = index.rows();
        for (FacetIndex.Row r : rows) parents.put(r.id(), r.parentId());
        for (FacetIndex.Row r : rows) {
            String root = r.parentId();
            for (int depth = 0; parents.containsKey(root) && depth <= FacetIds.MAX_DEPTH; depth++) root = parents.get(root);
            Facet f = new Facet(r.id(), r.tenant(), r.parentId(), root, r.path());
            f.usage.codeHash = r.codeHash();
            byId.put(r.id(), f);
            underRoot(root).add(f);
        }
    }

    /** The facets of one root supervisor, by its object id (quotas look only at these). */
    private final Map<String, java.util.Set<Facet>> byRoot = new ConcurrentHashMap<>();

    private java.util.Set<Facet> underRoot(String rootId) {
        return byRoot.computeIfAbsent(rootId, k -> ConcurrentHashMap.newKeySet());
    }

    void sockets(SocketHub hub) {
        this.sockets = hub;
    }

    /** Facets being aborted or deleted: calls that arrived after the operation wait for it. */
    private final Map<String, java.util.concurrent.CompletableFuture<Void>> resetting = new ConcurrentHashMap<>();

    /**
     * Called on the sandbox's reader thread as each RPC arrives, in the order the sandbox sent
     * them: an abort or delete is noted before any later call of the same sandbox is read.
     */
    void arrived(Message.RpcCall call) {
        if (call.target() instanceof Address.DurableObject o && FacetIds.CONTROL_WORKER.equals(o.workerId())) {
            java.util.concurrent.CompletableFuture<Void> mine = new java.util.concurrent.CompletableFuture<>();
            java.util.concurrent.CompletableFuture<Void> before = resetting.put(o.objectId(), mine);
            pending.put(call.invocationId() + "/" + call.callId(), new Pending(before, mine));
        }
    }

    /** An abort or delete that arrived: the one of the same facet before it, and its own completion. */
    private record Pending(java.util.concurrent.CompletableFuture<Void> before, java.util.concurrent.CompletableFuture<Void> mine) {}

    private final Map<String, Pending> pending = new ConcurrentHashMap<>();

    /** Whether an abort or delete of facet {@code id} arrived and is not done yet. */
    boolean resetPending(String id) {
        return resetting.containsKey(id);
    }

    /** Waits until the aborts and deletes of facet {@code id} that arrived before now are done. */
    void awaitResets(String id) {
        java.util.concurrent.CompletableFuture<Void> f = resetting.get(id);
        if (f == null) return;
        try {
            f.get(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            // a reset that failed or hung: the call goes on and meets what is there
        }
    }

    /** Whether a call goes to a facet (or to the node's facet operations). */
    static boolean concerns(Address target) {
        return target instanceof Address.DurableObject o && (FacetIds.isFacet(o) || FacetIds.CONTROL_WORKER.equals(o.workerId()));
    }

    // ---------------------------------------------------------------- who is calling

    /** Notes which object an invocation the node starts is for, until it is done. */
    InvocationListener watch(long invocationId, Message start, InvocationListener listener) {
        Address target = switch (start) {
            case Message.FetchStart f -> f.target();
            case Message.RpcStart r -> r.target();
            case Message.AlarmStart a -> a.target();
            case Message.SocketEvent s -> s.target();
            default -> null;
        };
        return target instanceof Address.DurableObject o ? watch(invocationId, o, listener) : listener;
    }

    InvocationListener watch(long invocationId, Address.DurableObject target, InvocationListener listener) {
        eventsOf.put(invocationId, target);
        Facet facet = FacetIds.isFacet(target) ? byId.get(target.objectId()) : null;
        return new FacetWatch(listener, () -> eventsOf.remove(invocationId), facet == null ? null : facet.usage);
    }

    // ---------------------------------------------------------------- calls

    /** A fetch to a facet from {@code tenant}'s sandbox. */
    void call(String tenant, Message.CallStart call, Consumer<Message> reply) {
        Address.DurableObject target = (Address.DurableObject) call.target();
        start(call, target, admit(tenant, call.invocationId(), target), reply, false);
    }

    /** @param atOnce on a sandbox's reader thread: the facet's start is posted (as {@code WorkerCalls}'s at-once calls are) */
    private void start(Message.CallStart call, Address.DurableObject target, Admitted a, Consumer<Message> reply, boolean atOnce) {
        if (a.refusal != null) {
            reply.accept(new Message.CallFailed(call.callId(), a.code, a.refusal));
            return;
        }
        long invocationId = nextInvocationId.getAsLong();
        // The facet's WebSocket (a 101) is offered to the calling invocation of its parent (another tenant key).
        CallRelay relay = new CallRelay(call.callId(), invocationId, sockets == null ? reply : sockets.offering(call.invocationId(), reply));
        Message.FetchStart start = new Message.FetchStart(invocationId, target, call.method(),
                call.url(), call.headers(), call.body(), relay.streamsBody());
        relay.connect(atOnce ? supervisor.fetchAtOnce(a.worker.tenant(), start, relay) : supervisor.fetch(a.worker.tenant(), start, relay));
    }

    /**
     * {@link #call}, when nothing in it can wait, so that it runs on the caller's reader thread (no
     * virtual thread started and woken per facet call): no abort or delete of the facet is pending,
     * the facet already runs this very code version (no reset of an old one, no index write), its
     * supervisor has no storage quota (no file sizes to read) and the sandbox for generated code is
     * up. False: nothing was done (the call takes {@link #call}'s path).
     */
    boolean callAtOnce(String tenant, Message.CallStart call, Consumer<Message> reply) {
        if (!(call.target() instanceof Address.DurableObject target) || !FacetIds.isFacet(target)) return false;
        if (resetting.containsKey(target.objectId())) return false;
        Facet known = byId.get(target.objectId());
        Address.DurableObject parent = eventsOf.get(call.invocationId());
        if (known == null || parent == null || !target.equals(known.running)) return false;
        FacetQuotas.Limits limits = quotas.of(rootOf(parent));
        if (limits.maxBytesPerFacet() >= 0 || limits.maxBytesTotal() >= 0) return false;
        DeployedWorker w = dynamicWorkers.get(target.workerId());
        if (w == null || !supervisor.ready(w.tenant())) return false;
        Admitted a = admit(tenant, parent, target, true);
        if (a == Admitted.NOT_AT_ONCE) return false;
        callsAtOnce.incrementAndGet();
        start(call, target, a, reply, true);
        return true;
    }

    /** Facet calls started on the caller's reader thread ({@link #callAtOnce}), for benchmarks. */
    final java.util.concurrent.atomic.AtomicLong callsAtOnce = new java.util.concurrent.atomic.AtomicLong();

    /** An RPC to a facet (or a facet operation) from {@code tenant}'s sandbox. */
    void rpc(String tenant, Message.RpcCall call, Consumer<Message> reply) {
        Address.DurableObject target = (Address.DurableObject) call.target();
        if (FacetIds.CONTROL_WORKER.equals(target.workerId())) {
            caps.discard(call.args());
            Pending p = pending.remove(call.invocationId() + "/" + call.callId());
            java.util.concurrent.CompletableFuture<Void> mine = p == null ? null : p.mine();
            try {
                if (p != null && p.before() != null) p.before().get(60, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                // the one before failed: this one still runs
            }
            try {
                reply.accept(control(tenant, call, target));
            } finally {
                if (mine != null) {
                    mine.complete(null);
                    resetting.remove(target.objectId(), mine);
                }
            }
            return;
        }
        Admitted a = admit(tenant, call.invocationId(), target);
        if (a.refusal != null) {
            caps.discard(call.args());
            reply.accept(new Message.CallFailed(call.callId(), a.code, a.refusal));
            return;
        }
        long invocationId = nextInvocationId.getAsLong();
        caps.deliver(call.args(), invocationId);
        supervisor.rpc(a.worker.tenant(), new Message.RpcStart(invocationId, target, call.method(), call.args()),
                new RpcRelay(call.callId(), reply, caps, call.invocationId()));
    }

    private record Admitted(DeployedWorker worker, Facet facet, String code, String refusal) {
        /** {@link #callAtOnce}'s call would have to wait: it takes the slow path. */
        static final Admitted NOT_AT_ONCE = new Admitted(null, null, null, null);

        static Admitted refused(String code, String why) {
            return new Admitted(null, null, code, why);
        }
    }

    /**
     * Whether invocation {@code invocationId} of {@code tenant}'s sandbox may call {@code target}:
     * it must be an event of the facet's parent, the path and id must be the parent's, the class a
     * dynamic worker of the tenant. Registers the facet as run by {@code target} (resetting an
     * older code version first) and applies the parent's quotas.
     */
    private Admitted admit(String tenant, long invocationId, Address.DurableObject target) {
        awaitResets(target.objectId());
        return admit(tenant, eventsOf.get(invocationId), target, false);
    }

    /** With {@code atOnce}, answers {@link Admitted#NOT_AT_ONCE} rather than reset an old code version or write the index. */
    private Admitted admit(String tenant, Address.DurableObject parent, Address.DurableObject target, boolean atOnce) {
        String base = DynamicWorkers.tenantOf(tenant);
        if (parent == null) return Admitted.refused(ErrorCode.NOT_FOUND.code(), "only a durable object can use facets");
        String path = target.name();
        if (path == null) return Admitted.refused(ErrorCode.NOT_FOUND.code(), "a facet has a name");
        Facet known = byId.get(target.objectId());
        // A facet the node knows was checked when it became known (its id is the hash of this very
        // parent and name): the hot path skips the name checks and the hash.
        if (known == null || !known.parentId.equals(parent.objectId()) || !known.path.equals(path)) {
            String name = path.substring(path.lastIndexOf('/') + 1);
            String problem = FacetIds.nameProblem(name);
            if (problem != null) return Admitted.refused(ErrorCode.NOT_FOUND.code(), problem);
            if (!path.equals(FacetIds.path(parent, name)) || !target.objectId().equals(FacetIds.id(parent.objectId(), name))) {
                return Admitted.refused(ErrorCode.NOT_FOUND.code(), "a durable object can reach only its own facets");
            }
            if (FacetIds.depth(path) > FacetIds.MAX_DEPTH) {
                return Admitted.refused(ErrorCode.NOT_FOUND.code(),
                        "Facets can be nested at most " + FacetIds.MAX_DEPTH + " deep, counting the root object.");
            }
        }
        DeployedWorker worker = dynamicWorkers.get(target.workerId());
        if (worker == null || !worker.tenant().equals(DynamicWorkers.generatedTenant(base))) {
            return Admitted.refused(ErrorCode.NOT_FOUND.code(), "no worker '" + target.workerId() + "' can be called from this worker");
        }
        Facet facet = byId.get(target.objectId());
        if (facet == null) {
            String root = rootOf(parent);
            facet = byId.computeIfAbsent(target.objectId(), id -> new Facet(id, base, parent.objectId(), root, path));
            underRoot(facet.root).add(facet);
        }
        if (!facet.tenant.equals(base)) return Admitted.refused(ErrorCode.NOT_FOUND.code(), "a durable object can reach only its own facets");
        if (atOnce && !target.equals(facet.running)) return Admitted.NOT_AT_ONCE;
        String refusal = quotas.admit(facet.root, facet, this);
        if (refusal != null) return Admitted.refused(FacetQuotas.CODE, refusal);
        synchronized (facet) {
            Address.DurableObject old = facet.running;
            // Another code version started since the check above (a rare race): the slow path resets
            // it; this call's request token was taken twice then.
            if (atOnce && !target.equals(old)) return Admitted.NOT_AT_ONCE;
            if (old != null && !old.equals(target)) {
                try {
                    supervisor.resetFacet(old, "A new code version of the facet was started.", false);
                } catch (IllegalStateException e) {
                    return Admitted.refused(ErrorCode.INTERNAL.code(), "the facet's old version could not be stopped: " + e.getMessage());
                }
            }
            if (!target.equals(old)) {
                facet.usage.codeHash = index.started(facet.id, facet.tenant, facet.parentId, facet.path, target.className(), worker);
            }
            facet.running = target;
        }
        return new Admitted(worker, facet, null, null);
    }

    // ---------------------------------------------------------------- supervisors in the node

    /**
     * A fetch from a supervisor implemented in Java ({@code parent}, in the node) to its facet
     * {@code name}, run by {@code workerId}'s {@code className}; checked and counted as a JS
     * supervisor's. Blocks until the answer ({@link Message.CallResult} or {@link Message.CallFailed}).
     */
    Message fetchFromNode(String tenant, Address.DurableObject parent, String name, String workerId, String className,
                          String method, String url, java.util.List<Message.Header> headers, byte[] body) {
        String problem = FacetIds.nameProblem(name);
        if (problem != null) return new Message.CallFailed(0, ErrorCode.NOT_FOUND.code(), problem);
        Address.DurableObject target = new Address.DurableObject(workerId, className, FacetIds.id(parent.objectId(), name),
                FacetIds.path(parent, name));
        awaitResets(target.objectId());
        Admitted a = admit(tenant, parent, target, false);
        if (a.refusal != null) return new Message.CallFailed(0, a.code, a.refusal);
        java.util.concurrent.CompletableFuture<Message> answer = new java.util.concurrent.CompletableFuture<>();
        long invocationId = nextInvocationId.getAsLong();
        CallRelay relay = CallRelay.whole(invocationId, answer::complete);
        relay.connect(supervisor.fetch(a.worker.tenant(), new Message.FetchStart(invocationId, target, method, url, headers,
                body, false), relay));
        try {
            return answer.get(5, java.util.concurrent.TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Message.CallFailed(0, ErrorCode.INTERNAL.code(), "interrupted");
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            return new Message.CallFailed(0, ErrorCode.INTERNAL.code(), "the facet did not answer");
        }
    }

    /** {@code abort} ({@code delete} false) or {@code delete} of facet {@code name} by a supervisor in the node; null or why it failed. */
    String resetFromNode(String tenant, Address.DurableObject parent, String name, boolean delete) {
        String problem = FacetIds.nameProblem(name);
        if (problem != null) return problem;
        Address.DurableObject target = new Address.DurableObject(FacetIds.CONTROL_WORKER, "Facets",
                FacetIds.id(parent.objectId(), name), FacetIds.path(parent, name));
        Message m = control(tenant, parent, new Message.RpcCall(0, 0, target, delete ? "delete" : "abort", null), target);
        return m instanceof Message.CallFailed f ? f.message() : null;
    }

    /** The root supervisor's id of an object that is a supervisor or a facet. */
    String rootOf(Address.DurableObject object) {
        if (!FacetIds.isFacet(object)) return object.objectId();
        Facet f = byId.get(object.objectId());
        return f == null ? object.objectId() : f.root;
    }

    /** The facets whose root supervisor is {@code rootId}, at any depth. */
    java.util.Collection<Facet> facetsUnder(String rootId) {
        java.util.Set<Facet> under = byRoot.get(rootId);
        return under == null ? java.util.List.of() : under;
    }

    /** {@code abort} or {@code delete} of a facet by its parent. */
    private Message control(String tenant, Message.RpcCall call, Address.DurableObject target) {
        return control(tenant, eventsOf.get(call.invocationId()), call, target);
    }

    private Message control(String tenant, Address.DurableObject parent, Message.RpcCall call, Address.DurableObject target) {
        String path = target.name();
        String name = path == null ? "" : path.substring(path.lastIndexOf('/') + 1);
        if (parent == null || path == null || !path.equals(FacetIds.path(parent, name))
                || !target.objectId().equals(FacetIds.id(parent.objectId(), name))) {
            return new Message.CallFailed(call.callId(), ErrorCode.NOT_FOUND.code(), "a durable object can reach only its own facets");
        }
        boolean delete = "delete".equals(call.method());
        String base = DynamicWorkers.tenantOf(tenant);
        Facet facet = byId.get(target.objectId());
        try {
            if (facet != null) {
                synchronized (facet) {
                    reset(facet, delete);
                }
                if (delete) {
                    byId.remove(facet.id);
                    java.util.Set<Facet> siblings = byRoot.get(facet.root);
                    if (siblings != null) siblings.remove(facet);
                }
            } else {
                if (delete) deleteFile(base, target.objectId());
                // A deployed object's facet may be of its worker's own class (the node keeps no record of those).
                if (!FacetIds.isFacet(parent)) resetOwnClass(base, parent.workerId(), target.objectId(), delete);
            }
            if (delete) index.deleted(target.objectId());
        } catch (IllegalStateException | IOException e) {
            return new Message.CallFailed(call.callId(), ErrorCode.INTERNAL.code(), "the facet could not be "
                    + (delete ? "deleted" : "aborted") + ": " + e.getMessage());
        }
        return new Message.RpcResult(call.callId(), StructuredValues.encode(null), false);
    }

    private void reset(Facet facet, boolean delete) throws IOException {
        Address.DurableObject old = facet.running;
        facet.running = null;
        boolean stopped = old != null && supervisor.resetFacet(old,
                delete ? "The facet was deleted." : "The facet was aborted.", delete);
        if (delete && !stopped) deleteFile(facet.tenant, facet.id);
        facet.usage.mayHaveWritten();
    }

    /**
     * Abort or delete of a facet of a deployed worker's own class: an object of that worker (keyed
     * by the facet's id, so only its parent names it), run in the tenant's sandbox as its parent is.
     * The node does not know its class: each class of the worker with a database of that id is
     * reset where it runs, or its file removed if it runs nowhere.
     */
    private void resetOwnClass(String tenant, String worker, String facetId, boolean delete) throws IOException {
        Path dir = dataDir.resolve("tenants").resolve(TenantNames.directoryName(tenant)).resolve("objects").resolve(worker);
        if (!Files.isDirectory(dir)) return;
        java.util.List<Path> classes;
        try (java.util.stream.Stream<Path> list = Files.list(dir)) {
            classes = list.filter(c -> Files.exists(c.resolve(facetId + ".sqlite"))).toList();
        }
        for (Path c : classes) {
            Address.DurableObject o = new Address.DurableObject(worker, c.getFileName().toString(), facetId, null);
            boolean stopped = supervisor.resetFacet(o, delete ? "The facet was deleted." : "The facet was aborted.", delete);
            if (delete && !stopped) {
                for (String suffix : new String[] {"", "-wal", "-shm", "-journal"}) {
                    Files.deleteIfExists(c.resolve(facetId + ".sqlite" + suffix));
                }
            }
        }
    }

    /** A facet that runs nowhere: its file is removed by the node (no sandbox holds it). */
    private void deleteFile(String tenant, String facetId) throws IOException {
        Path dir = facetDir(tenant);
        for (String suffix : new String[] {"", "-wal", "-shm", "-journal"}) {
            Files.deleteIfExists(dir.resolve(facetId + ".sqlite" + suffix));
        }
    }

    /** Where the facets of {@code tenant} keep their databases (its sandbox for generated code writes there). */
    Path facetDir(String tenant) {
        return dataDir.resolve("tenants").resolve(TenantNames.directoryName(DynamicWorkers.generatedTenant(tenant)))
                .resolve("facets");
    }

    /**
     * The bytes a facet's database takes (file and WAL), as of the end of its last event: its file
     * changes only while it runs, so the size is read again only after an event of it ended
     * ({@link FacetWatch}) or it was reset, not on every call (quotas sum it over a supervisor's facets).
     */
    long storageBytes(Facet f) {
        return f.usage.storedBytes(() -> fileBytes(f));
    }

    private long fileBytes(Facet f) {
        Path dir = facetDir(f.tenant);
        long n = 0;
        for (String suffix : new String[] {"", "-wal"}) {
            try {
                n += Files.size(dir.resolve(f.id + ".sqlite" + suffix));
            } catch (IOException e) {
                // not there (yet)
            }
        }
        return n;
    }

    /** The address that runs a facet now, or null (an alarm of it fires there). */
    Address.DurableObject running(String facetId) {
        Facet f = byId.get(facetId);
        if (f == null) return null;
        synchronized (f) {
            return f.running;
        }
    }

    /** The address a facet's alarm is indexed under: one row per facet, whatever code version set it. */
    static Address.DurableObject alarmAddress(Address.DurableObject facet) {
        return new Address.DurableObject(FacetIds.CONTROL_WORKER, "Facet", facet.objectId(), facet.name());
    }

    /**
     * The address that runs facet {@code facetId} for its alarm: where it runs now, or else (no
     * event of its parent started it since the node started, or it was aborted) its last code
     * version from the index, loaded as a dynamic worker of its tenant. Null: the node does not
     * know the facet (deleted) or its code could not be loaded. Blocks (a sandbox may start).
     */
    Address.DurableObject startFor(String facetId) {
        Facet f = byId.get(facetId);
        if (f == null) return null;
        synchronized (f) {
            // Its dynamic worker may be gone (evicted, or with a sandbox that died): then it is started anew.
            if (f.running != null && dynamicWorkers.get(f.running.workerId()) != null) return f.running;
        }
        FacetIndex.Row row = index.row(facetId);
        FacetIndex.Code code = row == null ? null : index.code(row.codeHash());
        if (code == null) return null;
        java.util.concurrent.CompletableFuture<Message> loaded = new java.util.concurrent.CompletableFuture<>();
        // Cached per code version (parent: the node's facet operations, id: the code hash).
        dynamicWorkers.load(f.tenant, new Message.LoadDynamic(0, 0, FacetIds.CONTROL_WORKER, row.codeHash(), code.bundle(),
                code.envJson(), code.networkAllowed(), code.limits()), loaded::complete);
        if (!(loaded.join() instanceof Message.DynamicLoaded l)) return null;
        synchronized (f) {
            // An event of the parent may have started it meanwhile: that version runs the event.
            if (f.running == null || dynamicWorkers.get(f.running.workerId()) == null) {
                f.running = new Address.DurableObject(l.workerId(), row.className(), f.id, f.path);
            }
            return f.running;
        }
    }

    /** Whether {@code target}, set by a sandbox of {@code tenant}, is a facet of that tenant running there. */
    boolean runs(String sandboxTenant, Address.DurableObject target) {
        Facet f = byId.get(target.objectId());
        return f != null && DynamicWorkers.generatedTenant(f.tenant).equals(sandboxTenant) && target.equals(running(f.id));
    }

    /** Every facet the node knows (called since it started), in id order. */
    java.util.List<FacetRecord> records() {
        java.util.List<FacetRecord> out = new java.util.ArrayList<>();
        for (Facet f : new java.util.TreeMap<>(byId).values()) out.add(record(f));
        return out;
    }

    /** The record of one facet, or null if the node does not know it. */
    FacetRecord recordOf(String facetId) {
        Facet f = byId.get(facetId);
        return f == null ? null : record(f);
    }

    private FacetRecord record(Facet f) {
        Address.DurableObject r = f.running;
        return new FacetRecord(f.id, f.tenant, f.root, f.path, r == null ? null : r.workerId(),
                f.usage.codeHash(), f.usage.requests(), f.usage.errors(), f.usage.cpuMs(), storageBytes(f));
    }

    /** The facet with that id, or null. */
    Facet get(String facetId) {
        return byId.get(facetId);
    }

    /** Forwards every event of an invocation; notes its end, and a facet's request, error and CPU. */
    private static final class FacetWatch extends ForwardingInvocationListener {
        private final Runnable ended;
        private final FacetQuotas.Usage usage;

        FacetWatch(InvocationListener inner, Runnable ended, FacetQuotas.Usage usage) {
            super(inner);
            this.ended = ended;
            this.usage = usage;
            if (usage != null) usage.requests.incrementAndGet();
        }

        // What the facet wrote is durable before its answer leaves (the output gate): from then on
        // its size is read again, so the caller's next call is checked against what it just wrote.

        @Override
        public void head(Message.ResponseHead head) {
            if (usage != null) {
                usage.mayHaveWritten();
                if (head.status() >= 500) usage.errors.incrementAndGet();
            }
            super.head(head);
        }

        @Override
        public void failed(Message.InvocationFailed failure) {
            if (usage != null) {
                usage.mayHaveWritten();
                usage.errors.incrementAndGet();
            }
            super.failed(failure);
        }

        @Override
        public void rpcReturn(Message.RpcReturn result) {
            if (usage != null) {
                usage.mayHaveWritten();
                if (result.threw()) usage.errors.incrementAndGet();
            }
            super.rpcReturn(result);
        }

        @Override
        public void done(long cpuMicros) {
            ended.run();
            if (usage != null) {
                usage.cpuMicros.addAndGet(cpuMicros);
                usage.mayHaveWritten();
            }
            super.done(cpuMicros);
        }
    }
}
