package dev.bulwark.server.governance;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Calls waiting on one approval: each is woken by its decision, whatever the others did. */
class ApprovalWaitsTest {
    @Test
    void aCallThatGivesUpDoesNotStopTheDecisionWakingTheOthers() throws Exception {
        ApprovalWaits waits = new ApprovalWaits();
        CompletableFuture<Void> patient = waits.register("apr_1");
        CompletableFuture<Void> hasty = waits.register("apr_1");
        CompletableFuture<Void> other = waits.register("apr_2");
        assertThat(waits.waiting()).isEqualTo(3);

        // The hasty call's bound passes: only its own registration goes.
        assertThat(waits.await("apr_1", hasty, 1)).isFalse();
        assertThat(waits.waiting()).isEqualTo(2);

        // The decision still wakes the patient one (a long wait that ends at once), and only apr_1's.
        CompletableFuture<Boolean> woke = CompletableFuture.supplyAsync(() -> waits.await("apr_1", patient, 600_000));
        waits.decided("apr_1");
        assertThat(woke.get(60, TimeUnit.SECONDS)).isTrue();
        assertThat(other).isNotDone();
        assertThat(waits.waiting()).isEqualTo(1);

        // A registration given up without waiting (the approval was decided already) leaves nothing.
        waits.forget("apr_2", other);
        assertThat(waits.waiting()).isZero();
        // A decision nobody waits for, and a later waiter on a decided approval: registers afresh.
        waits.decided("apr_3");
        CompletableFuture<Void> late = waits.register("apr_1");
        assertThat(late).isNotDone();
        assertThat(waits.await("apr_1", late, 1)).isFalse();
        assertThat(waits.waiting()).isZero();
    }
}
