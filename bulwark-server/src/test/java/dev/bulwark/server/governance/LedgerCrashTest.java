package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import dev.bulwark.server.node.Node;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The ledger across a crash: a node SIGKILLed after a tool's effect and before its outcome was
 * recorded leaves the call's ledger row {@code pending}; after a restart, a retry with the same
 * idempotency key is answered {@code outcome_unknown} and the tool never runs again.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class LedgerCrashTest {
    static final String CHARGE = """
            export default async (input, env) => env.TOOLS.payments.charge({ cents: 1250 }, { idempotencyKey: "pay-1" });
            """;

    @TempDir
    Path dir;

    static Tool charge(ToolFunction f) throws Exception {
        return new Tool("payments.charge", new ObjectMapper().readTree(
                "{\"type\": \"object\", \"properties\": {\"cents\": {\"type\": \"integer\", \"minimum\": 1}}, \"required\": [\"cents\"]}"),
                Contract.CONTROLLED_MUTATION, 1, f);
    }

    @Test
    void aNodeKilledBetweenTheEffectAndTheLedgerWriteLeavesOutcomeUnknownAndNeverChargesTwice() throws Exception {
        Path data = dir.resolve("data");
        Path effects = dir.resolve("effects.txt");
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"),
                "-cp", System.getProperty("java.class.path"), GovernanceCrashMain.class.getName(), data.toString(), effects.toString()));
        command.addAll(1, dev.bulwark.server.node.ChildNodeOptions.properties());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        CompletableFuture<String> session = new CompletableFuture<>();
        CompletableFuture<Void> effectDone = new CompletableFuture<>();
        List<String> output = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread.ofVirtual().start(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    output.add(line);
                    if (line.startsWith("SESSION ")) session.complete(line.substring(8).trim());
                    if (line.equals("EFFECT-DONE")) effectDone.complete(null);
                }
            } catch (java.io.IOException ignored) {
                // killed
            }
            effectDone.completeExceptionally(new IllegalStateException("the node exited: " + output));
        });
        try {
            effectDone.get(180, TimeUnit.SECONDS);
        } finally {
            // SIGKILL, the node and its sandboxes, as a power cut or an OOM kill would.
            List<ProcessHandle> all = new ArrayList<>(process.toHandle().descendants().toList());
            process.toHandle().destroyForcibly();
            for (ProcessHandle p : all) p.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
            for (ProcessHandle p : all) p.onExit().get(30, TimeUnit.SECONDS);
        }
        assertThat(output).doesNotContain("UNREACHABLE");
        assertThat(Files.readAllLines(effects)).containsExactly("charged pay-1");
        String id = session.get();

        AtomicInteger ranAgain = new AtomicInteger();
        try (Node node = Node.start(Settings.of(data, "acme").withPort(0)
                .withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(0)))) {
            Governance gov = node.governance();
            gov.registerTool(charge(call -> {
                ranAgain.incrementAndGet();
                return "charged";
            }));
            for (int attempt = 0; attempt < 2; attempt++) {
                Map<String, Object> answer = GovernanceTest.map(gov.run("acme", id, GovernanceTest.code(CHARGE), null).result());
                assertThat(GovernanceTest.code(answer)).isEqualTo("outcome_unknown");
                assertThat(GovernanceTest.map(answer.get("error"))).containsEntry("retryable", false);
            }
            assertThat(ranAgain).hasValue(0);
            assertThat(Files.readAllLines(effects)).containsExactly("charged pay-1");
            // The trail: the decision was written before the effect; no effect row (the node died); then the
            // retries found the pending row and said so. The chain holds across the crash.
            Map<String, Object> audit = gov.audit("acme", id);
            assertThat(audit.get("firstBroken")).isEqualTo(0L);
            assertThat(GovernanceTest.kinds(audit)).containsExactly("admitted", "dispatched", "decision",
                    "dispatched", "decision", "ledger", "retired", "dispatched", "decision", "ledger", "retired");
            // A new key runs.
            Map<String, Object> fresh = GovernanceTest.map(gov.run("acme", id, GovernanceTest.code("""
                    export default async (input, env) => env.TOOLS.payments.charge({ cents: 5 }, { idempotencyKey: "pay-2" });
                    """), null).result());
            assertThat(fresh).containsEntry("ok", true).containsEntry("value", "charged");
            assertThat(ranAgain).hasValue(1);
        }
    }
}
