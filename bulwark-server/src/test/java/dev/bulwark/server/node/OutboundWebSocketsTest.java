package dev.bulwark.server.node;

import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import dev.bulwark.server.config.EgressSettings;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A worker as a WebSocket client ({@code fetch(url, {headers: {Upgrade: "websocket"}})}), against
 * a Jetty WebSocket server on 127.0.0.1 that this test starts, reached through a node whose
 * egress allows loopback for this test only; and a second node with the default address rules,
 * which must refuse the same server.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class OutboundWebSocketsTest {
    @TempDir
    static Path data;
    @TempDir
    static Path strictData;
    @TempDir
    static Path objectData;
    static Node node, strict, objects;
    static Server upstream;
    static int port;
    /** "code reason" of every close the upstream saw. */
    static final BlockingQueue<String> closes = new LinkedBlockingQueue<>();
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    static final String WORKER = """
            const base = (env) => 'http://127.0.0.1:' + env.WS;
            let atGlobalScope;
            try { new WebSocket('ws://127.0.0.1:1/'); atGlobalScope = 'no error'; } catch (e) { atGlobalScope = e.name + ': ' + e.message; }
            async function open(env, path) {
              const resp = await fetch(base(env) + path, { headers: { Upgrade: 'websocket' } });
              return resp;
            }
            function collect(ws, n) {
              const got = [];
              return new Promise((resolve) => {
                ws.addEventListener('message', (e) => {
                  got.push(typeof e.data === 'string' ? 'text:' + e.data : 'binary:' + new Uint8Array(e.data).join(','));
                  if (got.length === n) resolve(got);
                });
                ws.addEventListener('close', (e) => resolve(got.concat(['close:' + e.code + ':' + e.reason + ':' + e.wasClean])));
              });
            }
            function closed(ws) {
              return new Promise((resolve) => ws.addEventListener('close', (e) => resolve(e.code + ':' + e.reason + ':' + e.wasClean)));
            }
            export default {
              async fetch(request, env, ctx) {
                const url = new URL(request.url);
                const q = url.searchParams;
                try {
                  switch (url.pathname) {
                    case '/roundtrip': {
                      const resp = await open(env, '/echo');
                      const ws = resp.webSocket;
                      ws.accept();
                      ws.binaryType = 'arraybuffer';
                      const messages = collect(ws, 2);
                      ws.send('hello');
                      ws.send(new Uint8Array([1, 2, 3, 255]));
                      const got = await messages;
                      const end = closed(ws);
                      ws.close(4321, 'worker says bye');
                      return new Response([resp.status, String(ws instanceof WebSocket), got.join('|'), await end].join(' '));
                    }
                    case '/serverclose': {
                      const ws = (await open(env, '/echo')).webSocket;
                      ws.accept();
                      const end = closed(ws);
                      ws.send('close:4007:server says bye');
                      return new Response(await end);
                    }
                    case '/refused': {
                      const resp = await open(env, q.get('path'));
                      return new Response([String(resp.webSocket), resp.status, await resp.text()].join(' '));
                    }
                    case '/big': {
                      const ws = (await open(env, '/echo')).webSocket;
                      ws.accept();
                      const got = collect(ws, 1);
                      ws.send('big');
                      return new Response((await got).join('|'));
                    }
                    case '/send-too-big': {
                      const ws = (await open(env, '/echo')).webSocket;
                      ws.accept();
                      try { ws.send('x'.repeat((1 << 20) + 1)); return new Response('sent'); }
                      catch (e) { ws.close(1000, 'done'); return new Response(e.name + ': ' + e.message); }
                    }
                    case '/leave': {
                      const ws = (await open(env, '/echo')).webSocket;
                      ws.accept();
                      const got = collect(ws, 1);
                      ws.send('still here');
                      await got;
                      return new Response('left it open');
                    }
                    case '/proxy': {
                      // A client's WebSocket relayed to the server's: the upstream outlives this invocation.
                      const up = (await open(env, '/echo')).webSocket;
                      up.accept();
                      const [client, server] = Object.values(new WebSocketPair());
                      server.accept();
                      server.addEventListener('message', (e) => up.send(e.data));
                      up.addEventListener('message', (e) => server.send('via upstream: ' + e.data));
                      return new Response(null, { status: 101, webSocket: client });
                    }
                    case '/ctor': {
                      // new WebSocket(url, protocols): connects by itself, 'open' when it has.
                      const ws = new WebSocket('ws://127.0.0.1:' + env.WS + q.get('path'), ['chat', 'superchat']);
                      const first = ws.readyState;
                      const events = [];
                      const over = new Promise((resolve) => {
                        ws.addEventListener('open', () => { events.push('open:' + ws.readyState + ':' + ws.protocol); ws.send('ctor hello'); });
                        ws.addEventListener('message', (e) => { events.push('message:' + e.data); ws.close(1000, 'ctor done'); });
                        ws.addEventListener('error', (e) => events.push('error:' + e.message));
                        ws.addEventListener('close', (e) => { events.push('close:' + e.code + ':' + e.reason + ':' + e.wasClean); resolve(); });
                      });
                      let acceptError = '';
                      try { ws.accept(); } catch (e) { acceptError = e.name + ': ' + e.message; }
                      await over;
                      return new Response([first, ws.readyState, ws.url, acceptError, events.join('|')].join('\\n'));
                    }
                    case '/global': return new Response(atGlobalScope);
                    case '/ctor-bad': {
                      const out = [];
                      for (const [u, p] of [['http://127.0.0.1/', undefined], ['ws://127.0.0.1/#x', undefined], ['ws://127.0.0.1/', []],
                          ['ws://127.0.0.1/', ['a', 'a']], ['ws://127.0.0.1/', 'a b']]) {
                        try { new WebSocket(u, p); out.push('no error'); } catch (e) { out.push(e.name + ': ' + e.message); }
                      }
                      return new Response(out.join('\\n'));
                    }
                    case '/flood': {
                      // A server that never reads: the node holds at most 16 MiB for it, then drops it.
                      const ws = (await fetch('http://127.0.0.1:' + env.STALL + '/', { headers: { Upgrade: 'websocket' } })).webSocket;
                      ws.accept();
                      const end = closed(ws);
                      const chunk = new Uint8Array(1 << 20);
                      for (let i = 0; i < 64; i++) ws.send(chunk);
                      return new Response(await end);
                    }
                    case '/count': {
                      // Each handshake is a subrequest of the invocation (the limit here: 2).
                      const out = [];
                      for (let i = 0; i < 3; i++) {
                        try { const ws = (await open(env, '/echo')).webSocket; ws.accept(); ws.close(1000); out.push('opened'); }
                        catch (e) { out.push(e.name + ': ' + e.message); }
                      }
                      return new Response(out.join('|'));
                    }
                    case '/fetch-ws': {
                      // fetch() takes http(s) URLs; a ws:// URL is for new WebSocket().
                      await fetch('ws://127.0.0.1:' + env.WS + '/echo', { headers: { Upgrade: 'websocket' } });
                      return new Response('fetched');
                    }
                    case '/linger': {
                      // waitUntil keeps the invocation, and with it the socket, after the response.
                      const ws = (await open(env, '/echo')).webSocket;
                      ws.accept();
                      ctx.waitUntil(new Promise((resolve) => ws.addEventListener('message', (e) => {
                        ws.close(1000, 'after the response: ' + e.data);
                        resolve();
                      })));
                      setTimeout(() => ws.send('late'), 300);
                      return new Response('answered');
                    }
                    case '/passthrough':
                      // The server's socket returned unaccepted: the client talks to the server through the node.
                      return fetch(base(env) + '/echo', { headers: { Upgrade: 'websocket' } });
                    case '/fail': {
                      await open(env, '/echo');
                      return new Response('opened');
                    }
                    default: return new Response('no such test', { status: 404 });
                  }
                } catch (e) {
                  return new Response(e.name + ': ' + e.message);
                }
              }
            };""";

    /**
     * Dynamic children: with globalOutbound null (no WebSocket either), or with the parent's own
     * entrypoint as globalOutbound (the upgrade goes to it, and its 101 comes back as a WebSocket).
     */
    static final String PARENT = """
            import { WorkerEntrypoint } from 'cloudflare:workers';
            export class Interceptor extends WorkerEntrypoint {
              async fetch(request) {
                if (request.headers.get('Upgrade') !== 'websocket') return new Response('not a WebSocket', { status: 426 });
                const [client, server] = Object.values(new WebSocketPair());
                server.accept();
                server.addEventListener('message', (e) => server.send('intercepted ' + e.data + ' for ' + request.url));
                return new Response(null, { status: 101, webSocket: client });
              }
            }
            const CHILD = `export default { async fetch() {
              try {
                const resp = await fetch('http://upstream.example/chat', { headers: { Upgrade: 'websocket' } });
                const ws = resp.webSocket;
                ws.accept();
                const got = new Promise((resolve) => ws.addEventListener('message', (e) => resolve(e.data)));
                ws.send('hi');
                return new Response(resp.status + ' ' + await got);
              } catch (e) { return new Response(e.name + ': ' + e.message); } } };`;
            export default {
              async fetch(request, env, ctx) {
                const intercepted = new URL(request.url).pathname === '/intercepted';
                const child = env.LOADER.load({ compatibilityDate: '2025-06-01', mainModule: 'm.js',
                  globalOutbound: intercepted ? ctx.exports.Interceptor : null, modules: { 'm.js': CHILD } });
                return child.getEntrypoint().fetch(request);
              }
            };""";

    /** The upstream: an echo endpoint at /echo; "close:CODE:REASON" makes it close, "big" sends 2 MiB. */
    public static final class Echo implements Session.Listener.AutoDemanding {
        private Session session;

        @Override
        public void onWebSocketOpen(Session session) {
            this.session = session;
        }

        @Override
        public void onWebSocketText(String message) {
            if (message.startsWith("close:")) {
                String[] p = message.split(":", 3);
                session.close(Integer.parseInt(p[1]), p[2], org.eclipse.jetty.websocket.api.Callback.NOOP);
            } else if (message.equals("big")) {
                session.sendText("y".repeat(2 << 20), org.eclipse.jetty.websocket.api.Callback.NOOP);
            } else {
                session.sendText(message, org.eclipse.jetty.websocket.api.Callback.NOOP);
            }
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, org.eclipse.jetty.websocket.api.Callback callback) {
            ByteBuffer copy = ByteBuffer.allocate(payload.remaining()).put(payload).flip();
            callback.succeed();
            session.sendBinary(copy, org.eclipse.jetty.websocket.api.Callback.NOOP);
        }

        @Override
        public void onWebSocketClose(int statusCode, String reason) {
            closes.add(statusCode + " " + reason);
        }
    }

    /**
     * A WebSocket server that answers the handshake and then never reads a byte (a Jetty endpoint
     * that does not demand still lets Jetty read ahead): what a worker sends piles up in the node.
     */
    static java.net.ServerSocket stallingServer() throws java.io.IOException {
        java.net.ServerSocket server = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"));
        Thread.startVirtualThread(() -> {
            while (!server.isClosed()) {
                try {
                    java.net.Socket s = server.accept();
                    stalled.add(s);
                    var in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
                    String key = null;
                    for (String line; (line = in.readLine()) != null && !line.isEmpty(); ) {
                        if (line.toLowerCase(java.util.Locale.ROOT).startsWith("sec-websocket-key:")) key = line.substring(18).trim();
                    }
                    String accept = java.util.Base64.getEncoder().encodeToString(java.security.MessageDigest.getInstance("SHA-1")
                            .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.ISO_8859_1)));
                    s.getOutputStream().write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Accept: " + accept + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    s.getOutputStream().flush();
                } catch (Exception e) {
                    return;
                }
            }
        });
        return server;
    }

    static final List<java.net.Socket> stalled = new java.util.concurrent.CopyOnWriteArrayList<>();
    static java.net.ServerSocket stall;

    @BeforeAll
    static void start() throws Exception {
        upstream = new Server();
        ServerConnector connector = new ServerConnector(upstream);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        upstream.addConnector(connector);
        WebSocketUpgradeHandler ws = WebSocketUpgradeHandler.from(upstream, container -> {
            container.setMaxTextMessageSize(4 << 20);
            container.setMaxBinaryMessageSize(4 << 20);
            container.addMapping("/echo", (rq, rs, cb) -> {
                if (!rq.getSubProtocols().isEmpty()) rs.setAcceptedSubProtocol(rq.getSubProtocols().get(0));
                return new Echo();
            });
        });
        // Paths that are no WebSocket: a 200 and a 403, with bodies.
        ws.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(org.eclipse.jetty.server.Request request, org.eclipse.jetty.server.Response response,
                                  Callback callback) {
                boolean forbid = request.getHttpURI().getPath().equals("/forbid");
                response.setStatus(forbid ? 403 : 200);
                response.getHeaders().put("content-type", "text/plain");
                response.write(true, ByteBuffer.wrap((forbid ? "go away" : "just a page").getBytes(StandardCharsets.UTF_8)), callback);
                return true;
            }
        });
        upstream.setHandler(ws);
        upstream.start();
        port = connector.getLocalPort();

        EgressSettings egress = new EgressSettings(List.of("127.0.0.1"), false).withTestOnlyLoopbackAllowed();
        node = Node.start(Settings.of(data, "t1").withPort(0)
                .withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(2)).withEgress(egress));
        stall = stallingServer();
        String env = "{\"WS\":\"" + port + "\",\"STALL\":\"" + stall.getLocalPort() + "\"}";
        node.deploy(new DeployedWorker("ws", "t1", bundle(WORKER), env, Limits.DEFAULTS));
        node.deploy(new DeployedWorker("parent", "t1", bundle(PARENT), env,
                List.of(new dev.bulwark.sandbox.worker.Binding.WorkerLoader("LOADER")), true, Limits.DEFAULTS));
        node.deploy(new DeployedWorker("limited", "t1", bundle(WORKER), env, new Limits(1_000, 30_000, 128, 2, 64L << 20, 1L << 20, 100L << 20)));
        node.defaultWorker("ws");
        // The default address rules: any host by name, never loopback.
        strict = Node.start(Settings.of(strictData, "t1").withPort(0)
                .withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(1)).withEgress(new EgressSettings(List.of("*"), false)));
        strict.deploy(new DeployedWorker("ws", "t1", bundle(WORKER), env, Limits.DEFAULTS));
        // A project with a durable object that is a WebSocket client.
        objects = Node.serve(dev.bulwark.server.config.ProjectLoader.load(
                Path.of("src", "test", "resources", "wsout-project").toAbsolutePath(),
                s -> s.withPort(0).withDataDir(objectData).withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(1))
                        .withEgress(new EgressSettings(List.of("127.0.0.1"), false).withTestOnlyLoopbackAllowed())));
    }

    @AfterAll
    static void stop() throws Exception {
        if (node != null) node.close();
        if (strict != null) strict.close();
        if (objects != null) objects.close();
        if (upstream != null) upstream.stop();
        if (stall != null) stall.close();
        for (java.net.Socket s : stalled) s.close();
    }

    @BeforeEach
    void forgetCloses() {
        closes.clear();
    }

    static WorkerBundle bundle(String js) {
        return WorkerBundle.of("index.js", List.of(WorkerModule.text("index.js", ModuleType.JS, js)));
    }

    static String get(Node n, String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.port() + path))
                .header("Host", "ws").timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
        return r.body();
    }

    @Test
    void textAndBinaryGoRoundAndTheWorkersCloseReachesTheServer() throws Exception {
        assertThat(get(node, "/roundtrip"))
                .isEqualTo("101 true text:hello|binary:1,2,3,255 4321:worker says bye:true");
        assertThat(closes.poll(10, TimeUnit.SECONDS)).isEqualTo("4321 worker says bye");
    }

    @Test
    void theServersCloseCodeAndReasonReachTheWorker() throws Exception {
        assertThat(get(node, "/serverclose")).isEqualTo("4007:server says bye:true");
        assertThat(closes.poll(10, TimeUnit.SECONDS)).isEqualTo("4007 server says bye");
    }

    @Test
    void aRefusedUpgradeIsAnOrdinaryResponseWithNoWebSocket() throws Exception {
        assertThat(get(node, "/refused?path=/page")).isEqualTo("null 200 just a page");
        assertThat(get(node, "/refused?path=/forbid")).isEqualTo("null 403 go away");
    }

    @Test
    void aMessageOverTheLimitFromTheServerClosesTheSocketWith1009() throws Exception {
        // Jetty refuses the message as it aggregates past 1 MiB (its reason names the sizes it saw).
        assertThat(get(node, "/big")).startsWith("close:1009:Text message too large");
        assertThat(closes.poll(10, TimeUnit.SECONDS)).startsWith("1009 ");
    }

    @Test
    void aMessageOverTheLimitFromTheWorkerIsRefusedBeforeItLeaves() throws Exception {
        assertThat(get(node, "/send-too-big")).isEqualTo("RangeError: WebSocket message too large: the limit is 1048576 bytes.");
    }

    @Test
    void aServerThatDoesNotReadIsDroppedOnceSixteenMebibytesWait() throws Exception {
        assertThat(get(node, "/flood")).isEqualTo("1011:send buffer full:true");
        OutboundSockets sockets = node.egress.outboundSockets();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> sockets.sendBuffered() == 0);
    }

    @Test
    void handshakesAreInTheInvocationsOutboundSummaryAllowedOrDenied() throws Exception {
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logs = new ch.qos.logback.core.read.ListAppender<>();
        logs.start();
        ch.qos.logback.classic.Logger egress = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("bulwark.egress");
        egress.addAppender(logs);
        try {
            // The handshake's record carries the frames' bytes: 'hello' and 4 bytes each way.
            assertThat(get(node, "/roundtrip")).isEqualTo("101 true text:hello|binary:1,2,3,255 4321:worker says bye:true");
            assertThat(get(strict, "/fail")).startsWith("TypeError: Network connection to 127.0.0.1 (127.0.0.1) is not allowed");
            com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> List.copyOf(logs.list).stream()
                    .filter(e -> e.getFormattedMessage().contains("\"outbound\"")).count() >= 2);
            List<String> summaries = new java.util.ArrayList<>();
            for (var e : List.copyOf(logs.list)) {
                var line = json.readTree(e.getFormattedMessage());
                if (!line.has("outbound")) continue;
                var o = line.get("outbound");
                var first = o.get("first").get(0);
                summaries.add(o.get("calls").asInt() + " " + o.get("denied").asInt() + " " + first.get("method").asText() + " "
                        + first.get("host").asText() + " " + first.get("status").asInt() + " " + first.get("outcome").asText()
                        + " " + first.get("bytesIn").asLong() + "/" + o.get("bytesIn").asLong()
                        + " " + first.get("bytesOut").asLong() + "/" + o.get("bytesOut").asLong());
            }
            assertThat(summaries).containsExactlyInAnyOrder("1 0 GET 127.0.0.1 101 ok 9/9 9/9", "1 1 GET 127.0.0.1 0 denied 0/0 0/0");
        } finally {
            egress.detachAppender(logs);
        }
    }

    @Test
    void fetchOfAWsUrlIsRefused() throws Exception {
        assertThat(get(node, "/fetch-ws")).isEqualTo("TypeError: Fetch API cannot load: ws://127.0.0.1:" + port + "/echo");
    }

    @Test
    void eachHandshakeCountsAsASubrequest() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/count"))
                .header("Host", "limited").timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.body()).isEqualTo("opened|opened|Error: Too many subrequests: the limit is 2");
    }

    @Test
    void theSocketClosesWhenTheInvocationThatOpenedItEnds() throws Exception {
        int free = node.egress.freeSlots();
        assertThat(get(node, "/leave")).isEqualTo("left it open");
        assertThat(closes.poll(20, TimeUnit.SECONDS)).isEqualTo("1001 the invocation that opened the WebSocket is over");
        // The socket held an outbound slot while it was open (as a connect() socket does); it is back.
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20))
                .until(() -> node.egress.freeSlots() == free && node.egress.outboundSockets().open() == 0);
    }

    @Test
    void loopbackIsRefusedUnderTheDefaultAddressRules() throws Exception {
        assertThat(get(strict, "/fail")).isEqualTo("TypeError: Network connection to 127.0.0.1 (127.0.0.1) is not allowed: it is a loopback address");
    }

    @Test
    void theWebSocketConstructorConnectsOpensAndCloses() throws Exception {
        assertThat(get(node, "/ctor?path=/echo")).isEqualTo(String.join("\n", "0", "3", "ws://127.0.0.1:" + port + "/echo",
                "TypeError: Websockets obtained from the 'new WebSocket()' constructor cannot call accept",
                "open:1:chat|message:ctor hello|close:1000:ctor done:true"));
        assertThat(closes.poll(10, TimeUnit.SECONDS)).isEqualTo("1000 ctor done");
    }

    @Test
    void theWebSocketConstructorReportsARefusedUpgradeAsErrorThenClose() throws Exception {
        assertThat(get(node, "/ctor?path=/forbid")).isEqualTo(String.join("\n", "0", "3", "ws://127.0.0.1:" + port + "/forbid",
                "TypeError: Websockets obtained from the 'new WebSocket()' constructor cannot call accept",
                "error:Failed to establish the WebSocket connection: expected server to reply with HTTP status code 101 "
                        + "(switching protocols), but received 403 instead.|close:1006::false"));
    }

    @Test
    void theWebSocketConstructorChecksItsArgumentsAsWorkerdDoes() throws Exception {
        assertThat(get(node, "/ctor-bad")).isEqualTo(String.join("\n",
                "SyntaxError: WebSocket Constructor: The url scheme must be ws or wss.",
                "SyntaxError: WebSocket Constructor: The url fragment must be empty.",
                "SyntaxError: WebSocket Constructor: The protocols array cannot be empty.",
                "SyntaxError: WebSocket Constructor: The protocols header cannot have repeating values.",
                "SyntaxError: WebSocket Constructor: The protocol header token is invalid."));
    }

    @Test
    void theWebSocketConstructorIsRefusedAtGlobalScope() throws Exception {
        assertThat(get(node, "/global")).isEqualTo("Error: Disallowed operation called within global scope. Asynchronous I/O "
                + "(ex: fetch() or connect()), setting a timeout, and generating random values are not allowed within global "
                + "scope. To fix this error, perform this operation within a handler. "
                + "https://developers.cloudflare.com/workers/runtime-apis/handlers/");
    }

    @Test
    void theWebSocketConstructorIsRefusedLoopbackUnderTheDefaultRules() throws Exception {
        assertThat(get(strict, "/ctor?path=/echo")).isEqualTo(String.join("\n", "0", "3", "ws://127.0.0.1:" + port + "/echo",
                "TypeError: Websockets obtained from the 'new WebSocket()' constructor cannot call accept",
                "error:Network connection to 127.0.0.1 (127.0.0.1) is not allowed: it is a loopback address|close:1006::false"));
    }

    static String parent(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + path))
                .header("Host", "parent").timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void aGlobalOutboundFetcherGetsTheUpgradeAndItsWebSocketIsPassedThrough() throws Exception {
        assertThat(parent("/intercepted")).isEqualTo("101 intercepted hi for http://upstream.example/chat");
    }

    @Test
    void aProxiedUpstreamLivesAsLongAsTheClientsSocketAndClosesWithIt() throws Exception {
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        java.util.concurrent.CompletableFuture<Integer> clientClosed = new java.util.concurrent.CompletableFuture<>();
        java.net.http.WebSocket client = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(30))
                .buildAsync(URI.create("ws://127.0.0.1:" + node.port() + "/proxy"), new java.net.http.WebSocket.Listener() {
                    @Override
                    public java.util.concurrent.CompletionStage<?> onText(java.net.http.WebSocket ws, CharSequence data, boolean last) {
                        got.add(data.toString());
                        ws.request(1);
                        return null;
                    }

                    @Override
                    public java.util.concurrent.CompletionStage<?> onClose(java.net.http.WebSocket ws, int code, String reason) {
                        clientClosed.complete(code);
                        return null;
                    }
                }).join();
        client.sendText("one", true).join();
        assertThat(got.poll(30, TimeUnit.SECONDS)).isEqualTo("via upstream: one");
        // The fetch invocation that opened the upstream is over by now; the client's socket keeps it.
        Thread.sleep(1500);
        client.sendText("two", true).join();
        assertThat(got.poll(30, TimeUnit.SECONDS)).isEqualTo("via upstream: two");
        assertThat(closes).isEmpty();
        client.sendClose(1000, "client leaves").join();
        assertThat(closes.poll(20, TimeUnit.SECONDS)).isEqualTo("1001 the WebSocket that kept this one open closed");
    }

    @Test
    void waitUntilKeepsTheSocketAfterTheResponse() throws Exception {
        assertThat(get(node, "/linger")).isEqualTo("answered");
        assertThat(closes.poll(20, TimeUnit.SECONDS)).isEqualTo("1000 after the response: late");
    }

    @Test
    void theSandboxDyingClosesItsOutboundSockets() throws Exception {
        java.net.http.WebSocket client = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(30))
                .buildAsync(URI.create("ws://127.0.0.1:" + node.port() + "/proxy"), new java.net.http.WebSocket.Listener() {})
                .join();
        client.sendText("one", true).join();
        List<Long> pids = node.supervisor().pids("t1");
        assertThat(pids).isNotEmpty();
        Thread.sleep(500); // the relayed message reached the upstream
        for (long pid : pids) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        assertThat(closes.poll(20, TimeUnit.SECONDS)).isEqualTo("1001 the worker's sandbox is gone");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60))
                .until(() -> !node.supervisor().pids("t1").isEmpty()
                        && node.supervisor().pids("t1").stream().noneMatch(pids::contains));
    }

    @Test
    void anUnacceptedOutboundSocketReturnedInA101ConnectsTheClientToTheServer() throws Exception {
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        java.util.concurrent.CompletableFuture<String> clientClosed = new java.util.concurrent.CompletableFuture<>();
        java.net.http.WebSocket client = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(30))
                .buildAsync(URI.create("ws://127.0.0.1:" + node.port() + "/passthrough"), new java.net.http.WebSocket.Listener() {
                    @Override
                    public java.util.concurrent.CompletionStage<?> onText(java.net.http.WebSocket ws, CharSequence data, boolean last) {
                        got.add(data.toString());
                        ws.request(1);
                        return null;
                    }

                    @Override
                    public java.util.concurrent.CompletionStage<?> onClose(java.net.http.WebSocket ws, int code, String reason) {
                        clientClosed.complete(code + " " + reason);
                        return null;
                    }
                }).join();
        client.sendText("one", true).join();
        assertThat(got.poll(30, TimeUnit.SECONDS)).isEqualTo("one");
        // The invocation that returned it is over: the connection is the client's now.
        Thread.sleep(1500);
        client.sendText("two", true).join();
        assertThat(got.poll(30, TimeUnit.SECONDS)).isEqualTo("two");
        // The server closes: the client hears its code and reason.
        client.sendText("close:4011:server ends it", true).join();
        assertThat(clientClosed.get(30, TimeUnit.SECONDS)).isEqualTo("4011 server ends it");
        assertThat(closes.poll(10, TimeUnit.SECONDS)).isEqualTo("4011 server ends it");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> node.egress.outboundSockets().open() == 0);
        // The client closes: the server hears its code and reason.
        java.net.http.WebSocket second = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(30))
                .buildAsync(URI.create("ws://127.0.0.1:" + node.port() + "/passthrough"), new java.net.http.WebSocket.Listener() {})
                .join();
        second.sendClose(4012, "client ends it").join();
        assertThat(closes.poll(10, TimeUnit.SECONDS)).isEqualTo("4012 client ends it");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> node.egress.outboundSockets().open() == 0);
    }

    @Test
    void aDurableObjectIsAWebSocketClientToo() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + objects.port() + "/?port=" + port))
                .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.body()).isEqualTo("101 from the object from the object");
        assertThat(closes.poll(10, TimeUnit.SECONDS)).isEqualTo("1000 object done");
    }

    @Test
    void aWorkerWithoutGlobalOutboundCannotOpenOne() throws Exception {
        assertThat(parent("/")).isEqualTo("Error: This worker is not permitted to access the internet via global functions like fetch(). "
                + "It must use capabilities (such as bindings in 'env') to talk to the outside world.");
    }
}
