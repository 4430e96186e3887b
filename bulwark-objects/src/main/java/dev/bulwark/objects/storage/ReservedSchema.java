package dev.bulwark.objects.storage;

import java.sql.SQLException;

/**
 * The storage's own tables, created by the first write that needs them (an object that never
 * uses KV or alarms pays nothing). A rollback may undo their creation, so the flag is re-read then.
 */
final class ReservedSchema {

    // Qualified with main: even if a TEMP object of the same name could exist (the guard refuses
    // the names), the storage's own statements could not be redirected to it.
    static final String KV = "main._bw_kv";
    static final String KV_CHUNK = "main._bw_kv_chunk";
    static final String ALARM = "main._bw_alarm";

    private final Sqlite db;
    private boolean present;

    ReservedSchema(Sqlite db) {
        this.db = db;
        refresh();
    }

    boolean present() {
        return present;
    }

    void refresh() {
        try {
            present = db.queryLong("SELECT count(*) FROM main.sqlite_master WHERE type = 'table'"
                    + " AND name = '_bw_alarm'") > 0;
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }

    /** Creates the tables inside the open transaction. */
    void ensure() throws SQLException {
        if (present) return;
        // Keys are the UTF-8 bytes as a BLOB: SQLite compares BLOBs with memcmp, which is the
        // UTF-8 byte order Cloudflare lists keys in, and a prefix's upper bound is a byte string.
        db.exec("CREATE TABLE IF NOT EXISTS " + KV
                + " (key BLOB PRIMARY KEY, value BLOB, chunks INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID");
        // Large values live in chunks in an ordinary rowid table (WITHOUT ROWID suits small rows).
        db.exec("CREATE TABLE IF NOT EXISTS " + KV_CHUNK
                + " (key BLOB NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (key, seq))");
        db.exec("CREATE TABLE IF NOT EXISTS " + ALARM
                + " (id INTEGER PRIMARY KEY CHECK (id = 1), time INTEGER NOT NULL)");
        present = true;
    }
}
