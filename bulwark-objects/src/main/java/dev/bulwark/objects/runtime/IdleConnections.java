package dev.bulwark.objects.runtime;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Closes the SQLite connections of live objects whose storage was not used for {@code idleMs}:
 * an idle object keeps its instance in its isolate until it is evicted (ten seconds), but an
 * open connection is most of what an idle object costs (~200 KiB of SQLite's memory and two file
 * descriptors). The connection opens again at the object's next storage call. Closing runs on
 * this class's own thread (a close checkpoints the WAL into the database, which syncs), never
 * on an isolate's, and the memory freed is given back to the OS after each sweep.
 */
final class IdleConnections implements AutoCloseable {

    /** A database whose connection may be closed while its object lives. */
    interface Releasable {
        /**
         * Closes the connection if it was last used before {@code usedBefore} (System.nanoTime),
         * no transaction is open, and no other thread holds it now; true if it closed one.
         */
        boolean releaseIfIdle(long usedBefore);
    }

    private final long idleNanos;
    private final Set<Releasable> live = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService sweeper;

    /** {@code idleMs} &gt; 0. */
    IdleConnections(long idleMs) {
        if (idleMs <= 0) throw new IllegalArgumentException("idleMs must be positive: " + idleMs);
        this.idleNanos = idleMs * 1_000_000L;
        this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "object-storage-idle");
            t.setDaemon(true);
            return t;
        });
        long period = Math.max(20, idleMs / 2);
        sweeper.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.MILLISECONDS);
    }

    void add(Releasable db) {
        live.add(db);
    }

    void remove(Releasable db) {
        live.remove(db);
    }

    /** One pass: closes every idle connection, then gives the freed memory back. */
    void sweep() {
        sweep(System.nanoTime() - idleNanos);
    }

    /** Closes every connection not used since {@code before} (System.nanoTime); how many it closed. */
    int sweep(long before) {
        int closed = 0;
        for (Releasable db : live) {
            try {
                if (db.releaseIfIdle(before)) closed++;
            } catch (RuntimeException e) {
                // a close that failed leaves that connection open; the next pass tries again
            }
        }
        if (closed > 0) dev.bulwark.sandbox.isolate.MallocTrim.trim();
        return closed;
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
    }
}
