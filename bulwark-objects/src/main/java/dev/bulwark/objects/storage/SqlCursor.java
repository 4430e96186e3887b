package dev.bulwark.objects.storage;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;

/**
 * The result of {@link ObjectStorage#exec}: the rows of the last statement, read one at a time.
 * Values are {@code null}, {@link Long}, {@link Double}, {@link String} or {@code byte[]}.
 *
 * <p>{@link #rowsWritten()} is final when {@code exec} returns (SQLite makes all of a statement's
 * changes at its first step, even with RETURNING); {@link #rowsRead()} grows as rows are read.
 * The cursor closes itself after the last row; close it early to free the statement.
 */
public final class SqlCursor implements AutoCloseable {

    private final PreparedStatement statement;
    private final ResultSet rows;
    private final List<String> columnNames;
    private final Sqlite db;
    private final Runnable onClose;
    private long rowsRead;
    private final long rowsWritten;
    private boolean done;

    SqlCursor(Sqlite db, PreparedStatement statement, ResultSet rows, List<String> columnNames,
              long rowsReadBefore, long rowsWritten, Runnable onClose) {
        this.db = db;
        this.statement = statement;
        this.rows = rows;
        this.columnNames = columnNames;
        this.rowsRead = rowsReadBefore;
        this.rowsWritten = rowsWritten;
        this.onClose = onClose;
        if (rows == null) close();
    }

    public List<String> columnNames() {
        return columnNames;
    }

    /** The next row (a list as long as {@link #columnNames()}), or null after the last. */
    public List<Object> next() {
        if (done) return null;
        try {
            if (!rows.next()) {
                close();
                return null;
            }
            Object[] row = new Object[columnNames.size()];
            for (int i = 0; i < row.length; i++) row[i] = value(rows.getObject(i + 1));
            rowsRead++;
            return Arrays.asList(row);
        } catch (SQLException e) {
            close();
            throw db.translate(e);
        }
    }

    private static Object value(Object v) {
        return switch (v) {
            case null -> null;
            case Integer i -> (long) i;
            case Long l -> l;
            case Double d -> d;
            case Float f -> (double) f;
            case String s -> s;
            case byte[] b -> b;
            default -> v.toString();
        };
    }

    /** Rows this exec has read so far: rows returned by every statement, plus rows written. */
    public long rowsRead() {
        return rowsRead;
    }

    /** Rows inserted, updated or deleted by every statement of this exec (including by triggers). */
    public long rowsWritten() {
        return rowsWritten;
    }

    public boolean isDone() {
        return done;
    }

    @Override
    public void close() {
        if (done) return;
        done = true;
        try {
            if (rows != null) rows.close();
            statement.close();
        } catch (SQLException e) {
            // closing a finished statement cannot lose data
        }
        onClose.run();
    }
}
