package dev.bulwark.server.node;

import dev.bulwark.server.config.FacetSettings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A project's route to the built-in supervisor (issue 14, {@code facets.route_prefix}): the
 * facets project routes {@code /_route/...} from the front door straight to its
 * {@code FacetPlatform} object "bench", the one its worker reaches for {@code /_platform/...}.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class FacetRouteTest {
    @TempDir
    static Path data;
    static Node node;

    /** Answers with what it received, and counts its requests in its own table. */
    static final String ECHO = """
            import { DurableObject } from 'cloudflare:workers';
            export class App extends DurableObject {
              async fetch(request) {
                const sql = this.ctx.storage.sql;
                sql.exec('CREATE TABLE IF NOT EXISTS hits (n INTEGER)');
                sql.exec('INSERT INTO hits VALUES (1)');
                const n = sql.exec('SELECT count(*) AS n FROM hits').one().n;
                const url = new URL(request.url);
                return Response.json({ n, method: request.method, path: url.pathname, query: url.search,
                  body: await request.text(), header: request.headers.get('x-test') },
                  { status: url.pathname === '/teapot' ? 418 : 200, headers: { 'x-app': 'echo' } });
              }
            }
            """;

    @BeforeAll
    static void start() throws Exception {
        node = TestProjects.serve(data, "facets-project");
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static HttpResponse<String> send(String method, String path, String body) throws Exception {
        return TestProjects.HTTP.send(TestProjects.request(node, path).header("Host", "facets").header("x-test", "t1")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theRouteReachesTheSupervisorTheWorkerReachesWithoutTheWorker() throws Exception {
        HttpResponse<String> up = send("PUT", "/_route/_apps/echo", ECHO);
        assertThat(up.statusCode()).as(up.body()).isEqualTo(201);
        assertThat(up.body()).startsWith("{\"app\":\"echo\",\"codeHash\":\"");

        // The facet sees the path after the prefix and the app's name, the query, the method, body and headers.
        HttpResponse<String> r = send("POST", "/_route/echo/a/b?q=1", "payload");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("{\"n\":1,\"method\":\"POST\",\"path\":\"/a/b\",\"query\":\"?q=1\",\"body\":\"payload\",\"header\":\"t1\"}");
        assertThat(r.headers().firstValue("x-app")).hasValue("echo");
        HttpResponse<String> teapot = send("GET", "/_route/echo/teapot", null);
        assertThat(teapot.statusCode()).isEqualTo(418);

        // The worker's way (/_platform/..., through env.PLATFORM.getByName('bench')) reaches the same
        // supervisor, app and facet: the same counter goes on.
        HttpResponse<String> viaWorker = send("GET", "/_platform/echo/x", null);
        assertThat(viaWorker.statusCode()).as(viaWorker.body()).isEqualTo(200);
        assertThat(viaWorker.body()).startsWith("{\"n\":3,");
        assertThat(send("GET", "/_route/_apps", null).body()).contains("\"echo\":");

        // The supervisor's structured errors come back as they are.
        HttpResponse<String> none = send("GET", "/_route/nope/x", null);
        assertThat(none.statusCode()).isEqualTo(404);
        assertThat(none.body()).isEqualTo("{\"error\":{\"code\":\"no_such_app\",\"message\":\"no app 'nope'\",\"app\":\"nope\"}}");
        HttpResponse<String> root = send("GET", "/_route", null);
        assertThat(root.statusCode()).isEqualTo(404);
        assertThat(root.body()).contains("\"code\":\"no_such_app\"");

        // A path that only starts like the prefix is the worker's (its supervisor "_routex", not the built-in one).
        HttpResponse<String> other = send("GET", "/_routex/id", null);
        assertThat(other.statusCode()).isEqualTo(200);
        assertThat(other.body()).matches("[0-9a-f]{64}");

        // The records count every request to the app, whichever way it came.
        String records = send("GET", "/_route/_records", null).body();
        assertThat(records).contains("{\"app\":\"echo\",\"requests\":3,\"errors\":0");
    }

    @Test
    void aWebSocketUpgradeIsRefusedWithAStructuredError() {
        var handshake = java.net.http.HttpClient.newHttpClient().newWebSocketBuilder()
                .buildAsync(java.net.URI.create("ws://127.0.0.1:" + node.port() + "/_route/echo/ws"),
                        new java.net.http.WebSocket.Listener() {});
        assertThatThrownBy(() -> handshake.get(60, TimeUnit.SECONDS))
                .hasCauseInstanceOf(java.net.http.WebSocketHandshakeException.class)
                .satisfies(e -> assertThat(((java.net.http.WebSocketHandshakeException) e.getCause()).getResponse().statusCode())
                        .isEqualTo(501));
    }

    @Test
    void aRoutePrefixIsAPathWithoutATrailingSlashAndMatchesWholeSegments() {
        FacetRoute root = new FacetRoute("t", "/", "main");
        assertThat(root.rest("/x/y")).isEqualTo("/x/y");
        FacetRoute apps = new FacetRoute("t", "/apps", "main");
        assertThat(apps.rest("/apps")).isEqualTo("/");
        assertThat(apps.rest("/apps/x/y")).isEqualTo("/x/y");
        assertThat(apps.rest("/appsx/y")).isNull();
        assertThat(apps.rest("/other")).isNull();
        for (String bad : new String[] {"apps", "/apps/", "/a*", "/a?b", ""}) {
            assertThatThrownBy(() -> new FacetSettings(-1, -1, -1, -1, 60_000, -1, bad, null))
                    .as(bad).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("facets.route_prefix");
        }
        assertThat(new FacetSettings(-1, -1, -1, -1, 60_000, -1, "/apps", null).routeObject()).isEqualTo("main");
    }
}
