package dev.bulwark.server.embed;

import dev.bulwark.server.config.Settings;
import dev.bulwark.server.node.Node;

/**
 * The embedding API's entry: a JVM application starts a node (or uses one it already runs) and
 * works with the dynamic workers of its tenants through {@link #tenant}. The workers run in the
 * node's sandboxes, as every worker does; nothing here runs JavaScript in the application's JVM.
 *
 * <pre>{@code
 * try (Bulwark bulwark = Bulwark.start(settings)) {
 *     TenantWorkersClient acme = bulwark.tenant("acme");
 *     acme.load("adder", WorkerSource.of("2025-01-01", "main.js")
 *             .js("main.js", "import {WorkerEntrypoint} from 'cloudflare:workers';"
 *                     + " export default class extends WorkerEntrypoint { add(a, b) { return a + b; } }"));
 *     Object three = acme.call("adder", null, "add", 1, 2); // 3.0
 * }
 * }</pre>
 */
public final class Bulwark implements AutoCloseable {
    private final Node node;
    private final boolean owned;

    private Bulwark(Node node, boolean owned) {
        this.node = node;
        this.owned = owned;
    }

    /** Starts a node of its own (its front door listens too); {@link #close} stops it. */
    public static Bulwark start(Settings settings) throws Exception {
        return new Bulwark(Node.start(settings), true);
    }

    /** Works with a node the application started; {@link #close} leaves it running. */
    public static Bulwark attach(Node node) {
        return new Bulwark(node, false);
    }

    /**
     * The dynamic workers of {@code tenant}: the application decides who that is (there is no key
     * here: the JVM that holds a node is trusted with all of it). A tenant's workers are the ones
     * its API keys reach over HTTP too, and never another tenant's.
     */
    public TenantWorkersClient tenant(String tenant) {
        if (tenant == null || !tenant.matches("[A-Za-z0-9_][A-Za-z0-9_-]{0,62}")) {
            throw new IllegalArgumentException("a tenant is 1 to 63 letters, digits, '-' or '_', not starting with '-'");
        }
        return new TenantWorkersClient(node.tenantWorkers(), tenant);
    }

    public Node node() {
        return node;
    }

    @Override
    public void close() {
        if (owned) node.close();
    }
}
