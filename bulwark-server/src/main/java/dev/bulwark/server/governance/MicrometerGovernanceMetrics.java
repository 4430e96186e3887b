package dev.bulwark.server.governance;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Governance's meters on the node's Micrometer registry, as Prometheus names them:
 * <pre>
 * bulwark_governance_admission_first_byte_seconds{lane}   histogram: run request → first byte of its answer
 * bulwark_governance_approval_latency_seconds{decision}   histogram: approval requested → decided
 * bulwark_governance_session_lock_wait_seconds            histogram: a tool call's wait for its session's lock
 * bulwark_governance_duplicates_prevented_total           calls answered from the ledger (replayed, outcome_unknown)
 * bulwark_governance_tool_calls_total{outcome}            allowed | policy_denied | approval_pending | refused | replayed
 * bulwark_governance_policy_denied_ratio                  policy_denied / (allowed + policy_denied)
 * bulwark_governance_lane_queue_depth{lane}               runs waiting for a place
 * bulwark_governance_lane_running{lane}                   runs holding a place
 * bulwark_governance_tenant_concurrency{tenant,lane}      one tenant's runs holding a place
 * bulwark_governance_budget_exhausted_total{budget}       lane_interactive | lane_long | lane_approval | session
 * </pre>
 */
public final class MicrometerGovernanceMetrics implements GovernanceMetrics {
    private final MeterRegistry registry;
    private final Timer lockWait;
    private final Counter duplicates;
    private final Counter allowed;
    private final Counter denied;
    private final Counter refused;
    private final Counter replayed;
    private final Counter pending;
    private final Set<String> tenantGauges = ConcurrentHashMap.newKeySet();

    public MicrometerGovernanceMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.lockWait = histogram(Timer.builder("bulwark.governance.session.lock.wait")
                .description("Time a tool call waited for its session's lock"));
        this.duplicates = Counter.builder("bulwark.governance.duplicates.prevented")
                .description("Tool calls answered from the ledger instead of running the tool again").register(registry);
        this.allowed = calls("allowed");
        this.denied = calls("policy_denied");
        this.refused = calls("refused");
        this.replayed = calls("replayed");
        this.pending = calls("approval_pending");
        Gauge.builder("bulwark.governance.policy.denied.ratio", this, MicrometerGovernanceMetrics::deniedRatio)
                .description("Policy-denied tool calls over calls that reached a decision (allowed + policy_denied)")
                .strongReference(true).register(registry);
    }

    @Override
    public void firstByte(Lane lane, long nanos) {
        histogram(Timer.builder("bulwark.governance.admission.first.byte").tag("lane", lane.label())
                .description("A governed run's request: arrival (lane admission included) to the first byte of its answer"))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void approvalDecided(Map<String, Object> approval) {
        if (!(approval.get("requestedAt") instanceof Number requested) || !(approval.get("decidedAt") instanceof Number decided)) return;
        histogram(Timer.builder("bulwark.governance.approval.latency").tag("decision", String.valueOf(approval.get("state")))
                .description("A privileged call's approval: requested to decided"))
                .record(Math.max(0, decided.longValue() - requested.longValue()), TimeUnit.MILLISECONDS);
    }

    @Override
    public void lockWaited(long nanos) {
        lockWait.record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void answered(Map<String, Object> answer) {
        if (Boolean.TRUE.equals(answer.get("replayed"))) {
            duplicates.increment();
            replayed.increment();
            return;
        }
        if (Boolean.TRUE.equals(answer.get("ok"))) {
            allowed.increment();
            return;
        }
        String code = answer.get("error") instanceof Map<?, ?> e && e.get("code") instanceof String c ? c : "";
        switch (code) {
            case "tool_failed" -> allowed.increment(); // the tool ran (and failed): the policy allowed it
            case "policy_denied" -> denied.increment();
            case "approval_pending" -> pending.increment();
            case "outcome_unknown" -> {
                duplicates.increment(); // a retry of an effect that may have happened: not run again
                replayed.increment();
            }
            case "budget_exhausted" -> {
                budgetExhausted("session");
                refused.increment();
            }
            default -> refused.increment();
        }
    }

    @Override
    public void budgetExhausted(String budget) {
        Counter.builder("bulwark.governance.budget.exhausted").tag("budget", budget)
                .description("Requests that found a budget spent (a lane's for a tenant, or a session's)").register(registry).increment();
    }

    @Override
    public void lane(Lane lane, Lanes lanes) {
        Gauge.builder("bulwark.governance.lane.queue.depth", lanes, l -> l.queueDepth(lane)).tag("lane", lane.label())
                .description("Runs waiting for a place in the lane").strongReference(true).register(registry);
        Gauge.builder("bulwark.governance.lane.running", lanes, l -> l.running(lane)).tag("lane", lane.label())
                .description("Runs holding a place in the lane").strongReference(true).register(registry);
    }

    @Override
    public void tenantLane(String tenant, Lane lane, Lanes lanes) {
        if (!tenantGauges.add(tenant + "\n" + lane.label())) return;
        Gauge.builder("bulwark.governance.tenant.concurrency", lanes, l -> l.running(lane, tenant))
                .tags("tenant", tenant, "lane", lane.label())
                .description("One tenant's runs holding a place in the lane").strongReference(true).register(registry);
    }

    private double deniedRatio() {
        double d = denied.count();
        double total = d + allowed.count();
        return total == 0 ? 0 : d / total;
    }

    private Counter calls(String outcome) {
        return Counter.builder("bulwark.governance.tool.calls").tag("outcome", outcome)
                .description("Mediated tool calls by outcome").register(registry);
    }

    private Timer histogram(Timer.Builder b) {
        return b.publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(100_000))
                .maximumExpectedValue(Duration.ofSeconds(60)).register(registry);
    }
}
