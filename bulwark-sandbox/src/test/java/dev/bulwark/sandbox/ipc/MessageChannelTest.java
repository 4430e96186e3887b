package dev.bulwark.sandbox.ipc;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Direct posts (the node's end of a sandbox channel): never blocking, never reordering. */
class MessageChannelTest {
    @TempDir
    Path dir;

    /** Both ends of a connected pair: the poster's (direct posts) and the peer's. */
    private record Pair(MessageChannel poster, MessageChannel peer) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            poster.close();
            peer.close();
        }
    }

    private Pair pair() throws Exception {
        Path path = dir.resolve("s.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(path));
            // As the node and a sandbox: a socket per direction (MessageChannel.connect and accept).
            MessageChannel peer = MessageChannel.connect(path);
            return new Pair(MessageChannel.accept(server, MessageCodec.MAX_FRAME, true), peer);
        }
    }

    @Test
    @Timeout(30)
    void postsNeverBlockOnAPeerThatDoesNotReadAndKeepEachThreadsOrder() throws Exception {
        try (Pair p = pair()) {
            assertThat(p.poster().postsDirectly()).as("direct posts need --add-exports java.base/sun.nio.ch").isTrue();
            // Far more than the socket's buffer holds, from three threads, while the peer reads nothing:
            // frames go whole, in part (the rest through the writer) and queued behind those.
            int threads = 3, each = 400;
            byte[] piece = new byte[9_000];
            List<CompletableFuture<Void>> posters = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long base = (long) t << 32;
                posters.add(CompletableFuture.runAsync(() -> {
                    try {
                        for (int i = 0; i < each; i++) p.poster().post(new Message.CallChunk(base + i, piece));
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                }, r -> Thread.ofPlatform().start(r)));
            }
            // Every post returned although nobody reads: nothing blocked on the full socket.
            CompletableFuture.allOf(posters.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
            long[] next = new long[threads];
            for (int n = 0; n < threads * each; n++) {
                Message.CallChunk c = (Message.CallChunk) p.peer().receive();
                int t = (int) (c.callId() >>> 32);
                assertThat(c.callId() & 0xffffffffL).as("thread %d's messages in the order it posted them", t).isEqualTo(next[t]);
                assertThat(c.data()).hasSize(piece.length);
                next[t]++;
            }
        }
    }

    @Test
    @Timeout(30)
    void aPostNeverOvertakesWhatWasSentOrPostedBefore() throws Exception {
        try (Pair p = pair()) {
            int rounds = 200;
            CompletableFuture<List<Long>> read = CompletableFuture.supplyAsync(() -> {
                List<Long> seen = new ArrayList<>();
                try {
                    for (int i = 0; i < rounds * 4; i++) {
                        Message m = p.peer().receive();
                        seen.add(m instanceof Message.CallChunk c ? -c.callId() : ((Message.CallEnd) m).callId());
                        if (i % 50 == 0) Thread.sleep(1); // a slow reader: the socket fills now and then
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
                return seen;
            }, r -> Thread.ofPlatform().start(r));
            byte[] large = new byte[60_000]; // whole, in part or queued, by how full the socket is
            for (int round = 0; round < rounds; round++) {
                long k = round * 10L;
                p.poster().post(new Message.CallChunk(k + 1, large));
                p.poster().post(new Message.CallEnd(k + 1, null));
                p.poster().send(new Message.CallEnd(k + 2, null));
                p.poster().post(new Message.CallEnd(k + 3, null));
            }
            List<Long> order = read.get(20, TimeUnit.SECONDS);
            for (int round = 0; round < rounds; round++) {
                long k = round * 10L;
                // A send may overtake posts still queued (as before); a post overtakes nothing, and no frame is cut.
                assertThat(order.indexOf(-(k + 1))).isLessThan(order.indexOf(k + 1));
                assertThat(order.indexOf(k + 1)).isLessThan(order.indexOf(k + 3));
                assertThat(order.indexOf(k + 2)).isGreaterThanOrEqualTo(0).isLessThan(order.indexOf(k + 3));
                if (round > 0) assertThat(order.indexOf(k - 10 + 3)).isLessThan(order.indexOf(k + 3));
            }
        }
    }

    /**
     * A reader waiting for its next message sleeps while the peer reads what this end sent. Over
     * one full-duplex Unix socket it did not: each message the peer read freed space charged to
     * this end, and Linux woke this end's blocked reader for it (a voluntary context switch per
     * message, counted here from /proc).
     */
    @Test
    @Timeout(30)
    void aBlockedReaderIsNotWokenWhenThePeerReadsWhatThisEndSent() throws Exception {
        try (Pair p = pair()) {
            CompletableFuture<Message> next = new CompletableFuture<>();
            Thread reader = Thread.ofPlatform().name("idle-reader").start(() -> {
                try {
                    next.complete(p.peer().receive());
                } catch (IOException e) {
                    next.completeExceptionally(e);
                }
            });
            Path task = taskOf("idle-reader");
            long before = sleepsAfterSettling(task);
            int rounds = 100;
            for (int i = 0; i < rounds; i++) {
                p.peer().send(new Message.CallEnd(i, null));
                assertThat(((Message.CallEnd) p.poster().receive()).callId()).isEqualTo(i);
                Thread.sleep(1); // the reader, if woken, is asleep again before the next round
            }
            long woken = voluntarySwitches(task) - before;
            p.poster().send(new Message.CallEnd(-1, null));
            assertThat(((Message.CallEnd) next.get(10, TimeUnit.SECONDS)).callId()).isEqualTo(-1);
            reader.join();
            assertThat(woken).as("wake-ups of the idle reader while the peer read %d messages", rounds).isLessThan(5);
        }
    }

    /** The /proc entry of this process's thread named {@code name}, once the thread has started. */
    private static Path taskOf(String name) throws Exception {
        for (int tries = 0; tries < 1_000; tries++) {
            try (var tasks = java.nio.file.Files.list(Path.of("/proc/self/task"))) {
                for (Path t : tasks.toList()) {
                    if (java.nio.file.Files.readString(t.resolve("comm")).strip().equals(name)) return t;
                }
            }
            Thread.sleep(5);
        }
        throw new AssertionError("no thread named " + name);
    }

    /** The thread's voluntary context switches, once it has blocked for good (the count holds still). */
    private static long sleepsAfterSettling(Path task) throws Exception {
        long last = -1;
        for (int tries = 0; tries < 200; tries++) {
            Thread.sleep(20);
            long now = voluntarySwitches(task);
            if (now == last) return now;
            last = now;
        }
        throw new AssertionError("the reader never settled");
    }

    private static long voluntarySwitches(Path task) throws IOException {
        for (String line : java.nio.file.Files.readAllLines(task.resolve("status"))) {
            if (line.startsWith("voluntary_ctxt_switches:")) return Long.parseLong(line.substring(24).strip());
        }
        throw new IOException("no voluntary_ctxt_switches in " + task);
    }
}
