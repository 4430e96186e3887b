package dev.bulwark.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.server.config.ApiSettings;
import dev.bulwark.server.config.ProjectLoader;
import dev.bulwark.server.embed.Bulwark;
import dev.bulwark.server.embed.TenantWorkersClient;
import dev.bulwark.server.embed.WorkerException;
import dev.bulwark.server.embed.WorkerSource;
import dev.bulwark.server.node.Node;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The tenant API over HTTP and the embedding API, against a real node serving the loader test
 * project (tenant "loader"), with keys for "loader" and for a second tenant, "other", who plays
 * the attacker: it must never reach loader's workers by any way in.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class TenantApiTest {
    static final String LOADER_KEY = "tk_loader_4f9c2a7d1e8b3c6a5f0e9d8c7b6a5f4e";
    static final String OTHER_KEY = "tk_other_0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    @TempDir
    static Path data;
    static Node node;
    static final ObjectMapper json = new ObjectMapper();
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    static final String CALC = """
            import { WorkerEntrypoint } from "cloudflare:workers";
            export class Admin extends WorkerEntrypoint { whoami() { return "admin"; } }
            export default class extends WorkerEntrypoint {
              add(a, b) { return a + b; }
              echo(v) { return v; }
              owner() { return this.env.OWNER; }
              boom() { throw new RangeError("too far"); }
              abort() { throw new DOMException("stop", "AbortError"); }
              collections() { return { m: new Map([[1, "one"], ["k", true]]), s: new Set(["a", 2]) }; }
              regexp() { return /x/; }
              cyclic() { const a = { name: "loop" }; a.self = a; return a; }
              big() { return "x".repeat(33 * 1024 * 1024); }
              fetch(request) {
                const u = new URL(request.url);
                return new Response(this.env.OWNER + " " + request.method + " " + u.pathname + u.search
                  + " auth=" + request.headers.get("authorization"));
              }
            }""";

    @BeforeAll
    static void start() throws Exception {
        Path project = Path.of("src", "test", "resources", "loader-project").toAbsolutePath();
        ApiSettings keys = new ApiSettings(List.of(ApiSettings.Key.of("loader", LOADER_KEY), ApiSettings.Key.of("other", OTHER_KEY)));
        node = Node.serve(ProjectLoader.load(project, s -> s.withPort(0).withDataDir(data).withApi(keys)));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static HttpResponse<String> send(String key, String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + TenantApi.PREFIX + path))
                .timeout(Duration.ofSeconds(120))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (key != null) b.header("Authorization", "Bearer " + key);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String code(String main, String owner) {
        ObjectNode c = json.createObjectNode().put("compatibilityDate", "2025-06-01").put("mainModule", "main.js");
        c.putObject("modules").put("main.js", main);
        c.putObject("env").put("OWNER", owner);
        return c.toString();
    }

    static JsonNode error(HttpResponse<String> r) throws Exception {
        return json.readTree(r.body()).get("error");
    }

    static HttpResponse<String> call(String key, String id, String body) throws Exception {
        return send(key, "POST", "v1/workers/" + id + "/call", body);
    }

    @Test
    void withoutAValidKeyNothingIsAnswered() throws Exception {
        for (String key : new String[] {null, "", "tk_loader_wrong", LOADER_KEY + "x", LOADER_KEY.substring(1)}) {
            HttpResponse<String> r = send(key, "GET", "v1/workers", null);
            assertThat(r.statusCode()).as(String.valueOf(key)).isEqualTo(401);
            assertThat(error(r).get("code").asText()).isEqualTo("unauthorized");
            assertThat(r.headers().firstValue("www-authenticate")).hasValue("Bearer");
        }
        // Not even whether an endpoint exists.
        assertThat(send(null, "PUT", "v1/workers/x", code("export default {}", "nobody")).statusCode()).isEqualTo(401);
        assertThat(send(null, "GET", "v2/nothing", null).statusCode()).isEqualTo(401);
    }

    @Test
    void loadCallFetchListAndUnload() throws Exception {
        HttpResponse<String> put = send(LOADER_KEY, "PUT", "v1/workers/calc", code(CALC, "loader"));
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        assertThat(json.readTree(put.body()).get("loaded").asBoolean()).isTrue();

        HttpResponse<String> add = call(LOADER_KEY, "calc", "{\"method\":\"add\",\"args\":[2,3]}");
        assertThat(add.statusCode()).as(add.body()).isEqualTo(200);
        assertThat(add.body()).isEqualTo("{\"result\":5}");
        HttpResponse<String> echo = call(LOADER_KEY, "calc", "{\"method\":\"echo\",\"args\":[{\"a\":[1,\"x\",null,true],\"b\":1.5}]}");
        assertThat(echo.body()).isEqualTo("{\"result\":{\"a\":[1,\"x\",null,true],\"b\":1.5}}");
        assertThat(call(LOADER_KEY, "calc", "{\"entrypoint\":\"Admin\",\"method\":\"whoami\"}").body())
                .isEqualTo("{\"result\":\"admin\"}");
        HttpResponse<String> boom = call(LOADER_KEY, "calc", "{\"method\":\"boom\"}");
        assertThat(boom.statusCode()).isEqualTo(500);
        assertThat(error(boom).get("code").asText()).isEqualTo("worker_threw");
        assertThat(error(boom).get("message").asText()).isEqualTo("RangeError: too far");
        assertThat(error(call(LOADER_KEY, "calc", "{\"method\":\"abort\"}")).get("message").asText()).isEqualTo("AbortError: stop");
        // Maps and Sets come back as objects and arrays; a JSON number is a JS number, however large.
        assertThat(call(LOADER_KEY, "calc", "{\"method\":\"collections\"}").body())
                .isEqualTo("{\"result\":{\"m\":{\"1\":\"one\",\"k\":true},\"s\":[\"a\",2]}}");
        assertThat(call(LOADER_KEY, "calc", "{\"method\":\"add\",\"args\":[9007199254740993,12345678901234567890]}").body())
                .isEqualTo("{\"result\":12354686100489308000}");
        HttpResponse<String> regexp = call(LOADER_KEY, "calc", "{\"method\":\"regexp\"}");
        assertThat(regexp.statusCode()).isEqualTo(500);
        assertThat(error(regexp).get("code").asText()).isEqualTo("result_not_json");

        // A fetch forwards the request; the tenant's key never reaches the worker.
        HttpResponse<String> fetched = send(LOADER_KEY, "POST", "v1/workers/calc/fetch/some/path?q=1", "body");
        assertThat(fetched.statusCode()).as(fetched.body()).isEqualTo(200);
        assertThat(fetched.body()).isEqualTo("loader POST /some/path?q=1 auth=null");

        assertThat(json.readTree(send(LOADER_KEY, "GET", "v1/workers", null).body()).findValuesAsText("id")).contains("calc");

        HttpResponse<String> deleted = send(LOADER_KEY, "DELETE", "v1/workers/calc", null);
        assertThat(deleted.statusCode()).isEqualTo(200);
        HttpResponse<String> gone = call(LOADER_KEY, "calc", "{\"method\":\"add\",\"args\":[1,1]}");
        assertThat(gone.statusCode()).isEqualTo(404);
        assertThat(error(gone).get("code").asText()).isEqualTo("not_found");
        assertThat(send(LOADER_KEY, "DELETE", "v1/workers/calc", null).statusCode()).isEqualTo(404);
    }

    @Test
    void hostileResultsFailOnlyTheirCall() throws Exception {
        assertThat(send(LOADER_KEY, "PUT", "v1/workers/hostile", code(CALC, "loader")).statusCode()).isEqualTo(200);
        HttpResponse<String> cyclic = call(LOADER_KEY, "hostile", "{\"method\":\"cyclic\"}");
        assertThat(cyclic.statusCode()).isEqualTo(500);
        assertThat(error(cyclic).get("code").asText()).isEqualTo("result_not_json");
        // From Java the cycle survives.
        Map<?, ?> loop = (Map<?, ?>) Bulwark.attach(node).tenant("loader").call("hostile", null, "cyclic");
        assertThat(loop.get("self")).isSameAs(loop);
        // A result over the 32 MiB an RPC result may be (Workers' limit) fails that call, cleanly.
        HttpResponse<String> big = call(LOADER_KEY, "hostile", "{\"method\":\"big\"}");
        assertThat(big.statusCode()).isEqualTo(500);
        assertThat(error(big).get("code").asText()).isEqualTo("worker_threw");
        assertThat(call(LOADER_KEY, "hostile", "{\"method\":\"add\",\"args\":[1,2]}").body()).isEqualTo("{\"result\":3}");
        send(LOADER_KEY, "DELETE", "v1/workers/hostile", null);
    }

    @Test
    void anOversizedLoadIsRefusedBeforeItsBodyIsRead() throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", node.port())) {
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write(("PUT " + TenantApi.PREFIX + "v1/workers/big HTTP/1.1\r\nHost: x\r\n"
                    + "Authorization: Bearer " + LOADER_KEY + "\r\nContent-Length: " + (200L << 20) + "\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            String head = new String(socket.getInputStream().readNBytes(12), java.nio.charset.StandardCharsets.US_ASCII);
            assertThat(head).isEqualTo("HTTP/1.1 413");
        }
    }

    @Test
    void theListPagesWithACursor() throws Exception {
        for (String id : List.of("page-a", "page-b", "page-c")) {
            assertThat(send(LOADER_KEY, "PUT", "v1/workers/" + id, code("export default {}", "loader")).statusCode()).isEqualTo(200);
        }
        JsonNode first = json.readTree(send(LOADER_KEY, "GET", "v1/workers?limit=2&cursor=page-", null).body());
        assertThat(first.findValuesAsText("id")).containsExactly("page-a", "page-b");
        assertThat(first.get("cursor").asText()).isEqualTo("page-b");
        JsonNode second = json.readTree(send(LOADER_KEY, "GET", "v1/workers?limit=2&cursor=page-b", null).body());
        assertThat(second.findValuesAsText("id")).startsWith("page-c");
        assertThat(send(LOADER_KEY, "GET", "v1/workers?limit=0", null).statusCode()).isEqualTo(400);
        for (String id : List.of("page-a", "page-b", "page-c")) send(LOADER_KEY, "DELETE", "v1/workers/" + id, null);
    }

    @Test
    void badCodeIsRefusedWithTheLoadersErrors() throws Exception {
        HttpResponse<String> syntax = send(LOADER_KEY, "PUT", "v1/workers/bad", code("export default {\n  fetch( {\n}", "x"));
        assertThat(syntax.statusCode()).isEqualTo(400);
        assertThat(error(syntax).get("code").asText()).isEqualTo("worker_load_failed");
        assertThat(error(syntax).get("message").asText()).contains("main.js:").contains("SyntaxError");

        HttpResponse<String> noMain = send(LOADER_KEY, "PUT", "v1/workers/bad",
                "{\"compatibilityDate\":\"2025-06-01\",\"modules\":{\"a.js\":\"export default {}\"}}");
        assertThat(noMain.statusCode()).isEqualTo(400);
        assertThat(error(noMain).get("code").asText()).isEqualTo("invalid_worker_code");
        assertThat(error(noMain).get("message").asText()).isEqualTo("Invalid WorkerCode: mainModule is required");

        HttpResponse<String> python = send(LOADER_KEY, "PUT", "v1/workers/bad",
                "{\"compatibilityDate\":\"2025-06-01\",\"mainModule\":\"a.js\",\"modules\":{\"a.js\":\"export default {}\",\"b.py\":\"x\"}}");
        assertThat(error(python).get("message").asText())
                .isEqualTo("Invalid WorkerCode: module 'b.py': Python modules are not supported by Bulwark yet");
        HttpResponse<String> future = send(LOADER_KEY, "PUT", "v1/workers/bad",
                "{\"compatibilityDate\":\"2999-01-01\",\"mainModule\":\"a.js\",\"modules\":{\"a.js\":\"export default {}\"}}");
        assertThat(error(future).get("message").asText()).isEqualTo("Invalid WorkerCode: compatibilityDate 2999-01-01 is in the future");
        assertThat(send(LOADER_KEY, "PUT", "v1/workers/bad", "{not json").statusCode()).isEqualTo(400);
        assertThat(send(LOADER_KEY, "PUT", "v1/workers/a%2Fb", code("export default {}", "x")).statusCode()).isEqualTo(400);
        assertThat(json.readTree(send(LOADER_KEY, "GET", "v1/workers", null).body()).findValuesAsText("id")).doesNotContain("bad");
    }

    @Test
    void aBundleOver64MiBIsRefusedAnd60MiBLoads() throws Exception {
        ObjectNode big = (ObjectNode) json.readTree(code("export default {}", "x"));
        ((ObjectNode) big.get("modules")).putObject("big.bin").put("data", Base64.getEncoder().encodeToString(new byte[65 << 20]));
        HttpResponse<String> over = send(LOADER_KEY, "PUT", "v1/workers/huge", big.toString());
        big = null;
        assertThat(over.statusCode()).isEqualTo(413);
        assertThat(error(over).get("code").asText()).isEqualTo("code_too_large");
        assertThat(error(over).get("message").asText()).startsWith("Invalid WorkerCode: bundle over 64 MiB");

        byte[] bytes = new byte[60 << 20];
        bytes[bytes.length - 1] = 9;
        ObjectNode sixty = (ObjectNode) json.readTree(code("""
                import big from "./big.bin";
                import { WorkerEntrypoint } from "cloudflare:workers";
                export default class extends WorkerEntrypoint {
                  size() { const b = new Uint8Array(big); return [b.length, b[b.length - 1]]; }
                }""", "x"));
        ((ObjectNode) sixty.get("modules")).putObject("big.bin").put("data", Base64.getEncoder().encodeToString(bytes));
        bytes = null;
        HttpResponse<String> loaded = send(LOADER_KEY, "PUT", "v1/workers/sixty", sixty.toString());
        sixty = null;
        assertThat(loaded.statusCode()).as(loaded.body()).isEqualTo(200);
        assertThat(call(LOADER_KEY, "sixty", "{\"method\":\"size\"}").body()).isEqualTo("{\"result\":[" + (60 << 20) + ",9]}");
        send(LOADER_KEY, "DELETE", "v1/workers/sixty", null);
    }

    @Test
    void anotherTenantCannotReachThemByAnyWayIn() throws Exception {
        assertThat(send(LOADER_KEY, "PUT", "v1/workers/secret", code(CALC, "loader")).statusCode()).isEqualTo(200);

        // Over HTTP with its own key: invisible, not callable, not fetchable, not deletable.
        assertThat(json.readTree(send(OTHER_KEY, "GET", "v1/workers", null).body()).findValuesAsText("id")).doesNotContain("secret");
        assertThat(call(OTHER_KEY, "secret", "{\"method\":\"owner\"}").statusCode()).isEqualTo(404);
        assertThat(send(OTHER_KEY, "GET", "v1/workers/secret/fetch/", null).statusCode()).isEqualTo(404);
        assertThat(send(OTHER_KEY, "DELETE", "v1/workers/secret", null).statusCode()).isEqualTo(404);
        // Its own "secret" is its own worker; loading it replaces nothing of loader's.
        assertThat(send(OTHER_KEY, "PUT", "v1/workers/secret", code(CALC, "other")).statusCode()).isEqualTo(200);
        assertThat(call(OTHER_KEY, "secret", "{\"method\":\"owner\"}").body()).isEqualTo("{\"result\":\"other\"}");
        assertThat(call(LOADER_KEY, "secret", "{\"method\":\"owner\"}").body()).isEqualTo("{\"result\":\"loader\"}");

        // From Java, as the other tenant.
        TenantWorkersClient other = Bulwark.attach(node).tenant("other");
        assertThat(other.list()).containsExactly("secret");
        assertThat(other.call("secret", null, "owner")).isEqualTo("other");
        assertThat(other.unload("secret")).isTrue();
        assertThatThrownBy(() -> other.call("secret", null, "owner"))
                .isInstanceOfSatisfying(WorkerException.class, e -> assertThat(e.code()).isEqualTo("not_found"));

        // Through a worker's own loader (tenant loader's worker): the same id is the loader's own worker.
        HttpResponse<String> viaLoader = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/api-id?id=secret"))
                .header("Host", "loader").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(viaLoader.body()).isEqualTo("loader's own");
        assertThat(call(LOADER_KEY, "secret", "{\"method\":\"owner\"}").body()).isEqualTo("{\"result\":\"loader\"}");
        send(LOADER_KEY, "DELETE", "v1/workers/secret", null);
    }

    @Test
    void theEmbeddingApiLoadsCallsAndFetches() {
        TenantWorkersClient acme = Bulwark.attach(node).tenant("loader");
        acme.load("embedded", WorkerSource.of("2025-06-01", "main.js").js("main.js", CALC).env(Map.of("OWNER", "java")));
        assertThat(acme.call("embedded", null, "add", 40, 2)).isEqualTo(42L);
        assertThat(acme.call("embedded", null, "add", 0.5, 2)).isEqualTo(2.5);
        Map<?, ?> collections = (Map<?, ?>) acme.call("embedded", null, "collections");
        assertThat(collections.get("m")).isEqualTo(Map.of(1L, "one", "k", true));
        assertThat(collections.get("s")).isEqualTo(java.util.Set.of("a", 2L));
        assertThatThrownBy(() -> acme.call("embedded", null, "regexp")).isInstanceOfSatisfying(WorkerException.class, e -> {
            assertThat(e.code()).isEqualTo("result_not_java");
            assertThat(e.getMessage()).startsWith("A RegExp cannot be passed to Java");
        });
        assertThatThrownBy(() -> acme.call("embedded", null, "abort")).isInstanceOfSatisfying(WorkerException.class,
                e -> assertThat(e.errorName()).isEqualTo("AbortError"));
        assertThat(acme.call("embedded", null, "echo", Map.of("k", List.of("v", true)))).isEqualTo(Map.of("k", List.of("v", true)));
        assertThat((byte[]) acme.call("embedded", null, "echo", (Object) new byte[] {1, 2, 3})).containsExactly(1, 2, 3);
        assertThatThrownBy(() -> acme.call("embedded", null, "boom")).isInstanceOfSatisfying(WorkerException.class, e -> {
            assertThat(e.code()).isEqualTo("worker_threw");
            assertThat(e.errorName()).isEqualTo("RangeError");
            assertThat(e.getMessage()).isEqualTo("too far");
        });
        TenantWorkersClient.FetchResult r = acme.fetch("embedded", null, "GET", "http://x/hi", List.of(), null);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text()).isEqualTo("java GET /hi auth=null");
        assertThatThrownBy(() -> acme.load("bad", WorkerSource.of("2025-06-01", "main.js")))
                .isInstanceOfSatisfying(WorkerException.class, e -> assertThat(e.code()).isEqualTo("invalid_worker_code"));
        assertThat(acme.unload("embedded")).isTrue();
    }
}
