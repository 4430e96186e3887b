package dev.bulwark.server.governance;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Every so often, settles the approvals of every tenant that has sessions (the tenants are those
 * with a session list in the audit roll-up's directory): an approval past its escalation time or
 * expiry is written and audited then, not only when someone next reads it. The deadlines themselves
 * are in the session objects, so a restarted node loses nothing: its first sweep catches up.
 */
final class ApprovalSweeper implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ApprovalSweeper.class);
    static final long DEFAULT_PERIOD_MS = 30_000;

    private final Governance gov;
    private final Path sessionLists;
    private volatile long periodMs = DEFAULT_PERIOD_MS;
    private volatile boolean closed;
    private final Thread thread;

    ApprovalSweeper(Governance gov, Path sessionLists) {
        this.gov = gov;
        this.sessionLists = sessionLists;
        this.thread = Thread.ofVirtual().name("governance-approval-sweeper").start(this::loop);
    }

    void periodMs(long ms) {
        if (ms < 100) throw new IllegalArgumentException("the sweep period is at least 100 ms");
        this.periodMs = ms;
        thread.interrupt(); // start the new period now
    }

    private void loop() {
        while (!closed) {
            try {
                Thread.sleep(periodMs);
            } catch (InterruptedException e) {
                continue; // a new period, or closing
            }
            if (closed) return;
            try {
                sweep();
            } catch (RuntimeException e) {
                log.warn("approval sweep failed: {}", e.toString());
            }
        }
    }

    /** One sweep over every tenant with sessions. */
    void sweep() {
        for (String tenant : tenants()) {
            if (closed) return;
            gov.approvals(tenant, null);
        }
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
        thread.interrupt();
    }
}
