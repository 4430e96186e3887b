package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.bulwark.server.config.EgressSettings;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import dev.bulwark.server.node.Node;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.bulwark.server.governance.GovernanceTest.JSON;
import static dev.bulwark.server.governance.GovernanceTest.map;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A webhook tool's lookup and revert URLs against a real HTTP service: the lookup reconciles an
 * unknown outcome (applied: recorded, not applied: run once), the revert undoes applied calls in a
 * rollback, each request carrying the node's credential and the call's idempotency key.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class WebhookLedgerTest {
    @TempDir
    Path data;

    record Seen(String path, String authorization, String key, JsonNode body) {}

    static void answer(HttpExchange exchange, String json) throws IOException {
        byte[] out = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, out.length);
        exchange.getResponseBody().write(out);
        exchange.close();
    }

    @Test
    void theLookupAndRevertUrlsReconcileAndUndoCalls() throws Exception {
        List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
        List<String> charged = Collections.synchronizedList(new ArrayList<>());
        HttpServer service = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        for (String path : List.of("/charge", "/find", "/undo")) {
            service.createContext(path, exchange -> {
                JsonNode body = JSON.readTree(exchange.getRequestBody());
                seen.add(new Seen(path, exchange.getRequestHeaders().getFirst("Authorization"),
                        exchange.getRequestHeaders().getFirst("Idempotency-Key"), body));
                String key = body.get("idempotencyKey").asText();
                switch (path) {
                    case "/charge" -> {
                        charged.add(key);
                        answer(exchange, "{\"charge\": \"C-" + key + "\"}");
                    }
                    case "/find" -> answer(exchange, charged.contains(key)
                            ? "{\"applied\": true, \"value\": {\"charge\": \"C-" + key + "\"}}" : "{\"applied\": false}");
                    default -> answer(exchange, "{}");
                }
            });
        }
        service.start();
        EgressSettings egress = new EgressSettings(List.of("127.0.0.1"), false).withTestOnlyLoopbackAllowed();
        try (Node node = Node.start(Settings.of(data, "acme").withPort(0)
                .withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(0)).withEgress(egress))) {
            Governance gov = node.governance();
            String base = "http://127.0.0.1:" + service.getAddress().getPort();
            Tool webhook = gov.webhookTool("payments.charge", JSON.readTree("{\"type\": \"object\"}"), Contract.CONTROLLED_MUTATION, 1,
                    URI.create(base + "/charge"), Map.of("Authorization", "Bearer s3cret"), URI.create(base + "/find"),
                    URI.create(base + "/undo"));
            // The node "dies" around the webhook call for the keys named here (an Error: mediation does not catch it).
            List<String> crashAfter = Collections.synchronizedList(new ArrayList<>(List.of("k1")));
            List<String> crashBefore = Collections.synchronizedList(new ArrayList<>(List.of("k2")));
            gov.registerTool(new Tool(webhook.name(), webhook.argsSchema(), webhook.contract(), webhook.cost(), call -> {
                if (crashBefore.remove(call.idempotencyKey())) throw new LedgerTest.Crash();
                Object v = webhook.function().run(call);
                if (crashAfter.remove(call.idempotencyKey())) throw new LedgerTest.Crash();
                return v;
            }, webhook.lookup(), webhook.revert()));
            String id = (String) gov.admit("acme", new Admission("alice", "low", List.of("payments.charge"), Budgets.DEFAULTS,
                    Map.of())).get("id");
            String token = (String) map(node.javaObjects().namespace("acme", SessionObject.CLASS).getByName(id)
                    .call("dispatch", "code-hash")).get("token");
            long[] seq = {0};
            java.util.function.Function<String, Map<String, Object>> call = key ->
                    gov.mediate("acme", id, token, ++seq[0], "payments.charge", new LinkedHashMap<>(Map.of("cents", 5)), key);

            assertThatThrownBy(() -> call.apply("k1")).isInstanceOf(LedgerTest.Crash.class);
            assertThat(call.apply("k1")).containsEntry("value", Map.of("charge", "C-k1")).containsEntry("replayed", true);
            assertThatThrownBy(() -> call.apply("k2")).isInstanceOf(LedgerTest.Crash.class);
            assertThat(call.apply("k2")).containsEntry("ok", true).containsEntry("value", Map.of("charge", "C-k2"))
                    .doesNotContainKey("replayed");
            assertThat(charged).containsExactly("k1", "k2");

            assertThat(gov.rollback("acme", id, "ops")).containsEntry("reverted", List.of("k2", "k1"));
            assertThat(seen).extracting(s -> s.path() + " " + s.key()).containsExactly("/charge k1", "/find k1", "/find k2",
                    "/charge k2", "/undo k2", "/undo k1");
            for (Seen s : seen) {
                assertThat(s.authorization()).isEqualTo("Bearer s3cret");
                assertThat(s.body().get("args").toString()).isEqualTo("{\"cents\":5}");
            }
            // The revert is told what the call recorded.
            assertThat(seen.get(4).body().get("value").toString()).isEqualTo("{\"charge\":\"C-k2\"}");
            assertThat(seen.get(5).body().get("value").toString()).isEqualTo("{\"charge\":\"C-k1\"}");
        } finally {
            service.stop(0);
        }
    }
}
