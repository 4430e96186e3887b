package dev.bulwark.server.governance;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A bundle's default mode: the mode of every rule without {@code @mode} (the configured {@code policy_mode}). */
class PolicyModeTest {
    static final Map<String, String> FILES = Map.of("p.cedar", """
            @id("allow")
            permit(principal, action, resource);
            @id("no-refunds")
            forbid(principal, action == Action::"payments.refund", resource);
            """);

    static Policies.Request refund() {
        return new Policies.Request("acme", "s", "alice", "low", "payments.refund", Contract.PRIVILEGED, 1, Map.of(),
                0, 0, 0, 0, false);
    }

    @Test
    void enforceByDefault() {
        PolicyDecision d = new Policies(new PolicyBundle("v1", FILES)).decide(refund());
        assertThat(d.allowed()).isFalse();
        assertThat(d.rule()).isEqualTo("no-refunds");
    }

    @Test
    void aLogOnlyBundleObservesAndTheBuiltInPermitDecides() {
        PolicyBundle bundle = new PolicyBundle("v1", FILES).withDefaultMode("log-only");
        PolicyDecision d = new Policies(bundle).decide(refund());
        assertThat(d.allowed()).isTrue();
        assertThat(d.logOnlyDenials()).isEqualTo(List.of("p.cedar#no-refunds"));
        // The mode is part of what the policy hash covers: switching it is a new policy set.
        assertThat(bundle.hash()).isNotEqualTo(new PolicyBundle("v1", FILES).hash());
        assertThatThrownBy(() -> new PolicyBundle("v1", FILES).withDefaultMode("audit")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anEnforcedRuleInALogOnlyBundleIsEnforced() {
        PolicyBundle bundle = new PolicyBundle("v1", Map.of("p.cedar", """
                @id("allow")
                permit(principal, action, resource);
                @id("no-refunds")
                @mode("enforce")
                forbid(principal, action == Action::"payments.refund", resource);
                """)).withDefaultMode("log-only");
        PolicyDecision d = new Policies(bundle).decide(refund());
        assertThat(d.allowed()).isFalse();
        assertThat(d.rule()).isEqualTo("no-refunds");
    }
}
