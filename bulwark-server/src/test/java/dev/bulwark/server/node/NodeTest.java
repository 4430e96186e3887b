package dev.bulwark.server.node;

import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import dev.bulwark.server.config.Settings;
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
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The node end to end: real sandbox processes, real HTTP, real crashes. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NodeTest {
    @TempDir
    static Path data;
    static Node node;


    static final HttpClient http = TestProjects.HTTP;

    static final Limits LIMITS = new Limits(200, 5_000, 64, 5, 1 << 20, 1 << 16, 1 << 16);

    @BeforeAll
    static void start() throws Exception {
        Path hello = Path.of("..", "examples", "hello").toAbsolutePath().normalize();
        var project = TestProjects.load(hello, data);
        node = Node.serve(project);
        node.deploy(new DeployedWorker("slow", "hello", bundle("""
                export default {
                  async fetch(request) {
                    const url = new URL(request.url);
                    if (url.pathname === "/spin") { while (true) {} }
                    if (url.pathname === "/read") { const t = await request.text(); return new Response(String(t.length)); }
                    if (url.pathname === "/fetch") {
                      try { await fetch("http://127.0.0.1:1/"); return new Response("reached"); }
                      catch (e) { return new Response(e.name + ": " + e.message, {status: 502}); }
                    }
                    await new Promise(r => setTimeout(r, Number(url.searchParams.get("ms") ?? 0)));
                    return new Response("slept");
                  }
                };"""), "{}", LIMITS));
        node.deploy(new DeployedWorker("echo", "hello", bundle(
                "export default { fetch(request) { return new Response(request.body); } };"), "{}", Limits.DEFAULTS));
        node.deploy(new DeployedWorker("url", "hello", bundle(
                "export default { fetch(request) { return new Response(request.url); } };"), "{}", Limits.DEFAULTS));
        node.deploy(new DeployedWorker("bodyis", "hello", bundle(
                "export default { fetch(request) { return new Response(request.body === null ? 'null' : 'a stream'); } };"),
                "{}", Limits.DEFAULTS));
        node.deploy(new DeployedWorker("stream", "hello", bundle("""
                export default {
                  fetch() {
                    const chunk = new Uint8Array(64 << 10).fill(97);
                    let sent = 0;
                    return new Response(new ReadableStream({
                      pull(c) { if (sent >= 20 << 20) { c.close(); return; } c.enqueue(chunk); sent += chunk.length; }
                    }));
                  }
                };"""), "{}", Limits.DEFAULTS));
        // A wrangler project under nodejs_compat: its date and flags travel to the sandbox process.
        Path compat = data.resolve("nodecompat-project");
        Files.createDirectories(compat);
        Files.writeString(compat.resolve("wrangler.jsonc"), """
                { "name": "nodecompat", "main": "index.js", "compatibility_date": "2025-09-20",
                  "compatibility_flags": ["nodejs_compat"], "vars": { "GREETING": "hi" } }""");
        Files.writeString(compat.resolve("index.js"), """
                import { createHash } from 'node:crypto';
                import { AsyncLocalStorage } from 'node:async_hooks';
                const als = new AsyncLocalStorage();
                export default {
                  fetch() {
                    return als.run(process.env.GREETING, async () => {
                      await new Promise((r) => setTimeout(r, 1));
                      return new Response(`${als.getStore()} ${createHash('sha256').update('abc').digest('hex').slice(0, 8)} ${Buffer.from('ok').toString('base64')}`);
                    });
                  }
                };""");
        node.deploy(node.worker(TestProjects.load(compat, data)));
        node.deploy(new DeployedWorker("other", "tenant-b", bundle(
                "export default { fetch() { return new Response('other tenant'); } };"), "{}", LIMITS));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static WorkerBundle bundle(String source) {
        return WorkerBundle.of("index.js", List.of(WorkerModule.text("index.js", ModuleType.JS, source)));
    }

    static HttpResponse<String> get(String host, String path) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + path))
                .header("Host", host).timeout(Duration.ofSeconds(60)).build();
        return http.send(req, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesTheHelloExample() throws Exception {
        HttpResponse<String> r = get("hello", "/?name=Ada");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("Hello, Ada!\n");
        assertThat(get("hello", "/hello").body()).isEqualTo("Hello World");
    }

    @Test
    void aWranglerProjectUnderNodejsCompatGetsItsNodeModules() throws Exception {
        HttpResponse<String> r = get("nodecompat", "/");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("hi ba7816bf b2s=");
    }

    @Test
    void echoesARequestBodyAndRefusesOneOverTheLimit() throws Exception {
        HttpRequest post = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/echo"))
                .POST(HttpRequest.BodyPublishers.ofString("payload")).build();
        assertThat(http.send(post, HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("payload");

        HttpRequest big = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/echo"))
                .header("Host", "slow").POST(HttpRequest.BodyPublishers.ofByteArray(new byte[(1 << 16) + 1])).build();
        HttpResponse<String> r = http.send(big, HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(r.body()).contains("\"code\":\"request_too_large\"");
    }

    @Test
    void streamsALargeRequestBodyThroughTheWorkerAndBack() throws Exception {
        byte[] payload = new byte[3 << 20];
        new java.util.Random(7).nextBytes(payload);
        HttpRequest post = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/"))
                .header("Host", "echo").POST(HttpRequest.BodyPublishers.ofByteArray(payload)).build();
        HttpResponse<byte[]> r = http.send(post, HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body().length).isEqualTo(payload.length);
        assertThat(java.util.Arrays.equals(r.body(), payload)).as("echoed bytes equal").isTrue();
    }

    @Test
    void aLargeStreamedResponseArrivesWholeThroughTheAcknowledgementWindow() throws Exception {
        HttpResponse<java.io.InputStream> r = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + node.port() + "/")).header("Host", "stream").build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        long total = 0;
        try (java.io.InputStream in = r.body()) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) >= 0; ) total += n;
        }
        assertThat(total).isEqualTo(20L << 20);
    }

    @Test
    void aChunkedBodyOverTheLimitIs413() throws Exception {
        // No Content-Length: the node only learns the size while streaming.
        HttpRequest big = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/read"))
                .header("Host", "slow")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(new byte[200_000])))
                .build();
        HttpResponse<String> r = http.send(big, HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(r.body()).contains("\"code\":\"request_too_large\"");
        assertThat(get("slow", "/?ms=1").body()).isEqualTo("slept");
    }

    @Test
    void aSandboxHasIcuAndRunsInUtc() throws Exception {
        // The node deploys ICU's data beside the V8 library in its run directory; the sandbox finds it.
        node.deploy(new DeployedWorker("intl", "hello", bundle("""
                const WORD = /\\p{L}+/gu;
                export default {
                  fetch() {
                    return new Response([
                      new Date(0).toLocaleDateString("en-US", {year: "numeric", month: "long", timeZone: "UTC"}),
                      new Intl.DateTimeFormat().resolvedOptions().timeZone,
                      new Date(0).getTimezoneOffset(),
                      "Grüße, Ünïcode!".match(WORD).join("|"),
                    ].join(" / "));
                  }
                };"""), "{}", Limits.DEFAULTS));
        HttpResponse<String> r = get("intl", "/");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("January 1970 / UTC / 0 / Grüße|Ünïcode");
    }

    @Test
    void aCpuLimitEndsOnlyThatRequest() throws Exception {
        HttpResponse<String> r = get("slow", "/spin");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        assertThat(r.body()).contains("\"code\":\"cpu_limit_exceeded\"").contains("\"requestId\"");
        assertThat(get("slow", "/?ms=1").body()).isEqualTo("slept");
        assertThat(get("hello", "/hello").body()).isEqualTo("Hello World");
    }

    @Test
    void tenantsNeverShareASandboxProcess() throws Exception {
        assertThat(get("other", "/").body()).isEqualTo("other tenant");
        List<Long> a = node.supervisor().pids("hello");
        List<Long> b = node.supervisor().pids("tenant-b");
        assertThat(a).isNotEmpty();
        assertThat(b).isNotEmpty();
        assertThat(a).doesNotContainAnyElementsOf(b);
    }

    @Test
    void outboundFetchIsDeniedByDefault() throws Exception {
        HttpResponse<String> r = get("slow", "/fetch");
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(r.body()).startsWith("TypeError").contains("not allowed");
    }

    @Test
    void aKilledSandboxFailsItsRequestsWith503AndIsReplaced() throws Exception {
        assertThat(get("other", "/").statusCode()).isEqualTo(200);
        long victim = node.supervisor().pids("hello").getFirst();
        CompletableFuture<HttpResponse<String>> inFlight = http.sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/?ms=4000"))
                        .header("Host", "slow").timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofString());
        // Kill only once the request is in flight in that sandbox.
        await().atMost(Duration.ofSeconds(30)).until(() -> node.supervisor().processes().stream()
                .anyMatch(p -> p.pid() == victim && p.inFlight() > 0));
        ProcessHandle.of(victim).orElseThrow().destroyForcibly(); // SIGKILL

        HttpResponse<String> r = inFlight.get(30, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(503);
        // Why it died (killed, exit status) is the operator's to read in the log, not the client's.
        assertThat(r.body()).contains("\"code\":\"sandbox_crashed\"").doesNotContain("status 137");

        // The other tenant never noticed; the node replaced the sandbox and serves again.
        assertThat(get("other", "/").body()).isEqualTo("other tenant");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(node.supervisor().pids("hello")).isNotEmpty().doesNotContain(victim));
        assertThat(get("slow", "/?ms=1").body()).isEqualTo("slept");
        assertThat(get("hello", "/hello").body()).isEqualTo("Hello World");
    }

    /**
     * A request that arrives while its tenant has no sandbox up waits for the replacement instead of
     * failing: the front door starts only requests to a ready tenant on Jetty's thread, and takes
     * every other one to a thread of its own where it may wait (FrontDoor.routedAtOnce).
     */
    @Test
    void aRequestWhileItsTenantsSandboxIsReplacedWaitsForTheNewOne() throws Exception {
        assertThat(get("other", "/").body()).isEqualTo("other tenant");
        long victim = node.supervisor().pids("tenant-b").getFirst();
        ProcessHandle.of(victim).orElseThrow().destroyForcibly(); // SIGKILL
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5))
                .until(() -> !node.supervisor().ready("tenant-b"));

        HttpResponse<String> r = get("other", "/");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("other tenant");
        assertThat(node.supervisor().pids("tenant-b")).isNotEmpty().doesNotContain(victim);
    }

    @Test
    void twoHundredConcurrentRequestsThatWaitInHostCallsAllAnswer() throws Exception {
        List<CompletableFuture<HttpResponse<String>>> all = new java.util.ArrayList<>();
        for (int i = 0; i < 200; i++) {
            all.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/?ms=200"))
                    .header("Host", "slow").timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> f : all) {
            HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("slept");
        }
    }

    @Test
    void aMalformedRequestGetsTheJsonErrorShapeToo() throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", node.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String answer = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(answer).startsWith("HTTP/1.1 400").contains("application/json")
                    .contains("{\"error\":{\"code\":\"bad_request\"");
        }
        assertThat(get("hello", "/hello").body()).isEqualTo("Hello World");
    }

    @Test
    void aNodeRemovesTheRunDirectoryOfAKilledNode() throws Exception {
        Path stale = java.nio.file.Files.createTempDirectory("bulwark-");
        java.nio.file.Files.writeString(stale.resolve("node.pid"), "2147483646"); // no such process
        java.nio.file.Files.write(stale.resolve("libjavet.so"), new byte[1024]);
        Path foreign = java.nio.file.Files.createTempDirectory("bulwark-"); // no owner file: not touched
        Settings settings = node.settings().withPort(0).withDataDir(data.resolve("second"));
        try (Node second = Node.start(settings)) {
            assertThat(stale).doesNotExist();
            assertThat(foreign).exists();
        } finally {
            java.nio.file.Files.deleteIfExists(foreign);
        }
    }

    @Test
    void speaksH2c() throws Exception {
        HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
        HttpResponse<String> r = h2.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/hello")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(r.body()).isEqualTo("Hello World");
    }

    /**
     * HTTP/2 has no Transfer-Encoding: a body of unknown length is a stream its headers did not end.
     * It reaches the worker whole (it was taken for no body and dropped); a request whose headers
     * end the stream still has no body.
     */
    @Test
    void anHttp2BodyOfUnknownLengthReachesTheWorker() throws Exception {
        // Jetty's client over h2c (prior knowledge), every host name resolved to this node: the
        // authority names the worker ("echo.localhost"), as a Host header does over HTTP/1.1.
        var client = new org.eclipse.jetty.client.HttpClient(
                new org.eclipse.jetty.http2.client.transport.HttpClientTransportOverHTTP2(
                        new org.eclipse.jetty.http2.client.HTTP2Client()));
        client.setSocketAddressResolver((host, port, context, promise) ->
                promise.succeeded(List.of(new java.net.InetSocketAddress("127.0.0.1", port))));
        client.start();
        try {
            byte[] body = new byte[100_000];
            new java.util.Random(7).nextBytes(body);

            var r = client.newRequest("http://echo.localhost:" + node.port() + "/").method("PUT")
                    .body(new org.eclipse.jetty.client.InputStreamRequestContent(new java.io.ByteArrayInputStream(body)))
                    .timeout(30, TimeUnit.SECONDS).send();
            var none = client.newRequest("http://bodyis.localhost:" + node.port() + "/").method("DELETE")
                    .timeout(30, TimeUnit.SECONDS).send();

            assertThat(r.getVersion()).isEqualTo(org.eclipse.jetty.http.HttpVersion.HTTP_2);
            assertThat(r.getRequest().getHeaders().get("content-length")).as("a body of unknown length").isNull();
            assertThat(r.getStatus()).as(r.getContentAsString()).isEqualTo(200);
            assertThat(r.getContent().length).isEqualTo(body.length);
            assertThat(java.util.Arrays.mismatch(r.getContent(), body)).as("the first byte that differs").isEqualTo(-1);
            assertThat(none.getContentAsString()).isEqualTo("null");
        } finally {
            client.stop();
        }
    }

    /**
     * The worker sees the URL as its client sent it, as on Cloudflare: empty segments (a proxy's
     * {@code /https://host/...}), encoded slashes and percent signs, and {@code ;} stay as they are
     * (Jetty's default answered 400 "Ambiguous URI"); dot segments are resolved; an encoded dot
     * segment is still refused, since a URL parser would read it as {@code ..}.
     */
    @Test
    void aWorkerSeesThePathAsSent() throws Exception {
        for (String path : List.of("/proxy/https://example.com/x?y=1", "/a//b/%2F/c?q=%20", "/a%25b;c=d/e")) {
            HttpResponse<String> r = get("url", path);
            assertThat(r.statusCode()).as(path).isEqualTo(200);
            assertThat(r.body()).isEqualTo("http://url" + path);
        }
        assertThat(rawGet("url", "/a/../b/./c")).contains("http://url/b/c");
        assertThat(rawGet("url", "/a/%2e%2e/b")).startsWith("HTTP/1.1 400").contains("\"code\":\"bad_request\"");
    }

    /** A GET of {@code path} exactly as written (no client normalizes it), the whole answer as text. */
    static String rawGet(String host, String path) throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", node.port())) {
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    @Test
    void tailStreamsConsoleLinesToTheOperatorOnly() throws Exception {
        HttpResponse<String> denied = get("hello", "/cdn-cgi/bulwark/tail/hello");
        assertThat(denied.statusCode()).isEqualTo(401);

        String token = Files.readString(data.resolve("admin.token")).trim();
        HttpRequest tailReq = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/cdn-cgi/bulwark/tail/hello"))
                .header("Authorization", "Bearer " + token).build();
        HttpResponse<java.io.InputStream> tail = http.send(tailReq, HttpResponse.BodyHandlers.ofInputStream());
        var lines = new java.io.BufferedReader(new java.io.InputStreamReader(tail.body()));
        assertThat(lines.readLine()).contains("\"tail\"");
        get("hello", "/?name=Tailer");
        String line = lines.readLine();
        while (line != null && line.isEmpty()) line = lines.readLine();
        assertThat(line).contains("\"level\":\"log\"").contains("greeting Tailer").contains("\"requestId\"")
                .contains("\"worker\":\"hello\"");
        tail.body().close();
    }
}
