package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code examples/app-platform} end to end (issue 14's proof): the built-in supervisor
 * (FacetPlatform, Java, in the node) runs uploaded apps as facets, each with its own database.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class AppPlatformExampleTest {
    @TempDir
    static Path data;
    static Node node;
    static Path example = Path.of("..", "examples", "app-platform").toAbsolutePath().normalize();
    static final ObjectMapper json = new ObjectMapper();
    static final HttpClient http = TestProjects.HTTP;

    @BeforeAll
    static void start() throws Exception {
        node = Node.serve(TestProjects.load(example, data));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static HttpResponse<String> send(String method, String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + path))
                .header("Host", "platform").timeout(Duration.ofSeconds(90))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    static String ok(String path) throws Exception {
        HttpResponse<String> r = send("GET", path, null);
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return r.body();
    }

    static String app(String file) throws Exception {
        return Files.readString(example.resolve("apps").resolve(file));
    }

    static JsonNode upload(String app, String code) throws Exception {
        HttpResponse<String> r = send("PUT", "/_apps/" + app, code);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return json.readTree(r.body());
    }

    @Test
    void theAppPlatformWalkThrough() throws Exception {
        // Upload app X; /X/... is served by X's facet with its own counter table.
        String counter = app("counter.js");
        JsonNode x1 = upload("x", counter);
        assertThat(x1.get("codeHash").asText()).matches("[0-9a-f]{64}");
        assertThat(ok("/x/hit")).isEqualTo("v1 1");
        assertThat(ok("/x/hit")).isEqualTo("v1 2");
        // A new code version is swapped in (the facet is aborted) and sees the old data.
        JsonNode x2 = upload("x", counter.replace("'v1'", "'v2'"));
        assertThat(x2.get("codeHash").asText()).isNotEqualTo(x1.get("codeHash").asText());
        assertThat(ok("/x/hit")).isEqualTo("v2 3");
        // App Y runs the same code with its own database: it cannot see X's rows.
        upload("y", counter);
        assertThat(ok("/y/hit")).isEqualTo("v1 1");
        assertThat(ok("/y/tables")).isEqualTo("[\"counter\"]");
        assertThat(ok("/x/hit")).isEqualTo("v2 4");
        // X's alarm fires (each facet has its own).
        assertThat(ok("/x/alarm")).isEqualTo("alarm set");
        await().atMost(30, TimeUnit.SECONDS).untilAsserted(() -> assertThat(ok("/x/alarmed")).isEqualTo("1"));
        assertThat(ok("/y/alarmed")).isEqualTo("0");
        // A broken app Z answers structured errors while X keeps serving.
        upload("z", app("broken.js"));
        HttpResponse<String> broken = send("GET", "/z/anything", null);
        assertThat(broken.statusCode()).isEqualTo(502);
        JsonNode err = json.readTree(broken.body()).get("error");
        assertThat(err.get("code").asText()).isEqualTo("facet_failed");
        assertThat(err.get("app").asText()).isEqualTo("z");
        assertThat(err.get("message").asText()).contains("this generated app is broken");
        assertThat(ok("/x/hit")).isEqualTo("v2 5");
        // The supervisor keeps each facet's records in its own database.
        JsonNode records = json.readTree(ok("/_records")).get("records");
        JsonNode rx = null, rz = null;
        for (JsonNode r : records) {
            if (r.get("app").asText().equals("x")) rx = r;
            if (r.get("app").asText().equals("z")) rz = r;
        }
        assertThat(rx).as(records.toString()).isNotNull();
        assertThat(rx.get("codeHash").asText()).isEqualTo(x2.get("codeHash").asText());
        assertThat(rx.get("requests").asLong()).isGreaterThanOrEqualTo(7);
        assertThat(rx.get("errors").asLong()).isEqualTo(0);
        assertThat(rx.get("storageBytes").asLong()).isGreaterThan(0);
        assertThat(rz.get("requests").asLong()).isEqualTo(1);
        assertThat(rz.get("errors").asLong()).isEqualTo(1);
        // The facet-count quota (max_facets = 3 in wrangler.jsonc) refuses a fourth app.
        upload("n", counter);
        HttpResponse<String> refused = send("GET", "/n/hit", null);
        assertThat(refused.statusCode()).isEqualTo(429);
        JsonNode quota = json.readTree(refused.body()).get("error");
        assertThat(quota.get("code").asText()).isEqualTo("facet_quota");
        assertThat(quota.get("message").asText()).isEqualTo("facet quota: this supervisor may have at most 3 facets");
        // The supervisor's own operations keep working.
        JsonNode apps = json.readTree(ok("/_apps")).get("apps");
        assertThat(apps.get("x").asText()).isEqualTo(x2.get("codeHash").asText());
        assertThat(apps.get("n").asText()).isEqualTo(x1.get("codeHash").asText());
        // Deleting Z frees its place: N runs.
        assertThat(send("DELETE", "/_apps/z", null).statusCode()).isEqualTo(200);
        assertThat(ok("/n/hit")).isEqualTo("v1 1");
        assertThat(send("GET", "/z/anything", null).statusCode()).isEqualTo(404);
        assertThat(send("PUT", "/_apps/_secret", counter).statusCode()).isEqualTo(400);
        assertThat(send("PUT", "/_apps/a%2Fb", counter).statusCode()).isEqualTo(400);
        // facets.route_prefix "/" (wrangler.jsonc): every request went from the front door straight to
        // the supervisor; the worker in front never ran, so it never called it.
        assertThat(node.relayedCalls()).isZero();
    }
}
