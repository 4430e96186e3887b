package dev.bulwark.sandbox.isolate;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The node's socket read by the carriers themselves ({@link CarrierReader}): the reading carrier
 * runs a start itself and keeps the reading; the watchdog's tick passes the reading on from a turn
 * that holds it while a message waits.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CarrierReaderTest {
    /** A message of the fake socket: what handling it does; END ends the source. */
    private static final Runnable END = () -> {};
    /** Long enough that a tick "now" never finds a turn old enough. */
    private static final long LONG_HOLD = TimeUnit.SECONDS.toNanos(1_000);

    /** A socket stand-in: next() blocks for a message, records which thread read it, handles it. */
    private static final class FakeSocket implements CarrierReader.Source {
        final BlockingQueue<Runnable> messages = new LinkedBlockingQueue<>();
        final List<Thread> readers = Collections.synchronizedList(new ArrayList<>());

        @Override
        public boolean next() throws Exception {
            Runnable m = messages.take();
            if (m == END) return false;
            readers.add(Thread.currentThread());
            m.run();
            return true;
        }

        @Override
        public boolean pending() {
            return !messages.isEmpty();
        }
    }

    private final List<Thread> tickers = new ArrayList<>();

    @AfterEach
    void stopTickers() {
        tickers.forEach(Thread::interrupt);
    }

    /** The watchdog's stand-in: looks every 2 ms, as the sandbox's watchdog does while a task runs. */
    private void tickEvery2Ms(CarrierReader reader) {
        tickers.add(Thread.ofPlatform().daemon(true).start(() -> {
            while (true) {
                reader.tick(System.nanoTime());
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }));
    }

    private static TaskLoop<Runnable> loop(Carriers carriers) {
        return new TaskLoop<>(carriers, task -> {
            task.run();
            return true;
        });
    }

    private static CompletableFuture<Void> readInBackground(CarrierReader reader) {
        return CompletableFuture.runAsync(() -> {
            try {
                reader.read();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    private static void await(CountDownLatch latch) {
        try {
            assertThat(latch.await(20, TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void theCarrierThatReadsAStartRunsItAndReadsOnWithNoOtherCarrierWoken() throws Exception {
        Carriers carriers = new Carriers("test-carrier", 2, 8, TimeUnit.SECONDS.toNanos(1));
        FakeSocket socket = new FakeSocket();
        CarrierReader reader = new CarrierReader(carriers, socket, LONG_HOLD);
        CompletableFuture<Void> reading = readInBackground(reader);
        TaskLoop<Runnable> isolate = loop(carriers);
        List<Thread> ranOn = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(50);
        AtomicInteger left = new AtomicInteger(50);
        Runnable[] start = new Runnable[1];
        // Each start arrives while the previous one runs (as the node's next request): one thread does it all.
        start[0] = () -> isolate.add(() -> {
            ranOn.add(Thread.currentThread());
            if (left.decrementAndGet() > 0) socket.messages.add(start[0]);
            done.countDown();
        });
        socket.messages.add(start[0]);
        await(done);
        socket.messages.add(END);
        reading.get(10, TimeUnit.SECONDS);
        assertThat(ranOn).hasSize(50).containsOnly(socket.readers.get(0));
        assertThat(socket.readers).containsOnly(socket.readers.get(0));
        assertThat(carriers.threadCount()).isEqualTo(1);
        assertThat(reader.heldTurns()).isEqualTo(50);
        assertThat(reader.handOffs()).isZero();
    }

    @Test
    void aTurnThatHoldsTheReadingPassesItOnAtATickOnlyOnceItIsOldAndAMessageWaits() throws Exception {
        Carriers carriers = new Carriers("test-carrier", 2, 8, TimeUnit.SECONDS.toNanos(1));
        FakeSocket socket = new FakeSocket();
        long hold = TimeUnit.SECONDS.toNanos(100);
        CarrierReader reader = new CarrierReader(carriers, socket, hold);
        CompletableFuture<Void> reading = readInBackground(reader);
        TaskLoop<Runnable> isolate = loop(carriers);
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch secondRead = new CountDownLatch(1);
        CountDownLatch ran = new CountDownLatch(1);
        socket.messages.add(() -> isolate.add(() -> {
            ranOn.set(Thread.currentThread());
            started.countDown();
            await(secondRead); // only another carrier can read it
            ran.countDown();
        }));
        await(started);
        reader.tick(System.nanoTime() + 2 * hold);
        assertThat(reader.handOffs()).as("nothing to read: no successor").isZero();
        socket.messages.add(secondRead::countDown);
        reader.tick(System.nanoTime());
        assertThat(reader.handOffs()).as("the turn is young: no successor").isZero();
        Thread.sleep(50);
        assertThat(socket.messages).as("nobody reads while the turn holds the reading").hasSize(1);
        assertThat(carriers.threadCount()).isEqualTo(1);
        reader.tick(System.nanoTime() + 2 * hold);
        await(ran);
        socket.messages.add(END);
        reading.get(10, TimeUnit.SECONDS);
        assertThat(ranOn.get()).isSameAs(socket.readers.get(0));
        assertThat(socket.readers.get(1)).isNotSameAs(socket.readers.get(0));
        assertThat(reader.handOffs()).isEqualTo(1);
    }

    @Test
    void aTurnThatKeepsTheReadingGivesItsTasksPastTheFirstFewToAnotherCarrierWhenAMessageWaits() throws Exception {
        Carriers carriers = new Carriers("test-carrier", 2, 8, TimeUnit.SECONDS.toNanos(1));
        FakeSocket socket = new FakeSocket();
        CarrierReader reader = new CarrierReader(carriers, socket, LONG_HOLD);
        CompletableFuture<Void> reading = readInBackground(reader);
        TaskLoop<Runnable> isolate = loop(carriers);
        int tasks = CarrierReader.YIELD_TASKS + 4;
        List<Thread> ranOn = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch ran = new CountDownLatch(tasks);
        CountDownLatch messageRead = new CountDownLatch(1);
        socket.messages.add(() -> isolate.add(() -> {
            ranOn.add(Thread.currentThread());
            for (int i = 1; i < tasks; i++) {
                isolate.add(() -> { // the same loop's next tasks (queued requests, storage answers)
                    ranOn.add(Thread.currentThread());
                    ran.countDown();
                });
            }
            socket.messages.add(messageRead::countDown); // and the node says something meanwhile
            ran.countDown();
        }));
        await(ran);
        await(messageRead);
        socket.messages.add(END);
        reading.get(10, TimeUnit.SECONDS);
        Thread leader = ranOn.get(0);
        assertThat(ranOn.subList(0, CarrierReader.YIELD_TASKS)).as("the first few on the leader").containsOnly(leader);
        assertThat(ranOn.subList(CarrierReader.YIELD_TASKS, tasks)).as("the rest elsewhere").doesNotContain(leader);
        assertThat(socket.readers.get(1)).as("the leader read the message").isSameAs(leader);
        assertThat(reader.handOffs()).as("no tick was needed").isZero();
    }

    @Test
    void theWatchdogsTicksAloneGetALongTurnASuccessorReader() throws Exception {
        Carriers carriers = new Carriers("test-carrier", 2, 8, TimeUnit.SECONDS.toNanos(1));
        FakeSocket socket = new FakeSocket();
        CarrierReader reader = new CarrierReader(carriers, socket, TimeUnit.MILLISECONDS.toNanos(2));
        tickEvery2Ms(reader);
        CompletableFuture<Void> reading = readInBackground(reader);
        TaskLoop<Runnable> isolate = loop(carriers);
        CountDownLatch cancelRead = new CountDownLatch(1);
        CountDownLatch ran = new CountDownLatch(1);
        socket.messages.add(() -> isolate.add(() -> {
            socket.messages.add(cancelRead::countDown); // the node's cancel, while the turn runs
            await(cancelRead);
            ran.countDown();
        }));
        await(ran);
        socket.messages.add(END);
        reading.get(10, TimeUnit.SECONDS);
        assertThat(reader.handOffs()).isEqualTo(1);
    }

    @Test
    void cancelsAreReadWhileEveryOtherCarrierRunsALongTurn() throws Exception {
        // Three carriers at most: two run turns that spin until their cancel is read, the third reads.
        Carriers carriers = new Carriers("test-carrier", 1, 3, TimeUnit.SECONDS.toNanos(1));
        FakeSocket socket = new FakeSocket();
        CarrierReader reader = new CarrierReader(carriers, socket, TimeUnit.MILLISECONDS.toNanos(2));
        tickEvery2Ms(reader);
        CompletableFuture<Void> reading = readInBackground(reader);
        TaskLoop<Runnable> a = loop(carriers);
        TaskLoop<Runnable> b = loop(carriers);
        CountDownLatch bothRunning = new CountDownLatch(2);
        AtomicBoolean cancelA = new AtomicBoolean();
        AtomicBoolean cancelB = new AtomicBoolean();
        CountDownLatch done = new CountDownLatch(2);
        Runnable spinUntilA = () -> {
            bothRunning.countDown();
            while (!cancelA.get()) LockSupport.parkNanos(100_000); // busy: this carrier does not come back
            done.countDown();
        };
        Runnable spinUntilB = () -> {
            bothRunning.countDown();
            while (!cancelB.get()) LockSupport.parkNanos(100_000);
            done.countDown();
        };
        CountDownLatch aRunning = new CountDownLatch(1);
        socket.messages.add(() -> a.add(() -> {
            aRunning.countDown();
            spinUntilA.run();
        }));
        await(aRunning); // A's carrier holds the reading: B's start is read by a successor
        socket.messages.add(() -> b.add(spinUntilB));
        await(bothRunning);
        // Both carriers that exist run long turns: the cancels need a third carrier to read them.
        socket.messages.add(() -> cancelA.set(true));
        socket.messages.add(() -> cancelB.set(true));
        await(done);
        socket.messages.add(END);
        reading.get(10, TimeUnit.SECONDS);
        assertThat(carriers.threadCount()).isEqualTo(3);
        // A's carrier read A's start, B's carrier B's, and the third both cancels.
        assertThat(socket.readers).hasSize(4);
        assertThat(socket.readers.subList(0, 3)).doesNotHaveDuplicates();
        assertThat(socket.readers.get(3)).isSameAs(socket.readers.get(2));
        assertThat(reader.handOffs()).isEqualTo(2);
    }

    @Test
    void atMaxCarriersTheReaderReadsOnAndStartsWaitInLineInOrder() throws Exception {
        // Two carriers at most: one runs a turn that waits for a later message, the other reads;
        // starts read meanwhile wait in line and run in the order they came.
        Carriers carriers = new Carriers("test-carrier", 1, 2, TimeUnit.SECONDS.toNanos(1));
        FakeSocket socket = new FakeSocket();
        CarrierReader reader = new CarrierReader(carriers, socket, TimeUnit.MILLISECONDS.toNanos(2));
        tickEvery2Ms(reader);
        CompletableFuture<Void> reading = readInBackground(reader);
        TaskLoop<Runnable> longTurn = loop(carriers);
        TaskLoop<Runnable> first = loop(carriers);
        TaskLoop<Runnable> second = loop(carriers);
        CountDownLatch cancelRead = new CountDownLatch(1);
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(3);
        socket.messages.add(() -> longTurn.add(() -> {
            socket.messages.add(() -> first.add(() -> {
                order.add("first");
                done.countDown();
            }));
            socket.messages.add(() -> second.add(() -> {
                order.add("second");
                done.countDown();
            }));
            socket.messages.add(cancelRead::countDown);
            await(cancelRead); // read by the successor while this carrier is busy
            order.add("long");
            done.countDown();
        }));
        await(done);
        assertThat(order).containsExactly("long", "first", "second");
        assertThat(carriers.threadCount()).isLessThanOrEqualTo(2);
        socket.messages.add(END);
        reading.get(10, TimeUnit.SECONDS);
    }

    @Test
    void whileATurnHoldsTheReadingOnePlaceIsKeptForItsSuccessor() throws Exception {
        // Two carriers at most: a turn queued from elsewhere while the reading carrier runs a turn
        // does not take the last place, so the successor reader can still start.
        Carriers carriers = new Carriers("test-carrier", 1, 2, TimeUnit.SECONDS.toNanos(1));
        FakeSocket socket = new FakeSocket();
        CarrierReader reader = new CarrierReader(carriers, socket, LONG_HOLD);
        CompletableFuture<Void> reading = readInBackground(reader);
        TaskLoop<Runnable> holder = loop(carriers);
        TaskLoop<Runnable> other = loop(carriers);
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch cancelRead = new CountDownLatch(1);
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(2);
        socket.messages.add(() -> holder.add(() -> {
            started.countDown();
            await(cancelRead);
            order.add("holder");
            done.countDown();
        }));
        await(started);
        other.add(() -> { // a timer's task, say: submitted by a thread that is not a carrier
            order.add("other");
            done.countDown();
        });
        Thread.sleep(50);
        assertThat(carriers.threadCount()).as("the last place is the successor's").isEqualTo(1);
        socket.messages.add(cancelRead::countDown);
        reader.tick(System.nanoTime() + 2 * LONG_HOLD);
        await(done);
        assertThat(order).containsExactly("holder", "other");
        assertThat(carriers.threadCount()).isEqualTo(2);
        socket.messages.add(END);
        reading.get(10, TimeUnit.SECONDS);
    }

    @Test
    void noMessageIsLostOrReorderedWhileTheReadingMovesBetweenCarriers() throws Exception {
        // 2,000 starts over 20 loops, some turns long enough for ticks (with no hold at all) to
        // pass the reading on: every task runs once, each loop's in the order they were read.
        Carriers carriers = new Carriers("test-carrier", 2, 4, TimeUnit.SECONDS.toNanos(1));
        FakeSocket socket = new FakeSocket();
        CarrierReader reader = new CarrierReader(carriers, socket, 0);
        tickEvery2Ms(reader);
        CompletableFuture<Void> reading = readInBackground(reader);
        int loops = 20;
        List<TaskLoop<Runnable>> isolates = new ArrayList<>();
        List<List<Integer>> seen = new ArrayList<>();
        for (int i = 0; i < loops; i++) {
            isolates.add(loop(carriers));
            seen.add(Collections.synchronizedList(new ArrayList<>()));
        }
        CountDownLatch done = new CountDownLatch(2_000);
        for (int i = 0; i < 2_000; i++) {
            int n = i;
            TaskLoop<Runnable> l = isolates.get(i % loops);
            socket.messages.add(() -> l.add(() -> {
                seen.get(n % loops).add(n);
                if (n % 97 == 0) {
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                done.countDown();
            }));
        }
        await(done);
        socket.messages.add(END);
        reading.get(10, TimeUnit.SECONDS);
        for (int i = 0; i < loops; i++) {
            List<Integer> expected = new ArrayList<>();
            for (int n = i; n < 2_000; n += loops) expected.add(n);
            assertThat(seen.get(i)).containsExactlyElementsOf(expected);
        }
        assertThat(carriers.threadCount()).isBetween(1, 4);
    }

    @Test
    void aFailingSourceEndsTheReadingWithItsError() {
        Carriers carriers = new Carriers("test-carrier", 1, 2, TimeUnit.SECONDS.toNanos(1));
        CarrierReader reader = new CarrierReader(carriers, () -> {
            throw new IOException("socket closed");
        }, LONG_HOLD);
        assertThatThrownBy(reader::read).isInstanceOf(IOException.class).hasMessage("socket closed");
    }

    @Test
    void inABurstTheReaderReadsOnAndAnotherCarrierRunsTheTurn() throws Exception {
        Carriers carriers = new Carriers("test-carrier", 2, 8, TimeUnit.SECONDS.toNanos(1));
        FakeSocket socket = new FakeSocket();
        CarrierReader reader = new CarrierReader(carriers, socket, LONG_HOLD);
        TaskLoop<Runnable> isolate = loop(carriers);
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        CountDownLatch ran = new CountDownLatch(1);
        CountDownLatch secondRead = new CountDownLatch(1);
        // Both messages are here before the reading starts: the second is pending when the first is handled.
        socket.messages.add(() -> isolate.add(() -> {
            ranOn.set(Thread.currentThread());
            ran.countDown();
        }));
        socket.messages.add(secondRead::countDown);
        CompletableFuture<Void> reading = readInBackground(reader);
        await(ran);
        await(secondRead);
        socket.messages.add(END);
        reading.get(10, TimeUnit.SECONDS);
        assertThat(socket.readers.get(1)).isSameAs(socket.readers.get(0));
        assertThat(ranOn.get()).isNotSameAs(socket.readers.get(0));
        assertThat(reader.heldTurns()).isZero();
    }
}
