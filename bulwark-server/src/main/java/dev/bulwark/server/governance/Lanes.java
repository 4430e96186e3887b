package dev.bulwark.server.governance;

import dev.bulwark.server.config.LaneSettings;

import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Admission of governed runs to their lanes (issue 15, "Lanes, budgets, backpressure"): a run takes
 * a place in its lane, within its tenant's budget there, before its code is loaded; when none is
 * free, the lane's configured behaviour decides: reject (429 {@code lane_full}, Retry-After), queue
 * with a deadline (503 {@code lane_queue_timeout} when it passes; 429 {@code lane_queue_full} when
 * the queue itself is full), or downgrade to the long lane.
 */
public final class Lanes {
    private final Map<Lane, LaneQueue> queues = new EnumMap<>(Lane.class);
    private final Map<String, Set<LaneSlot>> bySession = new ConcurrentHashMap<>();
    private final GovernanceMetrics metrics;

    Lanes(LaneSettings settings, GovernanceMetrics metrics) {
        this.metrics = metrics;
        for (Lane l : Lane.values()) {
            queues.put(l, new LaneQueue(l, limitOf(settings, l)));
            metrics.lane(l, this);
        }
    }

    /** New budgets and behaviours; runs in flight keep their places. */
    public void configure(LaneSettings settings) {
        for (Lane l : Lane.values()) queues.get(l).limit(limitOf(settings, l));
    }

    /**
     * A place in {@code lane} for a run of {@code tenant}'s {@code session}; close the slot when
     * the run ends.
     *
     * @throws GovernanceException 429 {@code lane_full} / {@code lane_queue_full}, 503
     *                             {@code lane_queue_timeout}, each retryable with a Retry-After
     */
    public LaneSlot enter(String tenant, String session, Lane lane) {
        LaneQueue q = queues.get(lane);
        if (q.tryEnter(tenant)) return slot(tenant, session, q);
        metrics.tenantLane(tenant, lane, this);
        metrics.budgetExhausted("lane_" + lane.label());
        LaneSettings.Lane limit = q.limit();
        return switch (limit.whenFull()) {
            case REJECT -> throw refusal(429, "lane_full", "the " + lane.label()
                    + " lane is at its tenant or node budget; retry later", limit);
            case DOWNGRADE -> enter(tenant, session, Lane.LONG);
            case QUEUE -> {
                LaneQueue.Outcome outcome;
                try {
                    outcome = q.enter(tenant, LaneQueue.nanos(limit.queueMs()));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw refusal(503, "lane_queue_timeout", "the run stopped waiting for a place in the " + lane.label() + " lane", limit);
                }
                yield switch (outcome) {
                    case ADMITTED -> slot(tenant, session, q);
                    case QUEUE_FULL -> throw refusal(429, "lane_queue_full", "the " + lane.label()
                            + " lane's queue is full; retry later", limit);
                    case TIMED_OUT -> throw refusal(503, "lane_queue_timeout", "no place in the " + lane.label()
                            + " lane freed within " + limit.queueMs() + " ms; retry later", limit);
                };
            }
        };
    }

    /**
     * Moves a run of {@code session} that is waiting for an approval into the approval lane, so
     * it stops holding a place in its own; closing the result brings it back (over its lane's budget
     * if that filled meanwhile: an admitted run is never refused half-way). Nothing moves when the
     * session has no run here or the approval lane has no place for the tenant.
     */
    public Parked parkForApproval(String session) {
        Set<LaneSlot> slots = bySession.get(session);
        LaneSlot slot = slots == null ? null : slots.stream().findFirst().orElse(null);
        return slot == null ? () -> {} : slot.park(queues.get(Lane.APPROVAL));
    }

    /** A run parked in the approval lane; closing it moves the run back (never throws). */
    public interface Parked extends AutoCloseable {
        @Override
        void close();
    }

    public int queueDepth(Lane lane) {
        return queues.get(lane).waiting();
    }

    public int running(Lane lane) {
        return queues.get(lane).running();
    }

    public int running(Lane lane, String tenant) {
        return queues.get(lane).running(tenant);
    }

    private LaneSlot slot(String tenant, String session, LaneQueue q) {
        metrics.tenantLane(tenant, q.lane, this);
        // Added and removed inside the map's per-key compute, so a set is never dropped while a slot joins it.
        LaneSlot slot = new LaneSlot(tenant, q, s -> bySession.computeIfPresent(session, (k, v) -> {
            v.remove(s);
            return v.isEmpty() ? null : v;
        }));
        bySession.compute(session, (k, v) -> {
            Set<LaneSlot> set = v == null ? ConcurrentHashMap.newKeySet() : v;
            set.add(slot);
            return set;
        });
        return slot;
    }

    private static GovernanceException refusal(int status, String code, String message, LaneSettings.Lane limit) {
        return GovernanceException.retryLater(status, code, message, limit.retryAfterS());
    }

    private static LaneSettings.Lane limitOf(LaneSettings s, Lane lane) {
        return switch (lane) {
            case INTERACTIVE -> s.interactive();
            case LONG -> s.longRunning();
            case APPROVAL -> s.approval();
        };
    }
}
