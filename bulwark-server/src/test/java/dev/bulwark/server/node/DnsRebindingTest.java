package dev.bulwark.server.node;

import com.sun.net.httpserver.HttpServer;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.server.config.EgressSettings;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import dev.bulwark.server.egress.RebindingResolverProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.bulwark.server.node.BudgetNodeMain.bundle;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * DNS rebinding is closed (issue 13): the egress gateway connects to the address it checked. A
 * JDK-level resolver ({@link RebindingResolverProvider}) answers the allowed name {@code
 * rebind.bulwark-test} with a public address on its first lookup and with 127.0.0.1 on every
 * later one; a loopback server listens on the port the worker fetches. A gateway that checked the
 * name and then let its HTTP client resolve it again would connect to the loopback server.
 *
 * <p>Redirects need no case of their own: the gateway's client follows none; the worker's fetch
 * sends every hop back through the gateway as a new subrequest, checked like the second fetch here.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DnsRebindingTest {
    static final String NAME = "rebind.bulwark-test";
    /** Public by every rule of the classifier; what (if anything) answers there is the test machine's network. */
    static final String PUBLIC = "93.184.215.14";
    static final String SECRET = "the node's loopback service";

    @TempDir
    static Path data;
    static Node node;
    static HttpServer loopback;
    static final AtomicInteger loopbackRequests = new AtomicInteger();
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    static final String WORKER = """
            export default {
              async fetch(request, env) {
                try {
                  const r = await fetch("http://%s:" + env.PORT + "/");
                  return new Response("answered " + r.status + ": " + await r.text());
                } catch (e) {
                  return new Response(e.name + ": " + e.message);
                }
              }
            };""".formatted(NAME);

    @BeforeAll
    static void start() throws Exception {
        loopback = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        loopback.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        loopback.createContext("/", ex -> {
            loopbackRequests.incrementAndGet();
            byte[] body = SECRET.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        loopback.start();
        Limits limits = new Limits(1_000, 30_000, 64, 50, 1 << 20, 1 << 16, 1 << 20);
        // Loopback stays forbidden (no test-only loopback switch): only the rebinding could reach it.
        EgressSettings egress = new EgressSettings(List.of(NAME), false).withLimits(1 << 20, 5_000, 8, 8);
        node = Node.start(Settings.of(data, "t1").withPort(0).withLimits(limits)
                .withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(0)).withEgress(egress));
        node.deploy(new DeployedWorker("w", "t1", bundle(WORKER), "{\"PORT\":\"" + loopback.getAddress().getPort() + "\"}",
                limits));
    }

    @AfterAll
    static void stop() {
        RebindingResolverProvider.disarm(NAME);
        if (node != null) node.close();
        if (loopback != null) loopback.stop(0);
    }

    static String get() throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/")).header("Host", "w")
                .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void theGatewayConnectsToTheAddressItCheckedAndARebindToLoopbackIsRefused() throws Exception {
        RebindingResolverProvider.arm(NAME, InetAddress.getByName(PUBLIC), InetAddress.getByName("127.0.0.1"));

        String first = get();
        assertThat(loopbackRequests.get()).as("the loopback server was never reached").isZero();
        assertThat(first).as("whatever the public address answered, it was not the loopback server").doesNotContain(SECRET);
        assertThat(RebindingResolverProvider.lookups(NAME))
                .as("the gateway resolved the name once, and connected to what that lookup answered").isEqualTo(1);

        // The name now resolves to 127.0.0.1: checked again, and refused as internal before any connection.
        assertThat(get()).isEqualTo("TypeError: Network connection to " + NAME
                + " (127.0.0.1) is not allowed: it is a loopback address");
        assertThat(RebindingResolverProvider.lookups(NAME)).isEqualTo(2);
        assertThat(loopbackRequests.get()).isZero();
    }
}
