package dev.bulwark.objects.storage;

/**
 * A storage error whose message is safe to show to the object's code (SQLite's own message, or
 * the same text Cloudflare gives). {@link #kind()} tells the JS glue which JS error type to throw.
 */
public final class StorageException extends RuntimeException {

    /** What went wrong; the JS glue maps these to JS error types. */
    public enum Kind {
        /** An error from SQLite itself (syntax, constraint, no such table, ...): {@code Error}. */
        SQL,
        /** Refused by the storage's rules (reserved names, ATTACH, pragmas): {@code Error}. */
        AUTH,
        /** The database reached its size limit (SQLITE_FULL): {@code Error}. */
        FULL,
        /** A size or count limit on an argument (key, value, batch): {@code RangeError}. */
        RANGE,
        /** A malformed argument (e.g. both start and startAfter): {@code TypeError}. */
        TYPE,
        /** Misuse of the storage's own lifecycle (closed, commit inside a savepoint): {@code Error}. */
        STATE,
        /** The disk or the SQLite library failed in a way the object's code cannot fix. */
        IO
    }

    private final Kind kind;

    public StorageException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public StorageException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
