package dev.bulwark.server.governance;

import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import dev.bulwark.server.node.Node;

import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

/**
 * A node in a JVM of its own for {@link CrashEveryStepTest}, started with the system property
 * {@value CrashPoints#PROPERTY} naming where it halts. Arguments: the data directory, the effects
 * file (outside the node: each effect and each revert appends a line, forced to disk), and the mode:
 * {@code call} (one tool call, key {@code pay-1}) or {@code rollback} (that call, then a rollback of
 * the session).
 */
public final class LedgerCrashMain {
    static final String CHARGE = LedgerCrashTest.CHARGE;

    public static void main(String[] args) throws Exception {
        Path data = Path.of(args[0]);
        Path effects = Path.of(args[1]);
        Node node = Node.start(settings(data));
        Governance gov = node.governance();
        gov.registerTool(charge(effects, true, true));
        String id = (String) gov.admit("acme", new Admission("alice", "low", List.of("payments.charge"), Budgets.DEFAULTS,
                Map.of())).get("id");
        System.out.println("SESSION " + id);
        System.out.flush();
        Object answer = gov.run("acme", id, GovernanceTest.code(CHARGE), null).result();
        System.out.println("ANSWER " + answer);
        System.out.flush();
        if (args[2].equals("rollback")) gov.rollback("acme", id, "ops");
        System.out.println("UNREACHABLE");
        System.out.flush();
        Runtime.getRuntime().halt(0);
    }

    static Settings settings(Path data) {
        return Settings.of(data, "acme").withPort(0).withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(0));
    }

    /**
     * {@code payments.charge}: appends {@code charged <key>} to {@code effects} and answers
     * {@code "charged"}; its lookup reads the file; its revert appends {@code reverted <key>}.
     */
    static Tool charge(Path effects, boolean withLookup, boolean withRevert) throws Exception {
        Tool t = LedgerCrashTest.charge(call -> {
            append(effects, "charged " + call.idempotencyKey());
            return "charged";
        });
        if (withLookup) {
            t = t.withLookup(call -> lines(effects).contains("charged " + call.idempotencyKey())
                    ? new ToolLookup.Applied("charged") : new ToolLookup.NotApplied());
        }
        if (withRevert) t = t.withRevert((call, value) -> append(effects, "reverted " + call.idempotencyKey()));
        return t;
    }

    static List<String> lines(Path effects) throws java.io.IOException {
        return Files.exists(effects) ? Files.readAllLines(effects) : List.of();
    }

    static synchronized void append(Path effects, String line) throws java.io.IOException {
        try (FileChannel f = FileChannel.open(effects, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE)) {
            f.write(java.nio.ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8)));
            f.force(true);
        }
    }
}
