package dev.bulwark.sandbox.isolate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** Isolates' event loops on a bounded pool of carrier threads (DESIGN.md: isolates do not own threads). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CarriersTest {

    @Test
    void aLoopRunsItsTasksInOrderAndNeverTwoAtOnce() throws Exception {
        Carriers carriers = new Carriers("test-carrier", 2, 8, TimeUnit.SECONDS.toNanos(1));
        List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger running = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(1);
        TaskLoop<Integer> loop = new TaskLoop<>(carriers, n -> {
            if (running.incrementAndGet() > 1) overlaps.incrementAndGet();
            seen.add(n);
            running.decrementAndGet();
            if (n == 999) done.countDown();
            return true;
        });
        // 1000 tasks cross many turns (64 tasks each), so order holds across carriers too.
        for (int i = 0; i < 1000; i++) loop.add(i);
        assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(overlaps.get()).isZero();
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < 1000; i++) expected.add(i);
        assertThat(seen).isEqualTo(expected);
    }

    @Test
    void thousandsOfLoopsShareAFewCarriers() throws Exception {
        Carriers carriers = new Carriers("test-carrier", 1, 4, TimeUnit.SECONDS.toNanos(1));
        int loops = 2_000;
        CountDownLatch done = new CountDownLatch(loops * 3);
        AtomicInteger maxThreads = new AtomicInteger();
        List<TaskLoop<Integer>> all = new ArrayList<>();
        for (int i = 0; i < loops; i++) {
            all.add(new TaskLoop<>(carriers, n -> {
                maxThreads.accumulateAndGet(carriers.threadCount(), Math::max);
                done.countDown();
                return true;
            }));
        }
        for (int round = 0; round < 3; round++) for (TaskLoop<Integer> l : all) l.add(round);
        assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(maxThreads.get()).isBetween(1, 4);
        assertThat(carriers.threadCount()).isBetween(1, 4);
    }

    @Test
    void aBlockedLoopDoesNotStopTheOthersAndIdleCarriersEnd() throws Exception {
        Carriers carriers = new Carriers("test-carrier", 1, 4, TimeUnit.MILLISECONDS.toNanos(200));
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch blockedRunning = new CountDownLatch(1);
        TaskLoop<Integer> blocked = new TaskLoop<>(carriers, n -> {
            blockedRunning.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return true;
        });
        CountDownLatch otherRan = new CountDownLatch(1);
        TaskLoop<Integer> other = new TaskLoop<>(carriers, n -> {
            otherRan.countDown();
            return true;
        });
        blocked.add(1);
        assertThat(blockedRunning.await(10, TimeUnit.SECONDS)).isTrue();
        other.add(1);
        assertThat(otherRan.await(10, TimeUnit.SECONDS)).as("another loop ran while the first blocked its carrier").isTrue();
        assertThat(carriers.threadCount()).isEqualTo(2);
        release.countDown();
        // Carriers beyond the core count end once they have had nothing to do for their keep-alive.
        for (int i = 0; i < 200 && carriers.threadCount() > 1; i++) Thread.sleep(50);
        assertThat(carriers.threadCount()).isEqualTo(1);
    }

    @Test
    void anEndedLoopRunsNothingMore() throws Exception {
        Carriers carriers = new Carriers("test-carrier", 1, 2, TimeUnit.SECONDS.toNanos(1));
        AtomicInteger ran = new AtomicInteger();
        CountDownLatch ended = new CountDownLatch(1);
        TaskLoop<Integer> loop = new TaskLoop<>(carriers, n -> {
            ran.incrementAndGet();
            if (n == 0) {
                ended.countDown();
                return false; // closed: the tasks queued behind it are dropped
            }
            return true;
        });
        loop.add(1);
        loop.add(0);
        loop.add(2);
        assertThat(ended.await(10, TimeUnit.SECONDS)).isTrue();
        loop.add(3);
        Thread.sleep(200);
        assertThat(ran.get()).isEqualTo(2);
    }

    // ------------------------------------------------------------ hand-over at a task's end

    /** A loop whose tasks are runnables (each records or hands over what the test says). */
    private static TaskLoop<Runnable> loop(Carriers carriers) {
        return new TaskLoop<>(carriers, task -> {
            task.run();
            return true;
        });
    }

    @Test
    void aLoopMadeRunnableAtATasksEndRunsNextOnTheSameCarrier() throws Exception {
        Carriers carriers = new Carriers("test-carrier", 2, 8, TimeUnit.SECONDS.toNanos(1));
        TaskLoop<Runnable> caller = loop(carriers);
        TaskLoop<Runnable> callee = loop(carriers);
        AtomicReference<Thread> callerThread = new AtomicReference<>();
        AtomicReference<Thread> calleeThread = new AtomicReference<>();
        AtomicReference<Thread> answerThread = new AtomicReference<>();
        CountDownLatch answered = new CountDownLatch(1);
        // caller → callee (the call's start) → caller (the answer), as a local object call goes.
        caller.add(() -> {
            callerThread.set(Thread.currentThread());
            caller.handingOver(() -> callee.add(() -> {
                calleeThread.set(Thread.currentThread());
                callee.handingOver(() -> caller.add(() -> {
                    answerThread.set(Thread.currentThread());
                    answered.countDown();
                }));
            }));
        });
        assertThat(answered.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(calleeThread.get()).isSameAs(callerThread.get());
        assertThat(answerThread.get()).isSameAs(callerThread.get());
        assertThat(carriers.keptCount()).isEqualTo(2);
    }

    @Test
    void aHandOverDoesNotWaitBehindTheNextTaskOfTheSameLoop() throws Exception {
        Carriers carriers = new Carriers("test-carrier", 2, 8, TimeUnit.SECONDS.toNanos(1));
        TaskLoop<Runnable> caller = loop(carriers);
        TaskLoop<Runnable> callee = loop(carriers);
        CountDownLatch calleeRan = new CountDownLatch(1);
        AtomicReference<Thread> callerThread = new AtomicReference<>();
        AtomicReference<Thread> calleeThread = new AtomicReference<>();
        AtomicReference<Boolean> secondTaskSawCallee = new AtomicReference<>();
        CountDownLatch bothQueued = new CountDownLatch(1);
        caller.add(() -> {
            try {
                bothQueued.await(); // the second task is in the queue before this one ends
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            callerThread.set(Thread.currentThread());
            caller.handingOver(() -> callee.add(() -> {
                calleeThread.set(Thread.currentThread());
                calleeRan.countDown();
            }));
        });
        // A long second task: it waits (up to 10 s) for the callee, which must run meanwhile elsewhere.
        CountDownLatch secondDone = new CountDownLatch(1);
        caller.add(() -> {
            try {
                secondTaskSawCallee.set(calleeRan.await(10, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            secondDone.countDown();
        });
        bothQueued.countDown();
        assertThat(secondDone.await(20, TimeUnit.SECONDS)).isTrue();
        assertThat(secondTaskSawCallee.get()).as("the callee ran while the caller's next task was running").isTrue();
        assertThat(calleeThread.get()).isNotSameAs(callerThread.get());
    }

    @Test
    void aHandOverDoesNotOvertakeATurnWaitingInLine() throws Exception {
        // One carrier: a turn submitted while it is busy waits in line.
        Carriers carriers = new Carriers("test-carrier", 1, 1, TimeUnit.SECONDS.toNanos(1));
        TaskLoop<Runnable> caller = loop(carriers);
        TaskLoop<Runnable> waiting = loop(carriers);
        TaskLoop<Runnable> callee = loop(carriers);
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(2);
        caller.add(() -> {
            waiting.add(() -> {
                order.add("waiting");
                done.countDown();
            });
            caller.handingOver(() -> callee.add(() -> {
                order.add("callee");
                done.countDown();
            }));
        });
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(order).containsExactly("waiting", "callee");
        assertThat(carriers.keptCount()).isZero();
    }

    @Test
    void aCarrierKeepsOneHandOverAndSubmitsTheOthersInOrder() throws Exception {
        Carriers carriers = new Carriers("test-carrier", 1, 1, TimeUnit.SECONDS.toNanos(1));
        TaskLoop<Runnable> caller = loop(carriers);
        TaskLoop<Runnable> first = loop(carriers);
        TaskLoop<Runnable> second = loop(carriers);
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(2);
        caller.add(() -> caller.handingOver(() -> {
            first.add(() -> {
                order.add("first");
                done.countDown();
            });
            second.add(() -> {
                order.add("second");
                done.countDown();
            });
        }));
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(order).containsExactly("first", "second");
        assertThat(carriers.keptCount()).isEqualTo(1);
    }

    @Test
    void outsideACarrierAHandOverIsAnOrdinarySubmit() throws Exception {
        Carriers carriers = new Carriers("test-carrier", 1, 2, TimeUnit.SECONDS.toNanos(1));
        TaskLoop<Runnable> callee = loop(carriers);
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        CountDownLatch ran = new CountDownLatch(1);
        callee.handingOver(() -> callee.add(() -> {
            ranOn.set(Thread.currentThread());
            ran.countDown();
        }));
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(ranOn.get()).isNotSameAs(Thread.currentThread());
        assertThat(carriers.keptCount()).isZero();
    }
}
