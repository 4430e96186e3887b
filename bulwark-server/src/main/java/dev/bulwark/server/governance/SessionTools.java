package dev.bulwark.server.governance;

import dev.bulwark.server.caps.CapabilityError;
import dev.bulwark.server.caps.JavaCapability;

import java.util.List;
import java.util.Map;

/**
 * {@code env.TOOLS} of one run: a Java capability bound to the run's sealed envelope, which it holds
 * in the node (the worker sees neither the envelope nor the key). {@code call(name, args, options)}
 * hands the envelope, the next sequence number, the tool, its arguments and
 * {@code options.idempotencyKey} to the session object, and answers what it decided
 * ({@code {ok: true, value}} or {@code {ok: false, error}}). Calls of one run are sent one at a time,
 * in the order they arrive, so the sequence numbers arrive in order.
 */
final class SessionTools implements JavaCapability {
    static final int MAX_KEY_CHARS = 256;

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
        }
        return gov.mediate(tenant, session, token, ++seq, name, toolArgs, key);
    }
}
