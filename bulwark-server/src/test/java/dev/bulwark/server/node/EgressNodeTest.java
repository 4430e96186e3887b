package dev.bulwark.server.node;

import com.sun.net.httpserver.HttpServer;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import dev.bulwark.server.config.EgressSettings;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The egress gateway against a real node, real sandboxes and a local upstream (a JDK HTTP server
 * on 127.0.0.1, reachable only through the settings' test-only loopback allowance), from the
 * attacker's side: bodies stream with back-pressure and caps, every spelling of an internal
 * address is refused, loops through the node are bounded, and a bystander tenant keeps answering.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class EgressNodeTest {
    @TempDir
    static Path data;
    @TempDir
    static Path data2;
    static Node node;
    /** A node that allows any host but no loopback: what every internal address must meet. */
    static Node strict;
    static HttpServer upstream;
    static final AtomicLong bigBytesWritten = new AtomicLong();
    static final AtomicInteger loopHits = new AtomicInteger();
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    // A heap of 256 MiB: a 100 MiB body plus its copy fit in what one task may grow the sandbox by (twice the heap).
    static final Limits LIMITS = new Limits(2_000, 20_000, 256, 50, 1 << 20, 1 << 16, 1 << 20);

    static final String WORKER = """
            export default {
              async fetch(request, env) {
                const url = new URL(request.url);
                const up = "http://127.0.0.1:" + env.UPSTREAM;
                const read = async (r) => { let n = 0; const rd = r.body.getReader();
                  for (;;) { const {done, value} = await rd.read(); if (done) return n; n += value.byteLength; } };
                try {
                  switch (url.pathname) {
                    case "/stream": return new Response(String(await read(await fetch(up + "/big?mb=" + url.searchParams.get("mb")))));
                    case "/stall": {
                      const r = await fetch(up + "/big?mb=1024");
                      await scheduler.wait(1500);
                      return new Response("held " + r.status);
                    }
                    case "/cancel": {
                      const r = await fetch(up + "/big?mb=1024");
                      const rd = r.body.getReader();
                      const first = await rd.read();
                      await rd.cancel();
                      await scheduler.wait(500);
                      return new Response("canceled after " + first.value.byteLength);
                    }
                    case "/headers": {
                      const r = await fetch(up + "/headers", {headers: {"cf-ew-via": "99", "x-bulwark-loop": "forged", "x-mine": "1"}});
                      return new Response(await r.text());
                    }
                    case "/loop": {
                      await fetch(up + "/hit");
                      const kids = [];
                      for (let i = 0; i < 3; i++) kids.push(fetch("http://127.0.0.1:" + env.SELF + "/loop").then(r => r.status, e => e.message));
                      return new Response((await Promise.all(kids)).join(","));
                    }
                    case "/redirect": {
                      const to = url.searchParams.get("to").replace("UP", up);
                      const r = await fetch(up + "/redirect?to=" + encodeURIComponent(to), {redirect: url.searchParams.get("mode") ?? "follow"});
                      return new Response(r.status + " " + r.redirected + " " + (await r.text()).trim());
                    }
                    case "/upload": {
                      const mb = Number(url.searchParams.get("mb"));
                      let sent = 0;
                      const body = new ReadableStream({ pull(c) {
                        if (sent === mb * 16) { c.close(); return; }
                        sent++; c.enqueue(new Uint8Array(64 << 10).fill(1)); } });
                      const r = await fetch(up + "/count", {method: "POST", body});
                      return new Response(await r.text());
                    }
                    case "/upload-bytes": {
                      const r = await fetch(up + "/count", {method: "PUT", body: new Uint8Array(20 << 20)});
                      return new Response(await r.text());
                    }
                    case "/big-response": return new Response(new Uint8Array(100 << 20).fill(65));
                    default: return new Response("fine");
                  }
                } catch (e) { return new Response(e.name + ": " + e.message, {status: 502}); }
              }
            };""";

    static final String PROBE = """
            export default {
              async fetch(request) {
                const target = new URL(request.url).searchParams.get("url");
                try { const r = await fetch(target); return new Response("reached " + r.status); }
                catch (e) { return new Response(e.name + ": " + e.message, {status: 502}); }
              }
            };""";

    @BeforeAll
    static void start() throws Exception {
        upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        upstream.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        upstream.createContext("/big", ex -> {
            long mb = Long.parseLong(ex.getRequestURI().getQuery().substring(3));
            ex.sendResponseHeaders(200, 0);
            byte[] block = new byte[64 << 10];
            try (OutputStream out = ex.getResponseBody()) {
                for (long i = 0; i < mb * 16; i++) {
                    out.write(block);
                    bigBytesWritten.addAndGet(block.length);
                }
            } catch (IOException clientGone) {
                // the gateway closed the connection: what this test wants
            }
        });
        upstream.createContext("/headers", ex -> {
            StringBuilder sb = new StringBuilder();
            ex.getRequestHeaders().forEach((k, vs) -> sb.append(k.toLowerCase()).append('=').append(String.join(",", vs)).append('\n'));
            byte[] b = sb.toString().getBytes();
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        upstream.createContext("/redirect", ex -> {
            String to = java.net.URLDecoder.decode(ex.getRequestURI().getRawQuery().substring(3), java.nio.charset.StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Location", to);
            ex.sendResponseHeaders(302, -1);
            ex.close();
        });
        upstream.createContext("/count", ex -> {
            long n = ex.getRequestBody().transferTo(OutputStream.nullOutputStream());
            byte[] b = Long.toString(n).getBytes();
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        upstream.createContext("/hit", ex -> {
            loopHits.incrementAndGet();
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        upstream.start();

        EgressSettings egress = new EgressSettings(List.of("127.0.0.1"), false).withTestOnlyLoopbackAllowed()
                .withLimits(8 << 20, 15_000, 128, 100);
        node = Node.start(Settings.of(data, "egress").withPort(0).withLimits(LIMITS)
                .withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(2)).withEgress(egress));
        String env = "{\"UPSTREAM\":\"" + upstream.getAddress().getPort() + "\",\"SELF\":\"" + node.port() + "\"}";
        node.deploy(new DeployedWorker("egress", "egress", bundle(WORKER), env, LIMITS));
        // The worker calls itself at 127.0.0.1: requests no route claims go to it.
        node.defaultWorker("egress");
        node.deploy(new DeployedWorker("bystander", "other-tenant", bundle(
                "export default { fetch() { return new Response('still here'); } };"), "{}", LIMITS));

        strict = Node.start(Settings.of(data2, "probe").withPort(0).withLimits(LIMITS)
                .withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(2))
                .withEgress(new EgressSettings(List.of("*"), true)));
        strict.deploy(new DeployedWorker("probe", "probe", bundle(PROBE), "{}", LIMITS));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
        if (strict != null) strict.close();
        if (upstream != null) upstream.stop(0);
    }

    static WorkerBundle bundle(String js) {
        return WorkerBundle.of("index.js", List.of(WorkerModule.text("index.js", ModuleType.JS, js)));
    }

    static HttpResponse<String> get(Node n, String worker, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.port() + path))
                .header("Host", worker).timeout(Duration.ofSeconds(90)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static void bystanderAnswers() throws Exception {
        assertThat(get(node, "bystander", "/").body()).isEqualTo("still here");
    }

    @Test
    void anUpstreamBodyStreamsToTheWorkerWhole() throws Exception {
        HttpResponse<String> r = get(node, "egress", "/stream?mb=4");
        assertThat(r.body()).isEqualTo(Long.toString(4L << 20));
        bystanderAnswers();
    }

    @Test
    void aStreamedRequestBodyLargerThanAnyMessageReachesTheUpstreamWhole() throws Exception {
        // 24 MiB: three times what one Subrequest message may carry.
        assertThat(get(node, "egress", "/upload?mb=24").body()).isEqualTo(Long.toString(24L << 20));
        // A 20 MiB body in hand is streamed the same way.
        assertThat(get(node, "egress", "/upload-bytes").body()).isEqualTo(Long.toString(20L << 20));
        bystanderAnswers();
    }

    @Test
    void aBodyOverTheCapEndsTheStreamWithAClearError() throws Exception {
        HttpResponse<String> r = get(node, "egress", "/stream?mb=64");
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(r.body()).isEqualTo("TypeError: The response body is larger than this node passes to a worker (8388608 bytes)");
        bystanderAnswers();
    }

    @Test
    void aWorkerThatDoesNotReadHoldsTheUpstreamBackInsteadOfTheNodeBuffering() throws Exception {
        long before = bigBytesWritten.get();
        HttpResponse<String> r = get(node, "egress", "/stall");
        assertThat(r.body()).isEqualTo("held 200");
        // Of a 1 GiB body, only the window, the chunk in hand and the sockets' buffers were pulled.
        await().atMost(Duration.ofSeconds(30)).until(() -> node.egressOpenUpstreams() == 0);
        assertThat(bigBytesWritten.get() - before).isLessThan(16L << 20);
        bystanderAnswers();
    }

    @Test
    void cancelingTheBodyClosesTheUpstream() throws Exception {
        long before = bigBytesWritten.get();
        HttpResponse<String> r = get(node, "egress", "/cancel");
        assertThat(r.body()).startsWith("canceled after ");
        await().atMost(Duration.ofSeconds(30)).until(() -> node.egressOpenUpstreams() == 0);
        assertThat(bigBytesWritten.get() - before).isLessThan(16L << 20);
    }

    @Test
    void loopHeadersAreTheNodesOwnAndHopByHopHeadersAreDropped() throws Exception {
        String seen = get(node, "egress", "/headers").body();
        assertThat(seen).contains("cf-ew-via=15\n").contains("x-mine=1\n").doesNotContain("forged");
        assertThat(seen).containsPattern("x-bulwark-loop=[0-9a-f]{32}\n");
    }

    @Test
    void theLoopCounterGoesDownByOneAndARequestWithNoneLeftIsRefused() throws Exception {
        HttpResponse<String> one = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/headers"))
                .header("Host", "egress").header("CF-EW-Via", "1").timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(one.body()).contains("cf-ew-via=0\n");
        HttpResponse<String> none = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/"))
                .header("Host", "egress").header("CF-EW-Via", "0").timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(none.statusCode()).isEqualTo(508);
        assertThat(none.body()).contains("\"code\":\"loop_limit_exceeded\"").contains("passed through 16 workers");
    }

    @Test
    void aWorkerCallingItselfThroughTheNodeIsBoundedByTheLoopLimit() throws Exception {
        loopHits.set(0);
        HttpResponse<String> r = get(node, "egress", "/loop");
        assertThat(r.statusCode()).isEqualTo(200);
        // Fan-out 3 at every level would never end; one client request causes at most 16 invocations.
        assertThat(loopHits.get()).isEqualTo(InvocationRecords.TREE_LIMIT);
        await().atMost(Duration.ofSeconds(30)).until(() -> node.liveLoopTrees() == 0);
        bystanderAnswers();
    }

    @Test
    void redirectsAreFollowedHopByHopAndEveryHopIsCheckedAgain() throws Exception {
        String followed = get(node, "egress", "/redirect?to=" + enc("UP/headers")).body();
        assertThat(followed).startsWith("200 true ").contains("cf-ew-via=15");
        assertThat(get(node, "egress", "/redirect?mode=manual&to=" + enc("UP/headers")).body()).isEqualTo("302 false ");
        int port = upstream.getAddress().getPort();
        for (String internal : List.of("http://localhost:" + port + "/hit", "http://169.254.169.254/latest/meta-data/",
                "http://[::1]:" + port + "/hit", "file:///etc/passwd")) {
            HttpResponse<String> r = get(node, "egress", "/redirect?to=" + enc(internal));
            assertThat(r.statusCode()).as(internal).isEqualTo(502);
            // An internal address is refused by the egress policy; a file: URL is not followed at all.
            assertThat(r.body()).as(internal).startsWith("TypeError: ")
                    .contains(internal.startsWith("file:") ? "cannot follow" : "is not allowed by this node's egress policy");
        }
        assertThat(get(node, "egress", "/redirect?mode=error&to=" + enc("UP/headers")).body())
                .isEqualTo("TypeError: Redirect was not allowed (redirect: \"error\").");
    }

    static String enc(String s) {
        return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void aHundredMebibyteResponseBodyInOneChunkReachesTheClientAndKillsNothing() throws Exception {
        HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/big-response"))
                .header("Host", "egress").timeout(Duration.ofSeconds(90)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).as(new String(r.body(), 0, Math.min(300, r.body().length))).isEqualTo(200);
        assertThat(r.body().length).isEqualTo(100 << 20);
        assertThat(get(node, "egress", "/").body()).isEqualTo("fine");
        bystanderAnswers();
    }

    @Test
    void everySpellingOfAnInternalAddressIsRefused() throws Exception {
        int port = upstream.getAddress().getPort();
        for (String target : List.of("http://127.0.0.1:" + port + "/hit", "http://2130706433:" + port + "/hit",
                "http://0x7f.1:" + port + "/hit", "http://0177.0.0.1:" + port + "/hit", "http://[::1]:" + port + "/hit",
                "http://[::ffff:127.0.0.1]:" + port + "/hit", "http://[::ffff:7f00:1]:" + port + "/hit",
                "http://localhost:" + port + "/hit", "http://169.254.169.254/latest/meta-data/",
                "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:7f00:1::1]:" + port + "/hit", "http://0.0.0.0:" + port + "/hit",
                "http://127.0.0.1:" + strict.port() + "/")) {
            HttpResponse<String> r = get(strict, "probe", "/?url=" + java.net.URLEncoder.encode(target, java.nio.charset.StandardCharsets.UTF_8));
            assertThat(r.statusCode()).as(target).isEqualTo(502);
            assertThat(r.body()).as(target).startsWith("TypeError: Network connection to ").contains("is not allowed");
        }
        assertThat(loopHits.get()).isZero();
    }
}
