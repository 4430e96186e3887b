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

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static dev.bulwark.server.node.BudgetNodeMain.bundle;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The egress gateway's node-wide budget for request bodies that travel inside the message
 * ({@code EgressGateway.REQUEST_BODY_BUDGET_KIB}, 64 MiB): with 64 fetches of 1 MiB bodies in flight
 * to an upstream that never answers, a 65th is refused at once, while the open-upstream limits
 * (set high here) would have let it through.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class EgressBodyBudgetTest {
    @TempDir
    static Path data;
    static Node node;
    static HttpServer upstream;
    static final CountDownLatch release = new CountDownLatch(1);
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 128);
        upstream.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        upstream.createContext("/hang", ex -> { // never reads the body, never answers
            try {
                release.await(120, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ex.close();
        });
        upstream.start();
        Limits limits = new Limits(5_000, 60_000, 256, 100, 1 << 20, 1 << 16, 1 << 20);
        EgressSettings egress = new EgressSettings(List.of("127.0.0.1"), false).withTestOnlyLoopbackAllowed()
                .withLimits(8 << 20, 5_000, 100, 100);
        node = Node.start(Settings.of(data, "bodies").withPort(0).withLimits(limits)
                .withSandboxes(SandboxSettings.DEFAULTS.withRssCeilingMb(1536).withPoolSize(2)).withEgress(egress));
        node.deploy(new DeployedWorker("bodies", "bodies", bundle("""
                export default {
                  async fetch(request, env) {
                    const all = [];
                    for (let i = 0; i < 65; i++) {
                      all.push(fetch("http://127.0.0.1:" + env.UPSTREAM + "/hang", { method: "POST", body: new Uint8Array(1 << 20) })
                        .then((r) => "answered " + r.status, (e) => e.name + ": " + e.message));
                    }
                    const outcomes = {};
                    for (const o of await Promise.all(all)) outcomes[o] = (outcomes[o] ?? 0) + 1;
                    return Response.json(Object.fromEntries(Object.entries(outcomes).sort()));
                  }
                };"""), "{\"UPSTREAM\":\"" + upstream.getAddress().getPort() + "\"}", limits));
    }

    @AfterAll
    static void stop() {
        release.countDown();
        if (node != null) node.close();
        if (upstream != null) upstream.stop(0);
    }

    @Test
    void pastSixtyFourMebibytesOfBodiesInFlightAFetchIsRefusedAtOnce() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/"))
                .header("Host", "bodies").timeout(Duration.ofSeconds(120)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.body()).isEqualTo("{\"TypeError: The upstream did not answer within 5000 ms\":64,"
                + "\"TypeError: Too many request body bytes in flight on this node; try again later\":1}");
    }
}
