package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Crashes for real: a node process serves the objects project while a client writes to one
 * durable object and records every acknowledged count; the test kills the sandbox (SIGKILL) and
 * the node itself (SIGKILL, then a new node on the same data directory) at random moments. After
 * every kill, every acknowledged write is present and no transaction is torn (the ledger and the
 * total agree). The default run kills 3 times; {@code -Dbulwark.crash.kills=20} is the long variant.
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class CrashLoopTest {
    static final Path PROJECT = Path.of("src", "test", "resources", "objects-project").toAbsolutePath();
    static final ObjectMapper json = new ObjectMapper();
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    Path data;
    NodeProcess node;
    int port;

    @AfterEach
    void stop() {
        if (node != null) node.kill();
    }

    void startNode() throws Exception {
        node = NodeProcess.start(List.of("-XX:+UseSerialGC"), "dev.bulwark.server.cli.Main",
                List.of("serve", PROJECT.toString(), "--port", Integer.toString(port), "--data", data.toString()),
                line -> line.startsWith("bulwark: serving"), line -> {});
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonNode audit() throws Exception {
        for (int attempt = 0; ; attempt++) {
            try {
                HttpResponse<String> r = get("/do/crash/audit");
                if (r.statusCode() == 200) return json.readTree(r.body());
            } catch (Exception e) {
                if (attempt > 60) throw e;
            }
            Thread.sleep(500);
        }
    }

    @Test
    void everyAcknowledgedWriteSurvivesKillsOfSandboxAndNode() throws Exception {
        int kills = Integer.getInteger("bulwark.crash.kills", 3);
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        startNode();
        Random random = new Random(Long.getLong("bulwark.crash.seed", 7));
        AtomicLong acknowledged = new AtomicLong();
        AtomicLong attempts = new AtomicLong();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread client = Thread.ofPlatform().start(() -> {
            while (running.get()) {
                try {
                    attempts.incrementAndGet();
                    HttpResponse<String> r = get("/do/crash/logged");
                    if (r.statusCode() == 200) acknowledged.accumulateAndGet(Long.parseLong(r.body()), Math::max);
                } catch (Exception e) {
                    try {
                        Thread.sleep(50); // the node is being killed or restarted
                    } catch (InterruptedException ie) {
                        return;
                    }
                }
            }
        });
        for (int k = 0; k < kills; k++) {
            long floor = acknowledged.get();
            // Kill only once the client has had writes acknowledged since the last kill.
            while (acknowledged.get() < floor + 3) Thread.sleep(20);
            Thread.sleep(random.nextInt(1000));
            boolean killNode = k % 3 == 2 || k == kills - 1;
            if (killNode) {
                node.kill();
                startNode();
            } else {
                List<ProcessHandle> sandboxes = node.process().toHandle().children().toList();
                assertThat(sandboxes).as("the node's sandboxes").isNotEmpty();
                for (ProcessHandle p : sandboxes) p.destroyForcibly();
            }
            // Acknowledgements counted before the audit is asked: the audit sees at least those.
            long acked = acknowledged.get();
            JsonNode a = audit();
            assertThat(a.get("total").asLong()).as("no transaction is torn").isEqualTo(a.get("rows").asLong())
                    .isEqualTo(a.get("max").asLong());
            assertThat(a.get("total").asLong()).as("after kill " + (k + 1) + (killNode ? " (node)" : " (sandbox)")
                    + ", every acknowledged write is there").isGreaterThanOrEqualTo(acked);
        }
        running.set(false);
        client.join(30_000);
        // The client has stopped: nothing is acknowledged after this audit.
        JsonNode a = audit();
        assertThat(acknowledged.get()).as("the client got acknowledgements").isPositive();
        assertThat(a.get("total").asLong()).isGreaterThanOrEqualTo(acknowledged.get())
                .isLessThanOrEqualTo(attempts.get()).isEqualTo(a.get("rows").asLong());
    }
}
