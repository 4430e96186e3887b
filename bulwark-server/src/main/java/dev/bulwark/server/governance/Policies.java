package dev.bulwark.server.governance;

import com.cedarpolicy.BasicAuthorizationEngine;
import com.cedarpolicy.model.AuthorizationRequest;
import com.cedarpolicy.model.AuthorizationResponse;
import com.cedarpolicy.model.AuthorizationSuccessResponse;
import com.cedarpolicy.model.exception.AuthException;
import com.cedarpolicy.model.exception.InternalException;
import com.cedarpolicy.model.policy.Policy;
import com.cedarpolicy.model.policy.PolicySet;
import com.cedarpolicy.value.CedarList;
import com.cedarpolicy.value.CedarMap;
import com.cedarpolicy.value.EntityTypeName;
import com.cedarpolicy.value.EntityUID;
import com.cedarpolicy.value.PrimBool;
import com.cedarpolicy.value.PrimLong;
import com.cedarpolicy.value.PrimString;
import com.cedarpolicy.value.Value;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A compiled {@link PolicyBundle}, evaluated with Cedar for each tool call. The request is
 * {@code principal = Actor::"<actor>"}, {@code action = Action::"<tool>"},
 * {@code resource = Tool::"<tool>"}, and a context of: {@code tenant}, {@code session},
 * {@code risk}, {@code contract} (read_only | controlled_mutation | privileged), {@code cost},
 * {@code args} (the arguments as a record; fractional numbers as strings), {@code history}
 * ({@code toolCalls}: earlier calls of this tool in the session, {@code toolCallsLastMinute},
 * {@code totalCalls}, {@code spend}) and {@code approved} (whether the call's approval was given).
 *
 * <p>A permit rule may carry {@code @quorum("n")} (1 to 16): when it is among the rules that permit a
 * call of a privileged tool, the call's approval needs n distinct approvers (the largest such n,
 * and never fewer than {@code governance.approvals.quorum} configures for the tool). So "two
 * approvers for refunds over 1000" is a rule: {@code @quorum("2") permit(...) when
 * { context.args.amount > 1000 };}.
 */
final class Policies {
    private static final EntityTypeName ACTOR = EntityTypeName.parse("Actor").orElseThrow();
    private static final EntityTypeName ACTION = EntityTypeName.parse("Action").orElseThrow();
    private static final EntityTypeName TOOL = EntityTypeName.parse("Tool").orElseThrow();

    private final PolicyBundle bundle;
    private final String hash;
    private final PolicySet enforced;
    /** Enforced and log-only together: what would be decided if everything were enforced. */
    private final PolicySet all;
    private final boolean hasLogOnly;
    /** Cedar policy id → {file, rule}. */
    private final Map<String, String[]> names = new HashMap<>();
    /** Cedar policy id → its {@code @quorum}, for the permit rules that have one. */
    private final Map<String, Integer> quorums = new HashMap<>();
    private final BasicAuthorizationEngine engine = new BasicAuthorizationEngine();

    Policies(PolicyBundle bundle) {
        this.bundle = bundle;
        this.hash = bundle.hash();
        Set<Policy> enforce = new HashSet<>();
        Set<Policy> every = new HashSet<>();
        boolean logOnly = false;
        try {
            for (Map.Entry<String, String> file : bundle.files().entrySet()) {
                PolicySet parsed;
                try {
                    parsed = PolicySet.parsePolicies(file.getValue());
                } catch (InternalException e) {
                    throw new IllegalArgumentException("policy file " + file.getKey() + " does not parse: " + e.getMessage());
                }
                if (parsed.getNumTemplates() > 0) throw new IllegalArgumentException("policy file " + file.getKey() + " has templates; they are not supported");
                List<Policy> sorted = new ArrayList<>(parsed.policies);
                sorted.sort(java.util.Comparator.comparing(Policy::getID));
                int n = 0;
                for (Policy p : sorted) {
                    Map<String, String> annotations = p.getAnnotations();
                    String rule = annotations.getOrDefault("id", "policy" + n);
                    n++;
                    String mode = annotations.getOrDefault("mode", bundle.defaultMode());
                    if (!mode.equals("enforce") && !mode.equals("log-only")) {
                        throw new IllegalArgumentException("policy " + rule + " in " + file.getKey() + ": @mode is \"enforce\" or \"log-only\"");
                    }
                    String id = file.getKey() + "#" + rule;
                    if (names.put(id, new String[] {file.getKey(), rule}) != null) {
                        throw new IllegalArgumentException("policy file " + file.getKey() + " has two rules with @id(\"" + rule + "\")");
                    }
                    String quorum = annotations.get("quorum");
                    if (quorum != null) {
                        if (!quorum.matches("[0-9]{1,2}") || Integer.parseInt(quorum) < 1 || Integer.parseInt(quorum) > 16) {
                            throw new IllegalArgumentException("policy " + rule + " in " + file.getKey() + ": @quorum is \"1\" to \"16\"");
                        }
                        if (p.effect() != com.cedarpolicy.model.Effect.PERMIT) {
                            throw new IllegalArgumentException("policy " + rule + " in " + file.getKey() + ": @quorum is for permit rules");
                        }
                        quorums.put(id, Integer.parseInt(quorum));
                    }
                    Policy renamed = new Policy(p.getSource(), id);
                    every.add(renamed);
                    if (mode.equals("enforce")) enforce.add(renamed);
                    else logOnly = true;
                }
            }
            if (bundle.defaultMode().equals("log-only")) {
                // A log-only bundle observes; what is enforced meanwhile is the built-in "permit within the ACL".
                names.put("builtin#allow-within-acl", new String[] {"builtin", "allow-within-acl"});
                enforce.add(new Policy("permit(principal, action, resource);", "builtin#allow-within-acl"));
            }
        } catch (InternalException e) {
            throw new IllegalArgumentException("the policies cannot be read: " + e.getMessage());
        }
        this.enforced = cached(new PolicySet(enforce));
        this.all = cached(new PolicySet(every));
        this.hasLogOnly = logOnly;
    }

    /**
     * The set parsed once on the native side, so a decision sends only its request (without this,
     * every decision serialised the whole policy set to JSON and the native library parsed it
     * again: most of a decision's cost, see docs/notes/govlanes.md). The native copy is dropped
     * when the set is collected. Uncached (slower, same answers) if the library refuses.
     */
    private static PolicySet cached(PolicySet set) {
        try {
            set.cache();
        } catch (com.cedarpolicy.model.exception.CacheException | RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(Policies.class).warn("the policy set is not cached natively: {}", e.toString());
        }
        return set;
    }

    String hash() {
        return hash;
    }

    String version() {
        return bundle.version();
    }

    /** Inputs of one decision. */
    record Request(String tenant, String session, String actor, String risk, String tool, Contract contract, long cost,
                   Map<String, Object> args, long toolCalls, long toolCallsLastMinute, long totalCalls, long spend,
                   boolean approved) {}

    PolicyDecision decide(Request r) {
        Map<String, Value> context = new LinkedHashMap<>();
        context.put("tenant", new PrimString(r.tenant()));
        context.put("session", new PrimString(r.session()));
        context.put("risk", new PrimString(r.risk()));
        context.put("contract", new PrimString(r.contract().wire()));
        context.put("cost", new PrimLong(r.cost()));
        context.put("args", value(r.args(), 0));
        Map<String, Value> history = new LinkedHashMap<>();
        history.put("toolCalls", new PrimLong(r.toolCalls()));
        history.put("toolCallsLastMinute", new PrimLong(r.toolCallsLastMinute()));
        history.put("totalCalls", new PrimLong(r.totalCalls()));
        history.put("spend", new PrimLong(r.spend()));
        context.put("history", new CedarMap(history));
        context.put("approved", new PrimBool(r.approved()));
        AuthorizationRequest request = new AuthorizationRequest(new EntityUID(ACTOR, r.actor()),
                new EntityUID(ACTION, r.tool()), new EntityUID(TOOL, r.tool()), context);
        AuthorizationSuccessResponse real = evaluate(request, enforced);
        List<String> logOnly = new ArrayList<>();
        if (hasLogOnly && real.isAllowed()) {
            AuthorizationSuccessResponse would = evaluate(request, all);
            if (!would.isAllowed()) for (String id : would.getReason()) logOnly.add(names.get(id)[0] + "#" + names.get(id)[1]);
        }
        if (real.isAllowed()) {
            Integer quorum = null;
            for (String id : real.getReason()) {
                Integer q = quorums.get(id);
                if (q != null && (quorum == null || q > quorum)) quorum = q;
            }
            return new PolicyDecision(true, null, null, List.copyOf(logOnly), quorum);
        }
        // A deny with reasons names the forbid rules that decided; without reasons, nothing permitted the call.
        String reason = real.getReason().stream().sorted().findFirst().orElse(null);
        String[] name = reason == null ? null : names.get(reason);
        return new PolicyDecision(false, name == null ? null : name[0], name == null ? null : name[1], List.of());
    }

    private AuthorizationSuccessResponse evaluate(AuthorizationRequest request, PolicySet set) {
        try {
            AuthorizationResponse response = engine.isAuthorized(request, set, Set.of());
            if (response.success.isEmpty()) {
                throw new IllegalStateException("the policy engine refused the request");
            }
            return response.success.get();
        } catch (AuthException e) {
            throw new IllegalStateException("the policy engine failed: " + e.getMessage(), e);
        }
    }

    /** A tool argument as a Cedar value: fractions (which Cedar has no type for) as strings; depth bounded. */
    private static Value value(Object v, int depth) {
        if (depth > 32) return new PrimString("(too deep)");
        return switch (v) {
            case null -> new CedarMap();
            case String s -> new PrimString(s);
            case Boolean b -> new PrimBool(b);
            case Long l -> new PrimLong(l);
            case Integer i -> new PrimLong(i);
            case Double d when d == Math.rint(d) && Math.abs(d) < 9.0e15 -> new PrimLong(d.longValue());
            case Map<?, ?> m -> {
                Map<String, Value> out = new LinkedHashMap<>();
                m.forEach((k, x) -> {
                    if (k instanceof String key && x != null) out.put(key, value(x, depth + 1));
                });
                yield new CedarMap(out);
            }
            case List<?> list -> {
                List<Value> out = new ArrayList<>();
                for (Object x : list) if (x != null) out.add(value(x, depth + 1));
                yield new CedarList(out);
            }
            default -> new PrimString(String.valueOf(v));
        };
    }
}
