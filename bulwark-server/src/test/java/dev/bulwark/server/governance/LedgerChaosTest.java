package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.bulwark.server.governance.GovernanceTest.JSON;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Chaos on one idempotency key: {@value #CLIENTS} clients send, between them, N runs of generated
 * code that charges with the key {@code chaos-1} (N = the system property {@code bulwark.chaos.retries},
 * 200 by default; the proof is 1,000), each with a random client timeout; a third of the
 * way in, the node's sandboxes are SIGKILLed; two thirds in, the node itself (a JVM of its own) is
 * SIGKILLed and started again on the same data directory. The effect (a line in a file outside the
 * node) happens exactly once; every answer a caller receives is the recorded outcome or an explicit
 * {@code outcome_unknown}; and afterwards every caller, asking once more, gets the recorded outcome.
 */
@Timeout(value = 1_800, unit = TimeUnit.SECONDS)
class LedgerChaosTest {
    static final int CLIENTS = 50;
    /** Why attempts got no answer (HTTP status and error code, or the client's exception), printed. */
    static final Map<String, Integer> REASONS = new ConcurrentHashMap<>();
    static final String CODE = """
            export default async (input, env) => env.TOOLS.payments.charge({ cents: 700 }, { idempotencyKey: "chaos-1" });
            """;

    @TempDir
    Path dir;

    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
    volatile int port;
    volatile Process node;
    final Set<ProcessHandle> sandboxes = ConcurrentHashMap.newKeySet();

    void startNode() throws Exception {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(), "--enable-native-access=ALL-UNNAMED",
                "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"), "-cp", System.getProperty("java.class.path"),
                ChaosNodeMain.class.getName(), dir.resolve("data").toString(), dir.resolve("effects.txt").toString()));
        command.addAll(1, dev.bulwark.server.node.ChildNodeOptions.properties());
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        CompletableFuture<Integer> ready = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    if (line.startsWith("PORT ")) ready.complete(Integer.parseInt(line.substring(5).trim()));
                }
            } catch (java.io.IOException ignored) {
                // killed
            }
            ready.completeExceptionally(new IllegalStateException("the node exited before serving"));
        });
        Thread.ofVirtual().start(() -> {
            while (p.isAlive()) {
                p.toHandle().descendants().forEach(sandboxes::add);
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        port = ready.get(180, TimeUnit.SECONDS);
        node = p;
    }

    void killSandboxes() throws Exception {
        List<ProcessHandle> all = node.toHandle().descendants().toList();
        for (int i = 0; i < 600 && all.isEmpty(); i++) {
            Thread.sleep(100);
            all = node.toHandle().descendants().toList();
        }
        assertThat(all).as("the node has sandboxes to kill").isNotEmpty();
        for (ProcessHandle h : all) h.destroyForcibly();
        for (ProcessHandle h : all) h.onExit().get(30, TimeUnit.SECONDS);
    }

    void killNode() throws Exception {
        node.toHandle().destroyForcibly();
        node.waitFor(30, TimeUnit.SECONDS);
        for (ProcessHandle h : sandboxes) h.destroyForcibly();
        for (ProcessHandle h : sandboxes) h.onExit().get(30, TimeUnit.SECONDS);
    }

    HttpResponse<String> send(String method, String path, String body, Duration timeout) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + GovernanceTest.PREFIX + path))
                .timeout(timeout).header("Authorization", "Bearer " + ChaosNodeMain.KEY)
                .method(method, HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** What one answer of a run says: "value" (the charge's outcome), "unknown", or null (no answer from the ledger). */
    static String classify(HttpResponse<String> r, List<String> unexpected) throws Exception {
        if (r.statusCode() != 200) { // the run died with its sandbox or the node, or was refused: no answer, the caller retries
            REASONS.merge(r.statusCode() + " " + JSON.readTree(r.body()).path("error").path("code").asText(), 1, Integer::sum);
            return null;
        }
        JsonNode result = JSON.readTree(r.body()).get("result");
        if (result.path("ok").asBoolean() && result.path("value").asText().equals("charged")) return "value";
        if (!result.path("ok").asBoolean(true) && result.path("error").path("code").asText().equals("outcome_unknown")) return "unknown";
        unexpected.add(r.body());
        return null;
    }

    @Test
    void oneKeyRetriedByManyClientsThroughKillsTakesEffectExactlyOnce() throws Exception {
        int total = Integer.getInteger("bulwark.chaos.retries", 200);
        startNode();
        try {
            HttpResponse<String> admitted = send("POST", "v1/sessions",
                    "{\"actor\": \"agent-7\", \"tools\": [\"payments.charge\"], \"budgets\": {\"toolCalls\": 5}}", Duration.ofSeconds(60));
            assertThat(admitted.statusCode()).as(admitted.body()).isEqualTo(201);
            String session = JSON.readTree(admitted.body()).get("id").asText();
            String run = GovernanceTest.runBody(CODE, null);

            AtomicInteger sent = new AtomicInteger();
            AtomicInteger values = new AtomicInteger();
            AtomicInteger unknowns = new AtomicInteger();
            AtomicInteger noAnswer = new AtomicInteger();
            List<String> unexpected = Collections.synchronizedList(new ArrayList<>());
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                clients.add(Thread.ofVirtual().start(() -> {
                    while (sent.getAndIncrement() < total) {
                        String what = null;
                        try {
                            // Some give up early; most wait long enough for a loaded node (a run loads the code as a fresh dynamic worker).
                            Duration timeout = Duration.ofMillis(ThreadLocalRandom.current().nextInt(200, 60_000));
                            what = classify(send("POST", "v1/sessions/" + session + "/run", run, timeout), unexpected);
                        } catch (Exception e) {
                            REASONS.merge(e.getClass().getSimpleName(), 1, Integer::sum);
                            // a client timeout, or the node is down: no answer
                            try {
                                Thread.sleep(100);
                            } catch (InterruptedException ie) {
                                return;
                            }
                        }
                        (what == null ? noAnswer : what.equals("value") ? values : unknowns).incrementAndGet();
                    }
                }));
            }
            while (values.get() + unknowns.get() + noAnswer.get() < total / 3) Thread.sleep(20);
            String atSandboxKill = values + " outcome, " + unknowns + " unknown, " + noAnswer + " no answer";
            killSandboxes();
            while (values.get() + unknowns.get() + noAnswer.get() < 2 * total / 3) Thread.sleep(20);
            String atNodeKill = values + " outcome, " + unknowns + " unknown, " + noAnswer + " no answer";
            killNode();
            startNode();
            for (Thread t : clients) t.join();
            System.out.printf("chaos: %d runs: %d answered with the outcome, %d outcome_unknown, %d without an answer"
                    + " (at the sandbox kill: %s; at the node kill: %s); no answer: %s%n", total, values.get(), unknowns.get(),
                    noAnswer.get(), atSandboxKill, atNodeKill, REASONS);
            assertThat(unexpected).isEmpty();
            assertThat(values.get() + unknowns.get() + noAnswer.get()).isEqualTo(total);
            List<String> before = LedgerCrashMain.lines(dir.resolve("effects.txt"));
            assertThat(before).hasSizeLessThanOrEqualTo(1);
            // Afterwards every caller, asking once more without a timeout, gets the recorded outcome.
            List<String> finals = Collections.synchronizedList(new ArrayList<>());
            List<Thread> last = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                last.add(Thread.ofVirtual().start(() -> {
                    try {
                        finals.add(JSON.readTree(send("POST", "v1/sessions/" + session + "/run", run, Duration.ofSeconds(300)).body())
                                .get("result").toString());
                    } catch (Exception e) {
                        finals.add(e.toString());
                    }
                }));
            }
            for (Thread t : last) t.join();
            // If the effect had not happened yet (every earlier attempt died or timed out first), exactly one of these runs it.
            String replayed = "{\"ok\":true,\"value\":\"charged\",\"replayed\":true}";
            assertThat(finals).hasSize(CLIENTS);
            assertThat(finals.stream().filter(replayed::equals).count()).isEqualTo(before.isEmpty() ? CLIENTS - 1 : CLIENTS);
            if (before.isEmpty()) assertThat(finals).contains("{\"ok\":true,\"value\":\"charged\"}");
            assertThat(LedgerCrashMain.lines(dir.resolve("effects.txt"))).containsExactly("charged chaos-1");
            HttpResponse<String> ledger = send("GET", "v1/sessions/" + session + "/ledger", "", Duration.ofSeconds(60));
            JsonNode rows = JSON.readTree(ledger.body()).get("ledger");
            assertThat(rows).hasSize(1);
            assertThat(rows.get(0).get("state").asText()).isEqualTo("applied");
        } finally {
            killNode();
        }
    }

}
