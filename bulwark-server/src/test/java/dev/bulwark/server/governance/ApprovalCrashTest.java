package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.server.config.ApprovalSettings;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import dev.bulwark.server.node.Node;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pending approvals across a crash: a node SIGKILLed while an approval waits; a node started on the
 * same data lists it, shows it in the session, escalates it when its escalation time passes (the
 * deadline was stored, not a timer), lets the escalation role approve it, and the call then runs
 * exactly once.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ApprovalCrashTest {
    static final String REFUND = """
            export default async (input, env) => env.TOOLS.payments.refund({ cents: 4200 }, { idempotencyKey: "refund-1" });
            """;
    static final String ERIN = "ak_erin_99887766554433221100ffeeddccbbaa";
    static final ApprovalSettings SETTINGS = new ApprovalSettings(List.of(
            ApprovalSettings.Approver.of("acme", "carol", "approver", "ak_carol_0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
            ApprovalSettings.Approver.of("acme", "erin", "escalation", ERIN)), 3600_000, 600_000, 0, Map.of());

    @TempDir
    Path dir;

    /** The refund tool: its effect is a line appended to {@code effects}, forced to disk. */
    static Tool refund(Path effects) throws Exception {
        return new Tool("payments.refund", new ObjectMapper().readTree("{\"type\": \"object\"}"), Contract.PRIVILEGED, 1, call -> {
            try (FileChannel f = FileChannel.open(effects, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE)) {
                f.write(java.nio.ByteBuffer.wrap(("refunded " + call.idempotencyKey() + "\n").getBytes(StandardCharsets.UTF_8)));
                f.force(true);
            }
            return "refunded";
        });
    }

    @Test
    void aPendingApprovalSurvivesAKillAndItsEscalationResumesOnTheNextNode() throws Exception {
        Path data = dir.resolve("data");
        Path effects = dir.resolve("effects.txt");
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"),
                "-cp", System.getProperty("java.class.path"), ApprovalCrashMain.class.getName(), data.toString(), effects.toString()));
        command.addAll(1, dev.bulwark.server.node.ChildNodeOptions.properties());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        CompletableFuture<String> session = new CompletableFuture<>();
        CompletableFuture<String> parked = new CompletableFuture<>();
        List<String> output = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread.ofVirtual().start(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    output.add(line);
                    if (line.startsWith("SESSION ")) session.complete(line.substring(8).trim());
                    if (line.startsWith("APPROVAL ")) parked.complete(line.substring(9).trim());
                }
            } catch (java.io.IOException ignored) {
                // killed
            }
            parked.completeExceptionally(new IllegalStateException("the node exited: " + output));
        });
        String[] approval;
        try {
            approval = parked.get(180, TimeUnit.SECONDS).split(" ");
        } finally {
            List<ProcessHandle> all = new ArrayList<>(process.toHandle().descendants().toList());
            process.toHandle().destroyForcibly();
            for (ProcessHandle p : all) p.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
            for (ProcessHandle p : all) p.onExit().get(30, TimeUnit.SECONDS);
        }
        assertThat(approval[1]).isEqualTo("approval_pending");
        String id = session.get();
        assertThat(Files.exists(effects)).isFalse();

        try (Node node = Node.start(Settings.of(data, "acme").withPort(0)
                .withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(0)))) {
            Governance gov = node.governance();
            java.util.concurrent.atomic.AtomicLong offset = new java.util.concurrent.atomic.AtomicLong();
            gov.clock = () -> System.currentTimeMillis() + offset.get();
            gov.registerTool(refund(effects));
            gov.approvalSettings(SETTINGS);
            assertThat(gov.approvals("acme", "pending")).extracting(a -> a.get("id")).containsExactly(approval[0]);
            assertThat((List<?>) gov.session("acme", id).get("pendingApprovals")).extracting(a -> GovernanceTest.map(a).get("id"))
                    .containsExactly(approval[0]);

            // Eleven minutes later (escalation after ten): escalated, and the escalation role decides.
            offset.set(11 * 60_000);
            assertThat(gov.approvals("acme", "escalated")).extracting(a -> a.get("id")).containsExactly(approval[0]);
            assertThat(gov.decideApproval("acme", approval[0], "approve", ERIN).get("state")).isEqualTo("approved");
            assertThat(GovernanceTest.map(gov.run("acme", id, GovernanceTest.code(REFUND), null).result()))
                    .isEqualTo(Map.of("ok", true, "value", "refunded"));
            assertThat(GovernanceTest.map(gov.run("acme", id, GovernanceTest.code(REFUND), null).result()))
                    .containsEntry("replayed", true);
            assertThat(Files.readAllLines(effects)).containsExactly("refunded refund-1");
            Map<String, Object> audit = gov.audit("acme", id);
            assertThat(audit.get("firstBroken")).isEqualTo(0L);
            assertThat(GovernanceTest.kinds(audit)).containsExactly("admitted", "dispatched", "approval", "decision", "retired",
                    "approval", "approval", "dispatched", "decision", "effect", "retired", "dispatched", "decision", "ledger", "retired");
        }
    }
}
