package dev.bulwark.sandbox.ipc;

/**
 * Why an invocation or a load failed. The name (lower case) is the {@code code} of the JSON
 * error the node answers with; the status is its HTTP status.
 */
public enum ErrorCode {
    CPU_LIMIT_EXCEEDED(503, "the worker exceeded its CPU time limit"),
    WALL_TIME_EXCEEDED(504, "the worker exceeded its wall-clock deadline"),
    MEMORY_LIMIT_EXCEEDED(503, "the worker exceeded its memory limit"),
    WORKER_THREW(500, "the worker threw an exception"),
    WORKER_LOAD_FAILED(500, "the worker could not be loaded"),
    /** workerd's words: the request waited on nothing that could ever settle it (Isolate's hang detection). */
    WORKER_HUNG(500, "The Workers runtime canceled this request because it detected that your Worker's code had hung"
            + " and would never generate a response. Refer to: https://developers.cloudflare.com/workers/observability/errors/"),
    CODE_TOO_LARGE(413, "the worker's code is larger than the limit"),
    ENV_TOO_LARGE(413, "the worker's env is larger than the limit"),
    OBJECT_STORAGE_FAILED(500, "a durable object's writes could not be committed, so the object was reset"),
    ISOLATE_RESET(503, "the isolate running this request was reset because another request broke a limit"),
    SANDBOX_CRASHED(503, "the sandbox process running this request died"),
    SANDBOX_UNAVAILABLE(503, "no sandbox is available"),
    REQUEST_TOO_LARGE(413, "the request body is larger than the limit"),
    CANCELED(499, "the request was canceled"),
    LOOP_LIMIT_EXCEEDED(508, "the request went through workers more times than the loop limit allows"),
    NOT_FOUND(404, "not found"),
    TOO_MANY_WEBSOCKETS(429, "the durable object holds as many WebSockets as it may"),
    INTERNAL(500, "internal error");

    private final int status;
    private final String description;

    ErrorCode(int status, String description) {
        this.status = status;
        this.description = description;
    }

    public int status() {
        return status;
    }

    public String description() {
        return description;
    }

    /** The wire and JSON name, e.g. {@code cpu_limit_exceeded}. */
    public String code() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static ErrorCode fromCode(String code) {
        try {
            return valueOf(code.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return INTERNAL;
        }
    }
}
