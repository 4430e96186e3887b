package dev.bulwark.objects.runtime;

import dev.bulwark.objects.storage.KvEntry;
import dev.bulwark.objects.storage.KvListOptions;
import dev.bulwark.objects.storage.ObjectStorage;
import dev.bulwark.objects.storage.Savepoint;
import dev.bulwark.objects.storage.SqlCursor;
import dev.bulwark.objects.storage.StorageOptions;
import dev.bulwark.sandbox.isolate.ObjectStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.SequencedMap;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The sandbox's object store: one SQLite file per durable object under the sandbox's data
 * directory, {@code objects/<worker>/<class>/<id>.sqlite}. Names come from the node's addresses,
 * and are checked again here: nothing a name holds can lead outside the directory.
 */
public final class SqliteObjectStore implements ObjectStore {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_$][A-Za-z0-9_$.-]{0,127}");
    private static final Pattern ID = Pattern.compile("[0-9a-f]{64}");
    /** Snapshot file names the node chooses: random hex, nothing that could name another path. */
    private static final Pattern SNAPSHOT_NAME = Pattern.compile("[0-9a-f]{32}\\.sqlite");

    private final Path root;
    private final Path snapshots;
    private final Path facets;
    private final StorageOptions options;

    public SqliteObjectStore(Path dataDir) {
        this(dataDir, StorageOptions.defaults());
    }

    public SqliteObjectStore(Path dataDir, StorageOptions options) {
        this.root = dataDir.toAbsolutePath().normalize().resolve("objects");
        this.snapshots = dataDir.toAbsolutePath().normalize().resolve("snapshots");
        this.facets = dataDir.toAbsolutePath().normalize().resolve("facets");
        this.options = options;
    }

    /**
     * The file an object's database lives in. A facet (a class of a dynamic worker: only facets
     * have storage there) keeps its file under {@code facets/<id>.sqlite}, whatever code version
     * and class run it: a supervisor swaps code and the new version sees the old data.
     */
    public Path file(String workerId, String className, String objectId) {
        if (!NAME.matcher(workerId).matches() || workerId.contains("..")) throw new StorageException("bad worker name");
        if (!NAME.matcher(className).matches() || className.contains("..")) throw new StorageException("bad class name");
        if (!ID.matcher(objectId).matches()) throw new StorageException("bad object id");
        if (workerId.startsWith(dev.bulwark.sandbox.ipc.FacetIds.DYNAMIC_PREFIX)) {
            return facets.resolve(objectId + ".sqlite");
        }
        return root.resolve(workerId).resolve(className).resolve(objectId + ".sqlite");
    }

    @Override
    public void delete(String workerId, String className, String objectId) {
        Path file = file(workerId, className, objectId);
        try {
            for (String suffix : new String[] {"", "-wal", "-shm", "-journal"}) {
                Files.deleteIfExists(file.resolveSibling(file.getFileName() + suffix));
            }
        } catch (IOException e) {
            throw new StorageException("could not delete the database: " + e.getMessage());
        }
    }

    @Override
    public Database open(String workerId, String className, String objectId) {
        Path file = file(workerId, className, objectId);
        try {
            Files.createDirectories(file.getParent());
        } catch (IOException e) {
            throw new StorageException("could not create the object's directory: " + e.getMessage());
        }
        return new SqliteDatabase(translate(() -> ObjectStorage.open(file, options)), this);
    }

    /** Where the snapshot named {@code fileName} goes (the node reads it from there and deletes it). */
    Path snapshotFile(String fileName) {
        if (!SNAPSHOT_NAME.matcher(fileName).matches()) throw new StorageException("bad snapshot name");
        try {
            Files.createDirectories(snapshots);
        } catch (IOException e) {
            throw new StorageException("could not create the snapshot directory: " + e.getMessage());
        }
        return snapshots.resolve(fileName);
    }

    /** Runs a storage call, giving the worker the storage layer's message and nothing of Java. */
    static <T> T translate(Supplier<T> call) {
        try {
            return call.get();
        } catch (dev.bulwark.objects.storage.StorageException e) {
            throw new StorageException(e.getMessage(), e);
        } catch (UncheckedIOException e) {
            throw new StorageException("storage I/O failed", e);
        }
    }

    static void run(Runnable call) {
        translate(() -> {
            call.run();
            return null;
        });
    }

    /** One object's database, adapted to what the isolate layer asks. */
    private static final class SqliteDatabase implements Database {
        private final ObjectStorage storage;
        private final SqliteObjectStore store;
        private final Deque<Savepoint> savepoints = new ArrayDeque<>();

        SqliteDatabase(ObjectStorage storage, SqliteObjectStore store) {
            this.storage = storage;
            this.store = store;
        }

        @Override
        public void snapshot(String fileName) {
            Path target = store.snapshotFile(fileName);
            run(() -> storage.snapshot(target));
        }

        @Override
        public SqlResult exec(String sql, List<Object> bindings) {
            return translate(() -> {
                try (SqlCursor cursor = storage.exec(sql, bindings)) {
                    List<Object[]> rows = new ArrayList<>();
                    for (List<Object> row = cursor.next(); row != null; row = cursor.next()) rows.add(row.toArray());
                    return new SqlResult(cursor.columnNames(), rows, cursor.rowsRead(), cursor.rowsWritten());
                }
            });
        }

        @Override
        public long databaseSize() {
            return translate(storage::databaseSize);
        }

        @Override
        public List<byte[]> get(List<String> keys) {
            return translate(() -> {
                SequencedMap<String, byte[]> found = storage.get(keys);
                List<byte[]> out = new ArrayList<>(keys.size());
                for (String k : keys) out.add(found.get(k));
                return out;
            });
        }

        @Override
        public void put(List<String> keys, List<byte[]> values) {
            run(() -> {
                if (keys.size() == 1) {
                    storage.put(keys.getFirst(), values.getFirst());
                } else {
                    Map<String, byte[]> entries = new LinkedHashMap<>();
                    for (int i = 0; i < keys.size(); i++) entries.put(keys.get(i), values.get(i));
                    storage.put(entries);
                }
            });
        }

        @Override
        public int delete(List<String> keys) {
            return translate(() -> storage.delete(keys));
        }

        @Override
        public List<Entry> list(ListOptions o) {
            return translate(() -> {
                List<Entry> out = new ArrayList<>();
                for (KvEntry e : storage.list(new KvListOptions(o.start(), o.startAfter(), o.end(), o.prefix(),
                        o.reverse(), o.limit() > 0 ? o.limit() : null))) {
                    out.add(new Entry(e.key(), e.value()));
                }
                return out;
            });
        }

        @Override
        public void deleteAll() {
            run(() -> storage.deleteAll(false));
        }

        @Override
        public Long alarm() {
            return translate(() -> {
                OptionalLong t = storage.getAlarm();
                return t.isPresent() ? t.getAsLong() : null;
            });
        }

        @Override
        public void setAlarm(Long epochMillis) {
            run(() -> {
                if (epochMillis == null) storage.deleteAlarm();
                else storage.setAlarm(epochMillis);
            });
        }

        @Override
        public void beginSavepoint() {
            run(() -> savepoints.push(storage.savepoint()));
        }

        @Override
        public void releaseSavepoint() {
            run(() -> popSavepoint().release());
        }

        @Override
        public void rollbackSavepoint() {
            run(() -> popSavepoint().rollback());
        }

        private Savepoint popSavepoint() {
            Savepoint sp = savepoints.poll();
            if (sp == null) throw new StorageException("no transaction is open");
            return sp;
        }

        @Override
        public void commit() {
            run(storage::commit);
        }

        @Override
        public void rollback() {
            savepoints.clear();
            run(storage::rollback);
        }

        @Override
        public void close() {
            storage.close();
        }
    }
}
