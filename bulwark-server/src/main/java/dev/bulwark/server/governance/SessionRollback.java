package dev.bulwark.server.governance;

import dev.bulwark.objects.java.JavaObjectStub;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One rollback of a session, run by {@link Governance#rollback} with the session's lock held. The
 * session object plans it (rows a crash left pending or reverting become {@code outcome_unknown};
 * any unknown row, or an applied effect without a revert, refuses the whole rollback before anything
 * is reverted), then each row, newest first: marked {@code reverting} (committed), the tool's revert
 * run, marked {@code reverted}. A crash between the two marks leaves {@code reverting}, which the
 * next rollback (or call with the key) turns into {@code outcome_unknown} for the revert: a revert
 * never runs twice for one row. A revert that throws puts its row back to {@code applied} and stops
 * the rollback (rows reverted before it stay reverted; running the rollback again continues).
 */
final class SessionRollback {
    private static final Logger log = LoggerFactory.getLogger(SessionRollback.class);

    private final Governance gov;
    private final JavaObjectStub stub;
    private final String tenant;
    private final String session;

    SessionRollback(Governance gov, JavaObjectStub stub, String tenant, String session) {
        this.gov = gov;
        this.stub = stub;
        this.tenant = tenant;
        this.session = session;
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> run(String operator) {
        Map<String, Object> plan = (Map<String, Object>) stub.call("rollbackPlan", operator);
        if (plan == null) throw GovernanceException.of(404, "not_found", "no such session");
        if (!Boolean.TRUE.equals(plan.get("ok"))) throw LedgerOperations.refusal(plan);
        String actor = (String) plan.get("actor");
        List<String> reverted = new ArrayList<>();
        for (Object o : (List<Object>) plan.get("steps")) {
            Map<String, Object> step = (Map<String, Object>) o;
            String key = (String) step.get("key");
            String toolName = (String) step.get("tool");
            if (!Boolean.TRUE.equals(stub.call("reverting", key))) continue; // no longer applied
            CrashPoints.reach(CrashPoints.REVERTING);
            Tool tool = gov.tool(toolName);
            boolean ok;
            try {
                tool.revert().revert(new ToolCall(session, tenant, actor, toolName, (Map<String, Object>) step.get("args"), key),
                        step.get("value"));
                ok = true;
            } catch (Exception | StackOverflowError e) {
                log.warn("the revert of tool {} (key {}) of session {} failed: {}", toolName, key, session, e.toString());
                ok = false;
            }
            CrashPoints.reach(CrashPoints.REVERT_EFFECT);
            stub.call("reverted", key, ok);
            if (!ok) {
                stub.call("rollbackEnd", operator, (long) reverted.size(), "revert_failed");
                throw GovernanceException.of(409, "revert_failed", "the revert of " + key + " failed; " + reverted.size()
                        + " call(s) were reverted before it; the row stays applied (run the rollback again to retry)");
            }
            reverted.add(key);
        }
        stub.call("rollbackEnd", operator, (long) reverted.size(), null);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("session", session);
        out.put("reverted", reverted);
        return out;
    }
}
