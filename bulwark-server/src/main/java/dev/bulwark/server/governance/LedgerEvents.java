package dev.bulwark.server.governance;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The session object's events that move ledger rows (see {@link SessionLedger} for the states):
 * answering a repeated key, recording an outcome, reconciling an unknown outcome with the tool's
 * lookup, an operator settling one, and the steps of a rollback. Each runs inside one event of the
 * {@link SessionObject} (so it commits with its audit rows), called by {@link Governance} with the
 * session's lock held: a row found {@code pending} or {@code reverting} is never in flight, it was
 * left by a node that stopped.
 */
final class LedgerEvents {
    private final SessionLedger ledger;
    private final AuditTrail audit;
    private final Governance gov;

    LedgerEvents(SessionLedger ledger, AuditTrail audit, Governance gov) {
        this.ledger = ledger;
        this.audit = audit;
        this.gov = gov;
    }

    /**
     * A key seen before: its recorded outcome, never a second blind run. Null when the key may run
     * (an operator or a lookup settled it {@code not_applied}: the row is {@code pending} again).
     */
    Map<String, Object> repeat(long now, String envelopeId, String key, String toolName, String argsHash, SessionLedger.Row row,
                               String actor) {
        if (!row.tool().equals(toolName) || !row.argsHash().equals(argsHash)) {
            GovernanceError err = GovernanceError.of("idempotency_key_reused",
                    "the idempotency key was used before for another tool or other arguments");
            audit.append(now, "ledger", body(key, envelopeId, err.code()));
            return answer(err.answer(), false);
        }
        switch (row.state()) {
            case "applied", "reverted" -> {
                audit.append(now, "ledger", body(key, envelopeId, "replayed:" + row.state()));
                return replay(row, null);
            }
            case "reverting" -> {
                // A rollback stopped between marking the row and recording its revert: the call's outcome is known,
                // the revert's is not.
                ledger.move(key, "reverting", "outcome_unknown", SessionLedger.REVERT, now);
                audit.append(now, "ledger", body(key, envelopeId, "outcome_unknown:revert"));
                return replay(row, "outcome_unknown");
            }
            case "pending" -> {
                ledger.move(key, "pending", "outcome_unknown", SessionLedger.CALL, now);
                return unknown(now, envelopeId, key, toolName, actor);
            }
            case "outcome_unknown" -> {
                if (SessionLedger.REVERT.equals(row.phase())) {
                    audit.append(now, "ledger", body(key, envelopeId, "outcome_unknown:revert"));
                    return replay(row, "outcome_unknown");
                }
                return unknown(now, envelopeId, key, toolName, actor);
            }
            case "not_applied" -> {
                ledger.move(key, "not_applied", "pending", SessionLedger.CALL, now);
                audit.append(now, "ledger", body(key, envelopeId, "run:not_applied"));
                return null;
            }
            default -> throw new IllegalStateException("ledger state " + row.state());
        }
    }

    /** An unknown outcome: the tool's lookup is asked (by Governance, outside the event) if it has one. */
    private Map<String, Object> unknown(long now, String envelopeId, String key, String toolName, String actor) {
        Tool tool = gov.tool(toolName);
        if (tool != null && tool.lookup() != null) {
            audit.append(now, "ledger", body(key, envelopeId, "lookup"));
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("verdict", "lookup");
            out.put("actor", actor);
            return out;
        }
        audit.append(now, "ledger", body(key, envelopeId, "outcome_unknown"));
        return answer(outcomeUnknown().answer(), true);
    }

    /**
     * What the tool's lookup found for an {@code outcome_unknown} row ({@code found}: {@code applied}
     * true with {@code value}, false, or absent for "cannot tell"): applied → recorded and answered;
     * not applied → {@code pending} again and the call runs once; else it stays unknown.
     */
    Map<String, Object> reconcile(String key, Map<String, Object> found) {
        long now = gov.now();
        SessionLedger.Row row = ledger.byKey(key);
        if (row == null) throw new IllegalStateException("no ledger row " + key);
        if (!row.state().equals("outcome_unknown") || !SessionLedger.CALL.equals(row.phase())) {
            return row.state().equals("applied") ? replay(row, null) : answer(outcomeUnknown().answer(), true);
        }
        Object applied = found.get("applied");
        if (Boolean.TRUE.equals(applied)) {
            Map<String, Object> outcome = new LinkedHashMap<>();
            outcome.put("ok", true);
            outcome.put("value", found.get("value"));
            ledger.apply(key, "outcome_unknown", outcome, now);
            audit.append(now, "ledger", body(key, null, "reconciled:applied"));
            return replay(ledger.byKey(key), null);
        }
        if (Boolean.FALSE.equals(applied)) {
            ledger.move(key, "outcome_unknown", "pending", SessionLedger.CALL, now);
            audit.append(now, "ledger", body(key, null, "reconciled:not_applied"));
            return Map.of("verdict", "run");
        }
        audit.append(now, "ledger", body(key, null, "outcome_unknown"));
        return answer(outcomeUnknown().answer(), true);
    }

    /** The outcome of a call that ran: pending → applied. */
    Map<String, Object> record(String key, Map<String, Object> outcome) {
        long now = gov.now();
        boolean changed = ledger.apply(key, "pending", outcome, now);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("key", key);
        body.put("ok", outcome.get("ok"));
        if (outcome.get("error") instanceof Map<?, ?> err) body.put("error", err.get("code"));
        body.put("recorded", changed);
        audit.append(now, "effect", body);
        return Map.of("ok", true);
    }

    Map<String, Object> list(int limit) {
        List<Object> rows = new ArrayList<>();
        for (SessionLedger.Row r : ledger.list(limit)) rows.add(r.toMap());
        return Map.of("ledger", rows);
    }

    /**
     * An operator settles an {@code outcome_unknown} row: a call's as {@code applied} (with
     * {@code value}, recorded as {@code {ok: true, value}}) or {@code not_applied} (the key then runs
     * once when called again); a revert's as {@code reverted} or {@code applied} (the revert did not
     * happen; the call's outcome stays). Audited with the operator's name.
     */
    Map<String, Object> settle(String key, String state, Object value, String operator) {
        long now = gov.now();
        SessionLedger.Row row = ledger.byKey(key);
        if (row == null) return GovernanceError.of("not_found", "no ledger row has this idempotency key").answer();
        if (!row.state().equals("outcome_unknown")) {
            return GovernanceError.of("not_outcome_unknown", "the row is " + row.state() + "; only an outcome_unknown row is settled").answer();
        }
        boolean call = SessionLedger.CALL.equals(row.phase());
        switch (state) {
            case "applied" -> {
                if (call) {
                    Map<String, Object> outcome = new LinkedHashMap<>();
                    outcome.put("ok", true);
                    outcome.put("value", value);
                    ledger.apply(key, "outcome_unknown", outcome, now);
                } else {
                    ledger.move(key, "outcome_unknown", "applied", SessionLedger.CALL, now);
                }
            }
            case "not_applied" -> {
                if (!call) return badState("a revert's unknown outcome is settled as reverted or applied");
                ledger.move(key, "outcome_unknown", "not_applied", SessionLedger.CALL, now);
            }
            case "reverted" -> {
                if (call) return badState("a call's unknown outcome is settled as applied or not_applied");
                ledger.move(key, "outcome_unknown", "reverted", SessionLedger.REVERT, now);
            }
            default -> {
                return badState("state is applied, not_applied or reverted");
            }
        }
        Map<String, Object> body = body(key, null, "settled:" + state);
        body.put("unknown", row.phase());
        body.put("operator", operator);
        audit.append(now, "ledger", body);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ok", true);
        out.put("entry", ledger.byKey(key).toMap());
        return out;
    }

    /**
     * The first step of a rollback: rows left {@code pending} or {@code reverting} by a crash become
     * {@code outcome_unknown}; then, if no row is unknown and every applied effect (a successful call of
     * a tool that is not read-only) can be reverted, the rows to revert, newest first.
     */
    Map<String, Object> rollbackPlan(String operator, String actor) {
        long now = gov.now();
        for (SessionLedger.Row r : ledger.inStates("pending", "reverting")) {
            String phase = r.state().equals("pending") ? SessionLedger.CALL : SessionLedger.REVERT;
            ledger.move(r.key(), r.state(), "outcome_unknown", phase, now);
            audit.append(now, "ledger", body(r.key(), null, "outcome_unknown" + (phase.equals(SessionLedger.REVERT) ? ":revert" : "")));
        }
        List<String> unknown = ledger.inStates("outcome_unknown").stream().map(SessionLedger.Row::key).toList();
        if (!unknown.isEmpty()) {
            return refuseRollback(now, operator, GovernanceError.of("ledger_unsettled", unknown.size()
                    + " ledger row(s) have an unknown outcome; settle them first: " + String.join(", ", first(unknown))));
        }
        List<Object> plan = new ArrayList<>();
        List<String> notRevertible = new ArrayList<>();
        for (SessionLedger.Row r : ledger.inStates("applied")) {
            Map<String, Object> outcome = r.outcomeMap();
            Tool tool = gov.tool(r.tool());
            if (!Boolean.TRUE.equals(outcome.get("ok")) || tool != null && tool.contract() == Contract.READ_ONLY) continue;
            if (tool == null || tool.revert() == null || r.args() == null) {
                notRevertible.add(r.key());
                continue;
            }
            Map<String, Object> step = new LinkedHashMap<>();
            step.put("key", r.key());
            step.put("tool", r.tool());
            step.put("args", r.argsMap());
            step.put("value", outcome.get("value"));
            plan.add(step);
        }
        if (!notRevertible.isEmpty()) {
            return refuseRollback(now, operator, GovernanceError.of("not_revertible", notRevertible.size()
                    + " applied call(s) have no revert: " + String.join(", ", first(notRevertible))));
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("operator", operator);
        body.put("step", "started");
        body.put("keys", plan.stream().map(s -> ((Map<?, ?>) s).get("key")).toList());
        audit.append(now, "rollback", body);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ok", true);
        out.put("actor", actor);
        out.put("steps", plan);
        return out;
    }

    /** applied → reverting, committed before the revert runs. False when the row is no longer applied. */
    boolean reverting(String key) {
        long now = gov.now();
        if (!ledger.move(key, "applied", "reverting", SessionLedger.REVERT, now)) return false;
        audit.append(now, "revert", Map.of("key", key, "state", "reverting"));
        return true;
    }

    /** The revert's outcome: reverting → reverted, or back to applied when it failed ({@code ok} false). */
    void reverted(String key, boolean ok) {
        long now = gov.now();
        if (ok) {
            ledger.move(key, "reverting", "reverted", SessionLedger.REVERT, now);
            audit.append(now, "revert", Map.of("key", key, "state", "reverted"));
        } else {
            ledger.move(key, "reverting", "applied", SessionLedger.CALL, now);
            audit.append(now, "revert", Map.of("key", key, "state", "applied", "error", "revert_failed"));
        }
    }

    void rollbackEnd(String operator, long reverted, String error) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("operator", operator);
        body.put("step", error == null ? "completed" : "stopped");
        body.put("reverted", reverted);
        if (error != null) body.put("error", error);
        audit.append(gov.now(), "rollback", body);
    }

    private Map<String, Object> refuseRollback(long now, String operator, GovernanceError err) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("operator", operator);
        body.put("step", "refused");
        body.put("error", err.toMap());
        audit.append(now, "rollback", body);
        return err.answer();
    }

    private static Map<String, Object> badState(String message) {
        return GovernanceError.of("bad_request", message).answer();
    }

    private static List<String> first(List<String> keys) {
        return keys.size() <= 10 ? keys : keys.subList(0, 10);
    }

    static GovernanceError outcomeUnknown() {
        return GovernanceError.of("outcome_unknown", "an earlier call with this idempotency key may or may not have taken "
                + "effect (the node stopped before its outcome was recorded); it is not run again");
    }

    /** The recorded outcome, marked replayed; {@code revert} notes a revert whose outcome is unknown. */
    private static Map<String, Object> replay(SessionLedger.Row row, String revert) {
        Map<String, Object> recorded = row.outcomeMap();
        recorded.put("replayed", true);
        if (row.state().equals("reverted")) recorded.put("reverted", true);
        if (revert != null) recorded.put("revert", revert);
        return answer(recorded, true);
    }

    private static Map<String, Object> body(String key, String envelopeId, String result) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("key", key);
        if (envelopeId != null) body.put("envelope", envelopeId);
        body.put("result", result);
        return body;
    }

    /** {@code duplicate}: the tool was not run for a key that had been (counted by Governance). */
    static Map<String, Object> answer(Map<String, Object> answer, boolean duplicate) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("verdict", "answer");
        out.put("answer", answer);
        if (duplicate) out.put("duplicate", true);
        return out;
    }
}
