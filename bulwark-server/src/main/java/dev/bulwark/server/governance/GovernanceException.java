package dev.bulwark.server.governance;

/** A request to the governance API that is refused: an HTTP status and a structured error. */
public final class GovernanceException extends RuntimeException {
    private final int status;
    private final GovernanceError error;

    GovernanceException(int status, GovernanceError error) {
        super(error.message(), null, false, false);
        this.status = status;
        this.error = error;
    }

    static GovernanceException of(int status, String code, String message) {
        return new GovernanceException(status, GovernanceError.of(code, message));
    }

    public int status() {
        return status;
    }

    public GovernanceError error() {
        return error;
    }

    /** The error as {@code {code, message, policy, rule, retryable}}. */
    public java.util.Map<String, Object> errorMap() {
        return error.toMap();
    }
}
