package dev.bulwark.server.governance;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * At the next deadline of an open approval (and at least every period), settles the approvals of every tenant that has sessions (the tenants are those
 * with a session list in the audit roll-up's directory): an approval past its escalation time or
 * expiry is written and audited then, not only when someone next reads it. The deadlines themselves
 * are in the session objects, so a restarted node loses nothing: its first sweep catches up. The
 * next deadline is learnt from each sweep's listing and from each new approval
 * ({@link #dueAt}), so an escalation or expiry is written (and told) when it falls due, not up to a
 * period later; the period is the fallback.
 */
final class ApprovalSweeper implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ApprovalSweeper.class);
    static final long DEFAULT_PERIOD_MS = 30_000;
    static final long FIRST_SWEEP_MS = 1_000;

    private final Governance gov;
    private final Path sessionLists;
    private volatile long periodMs = DEFAULT_PERIOD_MS;
    private volatile boolean closed;
    /** The earliest known deadline of an open approval (governance's clock), MAX_VALUE: none known. */
    private final java.util.concurrent.atomic.AtomicLong nextDue = new java.util.concurrent.atomic.AtomicLong(Long.MAX_VALUE);
    private final Thread thread;

    ApprovalSweeper(Governance gov, Path sessionLists) {
        this.gov = gov;
        this.sessionLists = sessionLists;
        // The first sweep comes soon after the node starts (deadlines that passed while it was down),
        // once the settings (hooks, times) applied right after governance is attached are in place.
        nextDue.set(gov.now() + FIRST_SWEEP_MS);
        this.thread = Thread.ofVirtual().name("governance-approval-sweeper").start(this::loop);
    }

    void periodMs(long ms) {
        if (ms < 100) throw new IllegalArgumentException("the sweep period is at least 100 ms");
        this.periodMs = ms;
        java.util.concurrent.locks.LockSupport.unpark(thread); // start the new period now
    }

    /** An open approval falls due (escalation or expiry) at {@code at}: sweep then if that is earlier than planned. */
    void dueAt(long at) {
        long before = nextDue.getAndAccumulate(at, Math::min);
        if (at < before) java.util.concurrent.locks.LockSupport.unpark(thread);
    }

    private void loop() {
        long last = System.nanoTime();
        while (!closed) {
            long due = nextDue.get();
            long toPeriod = periodMs - (System.nanoTime() - last) / 1_000_000;
            long wait = Math.min(toPeriod, due == Long.MAX_VALUE ? Long.MAX_VALUE : due - gov.now());
            if (wait > 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(Math.min(wait, periodMs) * 1_000_000L);
                Thread.interrupted(); // a new period, an earlier deadline, or closing: look again
                continue;
            }
            if (closed) return;
            last = System.nanoTime();
            sweeps.incrementAndGet();
            try {
                sweep();
            } catch (RuntimeException e) {
                log.warn("approval sweep failed: {}", e.toString());
            }
        }
    }

    /** Sweeps so far by the sweeper's own thread (tests). */
    final java.util.concurrent.atomic.AtomicLong sweeps = new java.util.concurrent.atomic.AtomicLong();

    /** One sweep over every tenant with sessions; learns the next deadline of the approvals still open. */
    void sweep() {
        nextDue.set(Long.MAX_VALUE); // relearnt below; an approval added meanwhile calls dueAt itself
        long now = gov.now();
        for (String tenant : tenants()) {
            if (closed) return;
            for (java.util.Map<String, Object> a : gov.approvals(tenant, null)) {
                long next = nextDeadline(a, now);
                if (next != Long.MAX_VALUE) dueAt(next);
            }
        }
    }

    /** The next deadline after {@code now} of a listed approval: its escalation while pending, its expiry while open. */
    static long nextDeadline(java.util.Map<String, Object> a, long now) {
        Object state = a.get("state");
        if (!"pending".equals(state) && !"escalated".equals(state)) return Long.MAX_VALUE;
        long next = Long.MAX_VALUE;
        if ("pending".equals(state) && a.get("escalatesAt") instanceof Number e && e.longValue() > now) next = e.longValue();
        if (a.get("expiresAt") instanceof Number x && x.longValue() > now) next = Math.min(next, x.longValue());
        return next;
    }

    private List<String> tenants() {
        if (!Files.isDirectory(sessionLists)) return List.of();
        try (Stream<Path> files = Files.list(sessionLists)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".sessions"))
                    .map(n -> n.substring(0, n.length() - ".sessions".length())).sorted().toList();
        } catch (IOException e) {
            log.warn("the tenants with sessions cannot be listed: {}", e.toString());
            return List.of();
        }
    }

    @Override
    public void close() {
        closed = true;
        java.util.concurrent.locks.LockSupport.unpark(thread);
    }
}
