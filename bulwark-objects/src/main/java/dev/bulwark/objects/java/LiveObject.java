package dev.bulwark.objects.java;

import dev.bulwark.objects.storage.ObjectStorage;
import dev.bulwark.objects.storage.StorageOptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * One live Java object: its gate (one event at a time, in arrival order), its instance and its
 * storage. Everything but the gate, {@code closed} and {@code lastEventEnd} is touched only by the
 * thread holding the gate, which gives the happens-before the storage needs between events.
 */
final class LiveObject {
    /** An event's work on the instance. */
    interface Body<T> {
        T run(JavaDurableObject instance) throws Exception;
    }

    final ObjectKey key;
    private final JavaObjectClass cls;
    private final Path file;
    private final StorageOptions options;
    private final JavaObjectContext ctx;
    /** Fair: events start in the order they arrived. */
    private final Semaphore gate = new Semaphore(1, true);
    private volatile boolean closed;
    private volatile long lastEventEnd = System.nanoTime();

    private JavaDurableObject instance;
    private ObjectStorage storage;
    private Thread eventThread;
    /** The alarm change of the current event: null none, empty deleted, else the new time. */
    private Optional<Long> alarmChange;
    /** The node's alarm index listener of the current event (an event that waits outside reports early). */
    private JavaObjects.AlarmListener eventAlarms;
    /** Events of this object waiting outside its gate ({@link #outsideGate}): it is not idle. */
    private final java.util.concurrent.atomic.AtomicInteger outside = new java.util.concurrent.atomic.AtomicInteger();

    LiveObject(ObjectKey key, String name, JavaObjectClass cls, Path file, StorageOptions options, JavaObjects objects) {
        this.key = key;
        this.cls = cls;
        this.file = file;
        this.options = options;
        this.ctx = new JavaObjectContext(objects, key.tenant(), key.className(), JavaObjectId.of(key.id(), name),
                new JavaStorage(this));
    }

    /** Waits for this object's turn; false if it was closed meanwhile (the caller looks it up again). */
    boolean enter() throws InterruptedException {
        gate.acquire();
        if (!closed) return true;
        gate.release();
        return false;
    }

    void exit() {
        lastEventEnd = System.nanoTime();
        gate.release();
    }

    /**
     * Runs one event (the gate held): makes the instance if needed, runs {@code body}, commits
     * what it wrote and only then returns its result (the output gate). When anything throws, the
     * event's writes are rolled back and the exception goes to the caller. {@code alarmRun} marks
     * an alarm event, during which {@code getAlarm()} answers empty unless the handler sets one.
     */
    <T> T run(Body<T> body, boolean alarmRun, JavaObjects.AlarmListener alarms) throws Exception {
        eventThread = Thread.currentThread();
        alarmChange = null;
        eventAlarms = alarms;
        try {
            if (alarmRun) storageForEvent().deleteAlarm();
            if (instance == null) instance = cls.factory().create(ctx);
            T result = body.run(instance);
            if (storage != null) {
                try {
                    storage.commit();
                } catch (RuntimeException e) {
                    reset(); // the database may be unusable: the next event opens it and makes the object again
                    throw e;
                }
            }
            if (alarmChange != null) alarms.changed(key, ctx.id().name(), alarmChange.orElse(null));
            return result;
        } catch (Throwable e) {
            // Whatever ended the event (an Error too), its writes must not ride on the next event's commit.
            if (storage != null) {
                try {
                    storage.rollback();
                } catch (RuntimeException rollbackFailed) {
                    reset();
                }
            }
            if (!(e instanceof Exception)) instance = null; // an Error may have left the instance half-changed
            throw e;
        } finally {
            alarmChange = null;
            eventThread = null;
            eventAlarms = null;
        }
    }

    /**
     * Runs {@code io} with the object's gate open (as a JS object's input gate opens while it
     * awaits I/O): the event's writes so far are committed first (the output gate: nothing the
     * event sends out waits on uncommitted writes), then other events of the object may run until
     * {@code io} returns and this event has its turn again. Only on the event's own thread.
     */
    <T> T outsideGate(java.util.concurrent.Callable<T> io) throws Exception {
        if (eventThread != Thread.currentThread()) {
            throw new IllegalStateException("outsideGate() is usable only while the object handles an event, on that event's thread");
        }
        if (storage != null) storage.commit();
        JavaObjects.AlarmListener alarms = eventAlarms;
        if (alarmChange != null) alarms.changed(key, ctx.id().name(), alarmChange.orElse(null));
        alarmChange = null;
        outside.incrementAndGet();
        eventThread = null;
        eventAlarms = null;
        gate.release();
        try {
            return io.call();
        } finally {
            gate.acquireUninterruptibly();
            outside.decrementAndGet();
            eventThread = Thread.currentThread();
            eventAlarms = alarms;
            alarmChange = null;
            if (closed) {
                // Closed meanwhile (the node is stopping): the event ends here, its later writes go nowhere.
                throw new IllegalStateException("the durable object was closed while its event waited");
            }
        }
    }

    /** The storage, opened on first use; only on the thread running this object's event. */
    ObjectStorage storageForEvent() {
        if (eventThread != Thread.currentThread()) {
            throw new IllegalStateException("a Java object's storage is usable only while it handles an event, on that event's thread");
        }
        if (storage == null) {
            try {
                Files.createDirectories(file.getParent());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            storage = ObjectStorage.open(file, options);
        }
        return storage;
    }

    void alarmChanged(Long epochMillis) {
        alarmChange = Optional.ofNullable(epochMillis);
    }

    private void reset() {
        instance = null;
        if (storage != null) {
            try {
                storage.close();
            } catch (RuntimeException ignored) {
                // already broken
            }
            storage = null;
        }
    }

    /**
     * Closes the object if it had no event for {@code idleNanos} and none is running or waiting:
     * its instance is dropped and its database closed; its next event makes it again from storage.
     */
    boolean evictIfIdle(long idleNanos) {
        if (System.nanoTime() - lastEventEnd < idleNanos || gate.hasQueuedThreads() || outside.get() > 0
                || !gate.tryAcquire()) return false;
        try {
            if (gate.hasQueuedThreads() || outside.get() > 0 || System.nanoTime() - lastEventEnd < idleNanos) return false;
            closeHeld();
            return true;
        } finally {
            gate.release();
        }
    }

    /** Closes the object once its running event (if any) ends, waiting at most {@code millis}. */
    boolean close(long millis) throws InterruptedException {
        if (!gate.tryAcquire(millis, TimeUnit.MILLISECONDS)) return false;
        try {
            closeHeld();
            return true;
        } finally {
            gate.release();
        }
    }

    /** The gate held: closes the database before anyone can make a new instance of the same id. */
    private void closeHeld() {
        closed = true;
        reset();
    }

    boolean isClosed() {
        return closed;
    }
}
