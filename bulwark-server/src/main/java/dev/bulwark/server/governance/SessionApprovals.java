package dev.bulwark.server.governance;

import dev.bulwark.objects.java.JavaStorage;
import dev.bulwark.objects.storage.SqlCursor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The approvals of one session, in its session object's database: one row per privileged call
 * (its idempotency key, tool and argument hash) with state {@code pending | escalated | approved |
 * rejected | expired | used}, the distinct approvers it needs ({@code quorum}), when it escalates
 * and expires, and one vote row per approver. Used only inside the session object's events.
 *
 * <p>Expiry and escalation are deadlines kept in the row, so they need no timer to survive a
 * restart: {@link Approval#stateAt} answers the state as of now, and the session object writes
 * (and audits) the change the first time it sees it ({@code settle}).
 */
final class SessionApprovals {
    private static final String COLUMNS = "id, key, tool, args_hash, state, requested_at, expires_at, decided_by, decided_at,"
            + " quorum, escalate_at";
    private final JavaStorage db;

    SessionApprovals(JavaStorage db) {
        this.db = db;
        upgrade(db);
    }

    static void create(JavaStorage db) {
        db.sql("CREATE TABLE IF NOT EXISTS approvals (id TEXT PRIMARY KEY, key TEXT NOT NULL UNIQUE, tool TEXT NOT NULL,"
                + " args_hash TEXT NOT NULL, state TEXT NOT NULL, requested_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
                + " decided_by TEXT, decided_at INTEGER, quorum INTEGER NOT NULL DEFAULT 1, escalate_at INTEGER)").close();
        votes(db);
    }

    private static void votes(JavaStorage db) {
        db.sql("CREATE TABLE IF NOT EXISTS approval_votes (approval TEXT NOT NULL, approver TEXT NOT NULL, role TEXT NOT NULL,"
                + " vote TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (approval, approver))").close();
    }

    /** A session made before quorum and escalation existed: its table gains their columns. */
    private static void upgrade(JavaStorage db) {
        boolean table = false;
        boolean quorum = false;
        try (SqlCursor c = db.sql("SELECT name FROM pragma_table_info('approvals')")) {
            for (List<Object> r = c.next(); r != null; r = c.next()) {
                table = true;
                if ("quorum".equals(r.getFirst())) quorum = true;
            }
        }
        if (!table || quorum) return;
        db.sql("ALTER TABLE approvals ADD COLUMN quorum INTEGER NOT NULL DEFAULT 1").close();
        db.sql("ALTER TABLE approvals ADD COLUMN escalate_at INTEGER").close();
        votes(db);
    }

    /** One approval row. */
    record Approval(String id, String key, String tool, String argsHash, String state, long requestedAt, long expiresAt,
                    String decidedBy, Long decidedAt, long quorum, Long escalateAt) {
        /**
         * Its state as of {@code now}: an undecided approval past its expiry is expired; a pending one
         * past its escalation time is escalated.
         */
        String stateAt(long now) {
            if (!open()) return state;
            if (now >= expiresAt) return "expired";
            if (escalateAt != null && now >= escalateAt) return "escalated";
            return state;
        }

        /** Whether it still waits for a decision (as stored). */
        boolean open() {
            return state.equals("pending") || state.equals("escalated");
        }
    }

    /** One approver's vote. */
    record Vote(String approver, String role, String vote, long at) {
        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("approver", approver);
            m.put("role", role);
            m.put("vote", vote);
            m.put("at", at);
            return m;
        }
    }

    /** The approval as listed: id, session, tool, state, times, quorum, votes, decidedBy/At. */
    Map<String, Object> toMap(Approval a, String session, long now) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", a.id());
        m.put("session", session);
        m.put("tool", a.tool());
        m.put("state", a.stateAt(now));
        m.put("requestedAt", a.requestedAt());
        m.put("expiresAt", a.expiresAt());
        m.put("escalatesAt", a.escalateAt());
        m.put("quorum", a.quorum());
        List<Object> votes = new ArrayList<>();
        for (Vote v : votes(a.id())) votes.add(v.toMap());
        m.put("votes", votes);
        m.put("decidedBy", a.decidedBy());
        m.put("decidedAt", a.decidedAt());
        return m;
    }

    Approval byKey(String key) {
        return one("SELECT " + COLUMNS + " FROM approvals WHERE key = ?", key);
    }

    Approval byId(String id) {
        return one("SELECT " + COLUMNS + " FROM approvals WHERE id = ?", id);
    }

    List<Approval> all() {
        List<Approval> out = new ArrayList<>();
        try (SqlCursor c = db.sql("SELECT " + COLUMNS + " FROM approvals ORDER BY requested_at, id")) {
            for (List<Object> r = c.next(); r != null; r = c.next()) out.add(row(r));
        }
        return out;
    }

    /** The approvals still waiting for a decision (as stored). */
    List<Approval> open() {
        List<Approval> out = new ArrayList<>();
        for (Approval a : all()) if (a.open()) out.add(a);
        return out;
    }

    void insert(String id, String key, String tool, String argsHash, long now, long expiresAt, long quorum, Long escalateAt) {
        db.sql("INSERT INTO approvals (id, key, tool, args_hash, state, requested_at, expires_at, quorum, escalate_at)"
                + " VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?)", id, key, tool, argsHash, now, expiresAt, quorum, escalateAt).close();
    }

    void decide(String id, String state, String by, long at) {
        db.sql("UPDATE approvals SET state = ?, decided_by = ?, decided_at = ? WHERE id = ?", state, by, at, id).close();
    }

    void setState(String id, String state) {
        db.sql("UPDATE approvals SET state = ? WHERE id = ?", state, id).close();
    }

    void vote(String id, String approver, String role, String vote, long at) {
        db.sql("INSERT INTO approval_votes (approval, approver, role, vote, at) VALUES (?, ?, ?, ?, ?)", id, approver, role, vote, at)
                .close();
    }

    List<Vote> votes(String id) {
        List<Vote> out = new ArrayList<>();
        try (SqlCursor c = db.sql("SELECT approver, role, vote, at FROM approval_votes WHERE approval = ? ORDER BY at, approver", id)) {
            for (List<Object> r = c.next(); r != null; r = c.next()) {
                out.add(new Vote((String) r.get(0), (String) r.get(1), (String) r.get(2), (Long) r.get(3)));
            }
        }
        return out;
    }

    private Approval one(String query, String arg) {
        try (SqlCursor c = db.sql(query, arg)) {
            List<Object> r = c.next();
            return r == null ? null : row(r);
        }
    }

    private static Approval row(List<Object> r) {
        return new Approval((String) r.get(0), (String) r.get(1), (String) r.get(2), (String) r.get(3), (String) r.get(4),
                (Long) r.get(5), (Long) r.get(6), (String) r.get(7), (Long) r.get(8), (Long) r.get(9), (Long) r.get(10));
    }
}
