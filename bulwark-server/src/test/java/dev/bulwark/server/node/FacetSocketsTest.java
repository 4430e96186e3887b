package dev.bulwark.server.node;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * WebSockets in facets (issue 14), end to end with real clients through the front door: the
 * supervisor forwards the upgrade with its facet stub's {@code fetch()}, the facet answers 101
 * and accepts the socket with the Hibernation API; messages wake it after its sandbox died or
 * after it was aborted.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class FacetSocketsTest {
    /** The tests share one node; each has a supervisor of its own (its facets, their sockets and storage). */
    @TempDir
    static Path data;
    static Node node;
    /** This test's supervisor. */
    String sup;
    final List<WebSocketsTest.Client> clients = new java.util.ArrayList<>();

    void start(String supervisor) throws Exception {
        if (node == null) node = TestProjects.serve(data, "facets-project");
        sup = supervisor;
    }

    static final String APP = """
            import { DurableObject } from 'cloudflare:workers';
            export class App extends DurableObject {
              constructor(ctx, env) { super(ctx, env); this.born = crypto.randomUUID(); }
              async fetch(request) {
                if (request.headers.get('Upgrade') !== 'websocket') return new Response('VERSION');
                const [client, server] = Object.values(new WebSocketPair());
                this.ctx.acceptWebSocket(server, ['t-' + new URL(request.url).searchParams.get('user')]);
                server.serializeAttachment({ user: new URL(request.url).searchParams.get('user') });
                return new Response(null, { status: 101, webSocket: client });
              }
              async webSocketMessage(ws, message) {
                const n = ((await this.ctx.storage.get('n')) ?? 0) + 1;
                await this.ctx.storage.put('n', n);
                const users = this.ctx.getWebSockets().map((w) => w.deserializeAttachment().user).sort();
                ws.send(`VERSION ${ws.deserializeAttachment().user}: ${message} #${n} [${users}] ${this.born}`);
              }
              async webSocketClose(ws, code) { await this.ctx.storage.put('closed', code); }
            }
            """;

    @AfterEach
    void stop() {
        for (WebSocketsTest.Client c : clients) {
            if (c.ws != null) c.ws.abort();
        }
        // A test that killed the generated sandbox leaves the next one a live replacement, as a fresh node would.
        if (node != null) {
            await().atMost(Duration.ofSeconds(60)).until(() -> node.supervisor().pids(DynamicWorkers.generatedTenant("facets")).size() <= 1
                    && node.supervisor().pids("facets").size() == 1);
        }
    }

    @AfterAll
    static void stopNode() {
        if (node != null) node.close();
        node = null;
    }

    void post(String path, String body) throws Exception {
        HttpResponse<String> r = TestProjects.HTTP.send(TestProjects.request(node, path).header("Host", "facets")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    WebSocketsTest.Client connect(String path) {
        WebSocketsTest.Client c = new WebSocketsTest.Client();
        clients.add(c);
        c.ws = WebSocketsTest.http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(60))
                .buildAsync(URI.create("ws://127.0.0.1:" + node.port() + path), c).join();
        return c;
    }

    /** "v1 alice: hi #1 [alice,bob] <born>" → its parts. */
    static String[] parts(Object message) {
        String s = (String) message;
        int born = s.lastIndexOf(' ');
        return new String[] {s.substring(0, born), s.substring(born + 1)};
    }

    @Test
    void aFacetAcceptsHibernatableWebSocketsAndMessagesWakeIt() throws Exception {
        start("w1");
        post("/" + sup + "/code/X", APP.replace("VERSION", "v1"));
        WebSocketsTest.Client alice = connect("/" + sup + "/ws/X/chat?user=alice");
        WebSocketsTest.Client bob = connect("/" + sup + "/ws/X/chat?user=bob");
        alice.send("hi");
        String[] first = parts(alice.next());
        assertThat(first[0]).isEqualTo("v1 alice: hi #1 [alice,bob]");
        bob.send("yo");
        assertThat(parts(bob.next())[0]).isEqualTo("v1 bob: yo #2 [alice,bob]");

        // Its sandbox dies: the sockets stay open in the node, the next message starts the facet again.
        List<Long> pids = node.supervisor().pids(DynamicWorkers.generatedTenant("facets"));
        assertThat(pids).hasSize(1);
        ProcessHandle.of(pids.get(0)).orElseThrow().destroyForcibly();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            List<Long> now = node.supervisor().pids(DynamicWorkers.generatedTenant("facets"));
            return !now.isEmpty() && now.stream().noneMatch(pids::contains);
        });
        alice.send("back");
        String[] second = parts(alice.next());
        assertThat(second[0]).isEqualTo("v1 alice: back #3 [alice,bob]");
        assertThat(second[1]).as("the facet was started again").isNotEqualTo(first[1]);

        // Aborted by its supervisor (which now has a new code version): a message wakes the facet at
        // the last version that ran (the node cannot run the supervisor's callback); once the
        // supervisor starts the new version, the sockets' events go to it, with the same sockets.
        post("/" + sup + "/code/X", APP.replace("VERSION", "v2"));
        bob.send("after abort");
        assertThat(parts(bob.next())[0]).isEqualTo("v1 bob: after abort #4 [alice,bob]");
        HttpResponse<String> plain = TestProjects.HTTP.send(TestProjects.request(node, "/" + sup + "/app/X/").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(plain.body()).isEqualTo("v2");
        bob.send("new code");
        assertThat(parts(bob.next())[0]).isEqualTo("v2 bob: new code #5 [alice,bob]");
        alice.send("me too");
        assertThat(parts(alice.next())[0]).isEqualTo("v2 alice: me too #6 [alice,bob]");
        assertThat(alice.closed).isNotDone();
        assertThat(bob.closed).isNotDone();
    }

    /** A facet with a plain socket ({@code server.accept()}) and a hibernatable one with an automatic answer. */
    static final String OTHER_SOCKETS = """
            import { DurableObject } from 'cloudflare:workers';
            export class App extends DurableObject {
              async fetch(request) {
                const path = new URL(request.url).pathname;
                if (path === '/plain') {
                  const [client, server] = Object.values(new WebSocketPair());
                  server.accept();
                  let n = 0;
                  server.addEventListener('message', (e) => { n++; server.send(`plain: ${e.data} #${n}`); });
                  server.addEventListener('close', (e) => { this.ctx.storage.put('plainClosed', e.code); });
                  return new Response(null, { status: 101, webSocket: client });
                }
                if (path === '/auto') {
                  this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
                  const [client, server] = Object.values(new WebSocketPair());
                  this.ctx.acceptWebSocket(server);
                  return new Response(null, { status: 101, webSocket: client });
                }
                if (path === '/state') {
                  const auto = this.ctx.getWebSocketAutoResponse();
                  return Response.json({ plainClosed: (await this.ctx.storage.get('plainClosed')) ?? null,
                    heard: (await this.ctx.storage.get('heard')) ?? 0, auto: auto ? auto.request + '/' + auto.response : null });
                }
                return new Response('no such path', { status: 404 });
              }
              async webSocketMessage(ws, message) {
                const heard = ((await this.ctx.storage.get('heard')) ?? 0) + 1;
                await this.ctx.storage.put('heard', heard);
                ws.send(`heard ${message} #${heard}`);
              }
            }
            """;

    String state() throws Exception {
        HttpResponse<String> r = TestProjects.HTTP.send(TestProjects.request(node, "/" + sup + "/app/X/state").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return r.body();
    }

    @Test
    void aFacetsPlainAcceptedSocketWorksThroughItsSupervisorAndHearsTheClose() throws Exception {
        start("w2");
        post("/" + sup + "/code/X", OTHER_SOCKETS);
        WebSocketsTest.Client c = connect("/" + sup + "/ws/X/plain");
        c.send("one");
        assertThat(c.next()).isEqualTo("plain: one #1");
        c.send("two");
        assertThat(c.next()).as("the same instance's listener, its closure state kept").isEqualTo("plain: two #2");
        // A plain socket does not go to the Hibernation API's handler.
        assertThat(state()).contains("\"heard\":0");
        c.ws.sendClose(1000, "bye").join();
        assertThat(c.closed.get(60, TimeUnit.SECONDS)).isEqualTo(1000);
        await().atMost(Duration.ofSeconds(60)).until(() -> state().contains("\"plainClosed\":1000"));
    }

    @Test
    void aFacetsAutoResponseAnswersWithoutWakingItsHandler() throws Exception {
        start("w3");
        post("/" + sup + "/code/X", OTHER_SOCKETS);
        WebSocketsTest.Client c = connect("/" + sup + "/ws/X/auto");
        c.send("ping");
        assertThat(c.next()).isEqualTo("pong");
        c.send("ping");
        assertThat(c.next()).isEqualTo("pong");
        assertThat(state()).as("the handler never ran for the pings").contains("\"heard\":0").contains("\"auto\":\"ping/pong\"");
        c.send("hello");
        assertThat(c.next()).isEqualTo("heard hello #1");
        // After its sandbox died, the automatic answer still comes from the node (the facet not started for it).
        List<Long> pids = node.supervisor().pids(DynamicWorkers.generatedTenant("facets"));
        ProcessHandle.of(pids.get(0)).orElseThrow().destroyForcibly();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            List<Long> now = node.supervisor().pids(DynamicWorkers.generatedTenant("facets"));
            return now.stream().noneMatch(pids::contains);
        });
        c.send("ping");
        assertThat(c.next()).isEqualTo("pong");
        c.send("again");
        assertThat(c.next()).isEqualTo("heard again #2");
    }
}
