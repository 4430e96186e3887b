package dev.bulwark.server.embed;

import dev.bulwark.objects.java.RpcError;
import dev.bulwark.objects.java.StructuredValues;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.WorkerCode;
import dev.bulwark.server.node.TenantWorkers;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One tenant's dynamic workers, from Java: load, call (RPC and fetch), list, unload. The same workers
 * as the tenant API's over HTTP ({@link TenantWorkers}); calls block the calling thread (virtual
 * threads are fine). RPC values are those of {@link StructuredValues} (the same mapping as Java durable
 * objects): null, Boolean, numbers (a Long back for a safe integer, else a Double), BigInteger,
 * String, byte[], Instant, List, Map, Set, {@link RpcError}.
 */
public final class TenantWorkersClient {
    private final TenantWorkers workers;
    private final String tenant;

    TenantWorkersClient(TenantWorkers workers, String tenant) {
        this.workers = workers;
        this.tenant = tenant;
    }

    /** A fetch's response, whole. */
    public record FetchResult(int status, List<Message.Header> headers, byte[] body) {
        public FetchResult {
            headers = List.copyOf(headers);
            body = body == null ? new byte[0] : body.clone();
        }

        @Override
        public byte[] body() {
            return body.clone();
        }

        public String text() {
            return new String(body, java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    public String tenant() {
        return tenant;
    }

    /** Loads {@code source} as worker {@code id} (replacing one of that id); blocks until loaded. */
    public void load(String id, WorkerSource source) {
        WorkerCode code;
        try {
            code = source.check();
        } catch (WorkerCode.Invalid e) {
            throw new WorkerException(e.tooLarge() ? ErrorCode.CODE_TOO_LARGE.code() : "invalid_worker_code", e.getMessage());
        }
        if (workers.load(tenant, id, code) instanceof TenantWorkers.Outcome.Refused r) {
            throw new WorkerException(r.code(), r.message());
        }
    }

    /** The tenant's ids, in order. */
    public List<String> list() {
        List<String> all = new ArrayList<>();
        String cursor = null;
        do {
            TenantWorkers.Page page = workers.list(tenant, cursor, 1000);
            all.addAll(page.ids());
            cursor = page.cursor();
        } while (cursor != null);
        return all;
    }

    /** Unloads worker {@code id}; false if the tenant has none of that id. */
    public boolean unload(String id) {
        return workers.unload(tenant, id);
    }

    /**
     * Calls {@code method(args...)} on worker {@code id}'s {@code entrypoint} (null: its default export).
     *
     * @throws IllegalArgumentException when an argument has no JS form (see {@link StructuredValues})
     * @throws WorkerException          when the call fails; {@code result_not_java} when the result has no
     *                                  Java form (a RegExp, a Float32Array, a stub, ...)
     */
    public Object call(String id, String entrypoint, String method, Object... args) {
        byte[] serialized = StructuredValues.encode(Arrays.asList(args), TenantWorkers.MAX_CALL_PAYLOAD);
        CompletableFuture<Message> answer = new CompletableFuture<>();
        workers.rpc(tenant, id, entrypoint, method, serialized, answer::complete);
        return switch (await(answer)) {
            case Message.RpcResult r when r.threw() -> {
                Object thrown;
                try {
                    thrown = StructuredValues.decode(r.value());
                } catch (RpcError notJava) {
                    thrown = null;
                }
                if (thrown instanceof RpcError e) throw new WorkerException("worker_threw", e.getMessage(), e.name());
                throw new WorkerException("worker_threw", "the worker threw a value that is not an Error");
            }
            case Message.RpcResult r -> decode(r.value());
            case Message.CallFailed f -> throw new WorkerException(f.code(), f.message());
            default -> throw new WorkerException(ErrorCode.INTERNAL.code(), ErrorCode.INTERNAL.description());
        };
    }

    /** A fetch of worker {@code id} (entrypoint null: its default export), answered whole. */
    public FetchResult fetch(String id, String entrypoint, String method, String url, List<Message.Header> headers, byte[] body) {
        CompletableFuture<Message> answer = new CompletableFuture<>();
        workers.fetch(tenant, id, entrypoint, method, url, headers, body, answer::complete);
        return switch (await(answer)) {
            case Message.CallResult r -> new FetchResult(r.status(), r.headers(), r.body());
            case Message.CallFailed f -> throw new WorkerException(f.code(), f.message());
            default -> throw new WorkerException(ErrorCode.INTERNAL.code(), ErrorCode.INTERNAL.description());
        };
    }

    private static Object decode(byte[] value) {
        try {
            return StructuredValues.decode(value);
        } catch (RpcError e) {
            throw new WorkerException("result_not_java", e.getMessage());
        }
    }

    /** The answer, or a sandbox_unavailable error when none comes within the worker's wall-clock limit and some slack. */
    private Message await(CompletableFuture<Message> answer) {
        try {
            return answer.get(workers.answerTimeoutMs(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new WorkerException(ErrorCode.SANDBOX_UNAVAILABLE.code(), "no answer from the sandbox in time");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WorkerException(ErrorCode.CANCELED.code(), ErrorCode.CANCELED.description());
        } catch (java.util.concurrent.ExecutionException e) {
            throw new WorkerException(ErrorCode.INTERNAL.code(), ErrorCode.INTERNAL.description());
        }
    }
}
