package dev.bulwark.server.node;

import dev.bulwark.server.config.SessionSandboxSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where a session's generated code runs (issue 15, docs/notes/sessionproc.md): in a sandbox process
 * that no other session's code ever shares, so the node knows, from the connection a message
 * arrives on, the one session it can come from (a subverted process holds only its own session's
 * capability ids and invocations). With {@link SessionSandboxSettings.Per#SESSION} (the default)
 * one process serves one session's runs and is stopped a while after its last run; with
 * {@link SessionSandboxSettings.Per#RUN} it serves one run. A process is never given to another
 * session: a session's first run takes a <em>spare</em>, a process of its tenant that started but
 * never ran any code, so it does not wait for a JVM to start. Bounds: {@code max} session processes
 * in the node and {@code perTenant} of one tenant; past them an idle session's process is stopped
 * to make room, else the run waits (first come, first served) up to {@code waitMs}, then is
 * refused ({@link Full}).
 */
public final class SessionSandboxes {
    private static final Logger log = LoggerFactory.getLogger(SessionSandboxes.class);

    /** The node's session sandboxes are all taken: the run may be retried later. */
    public static final class Full extends Exception {
        Full(String message) {
            super(message, null, false, false);
        }
    }

    /** A started process no code has run in yet. */
    private record Spare(String key, SandboxProcess process) {}

    /** One session's process (for {@code Per.RUN}: one run's); its fields are guarded by the table's lock. */
    private final class Held {
        final String tenant;
        final String session;
        final CompletableFuture<Spare> process = new CompletableFuture<>();
        int runs;
        long generation;
        boolean retired;

        Held(String tenant, String session) {
            this.tenant = tenant;
            this.session = session;
        }
    }

    /** A run's place in its session's process: {@link #close} when the run is over (once). */
    public final class Lease implements AutoCloseable {
        private final Held held;
        private final Spare spare;
        private boolean closed;

        private Lease(Held held, Spare spare) {
            this.held = held;
            this.spare = spare;
        }

        /** The tenant key of the process (the run's dynamic worker is loaded under it). */
        String key() {
            return spare.key();
        }

        SandboxProcess process() {
            return spare.process();
        }

        @Override
        public void close() {
            synchronized (this) {
                if (closed) return;
                closed = true;
            }
            runEnded(held);
        }
    }

    private final SandboxSupervisor supervisor;
    private final SessionSandboxSettings limits;
    private final Semaphore node;
    private final Map<String, Semaphore> ofTenant = new ConcurrentHashMap<>();
    private final Map<String, ConcurrentLinkedDeque<Spare>> spares = new ConcurrentHashMap<>();
    private final Map<String, Integer> starting = new ConcurrentHashMap<>();
    /** Each session's process ({@code Per.SESSION}); guarded by this. */
    private final Map<String, Held> bySession = new HashMap<>();
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

    /**
     * A place for one run of {@code session} (of {@code tenant}) in a process no other session's code
     * runs in: the session's own if it has one (per session), else a spare or one started now.
     *
     * @throws Full        no place within the wait
     * @throws IOException the process could not start
     */
    Lease take(String tenant, String session) throws Full, IOException {
        Held held;
        boolean mine;
        synchronized (this) {
            held = limits.per() == SessionSandboxSettings.Per.SESSION ? bySession.get(session) : null;
            if (held != null && !held.retired && !gone(held)) {
                held.runs++;
                held.generation++; // an idle timer running for it does nothing now
                mine = false;
            } else {
                held = new Held(tenant, session);
                held.runs = 1;
                if (limits.per() == SessionSandboxSettings.Per.SESSION) bySession.put(session, held);
                mine = true;
            }
        }
        if (!mine) return new Lease(held, join(held));
        boolean placed = false;
        try {
            place(tenant);
            placed = true;
            Spare spare = takeSpare(tenant);
            if (spare == null) spare = start(tenant);
            held.process.complete(spare);
            refill(tenant);
            return new Lease(held, spare);
        } catch (Full | IOException | RuntimeException e) {
            synchronized (this) {
                held.retired = true;
                bySession.remove(session, held);
            }
            if (placed) release(tenant);
            held.process.completeExceptionally(e);
            throw e;
        }
    }

    /** A session was admitted: start its tenant's spares now, so its first run does not wait for a JVM. */
    void prewarm(String tenant) {
        refill(tenant);
    }

    /** Processes started for sessions since the node started, spares included (tests, the note's figures). */
    long started() {
        return started.get();
    }

    /** Ready spares of a tenant (tests). */
    int spares(String tenant) {
        var q = spares.get(tenant);
        return q == null ? 0 : q.size();
    }

    /** Process ids of a tenant's ready spares (tests, benchmarks). */
    java.util.List<Long> sparePids(String tenant) {
        var q = spares.get(tenant);
        return q == null ? java.util.List.of() : q.stream().map(s -> s.process().pid()).toList();
    }

    /** Session processes of this tenant that hold a place now, running or idle (tests). */
    int placed(String tenant) {
        Semaphore mine = ofTenant.get(tenant);
        return mine == null ? 0 : limits.perTenant() - mine.availablePermits();
    }

    /** Waits for the process another run of the same session is getting. */
    private Spare join(Held held) throws Full, IOException {
        try {
            return held.process.get(limits.waitMs() + TimeUnit.SECONDS.toMillis(SandboxSupervisor.READY_WAIT_SECONDS),
                    TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            runEnded(held);
            if (e.getCause() instanceof Full f) throw new Full(f.getMessage());
            throw new IOException("the session's sandbox could not start", e.getCause());
        } catch (TimeoutException | InterruptedException e) {
            runEnded(held);
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            throw new Full("the session's sandbox did not start in time");
        }
    }

    /** Whether the session's process died (it is not given to a new run). */
    private static boolean gone(Held held) {
        Spare s = held.process.getNow(null);
        return held.process.isCompletedExceptionally() || s != null && !s.process().isAlive();
    }

    /** Takes a place for a new process of {@code tenant}: stops an idle session's process if that makes room, else waits. */
    private void place(String tenant) throws Full {
        SessionSandboxSettings l = limits;
        Semaphore mine = ofTenant.computeIfAbsent(tenant, t -> new Semaphore(l.perTenant(), true));
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(l.waitMs());
        try {
            if (!mine.tryAcquire()) {
                stopIdle(tenant);
                if (!mine.tryAcquire(l.waitMs(), TimeUnit.MILLISECONDS)) {
                    throw new Full("tenant '" + tenant + "' has " + l.perTenant() + " sessions' sandboxes running already");
                }
            }
            if (!node.tryAcquire()) {
                stopIdle(null);
                if (!node.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    mine.release();
                    throw new Full("the node has " + l.max() + " sessions' sandboxes running already");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Full("interrupted while waiting for a session sandbox");
        }
    }

    /** Stops one session process that runs nothing now (of {@code tenant}, or of anyone when null). */
    private void stopIdle(String tenant) {
        Held idle = null;
        synchronized (this) {
            for (Held h : bySession.values()) {
                if (h.runs == 0 && !h.retired && (tenant == null || h.tenant.equals(tenant))) {
                    idle = h;
                    break;
                }
            }
        }
        if (idle != null) retire(idle, idle.generation);
    }

    private void runEnded(Held held) {
        long generation;
        synchronized (this) {
            if (--held.runs > 0) return;
            generation = ++held.generation;
        }
        long idleMs = limits.per() == SessionSandboxSettings.Per.SESSION ? limits.idleMs() : 0;
        if (idleMs == 0 || closed) {
            retire(held, generation);
            return;
        }
        Thread.startVirtualThread(() -> {
            try {
                Thread.sleep(idleMs);
            } catch (InterruptedException e) {
                return;
            }
            retire(held, generation);
        });
    }

    /** Stops a session's process unless a run came back to it since {@code generation}. */
    private void retire(Held held, long generation) {
        synchronized (this) {
            if (held.retired || held.runs > 0 || held.generation != generation) return;
            held.retired = true;
            bySession.remove(held.session, held);
        }
        Spare spare = held.process.getNow(null);
        if (spare == null) return; // it never started: no place was kept for it
        supervisor.retire(spare.key());
        release(held.tenant);
    }

    /** The session (or run) whose code a process runs is over: no process of it stays (tests; Governance.end). */
    void sessionEnded(String session) {
        Held held;
        long generation;
        synchronized (this) {
            held = bySession.get(session);
            if (held == null) return;
            generation = held.generation;
        }
        retire(held, generation);
    }

    private Spare start(String tenant) throws IOException {
        String key = DynamicWorkers.sessionTenant(tenant, keys.incrementAndGet());
        started.incrementAndGet();
        return new Spare(key, supervisor.startSingle(key));
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
        try {
            Spare spare = start(tenant);
            spares.computeIfAbsent(tenant, t -> new ConcurrentLinkedDeque<>()).addLast(spare);
            if (closed) supervisor.retire(spare.key());
            else Thread.startVirtualThread(() -> expire(tenant, spare));
        } catch (IOException | RuntimeException e) {
            // Closing the node kills the sandboxes it is starting: that is no failure to report.
            if (closed) log.debug("spare session sandbox for tenant {} not started: the node closed", tenant);
            else log.warn("could not start a spare session sandbox for tenant {}: {}", tenant, e.getMessage());
        } finally {
            synchronized (starting) {
                starting.merge(tenant, -1, (a, b) -> a + b == 0 ? null : a + b);
            }
        }
    }

    /** A spare nobody took for the idle time is stopped (a tenant that stopped running sessions keeps none). */
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

    /** Stops every spare and idle session process (the node closes; the rest end with the supervisor). */
    void close() {
        closed = true;
        for (var q : spares.values()) {
            for (Spare s; (s = q.pollFirst()) != null; ) supervisor.retire(s.key());
        }
    }
}
