package dev.bulwark.objects.java;

import dev.bulwark.objects.storage.KvEntry;
import dev.bulwark.objects.storage.KvListOptions;
import dev.bulwark.objects.storage.ObjectStorage;
import dev.bulwark.objects.storage.SqlCursor;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.OptionalLong;
import java.util.SequencedMap;
import java.util.function.Supplier;

/**
 * A Java object's storage: the same SQLite engine and file layout as JS objects' {@code ctx.storage}
 * (SQL, KV, one alarm), in a file of its own under the node's data directory. The writes of an
 * event commit when the event returns (the runtime does it; there is no commit here) and roll
 * back when it throws. KV values are {@link StructuredValues} in the format JS objects store.
 *
 * <p>Usable only while the object handles an event, on that event's thread: anything else is
 * refused ({@link IllegalStateException}), so no write can escape the serial order. The file is
 * created by the first use.
 */
public final class JavaStorage {
    private final LiveObject object;

    JavaStorage(LiveObject object) {
        this.object = object;
    }

    /** The object this storage belongs to. */
    LiveObject object() {
        return object;
    }

    private ObjectStorage db() {
        return object.storageForEvent();
    }

    /** {@code sql.exec}: user SQL with the engine's guard (no reserved tables, ATTACH, pragmas beyond the allowlist). */
    public SqlCursor sql(String query, Object... bindings) {
        return db().exec(query, Arrays.asList(bindings));
    }

    public long databaseSize() {
        return db().databaseSize();
    }

    /** The value of {@code key}, or null. */
    public Object get(String key) {
        byte[] bytes = db().get(key);
        return bytes == null ? null : StructuredValues.decode(bytes);
    }

    public void put(String key, Object value) {
        db().put(key, StructuredValues.encode(value, (int) Math.min(Integer.MAX_VALUE, db().options().maxValueBytes())));
    }

    /** Deletes {@code key}; true if it existed. */
    public boolean delete(String key) {
        return db().delete(key);
    }

    /** The pairs {@code options} select, in key order (UTF-8 byte order, as Workers). */
    public SequencedMap<String, Object> list(KvListOptions options) {
        SequencedMap<String, Object> out = new LinkedHashMap<>();
        for (KvEntry e : db().list(options)) out.put(e.key(), StructuredValues.decode(e.value()));
        return out;
    }

    /** Deletes every table and pair, and the alarm. */
    public void deleteAll() {
        db().deleteAll(true);
        object.alarmChanged(null);
    }

    /** Runs {@code body} in a savepoint: its writes are undone if it throws. */
    public <T> T transactionSync(Supplier<T> body) {
        return db().transactionSync(body);
    }

    public OptionalLong getAlarm() {
        return db().getAlarm();
    }

    /** Sets the object's one alarm (epoch milliseconds); the node fires {@code alarm()} then. */
    public void setAlarm(long epochMillis) {
        db().setAlarm(epochMillis);
        object.alarmChanged(epochMillis);
    }

    public void deleteAlarm() {
        db().deleteAlarm();
        object.alarmChanged(null);
    }
}
