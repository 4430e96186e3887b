package dev.bulwark.server.governance;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a session is admitted with: who acts ({@code actor}), its risk class, the tools it may call
 * (its tool ACL; each must be registered), its budgets, and free metadata (JSON values, at most 16 KiB
 * as JSON) kept with it.
 */
public record Admission(String actor, String risk, List<String> tools, Budgets budgets, Map<String, Object> metadata) {
    static final Pattern ACTOR = Pattern.compile("[A-Za-z0-9._@:+-]{1,128}");
    static final Set<String> RISKS = Set.of("low", "medium", "high");
    static final int MAX_TOOLS = 64;

    public Admission {
        Objects.requireNonNull(budgets, "budgets");
        if (actor == null || !ACTOR.matcher(actor).matches()) {
            throw new IllegalArgumentException("actor is 1 to 128 of A-Z a-z 0-9 . _ @ : + -");
        }
        if (risk == null || !RISKS.contains(risk)) throw new IllegalArgumentException("risk is one of low, medium, high");
        if (tools == null) throw new IllegalArgumentException("tools is a list of tool names");
        if (tools.size() > MAX_TOOLS) throw new IllegalArgumentException("at most " + MAX_TOOLS + " tools");
        for (String t : tools) {
            if (t == null || !Tool.NAME.matcher(t).matches()) throw new IllegalArgumentException("not a tool name: " + t);
        }
        tools = List.copyOf(new java.util.TreeSet<>(tools));
        metadata = metadata == null ? Map.of() : metadata;
    }

    /** From the JSON body of {@code POST v1/sessions}, as mapped values. */
    @SuppressWarnings("unchecked")
    static Admission from(Object body) {
        if (!(body instanceof Map<?, ?> m)) throw new IllegalArgumentException("the body must be a JSON object");
        for (Object k : m.keySet()) {
            if (!Set.of("actor", "risk", "tools", "budgets", "metadata").contains(k)) {
                throw new IllegalArgumentException("unknown entry: " + k);
            }
        }
        if (!(m.get("actor") instanceof String actor)) throw new IllegalArgumentException("actor is required (a string)");
        Object risk = m.get("risk");
        if (risk != null && !(risk instanceof String)) throw new IllegalArgumentException("risk must be a string");
        if (!(m.get("tools") instanceof List<?> list)) throw new IllegalArgumentException("tools is required (a list of tool names)");
        List<String> tools = new ArrayList<>();
        for (Object t : list) {
            if (!(t instanceof String s)) throw new IllegalArgumentException("tools must hold strings");
            tools.add(s);
        }
        Object metadata = m.get("metadata");
        if (metadata != null && !(metadata instanceof Map)) throw new IllegalArgumentException("metadata must be an object");
        return new Admission(actor, risk == null ? "medium" : (String) risk, tools, Budgets.from(m.get("budgets")),
                metadata == null ? Map.of() : new LinkedHashMap<>((Map<String, Object>) metadata));
    }
}
