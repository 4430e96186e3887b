package dev.bulwark.server.governance;

import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What governance reports to the node's metrics (see {@link MicrometerGovernanceMetrics}). The
 * hooks in mediation, approvals and the API are one call each on this interface; {@link #NONE}
 * reports nothing.
 */
public interface GovernanceMetrics {
    GovernanceMetrics NONE = new GovernanceMetrics() {};

    /** A run's request: from its arrival at the API (its lane admission included) to its answer's first byte. */
    default void firstByte(Lane lane, long nanos) {}

    /** An approval decided (approved or rejected): {@code approval} as the session object shows it. */
    default void approvalDecided(Map<String, Object> approval) {}

    /** Time a tool call waited for its session's lock. */
    default void lockWaited(long nanos) {}

    /** A mediated call's answer: counts allowed, policy-denied, refused, replayed calls and exhausted budgets. */
    default void answered(Map<String, Object> answer) {}

    /** A budget was found spent: a lane's ({@code lane_interactive}, ...) or a session's ({@code session_...}). */
    default void budgetExhausted(String budget) {}

    /** Gauges of one lane (queue depth, runs). */
    default void lane(Lane lane, Lanes lanes) {}

    /** The gauge of one tenant's runs in one lane. */
    default void tenantLane(String tenant, Lane lane, Lanes lanes) {}

    /** {@code lock.lock()}, its wait reported to {@link #lockWaited}. */
    default void lock(ReentrantLock lock) {
        long t0 = System.nanoTime();
        lock.lock();
        lockWaited(System.nanoTime() - t0);
    }
}
