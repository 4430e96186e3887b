package dev.bulwark.server.config;

import java.util.Objects;

/**
 * The three lanes of governed runs (issue 15, "Lanes, budgets, backpressure"), each with its own
 * queue and concurrency: {@code interactive}, {@code long} (long-running) and {@code approval}
 * (runs awaiting or resuming after an approval). From {@code governance.lanes.<lane>} in the settings.
 */
public record LaneSettings(Lane interactive, Lane longRunning, Lane approval) {
    /** What a run meets when its lane (or its tenant's budget in that lane) is full. */
    public enum WhenFull {
        /** 429 {@code lane_full} with Retry-After. */
        REJECT,
        /** Waits in the lane's queue until a place frees or {@code queueMs} passes (then 503 {@code lane_queue_timeout}). */
        QUEUE,
        /** Runs in the long lane instead, under that lane's budget and behaviour. */
        DOWNGRADE
    }

    /**
     * One lane's limits.
     *
     * @param perTenant   runs of one tenant at once in this lane (its concurrency budget)
     * @param concurrency runs of all tenants at once in this lane
     * @param queueMs     how long a queued run may wait for its place
     * @param queueMax    runs waiting in this lane's queue at most (more: 429 {@code lane_queue_full})
     * @param retryAfterS the Retry-After (seconds) of this lane's refusals
     */
    public record Lane(int perTenant, int concurrency, WhenFull whenFull, long queueMs, int queueMax, int retryAfterS) {
        public Lane {
            Objects.requireNonNull(whenFull, "whenFull");
            if (perTenant < 1 || concurrency < 1) throw new IllegalArgumentException("lane budgets are positive");
            if (queueMs < 0 || queueMax < 0 || retryAfterS < 0) throw new IllegalArgumentException("lane queue settings are not negative");
        }
    }

    public static final LaneSettings DEFAULTS = new LaneSettings(
            new Lane(8, 64, WhenFull.QUEUE, 2_000, 256, 1),
            new Lane(4, 16, WhenFull.QUEUE, 30_000, 256, 5),
            new Lane(16, 64, WhenFull.REJECT, 0, 0, 5));

    public LaneSettings {
        Objects.requireNonNull(interactive, "interactive");
        Objects.requireNonNull(longRunning, "longRunning");
        Objects.requireNonNull(approval, "approval");
        if (longRunning.whenFull() == WhenFull.DOWNGRADE) throw new IllegalArgumentException("the long lane has no lane to downgrade to");
    }
}
