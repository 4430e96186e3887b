package dev.bulwark.server.http;

import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import dev.bulwark.server.config.FrontDoorSettings;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import dev.bulwark.server.node.DeployedWorker;
import dev.bulwark.server.node.Node;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The node-wide cap on requests in flight ({@code front_door.max_concurrent_requests}): past it a
 * client is answered at once with a structured 503 and Retry-After, whatever tenant it asks for;
 * the node's own endpoints still answer; places come back when requests end.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConcurrencyCapTest {
    static final int CAP = 2;
    @TempDir
    static Path data;
    static Node node;
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        Limits limits = new Limits(100, 4_000, 64, 5, 1 << 20, 1 << 16, 1 << 16);
        node = Node.start(Settings.of(data, "a").withPort(0).withLimits(limits)
                .withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(2))
                .withFrontDoor(new FrontDoorSettings(List.of(), "local", CAP)));
        // A response whose body never ends: in flight until the wall-clock limit ends it.
        node.deploy(new DeployedWorker("open", "a", bundle("""
                export default { fetch() {
                  return new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("x")); } }));
                } };"""), "{}", limits));
        node.deploy(new DeployedWorker("other", "b", bundle("export default { fetch() { return new Response('ok'); } };"),
                "{}", limits));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static WorkerBundle bundle(String js) {
        return WorkerBundle.of("index.js", List.of(WorkerModule.text("index.js", ModuleType.JS, js)));
    }

    static HttpResponse<String> get(String host, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + path)).header("Host", host)
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Sends a request and returns once its response head and first byte arrived: it is in flight. */
    static Socket inFlight() throws Exception {
        Socket s = new Socket("127.0.0.1", node.port());
        s.getOutputStream().write("GET / HTTP/1.1\r\nHost: open\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        InputStream in = s.getInputStream();
        StringBuilder seen = new StringBuilder();
        while (!seen.toString().contains("\r\n\r\n1\r\nx")) {
            int b = in.read();
            assertThat(b).as("the open response's head and first chunk").isNotNegative();
            seen.append((char) b);
        }
        assertThat(seen.toString()).startsWith("HTTP/1.1 200");
        return s;
    }

    @Test
    void pastTheCapClientsGetAStructured503WithRetryAfterUntilPlacesComeBack() throws Exception {
        List<Socket> open = new ArrayList<>();
        try {
            for (int i = 0; i < CAP; i++) open.add(inFlight());

            HttpResponse<String> refused = get("other", "/");
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.headers().firstValue("retry-after")).hasValue("1");
            assertThat(refused.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
            assertThat(refused.body()).isEqualTo("{\"error\":{\"code\":\"node_overloaded\",\"message\":"
                    + "\"the node is serving its maximum of 2 concurrent requests; retry later\"}}");
            // The node's own endpoints are not requests to workers.
            assertThat(get("other", "/cdn-cgi/bulwark/health").statusCode()).isEqualTo(200);
        } finally {
            for (Socket s : open) s.close();
        }
        // The open requests end (their clients left, or at the wall-clock limit) and give their places back.
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        HttpResponse<String> r = get("other", "/");
        while (r.statusCode() == 503 && System.nanoTime() < until) {
            Thread.sleep(200);
            r = get("other", "/");
        }
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("ok");
        // Refused requests never took a place: the cap is whole again.
        List<Socket> again = new ArrayList<>();
        try {
            for (int i = 0; i < CAP; i++) again.add(inFlight());
            assertThat(get("other", "/").statusCode()).isEqualTo(503);
        } finally {
            for (Socket s : again) s.close();
        }
    }
}
