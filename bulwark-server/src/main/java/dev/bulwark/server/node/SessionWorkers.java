package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Binding;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.WorkerCode;
import dev.bulwark.server.caps.JavaCapability;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/**
 * Runs one piece of generated code for governance (issue 15): the code is loaded as a dynamic worker
 * of its tenant, in a sandbox process of the run's own ({@link SessionSandboxes}), under a parent of its own,
 * {@value #PARENT}, with exactly one capability in its env, a Java capability the caller made for
 * this run; then one RPC method of its default entrypoint is called, and the worker is unloaded and
 * the capability revoked whatever happened. Nothing is remembered: an id is used for one run.
 */
public final class SessionWorkers {
    /** The parent of session runs (not a valid worker name, nor the tenant API's). */
    public static final String PARENT = ":session";
    private static final long ANSWER_SLACK_MS = 30_000;
    /** The CallFailed code of a run refused because every session sandbox is taken (retryable). */
    public static final String FULL = "session_sandboxes_full";

    private final DynamicWorkers dynamic;
    private final SandboxSupervisor supervisor;
    private final Capabilities caps;
    private final Limits limits;
    private final LongSupplier invocationIds;
    private final SessionSandboxes sandboxes;

    SessionWorkers(DynamicWorkers dynamic, SandboxSupervisor supervisor, Capabilities caps, Limits limits,
                   LongSupplier invocationIds, SessionSandboxes sandboxes) {
        this.sandboxes = sandboxes;
        this.dynamic = dynamic;
        this.supervisor = supervisor;
        this.caps = caps;
        this.limits = limits;
        this.invocationIds = invocationIds;
    }

    /**
     * Loads {@code code} as run {@code runId} of {@code tenant} with {@code env[envName]} a stub on
     * {@code capability} (registered under {@code capabilityName}, which must be unique to this run),
     * calls {@code method} of its default entrypoint with serialized {@code args}, and answers the
     * {@link Message.RpcResult} or a {@link Message.CallFailed}. Blocks until then.
     */
    public Message run(String tenant, String runId, WorkerCode code, String envName, String capabilityName,
                       JavaCapability capability, String method, byte[] args) {
        return run(tenant, runId, runId, code, envName, capabilityName, capability, method, args);
    }

    /**
     * {@link #run(String, String, WorkerCode, String, String, JavaCapability, String, byte[])} as a run of
     * {@code session}: it runs in that session's sandbox process, which no other session's code shares.
     */
    public Message run(String tenant, String session, String runId, WorkerCode code, String envName, String capabilityName,
                       JavaCapability capability, String method, byte[] args) {
        Capabilities.Cap cap = caps.javaCap(capabilityName, capability);
        SessionSandboxes.Lease lease = null;
        try {
            try {
                lease = sandboxes.take(tenant, session);
            } catch (SessionSandboxes.Full e) {
                return new Message.CallFailed(0, FULL, e.getMessage());
            } catch (java.io.IOException e) {
                return new Message.CallFailed(0, ErrorCode.SANDBOX_UNAVAILABLE.code(), ErrorCode.SANDBOX_UNAVAILABLE.description());
            }
            // The run's own process: its worker, and so its TOOLS id, is loaded there and nowhere else,
            // and the id is usable only from that process (its key is the env ref's holder).
            String key = lease.key();
            CompletableFuture<Message> loaded = new CompletableFuture<>();
            dynamic.load(tenant, key, new Message.LoadDynamic(0, 0, PARENT, runId, code.bundle(), code.envJson(),
                            false, code.limits(limits)), loaded::complete,
                    workerId -> List.of(new Binding.Capability(envName, caps.grantToWorker(cap, workerId, key))));
            Message load = loaded.join();
            if (!(load instanceof Message.DynamicLoaded)) {
                // The session's process died under the load (killed, over its memory): not the code's fault.
                if (!lease.process().isAlive()) {
                    return new Message.CallFailed(0, ErrorCode.SANDBOX_CRASHED.code(), ErrorCode.SANDBOX_CRASHED.description());
                }
                return load;
            }
            DeployedWorker w = dynamic.loaded(tenant, PARENT, runId);
            if (w == null) return new Message.CallFailed(0, ErrorCode.NOT_FOUND.code(), "the run's worker was evicted at once");
            CompletableFuture<Message> answer = new CompletableFuture<>();
            supervisor.rpc(w.tenant(), new Message.RpcStart(invocationIds.getAsLong(), new Address.Worker(w.name(), null),
                    method, args), new RpcRelay(0, answer::complete));
            try {
                return answer.get(w.limits().wallMs() + ANSWER_SLACK_MS, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                return new Message.CallFailed(0, ErrorCode.SANDBOX_UNAVAILABLE.code(), ErrorCode.SANDBOX_UNAVAILABLE.description());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Message.CallFailed(0, ErrorCode.INTERNAL.code(), ErrorCode.INTERNAL.description());
            } catch (java.util.concurrent.ExecutionException e) {
                return new Message.CallFailed(0, ErrorCode.INTERNAL.code(), ErrorCode.INTERNAL.description());
            }
        } finally {
            caps.revokeJava(capabilityName);
            DeployedWorker w = dynamic.loaded(tenant, PARENT, runId);
            dynamic.unload(tenant, PARENT, runId);
            if (w != null) caps.workerUnloaded(w.name());
            if (lease != null) lease.close(); // the process ran this session's code: it runs no other session's
        }
    }

    /** A session was admitted: start the tenant's spare sandbox now, so its first run does not wait for one. */
    public void prewarm(String tenant) {
        sandboxes.prewarm(tenant);
    }

    /** A session ended: its sandbox process stops once no run of it is in flight. */
    public void sessionEnded(String session) {
        sandboxes.sessionEnded(session);
    }

    /** The sandboxes of sessions' runs (no two sessions share one). */
    public SessionSandboxes sandboxes() {
        return sandboxes;
    }
}
