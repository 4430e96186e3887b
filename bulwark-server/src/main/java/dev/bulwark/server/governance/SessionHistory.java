package dev.bulwark.server.governance;

import dev.bulwark.objects.java.JavaStorage;
import dev.bulwark.objects.storage.SqlCursor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The session's call history, which its policies read (calls per tool, in all and in the last
 * minute), and its checkpoints. Each call that reaches a tool adds a row to {@code calls}; every
 * {@code every} operations a checkpoint folds the rows older than the longest window policies look
 * at into per-tool totals ({@code call_totals}) and deletes them, so what a decision reads stays
 * bounded (the window plus at most {@code every} rows), and appends a {@code checkpoint} row to the
 * audit trail holding the snapshot (totals, ledger digest, trail head before it): the snapshot is
 * part of the hash chain, and no audit row is ever deleted.
 */
final class SessionHistory {
    /** The longest window a history query uses (Policies' {@code toolCallsLastMinute}). */
    static final long WINDOW_MS = 60_000;
    static final long DEFAULT_EVERY = 1_000;

    private final JavaStorage db;

    SessionHistory(JavaStorage db) {
        this.db = db;
    }

    static void create(JavaStorage db) {
        db.sql("CREATE TABLE calls (n INTEGER PRIMARY KEY AUTOINCREMENT, tool TEXT NOT NULL, at INTEGER NOT NULL)").close();
        upgrade(db);
    }

    /** The index and tables a session made before checkpoints existed lacks (idempotent); true if it had them already. */
    static boolean upgrade(JavaStorage db) {
        try (SqlCursor c = db.sql("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'calls_tool_at'")) {
            if (c.next() != null) return true;
        }
        // The history queries are "this tool, since then": (tool, at) answers both from the index.
        db.sql("CREATE INDEX calls_tool_at ON calls (tool, at)").close();
        db.sql("CREATE TABLE IF NOT EXISTS call_totals (tool TEXT PRIMARY KEY, n INTEGER NOT NULL)").close();
        db.sql("CREATE TABLE IF NOT EXISTS checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), ops INTEGER NOT NULL,"
                + " count INTEGER NOT NULL, last_at INTEGER)").close();
        db.sql("INSERT OR IGNORE INTO checkpoint (id, ops, count) VALUES (1, 0, 0)").close();
        return false;
    }

    void note(String tool, long at) {
        db.sql("INSERT INTO calls (tool, at) VALUES (?, ?)", tool, at).close();
    }

    /** Calls of {@code tool}: all of them, and those at or after {@code windowStart}. */
    record Counts(long all, long inWindow) {}

    /** {@link Counts} of {@code tool}, in one pass over its rows (the index on (tool, at) covers it). */
    Counts counts(String tool, long windowStart) {
        long all;
        long inWindow;
        try (SqlCursor c = db.sql("SELECT count(*), count(CASE WHEN at >= ? THEN 1 END) FROM calls WHERE tool = ?", windowStart, tool)) {
            List<Object> r = c.next();
            all = (Long) r.get(0);
            inWindow = (Long) r.get(1);
        }
        try (SqlCursor c = db.sql("SELECT n FROM call_totals WHERE tool = ?", tool)) {
            List<Object> r = c.next();
            return new Counts(all + (r == null ? 0 : (Long) r.getFirst()), inWindow);
        }
    }

    /** Rows in {@code calls} (what a decision's queries range over). */
    long rows() {
        try (SqlCursor c = db.sql("SELECT count(*) FROM calls")) {
            return (Long) c.next().getFirst();
        }
    }

    /**
     * Counts one operation; at the {@code every}-th since the last checkpoint, takes one: folds the
     * calls older than the window into the totals and appends the snapshot to {@code audit}.
     */
    void operation(long now, long every, AuditTrail audit, SessionLedger ledger) {
        db.sql("UPDATE checkpoint SET ops = ops + 1 WHERE id = 1").close();
        long ops;
        try (SqlCursor c = db.sql("SELECT ops FROM checkpoint WHERE id = 1")) {
            ops = (Long) c.next().getFirst();
        }
        if (ops < every) return;
        long before = now - WINDOW_MS;
        db.sql("INSERT INTO call_totals (tool, n) SELECT tool, count(*) FROM calls WHERE at < ? GROUP BY tool"
                + " ON CONFLICT (tool) DO UPDATE SET n = n + excluded.n", before).close();
        long folded;
        try (SqlCursor c = db.sql("DELETE FROM calls WHERE at < ?", before)) {
            c.next();
            folded = c.rowsWritten();
        }
        Map<String, Object> totals = new LinkedHashMap<>();
        try (SqlCursor c = db.sql("SELECT tool, n FROM call_totals ORDER BY tool")) {
            for (List<Object> r = c.next(); r != null; r = c.next()) totals.put((String) r.get(0), r.get(1));
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("operations", ops);
        body.put("folded", folded);
        body.put("kept", rows());
        body.put("totals", totals);
        body.put("ledger", ledger.digest());
        body.put("trailHead", audit.head());
        audit.append(now, "checkpoint", body);
        db.sql("UPDATE checkpoint SET ops = 0, count = count + 1, last_at = ? WHERE id = 1", now).close();
    }
}
