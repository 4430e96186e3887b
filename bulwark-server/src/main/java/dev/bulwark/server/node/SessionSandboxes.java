package dev.bulwark.server.node;

import dev.bulwark.server.config.SessionSandboxSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where a session's generated code runs (issue 15, docs/notes/sessionproc.md): every run gets a
 * sandbox process of its own, which no other run, session or tenant shares while it lives, and which
 * is killed when the run ends. So the node knows, from the connection a message arrives on, the one
 * run it can come from: a subverted process holds only its own run's capability ids and invocations.
 * A process is never reused: the next run takes a <em>spare</em>, a process of the same tenant that
 * started but never ran any code, so a run does not wait for a JVM to start. Bounds: at most
 * {@code max} runs' processes in the node and {@code perTenant} of one tenant at once; past them a
 * run waits (first come, first served) up to {@code waitMs}, then is refused ({@link Full}).
 */
public final class SessionSandboxes {
    private static final Logger log = LoggerFactory.getLogger(SessionSandboxes.class);

    /** The node's session sandboxes are all taken: the run may be retried later. */
    public static final class Full extends Exception {
        Full(String message) {
            super(message, null, false, false);
        }
    }

    /** A run's own process: {@link #close} kills it (once). */
    public final class Lease implements AutoCloseable {
        private final String tenant;
        private final String key;
        private final SandboxProcess process;
        private boolean closed;

        private Lease(String tenant, String key, SandboxProcess process) {
            this.tenant = tenant;
            this.key = key;
            this.process = process;
        }

        /** The tenant key of the process (the run's dynamic worker is loaded under it). */
        String key() {
            return key;
        }

        SandboxProcess process() {
            return process;
        }

        @Override
        public void close() {
            synchronized (this) {
                if (closed) return;
                closed = true;
            }
            supervisor.retire(key);
            release(tenant);
        }
    }

    private record Spare(String key, SandboxProcess process, long startedAt) {}

    private final SandboxSupervisor supervisor;
    private final SessionSandboxSettings limits;
    private final Semaphore node;
    private final Map<String, Semaphore> ofTenant = new ConcurrentHashMap<>();
    private final Map<String, ConcurrentLinkedDeque<Spare>> spares = new ConcurrentHashMap<>();
    private final Map<String, Integer> starting = new ConcurrentHashMap<>();
    private final AtomicLong keys = new AtomicLong();
    private final AtomicLong started = new AtomicLong();
    private volatile boolean closed;

    SessionSandboxes(SandboxSupervisor supervisor, SessionSandboxSettings limits) {
        this.supervisor = supervisor;
        this.limits = limits;
        this.node = new Semaphore(limits.max(), true);
    }

    public SessionSandboxSettings limits() {
        return limits;
    }

    /** Processes of this tenant running a session's run now (tests). */
    int running(String tenant) {
        Semaphore mine = ofTenant.get(tenant);
        return mine == null ? 0 : limits.perTenant() - mine.availablePermits();
    }

    /**
     * A process of {@code tenant} for one run, all its own: a spare if one is ready, else one
     * started now. Waits up to the limits' {@code waitMs} for a place.
     *
     * @throws Full        no place within the wait
     * @throws IOException the process could not start
     */
    Lease take(String tenant) throws Full, IOException {
        SessionSandboxSettings l = limits;
        Semaphore mine = ofTenant.computeIfAbsent(tenant, t -> new Semaphore(l.perTenant(), true));
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(l.waitMs());
        try {
            if (!mine.tryAcquire(l.waitMs(), TimeUnit.MILLISECONDS)) {
                throw new Full("tenant '" + tenant + "' runs " + l.perTenant() + " sessions' code at once already");
            }
            if (!node.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                mine.release();
                throw new Full("the node runs " + l.max() + " sessions' code at once already");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Full("interrupted while waiting for a session sandbox");
        }
        try {
            Spare spare = takeSpare(tenant);
            Lease lease = spare != null ? new Lease(tenant, spare.key(), spare.process())
                    : startFor(tenant);
            refill(tenant);
            return lease;
        } catch (IOException | RuntimeException e) {
            release(tenant);
            throw e;
        }
    }

    /** Starts the tenant's spares if it has none (a session was admitted: its first run should not wait). */
    void prewarm(String tenant) {
        refill(tenant);
    }

    /** Processes started for session runs since the node started, spares included (tests, the note's figures). */
    long started() {
        return started.get();
    }

    /** Ready spares of a tenant (tests). */
    int spares(String tenant) {
        var q = spares.get(tenant);
        return q == null ? 0 : q.size();
    }

    private Lease startFor(String tenant) throws IOException {
        String key = DynamicWorkers.sessionTenant(tenant, keys.incrementAndGet());
        started.incrementAndGet();
        return new Lease(tenant, key, supervisor.startSingle(key));
    }

    private Spare takeSpare(String tenant) {
        var q = spares.get(tenant);
        if (q == null) return null;
        for (Spare s; (s = q.pollFirst()) != null; ) {
            if (s.process().isAlive()) return s;
            supervisor.retire(s.key());
        }
        return null;
    }

    /** Starts spares in the background until the tenant has its number (ready or starting). */
    private void refill(String tenant) {
        int want = limits.spares();
        if (closed || want == 0) return;
        int missing;
        synchronized (starting) {
            int have = spares(tenant) + starting.getOrDefault(tenant, 0);
            missing = Math.max(0, want - have);
            if (missing > 0) starting.merge(tenant, missing, Integer::sum);
        }
        for (int i = 0; i < missing; i++) Thread.startVirtualThread(() -> startSpare(tenant));
    }

    private void startSpare(String tenant) {
        String key = DynamicWorkers.sessionTenant(tenant, keys.incrementAndGet());
        try {
            started.incrementAndGet();
            SandboxProcess p = supervisor.startSingle(key);
            Spare spare = new Spare(key, p, System.nanoTime());
            spares.computeIfAbsent(tenant, t -> new ConcurrentLinkedDeque<>()).addLast(spare);
            if (closed) supervisor.retire(key);
            else Thread.startVirtualThread(() -> expire(tenant, spare));
        } catch (IOException | RuntimeException e) {
            log.warn("could not start a spare session sandbox for tenant {}: {}", tenant, e.getMessage());
        } finally {
            synchronized (starting) {
                starting.merge(tenant, -1, (a, b) -> a + b == 0 ? null : a + b);
            }
        }
    }

    /** A spare nobody took for the idle time is retired (a tenant that stopped running sessions keeps none). */
    private void expire(String tenant, Spare spare) {
        try {
            Thread.sleep(limits.spareIdleMs());
        } catch (InterruptedException e) {
            return;
        }
        var q = spares.get(tenant);
        if (q != null && q.remove(spare)) supervisor.retire(spare.key());
    }

    private void release(String tenant) {
        node.release();
        Semaphore mine = ofTenant.get(tenant);
        if (mine != null) mine.release();
    }

    /** Retires every spare (the node closes; runs' processes end with the supervisor). */
    void close() {
        closed = true;
        for (var q : spares.values()) {
            for (Spare s; (s = q.pollFirst()) != null; ) supervisor.retire(s.key());
        }
    }
}
