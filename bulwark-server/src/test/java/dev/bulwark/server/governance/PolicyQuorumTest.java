package dev.bulwark.server.governance;

import dev.bulwark.objects.java.JavaObjectStub;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.bulwark.server.governance.ApprovalsTest.CAROL;
import static dev.bulwark.server.governance.ApprovalsTest.DAVE;
import static dev.bulwark.server.governance.GovernanceTest.JSON;
import static dev.bulwark.server.governance.GovernanceTest.map;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The quorum of an approval decided by policy: a permit rule with {@code @quorum("2")} that permits
 * a privileged call makes its approval need two approvers ("two approvers for refunds over 1000");
 * the configured quorum stays the floor.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class PolicyQuorumTest {
    static final String POLICIES = """
            @id("refunds")
            permit(principal, action == Action::"payments.refund", resource);

            @id("big-refunds")
            @quorum("2")
            permit(principal, action == Action::"payments.refund", resource) when { context.args.cents > 1000 };

            @id("huge-refunds")
            @quorum("3")
            permit(principal, action == Action::"payments.refund", resource) when { context.args.cents > 100000 };
            """;

    @TempDir
    Path data;
    final ApprovalsTest base = new ApprovalsTest();

    @AfterEach
    void stop() {
        base.stop();
    }

    @Test
    void aPermitRulesQuorumAnnotationSetsTheApprovalsQuorum() throws Exception {
        base.data = data;
        Governance gov = base.start(ApprovalsTest.settings(3_600_000, 0, 0, 1));
        gov.clock = System::currentTimeMillis;
        gov.policies(new PolicyBundle("q-1", Map.of("refunds.cedar", POLICIES)));
        String session = base.admit(gov);
        JavaObjectStub stub = base.node.javaObjects().namespace("acme", SessionObject.CLASS).getByName(session);
        String token = (String) map(stub.call("dispatch", "code-hash")).get("token");
        long[] seq = {0};
        java.util.function.BiFunction<Long, String, Map<String, Object>> refund = (cents, key) ->
                gov.mediate("acme", session, token, ++seq[0], "payments.refund", new LinkedHashMap<>(Map.of("cents", cents)), key);

        String small = ApprovalsTest.approvalId(refund.apply(500L, "small"));
        String big = ApprovalsTest.approvalId(refund.apply(5_000L, "big"));
        String huge = ApprovalsTest.approvalId(refund.apply(500_000L, "huge"));
        Map<String, Long> quorums = new LinkedHashMap<>();
        for (Map<String, Object> a : gov.approvals("acme", "pending")) quorums.put((String) a.get("id"), (Long) a.get("quorum"));
        assertThat(quorums).containsExactly(Map.entry(small, 1L), Map.entry(big, 2L), Map.entry(huge, 3L));

        // The small one is approved by one approver; the big one needs carol and dave.
        assertThat(gov.decideApproval("acme", small, "approve", CAROL).get("state")).isEqualTo("approved");
        assertThat(gov.decideApproval("acme", big, "approve", CAROL).get("state")).isEqualTo("pending");
        assertThat(ApprovalsTest.code(refund.apply(5_000L, "big"))).isEqualTo("approval_pending");
        assertThat(gov.decideApproval("acme", big, "approve", DAVE).get("state")).isEqualTo("approved");
        assertThat(refund.apply(5_000L, "big")).isEqualTo(Map.of("ok", true, "value", "refunded 5000"));
        assertThat(refund.apply(500L, "small")).isEqualTo(Map.of("ok", true, "value", "refunded 500"));
        assertThat(base.refunds).hasValue(2);

        // The trail says which quorum each approval was asked with.
        List<Long> asked = new java.util.ArrayList<>();
        for (Object row : (List<?>) gov.audit("acme", session).get("rows")) {
            if (!"approval".equals(map(row).get("kind"))) continue;
            var body = JSON.readTree((String) map(row).get("body"));
            if ("approval_requested".equals(body.path("decision").asText())) asked.add(body.get("quorum").asLong());
        }
        assertThat(asked).containsExactly(1L, 2L, 3L);

        // The configured quorum is a floor a rule cannot lower.
        gov.approvalQuorum("payments.refund", 3);
        String floor = ApprovalsTest.approvalId(refund.apply(5_000L, "floor"));
        assertThat(gov.approvals("acme", "pending").stream().filter(a -> floor.equals(a.get("id"))).findFirst().orElseThrow())
                .containsEntry("quorum", 3L);
    }

    @Test
    void aQuorumAnnotationIsCheckedWhenThePoliciesAreLoaded() {
        assertThatThrownBy(() -> new Policies(new PolicyBundle("x", Map.of("a.cedar",
                "@id(\"r\") @quorum(\"0\") permit(principal, action, resource);"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("@quorum is \"1\" to \"16\"");
        assertThatThrownBy(() -> new Policies(new PolicyBundle("x", Map.of("a.cedar",
                "@id(\"r\") @quorum(\"two\") permit(principal, action, resource);"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("@quorum is \"1\" to \"16\"");
        assertThatThrownBy(() -> new Policies(new PolicyBundle("x", Map.of("a.cedar",
                "@id(\"r\") @quorum(\"2\") forbid(principal, action, resource);"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("@quorum is for permit rules");
    }
}
