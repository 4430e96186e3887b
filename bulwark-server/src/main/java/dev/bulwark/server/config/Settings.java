package dev.bulwark.server.config;

import dev.bulwark.sandbox.worker.Limits;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Bulwark's own settings for serving one project (never secrets).
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
 */
public record Settings(String host, int port, Path dataDir, String tenant, Limits limits, SandboxSettings sandboxes,
                       EgressSettings egress, FrontDoorSettings frontDoor, ApiSettings api, FacetSettings facets,
                       GovernanceSettings governance) {

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
        if (port < 0 || port > 65_535) throw new IllegalArgumentException("port must be 0..65535, got " + port);
        dataDir = dataDir.toAbsolutePath().normalize();
    }

    /** Settings without governance. */
    public Settings(String host, int port, Path dataDir, String tenant, Limits limits, SandboxSettings sandboxes,
                    EgressSettings egress, FrontDoorSettings frontDoor, ApiSettings api, FacetSettings facets) {
        this(host, port, dataDir, tenant, limits, sandboxes, egress, frontDoor, api, facets, GovernanceSettings.NONE);
    }

    /** Settings without facet quotas. */
    public Settings(String host, int port, Path dataDir, String tenant, Limits limits, SandboxSettings sandboxes,
                    EgressSettings egress, FrontDoorSettings frontDoor, ApiSettings api) {
        this(host, port, dataDir, tenant, limits, sandboxes, egress, frontDoor, api, FacetSettings.NONE);
    }

    /** Settings without tenant API keys. */
    public Settings(String host, int port, Path dataDir, String tenant, Limits limits, SandboxSettings sandboxes,
                    EgressSettings egress, FrontDoorSettings frontDoor) {
        this(host, port, dataDir, tenant, limits, sandboxes, egress, frontDoor, ApiSettings.NONE);
    }

    /** Settings with the default front door. */
    public Settings(String host, int port, Path dataDir, String tenant, Limits limits, SandboxSettings sandboxes,
                    EgressSettings egress) {
        this(host, port, dataDir, tenant, limits, sandboxes, egress, FrontDoorSettings.DEFAULTS);
    }

    /** The defaults for a project in {@code projectDir} whose tenant is {@code tenant}. */
    public static Settings defaults(Path projectDir, String tenant) {
        return new Settings(DEFAULT_HOST, DEFAULT_PORT, defaultDataDir(projectDir), tenant, Limits.DEFAULTS,
                SandboxSettings.DEFAULTS, EgressSettings.NONE);
    }

    /** {@code <projectDir>/.bulwark/data}. */
    public static Path defaultDataDir(Path projectDir) {
        return projectDir.toAbsolutePath().normalize().resolve(".bulwark").resolve("data");
    }

    /** These settings with another port (the CLI's {@code --port}). */
    public Settings withPort(int port) {
        return new Settings(host, port, dataDir, tenant, limits, sandboxes, egress, frontDoor, api, facets, governance);
    }

    /** These settings with other sandbox settings. */
    public Settings withSandboxes(SandboxSettings sandboxes) {
        return new Settings(host, port, dataDir, tenant, limits, sandboxes, egress, frontDoor, api, facets, governance);
    }

    /** These settings with another data directory (the CLI's {@code --data}); a relative one resolves against the working directory. */
    public Settings withDataDir(Path dir) {
        return new Settings(host, port, dir, tenant, limits, sandboxes, egress, frontDoor, api, facets, governance);
    }

    /** These settings with other default facet quotas. */
    public Settings withFacets(FacetSettings facets) {
        return new Settings(host, port, dataDir, tenant, limits, sandboxes, egress, frontDoor, api, facets, governance);
    }

    /** These settings with the tenant API's keys. */
    public Settings withApi(ApiSettings api) {
        return new Settings(host, port, dataDir, tenant, limits, sandboxes, egress, frontDoor, api, facets, governance);
    }

    /** These settings with other governance settings. */
    public Settings withGovernance(GovernanceSettings governance) {
        return new Settings(host, port, dataDir, tenant, limits, sandboxes, egress, frontDoor, api, facets, governance);
    }
}
