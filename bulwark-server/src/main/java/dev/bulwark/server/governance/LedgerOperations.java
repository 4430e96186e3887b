package dev.bulwark.server.governance;

import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What operators do with a session's ledger: read it, settle a row whose outcome is unknown, and
 * roll the session back (the revert of every applied call). Settling and rolling back hold the
 * session's lock, as mediation does, so no tool call of the session runs meanwhile.
 */
final class LedgerOperations {
    private final Governance gov;

    LedgerOperations(Governance gov) {
        this.gov = gov;
    }

    /** See {@link Governance#ledger}. */
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> ledger(String tenant, String id) {
        gov.known(tenant, id);
        Map<String, Object> out = (Map<String, Object>) gov.stub(tenant, id).call("ledger", 1_000L);
        if (out == null) throw SessionIds.notFound();
        return (List<Map<String, Object>>) out.get("ledger");
    }

    /** See {@link Governance#settle}. */
    @SuppressWarnings("unchecked")
    Map<String, Object> settle(String tenant, String id, String key, String state, Object value, String operator) {
        gov.known(tenant, id);
        if (key == null || key.isEmpty() || key.length() > SessionTools.MAX_KEY_CHARS) {
            throw GovernanceException.of(400, "bad_request", "key is the idempotency key of a ledger row");
        }
        checkOperator(operator);
        ReentrantLock lock = gov.lock(id);
        lock.lock();
        try {
            Map<String, Object> out = (Map<String, Object>) gov.stub(tenant, id).call("settle", key, state, value, operator);
            if (out == null) throw SessionIds.notFound();
            if (!Boolean.TRUE.equals(out.get("ok"))) throw refusal(out);
            return (Map<String, Object>) out.get("entry");
        } finally {
            lock.unlock();
        }
    }

    /** See {@link Governance#rollback}. */
    Map<String, Object> rollback(String tenant, String id, String operator) {
        gov.known(tenant, id);
        checkOperator(operator);
        ReentrantLock lock = gov.lock(id);
        lock.lock();
        try {
            return new SessionRollback(gov, gov.stub(tenant, id), tenant, id).run(operator);
        } finally {
            lock.unlock();
        }
    }

    /** The session object's refusal {@code answer} as the error operators get. */
    static GovernanceException refusal(Map<String, Object> answer) {
        @SuppressWarnings("unchecked")
        GovernanceError e = GovernanceError.fromMap((Map<String, Object>) answer.get("error"));
        int status = switch (e.code()) {
            case "not_found" -> 404;
            case "bad_request" -> 400;
            default -> 409;
        };
        return new GovernanceException(status, e);
    }

    private static void checkOperator(String operator) {
        if (operator == null || !Admission.ACTOR.matcher(operator).matches()) {
            throw GovernanceException.of(400, "bad_request", "operator is 1 to 128 of A-Z a-z 0-9 . _ @ : + -");
        }
    }
}
