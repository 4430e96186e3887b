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
public final class SqliteObjectStore implements ObjectStore, AutoCloseable {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_$][A-Za-z0-9_$.-]{0,127}");
    private static final Pattern ID = Pattern.compile("[0-9a-f]{64}");
    /** Snapshot file names the node chooses: random hex, nothing that could name another path. */
    private static final Pattern SNAPSHOT_NAME = Pattern.compile("[0-9a-f]{32}\\.sqlite");

    private final Path root;
    private final Path snapshots;
    private final Path facets;
    private final StorageOptions options;
    /** Closes idle objects' connections; null when connections stay open while their object lives. */
    private final IdleConnections idle;

    /** A store whose connections stay open while their object lives. */
    public SqliteObjectStore(Path dataDir) {
        this(dataDir, StorageOptions.defaults(), 0);
    }

    public SqliteObjectStore(Path dataDir, StorageOptions options) {
        this(dataDir, options, 0);
    }

    /**
     * @param storageIdleMs an object whose storage was not used for this long has its connection
     *                      closed (its instance stays; the next storage call opens it again);
     *                      0 keeps connections open until the object is evicted
     */
    public SqliteObjectStore(Path dataDir, StorageOptions options, long storageIdleMs) {
        if (storageIdleMs < 0) throw new IllegalArgumentException("storageIdleMs must not be negative");
        this.root = dataDir.toAbsolutePath().normalize().resolve("objects");
        this.snapshots = dataDir.toAbsolutePath().normalize().resolve("snapshots");
        this.facets = dataDir.toAbsolutePath().normalize().resolve("facets");
        this.options = options;
        this.idle = storageIdleMs == 0 ? null : new IdleConnections(storageIdleMs);
    }

    /**
     * Closes now every connection that is not in a transaction, as the sweep does to those idle
     * for the idle period (tests); how many it closed.
     */
    int closeIdleConnectionsNow() {
        return idle == null ? 0 : idle.sweep(System.nanoTime());
    }

    /** Stops the idle sweep (the objects' own databases are closed by their owners). */
    @Override
    public void close() {
        if (idle != null) idle.close();
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
        SqliteDatabase db = new SqliteDatabase(file, translate(() -> ObjectStorage.open(file, options)), this);
        if (idle != null) idle.add(db);
        return db;
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

    /**
     * One object's database, adapted to what the isolate layer asks. Its connection may be closed
     * by {@link IdleConnections} between two calls (never inside a transaction) and is opened
     * again by the next call that needs it; a lock orders the sweep's close against the isolate
     * thread's calls. Commit and rollback of a closed connection have nothing to do.
     */
    private static final class SqliteDatabase implements Database, IdleConnections.Releasable {
        private final Path file;
        private final SqliteObjectStore store;
        private final java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();
        private final Deque<Savepoint> savepoints = new ArrayDeque<>();
        /** The open connection; null while released. Guarded by {@link #lock}. */
        private ObjectStorage storage;
        /** When a call last used the storage (System.nanoTime). Guarded by {@link #lock}. */
        private long lastUsed = System.nanoTime();
        private boolean closed;

        SqliteDatabase(Path file, ObjectStorage storage, SqliteObjectStore store) {
            this.file = file;
            this.storage = storage;
            this.store = store;
        }

        /** Runs a storage call under the lock on the open connection, opening it again if it was released. */
        private <T> T call(java.util.function.Function<ObjectStorage, T> body) {
            lock.lock();
            try {
                return translate(() -> body.apply(open()));
            } finally {
                lock.unlock();
            }
        }

        private void callVoid(java.util.function.Consumer<ObjectStorage> body) {
            call(s -> {
                body.accept(s);
                return null;
            });
        }

        private ObjectStorage open() {
            if (closed) {
                throw new dev.bulwark.objects.storage.StorageException(
                        dev.bulwark.objects.storage.StorageException.Kind.STATE, "storage is closed");
            }
            lastUsed = System.nanoTime();
            if (storage == null) {
                try {
                    storage = ObjectStorage.reopen(file, store.options);
                } catch (dev.bulwark.objects.storage.StorageException e) {
                    throw new dev.bulwark.objects.storage.StorageException(e.kind(),
                            "could not open the object's storage again: " + e.getMessage(), e);
                }
            }
            return storage;
        }

        @Override
        public boolean releaseIfIdle(long usedBefore) {
            if (!lock.tryLock()) return false;
            try {
                if (storage == null || closed || lastUsed - usedBefore > 0 || !savepoints.isEmpty() || !storage.settled()) {
                    return false;
                }
                ObjectStorage s = storage;
                storage = null;
                s.close();
                return true;
            } finally {
                lock.unlock();
            }
        }

        /** Whether the connection is open now (tests). */
        boolean connected() {
            lock.lock();
            try {
                return storage != null;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void snapshot(String fileName) {
            Path target = store.snapshotFile(fileName);
            callVoid(s -> s.snapshot(target));
        }

        @Override
        public SqlResult exec(String sql, List<Object> bindings) {
            // The hottest storage call (every sql.exec): written out instead of through call(),
            // so it makes no lambdas and is a small method for the JIT.
            lock.lock();
            try {
                SqlCursor cursor = open().exec(sql, bindings);
                if (cursor.isDone()) {
                    // No rows to read (an INSERT, UPDATE, DDL...): nothing to collect.
                    return new SqlResult(cursor.columnNames(), List.of(), cursor.rowsRead(), cursor.rowsWritten());
                }
                try (cursor) {
                    List<Object[]> rows = new ArrayList<>();
                    for (List<Object> row = cursor.next(); row != null; row = cursor.next()) rows.add(row.toArray());
                    return new SqlResult(cursor.columnNames(), rows, cursor.rowsRead(), cursor.rowsWritten());
                }
            } catch (dev.bulwark.objects.storage.StorageException e) {
                throw new StorageException(e.getMessage(), e);
            } catch (UncheckedIOException e) {
                throw new StorageException("storage I/O failed", e);
            } finally {
                lock.unlock();
            }
        }

        @Override
        public long maxValueBytes() {
            return store.options.maxValueBytes();
        }

        @Override
        public long databaseSize() {
            return call(ObjectStorage::databaseSize);
        }

        @Override
        public List<byte[]> get(List<String> keys) {
            return call(s -> {
                SequencedMap<String, byte[]> found = s.get(keys);
                List<byte[]> out = new ArrayList<>(keys.size());
                for (String k : keys) out.add(found.get(k));
                return out;
            });
        }

        @Override
        public void put(List<String> keys, List<byte[]> values) {
            callVoid(s -> {
                if (keys.size() == 1) {
                    s.put(keys.getFirst(), values.getFirst());
                } else {
                    Map<String, byte[]> entries = new LinkedHashMap<>();
                    for (int i = 0; i < keys.size(); i++) entries.put(keys.get(i), values.get(i));
                    s.put(entries);
                }
            });
        }

        @Override
        public int delete(List<String> keys) {
            return call(s -> s.delete(keys));
        }

        @Override
        public List<Entry> list(ListOptions o) {
            return call(s -> {
                List<Entry> out = new ArrayList<>();
                for (KvEntry e : s.list(new KvListOptions(o.start(), o.startAfter(), o.end(), o.prefix(),
                        o.reverse(), o.limit() > 0 ? o.limit() : null))) {
                    out.add(new Entry(e.key(), e.value()));
                }
                return out;
            });
        }

        @Override
        public void deleteAll(boolean alarmToo) {
            callVoid(s -> s.deleteAll(alarmToo));
        }

        @Override
        public Long alarm() {
            lock.lock();
            try {
                return translate(() -> {
                    OptionalLong t = open().getAlarm();
                    return t.isPresent() ? t.getAsLong() : null;
                });
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void setAlarm(Long epochMillis) {
            callVoid(s -> {
                if (epochMillis == null) s.deleteAlarm();
                else s.setAlarm(epochMillis);
            });
        }

        @Override
        public void beginSavepoint() {
            callVoid(s -> savepoints.push(s.savepoint()));
        }

        @Override
        public void releaseSavepoint() {
            callVoid(s -> popSavepoint().release());
        }

        @Override
        public void rollbackSavepoint() {
            callVoid(s -> popSavepoint().rollback());
        }

        @Override
        public boolean inTransaction() {
            lock.lock();
            try {
                return !savepoints.isEmpty();
            } finally {
                lock.unlock();
            }
        }

        private Savepoint popSavepoint() {
            Savepoint sp = savepoints.poll();
            if (sp == null) throw new StorageException("no transaction is open");
            return sp;
        }

        @Override
        public void commit() {
            lock.lock();
            try {
                // Released: nothing was written since the connection closed, so nothing to commit.
                if (storage != null) run(storage::commit);
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void rollback() {
            lock.lock();
            try {
                savepoints.clear();
                if (storage != null) run(storage::rollback);
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void close() {
            lock.lock();
            try {
                closed = true;
                if (store.idle != null) store.idle.remove(this);
                if (storage != null) {
                    ObjectStorage s = storage;
                    storage = null;
                    s.close();
                }
            } finally {
                lock.unlock();
            }
        }
    }
}
