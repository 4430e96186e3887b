package dev.bulwark.sandbox.isolate;

import java.util.List;

/**
 * Where the durable objects of a sandbox keep their data. The isolate layer sees storage only
 * through this interface; the SQLite implementation lives in {@code bulwark-objects}, where the
 * sandbox process's main class wires it in. One {@link Database} per object, used only on the
 * thread of the isolate that runs the object (objects are serial).
 */
public interface ObjectStore {

    /** Opens (creating if needed) the database of one object. */
    Database open(String workerId, String className, String objectId);

    /** Removes an object's database (it must not be open): a facet's {@code delete}. */
    default void delete(String workerId, String className, String objectId) {
        throw new StorageException("durable object storage cannot be deleted in this host");
    }

    /** A store for hosts that run no durable objects: opening fails clearly. */
    ObjectStore NONE = (workerId, className, objectId) -> {
        throw new StorageException("durable object storage is not available in this host");
    };

    /**
     * One object's database. Writes join an implicit transaction that {@link #commit} makes durable
     * (the runtime calls it at the end of each task, before the task's messages leave: the
     * output gate); reads see writes not yet committed.
     */
    interface Database extends AutoCloseable {
        SqlResult exec(String sql, List<Object> bindings);

        long databaseSize();

        /** The largest value {@link #put} accepts (the node's {@code storage.max_value_bytes}). */
        long maxValueBytes();

        /** Values of the keys, in order; null where a key has none. */
        List<byte[]> get(List<String> keys);

        void put(List<String> keys, List<byte[]> values);

        /** How many of the keys existed. */
        int delete(List<String> keys);

        List<Entry> list(ListOptions options);

        /**
         * Deletes all the object's data, and its alarm when {@code alarmToo} (Workers' deleteAll()
         * from compatibility date 2026-02-24; before it the alarm stays).
         */
        void deleteAll(boolean alarmToo);

        /** Epoch milliseconds, or null when no alarm is set. */
        Long alarm();

        void setAlarm(Long epochMillis);

        void beginSavepoint();

        void releaseSavepoint();

        void rollbackSavepoint();

        /**
         * Whether a savepoint is open: an async {@code transaction()} whose closure awaits past the
         * end of a task keeps its savepoint open across tasks, so the object's writes cannot commit
         * until it ends ({@link #commit} is not called meanwhile).
         */
        boolean inTransaction();

        void commit();

        void rollback();

        /**
         * Writes a consistent copy of the committed database (SQLite's backup API) into the store's
         * snapshot directory as {@code fileName} (a plain name the node chose). Between tasks only:
         * a database with uncommitted writes (an async {@code transaction()} still open) refuses.
         */
        void snapshot(String fileName);

        @Override
        void close();
    }

    /** A statement's rows, whole. Values are null, Long, Double, String or byte[]. */
    record SqlResult(List<String> columns, List<Object[]> rows, long rowsRead, long rowsWritten) {}

    record Entry(String key, byte[] value) {}

    /** {@code list()} options as Cloudflare names them; null means absent, limit 0 means none. */
    record ListOptions(String start, String startAfter, String end, String prefix, boolean reverse, int limit) {}

    /** A storage operation failed; the message is shown to the worker as the error's message. */
    final class StorageException extends RuntimeException {
        public StorageException(String message) {
            super(message);
        }

        public StorageException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
