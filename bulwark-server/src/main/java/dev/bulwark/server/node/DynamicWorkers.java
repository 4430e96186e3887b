package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The dynamic workers that loader bindings asked for: each runs in the sandbox its tenant keeps for
 * generated code (never in the process that holds its parent's env), is cached by (tenant, parent
 * worker, id) so that two parents never share an id, and is evicted least-recently-used past the
 * tenant's budget. An evicted worker is loaded again from its parent's code callback on its next
 * call: eviction costs time, nothing else.
 *
 * <p>The node does not know whether a loaded worker holds an isolate: its sandbox makes idle ones
 * dormant (the isolate given back, the code kept; {@link dev.bulwark.sandbox.isolate.Dormancy}) and
 * wakes them on their next event, so for the node, and for whether a parent's callback runs, a
 * dormant worker is loaded. The budget here counts live and dormant ones together.
 */
final class DynamicWorkers {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(DynamicWorkers.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String GENERATED = "generated:";

    private final SandboxSupervisor supervisor;
    private final int budget;
    /** Access-ordered: the eldest entry is the least recently used. Keyed by worker id. */
    private final LinkedHashMap<String, DeployedWorker> loaded = new LinkedHashMap<>(16, 0.75f, true);
    private final Map<String, String> idsByKey = new java.util.HashMap<>();
    /** The same workers by id, for lookups that must not count as a use (every facet call makes one). */
    private final Map<String, DeployedWorker> byId = new java.util.concurrent.ConcurrentHashMap<>();

    DynamicWorkers(SandboxSupervisor supervisor, int budget) {
        this.supervisor = supervisor;
        this.budget = budget;
    }

    /** The tenant key of a tenant's sandboxes for generated code (real tenant names cannot contain ':'). */
    static String generatedTenant(String tenant) {
        return GENERATED + tenant;
    }

    /** Whether a sandbox tenant key is that of a sandbox for generated code. */
    static boolean isGenerated(String sandboxTenant) {
        return sandboxTenant.startsWith(GENERATED);
    }

    /** The tenant a sandbox for generated code belongs to (a session's sandbox too, see {@link #sessionTenant}). */
    static String tenantOf(String sandboxTenant) {
        if (!isGenerated(sandboxTenant)) return sandboxTenant;
        String rest = sandboxTenant.substring(GENERATED.length());
        int session = rest.indexOf(':');
        return session < 0 ? rest : rest.substring(0, session);
    }

    /**
     * The tenant key of one sandbox process of {@code tenant} for a session's generated code
     * ({@link SessionSandboxes}): generated code, but no other code shares the process.
     */
    static String sessionTenant(String tenant, long n) {
        return GENERATED + tenant + ":s" + n;
    }

    /** Whether a sandbox tenant key is that of one session's sandbox ({@link #sessionTenant}). */
    static boolean isSession(String sandboxTenant) {
        return isGenerated(sandboxTenant) && sandboxTenant.indexOf(':', GENERATED.length()) >= 0;
    }

    /** The loaded dynamic worker with this id, or null (no use-order change: not a call). */
    DeployedWorker get(String workerId) {
        return byId.get(workerId);
    }

    /**
     * A loader binding of a worker of {@code tenant} asks for a dynamic worker; answers
     * DynamicLoaded or CallFailed through {@code reply}. Blocks when a sandbox has to start or
     * another load or an unloading is under way: call it on a thread of its own unless
     * {@link #loadsAtOnce} said none is. A new worker's answer comes later, on the reader thread of
     * the sandbox that loaded it: {@code reply} must not block on a sandbox's socket.
     */
    void load(String tenant, Message.LoadDynamic request, Consumer<Message> reply) {
        load(tenant, request, reply, workerId -> List.of());
    }

    /** The parent's typed grants (globalOutbound, tails) and the capabilities it put in the env. */
    private static List<dev.bulwark.sandbox.worker.Binding> withEnvCapabilities(List<dev.bulwark.sandbox.worker.Binding> grants,
                                                                           List<dev.bulwark.sandbox.worker.Binding> envCaps) {
        if (envCaps.isEmpty()) return grants;
        List<dev.bulwark.sandbox.worker.Binding> all = new java.util.ArrayList<>(grants);
        all.addAll(envCaps);
        return List.copyOf(all);
    }

    private volatile Consumer<String> onUnload = id -> {};

    /** Told the id of every dynamic worker unloaded (evicted, failed, or gone with its sandbox). */
    void onUnload(Consumer<String> listener) {
        this.onUnload = listener;
    }

    /**
     * {@link #load(String, Message.LoadDynamic, Consumer)} whose worker gets the bindings
     * {@code envBindings} makes for its id (capabilities its parent put in its env).
     */
    void load(String tenant, Message.LoadDynamic request, Consumer<Message> reply,
              java.util.function.Function<String, List<dev.bulwark.sandbox.worker.Binding>> envBindings) {
        load(tenant, generatedTenant(tenant), request, reply, envBindings);
    }

    /** {@link #load(String, Message.LoadDynamic, Consumer, java.util.function.Function)} into the sandboxes of {@code sandboxTenant}. */
    void load(String tenant, String sandboxTenant, Message.LoadDynamic request, Consumer<Message> reply,
              java.util.function.Function<String, List<dev.bulwark.sandbox.worker.Binding>> envBindings) {
        String key = request.id() == null ? null : key(tenant, request.parentWorker(), request.id());
        if (request.bundle() == null) {
            DeployedWorker known = known(key);
            reply.accept(known != null ? new Message.DynamicLoaded(request.callId(), known.name())
                    : new Message.CallFailed(request.callId(), ErrorCode.NOT_FOUND.code(), "not loaded"));
            return;
        }
        if (key == null) {
            loadNew(null, sandboxTenant, request, reply, envBindings);
            return;
        }
        // One instance per id: a load of an id that is loaded, or being loaded by another request
        // of the same parent, answers with that one (a second deploy of the same worker id would
        // replace the instance the first request is calling).
        DeployedWorker known;
        CompletableFuture<Message> underWay = null, mine = null;
        synchronized (this) {
            known = known(key);
            if (known == null) {
                underWay = loading.get(key);
                if (underWay == null) loading.put(key, mine = new CompletableFuture<>());
            }
        }
        if (known != null) {
            reply.accept(new Message.DynamicLoaded(request.callId(), known.name()));
            return;
        }
        if (underWay != null) {
            reply.accept(answering(underWay.join(), request.callId()));
            return;
        }
        CompletableFuture<Message> done = mine;
        CompletableFuture<Message> outcome = CompletableFuture.completedFuture(null);
        try {
            outcome = loadNew(key, sandboxTenant, request, reply, envBindings);
        } finally {
            // Loads of this id waiting for this one go on once it is answered (on whichever thread that is).
            outcome.whenComplete((m, e) -> {
                synchronized (this) {
                    loading.remove(key);
                }
                done.complete(m != null ? m : new Message.CallFailed(request.callId(),
                        ErrorCode.WORKER_LOAD_FAILED.code(), "the dynamic worker failed to load"));
            });
        }
    }

    /**
     * Whether a load for {@code tenant} would start without waiting: its sandbox for generated code
     * is up, and no other load or unloading is under way (one of them could be of the same id;
     * rare at one request at a time, so the check need not know the id). A load that then finds
     * one anyway (it began meanwhile) waits for it briefly, on a future, never on a socket.
     */
    boolean loadsAtOnce(String tenant) {
        if (!supervisor.ready(generatedTenant(tenant))) return false;
        synchronized (this) {
            return loading.isEmpty() && unloading.isEmpty();
        }
    }

    /** Loads of get() keys under way, each with its outcome once answered (guarded by this). */
    private final Map<String, CompletableFuture<Message>> loading = new java.util.HashMap<>();

    /** The outcome of another request's load of the same id, as the answer to this request's call. */
    private static Message answering(Message outcome, long callId) {
        return switch (outcome) {
            case Message.DynamicLoaded l -> new Message.DynamicLoaded(callId, l.workerId());
            case Message.CallFailed f -> new Message.CallFailed(callId, f.code(), f.message(), f.thrown());
            default -> throw new IllegalStateException("not a load's answer: " + outcome.getClass().getSimpleName());
        };
    }

    /**
     * Deploys a new dynamic worker (of a get() key, or of load() when {@code key} is null); the
     * future completes with the answer sent. Waits for the sandbox to be up; what follows the load
     * (the answer, and the call held behind the load) runs on the sandbox's reader thread that
     * read its {@code WorkerLoaded}: no thread is woken for it (docs/notes/nodehop.md).
     */
    private CompletableFuture<Message> loadNew(String key, String sandboxTenant, Message.LoadDynamic request,
                                               Consumer<Message> reply,
                                               java.util.function.Function<String, List<dev.bulwark.sandbox.worker.Binding>> envBindings) {
        String workerId = key == null ? "dyn-" + HexFormat.of().formatHex(randomBytes()) : "dyn-" + hash(key);
        awaitUnloaded(workerId);
        DeployedWorker worker = new DeployedWorker(workerId, sandboxTenant, request.bundle(),
                request.envJson(), withEnvCapabilities(request.bindings(), envBindings.apply(workerId)),
                request.networkAllowed(), request.limits());
        return supervisor.deploying(worker, false).thenApply(failure -> {
            try {
                return loaded(key, worker, request, reply, failure);
            } catch (RuntimeException e) {
                log.warn("loading a dynamic worker failed", e);
                Message failed = new Message.CallFailed(request.callId(), ErrorCode.INTERNAL.code(),
                        "the dynamic worker could not be loaded");
                reply.accept(failed);
                return failed;
            }
        });
    }

    /** A new dynamic worker's load was answered ({@code failure} null: loaded): the answer goes out, then any eviction. */
    private Message loaded(String key, DeployedWorker worker, Message.LoadDynamic request, Consumer<Message> reply,
                           Message.WorkerLoadFailed failure) {
        if (failure != null) {
            supervisor.undeploy(worker.tenant(), worker.name());
            onUnload.accept(worker.name());
            Message failed = new Message.CallFailed(request.callId(), ErrorCode.WORKER_LOAD_FAILED.code(),
                    "the dynamic worker failed to load: " + failure.message());
            reply.accept(failed);
            return failed;
        }
        List<DeployedWorker> evicted = remember(key, worker);
        Message loaded = new Message.DynamicLoaded(request.callId(), worker.name());
        // The answer first (the call held behind the load leaves with it): the evicted workers'
        // UnloadWorkers follow it instead of delaying it, and the sandbox starts the call first.
        reply.accept(loaded);
        for (DeployedWorker w : evicted) {
            try {
                supervisor.undeploy(w.tenant(), w.name());
            } finally {
                unloaded(w.name());
            }
            onUnload.accept(w.name());
        }
        return loaded;
    }

    /**
     * Ids taken out of the tables whose UnloadWorker is not sent yet. An id of a get() key is the
     * same every time it is loaded, so a load of it must wait until the unloading of its previous
     * instance has gone out: otherwise that late UnloadWorker would unload the new instance in the
     * sandbox while this table says it is loaded (every call would then fail with not_found).
     */
    private final java.util.Set<String> unloading = new java.util.HashSet<>();

    private synchronized void awaitUnloaded(String workerId) {
        boolean interrupted = false;
        while (unloading.contains(workerId)) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    private synchronized void unloaded(String workerId) {
        if (unloading.remove(workerId)) notifyAll();
    }

    /**
     * A sandbox for generated code is gone, and with it every dynamic worker it held: they are
     * loaded again from their parents' code on their next call (a replacement starts empty).
     */
    synchronized void sandboxGone(String sandboxTenant) {
        if (!sandboxTenant.startsWith(GENERATED)) return;
        loaded.values().removeIf(w -> w.tenant().equals(sandboxTenant));
        idsByKey.values().removeIf(id -> !loaded.containsKey(id));
        byId.keySet().retainAll(loaded.keySet());
    }

    /** The loaded dynamic worker with this id that a worker of {@code tenant} may call, or null. */
    synchronized DeployedWorker callable(String tenant, String workerId) {
        DeployedWorker w = loaded.get(workerId);
        return w != null && w.tenant().equals(generatedTenant(tenant)) ? w : null;
    }

    /** The cache key of a {@code get()} id: per tenant and per parent, never shared. */
    private static String key(String tenant, String parent, String id) {
        return tenant + "\n" + parent + "\n" + id;
    }

    /** The loaded dynamic worker of this tenant, parent and id, or null (never loaded, evicted, or its sandbox died). */
    synchronized DeployedWorker loaded(String tenant, String parent, String id) {
        return known(key(tenant, parent, id));
    }

    /** Unloads the dynamic worker of this tenant, parent and id, if it is loaded (the tenant API's DELETE). */
    void unload(String tenant, String parent, String id) {
        DeployedWorker w;
        synchronized (this) {
            String workerId = idsByKey.remove(key(tenant, parent, id));
            w = workerId == null ? null : loaded.remove(workerId);
            if (workerId != null) byId.remove(workerId);
            if (w != null) unloading.add(w.name());
        }
        if (w != null) {
            try {
                supervisor.undeploy(w.tenant(), w.name());
            } finally {
                unloaded(w.name());
            }
        }
    }

    synchronized int size() {
        return loaded.size();
    }

    private synchronized DeployedWorker known(String key) {
        if (key == null) return null;
        String id = idsByKey.get(key);
        return id == null ? null : loaded.get(id);
    }

    /**
     * Code of a tenant's loaded dynamic workers (live and dormant) kept at most, beyond the one just
     * loaded: their bundles stay in the node and in the sandbox (a Java heap of 256 MiB), and dormant
     * workers are many, so the count alone does not bound the bytes.
     */
    static final long CODE_BYTES_PER_TENANT = 128L << 20;

    /** Records a load and returns what fell out of the tenant's budget (a count, and {@link #CODE_BYTES_PER_TENANT}). */
    private synchronized List<DeployedWorker> remember(String key, DeployedWorker worker) {
        loaded.put(worker.name(), worker);
        byId.put(worker.name(), worker);
        if (key != null) idsByKey.put(key, worker.name());
        List<DeployedWorker> evicted = new ArrayList<>();
        long ofTenant = 0, bytes = 0;
        for (DeployedWorker w : loaded.values()) {
            if (!w.tenant().equals(worker.tenant())) continue;
            ofTenant++;
            bytes += w.bundle().codeSize();
        }
        for (Iterator<DeployedWorker> it = loaded.values().iterator();
             it.hasNext() && (ofTenant > budget || bytes > CODE_BYTES_PER_TENANT); ) {
            DeployedWorker w = it.next();
            if (!w.tenant().equals(worker.tenant()) || w == worker) continue;
            it.remove();
            byId.remove(w.name());
            idsByKey.values().remove(w.name());
            unloading.add(w.name());
            evicted.add(w);
            ofTenant--;
            bytes -= w.bundle().codeSize();
        }
        return evicted;
    }

    /**
     * What the sandboxes for generated code are told about dormant workers: the idle time, and the
     * tenant's live budget when dormant workers are kept beyond it (the node's budget counts both).
     */
    static dev.bulwark.sandbox.isolate.Dormancy dormancy(dev.bulwark.server.config.SandboxSettings sb) {
        var d = sb.dormant();
        if (d.idleIsolateMs() == 0 && d.max() == 0) return dev.bulwark.sandbox.isolate.Dormancy.OFF;
        return new dev.bulwark.sandbox.isolate.Dormancy(d.idleIsolateMs(), d.max() == 0 ? Integer.MAX_VALUE : sb.dynamicWorkersMax());
    }

    private static byte[] randomBytes() {
        return randomBytes(12);
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    /** A secret of this JVM: worker ids of cache keys cannot be computed from the key outside the node. */
    private static final byte[] ID_KEY = randomBytes(32);

    private static String hash(String key) {
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(ID_KEY, "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(key.getBytes(StandardCharsets.UTF_8)), 0, 12);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JDK", e);
        }
    }
}
