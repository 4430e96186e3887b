package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.server.config.ProjectLoader;
import dev.bulwark.server.node.Node;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code examples/agent-session} end to end, exactly the README's steps: the node serves the project
 * (its tools and policies come from bulwark.toml; the tools are the project's own Tools entrypoint),
 * a session runs the generated script twice around an approver's decision, and every effect happens
 * once.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class AgentSessionExampleTest {
    @TempDir
    static Path data;
    static Node node;
    static final Path example = Path.of("..", "examples", "agent-session").toAbsolutePath().normalize();
    static final ObjectMapper json = new ObjectMapper();
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    static final String API = "/cdn-cgi/bulwark/api/v1/";

    @BeforeAll
    static void start() throws Exception {
        node = Node.serve(ProjectLoader.load(example, s -> s.withPort(0).withDataDir(data)));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static JsonNode send(String method, String path, Object body, int status) throws Exception {
        return send(method, path, body, status, null);
    }

    static JsonNode send(String method, String path, Object body, int status, String approverKey) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + path))
                .timeout(Duration.ofSeconds(120))
                .header("Authorization", "Bearer demo-key-not-secret")
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(json.writeValueAsString(body)));
        if (approverKey != null) b.header("Bulwark-Approver-Key", approverKey);
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(method + " " + path + ": " + r.body()).isEqualTo(status);
        return json.readTree(r.body());
    }

    static ObjectNode run() throws Exception {
        ObjectNode body = json.createObjectNode();
        ObjectNode code = body.putObject("code");
        code.put("compatibilityDate", "2025-09-01");
        code.put("mainModule", "script.js");
        code.putObject("modules").put("script.js", Files.readString(example.resolve("script.js")));
        body.putObject("input");
        return body;
    }

    @Test
    void theReadmeWalkThrough() throws Exception {
        // 1. Admit a session for the agent with both tools.
        JsonNode session = send("POST", API + "sessions",
                json.readTree("{\"actor\":\"agent-7\",\"tools\":[\"tickets.open\",\"payments.refund\"]}"), 201);
        String id = session.get("id").asText();
        assertThat(session.get("tools").toString()).isEqualTo("[\"payments.refund\",\"tickets.open\"]");

        // 2. Run the generated script: the ticket is opened, the refund is parked, the retry is replayed.
        JsonNode first = send("POST", API + "sessions/" + id + "/run", run(), 200).get("result");
        assertThat(first.at("/ticket/ok").asBoolean()).isTrue();
        assertThat(first.at("/ticket/value").toString()).isEqualTo("{\"ticket\":\"T-1\",\"title\":\"Order 42 arrived broken\"}");
        assertThat(first.at("/refund/ok").asBoolean()).isFalse();
        assertThat(first.at("/refund/error/code").asText()).isEqualTo("approval_pending");
        assertThat(first.at("/refund/error/retryable").asBoolean()).isTrue();
        String approval = first.at("/refund/approval/id").asText();
        assertThat(approval).matches("apr_[0-9a-f]{20}");
        assertThat(first.at("/retry/replayed").asBoolean()).isTrue();
        assertThat(first.at("/retry/value")).isEqualTo(first.at("/ticket/value"));

        // 3. The approver sees it pending and approves it.
        JsonNode pending = send("GET", API + "approvals?state=pending", null, 200).get("approvals");
        assertThat(pending).hasSize(1);
        assertThat(pending.get(0).get("id").asText()).isEqualTo(approval);
        assertThat(pending.get(0).get("tool").asText()).isEqualTo("payments.refund");
        JsonNode approved = send("POST", API + "approvals/" + approval,
                json.readTree("{\"decision\":\"approve\"}"), 200, "demo-approver-bob-not-secret");
        assertThat(approved.get("state").asText()).isEqualTo("approved");
        assertThat(approved.get("decidedBy").asText()).isEqualTo("bob");

        // 4. The same script again: the ticket comes from the ledger, the refund runs now, once.
        JsonNode second = send("POST", API + "sessions/" + id + "/run", run(), 200).get("result");
        assertThat(second.at("/ticket/replayed").asBoolean()).isTrue();
        assertThat(second.at("/ticket/value")).isEqualTo(first.at("/ticket/value"));
        assertThat(second.at("/refund/ok").asBoolean()).isTrue();
        assertThat(second.at("/refund/value").toString())
                .isEqualTo("{\"refund\":\"R-2\",\"order\":\"42\",\"amount\":30,\"approvedFor\":\"agent-7\"}");
        assertThat(second.at("/retry/replayed").asBoolean()).isTrue();

        // 5. Each effect happened exactly once.
        HttpResponse<String> effects = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + node.port() + "/effects")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(effects.statusCode()).isEqualTo(200);
        assertThat(effects.body()).isEqualTo("[{\"kind\":\"ticket\",\"detail\":\"{\\\"title\\\":\\\"Order 42 arrived broken\\\"}\","
                + "\"idem\":\"ticket-42\"},{\"kind\":\"refund\",\"detail\":\"{\\\"order\\\":\\\"42\\\",\\\"amount\\\":30}\","
                + "\"idem\":\"refund-42\"}]");

        // 6. A refund above the policy file's limit is denied, as data, naming the file and the rule.
        ObjectNode big = run();
        ((ObjectNode) big.get("code").get("modules")).put("script.js", "export default (input, env) => "
                + "env.TOOLS.payments.refund({ order: \"43\", amount: 900 }, { idempotencyKey: \"refund-43\" });");
        JsonNode denied = send("POST", API + "sessions/" + id + "/run", big, 200).get("result");
        assertThat(denied.toString()).isEqualTo("{\"ok\":false,\"error\":{\"code\":\"policy_denied\","
                + "\"message\":\"" + denied.at("/error/message").asText() + "\",\"policy\":\"tools.cedar\","
                + "\"rule\":\"refund-limit\",\"retryable\":false}}");

        // 7. The trail names the configured policy version, and its chain holds.
        JsonNode audit = send("GET", API + "sessions/" + id + "/audit", null, 200);
        assertThat(audit.get("firstBroken").asLong()).isZero();
        int decisions = 0;
        for (JsonNode row : audit.get("rows")) {
            JsonNode version = json.readTree(row.get("body").asText()).get("policyVersion");
            if (!row.get("kind").asText().equals("decision") || version == null) continue;
            assertThat(version.asText()).isEqualTo("demo-1");
            decisions++;
        }
        assertThat(decisions).isGreaterThanOrEqualTo(3);
    }
}
