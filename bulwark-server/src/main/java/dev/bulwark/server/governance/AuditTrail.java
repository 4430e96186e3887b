package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.objects.java.JavaStorage;
import dev.bulwark.objects.storage.SqlCursor;

import java.util.List;
import java.util.Map;

/**
 * A session's audit trail, in the session object's own database: append-only rows, each holding the
 * SHA-256 of the previous row's hash and its own content, so that editing, deleting or reordering a
 * row breaks the chain at that row ({@link #verify}). Written inside the session object's events,
 * so a row commits with the decision it records.
 */
final class AuditTrail {
    static final String GENESIS = "0".repeat(64);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final JavaStorage storage;

    AuditTrail(JavaStorage storage) {
        this.storage = storage;
    }

    static void create(JavaStorage storage) {
        storage.sql("CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind TEXT NOT NULL,"
                + " body TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL)").close();
    }

    /** Appends a row; returns its sequence number. */
    long append(long at, String kind, Map<String, Object> body) {
        String prev = GENESIS;
        long seq = 1;
        try (SqlCursor c = storage.sql("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")) {
            List<Object> last = c.next();
            if (last != null) {
                seq = (Long) last.get(0) + 1;
                prev = (String) last.get(1);
            }
        }
        String text = json(body);
        storage.sql("INSERT INTO audit (seq, at, kind, body, prev, hash) VALUES (?, ?, ?, ?, ?, ?)", seq, at, kind, text, prev,
                hash(prev, seq, at, kind, text)).close();
        return seq;
    }

    static String hash(String prev, long seq, long at, String kind, String body) {
        return Canonical.sha256(prev + "\n" + seq + "\n" + at + "\n" + kind + "\n" + body);
    }

    /** Every row, oldest first, as maps (seq, at, kind, body, prev, hash). */
    List<Map<String, Object>> rows() {
        try (SqlCursor c = storage.sql("SELECT seq, at, kind, body, prev, hash FROM audit ORDER BY seq")) {
            return c.rows();
        }
    }

    /** At most {@code limit} rows with seq above {@code afterSeq}, oldest first (the roll-up reads new rows a page at a time). */
    List<Map<String, Object>> rowsAfter(long afterSeq, long limit) {
        try (SqlCursor c = storage.sql("SELECT seq, at, kind, body, prev, hash FROM audit WHERE seq > ? ORDER BY seq LIMIT ?",
                afterSeq, limit)) {
            return c.rows();
        }
    }

    /** The sequence number of the first row whose link or hash is wrong, or 0 when the chain holds. */
    static long firstBroken(List<Map<String, Object>> rows) {
        String prev = GENESIS;
        long expected = 1;
        for (Map<String, Object> r : rows) {
            long seq = (Long) r.get("seq");
            if (seq != expected || !prev.equals(r.get("prev"))
                    || !hash(prev, seq, (Long) r.get("at"), (String) r.get("kind"), (String) r.get("body")).equals(r.get("hash"))) {
                return seq;
            }
            prev = (String) r.get("hash");
            expected++;
        }
        return 0;
    }

    /** The hash of the last row (the digest of the whole trail), or the genesis value. */
    String head() {
        try (SqlCursor c = storage.sql("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1")) {
            List<Object> last = c.next();
            return last == null ? GENESIS : (String) last.getFirst();
        }
    }

    private static String json(Map<String, Object> body) {
        try {
            return JSON.writeValueAsString(body);
        } catch (Exception e) {
            throw new IllegalStateException("an audit row cannot be written as JSON", e);
        }
    }
}
