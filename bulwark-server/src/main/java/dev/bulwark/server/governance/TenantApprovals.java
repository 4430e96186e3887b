package dev.bulwark.server.governance;

import dev.bulwark.objects.java.JavaObjectStub;
import dev.bulwark.server.config.ApprovalSettings;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A tenant's approvals as approvers and waiting tool calls see them: listed (and settled, when
 * past their escalation time or expiry) from the tenant's {@link ApprovalIndex} checked against
 * the session objects that own them; decided by the tenant's approvers; waited for by the calls
 * that asked for them, which hold a place in the approval lane meanwhile.
 */
final class TenantApprovals {
    /** The states an approval can be in. */
    static final List<String> STATES = List.of("pending", "escalated", "approved", "rejected", "expired", "used");

    private final Governance gov;
    private final ApprovalWaits waits = new ApprovalWaits();
    private volatile Approvers approvers = new Approvers(List.of());
    private volatile long maxWaitMs = ApprovalSettings.DEFAULT_MAX_WAIT_MS;

    TenantApprovals(Governance gov) {
        this.gov = gov;
    }

    void approvers(List<ApprovalSettings.Approver> list) {
        this.approvers = new Approvers(list);
    }

    void maxWaitMs(long ms) {
        this.maxWaitMs = ms;
    }

    /** See {@link Governance#approvals}. */
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> list(String tenant, String state) {
        SessionIds.checkTenant(tenant);
        if (state != null && !STATES.contains(state)) {
            throw GovernanceException.of(400, "bad_request", "state is one of " + String.join(", ", STATES));
        }
        JavaObjectStub index = gov.approvalIndex(tenant);
        List<Map<String, Object>> all = new ArrayList<>();
        for (Object o : (List<Object>) index.call("list", (Object) null)) all.add(new LinkedHashMap<>((Map<String, Object>) o));
        // The index may lag behind the session objects (an approval used, expired, or a crash between
        // the two writes): states that can still change are read from the session that owns them.
        Map<String, Map<String, Map<String, Object>>> truth = new HashMap<>();
        for (Map<String, Object> a : all) {
            if (!Set.of("pending", "escalated", "approved").contains((String) a.get("state"))) continue;
            String session = (String) a.get("session");
            Map<String, Map<String, Object>> states = truth.computeIfAbsent(session, k -> {
                Map<String, Map<String, Object>> m = new HashMap<>();
                Map<String, Object> listed = (Map<String, Object>) gov.stub(tenant, k).call("approvals");
                if (listed != null) {
                    for (Object x : (List<Object>) listed.get("approvals")) m.put((String) map(x).get("id"), map(x));
                }
                return m;
            });
            Map<String, Object> now = states.get((String) a.get("id"));
            if (now == null) continue;
            if (!now.get("state").equals(a.get("state"))) {
                index.call("state", a.get("id"), now.get("state"));
                if (Set.of("escalated", "expired").contains(now.get("state"))) {
                    gov.approvalEvents().settled(tenant, session, (String) a.get("id"), (String) now.get("state"));
                    gov.notifier().tell((String) now.get("state"), tenant, session, (String) a.get("id"), (String) a.get("tool"));
                }
            }
            a.putAll(now);
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> a : all) if (state == null || state.equals(a.get("state"))) out.add(a);
        return out;
    }

    /** See {@link Governance#decideApproval}. */
    @SuppressWarnings("unchecked")
    Map<String, Object> decide(String tenant, String approvalId, String decision, String approverKey) {
        SessionIds.checkTenant(tenant);
        if (!"approve".equals(decision) && !"reject".equals(decision)) {
            throw GovernanceException.of(400, "bad_request", "decision is \"approve\" or \"reject\"");
        }
        if (approvalId == null || !approvalId.matches("apr_[0-9a-f]{20}")) throw GovernanceException.of(404, "not_found", "no such approval");
        Approvers who = approvers;
        if (!who.any(tenant)) {
            throw GovernanceException.of(403, "no_approvers", "the tenant has no approvers (governance.approvals.approvers)");
        }
        String session = (String) gov.approvalIndex(tenant).call("session", approvalId);
        if (session == null) throw GovernanceException.of(404, "not_found", "no such approval");
        ApprovalSettings.Approver approver = who.identify(tenant, approverKey);
        Map<String, Object> answer = (Map<String, Object>) gov.stub(tenant, gov.known(tenant, session)).call("resolve", approvalId,
                decision, approver == null ? null : approver.name(), approver == null ? null : approver.role());
        if (answer == null) throw GovernanceException.of(404, "not_found", "no such approval");
        if (!Boolean.TRUE.equals(answer.get("ok"))) {
            GovernanceError e = GovernanceError.fromMap((Map<String, Object>) answer.get("error"));
            boolean forbidden = Set.of("not_an_approver", "approval_not_escalated").contains(e.code());
            throw new GovernanceException(forbidden ? 403 : 409, e);
        }
        Map<String, Object> approval = (Map<String, Object>) answer.get("approval");
        gov.metrics().approvalDecided(approval);
        gov.approvalIndex(tenant).call("state", approvalId, approval.get("state"));
        if (Boolean.TRUE.equals(answer.get("decided"))) {
            gov.approvalEvents().decided(tenant, session, approvalId, (String) approval.get("state"));
            waits.decided(approvalId); // after the event: a woken call's waitEnded comes after it
        }
        return approval;
    }

    /**
     * A tool call waits for the decision on {@code approvalId} of its session: at most {@code waitMs},
     * cut to the configured longest wait and to the approval's expiry. Returns when it is decided (or
     * was already), or when the time is up; the caller then asks the session object again.
     */
    @SuppressWarnings("unchecked")
    void await(String tenant, String session, String approvalId, long waitMs) {
        long bound = Math.min(waitMs, maxWaitMs);
        if (bound <= 0) return;
        CompletableFuture<Void> decided = waits.register(approvalId);
        Map<String, Object> listed = (Map<String, Object>) gov.stub(tenant, session).call("approvals");
        Map<String, Object> now = null;
        if (listed != null) {
            for (Object x : (List<Object>) listed.get("approvals")) if (approvalId.equals(map(x).get("id"))) now = map(x);
        }
        if (now == null || !Set.of("pending", "escalated").contains(now.get("state"))) {
            waits.forget(approvalId, decided);
            return;
        }
        bound = Math.min(bound, Math.max(0, (Long) now.get("expiresAt") - gov.now()));
        gov.approvalEvents().waitStarted(tenant, session, approvalId, bound);
        boolean came;
        // While it waits, the run holds a place in the approval lane, not in its own.
        try (Lanes.Parked parked = gov.lanes().parkForApproval(session)) {
            came = waits.await(approvalId, decided, bound);
        }
        gov.approvalEvents().waitEnded(tenant, session, approvalId, came ? "decided" : (String) now.get("state"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }
}
