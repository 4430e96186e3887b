package dev.bulwark.server.governance;

import dev.bulwark.objects.java.JavaStorage;
import dev.bulwark.objects.storage.SqlCursor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The approvals of one session, in its session object's database: one row per privileged call
 * (its idempotency key, tool and argument hash) with state {@code pending | approved | rejected |
 * expired | used}. Used only inside the session object's events.
 */
final class SessionApprovals {
    private final JavaStorage db;

    SessionApprovals(JavaStorage db) {
        this.db = db;
    }

    static void create(JavaStorage db) {
        db.sql("CREATE TABLE IF NOT EXISTS approvals (id TEXT PRIMARY KEY, key TEXT NOT NULL UNIQUE, tool TEXT NOT NULL,"
                + " args_hash TEXT NOT NULL, state TEXT NOT NULL, requested_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
                + " decided_by TEXT, decided_at INTEGER)").close();
    }

    /** One approval row. */
    record Approval(String id, String key, String tool, String argsHash, String state, long requestedAt, long expiresAt,
                    String decidedBy, Long decidedAt) {
        /** Its state as of {@code now}: a pending approval past its expiry is expired. */
        String stateAt(long now) {
            return state.equals("pending") && now >= expiresAt ? "expired" : state;
        }

        Map<String, Object> toMap(String session, long now) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", id);
            m.put("session", session);
            m.put("tool", tool);
            m.put("state", stateAt(now));
            m.put("requestedAt", requestedAt);
            m.put("expiresAt", expiresAt);
            m.put("decidedBy", decidedBy);
            m.put("decidedAt", decidedAt);
            return m;
        }
    }

    Approval byKey(String key) {
        return one("SELECT id, key, tool, args_hash, state, requested_at, expires_at, decided_by, decided_at FROM approvals WHERE key = ?", key);
    }

    Approval byId(String id) {
        return one("SELECT id, key, tool, args_hash, state, requested_at, expires_at, decided_by, decided_at FROM approvals WHERE id = ?", id);
    }

    List<Approval> all() {
        List<Approval> out = new ArrayList<>();
        try (SqlCursor c = db.sql("SELECT id, key, tool, args_hash, state, requested_at, expires_at, decided_by, decided_at"
                + " FROM approvals ORDER BY requested_at, id")) {
            for (List<Object> r = c.next(); r != null; r = c.next()) out.add(row(r));
        }
        return out;
    }

    void insert(String id, String key, String tool, String argsHash, long now, long expiresAt) {
        db.sql("INSERT INTO approvals (id, key, tool, args_hash, state, requested_at, expires_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
                id, key, tool, argsHash, now, expiresAt).close();
    }

    void decide(String id, String state, String by, long at) {
        db.sql("UPDATE approvals SET state = ?, decided_by = ?, decided_at = ? WHERE id = ?", state, by, at, id).close();
    }

    void setState(String id, String state) {
        db.sql("UPDATE approvals SET state = ? WHERE id = ?", state, id).close();
    }

    private Approval one(String query, String arg) {
        try (SqlCursor c = db.sql(query, arg)) {
            List<Object> r = c.next();
            return r == null ? null : row(r);
        }
    }

    private static Approval row(List<Object> r) {
        return new Approval((String) r.get(0), (String) r.get(1), (String) r.get(2), (String) r.get(3), (String) r.get(4),
                (Long) r.get(5), (Long) r.get(6), (String) r.get(7), (Long) r.get(8));
    }
}
