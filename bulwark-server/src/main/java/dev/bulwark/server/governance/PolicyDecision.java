package dev.bulwark.server.governance;

import java.util.List;

/**
 * What the policies decided about one call: allowed or not (by the enforced policies), the file and
 * rule that denied (null when no policy permitted: Cedar's default deny), the rules in
 * {@code log-only} mode that would have denied (audited, not enforced), and the approval quorum the
 * permit rules that decided ask for with {@code @quorum("n")} (the largest; null: none asks).
 */
record PolicyDecision(boolean allowed, String policy, String rule, List<String> logOnlyDenials, Integer quorum) {
    PolicyDecision(boolean allowed, String policy, String rule, List<String> logOnlyDenials) {
        this(allowed, policy, rule, logOnlyDenials, null);
    }
}
