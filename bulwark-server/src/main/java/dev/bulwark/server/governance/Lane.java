package dev.bulwark.server.governance;

/**
 * The lane a governed run is admitted to, each with its own queue and concurrency: interactive
 * (a person waits), long-running, and awaiting approval (runs parked on, or resuming after, an
 * approval, so they never wait behind a flood of new work).
 */
public enum Lane {
    INTERACTIVE("interactive"), LONG("long"), APPROVAL("approval");

    private final String label;

    Lane(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /**
     * The lane a run asked for, or, when it asked for none (null), the one of its session's risk
     * class: {@code high} runs are long-running, {@code low} and {@code medium} interactive.
     *
     * @throws GovernanceException 400 {@code bad_request} for a name that is not a lane
     */
    public static Lane choose(String declared, String risk) {
        if (declared == null) return "high".equals(risk) ? LONG : INTERACTIVE;
        for (Lane l : values()) if (l.label.equals(declared)) return l;
        throw GovernanceExceptions.badRequest("lane is one of interactive, long, approval");
    }
}
