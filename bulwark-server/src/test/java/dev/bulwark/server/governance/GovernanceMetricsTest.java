package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.server.config.ApiSettings;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import dev.bulwark.server.node.Node;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import java.net.http.HttpClient;
import java.nio.file.Path;
import dev.bulwark.server.config.LaneSettings;
import dev.bulwark.server.config.LaneSettings.WhenFull;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Prometheus {@code /cdn-cgi/bulwark/metrics} on a real node: each governance metric moves when its
 * event happens, and full lanes answer over HTTP as configured (429 + Retry-After, queue depth).
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class GovernanceMetricsTest {
    /** acme's one approver's key (the approvals API compares its digest). */
    static final String CAROL_KEY = "ak_carol_metrics_0f1e2d3c4b5a69788796a5b4c3d2e1f0";

    static final ObjectMapper JSON = GovernanceTest.JSON;
    static final HttpClient HTTP = GovernanceTest.HTTP;
    static final String ACME_KEY = GovernanceTest.ACME_KEY;
    @TempDir
    Path data;
    Node node;

    void start() throws Exception {
        ApiSettings keys = new ApiSettings(List.of(ApiSettings.Key.of("acme", ACME_KEY)));
        node = Node.start(Settings.of(data, "acme").withPort(0).withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(0))
                .withApi(keys));
        node.governance().registerTool(new Tool("tickets.open", JSON.readTree("{\"type\": \"object\"}"), Contract.CONTROLLED_MUTATION, 1,
                call -> "T-1"));
    }

    @AfterEach
    void stop() {
        if (node != null) node.close();
    }

    HttpResponse<String> send(String key, String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + GovernanceTest.PREFIX + path))
                .timeout(Duration.ofSeconds(300))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (key != null) b.header("Authorization", "Bearer " + key);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String runBody(String main, Object input) {
        return GovernanceTest.runBody(main, input);
    }

    String admitOverHttp(String tools) throws Exception {
        HttpResponse<String> r = send(ACME_KEY, "POST", "v1/sessions",
                "{\"actor\": \"alice@acme\", \"risk\": \"low\", \"tools\": " + tools + "}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return JSON.readTree(r.body()).get("id").asText();
    }

    JsonNode runOverHttp(String id, String main) throws Exception {
        HttpResponse<String> r = send(ACME_KEY, "POST", "v1/sessions/" + id + "/run", runBody(main, Map.of()));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body()).get("result");
    }

    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    void blockingTool() throws Exception {
        node.governance().registerTool(new Tool("desk.wait", JSON.readTree("{\"type\": \"object\"}"), Contract.READ_ONLY, 0, call -> {
            entered.countDown();
            if (!release.await(5, TimeUnit.MINUTES)) throw new IllegalStateException("never released");
            return "done";
        }));
    }

    HttpResponse<String> scrape(String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/cdn-cgi/bulwark/metrics"))
                .timeout(Duration.ofSeconds(60)).GET();
        if (token != null) b.header("Authorization", "Bearer " + token);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The value of the sample {@code name} whose labels include every one of {@code labels}; null when there is none. */
    Double metric(String name, String... labels) throws Exception {
        HttpResponse<String> r = scrape(node.adminToken());
        assertThat(r.statusCode()).isEqualTo(200);
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*})? (\\S+)$").matcher(r.body());
        while (m.find()) {
            String set = m.group(1) == null ? "" : m.group(1);
            boolean all = true;
            for (String l : labels) all &= set.contains(l);
            if (all) return Double.parseDouble(m.group(2));
        }
        return null;
    }

    @Test
    void eachMetricMovesWhenItsEventHappens() throws Exception {
        start();
        node.governance().registerTool(new Tool("payments.refund", JSON.readTree("{\"type\": \"object\"}"), Contract.PRIVILEGED, 0,
                call -> "R-1"));
        node.governance().policies(new PolicyBundle("m1", Map.of("p.cedar", """
                @id("allow") permit(principal, action, resource);
                @id("no-refund-tickets")
                forbid(principal, action == Action::"tickets.open", resource) when { context.args.title like "*refund*" };
                """)));

        HttpResponse<String> anonymous = scrape(null);
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(JSON.readTree(anonymous.body()).get("error").get("code").asText()).isEqualTo("unauthorized");
        assertThat(scrape("not-the-token").statusCode()).isEqualTo(401);
        assertThat(scrape(node.adminToken()).headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        assertThat(metric("bulwark_governance_tool_calls_total", "outcome=\"allowed\"")).isEqualTo(0.0);
        assertThat(metric("bulwark_governance_duplicates_prevented_total")).isEqualTo(0.0);
        assertThat(metric("bulwark_governance_policy_denied_ratio")).isEqualTo(0.0);
        assertThat(metric("bulwark_governance_session_lock_wait_seconds_count")).isEqualTo(0.0);
        assertThat(metric("bulwark_governance_lane_queue_depth", "lane=\"interactive\"")).isEqualTo(0.0);

        String one = admitOverHttp("[\"tickets.open\", \"payments.refund\"]");
        JsonNode r = runOverHttp(one, """
                export default async (input, env) => [
                  await env.TOOLS.tickets.open({ title: "printer" }, { idempotencyKey: "k1" }),
                  await env.TOOLS.tickets.open({ title: "printer" }, { idempotencyKey: "k1" }),
                  await env.TOOLS.tickets.open({ title: "refund me" }, { idempotencyKey: "k2" }),
                  await env.TOOLS.payments.refund({ cents: 5 }, { idempotencyKey: "r1" }),
                ];""");
        assertThat(r.get(0).get("ok").asBoolean()).isTrue();
        assertThat(r.get(1).get("replayed").asBoolean()).isTrue();
        assertThat(r.get(2).get("error").get("code").asText()).isEqualTo("policy_denied");
        assertThat(r.get(3).get("error").get("code").asText()).isEqualTo("approval_pending");

        String two = (String) node.governance().admit("acme", new Admission("bob", "low", List.of("tickets.open"),
                new Budgets(1, 1_000, 600_000, 100), Map.of())).get("id");
        JsonNode spent = runOverHttp(two, """
                export default async (input, env) => [
                  await env.TOOLS.tickets.open({ title: "a" }, { idempotencyKey: "a" }),
                  await env.TOOLS.tickets.open({ title: "b" }, { idempotencyKey: "b" }),
                ];""");
        assertThat(spent.get(1).get("error").get("code").asText()).isEqualTo("budget_exhausted");

        assertThat(metric("bulwark_governance_tool_calls_total", "outcome=\"allowed\"")).isEqualTo(2.0);
        assertThat(metric("bulwark_governance_tool_calls_total", "outcome=\"replayed\"")).isEqualTo(1.0);
        assertThat(metric("bulwark_governance_tool_calls_total", "outcome=\"policy_denied\"")).isEqualTo(1.0);
        assertThat(metric("bulwark_governance_tool_calls_total", "outcome=\"approval_pending\"")).isEqualTo(1.0);
        assertThat(metric("bulwark_governance_tool_calls_total", "outcome=\"refused\"")).isEqualTo(1.0);
        assertThat(metric("bulwark_governance_duplicates_prevented_total")).isEqualTo(1.0);
        assertThat(metric("bulwark_governance_policy_denied_ratio")).isEqualTo(1.0 / 3);
        assertThat(metric("bulwark_governance_budget_exhausted_total", "budget=\"session\"")).isEqualTo(1.0);
        assertThat(metric("bulwark_governance_session_lock_wait_seconds_count")).isEqualTo(6.0);
        assertThat(metric("bulwark_governance_admission_first_byte_seconds_count", "lane=\"interactive\"")).isEqualTo(2.0);
        assertThat(metric("bulwark_governance_approval_latency_seconds_count")).isNull(); // nothing decided yet

        node.governance().approvers(List.of(dev.bulwark.server.config.ApprovalSettings.Approver.of("acme", "carol", "approver", CAROL_KEY)));
        node.governance().decideApproval("acme", r.get(3).get("approval").get("id").asText(), "approve", CAROL_KEY);
        assertThat(metric("bulwark_governance_approval_latency_seconds_count", "decision=\"approved\"")).isEqualTo(1.0);

        // Per-lane queue depth and per-tenant concurrency: one run holds the tenant's only place, a second queues.
        blockingTool();
        node.governance().lanes().configure(new LaneSettings(new LaneSettings.Lane(1, 10, WhenFull.QUEUE, 600_000, 10, 1),
                LaneSettings.DEFAULTS.longRunning(), LaneSettings.DEFAULTS.approval()));
        String waits = "export default async (input, env) => env.TOOLS.desk.wait({});";
        String a = admitOverHttp("[\"desk.wait\"]");
        String b = admitOverHttp("[\"desk.wait\"]");
        CompletableFuture<HttpResponse<String>> first = CompletableFuture.supplyAsync(() -> post(a, waits));
        assertThat(entered.await(2, TimeUnit.MINUTES)).isTrue();
        assertThat(metric("bulwark_governance_tenant_concurrency", "tenant=\"acme\"", "lane=\"interactive\"")).isEqualTo(1.0);
        CompletableFuture<HttpResponse<String>> second = CompletableFuture.supplyAsync(() -> post(b, waits));
        await().atMost(Duration.ofMinutes(1)).until(() -> metric("bulwark_governance_lane_queue_depth", "lane=\"interactive\"") == 1.0);
        assertThat(metric("bulwark_governance_budget_exhausted_total", "budget=\"lane_interactive\"")).isEqualTo(1.0);

        release.countDown();
        assertThat(first.get(2, TimeUnit.MINUTES).statusCode()).isEqualTo(200);
        HttpResponse<String> queued = second.get(2, TimeUnit.MINUTES);
        assertThat(queued.statusCode()).as(queued.body()).isEqualTo(200);
        assertThat(JSON.readTree(queued.body()).get("lane").asText()).isEqualTo("interactive");
        assertThat(metric("bulwark_governance_lane_queue_depth", "lane=\"interactive\"")).isEqualTo(0.0);
        assertThat(metric("bulwark_governance_tenant_concurrency", "tenant=\"acme\"", "lane=\"interactive\"")).isEqualTo(0.0);
        assertThat(metric("bulwark_governance_admission_first_byte_seconds_count", "lane=\"interactive\"")).isEqualTo(4.0);
    }

    @Test
    void aFullLaneAnswers429WithRetryAfterOverHttp() throws Exception {
        start();
        blockingTool();
        node.governance().lanes().configure(new LaneSettings(new LaneSettings.Lane(1, 10, WhenFull.REJECT, 0, 0, 4),
                LaneSettings.DEFAULTS.longRunning(), LaneSettings.DEFAULTS.approval()));
        String waits = "export default async (input, env) => env.TOOLS.desk.wait({});";
        String a = admitOverHttp("[\"desk.wait\"]");
        String b = admitOverHttp("[\"desk.wait\"]");
        CompletableFuture<HttpResponse<String>> first = CompletableFuture.supplyAsync(() -> post(a, waits));
        assertThat(entered.await(2, TimeUnit.MINUTES)).isTrue();

        HttpResponse<String> refused = post(b, waits);
        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("4");
        JsonNode error = JSON.readTree(refused.body()).get("error");
        assertThat(error.get("code").asText()).isEqualTo("lane_full");
        assertThat(error.get("message").asText()).isEqualTo("the interactive lane is at its tenant or node budget; retry later");
        assertThat(error.get("retryable").asBoolean()).isTrue();

        // The long lane has its own places: the same run declared long-running is admitted at once.
        HttpResponse<String> declared = send(ACME_KEY, "POST", "v1/sessions/" + b + "/run",
                runBody("export default async () => 7;", Map.of()).replaceFirst("^\\{", "{\"lane\":\"long\","));
        assertThat(declared.statusCode()).as(declared.body()).isEqualTo(200);
        assertThat(JSON.readTree(declared.body()).get("lane").asText()).isEqualTo("long");
        assertThat(JSON.readTree(declared.body()).get("result").asInt()).isEqualTo(7);

        release.countDown();
        assertThat(first.get(2, TimeUnit.MINUTES).statusCode()).isEqualTo(200);
        assertThat(metric("bulwark_governance_budget_exhausted_total", "budget=\"lane_interactive\"")).isEqualTo(1.0);
    }

    HttpResponse<String> post(String session, String main) {
        try {
            return send(ACME_KEY, "POST", "v1/sessions/" + session + "/run", runBody(main, Map.of()));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
