package dev.bulwark.server.governance;

import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import dev.bulwark.server.node.Node;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A node in a JVM of its own for {@link ApprovalCrashTest}: it admits a session, runs a privileged
 * refund that parks an approval, says which (standard output), and waits to be SIGKILLed.
 * Arguments: the data directory and the effects file.
 */
public final class ApprovalCrashMain {
    public static void main(String[] args) throws Exception {
        Path data = Path.of(args[0]);
        Node node = Node.start(Settings.of(data, "acme").withPort(0)
                .withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(0)));
        Governance gov = node.governance();
        gov.registerTool(ApprovalCrashTest.refund(Path.of(args[1])));
        gov.approvalSettings(ApprovalCrashTest.SETTINGS);
        String id = (String) gov.admit("acme", new Admission("alice@acme", "high", List.of("payments.refund"),
                new Budgets(100, 1_000, 24 * 3600_000L, 1_000), Map.of())).get("id");
        Map<String, Object> answer = GovernanceTest.map(gov.run("acme", id, GovernanceTest.code(ApprovalCrashTest.REFUND), null).result());
        System.out.println("SESSION " + id);
        System.out.println("APPROVAL " + GovernanceTest.map(answer.get("approval")).get("id") + " " + GovernanceTest.code(answer));
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE); // killed here, the approval pending
    }
}
