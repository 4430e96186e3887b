package dev.bulwark.server.node;

/** A worker's durable object migrations cannot be applied; the message says which and why (one line). */
public final class MigrationException extends RuntimeException {
    public MigrationException(String message) {
        super(message);
    }

    public MigrationException(String message, Throwable cause) {
        super(message, cause);
    }
}
