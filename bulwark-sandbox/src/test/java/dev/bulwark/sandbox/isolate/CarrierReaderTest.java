package dev.bulwark.sandbox.isolate;

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
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The node's socket read by the carriers themselves, one at a time (leader/follower, {@link Carriers#read}). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CarrierReaderTest {
    /** A message of the fake socket: what handling it does; END ends the source. */
    private static final Runnable END = () -> {};

    /** A socket stand-in: next() blocks for a message, records which thread read it, handles it. */
    private static final class FakeSocket implements Carriers.Source {
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

    private static TaskLoop<Runnable> loop(Carriers carriers) {
        return new TaskLoop<>(carriers, task -> {
            task.run();
            return true;
        });
    }

    private static CompletableFuture<Void> readInBackground(Carriers carriers, Carriers.Source source) {
        return CompletableFuture.runAsync(() -> {
            try {
                carriers.read(source);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    @Test
    void theCarrierThatReadsARequestsStartRunsItAndAnotherReadsNext() throws Exception {
        Carriers carriers = new Carriers("test-carrier", 2, 8, TimeUnit.SECONDS.toNanos(1));
        FakeSocket socket = new FakeSocket();
        CompletableFuture<Void> reading = readInBackground(carriers, socket);
        TaskLoop<Runnable> isolate = loop(carriers);
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        CountDownLatch ran = new CountDownLatch(1);
        CountDownLatch secondRead = new CountDownLatch(1);
        socket.messages.add(() -> isolate.add(() -> {
            ranOn.set(Thread.currentThread());
            // The next message arrives while this turn runs, and is read by another carrier.
            socket.messages.add(secondRead::countDown);
            try {
                assertThat(secondRead.await(10, TimeUnit.SECONDS)).isTrue();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ran.countDown();
        }));
        assertThat(ran.await(20, TimeUnit.SECONDS)).isTrue();
        socket.messages.add(END);
        reading.get(10, TimeUnit.SECONDS);
        assertThat(ranOn.get()).isSameAs(socket.readers.get(0));
        assertThat(socket.readers.get(1)).isNotSameAs(socket.readers.get(0));
        assertThat(carriers.readerHandOffs()).isEqualTo(1);
    }

    @Test
    void theSocketIsStillReadWhenEveryOtherCarrierRunsALongTurn() throws Exception {
        // Two carriers at most: one runs a turn that waits for a later message, the other reads.
        Carriers carriers = new Carriers("test-carrier", 1, 2, TimeUnit.SECONDS.toNanos(1));
        FakeSocket socket = new FakeSocket();
        CompletableFuture<Void> reading = readInBackground(carriers, socket);
        TaskLoop<Runnable> longTurn = loop(carriers);
        TaskLoop<Runnable> queued = loop(carriers);
        CountDownLatch cancelRead = new CountDownLatch(1);
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(2);
        socket.messages.add(() -> longTurn.add(() -> {
            // No carrier can take the reading over now: this start queues, the reader goes on reading.
            socket.messages.add(() -> queued.add(() -> {
                order.add("queued");
                done.countDown();
            }));
            socket.messages.add(cancelRead::countDown);
            try {
                assertThat(cancelRead.await(10, TimeUnit.SECONDS)).as("a later message was read meanwhile").isTrue();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            order.add("long");
            done.countDown();
        }));
        assertThat(done.await(20, TimeUnit.SECONDS)).isTrue();
        assertThat(order).containsExactly("long", "queued");
        assertThat(carriers.threadCount()).isLessThanOrEqualTo(2);
        socket.messages.add(END);
        reading.get(10, TimeUnit.SECONDS);
        assertThat(carriers.readerHandOffs()).isEqualTo(1);
    }

    @Test
    void aTurnRunsAfterOneWaitingInLineAndTheReaderIsNeverLeftVacant() throws Exception {
        // Many starts, each a short turn, some loops twice: every one runs, reading never stalls.
        Carriers carriers = new Carriers("test-carrier", 2, 4, TimeUnit.SECONDS.toNanos(1));
        FakeSocket socket = new FakeSocket();
        CompletableFuture<Void> reading = readInBackground(carriers, socket);
        List<TaskLoop<Runnable>> loops = new ArrayList<>();
        for (int i = 0; i < 20; i++) loops.add(loop(carriers));
        CountDownLatch done = new CountDownLatch(2_000);
        for (int i = 0; i < 2_000; i++) {
            TaskLoop<Runnable> l = loops.get(i % loops.size());
            socket.messages.add(() -> l.add(done::countDown));
        }
        assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        socket.messages.add(END);
        reading.get(10, TimeUnit.SECONDS);
        assertThat(carriers.threadCount()).isBetween(1, 4);
    }

    @Test
    void aFailingSourceEndsTheReadingWithItsError() {
        Carriers carriers = new Carriers("test-carrier", 1, 2, TimeUnit.SECONDS.toNanos(1));
        assertThatThrownBy(() -> carriers.read(() -> {
            throw new IOException("socket closed");
        })).isInstanceOf(IOException.class).hasMessage("socket closed");
    }

    @Test
    void inABurstTheReaderReadsOnAndAnotherCarrierRunsTheTurn() throws Exception {
        Carriers carriers = new Carriers("test-carrier", 2, 8, TimeUnit.SECONDS.toNanos(1));
        FakeSocket socket = new FakeSocket();
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
        CompletableFuture<Void> reading = readInBackground(carriers, socket);
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(secondRead.await(10, TimeUnit.SECONDS)).isTrue();
        socket.messages.add(END);
        reading.get(10, TimeUnit.SECONDS);
        assertThat(socket.readers.get(1)).isSameAs(socket.readers.get(0));
        assertThat(ranOn.get()).isNotSameAs(socket.readers.get(0));
        assertThat(carriers.readerHandOffs()).isZero();
    }
}
