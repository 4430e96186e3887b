package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bulwark.objects.java.JavaObjectStub;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static dev.bulwark.server.governance.GovernanceTest.JSON;
import static dev.bulwark.server.governance.GovernanceTest.map;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The ledger beyond exactly-once: a retry of an {@code outcome_unknown} key asks the tool's lookup
 * (never runs it blindly), an operator lists and settles rows, a session rolls back (reverts newest
 * first, each at most once, crash-safely), and the call history is checkpointed. Tool calls go
 * straight through {@link Governance#mediate} with envelopes the session object issued (the path
 * {@code env.TOOLS} takes, without a sandbox); a "crash" in the middle of a call is a
 * {@link java.lang.Error} thrown by the tool, which mediation does not catch, so the call stops
 * where a dead node would have (the real kill -9 is in {@link LedgerCrashTest} and
 * {@link CrashEveryStepTest}).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class LedgerTest {
    /** Stops a call as a crash would: not caught by mediation (it catches Exception). */
    static final class Crash extends Error {
        Crash() {
            super("simulated crash", null, false, false);
        }
    }

    @TempDir
    Path data;
    final GovernanceTest base = new GovernanceTest();
    Governance gov;
    final List<String> effects = Collections.synchronizedList(new ArrayList<>());
    final List<String> reverts = Collections.synchronizedList(new ArrayList<>());
    /** Keys whose call crashes before / after its effect, and keys the lookup cannot tell about. */
    final Set<String> crashBefore = Collections.synchronizedSet(new java.util.HashSet<>());
    final Set<String> crashAfter = Collections.synchronizedSet(new java.util.HashSet<>());
    final Set<String> lookupCannotTell = Collections.synchronizedSet(new java.util.HashSet<>());

    void start() throws Exception {
        base.data = data;
        base.start();
        gov = base.node.governance();
    }

    @AfterEach
    void stop() {
        base.stop();
    }

    ToolFunction effect(String prefix) {
        return call -> {
            if (crashBefore.remove(call.idempotencyKey())) throw new Crash();
            if (Boolean.TRUE.equals(call.args().get("fail"))) throw new IllegalStateException("refused by the service");
            effects.add(call.tool() + " " + call.idempotencyKey());
            if (crashAfter.remove(call.idempotencyKey())) throw new Crash();
            return prefix + "-" + call.idempotencyKey();
        };
    }

    ToolLookup lookupInEffects(String prefix) {
        return call -> {
            if (lookupCannotTell.contains(call.idempotencyKey())) return new ToolLookup.Unknown();
            return effects.contains(call.tool() + " " + call.idempotencyKey())
                    ? new ToolLookup.Applied(prefix + "-" + call.idempotencyKey()) : new ToolLookup.NotApplied();
        };
    }

    ToolRevert revertLogged() {
        return (call, value) -> reverts.add(call.tool() + " " + call.idempotencyKey() + " " + value + " " + call.args());
    }

    static Tool tool(String name, Contract contract, ToolFunction f) throws Exception {
        return new Tool(name, JSON.readTree("{\"type\": \"object\"}"), contract, 1, f);
    }

    /** Calls under one envelope of {@code session}, numbered as env.TOOLS numbers them. */
    final class Caller {
        final String session;
        final String token;
        long seq;

        Caller(String session) {
            this.session = session;
            this.token = (String) map(stub(session).call("dispatch", "code-hash")).get("token");
        }

        Map<String, Object> call(String tool, String key, Map<String, Object> args) {
            return gov.mediate("acme", session, token, ++seq, tool, args, key);
        }

        Map<String, Object> call(String tool, String key) {
            return call(tool, key, new LinkedHashMap<>());
        }
    }

    JavaObjectStub stub(String session) {
        return base.node.javaObjects().namespace("acme", SessionObject.CLASS).getByName(session);
    }

    String admit(String... tools) {
        return (String) gov.admit("acme", new Admission("agent-7", "low", List.of(tools), new Budgets(100, 1_000, 10 * 60_000, 1_000),
                Map.of())).get("id");
    }

    static Map<String, Object> ok(Object value, boolean replayed) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", true);
        m.put("value", value);
        if (replayed) m.put("replayed", true);
        return m;
    }

    Map<String, String> states(String session) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map<String, Object> r : gov.ledger("acme", session)) out.put((String) r.get("key"), (String) r.get("state"));
        return out;
    }

    List<String> ledgerResults(String session) throws Exception {
        List<String> out = new ArrayList<>();
        for (Object row : (List<?>) gov.audit("acme", session).get("rows")) {
            if (!"ledger".equals(map(row).get("kind"))) continue;
            JsonNode body = JSON.readTree((String) map(row).get("body"));
            out.add(body.get("key").asText() + " " + body.get("result").asText());
        }
        return out;
    }

    @Test
    void aRetryOfAnUnknownOutcomeAsksTheLookupAndNeverRunsTheToolBlindly() throws Exception {
        start();
        gov.registerTool(tool("payments.charge", Contract.CONTROLLED_MUTATION, effect("ch")).withLookup(lookupInEffects("ch")));
        String s = admit("payments.charge");
        Caller c = new Caller(s);

        // The node "dies" after the effect: the lookup finds it, the outcome is recorded, the tool does not run again.
        crashAfter.add("k1");
        assertThatThrownBy(() -> c.call("payments.charge", "k1")).isInstanceOf(Crash.class);
        assertThat(states(s)).containsExactly(Map.entry("k1", "pending"));
        assertThat(c.call("payments.charge", "k1")).isEqualTo(ok("ch-k1", true));
        assertThat(c.call("payments.charge", "k1")).isEqualTo(ok("ch-k1", true));
        assertThat(effects).containsExactly("payments.charge k1");

        // It dies before the effect: the lookup proves it did not happen, so the call runs, once.
        crashBefore.add("k2");
        assertThatThrownBy(() -> c.call("payments.charge", "k2")).isInstanceOf(Crash.class);
        assertThat(c.call("payments.charge", "k2")).isEqualTo(ok("ch-k2", false));
        assertThat(c.call("payments.charge", "k2")).isEqualTo(ok("ch-k2", true));
        assertThat(effects).containsExactly("payments.charge k1", "payments.charge k2");

        // The lookup cannot tell: outcome_unknown, nothing runs.
        crashAfter.add("k3");
        lookupCannotTell.add("k3");
        assertThatThrownBy(() -> c.call("payments.charge", "k3")).isInstanceOf(Crash.class);
        for (int i = 0; i < 2; i++) {
            Map<String, Object> answer = c.call("payments.charge", "k3");
            assertThat(GovernanceTest.code(answer)).isEqualTo("outcome_unknown");
            assertThat(map(answer.get("error"))).containsEntry("retryable", false);
        }
        assertThat(effects).containsExactly("payments.charge k1", "payments.charge k2", "payments.charge k3");
        assertThat(states(s)).containsExactly(Map.entry("k1", "applied"), Map.entry("k2", "applied"),
                Map.entry("k3", "outcome_unknown"));
        assertThat(gov.ledger("acme", s).get(2)).containsEntry("unknown", "call").doesNotContainKey("outcome");
        assertThat(ledgerResults(s)).containsExactly(
                "k1 lookup", "k1 reconciled:applied", "k1 replayed:applied",
                "k2 lookup", "k2 reconciled:not_applied", "k2 replayed:applied",
                "k3 lookup", "k3 outcome_unknown", "k3 lookup", "k3 outcome_unknown");
        assertThat(gov.audit("acme", s).get("firstBroken")).isEqualTo(0L);
    }

    @Test
    void withoutALookupTheOutcomeStaysUnknownUntilAnOperatorSettlesIt() throws Exception {
        start();
        gov.registerTool(tool("payments.charge", Contract.CONTROLLED_MUTATION, effect("ch")));
        String s = admit("payments.charge");
        Caller c = new Caller(s);
        crashAfter.add("k1");
        assertThatThrownBy(() -> c.call("payments.charge", "k1")).isInstanceOf(Crash.class);
        crashBefore.add("k2");
        assertThatThrownBy(() -> c.call("payments.charge", "k2")).isInstanceOf(Crash.class);
        assertThat(c.call("payments.charge", "k0")).isEqualTo(ok("ch-k0", false));
        for (String k : List.of("k1", "k1", "k2")) assertThat(GovernanceTest.code(c.call("payments.charge", k))).isEqualTo("outcome_unknown");

        // The operator's view, over the tenant API.
        HttpResponse<String> listed = base.send(GovernanceTest.ACME_KEY, "GET", "v1/sessions/" + s + "/ledger", null);
        assertThat(listed.statusCode()).isEqualTo(200);
        JsonNode rows = JSON.readTree(listed.body()).get("ledger");
        assertThat(rows).hasSize(3);
        assertThat(rows.get(0).get("key").asText()).isEqualTo("k1");
        assertThat(rows.get(0).get("state").asText()).isEqualTo("outcome_unknown");
        assertThat(rows.get(0).get("unknown").asText()).isEqualTo("call");
        assertThat(rows.get(2).get("key").asText()).isEqualTo("k0");
        assertThat(rows.get(2).get("outcome").get("value").asText()).isEqualTo("ch-k0");
        assertThat(base.send(GovernanceTest.EVIL_KEY, "GET", "v1/sessions/" + s + "/ledger", null).statusCode()).isEqualTo(404);
        assertThat(base.send(GovernanceTest.ACME_KEY, "DELETE", "v1/sessions/" + s + "/ledger", null).statusCode()).isEqualTo(405);

        // Refusals, each structured.
        assertSettleRefused(s, "{\"key\": \"k0\", \"state\": \"applied\", \"operator\": \"ops@acme\"}", 409, "not_outcome_unknown");
        assertSettleRefused(s, "{\"key\": \"nope\", \"state\": \"applied\", \"operator\": \"ops@acme\"}", 404, "not_found");
        assertSettleRefused(s, "{\"key\": \"k1\", \"state\": \"reverted\", \"operator\": \"ops@acme\"}", 400, "bad_request");
        assertSettleRefused(s, "{\"key\": \"k1\", \"state\": \"applied\"}", 400, "bad_request");
        assertSettleRefused(s, "{\"key\": \"k1\", \"state\": \"applied\", \"operator\": \"no spaces\"}", 400, "bad_request");
        assertThat(base.send(GovernanceTest.EVIL_KEY, "POST", "v1/sessions/" + s + "/ledger",
                "{\"key\": \"k1\", \"state\": \"applied\", \"operator\": \"x\"}").statusCode()).isEqualTo(404);

        // k1 happened (the operator checked the payment system): applied with its value, replayed from now on.
        HttpResponse<String> settled = base.send(GovernanceTest.ACME_KEY, "POST", "v1/sessions/" + s + "/ledger",
                "{\"key\": \"k1\", \"state\": \"applied\", \"value\": \"ch-k1\", \"operator\": \"ops@acme\"}");
        assertThat(settled.statusCode()).as(settled.body()).isEqualTo(200);
        assertThat(JSON.readTree(settled.body()).get("state").asText()).isEqualTo("applied");
        assertThat(c.call("payments.charge", "k1")).isEqualTo(ok("ch-k1", true));
        // k2 did not: settled not_applied, the next call runs it once.
        gov.settle("acme", s, "k2", "not_applied", null, "ops@acme");
        assertThat(c.call("payments.charge", "k2")).isEqualTo(ok("ch-k2", false));
        assertThat(c.call("payments.charge", "k2")).isEqualTo(ok("ch-k2", true));
        assertThat(effects).containsExactly("payments.charge k1", "payments.charge k0", "payments.charge k2");
        assertThat(states(s)).containsExactly(Map.entry("k1", "applied"), Map.entry("k2", "applied"), Map.entry("k0", "applied"));
        assertThat(ledgerResults(s)).containsExactly("k1 outcome_unknown", "k1 outcome_unknown", "k2 outcome_unknown",
                "k1 settled:applied", "k1 replayed:applied", "k2 settled:not_applied", "k2 run:not_applied", "k2 replayed:applied");
        // The operator is named in the trail.
        assertThat(gov.audit("acme", s).toString()).contains("\"operator\":\"ops@acme\"");
        assertThat(gov.audit("acme", s).get("firstBroken")).isEqualTo(0L);
    }

    void assertSettleRefused(String s, String body, int status, String code) throws Exception {
        HttpResponse<String> r = base.send(GovernanceTest.ACME_KEY, "POST", "v1/sessions/" + s + "/ledger", body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(JSON.readTree(r.body()).get("error").get("code").asText()).isEqualTo(code);
    }

    @Test
    void aRollbackRevertsEveryAppliedEffectNewestFirstAndOnlyOnce() throws Exception {
        start();
        gov.registerTool(tool("tickets.create", Contract.CONTROLLED_MUTATION, effect("T")).withRevert(revertLogged()));
        gov.registerTool(tool("mail.send", Contract.CONTROLLED_MUTATION, effect("M")).withRevert(revertLogged()));
        gov.registerTool(tool("tickets.find", Contract.READ_ONLY, effect("F")));
        String s = admit("tickets.create", "mail.send", "tickets.find");
        Caller c = new Caller(s);
        c.call("tickets.create", "t1", new LinkedHashMap<>(Map.of("title", "a")));
        c.call("tickets.find", "f1");
        c.call("mail.send", "m1", new LinkedHashMap<>(Map.of("to", "bob")));
        assertThat(GovernanceTest.code(c.call("mail.send", "m2", new LinkedHashMap<>(Map.of("fail", true))))).isEqualTo("tool_failed");
        c.call("tickets.create", "t2", new LinkedHashMap<>(Map.of("title", "b")));

        HttpResponse<String> r = base.send(GovernanceTest.ACME_KEY, "POST", "v1/sessions/" + s + "/rollback", "{\"operator\": \"ops@acme\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).get("reverted").toString()).isEqualTo("[\"t2\",\"m1\",\"t1\"]");
        // Each revert got the original arguments and recorded value; the read-only call and the failed one are not reverted.
        assertThat(reverts).containsExactly("tickets.create t2 T-t2 {title=b}", "mail.send m1 M-m1 {to=bob}",
                "tickets.create t1 T-t1 {title=a}");
        assertThat(states(s)).containsExactly(Map.entry("t1", "reverted"), Map.entry("f1", "applied"), Map.entry("m1", "reverted"),
                Map.entry("m2", "applied"), Map.entry("t2", "reverted"));
        // A repeat of a reverted call is answered from the ledger (it does not run again) and says so.
        Map<String, Object> again = c.call("tickets.create", "t1", new LinkedHashMap<>(Map.of("title", "a")));
        assertThat(again).containsEntry("value", "T-t1").containsEntry("replayed", true).containsEntry("reverted", true);
        // A second rollback has nothing left to revert.
        assertThat(gov.rollback("acme", s, "ops@acme")).containsEntry("reverted", List.of());
        assertThat(reverts).hasSize(3);
        assertThat(effects).containsExactly("tickets.create t1", "tickets.find f1", "mail.send m1", "tickets.create t2");

        List<String> trail = new ArrayList<>();
        for (Object row : (List<?>) gov.audit("acme", s).get("rows")) {
            String kind = (String) map(row).get("kind");
            if (!kind.equals("rollback") && !kind.equals("revert")) continue;
            JsonNode body = JSON.readTree((String) map(row).get("body"));
            trail.add(kind + " " + (kind.equals("revert") ? body.get("key").asText() + " " + body.get("state").asText() : body.get("step").asText()));
        }
        assertThat(trail).containsExactly("rollback started", "revert t2 reverting", "revert t2 reverted", "revert m1 reverting",
                "revert m1 reverted", "revert t1 reverting", "revert t1 reverted", "rollback completed", "rollback started",
                "rollback completed");
        assertThat(gov.audit("acme", s).get("firstBroken")).isEqualTo(0L);
        assertThat(base.send(GovernanceTest.ACME_KEY, "POST", "v1/sessions/" + s + "/rollback", "{}").statusCode()).isEqualTo(400);
        assertThat(base.send(GovernanceTest.EVIL_KEY, "POST", "v1/sessions/" + s + "/rollback", "{\"operator\": \"x\"}").statusCode())
                .isEqualTo(404);
    }

    @Test
    void aRollbackIsRefusedWholeWhenAnEffectCannotBeRevertedOrItsOutcomeIsUnknown() throws Exception {
        start();
        gov.registerTool(tool("tickets.create", Contract.CONTROLLED_MUTATION, effect("T")).withRevert(revertLogged()));
        gov.registerTool(tool("payments.charge", Contract.CONTROLLED_MUTATION, effect("ch")));
        String s = admit("tickets.create", "payments.charge");
        Caller c = new Caller(s);
        c.call("tickets.create", "t1");
        c.call("payments.charge", "p1");
        HttpResponse<String> r = base.send(GovernanceTest.ACME_KEY, "POST", "v1/sessions/" + s + "/rollback", "{\"operator\": \"ops\"}");
        assertThat(r.statusCode()).isEqualTo(409);
        JsonNode err = JSON.readTree(r.body()).get("error");
        assertThat(err.get("code").asText()).isEqualTo("not_revertible");
        assertThat(err.get("message").asText()).isEqualTo("1 applied call(s) have no revert: p1");
        assertThat(reverts).isEmpty();
        assertThat(states(s)).containsExactly(Map.entry("t1", "applied"), Map.entry("p1", "applied"));

        String s2 = admit("tickets.create");
        Caller c2 = new Caller(s2);
        c2.call("tickets.create", "t1");
        crashAfter.add("t2");
        assertThatThrownBy(() -> c2.call("tickets.create", "t2")).isInstanceOf(Crash.class);
        // The rollback finds the row the "crash" left pending: unknown, so nothing is reverted until it is settled.
        assertThatThrownBy(() -> gov.rollback("acme", s2, "ops")).isInstanceOfSatisfying(GovernanceException.class, e -> {
            assertThat(e.status()).isEqualTo(409);
            assertThat(e.error().code()).isEqualTo("ledger_unsettled");
            assertThat(e.error().message()).isEqualTo("1 ledger row(s) have an unknown outcome; settle them first: t2");
        });
        assertThat(reverts).isEmpty();
        gov.settle("acme", s2, "t2", "applied", "T-t2", "ops");
        assertThat(gov.rollback("acme", s2, "ops")).containsEntry("reverted", List.of("t2", "t1"));
        assertThat(reverts).containsExactly("tickets.create t2 T-t2 {}", "tickets.create t1 T-t1 {}");
    }

    @Test
    void aRollbackStoppedMidRevertNeverRevertsTheSameRowTwice() throws Exception {
        start();
        Set<String> crashInRevert = Collections.synchronizedSet(new java.util.HashSet<>(Set.of("t2")));
        Set<String> failInRevert = Collections.synchronizedSet(new java.util.HashSet<>());
        gov.registerTool(tool("tickets.create", Contract.CONTROLLED_MUTATION, effect("T")).withRevert((call, value) -> {
            if (failInRevert.remove(call.idempotencyKey())) throw new IllegalStateException("the ticket service refused");
            reverts.add(call.idempotencyKey());
            if (crashInRevert.remove(call.idempotencyKey())) throw new Crash();
        }));
        String s = admit("tickets.create");
        Caller c = new Caller(s);
        for (String k : List.of("t1", "t2", "t3")) c.call("tickets.create", k);

        // t3 reverted, then the "node dies" after t2's revert took effect and before it was recorded.
        assertThatThrownBy(() -> gov.rollback("acme", s, "ops")).isInstanceOf(Crash.class);
        assertThat(reverts).containsExactly("t3", "t2");
        assertThat(states(s)).containsExactly(Map.entry("t1", "applied"), Map.entry("t2", "reverting"), Map.entry("t3", "reverted"));
        // The next rollback does not revert t2 again: its revert's outcome is unknown.
        assertThatThrownBy(() -> gov.rollback("acme", s, "ops")).isInstanceOfSatisfying(GovernanceException.class,
                e -> assertThat(e.error().code()).isEqualTo("ledger_unsettled"));
        assertThat(gov.ledger("acme", s).get(1)).containsEntry("state", "outcome_unknown").containsEntry("unknown", "revert");
        // The call itself is still known: a repeat replays it and says the revert is unknown.
        assertThat(c.call("tickets.create", "t2")).containsEntry("value", "T-t2").containsEntry("revert", "outcome_unknown");
        assertSettleRefused(s, "{\"key\": \"t2\", \"state\": \"not_applied\", \"operator\": \"ops\"}", 400, "bad_request");
        gov.settle("acme", s, "t2", "reverted", null, "ops");

        // A revert that fails leaves its row applied and stops the rollback; running it again continues.
        failInRevert.add("t1");
        assertThatThrownBy(() -> gov.rollback("acme", s, "ops")).isInstanceOfSatisfying(GovernanceException.class, e -> {
            assertThat(e.status()).isEqualTo(409);
            assertThat(e.error().code()).isEqualTo("revert_failed");
        });
        assertThat(states(s)).containsEntry("t1", "applied");
        assertThat(gov.rollback("acme", s, "ops")).containsEntry("reverted", List.of("t1"));
        assertThat(reverts).containsExactly("t3", "t2", "t1");
        assertThat(states(s)).containsExactly(Map.entry("t1", "reverted"), Map.entry("t2", "reverted"), Map.entry("t3", "reverted"));
        assertThat(gov.audit("acme", s).get("firstBroken")).isEqualTo(0L);
    }

    @Test
    void checkpointsKeepWhatADecisionReadsBoundedAndTheTrailVerifiable() throws Exception {
        start();
        AtomicLong clock = new AtomicLong(1_800_000_000_000L);
        gov.clock = clock::get;
        gov.checkpointEvery(5);
        gov.registerTool(tool("tickets.create", Contract.CONTROLLED_MUTATION, effect("T")));
        gov.policies(new PolicyBundle("h1", Map.of("history.cedar", """
                @id("allow") permit(principal, action, resource);
                @id("at-most-12") forbid(principal, action, resource) when { context.history.toolCalls >= 12 };
                @id("rate") forbid(principal, action, resource) when { context.history.toolCallsLastMinute >= 4 };
                """)));
        String s = admit("tickets.create");
        Caller c = new Caller(s);
        for (int i = 1; i <= 12; i++) {
            assertThat(c.call("tickets.create", "t" + i)).containsEntry("ok", true);
            if (i % 3 == 0) clock.addAndGet(61_000);
        }
        // The 13th is refused by the policy that counts every call of the session, folded ones included.
        Map<String, Object> refused = c.call("tickets.create", "t13");
        assertThat(GovernanceTest.code(refused)).isEqualTo("policy_denied");
        assertThat(map(refused.get("error"))).containsEntry("rule", "at-most-12");
        // A burst within the minute is still seen by the windowed rule after a checkpoint.
        assertThat(stub(s).call("history")).isEqualTo(Map.of("rows", 3L));

        List<JsonNode> checkpoints = new ArrayList<>();
        List<?> rows = (List<?>) gov.audit("acme", s).get("rows");
        for (int i = 0; i < rows.size(); i++) {
            if (!"checkpoint".equals(map(rows.get(i)).get("kind"))) continue;
            JsonNode body = JSON.readTree((String) map(rows.get(i)).get("body"));
            checkpoints.add(body);
            assertThat(body.get("trailHead").asText()).isEqualTo(map(rows.get(i)).get("prev"));
        }
        assertThat(checkpoints).hasSize(2);
        assertThat(checkpoints.get(0).get("folded").asLong()).isEqualTo(3);
        assertThat(checkpoints.get(0).get("kept").asLong()).isEqualTo(2);
        assertThat(checkpoints.get(0).get("totals").toString()).isEqualTo("{\"tickets.create\":3}");
        assertThat(checkpoints.get(1).get("folded").asLong()).isEqualTo(6);
        assertThat(checkpoints.get(1).get("kept").asLong()).isEqualTo(1);
        assertThat(checkpoints.get(1).get("totals").toString()).isEqualTo("{\"tickets.create\":9}");
        assertThat(gov.audit("acme", s).get("firstBroken")).isEqualTo(0L);
        // The tenant's signed export (records, checkpoints, proofs) still verifies: no audit row was removed.
        AuditVerifier.Result verified = AuditVerifier.verify(gov.auditExport("acme").lines().toList(), null);
        assertThat(verified.firstBroken()).isNull();
        assertThat(verified.records()).isEqualTo(rows.size());
    }

    @Test
    void aSessionMadeBeforeThisLedgerIsUpgradedOnItsNextEvent() throws Exception {
        start();
        gov.registerTool(tool("tickets.create", Contract.CONTROLLED_MUTATION, effect("T")).withRevert(revertLogged()));
        String s = admit("tickets.create");
        assertThat(new Caller(s).call("tickets.create", "t1")).isEqualTo(ok("T-t1", false));
        base.node.close();
        base.node = null;
        // Back to the schema the first governance branch made: no phase/args/applied_n, no history index or tables.
        Path db;
        try (var files = java.nio.file.Files.walk(data.resolve("node-objects"))) {
            db = files.filter(p -> p.toString().contains("BulwarkSession") && p.toString().endsWith(".sqlite")).findFirst().orElseThrow();
        }
        try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + db); var st = c.createStatement()) {
            for (String sql : List.of("DROP INDEX ledger_applied", "DROP INDEX calls_tool_at", "DROP TABLE call_totals",
                    "DROP TABLE checkpoint", "ALTER TABLE ledger DROP COLUMN applied_n", "ALTER TABLE ledger DROP COLUMN phase",
                    "ALTER TABLE ledger DROP COLUMN args")) {
                st.execute(sql);
            }
        }
        start();
        gov.registerTool(tool("tickets.create", Contract.CONTROLLED_MUTATION, effect("T")).withRevert(revertLogged()));
        Caller c = new Caller(s);
        assertThat(c.call("tickets.create", "t1")).isEqualTo(ok("T-t1", true));
        assertThat(c.call("tickets.create", "t2")).isEqualTo(ok("T-t2", false));
        assertThat(effects).containsExactly("tickets.create t1", "tickets.create t2");
        // t1's arguments were not kept before the upgrade: the rollback refuses rather than revert without them.
        assertThatThrownBy(() -> gov.rollback("acme", s, "ops")).isInstanceOfSatisfying(GovernanceException.class,
                e -> assertThat(e.error().message()).isEqualTo("1 applied call(s) have no revert: t1"));
        assertThat(reverts).isEmpty();
        assertThat(states(s)).containsExactly(Map.entry("t1", "applied"), Map.entry("t2", "applied"));
        assertThat(gov.audit("acme", s).get("firstBroken")).isEqualTo(0L);
    }
}
