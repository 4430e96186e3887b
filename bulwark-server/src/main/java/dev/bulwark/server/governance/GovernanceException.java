package dev.bulwark.server.governance;

/** A request to the governance API that is refused: an HTTP status and a structured error. */
public final class GovernanceException extends RuntimeException {
    private final int status;
    private final GovernanceError error;
    private final int retryAfterSeconds;

    GovernanceException(int status, GovernanceError error) {
        this(status, error, 0);
    }

    private GovernanceException(int status, GovernanceError error, int retryAfterSeconds) {
        super(error.message(), null, false, false);
        this.status = status;
        this.error = error;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** A retryable refusal whose answer carries {@code Retry-After: seconds} (lanes: 429, 503). */
    static GovernanceException retryLater(int status, String code, String message, int seconds) {
        return new GovernanceException(status, new GovernanceError(code, message, null, null, true), seconds);
    }

    /** The Retry-After of this refusal in seconds; 0: none of its own. */
    public int retryAfterSeconds() {
        return retryAfterSeconds;
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
