package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.server.config.ApiSettings;
import dev.bulwark.server.config.ApprovalSettings;
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
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Approvals of privileged tool calls (issue 15 "Approval") against a real node: approvers with a
 * role and a key of their own, never the session's actor; a quorum of distinct approvers, one
 * rejection rejecting; escalation and expiry as deadlines that survive a restart of the node; a
 * call that waits (bounded) for its decision and runs once; every vote and refusal in the trail.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ApprovalsTest {
    static final String ACME_KEY = "tk_acme_5d2f9a7c1b3e4d6f8a0b2c4d6e8f0a1b";
    static final String CAROL = "ak_carol_0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    static final String DAVE = "ak_dave_1a2b3c4d5e6f708192a3b4c5d6e7f8091";
    static final String ERIN = "ak_erin_99887766554433221100ffeeddccbbaa";
    static final String ALICE = "ak_alice_a1b2c3d4e5f60718293a4b5c6d7e8f90";
    static final String PREFIX = "/cdn-cgi/bulwark/api/";
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    static final String REFUND = "export default async (input, env) => env.TOOLS.payments.refund({ cents: input.cents },"
            + " { idempotencyKey: input.key, waitMs: input.waitMs });";

    @TempDir
    Path data;
    Node node;
    final AtomicInteger refunds = new AtomicInteger();
    final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
    final List<String> events = java.util.Collections.synchronizedList(new ArrayList<>());

    /** Records what governance tells the awaiting-approval lane, as "what approval detail". */
    final ApprovalEvents recorder = new ApprovalEvents() {
        public void pending(String tenant, String session, String approvalId, String tool) {
            events.add("pending " + approvalId + " " + tool);
        }

        public void waitStarted(String tenant, String session, String approvalId, long waitMs) {
            events.add("waitStarted " + approvalId);
        }

        public void waitEnded(String tenant, String session, String approvalId, String state) {
            events.add("waitEnded " + approvalId + " " + state);
        }

        public void settled(String tenant, String session, String approvalId, String state) {
            events.add("settled " + approvalId + " " + state);
        }

        public void decided(String tenant, String session, String approvalId, String state) {
            events.add("decided " + approvalId + " " + state);
        }
    };

    void awaitEvent(String event) throws InterruptedException {
        for (int i = 0; i < 1200 && !events.contains(event); i++) Thread.sleep(50);
        assertThat(events).contains(event);
    }

    /** A node whose acme approvers are carol and dave (approver), erin (escalation) and alice@acme, the sessions' actor. */
    Governance start(ApprovalSettings settings) throws Exception {
        node = Node.start(Settings.of(data, "acme").withPort(0).withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(0))
                .withApi(new ApiSettings(List.of(ApiSettings.Key.of("acme", ACME_KEY)))));
        Governance gov = node.governance();
        gov.clock = clock::get;
        gov.registerTool(new Tool("payments.refund", JSON.readTree(
                "{\"type\": \"object\", \"properties\": {\"cents\": {\"type\": \"integer\"}}, \"required\": [\"cents\"]}"),
                Contract.PRIVILEGED, 5, call -> {
                    refunds.incrementAndGet();
                    return "refunded " + call.args().get("cents");
                }));
        gov.approvalSettings(settings);
        gov.approvalEvents(recorder);
        return gov;
    }

    static ApprovalSettings settings(long ttlMs, long escalateAfterMs, long maxWaitMs, int quorum) {
        return new ApprovalSettings(List.of(
                ApprovalSettings.Approver.of("acme", "carol", "approver", CAROL),
                ApprovalSettings.Approver.of("acme", "dave", "approver", DAVE),
                ApprovalSettings.Approver.of("acme", "erin", "escalation", ERIN),
                ApprovalSettings.Approver.of("acme", "alice@acme", "approver", ALICE)),
                ttlMs, escalateAfterMs, maxWaitMs, Map.of("payments.refund", quorum));
    }

    @AfterEach
    void stop() {
        if (node != null) node.close();
    }

    String admit(Governance gov) {
        return (String) gov.admit("acme", new Admission("alice@acme", "high", List.of("payments.refund"),
                new Budgets(100, 1_000, 24 * 3600_000L, 1_000), Map.of())).get("id");
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> refund(Governance gov, String session, long cents, String key, long waitMs) {
        return (Map<String, Object>) gov.run("acme", session, GovernanceTest.code(REFUND),
                Map.of("cents", cents, "key", key, "waitMs", waitMs)).result();
    }

    @SuppressWarnings("unchecked")
    static String code(Map<String, Object> answer) {
        return (String) ((Map<String, Object>) answer.get("error")).get("code");
    }

    @SuppressWarnings("unchecked")
    static String approvalId(Map<String, Object> answer) {
        return (String) ((Map<String, Object>) answer.get("approval")).get("id");
    }

    HttpResponse<String> post(String approverKey, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + PREFIX + path))
                .timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + ACME_KEY)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (approverKey != null) b.header("Bulwark-Approver-Key", approverKey);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonNode get(String path) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + PREFIX + path))
                .timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + ACME_KEY).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    static String errorCode(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).get("error").get("code").asText();
    }

    /** The trail's approval rows, each as "approver vote -> decision" or "approver vote !error", or "state" for the clock's. */
    @SuppressWarnings("unchecked")
    static List<String> approvalRows(Governance gov, String session) throws Exception {
        List<String> out = new ArrayList<>();
        for (Object row : (List<Object>) gov.audit("acme", session).get("rows")) {
            Map<String, Object> r = (Map<String, Object>) row;
            if (!"approval".equals(r.get("kind"))) continue;
            JsonNode body = JSON.readTree((String) r.get("body"));
            if (body.has("vote")) {
                out.add(body.get("approver").asText() + " " + body.get("vote").asText()
                        + (body.has("error") ? " !" + body.get("error").get("code").asText() : " -> " + body.get("decision").asText()));
            } else if (body.has("state")) {
                out.add(body.get("state").asText() + (body.has("to") ? " to " + body.get("to").asText() : ""));
            } else {
                out.add(body.get("decision").asText());
            }
        }
        return out;
    }

    @Test
    void onlyTheTenantsApproversDecideAndAQuorumNeedsDistinctOnes() throws Exception {
        Governance gov = start(settings(3600_000, 0, 0, 2));
        String id = admit(gov);
        Map<String, Object> pending = refund(gov, id, 900, "refund-1", 0);
        assertThat(code(pending)).isEqualTo("approval_pending");
        String approval = approvalId(pending);

        // No approver key, the tenant's own key, the session's actor, the escalation role before escalation: refused.
        String approve = "{\"decision\": \"approve\"}";
        HttpResponse<String> none = post(null, "v1/approvals/" + approval, approve);
        assertThat(none.statusCode()).isEqualTo(403);
        assertThat(errorCode(none)).isEqualTo("not_an_approver");
        assertThat(errorCode(post(ACME_KEY, "v1/approvals/" + approval, approve))).isEqualTo("not_an_approver");
        HttpResponse<String> self = post(ALICE, "v1/approvals/" + approval, approve);
        assertThat(self.statusCode()).isEqualTo(409);
        assertThat(errorCode(self)).isEqualTo("approver_is_actor");
        HttpResponse<String> early = post(ERIN, "v1/approvals/" + approval, approve);
        assertThat(early.statusCode()).isEqualTo(403);
        assertThat(errorCode(early)).isEqualTo("approval_not_escalated");

        // carol approves: one of two; she cannot count twice; the call still waits.
        HttpResponse<String> first = post(CAROL, "v1/approvals/" + approval, approve);
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        assertThat(JSON.readTree(first.body()).get("state").asText()).isEqualTo("pending");
        assertThat(JSON.readTree(first.body()).get("quorum").asLong()).isEqualTo(2);
        assertThat(JSON.readTree(first.body()).get("votes").get(0).get("approver").asText()).isEqualTo("carol");
        HttpResponse<String> twice = post(CAROL, "v1/approvals/" + approval, approve);
        assertThat(twice.statusCode()).isEqualTo(409);
        assertThat(errorCode(twice)).isEqualTo("approver_already_voted");
        assertThat(code(refund(gov, id, 900, "refund-1", 0))).isEqualTo("approval_pending");
        assertThat(refunds).hasValue(0);

        // dave completes the quorum; the call runs once.
        JsonNode decided = JSON.readTree(post(DAVE, "v1/approvals/" + approval, approve).body());
        assertThat(decided.get("state").asText()).isEqualTo("approved");
        assertThat(decided.get("decidedBy").asText()).isEqualTo("dave");
        assertThat(refund(gov, id, 900, "refund-1", 0)).isEqualTo(Map.of("ok", true, "value", "refunded 900"));
        assertThat(refund(gov, id, 900, "refund-1", 0).get("replayed")).isEqualTo(true);
        assertThat(refunds).hasValue(1);

        // One rejection rejects, whatever approved before it.
        String second = approvalId(refund(gov, id, 5, "refund-2", 0));
        assertThat(gov.decideApproval("acme", second, "approve", CAROL).get("state")).isEqualTo("pending");
        assertThat(gov.decideApproval("acme", second, "reject", DAVE).get("state")).isEqualTo("rejected");
        assertThat(code(refund(gov, id, 5, "refund-2", 0))).isEqualTo("approval_rejected");
        assertThatThrownBy(() -> gov.decideApproval("acme", second, "approve", ERIN))
                .isInstanceOfSatisfying(GovernanceException.class, e -> assertThat(e.errorMap().get("code")).isEqualTo("approval_rejected"));
        assertThat(refunds).hasValue(1);

        // Every vote and refusal is in the trail with the approver's identity (null: no approver's key).
        assertThat(approvalRows(gov, id)).containsExactly(
                "approval_requested",
                "null approve !not_an_approver", "null approve !not_an_approver", "alice@acme approve !approver_is_actor",
                "erin approve !approval_not_escalated", "carol approve -> vote 1 of 2", "carol approve !approver_already_voted",
                "dave approve -> approved",
                "approval_requested", "carol approve -> vote 1 of 2", "dave reject -> rejected", "erin approve !approval_rejected");
        assertThat(gov.audit("acme", id).get("firstBroken")).isEqualTo(0L);
        // A tenant without approvers cannot decide at all; a bad state filter is a 400.
        assertThatThrownBy(() -> gov.decideApproval("other", approval, "approve", CAROL))
                .isInstanceOfSatisfying(GovernanceException.class, e -> assertThat(e.errorMap().get("code")).isEqualTo("no_approvers"));
        assertThatThrownBy(() -> gov.approvals("acme", "maybe"))
                .isInstanceOfSatisfying(GovernanceException.class, e -> assertThat(e.status()).isEqualTo(400));
    }

    @Test
    void escalationAndExpiryAreDeadlinesThatARestartedNodeResumes() throws Exception {
        Governance gov = start(settings(300_000, 60_000, 0, 1));
        String id = admit(gov);
        String escalating = approvalId(refund(gov, id, 100, "refund-1", 0));
        clock.incrementAndGet(); // listed in the order asked for (same millisecond: by id)
        String expiring = approvalId(refund(gov, id, 200, "refund-2", 0));

        // The node stops with both pending; a new node on the same data lists them and the session shows them.
        node.close();
        gov = start(settings(300_000, 60_000, 0, 1));
        assertThat(get("v1/approvals?state=pending").get("approvals").findValuesAsText("id")).containsExactly(escalating, expiring);
        JsonNode session = get("v1/sessions/" + id);
        assertThat(session.get("pendingApprovals").findValuesAsText("id")).containsExactly(escalating, expiring);

        // Past the escalation time, with no one reading: the node's sweep escalates both (audited once, told once).
        events.clear();
        clock.addAndGet(61_000);
        gov.approvalSweepMs(100);
        awaitEvent("settled " + expiring + " escalated");
        assertThat(events).containsExactly("settled " + escalating + " escalated", "settled " + expiring + " escalated");
        assertThat(get("v1/approvals?state=pending").get("approvals")).isEmpty();
        assertThat(get("v1/approvals?state=escalated").get("approvals").findValuesAsText("id")).containsExactly(escalating, expiring);
        assertThat(code(refund(gov, id, 100, "refund-1", 0))).isEqualTo("approval_pending");
        assertThat(gov.decideApproval("acme", escalating, "approve", ERIN).get("state")).isEqualTo("approved");
        assertThat(refund(gov, id, 100, "refund-1", 0)).isEqualTo(Map.of("ok", true, "value", "refunded 100"));

        // Past its expiry, the other is expired: the call's answer says so, and no one can decide it any more.
        clock.addAndGet(240_000);
        assertThat(code(refund(gov, id, 200, "refund-2", 0))).isEqualTo("approval_expired");
        assertThat(get("v1/approvals?state=expired").get("approvals").findValuesAsText("id")).containsExactly(expiring);
        String expiringId = expiring;
        Governance g = gov;
        assertThatThrownBy(() -> g.decideApproval("acme", expiringId, "approve", CAROL))
                .isInstanceOfSatisfying(GovernanceException.class, e -> assertThat(e.errorMap().get("code")).isEqualTo("approval_expired"));
        assertThat(get("v1/sessions/" + id).get("pendingApprovals")).isEmpty();
        assertThat(refunds).hasValue(1);
        assertThat(approvalRows(gov, id)).containsExactly("approval_requested", "approval_requested",
                "escalated to escalation", "escalated to escalation", "erin approve -> approved", "expired",
                "carol approve !approval_expired");
    }

    @Test
    void aCallWaitsBoundedForItsDecisionAndRunsOnce() throws Exception {
        Governance gov = start(settings(3600_000, 0, 60_000, 1));
        String id = admit(gov);
        // No decision within the wait: the call answers approval_pending with its handle.
        Map<String, Object> timedOut = refund(gov, id, 300, "refund-0", 200);
        assertThat(code(timedOut)).isEqualTo("approval_pending");

        String first = approvalId(timedOut);
        assertThat(events).containsExactly("pending " + first + " payments.refund", "waitStarted " + first,
                "waitEnded " + first + " pending");

        // Decided while the call waits: the same call runs, once.
        events.clear();
        CompletableFuture<Map<String, Object>> waiting = CompletableFuture.supplyAsync(() -> refund(gov, id, 700, "refund-1", 25_000));
        String approval = null;
        for (int i = 0; i < 1200 && approval == null; i++) {
            for (Map<String, Object> a : gov.approvals("acme", "pending")) if (!a.get("id").equals(first)) approval = (String) a.get("id");
            if (approval == null) Thread.sleep(50);
        }
        assertThat(approval).isNotNull();
        awaitEvent("waitStarted " + approval);
        gov.decideApproval("acme", approval, "approve", CAROL);
        assertThat(waiting.get(120, TimeUnit.SECONDS)).isEqualTo(Map.of("ok", true, "value", "refunded 700"));
        assertThat(events).containsExactly("pending " + approval + " payments.refund", "waitStarted " + approval,
                "decided " + approval + " approved", "waitEnded " + approval + " decided");
        assertThat(refund(gov, id, 700, "refund-1", 0).get("replayed")).isEqualTo(true);
        assertThat(refunds).hasValue(1);
        assertThat(gov.approvals("acme", "used").get(0).get("id")).isEqualTo(approval);
    }
}
