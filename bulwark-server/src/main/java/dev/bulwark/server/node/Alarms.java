package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Address;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The node's index of durable object alarms and the timer they fire from. An object's alarm lives
 * in its own database (what {@code getAlarm()} reads); sandboxes tell the node of every committed
 * change, and the node keeps one row per object in its own SQLite file, so alarms fire after a
 * restart of a sandbox or of the node, also when they fell due while it was down. Delivery is at
 * least once: an alarm whose handler throws (or whose sandbox dies) is retried with exponential
 * backoff from {@link #FIRST_BACKOFF_MS}, at most {@link #MAX_RETRIES} times, as Workers does.
 */
final class Alarms implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Alarms.class);
    static final long FIRST_BACKOFF_MS = 2_000;
    static final int MAX_RETRIES = 6;

    /**
     * Runs an object's alarm handler for the alarm set at {@code scheduledTime} (epoch ms); {@code done}
     * gets true when it returned, false when it failed.
     */
    interface Runner {
        void run(String tenant, Address.DurableObject object, long scheduledTime, int retryCount, Consumer<Boolean> done);
    }

    private record Entry(String tenant, Address.DurableObject object, long time, ScheduledFuture<?> timer) {}

    private final Connection db;
    private final Runner runner;
    private final long firstBackoffMs;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "alarms");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Entry> entries = new HashMap<>();
    /** The objects whose alarms fire now (the rest wait in the index until {@link #resume()}). */
    private java.util.function.Predicate<Address.DurableObject> started = o -> false;

    Alarms(Path dataDir, Runner runner, long firstBackoffMs) throws SQLException {
        this.runner = runner;
        this.firstBackoffMs = firstBackoffMs;
        this.db = DriverManager.getConnection("jdbc:sqlite:" + dataDir.resolve("alarms.sqlite").toAbsolutePath());
        try (Statement s = db.createStatement()) {
            s.execute("PRAGMA journal_mode=WAL");
            s.execute("PRAGMA synchronous=NORMAL");
            s.execute("CREATE TABLE IF NOT EXISTS alarms (worker TEXT NOT NULL, class TEXT NOT NULL, id TEXT NOT NULL, "
                    + "name TEXT, tenant TEXT NOT NULL, time INTEGER NOT NULL, PRIMARY KEY (worker, class, id))");
        }
    }

    private static String key(Address.DurableObject o) {
        return o.workerId() + "\n" + o.className() + "\n" + o.objectId();
    }

    /** Starts firing the alarms of the index (once the node's workers are deployed). */
    synchronized void resume() {
        resume(o -> true);
    }

    /**
     * Starts firing the alarms of the objects {@code which} selects (the node's own Java objects
     * can run as soon as the node is up; workers' objects wait for their workers to be deployed).
     */
    synchronized void resume(java.util.function.Predicate<Address.DurableObject> which) {
        java.util.function.Predicate<Address.DurableObject> before = started;
        started = before.or(which);
        try (Statement s = db.createStatement();
             ResultSet rs = s.executeQuery("SELECT worker, class, id, name, tenant, time FROM alarms")) {
            while (rs.next()) {
                Address.DurableObject o = new Address.DurableObject(rs.getString(1), rs.getString(2), rs.getString(3),
                        rs.getString(4));
                if (before.test(o) || !which.test(o)) continue;
                schedule(rs.getString(5), o, rs.getLong(6), 0);
            }
        } catch (SQLException e) {
            log.error("could not read the alarm index: {}", e.getMessage());
        }
    }

    /** An object's alarm changed (committed in its database): time null means deleted. */
    synchronized void set(String tenant, Address.DurableObject object, Long time) {
        Entry old = entries.remove(key(object));
        if (old != null && old.timer != null) old.timer.cancel(false);
        try {
            if (time == null) {
                try (PreparedStatement p = db.prepareStatement("DELETE FROM alarms WHERE worker = ? AND class = ? AND id = ?")) {
                    bindKey(p, object);
                    p.executeUpdate();
                }
                return;
            }
            try (PreparedStatement p = db.prepareStatement("INSERT INTO alarms (worker, class, id, name, tenant, time) "
                    + "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (worker, class, id) DO UPDATE SET time = excluded.time, "
                    + "name = excluded.name, tenant = excluded.tenant")) {
                bindKey(p, object);
                p.setString(4, object.name());
                p.setString(5, tenant);
                p.setLong(6, time);
                p.executeUpdate();
            }
        } catch (SQLException e) {
            log.error("could not record the alarm of {}: {}", object, e.getMessage());
        }
        if (started.test(object)) schedule(tenant, object, time, 0);
        else entries.put(key(object), new Entry(tenant, object, time, null));
    }

    /**
     * A migration renamed a class: its objects' alarms follow it (their timers are set again under
     * the new address when alarms are running).
     */
    synchronized void renameClass(String worker, String from, String to) {
        transferClass(worker, from, worker, to);
    }

    /**
     * A migration transferred a class to another worker of the tenant: its objects' alarms follow
     * it, as they follow a rename.
     */
    synchronized void transferClass(String fromWorker, String fromClass, String toWorker, String toClass) {
        List<Entry> moved = new java.util.ArrayList<>();
        for (var it = entries.values().iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (e.object.workerId().equals(fromWorker) && e.object.className().equals(fromClass)) {
                if (e.timer != null) e.timer.cancel(false);
                it.remove();
                moved.add(e);
            }
        }
        try (PreparedStatement p = db.prepareStatement("UPDATE alarms SET worker = ?, class = ? WHERE worker = ? AND class = ?")) {
            p.setString(1, toWorker);
            p.setString(2, toClass);
            p.setString(3, fromWorker);
            p.setString(4, fromClass);
            p.executeUpdate();
        } catch (SQLException e) {
            throw new MigrationException("could not move the alarms of class '" + fromClass + "' of worker " + fromWorker
                    + " to '" + toClass + "' of worker " + toWorker + ": " + e.getMessage(), e);
        }
        for (Entry e : moved) {
            Address.DurableObject o = new Address.DurableObject(toWorker, toClass, e.object.objectId(), e.object.name());
            if (started.test(o)) schedule(e.tenant, o, e.time, 0);
            else entries.put(key(o), new Entry(e.tenant, o, e.time, null));
        }
    }

    /** A migration deleted a class: its objects' alarms go with them. */
    synchronized void deleteClass(String worker, String className) {
        for (var it = entries.values().iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (e.object.workerId().equals(worker) && e.object.className().equals(className)) {
                if (e.timer != null) e.timer.cancel(false);
                it.remove();
            }
        }
        try (PreparedStatement p = db.prepareStatement("DELETE FROM alarms WHERE worker = ? AND class = ?")) {
            p.setString(1, worker);
            p.setString(2, className);
            p.executeUpdate();
        } catch (SQLException e) {
            throw new MigrationException("could not delete the alarms of class '" + className + "': " + e.getMessage(), e);
        }
    }

    /** The time of an object's alarm as the index has it (epoch ms), or null when none is set. */
    synchronized Long timeOf(Address.DurableObject object) {
        try (PreparedStatement p = db.prepareStatement("SELECT time FROM alarms WHERE worker = ? AND class = ? AND id = ?")) {
            bindKey(p, object);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? rs.getLong(1) : null;
            }
        } catch (SQLException e) {
            log.error("could not read the alarm of {}: {}", object, e.getMessage());
            return null;
        }
    }

    private static void bindKey(PreparedStatement p, Address.DurableObject o) throws SQLException {
        p.setString(1, o.workerId());
        p.setString(2, o.className());
        p.setString(3, o.objectId());
    }

    private void schedule(String tenant, Address.DurableObject object, long time, int retry) {
        long delay = Math.max(0, time - System.currentTimeMillis());
        Entry e = new Entry(tenant, object, time, null);
        ScheduledFuture<?> f = timer.schedule(() -> fire(e, retry), delay, TimeUnit.MILLISECONDS);
        entries.put(key(object), new Entry(tenant, object, time, f));
    }

    private void fire(Entry e, int retry) {
        synchronized (this) {
            Entry current = entries.get(key(e.object));
            if (current == null || current.time != e.time) return; // changed or deleted meanwhile
        }
        runner.run(e.tenant, e.object, e.time, retry, ok -> done(e, retry, ok));
    }

    private synchronized void done(Entry e, int retry, boolean ok) {
        Entry current = entries.get(key(e.object));
        if (current == null || current.time != e.time) return; // the handler set a new alarm: that one stands
        if (ok) {
            set(e.tenant, e.object, null);
        } else if (retry >= MAX_RETRIES) {
            log.warn("the alarm of {} failed {} times; giving up on it", e.object, retry + 1);
            set(e.tenant, e.object, null);
        } else {
            long backoff = firstBackoffMs << retry;
            ScheduledFuture<?> f = timer.schedule(() -> fire(e, retry + 1), backoff, TimeUnit.MILLISECONDS);
            entries.put(key(e.object), new Entry(e.tenant, e.object, e.time, f));
        }
    }

    synchronized int size() {
        return entries.size();
    }

    @Override
    public synchronized void close() {
        timer.shutdownNow();
        try {
            db.close();
        } catch (SQLException ignored) {
            // closing
        }
    }
}
