package dev.bulwark.server.node;

import dev.bulwark.sandbox.worker.Compatibility;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the node must know to start a facet without its supervisor (its alarm after a node
 * restart, issue 14): one row per facet (its parent, path, class and the hash of the code that
 * ran it last) and each code version once, by hash, in {@code facets.sqlite} of the data
 * directory. Dynamic worker ids are secrets of one node run, so the code itself is kept. A row is
 * written only when a facet starts under another code version than the one it ran last, never on
 * an ordinary call.
 */
final class FacetIndex implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FacetIndex.class);

    /** One facet: who its parent is and what ran it last. */
    record Row(String id, String tenant, String parentId, String path, String className, String codeHash) {}

    /** A code version as a facet's dynamic worker ran it (its parent's capabilities are not kept). */
    record Code(WorkerBundle bundle, String envJson, boolean networkAllowed, Limits limits) {}

    private final Connection db;
    private final Set<String> storedCode = ConcurrentHashMap.newKeySet();
    /** Code hash of each dynamic worker seen (ids are per node run: forgotten with it). */
    private final Map<String, String> hashOfWorker = new ConcurrentHashMap<>();

    FacetIndex(Path dataDir) throws SQLException {
        db = DriverManager.getConnection("jdbc:sqlite:" + dataDir.resolve("facets.sqlite").toAbsolutePath());
        try (Statement s = db.createStatement()) {
            s.execute("PRAGMA journal_mode=WAL");
            s.execute("PRAGMA synchronous=NORMAL");
            s.execute("CREATE TABLE IF NOT EXISTS facets (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, parent TEXT NOT NULL, "
                    + "path TEXT NOT NULL, class TEXT NOT NULL, code TEXT NOT NULL)");
            s.execute("CREATE TABLE IF NOT EXISTS code (hash TEXT PRIMARY KEY, bundle BLOB NOT NULL)");
            try (ResultSet rs = s.executeQuery("SELECT hash FROM code")) {
                while (rs.next()) storedCode.add(rs.getString(1));
            }
        }
    }

    /** Every facet the index holds. */
    synchronized List<Row> rows() {
        List<Row> out = new ArrayList<>();
        try (Statement s = db.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, tenant, parent, path, class, code FROM facets")) {
            while (rs.next()) {
                out.add(new Row(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                        rs.getString(6)));
            }
        } catch (SQLException e) {
            log.error("could not read the facet index: {}", e.getMessage());
        }
        return out;
    }

    /** The row of one facet, or null. */
    synchronized Row row(String facetId) {
        try (PreparedStatement p = db.prepareStatement("SELECT id, tenant, parent, path, class, code FROM facets WHERE id = ?")) {
            p.setString(1, facetId);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? new Row(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getString(5), rs.getString(6)) : null;
            }
        } catch (SQLException e) {
            log.error("could not read the facet index: {}", e.getMessage());
            return null;
        }
    }

    /**
     * A facet started under {@code worker}'s code (a version other than the one it ran last in
     * this node run): its row points at that code, stored once by its hash. Returns the hash.
     */
    String started(String facetId, String tenant, String parentId, String path, String className, DeployedWorker worker) {
        String hash = hashOfWorker.computeIfAbsent(worker.name(), w -> hash(encode(worker)));
        synchronized (this) {
            try {
                if (!storedCode.contains(hash)) {
                    try (PreparedStatement p = db.prepareStatement("INSERT OR IGNORE INTO code (hash, bundle) VALUES (?, ?)")) {
                        p.setString(1, hash);
                        p.setBytes(2, encode(worker));
                        p.executeUpdate();
                    }
                    storedCode.add(hash);
                }
                try (PreparedStatement p = db.prepareStatement("INSERT INTO facets (id, tenant, parent, path, class, code) "
                        + "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET class = excluded.class, code = excluded.code")) {
                    p.setString(1, facetId);
                    p.setString(2, tenant);
                    p.setString(3, parentId);
                    p.setString(4, path);
                    p.setString(5, className);
                    p.setString(6, hash);
                    p.executeUpdate();
                }
            } catch (SQLException e) {
                log.error("could not record facet {} in the facet index: {}", facetId, e.getMessage());
            }
        }
        return hash;
    }

    /** A facet was deleted: its row goes (its code stays while another row may name it). */
    synchronized void deleted(String facetId) {
        try (PreparedStatement p = db.prepareStatement("DELETE FROM facets WHERE id = ?")) {
            p.setString(1, facetId);
            p.executeUpdate();
        } catch (SQLException e) {
            log.error("could not remove facet {} from the facet index: {}", facetId, e.getMessage());
        }
    }

    /** The code stored under {@code hash}, or null. */
    synchronized Code code(String hash) {
        try (PreparedStatement p = db.prepareStatement("SELECT bundle FROM code WHERE hash = ?")) {
            p.setString(1, hash);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? decode(rs.getBytes(1)) : null;
            }
        } catch (SQLException | IOException e) {
            log.error("could not read code {} from the facet index: {}", hash, e.getMessage());
            return null;
        }
    }

    private static byte[] encode(DeployedWorker w) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream o = new DataOutputStream(bytes)) {
            WorkerBundle b = w.bundle();
            o.writeUTF(b.mainModule());
            o.writeInt(b.modules().size());
            for (WorkerModule m : b.modules().values()) {
                o.writeUTF(m.name());
                o.writeUTF(m.type().wireName());
                o.writeInt(m.content().length);
                o.write(m.content());
            }
            Compatibility c = b.compatibility();
            o.writeBoolean(c.date() != null);
            if (c.date() != null) o.writeUTF(c.date());
            o.writeInt(c.flags().size());
            for (String f : c.flags()) o.writeUTF(f);
            byte[] env = w.envJson() == null ? new byte[0] : w.envJson().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            o.writeInt(env.length);
            o.write(env);
            o.writeBoolean(w.networkAllowed());
            Limits l = w.limits();
            o.writeLong(l.cpuMs());
            o.writeLong(l.wallMs());
            o.writeInt(l.heapMb());
            o.writeInt(l.subrequests());
            o.writeLong(l.codeBytes());
            o.writeLong(l.envBytes());
            o.writeLong(l.requestBodyBytes());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e); // in memory: never
        }
        return bytes.toByteArray();
    }

    private static Code decode(byte[] data) throws IOException {
        DataInputStream i = new DataInputStream(new ByteArrayInputStream(data));
        String main = i.readUTF();
        int n = i.readInt();
        Map<String, WorkerModule> modules = new LinkedHashMap<>();
        for (int k = 0; k < n; k++) {
            String name = i.readUTF();
            ModuleType type = ModuleType.fromWireName(i.readUTF());
            byte[] content = new byte[i.readInt()];
            i.readFully(content);
            modules.put(name, new WorkerModule(name, type, content));
        }
        String date = i.readBoolean() ? i.readUTF() : null;
        int flagCount = i.readInt();
        List<String> flags = new ArrayList<>(flagCount);
        for (int k = 0; k < flagCount; k++) flags.add(i.readUTF());
        byte[] env = new byte[i.readInt()];
        i.readFully(env);
        boolean network = i.readBoolean();
        Limits limits = new Limits(i.readLong(), i.readLong(), i.readInt(), i.readInt(), i.readLong(), i.readLong(), i.readLong());
        return new Code(new WorkerBundle(main, modules, new Compatibility(date, flags)),
                new String(env, java.nio.charset.StandardCharsets.UTF_8), network, limits);
    }

    private static String hash(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            db.close();
        } catch (SQLException ignored) {
            // closing
        }
    }
}
