package dev.bulwark.server.governance;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The approvals side of one session object (issue 15 "Approval"): asking for an approval, the
 * answer a waiting call gets, approvers' votes (role, identity, quorum, not the session's own
 * actor), and the deadlines (escalation, expiry) written and audited the first time they are seen
 * past. Every method runs inside one event of the session object, so what it writes commits with
 * the audit row that says so.
 */
final class ApprovalGate {
    private final SessionApprovals approvals;
    private final AuditTrail audit;
    private final Governance gov;
    private final String session;

    ApprovalGate(SessionApprovals approvals, AuditTrail audit, Governance gov, String session) {
        this.approvals = approvals;
        this.audit = audit;
        this.gov = gov;
        this.session = session;
    }

    /**
     * A new pending approval for a privileged call (audited as {@code approval_requested}). Its quorum:
     * the tool's configured one, raised to {@code policyQuorum} (the {@code @quorum} of the permit rules
     * that decided; null: none) when that is larger.
     */
    SessionApprovals.Approval request(long now, Map<String, Object> decisionBody, String key, String tool, String argsHash,
                                      Integer policyQuorum) {
        long quorum = Math.max(gov.approvalQuorum(tool), policyQuorum == null ? 0 : policyQuorum);
        byte[] random = new byte[10];
        Governance.RANDOM.nextBytes(random);
        String id = "apr_" + HexFormat.of().formatHex(random);
        long escalateAfter = gov.approvalEscalateAfterMs();
        approvals.insert(id, key, tool, argsHash, now, now + gov.approvalTtlMs(), quorum,
                escalateAfter > 0 ? now + escalateAfter : null);
        Map<String, Object> body = new LinkedHashMap<>(decisionBody);
        body.put("approval", id);
        body.put("argsHash", argsHash);
        body.put("quorum", quorum);
        audit.append(now, "approval", body);
        return approvals.byId(id);
    }

    /**
     * Writes, and audits once, what the clock decided since an approval was last seen: escalated
     * (to the {@code escalation} role) or expired. Returns the approval as it now stands.
     */
    SessionApprovals.Approval settle(SessionApprovals.Approval a, long now) {
        if (a == null) return null;
        String state = a.stateAt(now);
        if (state.equals(a.state())) return a;
        approvals.setState(a.id(), state);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("approval", a.id());
        body.put("state", state);
        if (state.equals("escalated")) body.put("to", "escalation");
        audit.append(now, "approval", body);
        return approvals.byId(a.id());
    }

    /** Settles every approval still waiting (a listing, a view, a sweep after a restart). */
    void settleAll(long now) {
        for (SessionApprovals.Approval a : approvals.open()) settle(a, now);
    }

    /** What a call waiting on {@code a} (settled) is answered. */
    static GovernanceError waiting(SessionApprovals.Approval a) {
        return switch (a.state()) {
            case "pending", "escalated" -> new GovernanceError("approval_pending", "the call waits for an approval (" + a.id()
                    + (a.state().equals("escalated") ? ", escalated" : "")
                    + "); call again with the same idempotencyKey once it is approved", null, null, true);
            case "rejected" -> GovernanceError.of("approval_rejected", "the approval " + a.id() + " was rejected");
            case "expired" -> GovernanceError.of("approval_expired", "the approval " + a.id() + " expired before it was decided");
            case "approved", "used" -> GovernanceError.of("approval_used", "the approval " + a.id() + " was used by an earlier call");
            default -> throw new IllegalStateException("approval state " + a.state());
        };
    }

    Map<String, Object> toMap(SessionApprovals.Approval a, long now) {
        return approvals.toMap(a, session, now);
    }

    /** Every approval of the session, settled, oldest first. */
    List<Object> list(long now) {
        settleAll(now);
        List<Object> out = new ArrayList<>();
        for (SessionApprovals.Approval a : approvals.all()) out.add(toMap(a, now));
        return out;
    }

    /** The approvals still waiting for a decision, settled (the session's view shows them). */
    List<Object> waiting(long now) {
        settleAll(now);
        List<Object> out = new ArrayList<>();
        for (SessionApprovals.Approval a : approvals.open()) out.add(toMap(a, now));
        return out;
    }

    /**
     * One approver's vote on {@code approvalId}: {@code approve} or {@code reject}. {@code approver}
     * null: the key presented is no approver's of the tenant. Refused (and audited): an unknown
     * approver, the session's own actor, a decided approval, the escalation role before the
     * approval escalated, a second vote of the same approver. One rejection rejects; approvals from
     * {@code quorum} distinct approvers approve. Answers {@code {ok, approval, decided}} or the error.
     */
    Map<String, Object> resolve(long now, String approvalId, String decision, String approver, String role, String actor) {
        SessionApprovals.Approval a = settle(approvals.byId(approvalId), now);
        if (a == null) return null;
        GovernanceError err = null;
        if (approver == null) {
            err = GovernanceError.of("not_an_approver", "the key presented is not an approver's of this tenant");
        } else if (approver.equals(actor)) {
            err = GovernanceError.of("approver_is_actor", "the session's own actor cannot approve its calls");
        } else if (!a.open()) {
            err = GovernanceError.of("approval_" + a.state(), "the approval is " + a.state() + ", not pending");
        } else if (role.equals("escalation") && !a.state().equals("escalated")) {
            err = GovernanceError.of("approval_not_escalated", "the escalation role decides an approval only once it is escalated");
        } else if (approvals.votes(a.id()).stream().anyMatch(v -> v.approver().equals(approver))) {
            err = GovernanceError.of("approver_already_voted", "each approver votes once; a quorum needs distinct approvers");
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("approval", approvalId);
        body.put("approver", approver);
        body.put("role", role);
        body.put("vote", decision);
        if (err != null) {
            body.put("error", err.toMap());
            audit.append(now, "approval", body);
            return err.answer();
        }
        approvals.vote(a.id(), approver, role, decision, now);
        long approvedBy = approvals.votes(a.id()).stream().filter(v -> v.vote().equals("approve")).count();
        String next = decision.equals("reject") ? "rejected" : approvedBy >= a.quorum() ? "approved" : null;
        if (next != null) approvals.decide(a.id(), next, approver, now);
        body.put("decision", next == null ? "vote " + approvedBy + " of " + a.quorum() : next);
        audit.append(now, "approval", body);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ok", true);
        out.put("decided", next != null);
        out.put("approval", toMap(approvals.byId(a.id()), now));
        return out;
    }
}
