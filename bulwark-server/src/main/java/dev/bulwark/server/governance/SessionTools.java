package dev.bulwark.server.governance;

import dev.bulwark.server.caps.CapabilityError;
import dev.bulwark.server.caps.JavaCapability;

import java.util.List;
import java.util.Map;

/**
 * {@code env.TOOLS} of one run: a Java capability bound to the run's sealed envelope, which it holds
 * in the node (the worker sees neither the envelope nor the key). {@code call(name, args, options)}
 * hands the envelope, the next sequence number, the tool, its arguments and
 * {@code options.idempotencyKey} to the session object, and answers what it decided; with
 * {@code options.waitMs}, a call that waits for an approval waits (bounded) for its decision
 * ({@code {ok: true, value}} or {@code {ok: false, error}}). Calls of one run are sent one at a time,
 * in the order they arrive, so the sequence numbers arrive in order.
 */
final class SessionTools implements JavaCapability {
    static final int MAX_KEY_CHARS = 256;
    /** The longest {@code waitMs} a call may ask for (the node cuts it further to its configured longest wait). */
    static final long MAX_WAIT_MS = 3_600_000;

    private final Governance gov;
    private final String tenant;
    private final String session;
    private final String token;
    private long seq;

    SessionTools(Governance gov, String tenant, String session, String token) {
        this.gov = gov;
        this.tenant = tenant;
        this.session = session;
        this.token = token;
    }

    @Override
    public synchronized Object call(String method, List<Object> args) throws Exception {
        if (!method.equals("call")) {
            throw new CapabilityError("TypeError", "env.TOOLS has one method, call(name, args, {idempotencyKey})");
        }
        if (args.isEmpty() || !(args.getFirst() instanceof String name)) {
            throw new CapabilityError("TypeError", "env.TOOLS.call: the tool's name must be a string");
        }
        Object toolArgs = args.size() > 1 ? args.get(1) : null;
        String key = null;
        long waitMs = 0;
        Object options = args.size() > 2 ? args.get(2) : null;
        if (options != null) {
            if (!(options instanceof Map<?, ?> o)) throw new CapabilityError("TypeError", "env.TOOLS.call: options must be an object");
            Object k = o.get("idempotencyKey");
            if (k != null) {
                if (!(k instanceof String s) || s.isEmpty() || s.length() > MAX_KEY_CHARS) {
                    throw new CapabilityError("TypeError", "idempotencyKey must be a string of 1 to " + MAX_KEY_CHARS + " characters");
                }
                key = s;
            }
            Object w = o.get("waitMs");
            if (w != null) {
                if (!(w instanceof Number n) || n.doubleValue() < 0 || n.doubleValue() > MAX_WAIT_MS || n.doubleValue() != Math.floor(n.doubleValue())) {
                    throw new CapabilityError("TypeError", "waitMs must be an integer from 0 to " + MAX_WAIT_MS);
                }
                waitMs = n.longValue();
            }
        }
        Map<String, Object> answer = gov.mediate(tenant, session, token, ++seq, name, toolArgs, key);
        if (waitMs > 0 && pendingApproval(answer) instanceof String approval) {
            // Bounded wait for the decision, outside the session's lock; then the call is decided again
            // (a new sequence number): approved, it runs now, once (the ledger keeps its key).
            gov.awaitApproval(tenant, session, approval, waitMs);
            answer = gov.mediate(tenant, session, token, ++seq, name, toolArgs, key);
        }
        return answer;
    }

    /** A forged call named this run's capability from another worker's invocation: the session's trail says so. */
    @Override
    public void foreignCall(String method) {
        gov.foreignCapabilityCall(tenant, session, method);
    }

    /** The id of the approval an answer says the call waits for, or null. */
    private static String pendingApproval(Map<String, Object> answer) {
        if (!(answer.get("error") instanceof Map<?, ?> e) || !"approval_pending".equals(e.get("code"))) return null;
        return answer.get("approval") instanceof Map<?, ?> a && a.get("id") instanceof String id ? id : null;
    }
}
