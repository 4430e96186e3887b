package dev.bulwark.server.config;

/**
 * The sandbox processes of governed sessions' runs ({@code sandboxes.session_*}; docs/notes/sessionproc.md):
 * every run has a process of its own, killed when the run ends. These bound how many.
 *
 * @param max          runs' processes in the node at once
 * @param perTenant    runs' processes of one tenant at once
 * @param waitMs       how long a run waits for a place past those bounds, then 503 {@code session_sandboxes_full}
 * @param spares       started processes kept ready per tenant that runs sessions (a run takes one, never
 *                     waiting for a JVM to start; one is started again behind it); 0: none, each run starts its own
 * @param spareIdleMs  a spare nobody took for this long is stopped
 */
public record SessionSandboxSettings(int max, int perTenant, long waitMs, int spares, long spareIdleMs) {
    public static final SessionSandboxSettings DEFAULTS = new SessionSandboxSettings(16, 4, 10_000, 1, 300_000);

    public SessionSandboxSettings {
        if (max < 1 || perTenant < 1 || waitMs < 0 || spares < 0 || spareIdleMs < 1) {
            throw new IllegalArgumentException("session sandbox settings out of range: " + max + ", " + perTenant + ", "
                    + waitMs + ", " + spares + ", " + spareIdleMs);
        }
    }
}
