package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.bulwark.objects.java.JavaObjectStub;
import dev.bulwark.server.config.EgressSettings;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import dev.bulwark.server.node.Node;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.bulwark.server.governance.GovernanceTest.JSON;
import static dev.bulwark.server.governance.GovernanceTest.map;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Approval hooks against a real receiver (the JDK's HTTP server on loopback, allowed by the test's
 * egress settings): the node POSTs a signed event when an approval is created, escalated and
 * expires; a failed delivery is retried; a receiver that holds the request does not hold the call;
 * nobody reads the approval, and the sweeper (whose period is ten minutes here) still notices each
 * deadline, because it wakes at the next one.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ApprovalHookTest {
    static final byte[] SECRET = "hook-secret-0123456789".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path data;
    Node node;
    HttpServer receiver;

    /** What the receiver got: the body, its signature header, its event id header. */
    record Got(JsonNode body, String raw, String signature, String eventId) {}

    @AfterEach
    void stop() {
        if (node != null) node.close();
        if (receiver != null) receiver.stop(0);
    }

    /** Checks the signature as a receiver would: HMAC-SHA256 over "t.body" with the shared secret, in constant time. */
    static boolean verify(Got g) throws Exception {
        String[] parts = g.signature().split(",");
        assertThat(parts[0]).startsWith("t=");
        assertThat(parts[1]).startsWith("v1=");
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET, "HmacSHA256"));
        byte[] expected = mac.doFinal((parts[0].substring(2) + "." + g.raw()).getBytes(StandardCharsets.UTF_8));
        return MessageDigest.isEqual(expected, HexFormat.of().parseHex(parts[1].substring(3)));
    }

    @Test
    void approvalsAreToldWhenCreatedEscalatedAndExpiredSignedRetriedAndNeverBlockingTheCall() throws Exception {
        List<Got> got = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger requests = new AtomicInteger();
        CountDownLatch callAnswered = new CountDownLatch(1);
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        receiver.createContext("/hooks", exchange -> {
            String raw = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            got.add(new Got(JSON.readTree(raw), raw, exchange.getRequestHeaders().getFirst("Bulwark-Signature"),
                    exchange.getRequestHeaders().getFirst("Bulwark-Event-Id")));
            int status = 200;
            if (requests.incrementAndGet() == 1) {
                // The first delivery is held until the call has been answered, then fails: it is retried.
                try {
                    callAnswered.await(120, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                status = 503;
            }
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        receiver.start();
        EgressSettings egress = new EgressSettings(List.of("127.0.0.1"), false).withTestOnlyLoopbackAllowed();
        node = Node.start(Settings.of(data, "acme").withPort(0).withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(0))
                .withEgress(egress));
        Governance gov = node.governance();
        gov.registerTool(new Tool("payments.refund", JSON.readTree("{\"type\": \"object\"}"), Contract.PRIVILEGED, 1,
                call -> "refunded"));
        gov.approvalSettings(ApprovalsTest.settings(4_000, 1_500, 0, 1));
        gov.approvalSweepMs(600_000); // only the next deadline can wake the sweeper in time
        gov.approvalHookRetries(3, 50);
        URI url = URI.create("http://127.0.0.1:" + receiver.getAddress().getPort() + "/hooks/approvals");
        gov.approvalHooks(List.of(new ApprovalHook(url, SECRET),
                new ApprovalHook(URI.create("http://hooks.not-allowed.example/approvals"), SECRET, java.util.Set.of("pending"))));

        String session = (String) gov.admit("acme", new Admission("alice@acme", "high", List.of("payments.refund"),
                new Budgets(100, 1_000, 24 * 3600_000L, 1_000), Map.of())).get("id");
        JavaObjectStub stub = node.javaObjects().namespace("acme", SessionObject.CLASS).getByName(session);
        String token = (String) map(stub.call("dispatch", "code-hash")).get("token");
        // The sweep a node makes soon after it starts, out of the way first.
        for (int i = 0; i < 1200 && gov.approvalSweeps() == 0; i++) Thread.sleep(50);
        long sweepsBefore = gov.approvalSweeps();
        assertThat(sweepsBefore).isEqualTo(1);
        Map<String, Object> answer = gov.mediate("acme", session, token, 1, "payments.refund", new LinkedHashMap<>(Map.of("cents", 5)), "r1");
        // The call is answered while the receiver still holds the first delivery.
        assertThat(ApprovalsTest.code(answer)).isEqualTo("approval_pending");
        assertThat(requests.get()).isLessThanOrEqualTo(1);
        callAnswered.countDown();
        String approval = ApprovalsTest.approvalId(answer);

        // Nobody reads the approval: the sweeper wakes at its escalation time, then at its expiry.
        for (int i = 0; i < 2400 && got.stream().noneMatch(g -> g.eventId().endsWith(":expired")); i++) Thread.sleep(50);
        assertThat(got).extracting(Got::eventId).containsExactly(approval + ":pending", approval + ":pending",
                approval + ":escalated", approval + ":expired");
        for (Got g : got) assertThat(verify(g)).as(g.raw()).isTrue();
        JsonNode escalated = got.get(2).body();
        assertThat(escalated.get("type").asText()).isEqualTo("approval.escalated");
        assertThat(escalated.get("tenant").asText()).isEqualTo("acme");
        assertThat(escalated.get("session").asText()).isEqualTo(session);
        assertThat(escalated.get("approval").asText()).isEqualTo(approval);
        assertThat(escalated.get("tool").asText()).isEqualTo("payments.refund");
        assertThat(escalated.get("state").asText()).isEqualTo("escalated");
        assertThat(got.get(0).body().get("type").asText()).isEqualTo("approval.pending");
        assertThat(got.get(3).body().get("type").asText()).isEqualTo("approval.expired");
        // A tampered body does not verify.
        Got first = got.get(1);
        assertThat(verify(new Got(first.body(), first.raw().replace("payments.refund", "payments.refunx"), first.signature(),
                first.eventId()))).isFalse();

        // Every delivery's outcome is recorded: the retried one, the refused host (never retried), the two others.
        for (int i = 0; i < 200 && gov.approvalHookOutcomes().size() < 4; i++) Thread.sleep(50);
        assertThat(gov.approvalHookOutcomes()).extracting(o -> o.eventId() + " " + o.url().replaceAll(":[0-9]+/", "/") + " "
                + o.result() + " " + o.attempts()).containsExactlyInAnyOrder(
                approval + ":pending http://hooks.not-allowed.example/approvals refused 1",
                approval + ":pending http://127.0.0.1/hooks/approvals delivered 2",
                approval + ":escalated http://127.0.0.1/hooks/approvals delivered 1",
                approval + ":expired http://127.0.0.1/hooks/approvals delivered 1");
        // The sweeper did it in two sweeps: one at each deadline.
        assertThat(gov.approvalSweeps()).isEqualTo(sweepsBefore + 2);
        assertThat(map(gov.approvals("acme", "expired").get(0))).containsEntry("id", approval);
    }

    @Test
    void aDeadlinePassedWhileTheNodeWasDownIsToldSoonAfterItStarts() throws Exception {
        List<Got> got = Collections.synchronizedList(new ArrayList<>());
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/", exchange -> {
            String raw = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            got.add(new Got(JSON.readTree(raw), raw, exchange.getRequestHeaders().getFirst("Bulwark-Signature"),
                    exchange.getRequestHeaders().getFirst("Bulwark-Event-Id")));
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        receiver.start();
        URI url = URI.create("http://127.0.0.1:" + receiver.getAddress().getPort() + "/");
        EgressSettings egress = new EgressSettings(List.of("127.0.0.1"), false).withTestOnlyLoopbackAllowed();
        Settings settings = Settings.of(data, "acme").withPort(0)
                .withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(0)).withEgress(egress);
        node = Node.start(settings);
        Governance gov = node.governance();
        gov.registerTool(new Tool("payments.refund", JSON.readTree("{\"type\": \"object\"}"), Contract.PRIVILEGED, 1, call -> "x"));
        gov.approvalSettings(ApprovalsTest.settings(3_600_000, 1_000, 0, 1));
        gov.approvalHooks(List.of(new ApprovalHook(url, SECRET, java.util.Set.of("escalated"))));
        String session = (String) gov.admit("acme", new Admission("alice@acme", "high", List.of("payments.refund"),
                new Budgets(100, 1_000, 24 * 3600_000L, 1_000), Map.of())).get("id");
        JavaObjectStub stub = node.javaObjects().namespace("acme", SessionObject.CLASS).getByName(session);
        String token = (String) map(stub.call("dispatch", "code-hash")).get("token");
        Map<String, Object> answer = gov.mediate("acme", session, token, 1, "payments.refund", new LinkedHashMap<>(), "r1");
        String approval = ApprovalsTest.approvalId(answer);
        long escalatesAt = (Long) map(answer.get("approval")).get("escalatesAt");
        node.close();
        node = null;
        while (System.currentTimeMillis() <= escalatesAt) Thread.sleep(100); // it falls due while no node runs
        assertThat(got).isEmpty();

        // A new node on the same data, with a sweep period of ten minutes: its first sweep tells it.
        node = Node.start(settings);
        gov = node.governance();
        gov.registerTool(new Tool("payments.refund", JSON.readTree("{\"type\": \"object\"}"), Contract.PRIVILEGED, 1, call -> "x"));
        gov.approvalSettings(ApprovalsTest.settings(3_600_000, 1_000, 0, 1));
        gov.approvalHooks(List.of(new ApprovalHook(url, SECRET, java.util.Set.of("escalated"))));
        gov.approvalSweepMs(600_000);
        for (int i = 0; i < 1200 && got.isEmpty(); i++) Thread.sleep(50);
        assertThat(got).extracting(Got::eventId).containsExactly(approval + ":escalated");
        assertThat(verify(got.getFirst())).isTrue();
    }

    @Test
    void aReceiverThatKeepsFailingIsTriedABoundedNumberOfTimes() throws Exception {
        AtomicInteger requests = new AtomicInteger();
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/", exchange -> {
            requests.incrementAndGet();
            exchange.sendResponseHeaders(500, -1);
            exchange.close();
        });
        receiver.start();
        EgressSettings egress = new EgressSettings(List.of("127.0.0.1"), false).withTestOnlyLoopbackAllowed();
        node = Node.start(Settings.of(data, "acme").withPort(0).withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(0))
                .withEgress(egress));
        Governance gov = node.governance();
        gov.registerTool(new Tool("payments.refund", JSON.readTree("{\"type\": \"object\"}"), Contract.PRIVILEGED, 1, call -> "x"));
        gov.approvalSettings(ApprovalsTest.settings(3_600_000, 0, 0, 1));
        gov.approvalHookRetries(4, 10);
        gov.approvalHooks(List.of(new ApprovalHook(URI.create("http://127.0.0.1:" + receiver.getAddress().getPort() + "/"), SECRET)));
        String session = (String) gov.admit("acme", new Admission("alice@acme", "high", List.of("payments.refund"),
                new Budgets(100, 1_000, 24 * 3600_000L, 1_000), Map.of())).get("id");
        JavaObjectStub stub = node.javaObjects().namespace("acme", SessionObject.CLASS).getByName(session);
        String token = (String) map(stub.call("dispatch", "code-hash")).get("token");
        String approval = ApprovalsTest.approvalId(gov.mediate("acme", session, token, 1, "payments.refund", new LinkedHashMap<>(), "r1"));
        for (int i = 0; i < 1200 && gov.approvalHookOutcomes().isEmpty(); i++) Thread.sleep(50);
        assertThat(gov.approvalHookOutcomes()).extracting(o -> o.eventId() + " " + o.result() + " " + o.attempts() + " " + o.lastStatus())
                .containsExactly(approval + ":pending gave_up 4 500");
        assertThat(requests.get()).isEqualTo(4);
    }
}
