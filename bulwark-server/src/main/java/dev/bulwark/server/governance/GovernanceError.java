package dev.bulwark.server.governance;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A refusal as data: what generated code receives as {@code {ok: false, error: {...}}} and what the
 * audit trail records. {@code policy} and {@code rule} name the policy file and rule that decided,
 * when one did (null otherwise).
 */
public record GovernanceError(String code, String message, String policy, String rule, boolean retryable) {

    static GovernanceError of(String code, String message) {
        return new GovernanceError(code, message, null, null, false);
    }

    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("code", code);
        m.put("message", message);
        m.put("policy", policy);
        m.put("rule", rule);
        m.put("retryable", retryable);
        return m;
    }

    /** {@code {ok: false, error}}. */
    Map<String, Object> answer() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", false);
        m.put("error", toMap());
        return m;
    }

    @SuppressWarnings("unchecked")
    static GovernanceError fromMap(Map<String, Object> m) {
        return new GovernanceError((String) m.get("code"), (String) m.get("message"), (String) m.get("policy"),
                (String) m.get("rule"), Boolean.TRUE.equals(m.get("retryable")));
    }
}
