package dev.bulwark.server.node;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The built-in supervisor ({@code FacetPlatform}, issue 14) serves requests concurrently: while
 * one app's request waits in its facet, requests to other apps and to the same app go through.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class PlatformSupervisorTest {
    @TempDir
    static Path data;
    static Node node;

    static final String APP = """
            import { DurableObject } from 'cloudflare:workers';
            export class App extends DurableObject {
              async fetch(request) {
                const path = new URL(request.url).pathname;
                if (path === '/wait') {
                  await this.ctx.storage.put('state', 'waiting');
                  while (!(await this.ctx.storage.get('go'))) await new Promise((r) => setTimeout(r, 20));
                  return new Response('released');
                }
                if (path === '/state') return new Response(String((await this.ctx.storage.get('state')) ?? 'idle'));
                if (path === '/go') { await this.ctx.storage.put('go', true); return new Response('go'); }
                return new Response('NAME');
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

    static HttpRequest request(String method, String path, String body) {
        return TestProjects.request(node, "/_platform" + path).header("Host", "facets")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build();
    }

    static String ok(String path) throws Exception {
        HttpResponse<String> r = TestProjects.HTTP.send(request("GET", path, null), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return r.body();
    }

    @Test
    void requestsToOtherAppsAndToTheSameAppGoOnWhileOneWaitsInItsFacet() throws Exception {
        for (String app : new String[] {"a", "b"}) {
            HttpResponse<String> r = TestProjects.HTTP.send(request("PUT", "/_apps/" + app, APP.replace("NAME", app)),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        }
        CompletableFuture<HttpResponse<String>> waiting = TestProjects.HTTP.sendAsync(request("GET", "/a/wait", null),
                HttpResponse.BodyHandlers.ofString());
        // The same app, while its first request waits in the facet (a serial supervisor would hold
        // these until the first one ended, and it ends only after /a/go).
        await().atMost(60, TimeUnit.SECONDS).until(() -> ok("/a/state").equals("waiting"));
        // Another app.
        assertThat(ok("/b/hit")).isEqualTo("b");
        assertThat(waiting).isNotDone();
        assertThat(ok("/a/go")).isEqualTo("go");
        HttpResponse<String> released = waiting.get(60, TimeUnit.SECONDS);
        assertThat(released.statusCode()).isEqualTo(200);
        assertThat(released.body()).isEqualTo("released");
        // The supervisor's own operations and records still work, and count every request.
        assertThat(ok("/_apps")).contains("\"a\":");
        String records = ok("/_records");
        assertThat(records).contains("{\"app\":\"b\",\"requests\":1,\"errors\":0");
    }
}
