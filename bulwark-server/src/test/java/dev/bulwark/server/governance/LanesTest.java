package dev.bulwark.server.governance;

import dev.bulwark.server.config.LaneSettings;
import dev.bulwark.server.config.LaneSettings.WhenFull;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Lanes: per-tenant budgets per lane and what a full lane does (reject, queue with a deadline, downgrade). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LanesTest {
    static final LaneSettings.Lane ROOMY = new LaneSettings.Lane(100, 100, WhenFull.REJECT, 0, 0, 5);
    final List<LaneSlot> held = new ArrayList<>();

    @AfterEach
    void release() {
        held.forEach(LaneSlot::close);
    }

    static Lanes lanes(LaneSettings.Lane interactive, LaneSettings.Lane longLane) {
        return new Lanes(new LaneSettings(interactive, longLane, ROOMY), GovernanceMetrics.NONE);
    }

    LaneSlot hold(Lanes lanes, String tenant, Lane lane) {
        LaneSlot s = lanes.enter(tenant, "ses_" + tenant + held.size(), lane);
        held.add(s);
        return s;
    }

    static CompletableFuture<LaneSlot> enterLater(Lanes lanes, String tenant, Lane lane) {
        return CompletableFuture.supplyAsync(() -> lanes.enter(tenant, "ses_" + tenant + "-later", lane),
                r -> Thread.ofVirtual().start(r));
    }

    static GovernanceException refusal(Runnable r) {
        try {
            r.run();
        } catch (GovernanceException e) {
            return e;
        }
        throw new AssertionError("not refused");
    }

    @Test
    void aRunDeclaresItsLaneOrGetsTheOneOfItsRiskClass() {
        assertThat(Lane.choose(null, "low")).isEqualTo(Lane.INTERACTIVE);
        assertThat(Lane.choose(null, "medium")).isEqualTo(Lane.INTERACTIVE);
        assertThat(Lane.choose(null, "high")).isEqualTo(Lane.LONG);
        assertThat(Lane.choose("approval", "low")).isEqualTo(Lane.APPROVAL);
        assertThat(Lane.choose("interactive", "high")).isEqualTo(Lane.INTERACTIVE);
        GovernanceException e = refusal(() -> Lane.choose("fast", "low"));
        assertThat(e.status()).isEqualTo(400);
        assertThat(e.errorMap()).containsEntry("code", "bad_request").containsEntry("message", "lane is one of interactive, long, approval");
    }

    @Test
    void rejectAnswers429WithRetryAfterWhenTheTenantsBudgetIsSpentAndOtherTenantsStillRun() {
        Lanes lanes = lanes(new LaneSettings.Lane(1, 2, WhenFull.REJECT, 0, 0, 7), ROOMY);
        hold(lanes, "acme", Lane.INTERACTIVE);

        GovernanceException e = refusal(() -> lanes.enter("acme", "ses_2", Lane.INTERACTIVE));
        assertThat(e.status()).isEqualTo(429);
        assertThat(e.retryAfterSeconds()).isEqualTo(7);
        assertThat(e.errorMap()).containsEntry("code", "lane_full").containsEntry("retryable", true)
                .containsEntry("message", "the interactive lane is at its tenant or node budget; retry later");

        assertThat(hold(lanes, "globex", Lane.INTERACTIVE).lane()).isEqualTo(Lane.INTERACTIVE);
        // The lane's node-wide concurrency (2) is now spent too: a third tenant is refused.
        assertThat(refusal(() -> lanes.enter("initech", "ses_3", Lane.INTERACTIVE)).errorMap()).containsEntry("code", "lane_full");
        assertThat(lanes.running(Lane.INTERACTIVE)).isEqualTo(2);
        assertThat(lanes.running(Lane.INTERACTIVE, "acme")).isEqualTo(1);
        // Other lanes have their own places.
        assertThat(hold(lanes, "acme", Lane.LONG).lane()).isEqualTo(Lane.LONG);

        held.removeFirst().close();
        assertThat(hold(lanes, "acme", Lane.INTERACTIVE).lane()).isEqualTo(Lane.INTERACTIVE);
    }

    @Test
    void queueWaitsForAPlaceThenRuns() throws Exception {
        Lanes lanes = lanes(new LaneSettings.Lane(1, 10, WhenFull.QUEUE, 600_000, 10, 1), ROOMY);
        LaneSlot first = lanes.enter("acme", "ses_1", Lane.INTERACTIVE);
        CompletableFuture<LaneSlot> second = enterLater(lanes, "acme", Lane.INTERACTIVE);
        await().atMost(Duration.ofSeconds(30)).until(() -> lanes.queueDepth(Lane.INTERACTIVE) == 1);
        assertThat(second).isNotDone();

        first.close();
        LaneSlot s = second.get(30, TimeUnit.SECONDS);
        held.add(s);
        assertThat(s.lane()).isEqualTo(Lane.INTERACTIVE);
        assertThat(lanes.queueDepth(Lane.INTERACTIVE)).isZero();
        assertThat(lanes.running(Lane.INTERACTIVE, "acme")).isEqualTo(1);
    }

    @Test
    void aQueuedRunWhoseDeadlinePassesGets503AndLeavesTheQueue() {
        Lanes lanes = lanes(new LaneSettings.Lane(1, 10, WhenFull.QUEUE, 50, 10, 3), ROOMY);
        hold(lanes, "acme", Lane.INTERACTIVE); // held until the test ends: no place frees

        GovernanceException e = refusal(() -> lanes.enter("acme", "ses_2", Lane.INTERACTIVE));
        assertThat(e.status()).isEqualTo(503);
        assertThat(e.retryAfterSeconds()).isEqualTo(3);
        assertThat(e.errorMap()).containsEntry("code", "lane_queue_timeout").containsEntry("retryable", true)
                .containsEntry("message", "no place in the interactive lane freed within 50 ms; retry later");
        assertThat(lanes.queueDepth(Lane.INTERACTIVE)).isZero();
        assertThat(lanes.running(Lane.INTERACTIVE)).isEqualTo(1);
    }

    @Test
    void aFullQueueAnswers429() {
        Lanes lanes = lanes(new LaneSettings.Lane(1, 10, WhenFull.QUEUE, 600_000, 1, 2), ROOMY);
        hold(lanes, "acme", Lane.INTERACTIVE);
        CompletableFuture<LaneSlot> waiting = enterLater(lanes, "acme", Lane.INTERACTIVE);
        await().atMost(Duration.ofSeconds(30)).until(() -> lanes.queueDepth(Lane.INTERACTIVE) == 1);

        GovernanceException e = refusal(() -> lanes.enter("acme", "ses_3", Lane.INTERACTIVE));
        assertThat(e.status()).isEqualTo(429);
        assertThat(e.retryAfterSeconds()).isEqualTo(2);
        assertThat(e.errorMap()).containsEntry("code", "lane_queue_full").containsEntry("retryable", true);

        held.removeFirst().close();
        held.add(waiting.join());
    }

    @Test
    void aFreedPlaceGoesToTheFirstWaiterThatFitsNotToAFloodingTenantAtItsBudget() throws Exception {
        Lanes lanes = lanes(new LaneSettings.Lane(1, 2, WhenFull.QUEUE, 600_000, 10, 1), ROOMY);
        hold(lanes, "flood", Lane.INTERACTIVE);
        LaneSlot other = lanes.enter("other", "ses_o", Lane.INTERACTIVE);
        CompletableFuture<LaneSlot> flood2 = enterLater(lanes, "flood", Lane.INTERACTIVE);
        await().atMost(Duration.ofSeconds(30)).until(() -> lanes.queueDepth(Lane.INTERACTIVE) == 1);
        CompletableFuture<LaneSlot> quiet = enterLater(lanes, "quiet", Lane.INTERACTIVE);
        await().atMost(Duration.ofSeconds(30)).until(() -> lanes.queueDepth(Lane.INTERACTIVE) == 2);

        other.close(); // one place frees: "flood" queued first but is at its budget of 1
        held.add(quiet.get(30, TimeUnit.SECONDS));
        assertThat(flood2).isNotDone();
        assertThat(lanes.queueDepth(Lane.INTERACTIVE)).isEqualTo(1);
        assertThat(lanes.running(Lane.INTERACTIVE, "quiet")).isEqualTo(1);

        held.removeFirst().close(); // flood's own place frees: its waiter takes it
        held.add(flood2.get(30, TimeUnit.SECONDS));
        assertThat(lanes.running(Lane.INTERACTIVE, "flood")).isEqualTo(1);
    }

    @Test
    void downgradeRunsInTheLongLaneUnderItsBudget() {
        Lanes lanes = lanes(new LaneSettings.Lane(1, 10, WhenFull.DOWNGRADE, 0, 0, 1),
                new LaneSettings.Lane(1, 10, WhenFull.REJECT, 0, 0, 9));
        assertThat(hold(lanes, "acme", Lane.INTERACTIVE).lane()).isEqualTo(Lane.INTERACTIVE);
        assertThat(hold(lanes, "acme", Lane.INTERACTIVE).lane()).isEqualTo(Lane.LONG);
        assertThat(lanes.running(Lane.LONG, "acme")).isEqualTo(1);

        GovernanceException e = refusal(() -> lanes.enter("acme", "ses_3", Lane.INTERACTIVE));
        assertThat(e.status()).isEqualTo(429);
        assertThat(e.retryAfterSeconds()).isEqualTo(9);
        assertThat(e.errorMap()).containsEntry("code", "lane_full")
                .containsEntry("message", "the long lane is at its tenant or node budget; retry later");
    }

    @Test
    void aRunWaitingForAnApprovalMovesToTheApprovalLaneAndBack() throws Exception {
        Lanes lanes = lanes(new LaneSettings.Lane(1, 10, WhenFull.REJECT, 0, 0, 1), ROOMY);
        LaneSlot run = lanes.enter("acme", "ses_a", Lane.INTERACTIVE);
        held.add(run);
        assertThat(refusal(() -> lanes.enter("acme", "ses_b", Lane.INTERACTIVE)).errorMap()).containsEntry("code", "lane_full");

        AutoCloseable parked = lanes.parkForApproval("ses_a");
        assertThat(run.holding()).isEqualTo(Lane.APPROVAL);
        assertThat(lanes.running(Lane.INTERACTIVE, "acme")).isZero();
        assertThat(lanes.running(Lane.APPROVAL, "acme")).isEqualTo(1);
        LaneSlot other = lanes.enter("acme", "ses_b", Lane.INTERACTIVE); // the freed place

        parked.close(); // back in its lane, over the budget: an admitted run is not refused half-way
        assertThat(run.holding()).isEqualTo(Lane.INTERACTIVE);
        assertThat(lanes.running(Lane.INTERACTIVE, "acme")).isEqualTo(2);
        assertThat(lanes.running(Lane.APPROVAL, "acme")).isZero();
        other.close();
        run.close();
        assertThat(lanes.running(Lane.INTERACTIVE, "acme")).isZero();
        assertThat(lanes.parkForApproval("ses_a")).isNotNull(); // no run: nothing moves
        assertThat(lanes.running(Lane.APPROVAL)).isZero();
    }

    @Test
    void newBudgetsLetWaitersIn() throws Exception {
        Lanes lanes = lanes(new LaneSettings.Lane(1, 10, WhenFull.QUEUE, 600_000, 10, 1), ROOMY);
        hold(lanes, "acme", Lane.INTERACTIVE);
        CompletableFuture<LaneSlot> second = enterLater(lanes, "acme", Lane.INTERACTIVE);
        await().atMost(Duration.ofSeconds(30)).until(() -> lanes.queueDepth(Lane.INTERACTIVE) == 1);
        lanes.configure(new LaneSettings(new LaneSettings.Lane(2, 10, WhenFull.QUEUE, 600_000, 10, 1), ROOMY, ROOMY));
        held.add(second.get(30, TimeUnit.SECONDS));
        assertThat(lanes.running(Lane.INTERACTIVE, "acme")).isEqualTo(2);
    }
}
