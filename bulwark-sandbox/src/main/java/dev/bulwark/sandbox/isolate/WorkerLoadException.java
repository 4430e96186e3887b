package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.ErrorCode;

/** A worker's code could not be loaded; the message names the module and, where known, the line. */
public final class WorkerLoadException extends Exception {
    private final ErrorCode code;

    public WorkerLoadException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }
}
