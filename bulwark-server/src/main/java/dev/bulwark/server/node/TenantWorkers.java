package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.WorkerCode;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Dynamic workers loaded for a tenant from outside any worker: by the tenant API over HTTP and by a
 * JVM application through the embedding API. They are the tenant's dynamic workers like those a
 * loader binding loads (same {@link WorkerCode} rules, same sandbox for generated code, same LRU
 * budget), under a parent of their own, {@value #PARENT}, which no worker can be named (names
 * cannot contain ':'): so an id loaded here and the same id of a worker's {@code env.LOADER.get}
 * are different workers, and neither way reaches the other's.
 *
 * <p>The node keeps the code of each (bounded per tenant: {@value #MAX_WORKERS_PER_TENANT} workers
 * and {@link #MAX_CODE_BYTES_PER_TENANT} bytes) because there is no parent to ask again: a worker
 * evicted by the LRU budget, or whose sandbox died, is loaded again from it on its next call.
 * Every method takes the tenant the caller was authenticated as, and only ever looks inside it.
 */
public final class TenantWorkers {
    /** The parent of dynamic workers loaded through this API (not a valid worker name). */
    public static final String PARENT = ":api";
    public static final int MAX_WORKERS_PER_TENANT = 1000;
    public static final long MAX_CODE_BYTES_PER_TENANT = 512L << 20;
    /** Largest RPC argument bytes or fetch body one call carries (each travels whole in one frame to the sandbox). */
    public static final int MAX_CALL_PAYLOAD = 32 << 20;
    /** How long past the worker's wall-clock limit a caller waits for a sandbox that never answers. */
    public static final long ANSWER_SLACK_MS = 30_000;

    private final DynamicWorkers dynamic;
    private final SandboxSupervisor supervisor;
    private final Limits limits;
    private final LongSupplier invocationIds;
    /** Per tenant: id to code, sorted (the list's cursor is the last id returned). */
    private final Map<String, TreeMap<String, WorkerCode>> code = new HashMap<>();
    private final Map<String, Object> locks = new ConcurrentHashMap<>();

    TenantWorkers(DynamicWorkers dynamic, SandboxSupervisor supervisor, Limits limits, LongSupplier invocationIds) {
        this.dynamic = dynamic;
        this.supervisor = supervisor;
        this.limits = limits;
        this.invocationIds = invocationIds;
    }

    /** What became of a load or a call target: the worker, or a refusal with its error code. */
    public sealed interface Outcome {
        record Ready(DeployedWorker worker) implements Outcome {}

        /** {@code code}: an {@link ErrorCode} name, or {@code quota_exceeded}. */
        record Refused(String code, int status, String message) implements Outcome {}
    }

    /** One page of a tenant's ids, and the cursor of the next page (null: no more). */
    public record Page(List<String> ids, String cursor) {}

    /**
     * Loads {@code code} as the tenant's worker {@code id}, replacing one loaded under that id.
     * Blocks until it is loaded or failed (a sandbox may have to start). A replacement that fails
     * to load leaves the previous code in place.
     */
    public Outcome load(String tenant, String id, WorkerCode worker) {
        synchronized (lock(tenant)) {
            Outcome.Refused quota = quota(tenant, id, worker);
            if (quota != null) return quota;
            dynamic.unload(tenant, PARENT, id);
            Outcome outcome = deploy(tenant, id, worker);
            if (outcome instanceof Outcome.Ready) {
                synchronized (code) {
                    code.computeIfAbsent(tenant, t -> new TreeMap<>()).put(id, worker);
                }
            }
            return outcome;
        }
    }

    /** The tenant's ids after {@code cursor} (null: from the start), at most {@code limit}. */
    public Page list(String tenant, String cursor, int limit) {
        synchronized (code) {
            TreeMap<String, WorkerCode> ids = code.getOrDefault(tenant, new TreeMap<>());
            List<String> page = new ArrayList<>();
            for (String id : cursor == null ? ids.keySet() : ids.tailMap(cursor, false).keySet()) {
                if (page.size() == limit) return new Page(page, page.getLast());
                page.add(id);
            }
            return new Page(page, null);
        }
    }

    /** Unloads the tenant's worker {@code id}; false if it has none of that id. */
    public boolean unload(String tenant, String id) {
        synchronized (lock(tenant)) {
            boolean known;
            synchronized (code) {
                TreeMap<String, WorkerCode> ids = code.get(tenant);
                known = ids != null && ids.remove(id) != null;
            }
            if (known) dynamic.unload(tenant, PARENT, id);
            return known;
        }
    }

    /** The tenant's worker {@code id}, loaded again from its code if it was evicted; or why not. */
    public Outcome target(String tenant, String id) {
        DeployedWorker w = dynamic.loaded(tenant, PARENT, id);
        if (w != null) return new Outcome.Ready(w);
        synchronized (lock(tenant)) {
            w = dynamic.loaded(tenant, PARENT, id);
            if (w != null) return new Outcome.Ready(w);
            WorkerCode worker;
            synchronized (code) {
                TreeMap<String, WorkerCode> ids = code.get(tenant);
                worker = ids == null ? null : ids.get(id);
            }
            if (worker == null) return notFound(id);
            return deploy(tenant, id, worker);
        }
    }

    /**
     * Calls {@code method} of the tenant's worker {@code id} (its {@code entrypoint}, null: the
     * default export) with serialized {@code args} ({@code StructuredValues}); answers one
     * {@link Message.RpcResult} or {@link Message.CallFailed}.
     */
    public void rpc(String tenant, String id, String entrypoint, String method, byte[] args, Consumer<Message> reply) {
        rpc(tenant, id, entrypoint, method, args, reply, false);
    }

    private void rpc(String tenant, String id, String entrypoint, String method, byte[] args, Consumer<Message> reply,
                     boolean retried) {
        if (args != null && args.length > MAX_CALL_PAYLOAD) {
            reply.accept(tooLarge("RPC arguments"));
            return;
        }
        switch (target(tenant, id)) {
            case Outcome.Refused r -> reply.accept(new Message.CallFailed(0, r.code(), r.message()));
            case Outcome.Ready(DeployedWorker w) -> supervisor.rpc(w.tenant(), new Message.RpcStart(invocationIds.getAsLong(),
                    new Address.Worker(w.name(), entrypoint), method, args), new RpcRelay(0, m -> {
                // Evicted between the lookup and the call: once more, from its code.
                if (!retried && m instanceof Message.CallFailed f && f.code().equals(ErrorCode.NOT_FOUND.code())) {
                    Thread.startVirtualThread(() -> rpc(tenant, id, entrypoint, method, args, reply, true));
                } else {
                    reply.accept(m);
                }
            }));
        }
    }

    /**
     * A fetch of the tenant's worker {@code id}, answered whole by one {@link Message.CallResult}
     * (a body of at most {@link CallRelay#MAX_BODY_BYTES}) or {@link Message.CallFailed}.
     */
    public void fetch(String tenant, String id, String entrypoint, String method, String url, List<Message.Header> headers,
                      byte[] body, Consumer<Message> reply) {
        if (body != null && body.length > MAX_CALL_PAYLOAD) {
            reply.accept(tooLarge("a fetch body"));
            return;
        }
        switch (target(tenant, id)) {
            case Outcome.Refused r -> reply.accept(new Message.CallFailed(0, r.code(), r.message()));
            case Outcome.Ready(DeployedWorker w) -> {
                long invocationId = invocationIds.getAsLong();
                CallRelay relay = CallRelay.whole(invocationId, reply);
                relay.connect(supervisor.fetch(w.tenant(), new Message.FetchStart(invocationId,
                        new Address.Worker(w.name(), entrypoint), method, url, headers, body, false), relay));
            }
        }
    }

    /** Workers the tenant has loaded through this API (tests, metrics). */
    public int count(String tenant) {
        synchronized (code) {
            TreeMap<String, WorkerCode> ids = code.get(tenant);
            return ids == null ? 0 : ids.size();
        }
    }

    private Outcome deploy(String tenant, String id, WorkerCode worker) {
        CompletableFuture<Message> answer = new CompletableFuture<>();
        dynamic.load(tenant, new Message.LoadDynamic(0, 0, PARENT, id, worker.bundle(), worker.envJson(),
                worker.networkAllowed(), worker.limits(limits)), answer::complete);
        return switch (answer.join()) {
            case Message.DynamicLoaded loaded -> {
                DeployedWorker w = dynamic.loaded(tenant, PARENT, id);
                yield w != null ? new Outcome.Ready(w) : notFound(id); // unloaded again at once (budget of 1)
            }
            // A load error is the caller's code at fault (400); anything else keeps its own status.
            case Message.CallFailed f -> new Outcome.Refused(f.code(), f.code().equals(ErrorCode.WORKER_LOAD_FAILED.code())
                    ? 400 : ErrorCode.fromCode(f.code()).status(), f.message());
            default -> new Outcome.Refused(ErrorCode.INTERNAL.code(), 500, ErrorCode.INTERNAL.description());
        };
    }

    private Outcome.Refused quota(String tenant, String id, WorkerCode worker) {
        synchronized (code) {
            TreeMap<String, WorkerCode> ids = code.getOrDefault(tenant, new TreeMap<>());
            if (!ids.containsKey(id) && ids.size() >= MAX_WORKERS_PER_TENANT) {
                return new Outcome.Refused("quota_exceeded", 429, "a tenant may have at most " + MAX_WORKERS_PER_TENANT
                        + " dynamic workers loaded through the API; unload one first");
            }
            long bytes = worker.bundle().codeSize();
            for (Map.Entry<String, WorkerCode> e : ids.entrySet()) {
                if (!e.getKey().equals(id)) bytes += e.getValue().bundle().codeSize();
            }
            if (bytes > MAX_CODE_BYTES_PER_TENANT) {
                return new Outcome.Refused("quota_exceeded", 429, "a tenant's dynamic workers loaded through the API may hold at most "
                        + MAX_CODE_BYTES_PER_TENANT + " bytes of code; unload some first");
            }
            return null;
        }
    }

    /** How long a caller waits for an answer at most: the node's wall-clock limit and some slack. */
    public long answerTimeoutMs() {
        return limits.wallMs() + ANSWER_SLACK_MS;
    }

    private static Message.CallFailed tooLarge(String what) {
        return new Message.CallFailed(0, ErrorCode.REQUEST_TOO_LARGE.code(), what + " may have at most " + MAX_CALL_PAYLOAD + " bytes");
    }

    private static Outcome.Refused notFound(String id) {
        return new Outcome.Refused(ErrorCode.NOT_FOUND.code(), 404, "no dynamic worker '" + id + "' is loaded for this tenant");
    }

    private Object lock(String tenant) {
        return locks.computeIfAbsent(tenant, t -> new Object());
    }
}
