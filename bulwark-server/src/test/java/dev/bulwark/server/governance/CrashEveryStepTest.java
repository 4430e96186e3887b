package dev.bulwark.server.governance;

import dev.bulwark.server.node.Node;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static dev.bulwark.server.governance.GovernanceTest.map;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The node killed between each pair of steps of mediation (decision written | effect run | ledger
 * written | answer sent) and of a rollback (row marked reverting | revert run | row marked
 * reverted): a real node in its own JVM halts at the injected point ({@link CrashPoints}, as a
 * kill -9: no shutdown hooks), its sandboxes are SIGKILLed, a node restarts on the same data
 * directory, and the same key is tried again. The effects are counted outside the node (a file):
 * exactly once, or {@code outcome_unknown} until a lookup or an operator settles it; never a silent
 * duplicate.
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class CrashEveryStepTest {
    @TempDir
    Path dir;

    Path data() {
        return dir.resolve("data");
    }

    Path effectsFile() {
        return dir.resolve("effects.txt");
    }

    /** Runs {@link LedgerCrashMain} until it halts at {@code point}; returns the session id. */
    String crashAt(String point, String mode) throws Exception {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "-D" + CrashPoints.PROPERTY + "=" + point,
                "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"), "-cp", System.getProperty("java.class.path"),
                LedgerCrashMain.class.getName(), data().toString(), effectsFile().toString(), mode));
        command.addAll(1, dev.bulwark.server.node.ChildNodeOptions.properties());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<String> output = Collections.synchronizedList(new ArrayList<>());
        Set<ProcessHandle> sandboxes = ConcurrentHashMap.newKeySet();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = out.readLine(); line != null; line = out.readLine()) output.add(line);
            } catch (java.io.IOException ignored) {
                // halted
            }
        });
        // The node's sandboxes, seen while it lives (after it halts they are orphans: killed below, as a power cut would).
        Thread watcher = Thread.ofVirtual().start(() -> {
            while (process.isAlive()) {
                process.toHandle().descendants().forEach(sandboxes::add);
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        boolean exited = process.waitFor(240, TimeUnit.SECONDS);
        if (!exited) process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        watcher.join();
        for (ProcessHandle p : sandboxes) p.destroyForcibly();
        for (ProcessHandle p : sandboxes) p.onExit().get(30, TimeUnit.SECONDS);
        reader.join(10_000);
        assertThat(exited).as("the node halted: %s", output).isTrue();
        assertThat(process.exitValue()).as("%s", output).isEqualTo(137);
        assertThat(output).contains("CRASH " + point).doesNotContain("UNREACHABLE");
        return output.stream().filter(l -> l.startsWith("SESSION ")).findFirst().orElseThrow().substring(8).trim();
    }

    Node restart() throws Exception {
        return Node.start(LedgerCrashMain.settings(data()));
    }

    Map<String, Object> retry(Governance gov, String session) {
        return map(gov.run("acme", session, GovernanceTest.code(LedgerCrashMain.CHARGE), null).result());
    }

    static Map<String, Object> charged(boolean replayed) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", true);
        m.put("value", "charged");
        if (replayed) m.put("replayed", true);
        return m;
    }

    List<String> effects() throws Exception {
        return LedgerCrashMain.lines(effectsFile());
    }

    @Test
    void killedAfterTheDecisionBeforeTheEffect() throws Exception {
        String session = crashAt(CrashPoints.DECIDED, "call");
        assertThat(effects()).isEmpty();
        try (Node node = restart()) {
            Governance gov = node.governance();
            gov.registerTool(LedgerCrashMain.charge(effectsFile(), false, false));
            assertThat(GovernanceTest.code(retry(gov, session))).isEqualTo("outcome_unknown");
            assertThat(effects()).isEmpty();
            // With its lookup, the tool proves the effect did not happen: the call runs, once.
            gov.registerTool(LedgerCrashMain.charge(effectsFile(), true, false));
            assertThat(retry(gov, session)).isEqualTo(charged(false));
            assertThat(retry(gov, session)).isEqualTo(charged(true));
            assertThat(effects()).containsExactly("charged pay-1");
            assertThat(gov.audit("acme", session).get("firstBroken")).isEqualTo(0L);
        }
    }

    @Test
    void killedAfterTheEffectBeforeTheLedgerWrite() throws Exception {
        String session = crashAt(CrashPoints.EFFECT, "call");
        assertThat(effects()).containsExactly("charged pay-1");
        try (Node node = restart()) {
            Governance gov = node.governance();
            gov.registerTool(LedgerCrashMain.charge(effectsFile(), false, false));
            assertThat(GovernanceTest.code(retry(gov, session))).isEqualTo("outcome_unknown");
            assertThat(GovernanceTest.code(retry(gov, session))).isEqualTo("outcome_unknown");
            gov.registerTool(LedgerCrashMain.charge(effectsFile(), true, false));
            assertThat(retry(gov, session)).isEqualTo(charged(true));
            assertThat(retry(gov, session)).isEqualTo(charged(true));
            assertThat(effects()).containsExactly("charged pay-1");
            assertThat(gov.ledger("acme", session)).singleElement().satisfies(r -> assertThat(r).containsEntry("state", "applied"));
        }
    }

    @Test
    void killedAfterTheLedgerWriteBeforeTheAnswer() throws Exception {
        String session = crashAt(CrashPoints.RECORDED, "call");
        assertThat(effects()).containsExactly("charged pay-1");
        try (Node node = restart()) {
            Governance gov = node.governance();
            gov.registerTool(LedgerCrashMain.charge(effectsFile(), false, false));
            assertThat(retry(gov, session)).isEqualTo(charged(true));
            assertThat(effects()).containsExactly("charged pay-1");
        }
    }

    @Test
    void killedAfterARowIsMarkedRevertingBeforeItsRevert() throws Exception {
        String session = crashAt(CrashPoints.REVERTING, "rollback");
        assertThat(effects()).containsExactly("charged pay-1");
        try (Node node = restart()) {
            Governance gov = node.governance();
            gov.registerTool(LedgerCrashMain.charge(effectsFile(), true, true));
            assertThatThrownBy(() -> gov.rollback("acme", session, "ops")).isInstanceOfSatisfying(GovernanceException.class,
                    e -> assertThat(e.error().code()).isEqualTo("ledger_unsettled"));
            assertThat(gov.ledger("acme", session)).singleElement().satisfies(r -> assertThat(r)
                    .containsEntry("state", "outcome_unknown").containsEntry("unknown", "revert"));
            // The operator sees no revert happened: settled applied; the rollback then reverts it, once.
            gov.settle("acme", session, "pay-1", "applied", null, "ops");
            assertThat(gov.rollback("acme", session, "ops")).containsEntry("reverted", List.of("pay-1"));
            assertThat(gov.rollback("acme", session, "ops")).containsEntry("reverted", List.of());
            assertThat(effects()).containsExactly("charged pay-1", "reverted pay-1");
        }
    }

    @Test
    void killedAfterARevertBeforeItIsRecorded() throws Exception {
        String session = crashAt(CrashPoints.REVERT_EFFECT, "rollback");
        assertThat(effects()).containsExactly("charged pay-1", "reverted pay-1");
        try (Node node = restart()) {
            Governance gov = node.governance();
            gov.registerTool(LedgerCrashMain.charge(effectsFile(), true, true));
            // A retry of the call replays its outcome (the call is known) and says the revert is not.
            Map<String, Object> again = retry(gov, session);
            assertThat(again).containsEntry("value", "charged").containsEntry("revert", "outcome_unknown");
            assertThatThrownBy(() -> gov.rollback("acme", session, "ops")).isInstanceOfSatisfying(GovernanceException.class,
                    e -> assertThat(e.error().code()).isEqualTo("ledger_unsettled"));
            gov.settle("acme", session, "pay-1", "reverted", null, "ops");
            assertThat(gov.rollback("acme", session, "ops")).containsEntry("reverted", List.of());
            assertThat(effects()).containsExactly("charged pay-1", "reverted pay-1");
            assertThat(gov.audit("acme", session).get("firstBroken")).isEqualTo(0L);
        }
    }
}
