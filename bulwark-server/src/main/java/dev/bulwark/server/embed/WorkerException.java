package dev.bulwark.server.embed;

/**
 * A load or call the node refused or that failed: {@code code} is the same code the HTTP API
 * answers ({@code not_found}, {@code invalid_worker_code}, {@code code_too_large},
 * {@code worker_load_failed}, {@code worker_threw}, {@code cpu_limit_exceeded}, ...). For
 * {@code worker_threw}, {@link #errorName} is the JS error's class ({@code TypeError}, ...).
 */
public final class WorkerException extends RuntimeException {
    private final String code;
    private final String errorName;

    public WorkerException(String code, String message) {
        this(code, message, null);
    }

    public WorkerException(String code, String message, String errorName) {
        super(message);
        this.code = code;
        this.errorName = errorName;
    }

    public String code() {
        return code;
    }

    /** The thrown JS error's name, or null. */
    public String errorName() {
        return errorName;
    }
}
