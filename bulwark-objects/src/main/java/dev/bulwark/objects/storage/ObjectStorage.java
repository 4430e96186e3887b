package dev.bulwark.objects.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.SequencedMap;
import java.util.function.Supplier;

/**
 * The storage of one durable object: one SQLite file in WAL mode holding the object's SQL tables,
 * its KV pairs and its alarm.
 *
 * <p><b>Write coalescing.</b> The first operation opens an implicit transaction; everything until
 * {@link #commit()} is one atomic, durable unit. The runtime calls {@code commit()} at the end of
 * each event turn, before any response, RPC result or message leaves (the output gate), and
 * {@link #rollback()} when the turn fails. Reads see the turn's uncommitted writes.
 * {@link #transactionSync} and {@link #savepoint()} nest SAVEPOINTs inside it.
 *
 * <p><b>Threads.</b> Not thread-safe: an object handles one event at a time, so its storage is
 * used by one thread at a time (the runtime must guarantee happens-before between turns, e.g. by
 * running them on one executor). The exception is {@link #interrupt()}, which a watchdog may call
 * from any thread to stop a runaway statement.
 *
 * <p><b>Errors.</b> Every failure is a {@link StorageException} whose message may be shown to the
 * object's code.
 */
public final class ObjectStorage implements AutoCloseable {

    private final Path file;
    private final StorageOptions options;
    private final Sqlite db;
    private final Transactions tx;
    private final ReservedSchema schema;
    private final SqlRunner sql;
    private final KvStore kv;
    private final AlarmStore alarm;
    private boolean closed;

    private ObjectStorage(Path file, StorageOptions options) {
        this.file = file;
        this.options = options;
        this.db = new Sqlite(file, options);
        this.tx = new Transactions(db);
        this.schema = new ReservedSchema(db);
        this.sql = new SqlRunner(db, tx);
        this.kv = new KvStore(db, tx, schema, options.maxValueBytes());
        this.alarm = new AlarmStore(db, tx, schema);
        tx.onRollback(schema::refresh);
    }

    /** Opens (creating if needed) the database at {@code file}; its directory must exist. */
    public static ObjectStorage open(Path file, StorageOptions options) {
        EmptyDatabase.createIfAbsent(file, options.durability() == Durability.FULL);
        return new ObjectStorage(file, options);
    }

    /**
     * Opens the database of an object that already has one: a connection closed while its object
     * stayed live is opened again with this, so a file that vanished meanwhile fails clearly
     * instead of coming back empty.
     */
    public static ObjectStorage reopen(Path file, StorageOptions options) {
        if (!Files.exists(file)) {
            throw new StorageException(StorageException.Kind.IO, "the object's database file is gone");
        }
        return new ObjectStorage(file, options);
    }

    public StorageOptions options() {
        return options;
    }

    // ---- SQL ----

    /**
     * Runs {@code sql} (one or more statements separated by {@code ;}) with {@code bindings} for
     * the parameters of the last statement (earlier ones may have none, as in workerd). Values:
     * null, Long, Integer, Double, String, byte[].
     */
    public SqlCursor exec(String sqlText, List<?> bindings) {
        if (closed) throw new StorageException(StorageException.Kind.STATE, "storage is closed");
        return sql.exec(sqlText, bindings);
    }

    /** Bytes the database takes: page count times page size (like {@code sql.databaseSize}). */
    public long databaseSize() {
        checkOpen();
        try {
            return db.queryLong("PRAGMA page_count") * db.queryLong("PRAGMA page_size");
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }

    // ---- KV ----

    /** The value of {@code key}, or null. */
    public byte[] get(String key) {
        checkOpen();
        return kv.get(key);
    }

    /** The values of those of {@code keys} (at most 128) that exist, in the order asked. */
    public SequencedMap<String, byte[]> get(List<String> keys) {
        checkOpen();
        return kv.get(keys);
    }

    public void put(String key, byte[] value) {
        checkOpen();
        kv.put(key, value);
    }

    /** Puts up to 128 pairs atomically (all in the implicit transaction). */
    public void put(Map<String, byte[]> entries) {
        checkOpen();
        kv.put(entries);
    }

    /** Deletes {@code key}; true if it existed. */
    public boolean delete(String key) {
        checkOpen();
        return kv.delete(key);
    }

    /** Deletes up to 128 keys; returns how many existed. */
    public int delete(List<String> keys) {
        checkOpen();
        return kv.delete(keys);
    }

    public List<KvEntry> list(KvListOptions options) {
        checkOpen();
        return kv.list(options);
    }

    /**
     * Deletes all the object's data: its SQL tables, views, triggers and indexes and all KV
     * pairs, and the alarm if {@code deleteAlarm} (Workers delete it since the compatibility date
     * 2026-02-24, flag {@code delete_all_deletes_alarm}). Not allowed inside {@link #transactionSync}.
     */
    public void deleteAll(boolean deleteAlarm) {
        checkOpen();
        if (tx.depth() > 0) {
            throw new StorageException(StorageException.Kind.STATE, "Cannot call deleteAll() within a transaction");
        }
        sql.closeAll();
        sql.schemaMayHaveChanged();
        tx.ensureOpen();
        try {
            new UserSchema(db).dropAll();
            kv.clear();
        } catch (SQLException e) {
            throw tx.afterError(db.translate(e));
        }
        if (deleteAlarm) alarm.delete();
    }

    // ---- alarm ----

    /** The alarm time in epoch milliseconds, if one is set. */
    public OptionalLong getAlarm() {
        checkOpen();
        return alarm.get();
    }

    public void setAlarm(long epochMillis) {
        checkOpen();
        alarm.set(epochMillis);
    }

    public void deleteAlarm() {
        checkOpen();
        alarm.delete();
    }

    // ---- transactions ----

    /** Makes every write since the last commit durable, as one transaction. */
    public void commit() {
        checkOpen();
        tx.commit();
    }

    /** Drops every write since the last commit. */
    public void rollback() {
        checkOpen();
        sql.closeAll();
        tx.rollback();
    }

    /** True while writes (or reads) since the last commit are pending. */
    public boolean inTransaction() {
        return tx.isOpen();
    }

    /**
     * True when closing now loses nothing: no transaction or savepoint is open, and no error has
     * lost writes that the next {@link #commit()} must still report.
     */
    public boolean settled() {
        return !closed && tx.settled();
    }

    /**
     * Runs {@code body} in a savepoint: its writes are kept if it returns, undone if it throws
     * (the exception is rethrown). Nests.
     */
    public <T> T transactionSync(Supplier<T> body) {
        checkOpen();
        Savepoint sp = tx.savepoint();
        T result;
        try {
            result = body.get();
        } catch (Throwable t) {
            sp.rollback();
            throw t;
        }
        sp.release();
        return result;
    }

    /** Opens a savepoint to end later (for the async {@code transaction()}). */
    public Savepoint savepoint() {
        checkOpen();
        return tx.savepoint();
    }

    // ---- operator, lifecycle ----

    /**
     * Writes a consistent copy of the committed database to {@code target} with SQLite's backup
     * API (for the admin download). Call it between event turns: uncommitted writes are refused.
     */
    public void snapshot(Path target) {
        checkOpen();
        if (tx.isOpen()) {
            throw new StorageException(StorageException.Kind.STATE, "snapshot() with uncommitted writes; commit first");
        }
        try {
            Files.deleteIfExists(target);
            db.backupTo(target);
        } catch (SQLException e) {
            throw db.translate(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Stops the statement running now (from any thread); it fails with SQLITE_INTERRUPT. */
    public void interrupt() {
        try {
            db.interrupt();
        } catch (SQLException e) {
            // closed or idle: nothing to interrupt
        }
    }

    /** Rolls back uncommitted writes and closes the database. */
    @Override
    public void close() {
        if (closed) return;
        sql.close();
        kv.closeStatements();
        if (tx.isOpen()) tx.rollback();
        closed = true;
        db.close();
    }

    /** Deletes the database files of a closed object (the file, its WAL and shared-memory files). */
    public static void deleteStorage(Path file) {
        try {
            for (String suffix : List.of("", "-wal", "-shm", "-journal")) {
                Files.deleteIfExists(file.resolveSibling(file.getFileName() + suffix));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path file() {
        return file;
    }

    /**
     * Every method but {@link #exec} starts here: besides the check, it tells the SQL runner that
     * the connection's change total may move before the next exec (KV and alarm writes, deleteAll).
     */
    private void checkOpen() {
        if (closed) throw new StorageException(StorageException.Kind.STATE, "storage is closed");
        sql.forgetTotal();
    }
}
