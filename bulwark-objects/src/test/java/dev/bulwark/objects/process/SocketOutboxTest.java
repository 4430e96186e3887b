package dev.bulwark.objects.process;

import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.ipc.MessageChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The sandbox's way out: what one task holds never leaves with another task's flush. */
class SocketOutboxTest {
    private Path dir;
    private MessageChannel sandboxEnd, nodeEnd;
    private SandboxMain.SocketOutbox outbox;

    @BeforeEach
    void connect() throws Exception {
        dir = Files.createTempDirectory("outbox");
        Path path = dir.resolve("s");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(path));
            SocketChannel client = SocketChannel.open(StandardProtocolFamily.UNIX);
            client.connect(UnixDomainSocketAddress.of(path));
            nodeEnd = new MessageChannel(server.accept());
            sandboxEnd = new MessageChannel(client);
        }
        outbox = new SandboxMain.SocketOutbox(sandboxEnd);
    }

    @AfterEach
    void close() throws Exception {
        sandboxEnd.close();
        nodeEnd.close();
        Files.deleteIfExists(dir.resolve("s"));
        Files.deleteIfExists(dir);
    }

    private Message next() throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return nodeEnd.receive();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }).get(10, TimeUnit.SECONDS);
    }

    private static Message.LogLine log(String text) {
        return new Message.LogLine("w", 1, "log", text, 0);
    }

    @Test
    void whatATaskHeldIsGoneOnceDiscarded() throws Exception {
        // Its writes did not commit: nothing it said may leave, and its next task starts empty.
        outbox.sendLater(new Message.ResponseHead(7, 200, "", List.of()));
        outbox.discard();
        outbox.flush();
        outbox.sendLater(log("next task"));
        outbox.flush();
        outbox.idle();
        assertThat(next()).isEqualTo(log("next task"));
    }

    @Test
    void anotherThreadsFlushDoesNotSendWhatATaskHoldsBeforeItsEnd() throws Exception {
        Message.ResponseHead uncommitted = new Message.ResponseHead(7, 200, "", List.of());
        java.util.concurrent.ExecutorService isolateA = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            // Task A (another isolate thread) says something, then goes on (its writes not yet committed).
            isolateA.submit(() -> outbox.sendLater(uncommitted)).get();
            // Task B ends on this thread and flushes.
            outbox.sendLater(log("from B"));
            outbox.flush();
            assertThat(next()).as("only B's message left").isEqualTo(log("from B"));
            // A's task ends: now its message leaves.
            isolateA.submit(outbox::flush).get();
            assertThat(next()).isEqualTo(uncommitted);
        } finally {
            isolateA.shutdownNow();
        }
    }

    @Test
    void bookkeepingAloneWaitsForTheNextOutputAndKeepsItsPlaceBeforeIt() throws Exception {
        outbox.sendLater(new Message.LocalInvocation(LOCAL_ID, 1, OBJECT, false));
        outbox.sendLater(new Message.InvocationDone(LOCAL_ID, 3));
        outbox.flush(); // bookkeeping only: may wait
        outbox.sendLater(log("next"));
        outbox.flush();
        assertThat(next()).isEqualTo(new Message.LocalInvocation(LOCAL_ID, 1, OBJECT, false));
        assertThat(next()).isEqualTo(new Message.InvocationDone(LOCAL_ID, 3));
        assertThat(next()).isEqualTo(log("next"));
    }

    @Test
    void bookkeepingLeavesWhenTheWriterGoesIdle() throws Exception {
        outbox.sendLater(new Message.InvocationDone(5, 3));
        outbox.flush();
        outbox.idle();
        assertThat(next()).isEqualTo(new Message.InvocationDone(5, 3));
    }

    private static final long LOCAL_ID = (1L << 52) | 9;
    private static final dev.bulwark.sandbox.ipc.Address.DurableObject OBJECT =
            new dev.bulwark.sandbox.ipc.Address.DurableObject("w", "Obj", "0".repeat(64), "a");
}
