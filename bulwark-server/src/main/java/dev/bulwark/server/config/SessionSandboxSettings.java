package dev.bulwark.server.config;

/**
 * The sandbox processes of governed sessions' runs ({@code sandboxes.session_*}; docs/notes/sessionproc.md):
 * no two sessions' code ever shares a process. These say how long a process serves and how many there are.
 *
 * @param per          {@link Per#SESSION}: one process serves one session's runs (at once and one after
 *                     the other) and is stopped {@code idleMs} after its last run ended; {@link Per#RUN}: a
 *                     process serves one run and is stopped when it ends
 * @param max          session processes in the node at once
 * @param perTenant    session processes of one tenant at once
 * @param waitMs       how long a run waits for a place past those bounds, then 503 {@code session_sandboxes_full}
 * @param spares       started processes kept ready per tenant that runs sessions (a session's first run takes
 *                     one, never waiting for a JVM to start; another is started behind it); 0: none
 * @param spareIdleMs  a spare nobody took for this long is stopped
 * @param idleMs       ({@link Per#SESSION}) how long a session's process waits for the session's next run
 */
public record SessionSandboxSettings(Per per, int max, int perTenant, long waitMs, int spares, long spareIdleMs,
                                     long idleMs) {
    /** What one session process serves. */
    public enum Per {
        /** The runs of one session. */
        SESSION,
        /** One run. */
        RUN
    }

    public static final SessionSandboxSettings DEFAULTS = new SessionSandboxSettings(Per.SESSION, 16, 4, 10_000, 1,
            300_000, 10_000);

    public SessionSandboxSettings {
        java.util.Objects.requireNonNull(per, "per");
        if (max < 1 || perTenant < 1 || waitMs < 0 || spares < 0 || spareIdleMs < 1 || idleMs < 0) {
            throw new IllegalArgumentException("session sandbox settings out of range: " + max + ", " + perTenant + ", "
                    + waitMs + ", " + spares + ", " + spareIdleMs + ", " + idleMs);
        }
    }
}
