package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.V8Runtime;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.primitive.V8ValueBoolean;
import com.caoccao.javet.values.primitive.V8ValueDouble;
import com.caoccao.javet.values.primitive.V8ValueInteger;
import com.caoccao.javet.values.primitive.V8ValueLong;
import com.caoccao.javet.values.primitive.V8ValueString;
import com.caoccao.javet.values.reference.IV8ValueArray;
import com.caoccao.javet.values.reference.V8ValueArray;
import com.caoccao.javet.values.reference.V8ValueObject;
import com.caoccao.javet.values.reference.V8ValueTypedArray;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.isolate.ObjectStore.Database;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The storage of the durable objects one isolate runs, as its host functions see it: a handle per
 * object, opened when the object's first event is dispatched here, and the set of databases a
 * task touched, which {@link #commitTouched} makes durable before the task's messages leave
 * (the output gate). Isolate thread only.
 */
final class ObjectStorageHost implements AutoCloseable {
    /**
     * A SQL string or blob may be this much larger than a KV value: the database's own bound is
     * the object's {@code maxValueBytes} plus this (SQLite's {@code SQLITE_LIMIT_LENGTH}, Sqlite.java).
     */
    private static final int SQL_VALUE_SLACK = 1024;

    /**
     * One open object: its database, and the bookkeeping every storage call updates (plain
     * fields, so a call costs no map writes or boxing).
     */
    private static final class Open {
        final int handle;
        final Address.DurableObject address;
        final Database db;
        /** When the object last had an event or a storage call (System.nanoTime). */
        long lastUsed;
        /** In {@link #touched}: the current task used its storage. */
        boolean touched;

        Open(int handle, Address.DurableObject address, Database db) {
            this.handle = handle;
            this.address = address;
            this.db = db;
        }
    }

    private final V8Runtime runtime;
    private final ObjectStore store;
    private final Map<Integer, Open> byHandle = new HashMap<>();
    /** Alarm changes a task made, by handle (a null time: deleted); told to the node once committed. */
    private final Map<Integer, java.util.Optional<Long>> alarmChanges = new HashMap<>();
    /** Commits that failed at an async transaction()'s start, in the middle of a task; reported at its end. */
    private final List<LostCommit> lostMidTask = new ArrayList<>();
    /** Alarm changes committed by an async transaction()'s start, in the middle of a task; told at its end. */
    private final Map<Integer, java.util.Optional<Long>> alarmsCommitted = new HashMap<>();
    private final Map<String, Integer> handles = new HashMap<>();
    /** The objects whose storage the current task used, in first-use order. */
    private final List<Open> touched = new ArrayList<>();
    /** The object each running invocation is for: such an object is never evicted. */
    private final Map<Long, Integer> busy = new HashMap<>();
    /**
     * By handle, the invocation whose async transaction() is open in the object: as in workerd,
     * where it runs in a critical section of the input gate, the tasks of the object's other
     * events wait until it ends ({@link #heldBack}).
     */
    private final Map<Integer, Long> txnOwners = new HashMap<>();
    private final java.util.function.LongSupplier currentInvocation;
    private int nextHandle = 1;

    /** The loaded worker's compatibility decides it (Compatibility.deleteAllDeletesAlarm); set at load. */
    volatile boolean deleteAllDeletesAlarm = true;

    ObjectStorageHost(V8Runtime runtime, ObjectStore store, java.util.function.LongSupplier currentInvocation) {
        this.runtime = runtime;
        this.store = store;
        this.currentInvocation = currentInvocation;
    }

    /**
     * Whether a task of {@code invocationId} must wait: its object has an async transaction()
     * open that another invocation began.
     */
    boolean heldBack(long invocationId) {
        if (txnOwners.isEmpty()) return false;
        Integer handle = busy.get(invocationId);
        Long owner = handle == null ? null : txnOwners.get(handle);
        if (owner == null || owner == invocationId) return false;
        Open open = byHandle.get(handle);
        if (open != null && open.db.inTransaction()) return true;
        txnOwners.remove(handle); // it ended
        return false;
    }

    /**
     * The handle of an object's storage, opening it on its first event in this isolate; the object
     * is busy until {@code invocationId} ends.
     */
    int handleFor(Address.DurableObject object, long invocationId) {
        Open open = openFor(object);
        busy.put(invocationId, open.handle);
        open.lastUsed = System.nanoTime();
        return open.handle;
    }

    /** How many objects have their storage open in this isolate (live objects). */
    int openObjects() {
        return byHandle.size();
    }

    void invocationEnded(long invocationId) {
        // A transaction() its event left running holds the object's other events back no longer.
        if (!txnOwners.isEmpty()) txnOwners.values().removeIf(owner -> owner == invocationId);
        Integer handle = busy.remove(invocationId);
        Open open = handle == null ? null : byHandle.get(handle);
        if (open != null) open.lastUsed = System.nanoTime();
    }

    /** The object invocation {@code invocationId} runs for, or null (a plain worker's). */
    Address.DurableObject objectOf(long invocationId) {
        Integer handle = busy.get(invocationId);
        Open open = handle == null ? null : byHandle.get(handle);
        return open == null ? null : open.address;
    }

    /**
     * Closes the databases of the objects that had no event for {@code idleMs}, none running now
     * and nothing that {@code kept} says keeps them (an open outbound WebSocket), and returns those
     * objects (the caller drops their instances).
     */
    List<Address.DurableObject> evictIdle(long idleMs, java.util.function.Predicate<Address.DurableObject> kept) {
        long before = System.nanoTime() - idleMs * 1_000_000L;
        List<Address.DurableObject> evicted = new ArrayList<>();
        for (Open open : List.copyOf(byHandle.values())) {
            int handle = open.handle;
            if (open.lastUsed - before > 0 || busy.containsValue(handle) || kept.test(open.address)) continue;
            Address.DurableObject object = open.address;
            byHandle.remove(handle);
            handles.remove(object.className() + "\n" + object.objectId());
            try {
                open.db.close();
            } catch (RuntimeException ignored) {
                // its writes were committed at the end of its last task
            }
            evicted.add(object);
        }
        return evicted;
    }

    /**
     * Closes an object's database now, whether or not an event of it runs (a facet being aborted:
     * its running events fail; their storage calls find the storage closed), and removes the file
     * if {@code delete}. Returns null, or why it failed.
     */
    String reset(Address.DurableObject object, boolean delete) {
        Integer handle = handles.remove(object.className() + "\n" + object.objectId());
        if (handle != null) {
            Open open = byHandle.remove(handle);
            alarmChanges.remove(handle);
            alarmsCommitted.remove(handle);
            txnOwners.remove(handle);
            busy.values().removeIf(handle::equals);
            touched.remove(open);
            try {
                open.db.close();
            } catch (RuntimeException ignored) {
                // what the aborted events wrote and did not commit is dropped with them
            }
        }
        if (!delete) return null;
        try {
            store.delete(object.workerId(), object.className(), object.objectId());
            return null;
        } catch (ObjectStore.StorageException e) {
            return e.getMessage();
        }
    }

    /**
     * Writes a snapshot of an object's committed database (isolate thread, between tasks, so the
     * last task's writes are committed and no event of the object runs). An object not open here
     * is opened for the copy and closed again: the directory placed it in this sandbox, so nothing
     * else holds its file. Returns null, or why the copy failed.
     */
    String snapshot(Address.DurableObject object, String fileName) {
        Integer handle = handles.get(object.className() + "\n" + object.objectId());
        try {
            if (handle != null) {
                byHandle.get(handle).db.snapshot(fileName);
                return null;
            }
            try (Database db = store.open(object.workerId(), object.className(), object.objectId())) {
                db.snapshot(fileName);
            }
            return null;
        } catch (ObjectStore.StorageException e) {
            return e.getMessage();
        } catch (RuntimeException e) {
            return "the snapshot failed: " + e.getClass().getSimpleName();
        }
    }

    private Open openFor(Address.DurableObject object) {
        String key = object.className() + "\n" + object.objectId();
        Integer h = handles.get(key);
        if (h != null) return byHandle.get(h);
        Database db = store.open(object.workerId(), object.className(), object.objectId());
        Open open = new Open(nextHandle++, object, db);
        byHandle.put(open.handle, open);
        handles.put(key, open.handle);
        return open;
    }

    private Database db(V8Value[] args) {
        return db(HostValues.integer(args, 0));
    }

    private Database db(int handle) {
        Open open = byHandle.get(handle);
        if (open == null) throw new IllegalStateException("this object's storage was closed: the object was evicted");
        open.lastUsed = System.nanoTime();
        if (!open.touched) {
            open.touched = true;
            touched.add(open);
        }
        return open.db;
    }

    /** An object whose writes of the task did not commit, and why. */
    record LostCommit(Address.DurableObject object, String why) {
    }

    /**
     * Commits what the task wrote, then tells {@code notify} of the alarms that changed and
     * committed; returns the objects whose commit failed, rolled back to their last commit (if
     * any, the caller must not let the task's output leave).
     */
    List<LostCommit> commitTouched(java.util.function.Consumer<Message> notify) {
        List<LostCommit> failed = List.of();
        if (!lostMidTask.isEmpty()) {
            failed = new ArrayList<>(lostMidTask);
            lostMidTask.clear();
        }
        for (Open open : touched) {
            open.touched = false;
            Database db = open.db;
            // An async transaction() still open (its closure awaits a timer, a fetch...): its
            // writes commit, and its alarm change is told, in the task where it ends, as workerd
            // keeps the savepoint open across the await.
            if (db.inTransaction()) continue;
            try {
                db.commit();
                java.util.Optional<Long> alarm = alarmChanges.remove(open.handle);
                if (alarm != null) alarmsCommitted.put(open.handle, alarm);
            } catch (RuntimeException e) {
                if (failed.isEmpty()) failed = new ArrayList<>();
                failed.add(new LostCommit(open.address, e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()));
                // Its alarm change was rolled back with its writes: the node keeps the one it knows.
                alarmChanges.remove(open.handle);
                try {
                    db.rollback();
                } catch (RuntimeException ignored) {
                    // the isolate is reset either way
                }
            }
        }
        touched.clear();
        alarmsCommitted.forEach((handle, time) -> {
            Open open = byHandle.get(handle);
            if (open != null) notify.accept(new Message.AlarmSet(open.address, time.orElse(null)));
        });
        alarmsCommitted.clear();
        return failed;
    }

    // ---------------------------------------------------------------- host functions

    /** Values pushed into a JS array per call: a JS call takes a bounded number of arguments. */
    private static final int PUSH_BATCH = 4096;

    private final SqlTexts sqlTexts = new SqlTexts();

    /** {@code (text)}: the number {@code sqlExec} accepts for it from now on, or -1 (send the text). */
    V8Value sqlText(V8Value[] args) throws JavetException {
        return runtime.createV8ValueInteger(sqlTexts.id(HostValues.string(args, 0)));
    }

    /** Made at the first {@code sqlBuffer} call of the isolate; see {@link SqlExchange}. */
    private SqlExchange exchange;

    /** {@code ()}: the buffer {@code sqlExec()} without arguments reads its call from ({@link SqlExchange}). */
    V8Value sqlBuffer(V8Value[] args) throws JavetException {
        if (exchange == null) exchange = new SqlExchange(runtime);
        return exchange.reference();
    }

    /**
     * {@code ()}: the call is in the {@link SqlExchange} buffer (handle, text number, bindings).
     * {@code (handle, query, ...bindings)} (or {@code (handle, query, [bindings])}; the query as its text or its {@link SqlTexts} number): runs the SQL and answers one flat array,
     * {@code [rowsRead, rowsWritten, columnCount, ...columnNames, ...values row by row]}, which the
     * prelude's cursor unpacks, or, for SQL with no result columns, null with both counts in the
     * {@link SqlExchange} buffer (before the prelude asked for the buffer: the number of rows
     * written, when they are the rows read), or that array as JSON text when every value can
     * go as JSON ({@link SqlResultJson}: one string crosses, and JSON.parse builds it in V8). The bindings arrive as arguments and the result leaves as one
     * array filled by one push per {@value #PUSH_BATCH} values: strings and numbers cross without a
     * JNI call of their own, so a call costs a few JNI crossings instead of one per binding, row,
     * value and property.
     */
    V8Value sqlExec(V8Value[] args) throws JavetException {
        if (args == null || args.length == 0) { // Javet passes null for a call without arguments
            if (exchange == null) throw new IllegalStateException("sql.exec: no exchange buffer");
            Database db = db(exchange.handle());
            String sql = sqlTexts.text(exchange.text());
            return answer(db.exec(sql, exchange.bindings()));
        }
        Database db = db(args);
        // A number names a text this isolate registered (sqlText): no string crosses.
        String sql = args.length > 1 && args[1] instanceof com.caoccao.javet.values.primitive.V8ValueInteger n
                ? sqlTexts.text(n.getValue()) : HostValues.string(args, 1);
        List<Object> bindings = new ArrayList<>(Math.max(0, args.length - 2));
        long max = db.maxValueBytes() + SQL_VALUE_SLACK;
        if (args.length == 3 && args[2] instanceof IV8ValueArray array) {
            // Very many bindings come as one array (a binding itself is never a plain array).
            int n = array.getLength();
            for (int i = 0; i < n; i++) {
                try (V8Value v = array.get(i)) {
                    bindings.add(javaValue(v, max));
                }
            }
        } else {
            for (int i = 2; i < args.length; i++) bindings.add(javaValue(args[i], max));
        }
        return answer(db.exec(sql, bindings));
    }

    /** What {@code sqlExec} answers for a result (see there). */
    private V8Value answer(ObjectStore.SqlResult result) throws JavetException {
        if (result.columns().isEmpty() && exchange != null) {
            // No result columns: the counts go through the buffer and null crosses back (the
            // cheapest answer: Javet converts it without calling into Java again).
            exchange.counts(result.rowsRead(), result.rowsWritten());
            return runtime.createV8ValueNull();
        }
        if (exchange != null && exchange.result(result.columns(), result.rows(), result.rowsRead(), result.rowsWritten())) {
            // One small row (an upsert's RETURNING, a lookup): through the buffer too, instead of
            // a JSON string made here, crossed with two up-calls and parsed in V8.
            return runtime.createV8ValueNull();
        }
        if (result.columns().isEmpty() && result.rowsRead() == result.rowsWritten()) {
            // No result columns (an INSERT, UPDATE, DDL...): one number, rowsWritten (= rowsRead),
            // crosses back instead of an array (an array costs two JNI calls and a handle).
            return runtime.createV8ValueDouble(result.rowsWritten());
        }
        String json = SqlResultJson.encode(result.rowsRead(), result.rowsWritten(), result.columns(), result.rows());
        if (json != null) return runtime.createV8ValueString(json);
        List<String> columns = result.columns();
        List<Object[]> rows = result.rows();
        int width = columns.size();
        V8Value[] flat = new V8Value[3 + width + rows.size() * width];
        int k = 0;
        flat[k++] = runtime.createV8ValueDouble(result.rowsRead());
        flat[k++] = runtime.createV8ValueDouble(result.rowsWritten());
        flat[k++] = runtime.createV8ValueInteger(width);
        for (String c : columns) flat[k++] = runtime.createV8ValueString(c);
        V8ValueArray out = runtime.createV8ValueArray();
        try {
            for (Object[] row : rows) {
                for (Object v : row) flat[k++] = jsValue(v);
            }
            if (flat.length <= PUSH_BATCH) out.push((Object[]) flat);
            else out.batchPush(PUSH_BATCH, (Object[]) flat);
        } catch (JavetException | RuntimeException e) {
            out.close();
            throw e;
        } finally {
            // Blobs are ArrayBuffers (references); the array holds its own references to them.
            for (V8Value v : flat) {
                if (v instanceof com.caoccao.javet.values.reference.V8ValueReference r) r.close();
            }
        }
        return out;
    }

    /**
     * {@code (handle, key)}: the value's bytes or undefined; {@code (handle, [keys])}: an array of
     * them. The single key crosses as an argument (no array to read back through JNI).
     */
    V8Value kvGet(V8Value[] args) throws JavetException {
        dev.bulwark.sandbox.trace.LatencyTrace.stamp("kv.get", 0);
        Database db = db(args);
        if (args.length > 1 && args[1] instanceof V8ValueString key) {
            byte[] v = db.get(List.of(key.getValue())).getFirst();
            dev.bulwark.sandbox.trace.LatencyTrace.stamp("kv.got", v == null ? -1 : v.length);
            return v == null ? runtime.createV8ValueUndefined() : HostValues.bytes(runtime, v);
        }
        List<byte[]> values = db.get(strings(args, 1));
        V8ValueArray out = runtime.createV8ValueArray();
        for (byte[] v : values) {
            if (v == null) {
                out.pushUndefined();
            } else {
                try (V8ValueTypedArray b = HostValues.bytes(runtime, v)) {
                    out.push(b);
                }
            }
        }
        return out;
    }

    /** {@code (handle, key, bytes)} or {@code (handle, [keys], [bytes])}. */
    V8Value kvPut(V8Value[] args) throws JavetException {
        Database db = db(args);
        if (args.length == 3 && args[1] instanceof V8ValueString key) {
            if (!(args[2] instanceof V8ValueTypedArray t)) throw new IllegalArgumentException("bad value");
            db.put(List.of(key.getValue()), List.of(checkedBytes(t, db.maxValueBytes())));
            return runtime.createV8ValueUndefined();
        }
        List<String> keys = strings(args, 1);
        List<byte[]> values = new ArrayList<>();
        if (args.length > 2 && args[2] instanceof IV8ValueArray array) {
            int n = array.getLength();
            for (int i = 0; i < n; i++) {
                try (V8Value v = array.get(i)) {
                    if (!(v instanceof V8ValueTypedArray t)) throw new IllegalArgumentException("bad value");
                    values.add(checkedBytes(t, db.maxValueBytes()));
                }
            }
        }
        if (values.size() != keys.size()) throw new IllegalArgumentException("keys and values differ in number");
        db.put(keys, values);
        return runtime.createV8ValueUndefined();
    }

    V8Value kvDelete(V8Value[] args) throws JavetException {
        return runtime.createV8ValueInteger(db(args).delete(strings(args, 1)));
    }

    V8Value kvList(V8Value[] args) throws JavetException {
        Database db = db(args);
        ObjectStore.ListOptions options = new ObjectStore.ListOptions(null, null, null, null, false, 0);
        if (args.length > 1 && args[1] instanceof V8ValueObject o) {
            options = new ObjectStore.ListOptions(optString(o, "start"), optString(o, "startAfter"),
                    optString(o, "end"), optString(o, "prefix"), o.getBoolean("reverse") == Boolean.TRUE,
                    o.has("limit") ? o.getInteger("limit") : 0);
        }
        List<ObjectStore.Entry> entries = db.list(options);
        V8ValueArray out = runtime.createV8ValueArray();
        try (V8ValueArray keys = runtime.createV8ValueArray(); V8ValueArray values = runtime.createV8ValueArray()) {
            for (ObjectStore.Entry e : entries) {
                keys.push(e.key());
                try (V8ValueTypedArray b = HostValues.bytes(runtime, e.value())) {
                    values.push(b);
                }
            }
            out.push(keys, values);
        }
        return out;
    }

    V8Value storageOp(V8Value[] args) throws JavetException {
        Database db = db(args);
        String op = HostValues.string(args, 1);
        switch (op == null ? "" : op) {
            case "size" -> {
                return runtime.createV8ValueDouble(db.databaseSize());
            }
            case "maxValueBytes" -> {
                return runtime.createV8ValueDouble(db.maxValueBytes());
            }
            case "deleteAll" -> {
                // From compatibility date 2026-02-24 it deletes the alarm too: the node's index
                // forgets it when this commits.
                boolean hadAlarm = deleteAllDeletesAlarm && db.alarm() != null;
                db.deleteAll(deleteAllDeletesAlarm);
                if (hadAlarm) alarmChanges.put(HostValues.integer(args, 0), java.util.Optional.empty());
            }
            case "begin" -> db.beginSavepoint();
            // An async transaction(): as workerd's, it first commits what the turn wrote before it
            // (unless it nests in another), so that only its own writes wait for its end.
            case "txnBegin" -> {
                if (!db.inTransaction()) {
                    try {
                        db.commit();
                    } catch (RuntimeException e) {
                        // Lost as a failed commit at a task's end is: the task's output must not leave.
                        int handle = HostValues.integer(args, 0);
                        alarmChanges.remove(handle);
                        lostMidTask.add(new LostCommit(byHandle.get(handle).address,
                                e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()));
                        throw e;
                    }
                    java.util.Optional<Long> alarm = alarmChanges.remove(HostValues.integer(args, 0));
                    if (alarm != null) alarmsCommitted.put(HostValues.integer(args, 0), alarm);
                    // The invocation that called transaction() (its frame's), else the task's.
                    long owner = args.length > 2 ? (long) HostValues.number(args, 2) : 0;
                    txnOwners.put(HostValues.integer(args, 0), owner != 0 ? owner : currentInvocation.getAsLong());
                }
                db.beginSavepoint();
            }
            case "release" -> db.releaseSavepoint();
            case "rollback" -> {
                db.rollbackSavepoint();
                // A setAlarm/deleteAlarm rolled back with the savepoint: the node is told the alarm
                // that stands, not the one undone.
                int handle = HostValues.integer(args, 0);
                if (alarmChanges.containsKey(handle)) alarmChanges.put(handle, java.util.Optional.ofNullable(db.alarm()));
            }
            // A transaction() open past its deadline: the object is reset; its storage is closed
            // (what it did not commit is dropped) and opened again by its next event.
            case "close" -> reset(byHandle.get(HostValues.integer(args, 0)).address, false);
            // ctx.abort(): what the object wrote and did not commit is dropped, its alarm change too.
            case "discard" -> {
                db.rollback();
                alarmChanges.remove(HostValues.integer(args, 0));
            }
            case "getAlarm" -> {
                Long t = db.alarm();
                return t == null ? runtime.createV8ValueNull() : runtime.createV8ValueDouble(t);
            }
            case "setAlarm" -> {
                long t = (long) HostValues.number(args, 2);
                db.setAlarm(t);
                alarmChanges.put(HostValues.integer(args, 0), java.util.Optional.of(t));
            }
            case "deleteAlarm" -> {
                db.setAlarm(null);
                alarmChanges.put(HostValues.integer(args, 0), java.util.Optional.empty());
            }
            // The alarm is running: getAlarm() answers null unless the handler sets a new one. The
            // node already knows; it is not told again.
            case "alarmStarted" -> db.setAlarm(null);
            default -> throw new IllegalArgumentException("unknown storage operation " + op);
        }
        return runtime.createV8ValueUndefined();
    }

    // ---------------------------------------------------------------- values

    /** A SQL binding in Java; a string or blob longer than {@code max} is refused before it is copied. */
    private static Object javaValue(V8Value v, long max) throws JavetException {
        if (v == null || v.isNullOrUndefined()) return null;
        if (v instanceof V8ValueInteger i) return (long) i.getValue();
        if (v instanceof V8ValueLong l) return l.getValue();
        if (v instanceof V8ValueDouble d) {
            double x = d.getValue();
            return x == Math.rint(x) && Math.abs(x) < 0x1p53 && !(x == 0 && 1 / x < 0) ? (Object) (long) x : (Object) x;
        }
        if (v instanceof V8ValueString s) {
            String str = s.getValue();
            if (str.length() > max) throw new IllegalArgumentException("string binding too large");
            return str;
        }
        if (v instanceof V8ValueBoolean b) return b.getValue() ? 1L : 0L;
        if (v instanceof V8ValueTypedArray t) return checkedBytes(t, max);
        throw new IllegalArgumentException("unsupported SQL binding");
    }

    private V8Value jsValue(Object v) throws JavetException {
        return switch (v) {
            case null -> runtime.createV8ValueNull();
            case Long l -> runtime.createV8ValueDouble(l);
            case Integer i -> runtime.createV8ValueInteger(i);
            case Double d -> runtime.createV8ValueDouble(d);
            case String s -> runtime.createV8ValueString(s);
            case byte[] b -> {
                try (V8ValueTypedArray t = HostValues.bytes(runtime, b)) {
                    yield t.getBuffer();
                }
            }
            default -> throw new IllegalStateException("unexpected SQL value " + v.getClass());
        };
    }

    /** Copies a typed array's bytes into Java, after checking its size against the object's limit. */
    private static byte[] checkedBytes(V8ValueTypedArray t, long max) throws JavetException {
        if (t.getByteLength() > max) {
            throw new IllegalArgumentException("value of " + t.getByteLength() + " bytes is larger than the limit of " + max);
        }
        return t.toBytes();
    }

    private static List<String> strings(V8Value[] args, int i) throws JavetException {
        List<String> out = new ArrayList<>();
        if (args.length > i && args[i] instanceof IV8ValueArray array) {
            int n = array.getLength();
            for (int k = 0; k < n; k++) out.add(array.getString(k));
        }
        return out;
    }

    private static String optString(V8ValueObject o, String name) throws JavetException {
        return o.has(name) ? o.getString(name) : null;
    }

    @Override
    public void close() {
        if (exchange != null) exchange.close();
        for (Open open : byHandle.values()) {
            try {
                open.db.close();
            } catch (RuntimeException ignored) {
                // closing is best effort; the sandbox's files stay consistent (WAL)
            }
        }
        byHandle.clear();
        handles.clear();
    }
}
