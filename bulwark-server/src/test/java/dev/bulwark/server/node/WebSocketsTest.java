package dev.bulwark.server.node;

import dev.bulwark.server.config.ProjectLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * WebSockets against a real node with real client sockets (java.net.http.WebSocket). The tests with
 * the default settings share one node (each its own objects; a test's clients are closed after it and
 * the next test starts with the tenant's sandbox up); the one that sets another per-object limit
 * starts a node of its own.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class WebSocketsTest {
    @TempDir
    Path data;
    @TempDir
    static Path sharedData;
    static Node shared;
    Node node;
    final List<Client> clients = new ArrayList<>();
    static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    static final Path PROJECT = Path.of("src", "test", "resources", "sockets-project").toAbsolutePath();

    /** The class's node with the default settings (started by the first test that asks). */
    Node start() throws Exception {
        if (shared == null) shared = serve(sharedData, dev.bulwark.server.config.SandboxSettings.DEFAULT_WEBSOCKETS_PER_OBJECT);
        node = shared;
        return node;
    }

    /** A node of this test's own whose configuration sets {@code sandboxes.websockets_per_object}. */
    Node start(int websocketsPerObject) throws Exception {
        node = serve(data, websocketsPerObject);
        return node;
    }

    static Node serve(Path dataDir, int websocketsPerObject) throws Exception {
        return Node.serve(ProjectLoader.load(PROJECT, s -> s.withPort(0).withDataDir(dataDir)
                .withSandboxes(s.sandboxes().withWebsocketsPerObject(websocketsPerObject))));
    }

    @AfterEach
    void stop() {
        for (Client c : clients) {
            if (c.ws != null) c.ws.abort();
        }
        if (node != null && node != shared) node.close();
        if (node == shared) {
            // A test that killed the sandbox leaves the next one a live replacement, as a fresh node would.
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> {
                List<Long> pids = shared.supervisor().pids("sockets");
                return pids.size() == 1 && ProcessHandle.of(pids.getFirst()).map(ProcessHandle::isAlive).orElse(false);
            });
        }
    }

    @AfterAll
    static void stopShared() {
        if (shared != null) shared.close();
        shared = null;
    }

    /** A client that records what it receives. */
    static final class Client implements WebSocket.Listener {
        final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        private final StringBuilder text = new StringBuilder();
        private final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        WebSocket ws;

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                received.add(text.toString());
                text.setLength(0);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            byte[] b = new byte[data.remaining()];
            data.get(b);
            bytes.writeBytes(b);
            if (last) {
                received.add(bytes.toByteArray());
                bytes.reset();
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closed.complete(1006);
        }

        Object next() throws InterruptedException {
            Object o = received.poll(60, TimeUnit.SECONDS);
            assertThat(o).as("a message within 60 s").isNotNull();
            return o;
        }

        void send(String s) {
            ws.sendText(s, true).join();
        }
    }

    Client connect(String path) {
        Client c = new Client();
        clients.add(c);
        c.ws = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(30))
                .buildAsync(URI.create("ws://127.0.0.1:" + node.port() + path), c).join();
        return c;
    }

    @Test
    void aPlainWorkerEchoesTextAndBinaryAndClosesCleanly() throws Exception {
        start();
        Client c = connect("/echo");
        c.send("hello ✓");
        assertThat(c.next()).isEqualTo("echo: hello ✓");
        c.ws.sendBinary(ByteBuffer.wrap(new byte[] {1, 2, 3}), true).join();
        assertThat((byte[]) c.next()).containsExactly(3, 2, 1);
        for (int i = 0; i < 20; i++) c.send("m" + i);
        for (int i = 0; i < 20; i++) assertThat(c.next()).as("messages stay in order").isEqualTo("echo: m" + i);
        c.ws.sendClose(1000, "done").join();
        assertThat(c.closed.get(30, TimeUnit.SECONDS)).isEqualTo(1000);
    }

    @Test
    void aMessageOverOneMebibyteIsRefusedBothWays() throws Exception {
        start();
        Client out = connect("/big");
        out.send("go");
        assertThat((String) out.next()).startsWith("refused: WebSocket message too large");
        Client in = connect("/echo");
        in.ws.sendText("y".repeat((1 << 20) + 1), true);
        assertThat(in.closed.get(30, TimeUnit.SECONDS)).as("1009: message too big").isEqualTo(1009);
    }

    /**
     * From the attacker's side: a client that stops reading while its worker sends 24 MiB. Past the
     * node's 16 MiB for that socket the connection is dropped, releasing what was queued; a close
     * frame would have waited behind those frames for as long as the client liked (the sockets
     * have no idle timeout). What the client can still read is what the kernel buffers held.
     */
    @Test
    @Timeout(120)
    void aClientThatStopsReadingIsCutOffAtTheNodesBound() throws Exception {
        start(dev.bulwark.server.config.SandboxSettings.DEFAULT_WEBSOCKETS_PER_OBJECT); // its own: it counts open sockets
        long read;
        try (java.net.Socket raw = firehose(24)) {
            go(raw);
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> node.sockets().openSockets() == 1);
            // Not reading: the worker's 24 MiB pile up in the node until its bound, and the node lets go.
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> node.sockets().openSockets() == 0);
            raw.setSoTimeout(30_000);
            read = drain(raw);
        }
        assertThat(read).as("bytes the client could read after it stopped").isLessThan(16L << 20);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).alias("the dropped socket's bytes are given back")
                .until(() -> node.sockets().bufferedTowardClients() == 0);
    }

    /**
     * Many slow clients, each under its socket's 16 MiB, cannot add up past the node's bound
     * ({@code front_door.websocket_buffer_bytes}, here 14 MiB): the socket whose frames would pass
     * it is cut off, and the one already holding its share keeps it, whole.
     */
    @Test
    @Timeout(120)
    void slowClientsTogetherAreBoundedByTheNode() throws Exception {
        node = Node.serve(ProjectLoader.load(PROJECT, s -> s.withPort(0).withDataDir(data)
                .withFrontDoor(s.frontDoor().withWebSocketBufferBytes(14L << 20))));
        int frame = 10 + (1 << 20) - 16; // a server's frame of a 1 MiB - 16 text: 2 + 8 bytes of header
        try (java.net.Socket first = firehose(12); java.net.Socket second = firehose(12)) {
            go(first);
            // The first client's 12 MiB, less what the kernel's buffers took, settle in the node.
            long[] last = {-1};
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
                long now = node.sockets().bufferedTowardClients();
                boolean settled = now >= 8L << 20 && now == last[0];
                last[0] = now;
                return settled;
            });
            assertThat(node.sockets().openSockets()).isEqualTo(2);
            // The second asks for 12 MiB too: together they would pass 14 MiB.
            go(second);
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> node.sockets().openSockets() == 1);
            second.setSoTimeout(30_000);
            long secondRead = drain(second);
            assertThat(secondRead).as("the second client was cut off before its 12 MiB").isLessThan(12L * frame);
            // The first reads everything its worker sent.
            first.setSoTimeout(30_000);
            byte[] all = first.getInputStream().readNBytes(12 * frame);
            assertThat(all).hasSize(12 * frame);
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                    .until(() -> node.sockets().bufferedTowardClients() == 0);
        }
    }

    /** A raw client of {@code /firehose} whose worker sends {@code mib} MiB when it hears {@link #go}. */
    private java.net.Socket firehose(int mib) throws Exception {
        java.net.Socket raw = new java.net.Socket();
        raw.setReceiveBufferSize(4096);
        raw.connect(new java.net.InetSocketAddress("127.0.0.1", node.port()));
        raw.getOutputStream().write(("GET /firehose?mib=" + mib + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
                + "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        var in = raw.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) head.append((char) in.read());
        assertThat(head.toString()).startsWith("HTTP/1.1 101 ");
        return raw;
    }

    /** Sends a masked text frame "go": the firehose's worker sends what its URL asked for. */
    private static void go(java.net.Socket raw) throws java.io.IOException {
        byte[] mask = {1, 2, 3, 4};
        byte[] go = {'g', 'o'};
        raw.getOutputStream().write(new byte[] {(byte) 0x81, (byte) 0x82, mask[0], mask[1], mask[2], mask[3],
                (byte) (go[0] ^ mask[0]), (byte) (go[1] ^ mask[1])});
    }

    /** Reads until the end or a reset; the bytes read. */
    private static long drain(java.net.Socket raw) throws java.io.IOException {
        long read = 0;
        byte[] buffer = new byte[64 << 10];
        try {
            var in = raw.getInputStream();
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) read += n;
        } catch (java.net.SocketException reset) {
            // dropped with data unread on its side: as good as the end
        }
        return read;
    }

    @Test
    void aDurableObjectChatRoomWithTagsAndGetWebSockets() throws Exception {
        start();
        Client alice = connect("/chat/room1?user=alice");
        Client bob = connect("/chat/room1?user=bob");
        alice.send("hi");
        assertThat(alice.next()).isEqualTo("alice: hi");
        assertThat(bob.next()).isEqualTo("alice: hi");
        bob.send("who");
        assertThat(bob.next()).isEqualTo("{\"users\":[\"alice\",\"bob\"],\"tags\":[\"user:bob\",\"room\"],\"byTag\":1}");
        bob.ws.sendClose(1000, "bye").join();
        assertThat(alice.next()).isEqualTo("left: bob 1000");
    }

    @Test
    void aWorkerAcceptsTheSocketADurableObjectReturnedAndTalksToIt() throws Exception {
        start();
        Client alice = connect("/chat/asked?user=alice");
        String body = TestProjects.ok(node, null, "/ask/asked");
        // The worker's own socket to the object: it asked, got the answer, closed, and its close
        // was answered (its 'close' event fired, readyState CLOSED); a second accept() is refused.
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(body)).isEqualTo(
                new com.fasterxml.jackson.databind.ObjectMapper().readTree("""
                        {"answer":{"users":["alice","asker"],"tags":["user:asker","room"],"byTag":1},
                         "closed":"1000 done","state":3,"again":"TypeError: The WebSocket was already accepted."}"""));
        assertThat(alice.next()).as("the object saw the worker's close").isEqualTo("left: asker 1000");
    }

    @Test
    void aWorkerRelaysBetweenItsClientAndADurableObjectsSocket() throws Exception {
        start();
        Client alice = connect("/chat/relay?user=alice");
        Client bridged = connect("/bridge/relay");
        bridged.send("hello");
        assertThat(alice.next()).isEqualTo("bridged: hello");
        assertThat(bridged.next()).isEqualTo("via worker: bridged: hello");
        alice.send("yo");
        assertThat(alice.next()).isEqualTo("alice: yo");
        assertThat(bridged.next()).isEqualTo("via worker: alice: yo");
        bridged.ws.sendBinary(ByteBuffer.wrap(new byte[] {7, 8, 9}), true).join();
        assertThat((byte[]) bridged.next()).as("binary both ways, through two isolates").containsExactly(7, 8, 9);
        bridged.ws.sendClose(1000, "bye").join();
        assertThat(bridged.closed.get(30, TimeUnit.SECONDS)).isEqualTo(1000);
        assertThat(alice.next()).as("the worker closed its socket to the object").isEqualTo("left: bridged 1000");
    }

    @Test
    void aWorkerFloodingADurableObjectsSocketIsClosedAtTheNodesBound() throws Exception {
        start();
        assertThat(TestProjects.ok(node, null, "/flood/f1")).isEqualTo("1011 receive buffer full");
        // the object and the node go on serving
        Client c = connect("/echo-object/f1");
        c.send("after");
        assertThat((String) c.next()).endsWith(": after");
    }

    @Test
    void theAutoResponseIsAnsweredWithoutWakingTheObject() throws Exception {
        start();
        Client c = connect("/chat/auto?user=carol");
        c.send("ping");
        assertThat(c.next()).isEqualTo("pong");
        c.send("hello");
        assertThat(c.next()).isEqualTo("carol: hello");
    }

    @Test
    void hibernatedSocketsAndAttachmentsSurviveKillingTheSandbox() throws Exception {
        start();
        Client alice = connect("/chat/durable?user=alice");
        Client bob = connect("/chat/durable?user=bob");
        alice.send("born");
        String firstBorn = (String) alice.next();
        List<Long> pids = node.supervisor().pids("sockets");
        assertThat(pids).isNotEmpty();
        for (long pid : pids) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        // The sockets stay open in the node; the next message brings the object back.
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60))
                .until(() -> !node.supervisor().pids("sockets").isEmpty()
                        && node.supervisor().pids("sockets").stream().noneMatch(pids::contains));
        alice.send("born");
        String secondBorn = (String) alice.next();
        assertThat(secondBorn).as("the constructor ran again").isNotEqualTo(firstBorn);
        alice.send("who");
        assertThat(alice.next()).as("getWebSockets() and attachments came back")
                .isEqualTo("{\"users\":[\"alice\",\"bob\"],\"tags\":[\"user:alice\",\"room\"],\"byTag\":1}");
        bob.send("still here");
        assertThat(alice.next()).isEqualTo("bob: still here");
        assertThat(bob.closed).isNotDone();
    }

    /**
     * An async listener's work goes on after its event (workerd keeps the socket's context alive:
     * its timer fires and its send goes out), and it does not hold the socket's next message back
     * (workerd delivers each message as it arrives): the quick answer comes first.
     */
    @Test
    void anAsyncListenersWorkOutlivesItsEventAndDoesNotHoldTheNextMessageBack() throws Exception {
        start();
        Client c = connect("/slow");
        c.send("wait");
        c.send("now");
        assertThat(c.next()).isEqualTo("quick: now");
        assertThat(c.next()).isEqualTo("waited");
        // A timeout it set without waiting for it fires too.
        c.send("later");
        c.send("now");
        assertThat(c.next()).isEqualTo("quick: now");
        assertThat(c.next()).isEqualTo("later done");
    }

    /**
     * A flood of messages to a listener that awaits: at most 32 of the socket's events go on after
     * their answer at once; the next message waits for one of them to end (each event is an
     * invocation in the sandbox and a record in the node: they must not pile up without bound).
     */
    @Test
    void aSocketsLingeringEventsAreBounded() throws Exception {
        start();
        Client c = connect("/slow");
        int waits = SocketEventOutcome.MAX_LINGERING + 8;
        for (int i = 0; i < waits; i++) c.send("wait");
        c.send("now");
        assertThat(c.next()).as("the message past the bound waited for a lingering event to end").isEqualTo("waited");
        List<Object> rest = new java.util.ArrayList<>();
        for (int i = 0; i < waits; i++) rest.add(c.next());
        assertThat(rest).containsOnlyOnce("quick: now").filteredOn("waited"::equals).hasSize(waits - 1);
    }

    @Test
    void aDurableObjectsAsyncListenerWorkOutlivesItsEventToo() throws Exception {
        start();
        Client c = connect("/echo-object/waits");
        c.send("wait");
        c.send("m1");
        assertThat(c.next()).isEqualTo("1: m1");
        assertThat(c.next()).isEqualTo("waited");
    }

    @Test
    void aDurableObjectAcceptsWithPlainAcceptAndItsListenersUseStorage() throws Exception {
        start();
        Client c = connect("/echo-object/one");
        for (int i = 1; i <= 5; i++) c.send("m" + i);
        for (int i = 1; i <= 5; i++) assertThat(c.next()).isEqualTo(i + ": m" + i);
    }

    @Test
    void aPlainWorkersSocketIsClosedWhenItsSandboxDies() throws Exception {
        start();
        Client c = connect("/echo");
        c.send("x");
        assertThat(c.next()).isEqualTo("echo: x");
        for (long pid : node.supervisor().pids("sockets")) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        assertThat(c.closed.get(60, TimeUnit.SECONDS)).as("1011: the JS side of the socket is gone").isEqualTo(1011);
    }

    @Test
    void attachmentsAndTagsAreBoundedAsInWorkers() throws Exception {
        start();
        Client c = connect("/chat/limits?user=dora");
        c.send("big-attachment");
        assertThat((String) c.next()).startsWith("refused: serializeAttachment: the serialized attachment is ")
                .endsWith(" bytes; the limit is 2048.");
        c.send("who");
        assertThat((String) c.next()).as("the old attachment stays").contains("\"users\":[\"dora\"]");
        java.util.concurrent.CompletionException e = org.junit.jupiter.api.Assertions.assertThrows(
                java.util.concurrent.CompletionException.class, () -> connect("/chat/limits?user=eve&extraTags=9"));
        assertThat(((WebSocketHandshakeException) e.getCause()).getResponse().statusCode()).as("11 tags").isEqualTo(500);
        assertThat(connect("/chat/limits?user=fay&extraTags=8").ws).as("10 tags").isNotNull();
    }

    @Test
    void handlersInstalledAsOwnNonEnumerablePropertiesAreCalledAsTheAgentsSdkInstallsThem() throws Exception {
        start();
        Client c = connect("/agent/a1");
        c.send("hello");
        assertThat(c.next()).isEqualTo("{\"isWebSocket\":true,\"attachment\":{\"id\":\"conn-1\"},\"message\":\"hello\"}");
    }

    @Test
    void aMessageLeavesOnlyAfterTheWritesBeforeItAreDurableAcrossKill9() throws Exception {
        start();
        Client c = connect("/ledger/l1");
        for (int i = 1; i <= 3; i++) {
            c.send(Integer.toString(i));
            assertThat(c.next()).isEqualTo("stored " + i);
            // Acknowledged: the write is on disk, whatever happens to the sandbox now.
            List<Long> pids = node.supervisor().pids("sockets");
            for (long pid : pids) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60))
                    .until(() -> !node.supervisor().pids("sockets").isEmpty()
                            && node.supervisor().pids("sockets").stream().noneMatch(pids::contains));
            c.send("get");
            assertThat(c.next()).isEqualTo("have " + i);
        }
    }

    @Test
    void manyNearSimultaneousConnectsToOneObjectAreAllAcceptedAndHibernatable() throws Exception {
        start();
        List<Client> clients = new ArrayList<>();
        List<CompletableFuture<WebSocket>> attempts = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            Client c = new Client();
            clients.add(c);
            this.clients.add(c);
            attempts.add(http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(120))
                    .buildAsync(URI.create("ws://127.0.0.1:" + node.port() + "/chat/busy?user=u" + i), c));
        }
        for (int i = 0; i < attempts.size(); i++) clients.get(i).ws = attempts.get(i).get(180, TimeUnit.SECONDS);
        Client last = clients.get(199);
        last.send("who");
        String reply;
        do reply = (String) last.next(); while (!reply.startsWith("{"));
        assertThat(java.util.regex.Pattern.compile("\"u\\d+\"").matcher(reply).results().count()).isEqualTo(200);
    }

    @Test
    void hostileAThousandSocketsToOneObjectAreBoundedByThePerObjectLimit() throws Exception {
        start(50);
        List<CompletableFuture<WebSocket>> attempts = new ArrayList<>();
        List<Client> clients = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            Client c = new Client();
            clients.add(c);
            attempts.add(http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(120))
                    .buildAsync(URI.create("ws://127.0.0.1:" + node.port() + "/chat/crowd?user=u" + i), c));
        }
        int open = 0, refused = 0;
        for (CompletableFuture<WebSocket> a : attempts) {
            try {
                a.get(180, TimeUnit.SECONDS);
                open++;
            } catch (java.util.concurrent.ExecutionException e) {
                assertThat(e.getCause()).isInstanceOf(WebSocketHandshakeException.class);
                WebSocketHandshakeException h = (WebSocketHandshakeException) e.getCause();
                assertThat(h.getResponse().statusCode()).isEqualTo(429);
                refused++;
            }
        }
        assertThat(open).isEqualTo(50);
        assertThat(refused).isEqualTo(950);
        // The refusal says why, to a plain request too.
        String answer;
        try (java.net.Socket raw = new java.net.Socket("127.0.0.1", node.port())) {
            raw.setSoTimeout(60_000);
            raw.getOutputStream().write(("GET /chat/crowd?user=late HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
                    + "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            var in = new java.io.DataInputStream(raw.getInputStream());
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) head.append((char) in.readUnsignedByte());
            // The body is chunked: read up to the end of its JSON.
            StringBuilder body = new StringBuilder();
            while (!body.toString().contains("}}")) body.append((char) in.readUnsignedByte());
            answer = head.toString() + body;
        }
        assertThat(answer).startsWith("HTTP/1.1 429 ").contains("\"code\":\"too_many_websockets\"")
                .contains("the durable object holds 50; the limit is 50");
        // The object's own count stays exact: the refused sockets are gone from getWebSockets().
        Client first = clients.get(attempts.indexOf(attempts.stream().filter(a -> !a.isCompletedExceptionally()).findFirst().orElseThrow()));
        first.ws = attempts.get(clients.indexOf(first)).join();
        java.util.regex.Pattern user = java.util.regex.Pattern.compile("\"u\\d+\"");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> {
            first.send("who");
            String reply;
            do reply = (String) first.next(); while (!reply.startsWith("{")); // skip "left: ..." of refused sockets
            return user.matcher(reply).results().count() == 50;
        });
    }
}
