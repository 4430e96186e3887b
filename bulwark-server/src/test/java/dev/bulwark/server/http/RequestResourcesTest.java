package dev.bulwark.server.http;

import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import dev.bulwark.server.node.DeployedWorker;
import dev.bulwark.server.node.Node;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** What one request holds in the front door is released when the request ends. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RequestResourcesTest {
    @TempDir
    static Path data;
    static Node node;
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        // The tail's keep-alive line finds out that its client left: every 500 ms here instead of 15 s.
        System.setProperty("bulwark.tail.heartbeatMs", "500");
        Limits limits = new Limits(1_000, 60_000, 64, 5, 1 << 20, 1 << 16, 1 << 20);
        node = Node.start(Settings.of(data, "w").withPort(0).withLimits(limits)
                .withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(2)));
        node.deploy(new DeployedWorker("w", "w", WorkerBundle.of("index.js", List.of(WorkerModule.text("index.js",
                ModuleType.JS, "export default { fetch() { console.log('hi'); return new Response('ok'); } };"))), "{}", limits));
        node.defaultWorker("w");
    }

    @AfterAll
    static void stop() {
        System.clearProperty("bulwark.tail.heartbeatMs");
        if (node != null) node.close();
    }

    @Test
    void aFinishedRequestLeavesNoGuardTaskBehind() throws Exception {
        for (int i = 0; i < 20; i++) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/"))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.body()).isEqualTo("ok");
        }
        // Before, each task (and the relay it held) stayed queued for the wall limit plus 30 s.
        await().atMost(Duration.ofSeconds(10)).until(() -> FrontDoor.pendingGuards() == 0);
    }

    @Test
    void aTailWhoseClientLeftEnds() throws Exception {
        try (Socket s = new Socket("127.0.0.1", node.port())) {
            s.getOutputStream().write(("GET /cdn-cgi/bulwark/tail/w HTTP/1.1\r\nHost: w\r\nAuthorization: Bearer "
                    + node.adminToken() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null && !line.contains("\"tail\"")) {
                // headers and chunk sizes
            }
            assertThat(line).contains("\"tail\":\"w\"");
            assertThat(node.logs().openTails()).isEqualTo(1);
        }
        // The client is gone: the tail ends (at the latest at its second heartbeat after, the first
        // write may still be accepted by the kernel) instead of looping.
        await().atMost(Duration.ofSeconds(40)).until(() -> node.logs().openTails() == 0);
    }
}
