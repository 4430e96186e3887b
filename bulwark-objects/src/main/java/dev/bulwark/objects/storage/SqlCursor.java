package dev.bulwark.objects.storage;

import org.sqlite.core.CoreStatement;

import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;

/**
 * The result of {@link ObjectStorage#exec}: the rows of the last statement, read one at a time.
 * Values are {@code null}, {@link Long}, {@link Double}, {@link String} or {@code byte[]}.
 *
 * <p>{@link #rowsRead()} and {@link #rowsWritten()} grow as rows are read ("so far", as in
 * Workers); {@code rowsWritten} of a statement with RETURNING is complete once the cursor is done.
 * They count this exec's statements only, per statement as in workerd: rows written by other execs
 * or KV and alarm writes while this cursor is open are not its own ({@link ChangeWindows}).
 * The cursor closes itself after the last row; close it early to free the statement (a cached
 * statement cannot be reused by another exec of the same SQL while a cursor holds it).
 */
public final class SqlCursor implements AutoCloseable {

    /** The statement the rows come from; null when there are none to read. */
    private final CoreStatement rows;
    private final List<String> columnNames;
    private final Sqlite db;
    private final Owner owner;
    private final ChangeWindows windows;
    private long rowsRead;
    /** Rows written in this cursor's closed windows (see {@link ChangeWindows}). */
    private long rowsWritten;
    /** sqlite3_total_changes when this cursor's open window began. */
    private long mark;
    /** sqlite3_total_changes read when the cursor finished; -1 before, or if it could not be read. */
    private long totalAfter = -1;
    private boolean done;
    /** The row under the result set was already stepped to (see SqlRunner), not yet returned. */
    private boolean pending;

    /**
     * @param changesBefore sqlite3_total_changes at the exec's start, after {@link ChangeWindows#leave}:
     *                      only this exec's statements ran since
     */
    SqlCursor(Sqlite db, CoreStatement rows, boolean firstRowPending, List<String> columnNames,
              long rowsReadBefore, long changesBefore, Owner owner, ChangeWindows windows) {
        this.db = db;
        this.rows = rows;
        this.columnNames = columnNames;
        this.rowsRead = rowsReadBefore;
        this.mark = changesBefore;
        this.owner = owner;
        this.windows = windows;
        this.pending = firstRowPending;
        windows.opened(this);
        if (rows == null || !firstRowPending) {
            close(); // counts the rows written
        } else {
            countSoFar(); // the statements before the last, and what the last's first step reported
        }
    }

    public List<String> columnNames() {
        return columnNames;
    }

    /** The next row (a list as long as {@link #columnNames()}), or null after the last. */
    public List<Object> next() {
        if (done) return null;
        windows.touch(this);
        try {
            boolean has = pending || db.step(rows);
            pending = false;
            if (!has) {
                close();
                return null;
            }
            Object[] row = db.row(rows, columnNames.size());
            rowsRead++;
            return Arrays.asList(row);
        } catch (SQLException e) {
            finish(true);
            throw owner.afterError(db.translate(e));
        }
    }

    /** The remaining rows, each a map from column name to value in column order. */
    public List<java.util.Map<String, Object>> rows() {
        List<java.util.Map<String, Object>> out = new java.util.ArrayList<>();
        for (List<Object> r = next(); r != null; r = next()) {
            java.util.Map<String, Object> row = new java.util.LinkedHashMap<>();
            for (int i = 0; i < columnNames.size(); i++) row.put(columnNames.get(i), r.get(i));
            out.add(row);
        }
        return out;
    }

    /** What the cursor reports to the runner that made it. */
    interface Owner {
        /** The cursor is done; {@code failed} if its statement stopped with an error. */
        void finished(SqlCursor cursor, boolean failed);

        StorageException afterError(StorageException e);
    }

    /** Rows this exec has read so far: rows returned by every statement, plus rows written. */
    public long rowsRead() {
        return rowsRead + rowsWritten;
    }

    private void countSoFar() {
        try {
            windowClosed(db.totalChanges()); // still its own window: counts and moves the mark
        } catch (SQLException e) {
            // keep the count made so far
        }
    }

    /** The connection passes to someone else: this cursor's rows written so far are its own. */
    void windowClosed(long total) {
        if (done) return;
        rowsWritten += total - mark;
        mark = total;
    }

    /** The connection is this cursor's again: changes from {@code total} on are its own. */
    void windowOpened(long total) {
        if (!done) mark = total;
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
        finish(false);
    }

    private void finish(boolean failed) {
        if (done) return;
        try {
            windows.touch(this);
        } catch (RuntimeException e) {
            // the count made so far stands; the statement is still released below
        }
        done = true;
        // The owner resets or finalizes the statement first: SQLite counts a statement's changes
        // when it completes (RETURNING makes them at the first step but reports them at the end).
        owner.finished(this, failed);
        try {
            totalAfter = db.totalChanges();
            rowsWritten += totalAfter - mark;
        } catch (SQLException e) {
            // keep the count made so far
        }
    }

    /** sqlite3_total_changes as this cursor's end left it, or -1 (not done, or not known). */
    long totalAfter() {
        return totalAfter;
    }
}
