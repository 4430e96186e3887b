package dev.bulwark.server.governance;

import dev.bulwark.objects.java.JavaDurableObject;
import dev.bulwark.objects.java.JavaObjectContext;
import dev.bulwark.objects.java.JavaStorage;
import dev.bulwark.objects.storage.SqlCursor;

import java.util.ArrayList;
import java.util.List;

/**
 * One per tenant: which session each of the tenant's approvals belongs to, so that
 * {@code GET v1/approvals} and {@code POST v1/approvals/{id}} find them. The session object holds
 * the approval itself (the truth); this index is written after it, by every answer that names a
 * pending approval (so an index row lost to a crash comes back with the next retry of the call).
 */
final class ApprovalIndex implements JavaDurableObject {
    static final String CLASS = "BulwarkApprovals";
    static final String[] METHODS = {"add", "session", "list", "state"};

    private final JavaStorage db;

    ApprovalIndex(JavaObjectContext ctx) {
        this.db = ctx.storage();
        db.sql("CREATE TABLE IF NOT EXISTS approvals (id TEXT PRIMARY KEY, session TEXT NOT NULL, tool TEXT NOT NULL,"
                + " state TEXT NOT NULL, requested_at INTEGER NOT NULL, expires_at INTEGER NOT NULL)").close();
    }

    @Override
    public Object call(String method, List<Object> args) {
        return switch (method) {
            case "add" -> { // true when the approval was not indexed before
                try (SqlCursor c = db.sql("INSERT OR IGNORE INTO approvals (id, session, tool, state, requested_at, expires_at)"
                        + " VALUES (?, ?, ?, 'pending', ?, ?)", args.get(0), args.get(1), args.get(2), args.get(3), args.get(4))) {
                    c.next();
                    yield c.rowsWritten() == 1;
                }
            }
            case "session" -> {
                try (SqlCursor c = db.sql("SELECT session FROM approvals WHERE id = ?", args.getFirst())) {
                    List<Object> r = c.next();
                    yield r == null ? null : r.getFirst();
                }
            }
            case "state" -> {
                db.sql("UPDATE approvals SET state = ? WHERE id = ?", args.get(1), args.get(0)).close();
                yield null;
            }
            case "list" -> {
                try (SqlCursor c = db.sql("SELECT id, session, tool, state, requested_at AS requestedAt,"
                        + " expires_at AS expiresAt FROM approvals WHERE (? IS NULL OR state = ?)"
                        + " ORDER BY requested_at, id LIMIT 1000", args.getFirst(), args.getFirst())) {
                    yield new ArrayList<Object>(c.rows());
                }
            }
            default -> throw new IllegalStateException("refused before: see METHODS");
        };
    }
}
