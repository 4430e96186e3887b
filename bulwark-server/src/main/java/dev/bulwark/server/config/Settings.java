package dev.bulwark.server.config;

import dev.bulwark.objects.storage.StorageOptions;
import dev.bulwark.sandbox.worker.Limits;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Bulwark's own settings for serving one project (never secrets). They are read from a project's
 * configuration ({@code SettingsReader}) or made with {@link #of} and the {@code with...} methods, one
 * component each: {@code Settings.of(data, "acme").withPort(0).withApi(keys)}.
 *
 * @param host      address the front door listens on
 * @param port      port the front door listens on; 0 picks a free one
 * @param dataDir   absolute directory for durable state (objects, logs)
 * @param tenant    the owner the worker runs for; workers of different tenants never share a sandbox process
 * @param limits    per-request and per-worker limits
 * @param sandboxes sandbox process settings
 * @param egress    outbound fetch policy
 * @param frontDoor what the front door believes of clients' headers
 * @param api       the tenant API's keys
 * @param facets    the default quotas of supervisors' facets
 * @param governance the tools and policies of governed sessions (issue 15)
 * @param storage   how every durable object's database is opened, in the sandboxes and in the node: its
 *                  durability, largest value and largest size ({@code [storage]})
 */
public record Settings(String host, int port, Path dataDir, String tenant, Limits limits, SandboxSettings sandboxes,
                       EgressSettings egress, FrontDoorSettings frontDoor, ApiSettings api, FacetSettings facets,
                       GovernanceSettings governance, StorageOptions storage) {

    public static final String DEFAULT_HOST = "127.0.0.1";
    /** wrangler dev's default port. */
    public static final int DEFAULT_PORT = 8787;

    public Settings {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(sandboxes, "sandboxes");
        Objects.requireNonNull(egress, "egress");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(frontDoor, "frontDoor");
        Objects.requireNonNull(api, "api");
        Objects.requireNonNull(facets, "facets");
        Objects.requireNonNull(governance, "governance");
        Objects.requireNonNull(storage, "storage");
        if (port < 0 || port > 65_535) throw new IllegalArgumentException("port must be 0..65535, got " + port);
        dataDir = dataDir.toAbsolutePath().normalize();
    }

    /**
     * The default settings of a node that keeps its state in {@code dataDir} and runs workers for
     * {@code tenant}. There is no {@code DEFAULTS}: no data directory or tenant would do for every node
     * (a project's are {@link #defaultDataDir} and its worker's name).
     */
    public static Settings of(Path dataDir, String tenant) {
        return new Settings(DEFAULT_HOST, DEFAULT_PORT, dataDir, tenant, Limits.DEFAULTS, SandboxSettings.DEFAULTS,
                EgressSettings.NONE, FrontDoorSettings.DEFAULTS, ApiSettings.NONE, FacetSettings.NONE,
                GovernanceSettings.NONE, StorageOptions.defaults());
    }

    /** {@code <projectDir>/.bulwark/data}. */
    public static Path defaultDataDir(Path projectDir) {
        return projectDir.toAbsolutePath().normalize().resolve(".bulwark").resolve("data");
    }

    /** These settings with another port (the CLI's {@code --port}). */
    public Settings withPort(int port) {
        return new Settings(host, port, dataDir, tenant, limits, sandboxes, egress, frontDoor, api, facets, governance, storage);
    }

    /** These settings with another data directory (the CLI's {@code --data}); a relative one resolves against the working directory. */
    public Settings withDataDir(Path dir) {
        return new Settings(host, port, dir, tenant, limits, sandboxes, egress, frontDoor, api, facets, governance, storage);
    }

    /** These settings with other per-request and per-worker limits. */
    public Settings withLimits(Limits limits) {
        return new Settings(host, port, dataDir, tenant, limits, sandboxes, egress, frontDoor, api, facets, governance, storage);
    }

    /** These settings with other sandbox settings. */
    public Settings withSandboxes(SandboxSettings sandboxes) {
        return new Settings(host, port, dataDir, tenant, limits, sandboxes, egress, frontDoor, api, facets, governance, storage);
    }

    /** These settings with another outbound fetch policy. */
    public Settings withEgress(EgressSettings egress) {
        return new Settings(host, port, dataDir, tenant, limits, sandboxes, egress, frontDoor, api, facets, governance, storage);
    }

    /** These settings with other front door settings (trusted proxies, colo, requests served at once). */
    public Settings withFrontDoor(FrontDoorSettings frontDoor) {
        return new Settings(host, port, dataDir, tenant, limits, sandboxes, egress, frontDoor, api, facets, governance, storage);
    }

    /** These settings with the tenant API's keys. */
    public Settings withApi(ApiSettings api) {
        return new Settings(host, port, dataDir, tenant, limits, sandboxes, egress, frontDoor, api, facets, governance, storage);
    }

    /** These settings with other default facet quotas. */
    public Settings withFacets(FacetSettings facets) {
        return new Settings(host, port, dataDir, tenant, limits, sandboxes, egress, frontDoor, api, facets, governance, storage);
    }

    /** These settings with other governance settings. */
    public Settings withGovernance(GovernanceSettings governance) {
        return new Settings(host, port, dataDir, tenant, limits, sandboxes, egress, frontDoor, api, facets, governance, storage);
    }

    /** These settings with other storage options for every durable object. */
    public Settings withStorage(StorageOptions storage) {
        return new Settings(host, port, dataDir, tenant, limits, sandboxes, egress, frontDoor, api, facets, governance, storage);
    }
}
