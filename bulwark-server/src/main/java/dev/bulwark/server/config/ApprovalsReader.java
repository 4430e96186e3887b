package dev.bulwark.server.config;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/** Reads {@code governance.approvals} into {@link ApprovalSettings}; unknown keys are errors. */
final class ApprovalsReader {
    private static final Set<String> KEYS = Set.of("approvers", "ttl_ms", "escalate_after_ms", "max_wait_ms", "quorum", "notify");
    private static final Set<String> NOTIFY_KEYS = Set.of("url", "secret", "events");
    private static final Set<String> EVENTS = Set.of("pending", "escalated", "expired");
    private static final Pattern SECRET_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Set<String> APPROVER_KEYS = Set.of("tenant", "name", "role", "key_sha256");
    /** What an approval's decidedBy may be: the characters of an actor. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@:+-]{1,128}");
    private static final long DAY_MS = 24 * 3600_000L;

    private ApprovalsReader() {}

    static ApprovalSettings read(ConfigValue v, Set<String> secretNames) throws ConfigException {
        GovernanceReader.onlyKeys(v, KEYS, "governance.approvals");
        List<ApprovalSettings.Approver> approvers = new ArrayList<>();
        Optional<ConfigValue> list = v.optional("approvers");
        if (list.isPresent()) {
            Set<String> digests = new HashSet<>();
            Set<String> names = new HashSet<>();
            for (ConfigValue a : list.get().elements()) {
                GovernanceReader.onlyKeys(a, APPROVER_KEYS, "an approver");
                String tenant = a.required("tenant").nonEmptyString();
                ConfigValue nameValue = a.required("name");
                String name = nameValue.nonEmptyString();
                if (!NAME.matcher(name).matches()) throw nameValue.invalid("1 to 128 of A-Z a-z 0-9 . _ @ : + -");
                if (!names.add(tenant + "/" + name)) throw nameValue.error("names an approver of this tenant defined before");
                ConfigValue roleValue = a.required("role");
                String role = roleValue.nonEmptyString();
                if (!ApprovalSettings.ROLES.contains(role)) throw roleValue.invalid("\"approver\" or \"escalation\"");
                ConfigValue digest = a.required("key_sha256");
                String hex = digest.nonEmptyString();
                if (!ApiSettings.isDigest(hex)) throw digest.invalid("64 lower-case hex digits: the SHA-256 of the approver's key");
                if (!digests.add(hex)) throw digest.error("is the digest of a key given before (each approver has its own key)");
                approvers.add(new ApprovalSettings.Approver(tenant, name, role, ApiSettings.parseDigest(hex)));
            }
        }
        long ttl = millis(v, "ttl_ms", ApprovalSettings.DEFAULT_TTL_MS, 1);
        long escalate = millis(v, "escalate_after_ms", 0, 0);
        if (escalate >= ttl) throw v.required("escalate_after_ms").invalid("less than ttl_ms (an approval escalates before it expires)");
        long wait = millis(v, "max_wait_ms", ApprovalSettings.DEFAULT_MAX_WAIT_MS, 0);
        Map<String, Integer> quorum = new LinkedHashMap<>();
        Optional<ConfigValue> q = v.optional("quorum");
        if (q.isPresent()) {
            for (Map.Entry<String, ConfigValue> e : q.get().members().entrySet()) {
                quorum.put(e.getKey(), e.getValue().integer(1, 16, "an integer from 1 to 16 (distinct approvers needed)"));
            }
        }
        List<ApprovalSettings.Notify> notify = new ArrayList<>();
        Optional<ConfigValue> hooks = v.optional("notify");
        if (hooks.isPresent()) {
            for (ConfigValue h : hooks.get().elements()) notify.add(notify(h, secretNames));
        }
        return new ApprovalSettings(approvers, ttl, escalate, wait, quorum, notify);
    }

    private static ApprovalSettings.Notify notify(ConfigValue h, Set<String> secretNames) throws ConfigException {
        GovernanceReader.onlyKeys(h, NOTIFY_KEYS, "an approval hook (governance.approvals.notify)");
        ConfigValue urlValue = h.required("url");
        java.net.URI url;
        try {
            url = new java.net.URI(urlValue.nonEmptyString());
        } catch (java.net.URISyntaxException e) {
            throw urlValue.invalid("an http or https URL");
        }
        if (!("https".equals(url.getScheme()) || "http".equals(url.getScheme())) || url.getHost() == null) {
            throw urlValue.invalid("an http or https URL");
        }
        ConfigValue secretValue = h.required("secret");
        String secret = secretValue.nonEmptyString();
        if (!SECRET_NAME.matcher(secret).matches()) throw secretValue.invalid("the name of a secret of the project (its HMAC key)");
        if (!secretNames.contains(secret)) {
            throw secretValue.error("names the secret " + secret + ", which the project does not have (.dev.vars or the secrets setting)");
        }
        Set<String> events = new HashSet<>(EVENTS);
        Optional<ConfigValue> e = h.optional("events");
        if (e.isPresent()) {
            events.clear();
            for (ConfigValue x : e.get().elements()) {
                if (!EVENTS.contains(x.nonEmptyString())) throw x.invalid("\"pending\", \"escalated\" or \"expired\"");
                events.add(x.nonEmptyString());
            }
            if (events.isEmpty()) throw e.get().invalid("at least one of \"pending\", \"escalated\", \"expired\"");
        }
        return new ApprovalSettings.Notify(url, secret, events);
    }

    private static long millis(ConfigValue v, String key, long dflt, long min) throws ConfigException {
        Optional<ConfigValue> x = v.optional(key);
        return x.isPresent() ? x.get().integer(min, 365 * DAY_MS, "milliseconds, from " + min + " to a year") : dflt;
    }
}
