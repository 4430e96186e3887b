package dev.bulwark.sandbox.isolate;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class DeadlinesTest {
    @Test
    void aDeadlineRunsItsActionWhenItFallsDue() throws Exception {
        try (Deadlines deadlines = new Deadlines("test-deadlines")) {
            CountDownLatch ran = new CountDownLatch(1);
            deadlines.schedule(ran::countDown, 20);
            assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(deadlines.pending()).isZero();
        }
    }

    @Test
    void aCanceledDeadlineNeverRunsAndIsForgottenAtOnce() throws Exception {
        try (Deadlines deadlines = new Deadlines("test-deadlines")) {
            List<String> ran = new CopyOnWriteArrayList<>();
            Deadlines.Handle h = deadlines.schedule(() -> ran.add("canceled"), 50);
            assertThat(deadlines.pending()).isEqualTo(1);
            h.cancel();
            assertThat(deadlines.pending()).isZero();
            CountDownLatch later = new CountDownLatch(1);
            deadlines.schedule(later::countDown, 150);
            assertThat(later.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(ran).isEmpty();
        }
    }

    @Test
    void aShorterDeadlineAddedWhileTheThreadSleepsForALongerOneRunsFirst() throws Exception {
        try (Deadlines deadlines = new Deadlines("test-deadlines")) {
            List<String> order = new CopyOnWriteArrayList<>();
            CountDownLatch shortOne = new CountDownLatch(1);
            deadlines.schedule(() -> order.add("long"), 60_000);
            Thread.sleep(20); // the thread now sleeps until the long one
            deadlines.schedule(() -> {
                order.add("short");
                shortOne.countDown();
            }, 10);
            assertThat(shortOne.await(10, TimeUnit.SECONDS)).as("the short deadline woke the thread").isTrue();
            assertThat(order).containsExactly("short");
            assertThat(deadlines.pending()).isEqualTo(1);
        }
    }

    @Test
    void manyDeadlinesCanceledOrRunLeaveNothingBehind() throws Exception {
        try (Deadlines deadlines = new Deadlines("test-deadlines")) {
            CountDownLatch ran = new CountDownLatch(100);
            for (int i = 0; i < 10_000; i++) {
                Deadlines.Handle h = deadlines.schedule(ran::countDown, 5);
                if (i % 100 != 0) h.cancel();
            }
            assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (deadlines.pending() > 0 && System.nanoTime() < until) Thread.sleep(5);
            assertThat(deadlines.pending()).isZero();
        }
    }

    @Test
    void anActionThatThrowsDoesNotStopTheOthers() throws Exception {
        try (Deadlines deadlines = new Deadlines("test-deadlines")) {
            CountDownLatch ran = new CountDownLatch(1);
            deadlines.schedule(() -> {
                throw new IllegalStateException("boom");
            }, 5);
            deadlines.schedule(ran::countDown, 30);
            assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
        }
    }
}
