package dev.bulwark.server.governance;

import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import dev.bulwark.server.node.Node;

import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

/**
 * A node in a JVM of its own for {@link LedgerCrashTest}: its tool {@code payments.charge} makes its
 * effect (a line appended to a file, forced to disk), says so on standard output, and then hangs
 * before its outcome can be recorded, so the test can SIGKILL the node between the effect and the
 * ledger write. Arguments: the data directory and the effects file.
 */
public final class GovernanceCrashMain {
    public static void main(String[] args) throws Exception {
        Path data = Path.of(args[0]);
        Path effects = Path.of(args[1]);
        Node node = Node.start(Settings.of(data, "acme").withPort(0)
                .withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(0)));
        Governance gov = node.governance();
        gov.registerTool(LedgerCrashTest.charge(call -> {
            try (FileChannel f = FileChannel.open(effects, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                    StandardOpenOption.WRITE)) {
                f.write(java.nio.ByteBuffer.wrap(("charged " + call.idempotencyKey() + "\n").getBytes(StandardCharsets.UTF_8)));
                f.force(true);
            }
            System.out.println("EFFECT-DONE");
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE); // the node is killed here, before the outcome is recorded
            return null;
        }));
        String id = (String) gov.admit("acme", new Admission("alice", "low", List.of("payments.charge"), Budgets.DEFAULTS,
                Map.of())).get("id");
        System.out.println("SESSION " + id);
        System.out.flush();
        gov.run("acme", id, GovernanceTest.code(LedgerCrashTest.CHARGE), null);
        System.out.println("UNREACHABLE");
    }
}
