package dev.bulwark.server.node;

import com.sun.net.httpserver.HttpServer;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.server.config.EgressSettings;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static dev.bulwark.server.node.BudgetNodeMain.bundle;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The egress gateway's time and concurrency limits (issue 13: "bound the gateway's total memory,
 * and time out"): an upstream that never answers, or stops sending its body, fails the worker's
 * fetch at {@code egress.timeout_ms}; past {@code egress.max_concurrent_per_tenant} and
 * {@code egress.max_concurrent} a fetch rejects at once.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class EgressLimitsTest {
    static final int TIMEOUT_MS = 3_000;
    @TempDir
    static Path data;
    static Node node;
    static HttpServer upstream;
    static final CountDownLatch release = new CountDownLatch(1);
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    static final String WORKER = """
            export default {
              async fetch(request, env) {
                const up = "http://127.0.0.1:" + env.UPSTREAM;
                const outcome = (p) => p.then(async (r) => "read " + (await r.text()).length, (e) => e.name + ": " + e.message);
                const n = Number(new URL(request.url).searchParams.get("n") ?? 1);
                switch (new URL(request.url).pathname) {
                  case "/hang": {
                    const all = [];
                    for (let i = 0; i < n; i++) all.push(outcome(fetch(up + "/hang")));
                    return new Response((await Promise.all(all)).sort().join("\\n"));
                  }
                  case "/trickle": {
                    const r = await fetch(up + "/trickle");
                    try { await r.text(); return new Response("read it all"); }
                    catch (e) { return new Response(r.status + " then " + e.name + ": " + e.message); }
                  }
                  default: return new Response("fine");
                }
              }
            };""";

    @BeforeAll
    static void start() throws Exception {
        upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        upstream.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        upstream.createContext("/hang", ex -> { // never answers
            awaitRelease();
            ex.close();
        });
        upstream.createContext("/trickle", ex -> { // a head and 1 KiB of body, then nothing
            ex.sendResponseHeaders(200, 0);
            OutputStream out = ex.getResponseBody();
            out.write(new byte[1024]);
            out.flush();
            awaitRelease();
            ex.close();
        });
        upstream.start();
        Limits limits = new Limits(1_000, 30_000, 64, 50, 1 << 20, 1 << 16, 1 << 20);
        EgressSettings egress = new EgressSettings(List.of("127.0.0.1"), false).withTestOnlyLoopbackAllowed()
                .withLimits(8 << 20, TIMEOUT_MS, 3, 2);
        node = Node.start(Settings.of(data, "t1").withPort(0).withLimits(limits)
                .withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(2)).withEgress(egress));
        String env = "{\"UPSTREAM\":\"" + upstream.getAddress().getPort() + "\"}";
        node.deploy(new DeployedWorker("one", "t1", bundle(WORKER), env, limits));
        node.deploy(new DeployedWorker("two", "t2", bundle(WORKER), env, limits));
    }

    static void awaitRelease() {
        try {
            release.await(120, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @AfterAll
    static void stop() {
        release.countDown();
        if (node != null) node.close();
        if (upstream != null) upstream.stop(0);
    }

    static HttpResponse<String> get(String worker, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + path)).header("Host", worker)
                .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void closingANodeStopsItsEgressClient(@TempDir Path dir) throws Exception {
        Node other = Node.start(Settings.of(dir, "t").withPort(0)
                .withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(0)));
        assertThat(other.egressClientRunning()).isTrue();
        other.close();
        assertThat(other.egressClientRunning()).as("the egress HTTP client (its threads and pooled buffers) is stopped").isFalse();
    }

    @Test
    void anUpstreamThatNeverAnswersFailsTheFetchAtTheTimeout() throws Exception {
        assertThat(get("one", "/hang").body()).isEqualTo("TypeError: The upstream did not answer within 3000 ms");
    }

    @Test
    void anUpstreamThatStopsSendingItsBodyFailsTheReadAtTheTimeout() throws Exception {
        assertThat(get("one", "/trickle").body()).isEqualTo("200 then TypeError: Network connection to 127.0.0.1 timed out");
    }

    @Test
    void pastTheTenantsLimitAFetchRejectsAtOnce() throws Exception {
        assertThat(get("one", "/hang?n=3").body()).isEqualTo("""
                TypeError: The upstream did not answer within 3000 ms
                TypeError: The upstream did not answer within 3000 ms
                TypeError: Too many outbound requests in flight for this tenant; try again later""");
    }

    @Test
    void pastTheNodesLimitAFetchRejectsAtOnceWhateverItsTenant() throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(() -> node.egressOpenUpstreams() == 0);
        CompletableFuture<HttpResponse<String>> first = CompletableFuture.supplyAsync(() -> {
            try {
                return get("one", "/hang?n=2");
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        // Tenant t1 holds two of the node's three upstreams; t2 gets the third and is refused a fourth.
        await().atMost(Duration.ofSeconds(30)).until(() -> node.egressOpenUpstreams() == 2);
        assertThat(get("two", "/hang?n=2").body()).isEqualTo("""
                TypeError: The upstream did not answer within 3000 ms
                TypeError: Too many outbound requests in flight on this node; try again later""");
        assertThat(first.get(60, TimeUnit.SECONDS).body()).isEqualTo("""
                TypeError: The upstream did not answer within 3000 ms
                TypeError: The upstream did not answer within 3000 ms""");
    }
}
