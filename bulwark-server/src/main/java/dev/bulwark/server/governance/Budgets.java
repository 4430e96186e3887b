package dev.bulwark.server.governance;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a session may spend: tool calls that reach a tool, CPU milliseconds per run of its code,
 * wall time of the whole session from admission (its deadline), and spend units (the sum of the
 * costs of the tools that ran).
 */
public record Budgets(long toolCalls, long cpuMs, long wallMs, long spendUnits) {
    public static final Budgets DEFAULTS = new Budgets(100, 1_000, 10 * 60_000, 1_000);
    static final long MAX_WALL_MS = 7L * 24 * 3600_000;

    public Budgets {
        if (toolCalls < 0 || spendUnits < 0) throw new IllegalArgumentException("budgets are not negative");
        if (cpuMs < 1 || cpuMs > 60_000) throw new IllegalArgumentException("budgets.cpuMs is 1 to 60000");
        if (wallMs < 1 || wallMs > MAX_WALL_MS) throw new IllegalArgumentException("budgets.wallMs is 1 to " + MAX_WALL_MS);
    }

    /** From a map of optional entries (absent: the default); a wrong type or range is refused. */
    static Budgets from(Object value) {
        if (value == null) return DEFAULTS;
        if (!(value instanceof Map<?, ?> m)) throw new IllegalArgumentException("budgets must be an object");
        for (Object k : m.keySet()) {
            if (!Map.of("toolCalls", 1, "cpuMs", 1, "wallMs", 1, "spendUnits", 1).containsKey(k)) {
                throw new IllegalArgumentException("budgets has an unknown entry: " + k);
            }
        }
        return new Budgets(number(m, "toolCalls", DEFAULTS.toolCalls), number(m, "cpuMs", DEFAULTS.cpuMs),
                number(m, "wallMs", DEFAULTS.wallMs), number(m, "spendUnits", DEFAULTS.spendUnits));
    }

    private static long number(Map<?, ?> m, String key, long fallback) {
        Object v = m.get(key);
        if (v == null) return fallback;
        if (v instanceof Long l) return l;
        if (v instanceof Integer i) return i;
        throw new IllegalArgumentException("budgets." + key + " must be an integer");
    }

    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("toolCalls", toolCalls);
        m.put("cpuMs", cpuMs);
        m.put("wallMs", wallMs);
        m.put("spendUnits", spendUnits);
        return m;
    }
}
