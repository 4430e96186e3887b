package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerCode;
import dev.bulwark.sandbox.worker.WorkerModule;
import dev.bulwark.server.config.ApiSettings;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import dev.bulwark.server.node.Node;
import org.junit.jupiter.api.AfterEach;
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
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Governance against a real node: sessions admitted over HTTP and from Java, owned by session objects
 * (Java durable objects with their own SQLite files), generated code run in the tenant's sandbox for
 * generated code with {@code env.TOOLS} as its only capability, and every tool call decided by the
 * session object: envelope, sequence, ACL, budgets, schema, Cedar, audit, ledger.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class GovernanceTest {
    static final String ACME_KEY = "tk_acme_5d2f9a7c1b3e4d6f8a0b2c4d6e8f0a1b";
    static final String EVIL_KEY = "tk_evil_9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b";
    static final String PREFIX = "/cdn-cgi/bulwark/api/";
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    static final String SCHEMA = """
            {"type": "object", "properties": {"title": {"type": "string", "maxLength": 80}, "priority": {"enum": ["low", "high"]}},
             "required": ["title"], "additionalProperties": false}""";

    @TempDir
    Path data;
    Node node;
    final List<Map<String, Object>> opened = Collections.synchronizedList(new ArrayList<>());

    Node start() throws Exception {
        ApiSettings keys = new ApiSettings(List.of(ApiSettings.Key.of("acme", ACME_KEY), ApiSettings.Key.of("evil", EVIL_KEY)));
        node = Node.start(Settings.of(data, "acme").withPort(0).withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(0))
                .withApi(keys));
        AtomicInteger n = new AtomicInteger();
        node.governance().registerTool(new Tool("tickets.open", JSON.readTree(SCHEMA), Contract.CONTROLLED_MUTATION, 1, call -> {
            opened.add(call.args());
            Map<String, Object> ticket = new java.util.LinkedHashMap<>();
            ticket.put("id", "T-" + n.incrementAndGet());
            ticket.put("by", call.actor());
            return ticket;
        }));
        node.governance().registerTool(new Tool("tickets.read", JSON.readTree("{\"type\": \"object\"}"), Contract.READ_ONLY, 0,
                call -> List.of("T-1")));
        node.governance().registerTool(new Tool("payments.refund", JSON.readTree("{\"type\": \"object\"}"), Contract.PRIVILEGED, 5,
                call -> {
                    throw new AssertionError("a privileged tool must not run without an approval");
                }));
        return node;
    }

    @AfterEach
    void stop() {
        if (node != null) node.close();
    }

    static final String CAROL_KEY = "ak_carol_0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    static final String ALICE_APPROVER_KEY = "ak_alice_a1b2c3d4e5f60718293a4b5c6d7e8f90";

    /** acme's approvers: carol, and alice@acme (who is also the sessions' actor, so never decides their calls). */
    void approvers() {
        node.governance().approvers(List.of(
                dev.bulwark.server.config.ApprovalSettings.Approver.of("acme", "carol", "approver", CAROL_KEY),
                dev.bulwark.server.config.ApprovalSettings.Approver.of("acme", "alice@acme", "approver", ALICE_APPROVER_KEY)));
    }

    HttpResponse<String> decide(String tenantKey, String approverKey, String approval, String decision) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + PREFIX + "v1/approvals/" + approval))
                .timeout(Duration.ofSeconds(120)).header("Authorization", "Bearer " + tenantKey)
                .POST(HttpRequest.BodyPublishers.ofString("{\"decision\": \"" + decision + "\"}"));
        if (approverKey != null) b.header("Bulwark-Approver-Key", approverKey);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> send(String key, String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + PREFIX + path))
                .timeout(Duration.ofSeconds(120))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (key != null) b.header("Authorization", "Bearer " + key);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String runBody(String main, Object input) {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode code = body.putObject("code").put("compatibilityDate", "2025-06-01").put("mainModule", "agent.js");
        code.putObject("modules").put("agent.js", main);
        body.set("input", JSON.valueToTree(input));
        return body.toString();
    }

    static WorkerCode code(String main) {
        return WorkerCode.of("2025-06-01", List.of(), "agent.js", List.of(WorkerModule.text("agent.js", ModuleType.JS, main)), "{}",
                false, null, null);
    }

    String admitOverHttp(String tools) throws Exception {
        HttpResponse<String> r = send(ACME_KEY, "POST", "v1/sessions",
                "{\"actor\": \"alice@acme\", \"risk\": \"low\", \"tools\": " + tools + ", \"budgets\": {\"toolCalls\": 10},"
                        + " \"metadata\": {\"ticket\": \"INC-7\"}}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return JSON.readTree(r.body()).get("id").asText();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    static List<String> kinds(Map<String, Object> audit) {
        List<String> out = new ArrayList<>();
        for (Object row : (List<?>) audit.get("rows")) out.add((String) map(row).get("kind"));
        return out;
    }

    @Test
    void admissionOverHttpGivesASessionOwnedByItsOwnObject() throws Exception {
        start();
        String id = admitOverHttp("[\"tickets.open\", \"tickets.read\"]");
        assertThat(id).matches("ses_[0-9a-f]{40}");

        HttpResponse<String> got = send(ACME_KEY, "GET", "v1/sessions/" + id, null);
        assertThat(got.statusCode()).isEqualTo(200);
        JsonNode s = JSON.readTree(got.body());
        assertThat(s.get("tenant").asText()).isEqualTo("acme");
        assertThat(s.get("actor").asText()).isEqualTo("alice@acme");
        assertThat(s.get("risk").asText()).isEqualTo("low");
        assertThat(s.get("tools").toString()).isEqualTo("[\"tickets.open\",\"tickets.read\"]");
        assertThat(s.get("budgets").get("toolCalls").asLong()).isEqualTo(10);
        assertThat(s.get("budgets").get("spendUnits").asLong()).isEqualTo(Budgets.DEFAULTS.spendUnits());
        assertThat(s.get("metadata").get("ticket").asText()).isEqualTo("INC-7");
        assertThat(s.get("status").asText()).isEqualTo("active");
        assertThat(s.get("toolCalls").asLong()).isZero();

        // The session object's own database, in the node's directory for Java objects.
        try (var files = Files.walk(data.resolve("node-objects"))) {
            assertThat(files.filter(p -> p.toString().contains(SessionObject.CLASS) && p.toString().endsWith(".sqlite")).count())
                    .isEqualTo(1);
        }

        // Another tenant, a forged id, no key, a bad body, an unknown tool: structured refusals.
        HttpResponse<String> foreign = send(EVIL_KEY, "GET", "v1/sessions/" + id, null);
        assertThat(foreign.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(foreign.body()).get("error").get("code").asText()).isEqualTo("not_found");
        String forged = id.substring(0, 30) + (id.charAt(30) == 'a' ? 'b' : 'a') + id.substring(31);
        assertThat(send(ACME_KEY, "GET", "v1/sessions/" + forged, null).statusCode()).isEqualTo(404);
        assertThat(send(null, "GET", "v1/sessions/" + id, null).statusCode()).isEqualTo(401);
        HttpResponse<String> bad = send(ACME_KEY, "POST", "v1/sessions", "{\"actor\": \"a b\", \"tools\": []}");
        assertThat(bad.statusCode()).isEqualTo(400);
        JsonNode err = JSON.readTree(bad.body()).get("error");
        assertThat(err.get("code").asText()).isEqualTo("bad_request");
        assertThat(err.get("message").asText()).contains("actor");
        assertThat(err.has("retryable")).isTrue();
        HttpResponse<String> unknown = send(ACME_KEY, "POST", "v1/sessions", "{\"actor\": \"a\", \"tools\": [\"db.drop\"]}");
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(unknown.body()).get("error").get("code").asText()).isEqualTo("unknown_tool");
        assertThat(send(ACME_KEY, "PUT", "v1/sessions", "{}").statusCode()).isEqualTo(405);

        // The same from Java.
        Map<String, Object> j = node.governance().admit("acme", new Admission("bob", "high", List.of("tickets.read"),
                new Budgets(3, 500, 60_000, 10), Map.of()));
        assertThat(node.governance().session("acme", (String) j.get("id")).get("actor")).isEqualTo("bob");
        assertThatThrownBy(() -> node.governance().session("evil", (String) j.get("id")))
                .isInstanceOfSatisfying(GovernanceException.class, e -> assertThat(e.error().code()).isEqualTo("not_found"));
    }

    static final String AGENT = """
            export default async (input, env) => {
              const a = await env.TOOLS.call("tickets.open", { title: input.title }, { idempotencyKey: "k1" });
              const b = await env.TOOLS.tickets.open({ title: input.title }, { idempotencyKey: "k1" });
              const c = await env.TOOLS.call("admin.wipe", {});
              const d = await env.TOOLS.tickets.open({ title: 5 });
              const e = await env.TOOLS.tickets.open({ title: "x", owner: "mallory" });
              const f = await env.TOOLS.tickets.read();
              const g = await env.TOOLS.payments.refund({ amount: 100 });
              let h;
              try { await env.TOOLS.call(42); } catch (err) { h = err.name + ": " + err.message; }
              return { a, b, c, d, e, f, g, h, keys: Object.keys(env), seen: JSON.stringify(env),
                       globals: typeof globalThis.TOOLS };
            };
            """;

    @Test
    void generatedCodeCallsToolsOnlyThroughTheSessionObject() throws Exception {
        start();
        String id = admitOverHttp("[\"tickets.open\", \"tickets.read\", \"payments.refund\"]");
        HttpResponse<String> r = send(ACME_KEY, "POST", "v1/sessions/" + id + "/run", runBody(AGENT, Map.of("title", "printer on fire")));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode out = JSON.readTree(r.body());
        assertThat(out.get("envelope").asText()).startsWith("env_");
        JsonNode res = out.get("result");

        // The tool ran once: the second call with the same key got the recorded outcome.
        assertThat(opened).containsExactly(Map.of("title", "printer on fire"));
        assertThat(res.get("a").toString()).isEqualTo("{\"ok\":true,\"value\":{\"id\":\"T-1\",\"by\":\"alice@acme\"}}");
        assertThat(res.get("b").get("ok").asBoolean()).isTrue();
        assertThat(res.get("b").get("value").get("id").asText()).isEqualTo("T-1");
        assertThat(res.get("b").get("replayed").asBoolean()).isTrue();
        // Denials are data.
        assertThat(res.get("c").toString()).isEqualTo("{\"ok\":false,\"error\":{\"code\":\"tool_not_allowed\","
                + "\"message\":\"this session may not call the tool 'admin.wipe'\",\"policy\":null,\"rule\":null,\"retryable\":false}}");
        assertThat(res.get("d").get("error").get("code").asText()).isEqualTo("invalid_arguments");
        assertThat(res.get("d").get("error").get("message").asText()).isEqualTo("args.title must be of type string");
        assertThat(res.get("e").get("error").get("message").asText()).isEqualTo("args.owner is not allowed");
        assertThat(res.get("f").toString()).isEqualTo("{\"ok\":true,\"value\":[\"T-1\"]}");
        assertThat(res.get("g").get("error").get("code").asText()).isEqualTo("idempotency_key_required"); // privileged: approvals need a key
        assertThat(res.get("h").asText()).isEqualTo("TypeError: env.TOOLS.call: the tool's name must be a string");
        // The code's env holds TOOLS and nothing else; the envelope and its key are not in it.
        assertThat(res.get("keys").toString()).isEqualTo("[\"TOOLS\"]");
        assertThat(res.get("seen").asText()).isEqualTo("{\"TOOLS\":{}}");
        assertThat(res.get("globals").asText()).isEqualTo("undefined");

        JsonNode session = JSON.readTree(send(ACME_KEY, "GET", "v1/sessions/" + id, null).body());
        assertThat(session.get("toolCalls").asLong()).isEqualTo(2); // tickets.open once, tickets.read once
        assertThat(session.get("spend").asLong()).isEqualTo(1);
        assertThat(session.get("runs").asLong()).isEqualTo(1);

        // Every decision is in the audit trail, before its effect, and the chain holds.
        HttpResponse<String> a = send(ACME_KEY, "GET", "v1/sessions/" + id + "/audit", null);
        JsonNode audit = JSON.readTree(a.body());
        assertThat(audit.get("firstBroken").asLong()).isZero();
        List<String> kinds = new ArrayList<>();
        audit.get("rows").forEach(row -> kinds.add(row.get("kind").asText()));
        assertThat(kinds).containsExactly("admitted", "dispatched", "decision", "effect", "decision", "ledger", "decision",
                "decision", "decision", "decision", "effect", "decision", "retired");
        JsonNode firstDecision = audit.get("rows").get(2);
        JsonNode body = JSON.readTree(firstDecision.get("body").asText());
        assertThat(body.get("decision").asText()).isEqualTo("allow");
        assertThat(body.get("contract").asText()).isEqualTo("controlled_mutation");
        assertThat(body.get("policyHash").asText()).isEqualTo(PolicyBundle.DEFAULT.hash());
        assertThat(body.get("argsHash").asText()).hasSize(64);
        assertThat(firstDecision.get("body").asText()).doesNotContain("printer on fire"); // arguments are not written, only hashed
        JsonNode effect = JSON.readTree(audit.get("rows").get(3).get("body").asText());
        assertThat(effect.get("key").asText()).isEqualTo("k1");
        assertThat(effect.get("ok").asBoolean()).isTrue();
        assertThat(effect.get("recorded").asBoolean()).isTrue();
    }

    @Test
    void cedarPoliciesDecideWithTheSessionsHistory() throws Exception {
        start();
        node.governance().policies(new PolicyBundle("v2", Map.of(
                "base.cedar", "@id(\"allow\") permit(principal, action, resource);",
                "tickets.cedar", """
                        @id("no-refunds-by-ticket")
                        forbid(principal, action == Action::"tickets.open", resource) when { context.args.title like "*refund*" };
                        @id("at-most-two-per-minute")
                        forbid(principal, action == Action::"tickets.open", resource) when { context.history.toolCallsLastMinute >= 2 };
                        @id("one-is-enough") @mode("log-only")
                        forbid(principal, action == Action::"tickets.open", resource) when { context.history.toolCalls >= 1 };
                        """)));
        Map<String, Object> s = node.governance().admit("acme", new Admission("alice", "low", List.of("tickets.open"),
                Budgets.DEFAULTS, Map.of()));
        String id = (String) s.get("id");
        Governance.Run run = node.governance().run("acme", id, code("""
                export default async (input, env) => [
                  await env.TOOLS.tickets.open({ title: "please refund me" }),
                  await env.TOOLS.tickets.open({ title: "one" }),
                  await env.TOOLS.tickets.open({ title: "two" }),
                  await env.TOOLS.tickets.open({ title: "three" }),
                ];
                """), null);
        List<?> results = (List<?>) run.result();
        Map<String, Object> refused = map(map(results.get(0)).get("error"));
        assertThat(refused).containsEntry("code", "policy_denied").containsEntry("policy", "tickets.cedar")
                .containsEntry("rule", "no-refunds-by-ticket").containsEntry("retryable", false);
        assertThat(map(results.get(1))).containsEntry("ok", true);
        assertThat(map(results.get(2))).containsEntry("ok", true); // the log-only rule would deny: audited, not enforced
        assertThat(map(map(results.get(3)).get("error"))).containsEntry("rule", "at-most-two-per-minute");
        assertThat(opened).extracting(m -> m.get("title")).containsExactly("one", "two");

        Map<String, Object> audit = node.governance().audit("acme", id);
        List<String> logOnly = new ArrayList<>();
        for (Object row : (List<?>) audit.get("rows")) {
            String b = (String) map(row).get("body");
            if (b.contains("logOnlyDenials")) logOnly.add(JSON.readTree(b).get("logOnlyDenials").toString());
            if (map(row).get("kind").equals("decision")) assertThat(b).contains("\"policyVersion\":\"v2\"").doesNotContain("\"builtin-1\"");
        }
        assertThat(logOnly).containsExactly("[\"tickets.cedar#one-is-enough\"]");

        // A policy that does not parse is refused; the policies in force stay.
        assertThatThrownBy(() -> node.governance().policies(new PolicyBundle("v3", Map.of("x.cedar", "permit(principal,"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("x.cedar");
        assertThat(node.governance().policies().version()).isEqualTo("v2");
    }

    @Test
    void budgetsAreEnforcedByTheSessionObject() throws Exception {
        start();
        Map<String, Object> s = node.governance().admit("acme", new Admission("alice", "low", List.of("tickets.open"),
                new Budgets(2, 1_000, 60_000, 100), Map.of()));
        Governance.Run run = node.governance().run("acme", (String) s.get("id"), code("""
                export default async (input, env) => {
                  const out = [];
                  for (let i = 0; i < 4; i++) out.push(await env.TOOLS.tickets.open({ title: "t" + i }, { idempotencyKey: "k" + i }));
                  // A key already applied is answered from the ledger: no new effect, no budget needed.
                  out.push(await env.TOOLS.tickets.open({ title: "t0" }, { idempotencyKey: "k0" }));
                  return out.map(r => r.replayed ? "replayed" : r.ok ? "ok" : r.error.code);
                };
                """), null);
        assertThat(run.result()).isEqualTo(List.of("ok", "ok", "budget_exhausted", "budget_exhausted", "replayed"));
        assertThat(opened).hasSize(2);
    }

    @Test
    @SuppressWarnings("unchecked")
    void envelopesThatAreTamperedExpiredReplayedOrForeignAreRefusedAndAudited() throws Exception {
        start();
        Governance gov = node.governance();
        String a = (String) gov.admit("acme", new Admission("alice", "low", List.of("tickets.open"), Budgets.DEFAULTS, Map.of())).get("id");
        String b = (String) gov.admit("acme", new Admission("bob", "low", List.of("tickets.open"), Budgets.DEFAULTS, Map.of())).get("id");
        var stubA = node.javaObjects().namespace("acme", SessionObject.CLASS).getByName(a);
        Map<String, Object> d = (Map<String, Object>) stubA.call("dispatch", "c0de");
        String token = (String) d.get("token");
        Envelope env = gov.keys().open(token);
        assertThat(env.session()).isEqualTo(a);
        assertThat(env.tenant()).isEqualTo("acme");
        assertThat(env.actor()).isEqualTo("alice");
        assertThat(env.codeHash()).isEqualTo("c0de");
        assertThat(env.policyHash()).isEqualTo(PolicyBundle.DEFAULT.hash());
        assertThat(env.tools()).containsExactly("tickets.open");
        assertThat(env.nonce()).hasSize(16);

        Map<String, Object> args = Map.of("title", "x");
        // Tampered: one byte of the signed terms changed (another actor), signature kept.
        String[] parts = token.split("\\.");
        String forgedTerms = new String(java.util.Base64.getUrlDecoder().decode(parts[0])).replace("\"alice\"", "\"admin\"");
        String tampered = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(forgedTerms.getBytes()) + "." + parts[1];
        assertThat(code(gov.mediate("acme", a, tampered, 1, "tickets.open", args, "t1"))).isEqualTo("envelope_invalid");
        // Foreign: A's envelope presented to B.
        assertThat(code(gov.mediate("acme", b, token, 1, "tickets.open", args, "t2"))).isEqualTo("envelope_foreign_session");
        // Sequence: a number out of order is refused; the next in order works.
        assertThat(code(gov.mediate("acme", a, token, 5, "tickets.open", args, "t3"))).isEqualTo("sequence_out_of_order");
        assertThat(gov.mediate("acme", a, token, 1, "tickets.open", args, "t4")).containsEntry("ok", true);
        assertThat(code(gov.mediate("acme", a, token, 1, "tickets.open", args, "t5"))).isEqualTo("sequence_out_of_order");
        // Expired: the node's clock past the envelope's expiry.
        long now = System.currentTimeMillis();
        gov.clock = () -> now + Governance.DEFAULT_ENVELOPE_TTL_MS + 1_000;
        assertThat(code(gov.mediate("acme", a, token, 2, "tickets.open", args, "t6"))).isEqualTo("envelope_expired");
        gov.clock = System::currentTimeMillis;
        // Replayed: the run ended (the envelope retired); its envelope is dead.
        stubA.call("retire", env.id());
        assertThat(code(gov.mediate("acme", a, token, 3, "tickets.open", args, "t7"))).isEqualTo("envelope_replayed");
        // Signed by another key (another node's data directory).
        EnvelopeKeys other = EnvelopeKeys.load(data.resolveSibling(data.getFileName() + "-other"));
        assertThat(code(gov.mediate("acme", a, other.seal(env), 4, "tickets.open", args, "t8"))).isEqualTo("envelope_invalid");
        assertThat(opened).hasSize(1);

        // Each refusal is in the trail of the session it was presented to.
        List<String> refusedA = refusals(gov.audit("acme", a));
        assertThat(refusedA).containsExactly("envelope_invalid", "sequence_out_of_order", "sequence_out_of_order",
                "envelope_expired", "envelope_replayed", "envelope_invalid");
        assertThat(refusals(gov.audit("acme", b))).containsExactly("envelope_foreign_session");
        // The key is where the node keeps it, owner-only.
        assertThat(Files.getPosixFilePermissions(data.resolve("governance").resolve("envelope.key")).toString())
                .isEqualTo("[OWNER_READ, OWNER_WRITE]");
    }

    static String code(Map<String, Object> answer) {
        assertThat(answer).containsEntry("ok", false);
        return (String) map(answer.get("error")).get("code");
    }

    static List<String> refusals(Map<String, Object> audit) throws Exception {
        List<String> out = new ArrayList<>();
        for (Object row : (List<?>) audit.get("rows")) {
            JsonNode body = JSON.readTree((String) map(row).get("body"));
            if (body.path("decision").asText().equals("deny")) out.add(body.get("error").get("code").asText());
        }
        return out;
    }

    @Test
    void aRepeatedKeyReturnsTheRecordedOutcomeAcrossARestart() throws Exception {
        start();
        String id = (String) node.governance().admit("acme", new Admission("alice", "low", List.of("tickets.open"),
                Budgets.DEFAULTS, Map.of())).get("id");
        String once = """
                export default async (input, env) => env.TOOLS.tickets.open({ title: "only once" }, { idempotencyKey: "order-42" });
                """;
        Map<String, Object> first = map(node.governance().run("acme", id, code(once), null).result());
        assertThat(first).containsEntry("ok", true);
        node.close();
        opened.clear();
        start();
        Map<String, Object> again = map(node.governance().run("acme", id, code(once), null).result());
        assertThat(again).containsEntry("ok", true).containsEntry("replayed", true).containsEntry("value", first.get("value"));
        assertThat(opened).isEmpty();
        // The same key with other arguments is refused, not answered with the other call's outcome.
        Map<String, Object> other = map(node.governance().run("acme", id, code("""
                export default async (input, env) => env.TOOLS.tickets.open({ title: "else" }, { idempotencyKey: "order-42" });
                """), null).result());
        assertThat(code(other)).isEqualTo("idempotency_key_reused");
        assertThat(node.governance().audit("acme", id).get("firstBroken")).isEqualTo(0L);
    }

    @Test
    void endingASessionRevokesTheCapabilityOfItsRunningCode() throws Exception {
        start();
        Governance gov = node.governance();
        String id = (String) gov.admit("acme", new Admission("alice", "low", List.of("tickets.open", "tickets.read"),
                Budgets.DEFAULTS, Map.of())).get("id");
        // The tool ends the session while the code runs: the code's next call fails.
        gov.registerTool(new Tool("tickets.read", JSON.readTree("{\"type\": \"object\"}"), Contract.READ_ONLY, 0, call -> {
            gov.end("acme", call.session(), "denied");
            return "ended";
        }));
        Governance.Run run = gov.run("acme", id, code("""
                export default async (input, env) => {
                  const first = await env.TOOLS.tickets.read();
                  try { await env.TOOLS.tickets.open({ title: "after" }); return "still callable"; }
                  catch (e) { return [first.value, e.message]; }
                };
                """), null);
        assertThat(run.result()).isEqualTo(List.of("ended", "The RPC stub was revoked by the host that granted it."));
        assertThat(opened).isEmpty();
        Map<String, Object> s = gov.session("acme", id);
        assertThat(s).containsEntry("status", "ended").containsEntry("terminationReason", "denied");
        assertThat((String) s.get("digest")).hasSize(64);
        assertThat(kinds(gov.audit("acme", id))).contains("terminated");
        // No new run in an ended session.
        assertThatThrownBy(() -> gov.run("acme", id, code("export default () => 1;"), null))
                .isInstanceOfSatisfying(GovernanceException.class, e -> {
                    assertThat(e.status()).isEqualTo(409);
                    assertThat(e.error().code()).isEqualTo("session_ended");
                });
    }

    final AtomicInteger refunds = new AtomicInteger();

    void realRefunds() throws Exception {
        node.governance().registerTool(new Tool("payments.refund", JSON.readTree(
                "{\"type\": \"object\", \"properties\": {\"cents\": {\"type\": \"integer\"}}, \"required\": [\"cents\"]}"),
                Contract.PRIVILEGED, 5, call -> {
                    refunds.incrementAndGet();
                    return "refunded " + call.args().get("cents");
                }));
    }

    JsonNode runOverHttp(String id, String main) throws Exception {
        HttpResponse<String> r = send(ACME_KEY, "POST", "v1/sessions/" + id + "/run", runBody(main, Map.of()));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body()).get("result");
    }

    @Test
    void aPrivilegedCallWaitsForAnApprovalThatSurvivesARestart() throws Exception {
        start();
        realRefunds();
        approvers();
        String id = admitOverHttp("[\"payments.refund\"]");
        String refund1 = "export default async (input, env) => env.TOOLS.payments.refund({ cents: 900 }, { idempotencyKey: \"refund-1\" });";
        JsonNode noKey = runOverHttp(id, "export default async (input, env) => env.TOOLS.payments.refund({ cents: 900 });");
        assertThat(noKey.get("error").get("code").asText()).isEqualTo("idempotency_key_required");

        JsonNode pending = runOverHttp(id, refund1);
        assertThat(pending.get("ok").asBoolean()).isFalse();
        assertThat(pending.get("error").get("code").asText()).isEqualTo("approval_pending");
        assertThat(pending.get("error").get("retryable").asBoolean()).isTrue();
        String approval = pending.get("approval").get("id").asText();
        assertThat(approval).matches("apr_[0-9a-f]{20}");
        assertThat(runOverHttp(id, refund1).get("approval").get("id").asText()).isEqualTo(approval); // the same one, not another
        assertThat(refunds).hasValue(0);

        JsonNode list = JSON.readTree(send(ACME_KEY, "GET", "v1/approvals?state=pending", null).body()).get("approvals");
        assertThat(list).hasSize(1);
        assertThat(list.get(0).get("id").asText()).isEqualTo(approval);
        assertThat(list.get(0).get("session").asText()).isEqualTo(id);
        assertThat(list.get(0).get("tool").asText()).isEqualTo("payments.refund");
        // Another tenant neither sees nor decides it; the session's own actor cannot approve it.
        assertThat(JSON.readTree(send(EVIL_KEY, "GET", "v1/approvals", null).body()).get("approvals")).isEmpty();
        assertThat(decide(EVIL_KEY, CAROL_KEY, approval, "approve").statusCode()).isEqualTo(403); // evil has no approvers
        HttpResponse<String> self = decide(ACME_KEY, ALICE_APPROVER_KEY, approval, "approve");
        assertThat(self.statusCode()).isEqualTo(409);
        assertThat(JSON.readTree(self.body()).get("error").get("code").asText()).isEqualTo("approver_is_actor");

        // The approval waits across a restart of the node.
        node.close();
        start();
        realRefunds();
        approvers();
        assertThat(JSON.readTree(send(ACME_KEY, "GET", "v1/approvals?state=pending", null).body()).get("approvals")).hasSize(1);
        HttpResponse<String> ok = decide(ACME_KEY, CAROL_KEY, approval, "approve");
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
        assertThat(JSON.readTree(ok.body()).get("state").asText()).isEqualTo("approved");
        assertThat(JSON.readTree(ok.body()).get("decidedBy").asText()).isEqualTo("carol");

        // Called again with the same key, it runs, once.
        assertThat(runOverHttp(id, refund1).toString()).isEqualTo("{\"ok\":true,\"value\":\"refunded 900\"}");
        JsonNode again = runOverHttp(id, refund1);
        assertThat(again.get("replayed").asBoolean()).isTrue();
        assertThat(refunds).hasValue(1);
        assertThat(JSON.readTree(send(ACME_KEY, "GET", "v1/approvals", null).body()).get("approvals").get(0).get("state").asText())
                .isEqualTo("used");
        HttpResponse<String> twice = decide(ACME_KEY, CAROL_KEY, approval, "approve");
        assertThat(JSON.readTree(twice.body()).get("error").get("code").asText()).isEqualTo("approval_used");

        // A rejected approval stays rejected.
        String refund2 = "export default async (input, env) => env.TOOLS.payments.refund({ cents: 5 }, { idempotencyKey: \"refund-2\" });";
        String second = runOverHttp(id, refund2).get("approval").get("id").asText();
        assertThat(decide(ACME_KEY, CAROL_KEY, second, "reject").statusCode()).isEqualTo(200);
        assertThat(runOverHttp(id, refund2).get("error").get("code").asText()).isEqualTo("approval_rejected");
        assertThat(refunds).hasValue(1);
        // The trail holds the request and the approver's decision.
        JsonNode audit = JSON.readTree(send(ACME_KEY, "GET", "v1/sessions/" + id + "/audit", null).body());
        assertThat(audit.get("firstBroken").asLong()).isZero();
        assertThat(audit.get("rows").toString()).contains("approval_requested").contains("\\\"decision\\\":\\\"approved\\\"");
    }
}
