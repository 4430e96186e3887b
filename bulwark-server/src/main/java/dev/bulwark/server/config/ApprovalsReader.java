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
    private static final Set<String> KEYS = Set.of("approvers", "ttl_ms", "escalate_after_ms", "max_wait_ms", "quorum");
    private static final Set<String> APPROVER_KEYS = Set.of("tenant", "name", "role", "key_sha256");
    /** What an approval's decidedBy may be: the characters of an actor. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@:+-]{1,128}");
    private static final long DAY_MS = 24 * 3600_000L;

    private ApprovalsReader() {}

    static ApprovalSettings read(ConfigValue v) throws ConfigException {
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
        return new ApprovalSettings(approvers, ttl, escalate, wait, quorum);
    }

    private static long millis(ConfigValue v, String key, long dflt, long min) throws ConfigException {
        Optional<ConfigValue> x = v.optional(key);
        return x.isPresent() ? x.get().integer(min, 365 * DAY_MS, "milliseconds, from " + min + " to a year") : dflt;
    }
}
