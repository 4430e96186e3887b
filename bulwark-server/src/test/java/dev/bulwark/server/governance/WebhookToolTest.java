package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.bulwark.server.config.EgressSettings;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import dev.bulwark.server.node.Node;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A tool that is an HTTP webhook: the node calls the operator's service with credentials the
 * generated code never sees, under the node's egress policy, at most once per idempotency key.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class WebhookToolTest {
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    Path data;

    record Seen(String authorization, String idempotencyKey, JsonNode body) {}

    @Test
    void theNodeCallsTheWebhookWithCredentialsTheCodeNeverSees() throws Exception {
        List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
        HttpServer service = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        service.createContext("/tickets", exchange -> {
            seen.add(new Seen(exchange.getRequestHeaders().getFirst("Authorization"),
                    exchange.getRequestHeaders().getFirst("Idempotency-Key"), JSON.readTree(exchange.getRequestBody())));
            byte[] out = "{\"ticket\": \"W-1\", \"status\": \"open\"}".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, out.length);
            exchange.getResponseBody().write(out);
            exchange.close();
        });
        service.start();
        EgressSettings egress = new EgressSettings(List.of("127.0.0.1"), false).withTestOnlyLoopbackAllowed();
        try (Node node = Node.start(Settings.of(data, "acme").withPort(0)
                .withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(0)).withEgress(egress))) {
            Governance gov = node.governance();
            JsonNode schema = JSON.readTree("{\"type\": \"object\", \"properties\": {\"title\": {\"type\": \"string\"}}}");
            URI url = URI.create("http://127.0.0.1:" + service.getAddress().getPort() + "/tickets");
            gov.registerTool(gov.webhookTool("tickets.open", schema, Contract.CONTROLLED_MUTATION, 1, url,
                    Map.of("Authorization", "Bearer s3cret-service-token")));
            // A host the egress policy does not allow.
            gov.registerTool(gov.webhookTool("tickets.elsewhere", schema, Contract.CONTROLLED_MUTATION, 1,
                    URI.create("http://localhost:" + service.getAddress().getPort() + "/tickets"), Map.of()));
            String id = (String) gov.admit("acme", new Admission("alice", "low", List.of("tickets.open", "tickets.elsewhere"),
                    Budgets.DEFAULTS, Map.of())).get("id");
            Object result = gov.run("acme", id, GovernanceTest.code("""
                    export default async (input, env) => [
                      await env.TOOLS.tickets.open({ title: "disk full" }, { idempotencyKey: "w-1" }),
                      await env.TOOLS.tickets.open({ title: "disk full" }, { idempotencyKey: "w-1" }),
                      await env.TOOLS.tickets.elsewhere({ title: "x" }),
                    ];
                    """), null).result();
            List<?> answers = (List<?>) result;
            assertThat(GovernanceTest.map(answers.get(0))).containsEntry("ok", true)
                    .containsEntry("value", Map.of("ticket", "W-1", "status", "open"));
            assertThat(GovernanceTest.map(answers.get(1))).containsEntry("replayed", true);
            assertThat(GovernanceTest.code(GovernanceTest.map(answers.get(2)))).isEqualTo("tool_failed");

            assertThat(seen).hasSize(1); // once: the repeat came from the ledger; the other host was never called
            Seen s = seen.getFirst();
            assertThat(s.authorization()).isEqualTo("Bearer s3cret-service-token");
            assertThat(s.idempotencyKey()).isEqualTo("w-1");
            assertThat(s.body().get("tool").asText()).isEqualTo("tickets.open");
            assertThat(s.body().get("session").asText()).isEqualTo(id);
            assertThat(s.body().get("actor").asText()).isEqualTo("alice");
            assertThat(s.body().get("args").toString()).isEqualTo("{\"title\":\"disk full\"}");
            // The credential is in nothing the code or the trail holds.
            assertThat(String.valueOf(result)).doesNotContain("s3cret");
            assertThat(String.valueOf(gov.audit("acme", id))).doesNotContain("s3cret");
        } finally {
            service.stop(0);
        }
    }
}
