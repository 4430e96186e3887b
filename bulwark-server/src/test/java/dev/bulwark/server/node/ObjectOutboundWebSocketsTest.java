package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.server.config.EgressSettings;
import dev.bulwark.server.config.ProjectConfig;
import dev.bulwark.server.config.ProjectLoader;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A durable object's outbound WebSocket, as workerd has it: the socket belongs to the object (the
 * actor's one IoContext), not to the request that opened it; its events are the object's, through
 * its input gate; the object is not evicted while it is open; it closes when the object is reset
 * or its sandbox dies; no other object or tenant can use it. Project {@code dows-project} against
 * a Jetty echo server on 127.0.0.1 (egress allows loopback for this node only).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ObjectOutboundWebSocketsTest {
    @TempDir
    static Path data;
    static Node node;
    static String tenant;
    static Server upstream;
    static int port;
    /** "code reason" of every close the server saw. */
    static final BlockingQueue<String> closes = new LinkedBlockingQueue<>();
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** Echoes every message; records each close. */
    public static final class Echo implements Session.Listener.AutoDemanding {
        private Session session;

        @Override
        public void onWebSocketOpen(Session session) {
            this.session = session;
        }

        @Override
        public void onWebSocketText(String message) {
            session.sendText(message, Callback.NOOP);
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
            ByteBuffer copy = ByteBuffer.allocate(payload.remaining()).put(payload).flip();
            callback.succeed();
            session.sendBinary(copy, Callback.NOOP);
        }

        @Override
        public void onWebSocketClose(int statusCode, String reason) {
            closes.add(statusCode + " " + reason);
        }
    }

    @BeforeAll
    static void start() throws Exception {
        upstream = new Server();
        ServerConnector connector = new ServerConnector(upstream);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        upstream.addConnector(connector);
        upstream.setHandler(WebSocketUpgradeHandler.from(upstream, c -> c.addMapping("/echo", (rq, rs, cb) -> new Echo())));
        upstream.start();
        port = connector.getLocalPort();
        ProjectConfig project = ProjectLoader.load(Path.of("src", "test", "resources", "dows-project").toAbsolutePath(),
                s -> s.withPort(0).withDataDir(data).withEgress(new EgressSettings(List.of("127.0.0.1"), false)
                        .withTestOnlyLoopbackAllowed()));
        node = Node.serve(project);
        tenant = node.worker(project).tenant();
    }

    @AfterAll
    static void stop() throws Exception {
        if (node != null) node.close();
        if (upstream != null) upstream.stop();
    }

    @BeforeEach
    void forgetCloses() {
        closes.clear();
    }

    static String get(String object, String path) throws Exception {
        String sep = path.contains("?") ? "&" : "?";
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + path + sep
                + "name=" + URLEncoder.encode(object, StandardCharsets.UTF_8))).timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofString());
        return r.body();
    }

    /** The object's log ("born readyState events"), once it holds {@code expected}. */
    static String logOnce(String object, String expected) {
        String[] last = new String[1];
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> (last[0] = get(object, "/log")).contains(expected));
        return last[0];
    }

    /** Opens the object's socket; returns the node's id of it. */
    static long openedId(String object) throws Exception {
        Set<Long> before = node.egress.outboundSockets().ids();
        open(object, "fetch");
        Set<Long> after = new java.util.HashSet<>(node.egress.outboundSockets().ids());
        after.removeAll(before);
        assertThat(after).hasSize(1);
        return after.iterator().next();
    }

    static String open(String object, String how) throws Exception {
        String opened = get(object, "/open?how=" + how + "&port=" + port);
        assertThat(opened).startsWith("opened ");
        return opened.substring("opened ".length());
    }

    @Test
    void aSocketOpenedInOneRequestServesTheObjectsLaterRequests() throws Exception {
        for (String how : List.of("fetch", "ctor")) {
            String object = "later-" + how;
            String born = open(object, how);
            // The request that opened it is over; a later one sends, and the server's answer reaches
            // the socket's listener as an event of the object.
            assertThat(get(object, "/send?text=hello")).isEqualTo("sent");
            assertThat(logOnce(object, "message:hello")).isEqualTo(born + " 1 message:hello");
            assertThat(get(object, "/send?text=again")).isEqualTo("sent");
            assertThat(logOnce(object, "message:again")).isEqualTo(born + " 1 message:hello|message:again");
            assertThat(get(object, "/close")).isEqualTo("closed");
            assertThat(closes.poll(10, TimeUnit.SECONDS)).isEqualTo("4100 the object closes");
            assertThat(logOnce(object, "close:")).isEqualTo(born + " 3 message:hello|message:again|close:4100:the object closes");
        }
    }

    @Test
    void aConstructorsHandshakeMayEndAfterTheRequestThatStartedIt() throws Exception {
        String opening = get("late", "/open-late?port=" + port);
        assertThat(opening).startsWith("opening ");
        String born = opening.substring("opening ".length());
        assertThat(logOnce("late", " open")).isEqualTo(born + " 1 open");
        assertThat(get("late", "/send?text=late")).isEqualTo("sent");
        assertThat(logOnce("late", "message:late")).isEqualTo(born + " 1 open|message:late");
        assertThat(get("late", "/close")).isEqualTo("closed");
        assertThat(closes.poll(10, TimeUnit.SECONDS)).isEqualTo("4100 the object closes");
    }

    @Test
    void theServersMessageWaitsForTheObjectsInputGate() throws Exception {
        String born = open("gated", "fetch");
        // blockConcurrencyWhile sends, and the echo comes back while the gate is shut: its event is
        // delivered after the callback ends (delivered as a plain worker's, it ran in between).
        assertThat(get("gated", "/block")).isEqualTo("blocked");
        assertThat(logOnce("gated", "message:during-block")).isEqualTo(born + " 1 block:start|block:end|message:during-block");
    }

    @Test
    void aRequestWaitsWhileTheSocketsEventHoldsTheGateWithATransaction() throws Exception {
        String born = open("txn", "fetch");
        assertThat(get("txn", "/send?text=txn")).isEqualTo("sent");
        // Whenever a request sees the message, the transaction its event began is over: the request
        // was held at the gate until then.
        String log = logOnce("txn", "message:txn");
        assertThat(log).isEqualTo(born + " 1 message:txn|txn:start|txn:end");
    }

    @Test
    void anObjectHoldingAnOpenSocketIsNotEvictedButOneWithoutIs() throws Exception {
        String idle = get("idle", "/log").split(" ")[0];
        String born = open("held", "fetch");
        Thread.sleep(5_000); // past the idle time (1.5 s) and a sweep or two
        assertThat(get("idle", "/log").split(" ")[0]).isNotEqualTo(idle); // evicted, constructed again
        assertThat(get("held", "/send?text=still").split(" ")[0]).isEqualTo("sent");
        assertThat(logOnce("held", "message:still")).isEqualTo(born + " 1 message:still");
        assertThat(get("held", "/close")).isEqualTo("closed");
        assertThat(closes.poll(10, TimeUnit.SECONDS)).isEqualTo("4100 the object closes");
    }

    @Test
    void theSocketClosesWhenTheObjectIsReset() throws Exception {
        String born = get("reset", "/log").split(" ")[0];
        long id = openedId("reset");
        assertThat(get("reset", "/abort")).contains("\"worker_threw\"");
        assertThat(closes.poll(10, TimeUnit.SECONDS)).isEqualTo("1001 the durable object was reset");
        // The next request constructs the object again: no socket, nothing heard.
        String after = get("reset", "/log");
        assertThat(after).doesNotStartWith(born).endsWith(" none ");
        await().atMost(Duration.ofSeconds(10)).until(() -> !node.egress.outboundSockets().ids().contains(id));
    }

    @Test
    void theSocketClosesWhenTheObjectsIsolateIsCondemned() throws Exception {
        String born = get("spun", "/log").split(" ")[0];
        long id = openedId("spun");
        // The front worker runs in the same isolate: its request fails with the reset too.
        assertThat(get("spun", "/spin")).contains("\"isolate_reset\"");
        assertThat(closes.poll(20, TimeUnit.SECONDS)).isEqualTo("1001 the isolate holding the WebSocket was reset");
        await().atMost(Duration.ofSeconds(10)).until(() -> !node.egress.outboundSockets().ids().contains(id));
        String after = get("spun", "/log");
        assertThat(after).doesNotStartWith(born).endsWith(" none ");
    }

    @Test
    void theSocketClosesWhenTheObjectsSandboxIsKilled() throws Exception {
        long id = openedId("killed");
        List<Long> pids = node.supervisor().pids(tenant);
        assertThat(pids).isNotEmpty();
        for (long pid : pids) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        assertThat(closes.poll(20, TimeUnit.SECONDS)).isEqualTo("1001 the worker's sandbox is gone");
        await().atMost(Duration.ofSeconds(10)).until(() -> !node.egress.outboundSockets().ids().contains(id));
        await().atMost(Duration.ofSeconds(60)).until(() -> !node.supervisor().pids(tenant).isEmpty()
                && node.supervisor().pids(tenant).stream().noneMatch(pids::contains));
        assertThat(get("killed", "/log")).endsWith(" none ");
    }

    @Test
    void anotherObjectOfTheIsolateCannotUseTheSocket() throws Exception {
        String born = open("owner", "fetch");
        // "thief" finds the socket in a module global (same isolate: isolates_per_worker 1).
        assertThat(get("thief", "/steal")).isEqualTo("Error: Cannot perform I/O on behalf of a different Durable Object. "
                + "I/O objects (such as streams, request/response bodies, and others) created in the context of one Durable "
                + "Object cannot be accessed from a different Durable Object in the same isolate. This is a limitation of "
                + "Cloudflare Workers which allows us to improve overall performance.");
        assertThat(get("owner", "/send?text=mine")).isEqualTo("sent");
        assertThat(logOnce("owner", "message:mine")).isEqualTo(born + " 1 message:mine");
        assertThat(get("owner", "/close")).isEqualTo("closed");
        assertThat(closes.poll(10, TimeUnit.SECONDS)).as("its close reached the server (not left for the next test)").isEqualTo("4100 the object closes");
    }

    @Test
    void anotherTenantsSandboxCannotSendOnOrClaimTheSocket() throws Exception {
        node.deploy(new DeployedWorker("other", "t-other", OutboundWebSocketsTest.bundle(
                "export default { fetch() { return new Response('other'); } };"), "{}", Limits.DEFAULTS));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/"))
                .header("Host", "other.localhost").timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.body()).isEqualTo("other");
        OutboundSockets sockets = node.egress.outboundSockets();
        String born = get("victim", "/log").split(" ")[0];
        long id = openedId("victim");
        SandboxProcess other = node.supervisor().processes().stream().filter(p -> p.tenant().equals("t-other")).findFirst().orElseThrow();
        // Messages about it from the other tenant's sandbox are taken and dropped.
        assertThat(sockets.fromSandbox(other, new Message.SocketSend(-id, "evil", null))).isTrue();
        assertThat(sockets.fromSandbox(other, new Message.SocketClose(-id, 4000, "evil close"))).isTrue();
        assertThat(get("victim", "/send?text=fine")).isEqualTo("sent");
        assertThat(logOnce("victim", "message:fine")).isEqualTo(born + " 1 message:fine");
        assertThat(closes).isEmpty();
        assertThat(get("victim", "/close")).isEqualTo("closed");
        assertThat(closes.poll(10, TimeUnit.SECONDS)).isEqualTo("4100 the object closes");
    }

    @Test
    void anObjectsSocketBytesAreLoggedWhenItClosesAfterItsOpener() throws Exception {
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logs = new ch.qos.logback.core.read.ListAppender<>();
        logs.start();
        ch.qos.logback.classic.Logger egress = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("bulwark.egress");
        egress.addAppender(logs);
        try {
            String born = open("metered", "fetch");
            assertThat(get("metered", "/send?text=h%C3%A9llo")).isEqualTo("sent"); // 6 bytes in UTF-8
            assertThat(logOnce("metered", "message:h")).isEqualTo(born + " 1 message:h\u00e9llo");
            assertThat(get("metered", "/close")).isEqualTo("closed");
            assertThat(closes.poll(10, TimeUnit.SECONDS)).as("its close reached the server (not left for the next test)").isEqualTo("4100 the object closes");
            com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
            await().atMost(Duration.ofSeconds(20)).until(() -> List.copyOf(logs.list).stream()
                    .anyMatch(e -> e.getFormattedMessage().contains("\"webSocket\"")));
            List<String> lines = new java.util.ArrayList<>();
            for (var e : List.copyOf(logs.list)) {
                var line = json.readTree(e.getFormattedMessage());
                if (line.has("webSocket")) {
                    var w = line.get("webSocket");
                    lines.add(w.get("host").asText() + " in=" + w.get("bytesIn").asLong() + " out=" + w.get("bytesOut").asLong());
                } else if (line.has("outbound")) {
                    var first = line.get("outbound").get("first").get(0);
                    lines.add("opener " + first.get("status").asInt() + " in=" + first.get("bytesIn").asLong()
                            + " out=" + first.get("bytesOut").asLong());
                }
            }
            // The opener's record has the handshake (no frame during it); the socket's line all of it.
            assertThat(lines).containsExactly("opener 101 in=0 out=0", "127.0.0.1 in=6 out=6");
        } finally {
            egress.detachAppender(logs);
        }
    }
}
