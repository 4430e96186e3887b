package dev.bulwark.server.governance;

import dev.bulwark.objects.java.JavaObjectStub;
import dev.bulwark.objects.java.StructuredValues;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Tool calls mediated by their session object (issue 15), as {@code env.TOOLS} makes them: the
 * session object decides (envelope, sequence, ACL, budgets, schema, policies, approvals, ledger);
 * an allowed call whose key is new runs the tool, and its outcome is recorded; a key whose earlier
 * outcome is unknown is reconciled through the tool's lookup, never run blindly. All of it under
 * the session's lock, with crash points between the steps for the tests.
 */
final class ToolMediation {
    private static final Logger log = LoggerFactory.getLogger(ToolMediation.class);

    private final Governance gov;

    ToolMediation(Governance gov) {
        this.gov = gov;
    }

    /** See {@link Governance#mediate}: answers {@code {ok: true, value}} or {@code {ok: false, error}}. */
    @SuppressWarnings("unchecked")
    Map<String, Object> mediate(String tenant, String session, String token, long seq, String toolName, Object args, String key) {
        String idempotencyKey = key != null ? key : "auto:" + HexFormat.of().formatHex(randomBytes(16));
        ReentrantLock lock = gov.lock(session);
        GovernanceMetrics metrics = gov.metrics();
        metrics.lock(lock);
        try {
            JavaObjectStub stub = gov.stub(tenant, session);
            Object callArgs = args == null ? new LinkedHashMap<String, Object>() : args;
            Map<String, Object> d = (Map<String, Object>) stub.call("decide", token, seq, toolName, callArgs, idempotencyKey,
                    key != null);
            Tool tool = gov.tool(toolName);
            ToolCall call = "answer".equals(d.get("verdict")) ? null : new ToolCall(session, tenant, (String) d.get("actor"),
                    toolName, (Map<String, Object>) callArgs, idempotencyKey);
            if ("lookup".equals(d.get("verdict"))) {
                // The outcome of an earlier call with this key is unknown: ask the tool, never run it blindly.
                d = (Map<String, Object>) stub.call("reconcile", idempotencyKey, lookup(tool, call));
            }
            if ("answer".equals(d.get("verdict"))) {
                Map<String, Object> answer = (Map<String, Object>) d.get("answer");
                if (answer.get("approval") instanceof Map<?, ?> a && Set.of("pending", "escalated").contains(a.get("state"))) {
                    boolean added = Boolean.TRUE.equals(gov.approvalIndex(tenant).call("add", a.get("id"), session, a.get("tool"),
                            a.get("requestedAt"), a.get("expiresAt")));
                    if (added) gov.approvalEvents().pending(tenant, session, (String) a.get("id"), (String) a.get("tool"));
                }
                metrics.answered(answer);
                return answer;
            }
            CrashPoints.reach(CrashPoints.DECIDED);
            Map<String, Object> answer = new LinkedHashMap<>();
            try {
                Object value = tool.function().run(call);
                answer.put("ok", true);
                answer.put("value", value);
                StructuredValues.encode(answer, 8 << 20); // a result with no JS form is a failure, recorded as one
            } catch (Exception | StackOverflowError e) {
                log.warn("tool {} of session {} failed: {}", toolName, session, e.toString());
                answer = new GovernanceError("tool_failed", "the tool failed", null, null, false).answer();
            }
            CrashPoints.reach(CrashPoints.EFFECT);
            stub.call("record", idempotencyKey, answer);
            CrashPoints.reach(CrashPoints.RECORDED);
            metrics.answered(answer);
            return answer;
        } finally {
            lock.unlock();
        }
    }

    /** The tool's lookup for {@code call}, as the session object's {@code reconcile} takes it. */
    private static Map<String, Object> lookup(Tool tool, ToolCall call) {
        ToolLookup.Result found;
        try {
            found = tool == null || tool.lookup() == null ? new ToolLookup.Unknown() : tool.lookup().lookup(call);
        } catch (Exception | StackOverflowError e) {
            log.warn("the lookup of tool {} of session {} failed: {}", call.tool(), call.session(), e.toString());
            found = new ToolLookup.Unknown();
        }
        Map<String, Object> out = new LinkedHashMap<>();
        switch (found) {
            case ToolLookup.Applied a -> {
                out.put("applied", true);
                out.put("value", a.value());
                try {
                    StructuredValues.encode(out, 8 << 20);
                } catch (RuntimeException e) {
                    log.warn("the lookup of tool {} answered a value with no JS form", call.tool());
                    out.clear();
                }
            }
            case ToolLookup.NotApplied n -> out.put("applied", false);
            case ToolLookup.Unknown u -> { }
            case null -> { }
        }
        return out;
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        Governance.RANDOM.nextBytes(b);
        return b;
    }
}
