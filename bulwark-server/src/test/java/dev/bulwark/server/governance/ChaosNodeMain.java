package dev.bulwark.server.governance;

import dev.bulwark.server.config.ApiSettings;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import dev.bulwark.server.node.Node;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A node in a JVM of its own for {@link LedgerChaosTest}: the tenant API (key {@link #KEY}) with the
 * tool {@code payments.charge}, whose effect appends a line to a file outside the node (after a
 * random pause, so kills land inside calls too) and whose lookup reads that file. Prints
 * {@code PORT <n>} when it serves. Arguments: the data directory and the effects file.
 */
public final class ChaosNodeMain {
    static final String KEY = GovernanceTest.ACME_KEY;

    public static void main(String[] args) throws Exception {
        Path data = Path.of(args[0]);
        Path effects = Path.of(args[1]);
        Node node = Node.start(Settings.of(data, "acme").withPort(0)
                .withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(0))
                .withApi(new ApiSettings(List.of(ApiSettings.Key.of("acme", KEY)))));
        Tool charge = LedgerCrashMain.charge(effects, true, false);
        ToolFunction slow = call -> {
            Thread.sleep(ThreadLocalRandom.current().nextInt(30));
            Object v = charge.function().run(call);
            Thread.sleep(ThreadLocalRandom.current().nextInt(30));
            return v;
        };
        node.governance().registerTool(new Tool(charge.name(), charge.argsSchema(), charge.contract(), charge.cost(), slow,
                charge.lookup(), null));
        // The chaos is about the ledger, not the lanes: every client's run gets a place at once (the
        // default interactive budget of 8 runs per tenant would queue 42 of the 50 and time them out).
        dev.bulwark.server.config.LaneSettings.Lane wide = new dev.bulwark.server.config.LaneSettings.Lane(64, 64,
                dev.bulwark.server.config.LaneSettings.WhenFull.QUEUE, 60_000, 1024, 1);
        node.governance().lanes().configure(new dev.bulwark.server.config.LaneSettings(wide, wide, wide));
        System.out.println("PORT " + node.port());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
