package dev.bulwark.objects.storage;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/**
 * Key-value storage in the object's database. Values are opaque bytes; up to
 * {@link #INLINE_MAX} they sit in the key's row, larger ones are cut into {@link #CHUNK} pieces.
 */
final class KvStore {

    static final int MAX_KEY_BYTES = 2048;
    static final int MAX_BATCH = 128;
    static final int INLINE_MAX = 64 * 1024;
    static final int CHUNK = 1024 * 1024;

    private final Sqlite db;
    private final Transactions tx;
    private final ReservedSchema schema;
    private final long maxValueBytes;
    private PreparedStatement getStmt;
    private PreparedStatement chunksStmt;
    private PreparedStatement putStmt;
    private PreparedStatement putChunkStmt;
    private PreparedStatement deleteStmt;
    private PreparedStatement deleteChunksStmt;

    KvStore(Sqlite db, Transactions tx, ReservedSchema schema, long maxValueBytes) {
        this.db = db;
        this.tx = tx;
        this.schema = schema;
        this.maxValueBytes = maxValueBytes;
    }

    byte[] get(String key) {
        byte[] k = key(key);
        if (!schema.present()) return null;
        try {
            return read(k);
        } catch (SQLException e) {
            throw tx.afterError(db.translate(e));
        }
    }

    /** The values of those keys that exist, in the order asked. */
    SequencedMap<String, byte[]> get(List<String> keys) {
        batch(keys.size());
        List<byte[]> ks = keys.stream().map(KvStore::key).toList();
        SequencedMap<String, byte[]> out = new LinkedHashMap<>();
        if (!schema.present()) return out;
        try {
            for (int i = 0; i < ks.size(); i++) {
                byte[] v = read(ks.get(i));
                if (v != null) out.put(keys.get(i), v);
            }
        } catch (SQLException e) {
            throw tx.afterError(db.translate(e));
        }
        return out;
    }

    void put(String key, byte[] value) {
        put(Map.of(key, value));
    }

    void put(Map<String, byte[]> entries) {
        batch(entries.size());
        List<byte[]> ks = new ArrayList<>(entries.size());
        for (Map.Entry<String, byte[]> e : entries.entrySet()) {
            ks.add(key(e.getKey()));
            if (e.getValue() == null) throw new StorageException(StorageException.Kind.TYPE, "value is required");
            if (e.getValue().length > maxValueBytes) {
                throw new StorageException(StorageException.Kind.RANGE,
                        "Values cannot be larger than " + maxValueBytes + " bytes.");
            }
        }
        tx.ensureOpen();
        try {
            schema.ensure();
            int i = 0;
            for (byte[] value : entries.values()) write(ks.get(i++), value);
        } catch (SQLException e) {
            throw tx.afterError(db.translate(e));
        }
    }

    boolean delete(String key) {
        return delete(List.of(key)) == 1;
    }

    int delete(List<String> keys) {
        batch(keys.size());
        List<byte[]> ks = keys.stream().map(KvStore::key).toList();
        if (!schema.present()) return 0;
        tx.ensureOpen();
        int n = 0;
        try {
            for (byte[] k : ks) {
                deleteChunks(k);
                deleteStmt = prepared(deleteStmt, "DELETE FROM " + ReservedSchema.KV + " WHERE key = ?");
                deleteStmt.setBytes(1, k);
                n += deleteStmt.executeUpdate();
            }
        } catch (SQLException e) {
            throw tx.afterError(db.translate(e));
        }
        return n;
    }

    List<KvEntry> list(KvListOptions o) {
        if (o.start() != null && o.startAfter() != null) {
            throw new StorageException(StorageException.Kind.TYPE,
                    "list() cannot be called with both start and startAfter values.");
        }
        if (o.limit() != null && o.limit() <= 0) {
            throw new StorageException(StorageException.Kind.TYPE, "List limit must be positive.");
        }
        if (!schema.present()) return List.of();
        StringBuilder sql = new StringBuilder("SELECT key, value, chunks FROM " + ReservedSchema.KV + " WHERE 1");
        List<byte[]> args = new ArrayList<>();
        if (o.start() != null) {
            sql.append(" AND key >= ?");
            args.add(utf8(o.start()));
        }
        if (o.startAfter() != null) {
            sql.append(" AND key > ?");
            args.add(utf8(o.startAfter()));
        }
        if (o.end() != null) {
            sql.append(" AND key < ?");
            args.add(utf8(o.end()));
        }
        if (o.prefix() != null && !o.prefix().isEmpty()) {
            byte[] p = utf8(o.prefix());
            sql.append(" AND key >= ?");
            args.add(p);
            byte[] upper = successor(p);
            if (upper != null) {
                sql.append(" AND key < ?");
                args.add(upper);
            }
        }
        sql.append(o.reverse() ? " ORDER BY key DESC" : " ORDER BY key ASC");
        if (o.limit() != null) sql.append(" LIMIT ").append(o.limit());
        List<KvEntry> out = new ArrayList<>();
        try (PreparedStatement ps = db.prepare(sql.toString())) {
            for (int i = 0; i < args.size(); i++) ps.setBytes(i + 1, args.get(i));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byte[] k = rs.getBytes(1);
                    byte[] v = rs.getInt(3) == 0 ? nonNull(rs.getBytes(2)) : readChunks(k);
                    out.add(new KvEntry(new String(k, StandardCharsets.UTF_8), v));
                }
            }
        } catch (SQLException e) {
            throw tx.afterError(db.translate(e));
        }
        return out;
    }

    /** Deletes every key (inside the open transaction). */
    void clear() throws SQLException {
        if (!schema.present()) return;
        db.exec("DELETE FROM " + ReservedSchema.KV);
        db.exec("DELETE FROM " + ReservedSchema.KV_CHUNK);
    }

    void closeStatements() {
        for (PreparedStatement ps : Arrays.asList(getStmt, chunksStmt, putStmt, putChunkStmt, deleteStmt,
                deleteChunksStmt)) {
            if (ps == null) continue;
            try {
                ps.close();
            } catch (SQLException ignored) {
                // closing only
            }
        }
        getStmt = chunksStmt = putStmt = putChunkStmt = deleteStmt = deleteChunksStmt = null;
    }

    private byte[] read(byte[] k) throws SQLException {
        getStmt = prepared(getStmt, "SELECT value, chunks FROM " + ReservedSchema.KV + " WHERE key = ?");
        getStmt.setBytes(1, k);
        byte[] inline;
        int chunks;
        try (ResultSet rs = getStmt.executeQuery()) {
            if (!rs.next()) return null;
            inline = rs.getBytes(1);
            chunks = rs.getInt(2);
        }
        return chunks == 0 ? nonNull(inline) : readChunks(k);
    }

    private byte[] readChunks(byte[] k) throws SQLException {
        chunksStmt = prepared(chunksStmt, "SELECT data FROM " + ReservedSchema.KV_CHUNK
                + " WHERE key = ? ORDER BY seq");
        chunksStmt.setBytes(1, k);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ResultSet rs = chunksStmt.executeQuery()) {
            while (rs.next()) out.writeBytes(rs.getBytes(1));
        }
        return out.toByteArray();
    }

    private void write(byte[] k, byte[] value) throws SQLException {
        deleteChunks(k);
        putStmt = prepared(putStmt, "INSERT INTO " + ReservedSchema.KV + " (key, value, chunks) VALUES (?, ?, ?)"
                + " ON CONFLICT (key) DO UPDATE SET value = excluded.value, chunks = excluded.chunks");
        putStmt.setBytes(1, k);
        if (value.length <= INLINE_MAX) {
            putStmt.setBytes(2, value);
            putStmt.setInt(3, 0);
            putStmt.executeUpdate();
            return;
        }
        int chunks = (value.length + CHUNK - 1) / CHUNK;
        putStmt.setNull(2, java.sql.Types.BLOB);
        putStmt.setInt(3, chunks);
        putStmt.executeUpdate();
        putChunkStmt = prepared(putChunkStmt, "INSERT INTO " + ReservedSchema.KV_CHUNK
                + " (key, seq, data) VALUES (?, ?, ?)");
        for (int i = 0; i < chunks; i++) {
            putChunkStmt.setBytes(1, k);
            putChunkStmt.setInt(2, i);
            putChunkStmt.setBytes(3, Arrays.copyOfRange(value, i * CHUNK, Math.min(value.length, (i + 1) * CHUNK)));
            putChunkStmt.executeUpdate();
        }
    }

    private void deleteChunks(byte[] k) throws SQLException {
        deleteChunksStmt = prepared(deleteChunksStmt, "DELETE FROM " + ReservedSchema.KV_CHUNK + " WHERE key = ?");
        deleteChunksStmt.setBytes(1, k);
        deleteChunksStmt.executeUpdate();
    }

    private PreparedStatement prepared(PreparedStatement ps, String sql) throws SQLException {
        return ps != null ? ps : db.prepare(sql);
    }

    private static byte[] nonNull(byte[] b) {
        return b == null ? new byte[0] : b;
    }

    private static void batch(int n) {
        if (n > MAX_BATCH) {
            throw new StorageException(StorageException.Kind.RANGE, "Maximum number of keys is " + MAX_BATCH + ".");
        }
    }

    private static byte[] key(String key) {
        if (key == null) throw new StorageException(StorageException.Kind.TYPE, "key is required");
        byte[] k = utf8(key);
        if (k.length > MAX_KEY_BYTES) {
            throw new StorageException(StorageException.Kind.RANGE,
                    "Keys cannot be larger than " + MAX_KEY_BYTES + " bytes.");
        }
        return k;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The smallest byte string greater than every string with this prefix, or null if none. */
    static byte[] successor(byte[] prefix) {
        int n = prefix.length;
        while (n > 0 && prefix[n - 1] == (byte) 0xff) n--;
        if (n == 0) return null;
        byte[] out = Arrays.copyOf(prefix, n);
        out[n - 1]++;
        return out;
    }
}
