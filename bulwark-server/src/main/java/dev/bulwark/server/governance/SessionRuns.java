package dev.bulwark.server.governance;

import dev.bulwark.objects.java.RpcError;
import dev.bulwark.objects.java.StructuredValues;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.WorkerCode;
import dev.bulwark.server.node.Node;
import dev.bulwark.server.node.SessionWorkers;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs of generated code in sessions: each under an envelope the session object issues, as a
 * dynamic worker whose env holds only {@code TOOLS} (a capability revoked when the run returns,
 * or when its session ends first), in a lane; its outcome turned into the run's answer or a
 * structured error that shows the tenant only what is its own to see.
 */
final class SessionRuns {
    private final Governance gov;
    private final Node node;
    /** Capability names of runs in flight, per session: revoked when the session ends. */
    private final Map<String, Set<String>> live = new ConcurrentHashMap<>();

    SessionRuns(Governance gov, Node node) {
        this.gov = gov;
        this.node = node;
    }

    /** See {@link Governance#run(String, String, WorkerCode, Object, String)}. */
    Governance.LanedRun run(String tenant, String id, WorkerCode code, Object input, String lane) {
        Lane chosen = Lane.choose(lane, (String) gov.session(tenant, id).get("risk"));
        try (LaneSlot slot = gov.lanes().enter(tenant, id, chosen)) {
            return new Governance.LanedRun(slot.lane(), run(tenant, id, code, input));
        }
    }

    /** See {@link Governance#run(String, String, WorkerCode, Object)}. */
    @SuppressWarnings("unchecked")
    Governance.Run run(String tenant, String id, WorkerCode code, Object input) {
        gov.known(tenant, id);
        String codeHash = SessionCode.hash(code);
        Map<String, Object> d = (Map<String, Object>) gov.stub(tenant, id).call("dispatch", codeHash);
        if (d == null || !Boolean.TRUE.equals(d.get("ok"))) {
            GovernanceError e = d == null ? GovernanceError.of("session_not_found", "no such session")
                    : GovernanceError.fromMap((Map<String, Object>) d.get("error"));
            throw new GovernanceException(e.code().equals("session_not_found") ? 404 : 409, e);
        }
        String envelope = (String) d.get("envelope");
        String capName = "bulwark-session:" + id + ":" + envelope;
        WorkerCode wrapped;
        try {
            wrapped = SessionCode.wrap(code, (Long) d.get("cpuMs"));
        } catch (IllegalArgumentException e) {
            gov.stub(tenant, id).call("retire", envelope);
            throw GovernanceException.of(400, "invalid_worker_code", e.getMessage());
        }
        byte[] args = StructuredValues.encode(List.of(input == null ? Map.of() : input), 8 << 20);
        live.computeIfAbsent(id, k -> ConcurrentHashMap.newKeySet()).add(capName);
        Message outcome;
        try {
            outcome = node.sessionWorkers().run(tenant, id, envelope, wrapped, "TOOLS", capName,
                    new SessionTools(gov, tenant, id, (String) d.get("token")), "run", args);
        } finally {
            Set<String> runs = live.get(id);
            if (runs != null) runs.remove(capName);
            gov.stub(tenant, id).call("retire", envelope);
        }
        return switch (outcome) {
            case Message.RpcResult r when r.threw() -> {
                Object thrown = decodeOrNull(r.value());
                throw GovernanceException.of(500, "code_threw", thrown instanceof RpcError e ? e.toString() : "the code threw a value");
            }
            case Message.RpcResult r -> new Governance.Run(envelope, decodeOrNull(r.value()));
            case Message.CallFailed f when f.code().equals(SessionWorkers.FULL) ->
                    throw GovernanceException.retryLater(503, f.code(), f.message(), 1);
            case Message.CallFailed f -> {
                ErrorCode c = ErrorCode.fromCode(f.code());
                boolean own = f.code().equals(ErrorCode.WORKER_LOAD_FAILED.code());
                // The tenant's own load error and the limits it hit are its to see; anything else only by its code.
                boolean shown = own || c == ErrorCode.CPU_LIMIT_EXCEEDED || c == ErrorCode.WALL_TIME_EXCEEDED
                        || c == ErrorCode.MEMORY_LIMIT_EXCEEDED;
                throw GovernanceException.of(own ? 400 : c.status(), c.code(), shown && f.message() != null ? f.message() : c.description());
            }
            default -> throw GovernanceException.of(500, ErrorCode.INTERNAL.code(), ErrorCode.INTERNAL.description());
        };
    }

    /** The session ended: the capability of every run of it in flight is revoked (their next tool call fails). */
    void sessionEnded(String id) {
        Set<String> runs = live.remove(id);
        if (runs != null) runs.forEach(node::revokeCapability);
    }

    private static Object decodeOrNull(byte[] value) {
        try {
            return StructuredValues.decode(value);
        } catch (RpcError e) {
            return null;
        }
    }
}
