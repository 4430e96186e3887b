package dev.bulwark.objects.storage;

import java.sql.SQLException;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/** Turns the JDBC driver's exceptions into SQLite's own message, formatted as workerd does. */
final class SqliteErrors {

    private SqliteErrors() {}

    /** {@code "<sqlite message>: SQLITE_X"}, plus {@code " (extended: SQLITE_X_Y)"} when there is one. */
    static StorageException translate(SQLException e, long maxDatabaseBytes) {
        if (!(e instanceof SQLiteException se)) {
            return new StorageException(StorageException.Kind.IO, "storage failure: " + e.getMessage(), e);
        }
        SQLiteErrorCode rc = se.getResultCode();
        int primary = rc.code & 0xff;
        String primaryName = nameOf(primary);
        String detail = detail(se.getMessage(), rc);
        String message = detail + ": " + primaryName;
        if (rc.code != primary) message += " (extended: " + rc.name() + ")";
        StorageException.Kind kind = switch (primary) {
            case 13 -> StorageException.Kind.FULL; // SQLITE_FULL
            case 10, 11, 14, 26 -> StorageException.Kind.IO; // IOERR, CORRUPT, CANTOPEN, NOTADB
            case 23 -> StorageException.Kind.AUTH;
            default -> StorageException.Kind.SQL;
        };
        if (kind == StorageException.Kind.FULL) {
            message += " (this object's database is limited to " + maxDatabaseBytes + " bytes)";
        }
        return new StorageException(kind, message, e);
    }

    private static String detail(String jdbcMessage, SQLiteErrorCode rc) {
        // The driver formats "[NAME] generic message (sqlite3_errmsg)".
        String prefix = "[" + rc.name() + "] " + rc.message + " (";
        if (jdbcMessage != null && jdbcMessage.startsWith(prefix) && jdbcMessage.endsWith(")")) {
            return jdbcMessage.substring(prefix.length(), jdbcMessage.length() - 1);
        }
        if (jdbcMessage != null && jdbcMessage.startsWith("[" + rc.name() + "] ")) {
            return jdbcMessage.substring(rc.name().length() + 3);
        }
        return jdbcMessage == null ? rc.message : jdbcMessage;
    }

    private static String nameOf(int code) {
        for (SQLiteErrorCode c : SQLiteErrorCode.values()) {
            if (c.code == code) return c.name();
        }
        return "SQLITE_ERROR";
    }
}
