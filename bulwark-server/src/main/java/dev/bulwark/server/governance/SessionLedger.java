package dev.bulwark.server.governance;

import dev.bulwark.objects.java.JavaStorage;
import dev.bulwark.objects.java.StructuredValues;
import dev.bulwark.objects.storage.SqlCursor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The session's ledger, one row per idempotency key, in the session object's database (used only
 * inside its events). States: {@code pending} (decided, the effect may be running),
 * {@code applied} (outcome recorded), {@code outcome_unknown} (a crash left it pending; {@code phase}
 * says whether the call's or a revert's outcome is unknown), {@code not_applied} (settled: the effect
 * did not happen; the key may run once), {@code reverting} (a rollback is running its revert) and
 * {@code reverted}. {@code applied_n} orders applied rows, so a rollback reverts in reverse order.
 */
final class SessionLedger {
    static final int MAX_OUTCOME_BYTES = 8 << 20;
    static final String CALL = "call";
    static final String REVERT = "revert";

    /** One row. {@code args} is kept only for tools that declare a revert (the revert needs them). */
    record Row(String key, String tool, String argsHash, String state, String phase, byte[] outcome, byte[] args,
               long createdAt, long updatedAt, Long appliedN) {
        @SuppressWarnings("unchecked")
        Map<String, Object> outcomeMap() {
            return outcome == null ? null : new LinkedHashMap<>((Map<String, Object>) StructuredValues.decode(outcome));
        }

        @SuppressWarnings("unchecked")
        Map<String, Object> argsMap() {
            return args == null ? null : (Map<String, Object>) StructuredValues.decode(args);
        }

        /** The row as the operator API lists it (no arguments: they may hold secrets). */
        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("key", key);
            m.put("tool", tool);
            m.put("state", state);
            if (state.equals("outcome_unknown")) m.put("unknown", phase);
            Map<String, Object> o = outcomeMap();
            if (o != null) m.put("outcome", o);
            m.put("argsHash", argsHash);
            m.put("createdAt", createdAt);
            m.put("updatedAt", updatedAt);
            return m;
        }
    }

    private static final String COLUMNS = "key, tool, args_hash, state, phase, outcome, args, created_at, updated_at, applied_n";
    private final JavaStorage db;

    SessionLedger(JavaStorage db) {
        this.db = db;
    }

    static void create(JavaStorage db) {
        db.sql("CREATE TABLE ledger (key TEXT PRIMARY KEY, tool TEXT NOT NULL, args_hash TEXT NOT NULL, state TEXT NOT NULL,"
                + " outcome BLOB, envelope TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
                + " phase TEXT, args BLOB, applied_n INTEGER)").close();
        db.sql("CREATE INDEX ledger_applied ON ledger (applied_n)").close();
    }

    /** Brings a ledger made before phase/args/applied_n existed up to date (idempotent); true if it already was. */
    static boolean upgrade(JavaStorage db) {
        try (SqlCursor c = db.sql("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'ledger_applied'")) {
            if (c.next() != null) return true;
        }
        db.sql("ALTER TABLE ledger ADD COLUMN phase TEXT").close();
        db.sql("ALTER TABLE ledger ADD COLUMN args BLOB").close();
        db.sql("ALTER TABLE ledger ADD COLUMN applied_n INTEGER").close();
        db.sql("UPDATE ledger SET applied_n = rowid WHERE state IN ('applied', 'reverted')").close();
        db.sql("CREATE INDEX ledger_applied ON ledger (applied_n)").close();
        return false;
    }

    Row byKey(String key) {
        try (SqlCursor c = db.sql("SELECT " + COLUMNS + " FROM ledger WHERE key = ?", key)) {
            return row(c.next());
        }
    }

    boolean known(String key) {
        try (SqlCursor c = db.sql("SELECT 1 FROM ledger WHERE key = ?", key)) {
            return c.next() != null;
        }
    }

    void insertPending(String key, String tool, String argsHash, String envelope, Map<String, Object> keptArgs, long now) {
        db.sql("INSERT INTO ledger (key, tool, args_hash, state, envelope, created_at, updated_at, phase, args)"
                        + " VALUES (?, ?, ?, 'pending', ?, ?, ?, 'call', ?)", key, tool, argsHash, envelope, now, now,
                keptArgs == null ? null : StructuredValues.encode(keptArgs, MAX_OUTCOME_BYTES)).close();
    }

    /** {@code from} → {@code to} (with {@code phase}); false when the row was not in state {@code from}. */
    boolean move(String key, String from, String to, String phase, long now) {
        try (SqlCursor c = db.sql("UPDATE ledger SET state = ?, phase = ?, updated_at = ? WHERE key = ? AND state = ?",
                to, phase, now, key, from)) {
            c.next();
            return c.rowsWritten() == 1;
        }
    }

    /** The outcome of a call: {@code from} (pending, or outcome_unknown when settled) → applied. */
    boolean apply(String key, String from, Map<String, Object> outcome, long now) {
        try (SqlCursor c = db.sql("UPDATE ledger SET state = 'applied', phase = 'call', outcome = ?, updated_at = ?,"
                        + " applied_n = (SELECT coalesce(max(applied_n), 0) + 1 FROM ledger) WHERE key = ? AND state = ?",
                StructuredValues.encode(outcome, MAX_OUTCOME_BYTES), now, key, from)) {
            c.next();
            return c.rowsWritten() == 1;
        }
    }

    /** Rows, oldest first, at most {@code limit}. */
    List<Row> list(int limit) {
        List<Row> out = new ArrayList<>();
        try (SqlCursor c = db.sql("SELECT " + COLUMNS + " FROM ledger ORDER BY created_at, rowid LIMIT ?", limit)) {
            for (List<Object> r = c.next(); r != null; r = c.next()) out.add(row(r));
        }
        return out;
    }

    /** Rows in any of {@code states}. */
    List<Row> inStates(String... states) {
        List<Row> out = new ArrayList<>();
        String marks = String.join(", ", java.util.Collections.nCopies(states.length, "?"));
        try (SqlCursor c = db.sql("SELECT " + COLUMNS + " FROM ledger WHERE state IN (" + marks + ") ORDER BY applied_n DESC, rowid DESC",
                (Object[]) states)) {
            for (List<Object> r = c.next(); r != null; r = c.next()) out.add(row(r));
        }
        return out;
    }

    /** A digest of the whole ledger (keys, states, outcomes), for checkpoints. */
    String digest() {
        StringBuilder b = new StringBuilder();
        try (SqlCursor c = db.sql("SELECT key, state, args_hash, outcome FROM ledger ORDER BY key")) {
            for (List<Object> r = c.next(); r != null; r = c.next()) {
                b.append(r.get(0)).append('\n').append(r.get(1)).append('\n').append(r.get(2)).append('\n');
                if (r.get(3) instanceof byte[] o) b.append(Canonical.sha256(o));
                b.append('\n');
            }
        }
        return Canonical.sha256(b.toString());
    }

    private static Row row(List<Object> r) {
        if (r == null) return null;
        return new Row((String) r.get(0), (String) r.get(1), (String) r.get(2), (String) r.get(3), (String) r.get(4),
                (byte[]) r.get(5), (byte[]) r.get(6), (Long) r.get(7), (Long) r.get(8), (Long) r.get(9));
    }
}
