package dev.bulwark.objects.storage;

import java.sql.SQLException;

/**
 * Which cursor the connection's change total ({@code sqlite3_total_changes}) is counting for now.
 * A cursor's rows written are the total's moves while it is the one touching the connection: a
 * statement with {@code RETURNING} writes at its first step but SQLite adds its changes to the
 * total only when it completes, so a cursor left open while other execs (or KV and alarm writes)
 * run would otherwise count their rows as its own. Each cursor counts per statement, as workerd
 * does (its per-statement counter): when the connection passes to someone else, the open cursor's
 * window is closed; when the cursor is touched again, a new window opens.
 *
 * <p>One cursor at a time (the usual case) costs nothing: the total is read only on a switch.
 */
final class ChangeWindows {
    private final Sqlite db;
    /** The cursor whose window is open, or null. */
    private SqlCursor active;

    ChangeWindows(Sqlite db) {
        this.db = db;
    }

    /** A new cursor whose window opened at its exec's start (nothing else touched the connection since). */
    void opened(SqlCursor cursor) {
        active = cursor;
    }

    /** {@code cursor} is about to step or finish: it owns the total's moves from now. */
    void touch(SqlCursor cursor) {
        if (active == cursor) return;
        long total = total();
        if (active != null) active.windowClosed(total);
        active = cursor;
        cursor.windowOpened(total);
    }

    /** Something else (an exec, a KV or alarm write) is about to touch the connection. */
    void leave() {
        if (active == null) return;
        SqlCursor was = active;
        active = null;
        if (!was.isDone()) was.windowClosed(total());
    }

    private long total() {
        try {
            return db.totalChanges();
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }
}
