package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The async {@code storage.transaction(closure)} of a SQLite-backed object across awaits, as
 * workerd's (actor-state.c++ {@code DurableObjectStorage::transaction}, actor-sqlite.c++
 * {@code ExplicitTxn}): the savepoint stays open while the closure awaits timers, streams and
 * fetches; a throw or {@code txn.rollback()} undoes exactly the closure's writes; transactions
 * nest; other events wait (a critical section); what the transaction wrote is durable before the
 * response leaves; a killed sandbox loses only a transaction still open. Project:
 * {@code src/test/resources/txn-project}.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class DurableObjectsTxnTest {
    @TempDir
    static Path data;
    static Node node;
    static final ObjectMapper json = new ObjectMapper();
    /** How long a transaction may keep the object's gate shut (Workers: 30 s); the holds below stay under it. */
    static final long GATE_TIMEOUT_MS = 8_000;

    @BeforeAll
    static void start() throws Exception {
        node = TestProjects.serve(data, s -> s.withJvmOptions(List.of("-Dbulwark.objects.gateTimeoutMs=" + GATE_TIMEOUT_MS)),
                "txn-project");
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static HttpResponse<String> get(String path) throws Exception {
        return TestProjects.HTTP.send(TestProjects.request(node, path).build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode ok(String path) throws Exception {
        HttpResponse<String> r = get(path);
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return json.readTree(r.body());
    }

    @Test
    void theClosureAwaitsATimerAStreamAndAFetchAndItsWritesCommit() throws Exception {
        JsonNode r = ok("/txn/awaits/across-awaits");
        assertThat(r.get("result").toString()).isEqualTo("{\"before\":1,\"inside\":1,\"streamed\":\"abc\",\"fetched\":\"hello\"}");
        assertThat(r.get("stored").toString()).isEqualTo("{\"before\":1,\"inside\":1,\"streamed\":\"abc\",\"fetched\":\"hello\"}");
        assertThat(r.get("rows").toString()).isEqualTo("[{\"v\":\"after a timer\"}]");
    }

    @Test
    void aThrowAfterAnAwaitRollsBackExactlyTheClosuresWritesAndRethrows() throws Exception {
        JsonNode r = ok("/txn/throws/throw-after-await");
        assertThat(r.get("same").asBoolean()).as("the closure's own error object").isTrue();
        assertThat(r.get("error").asText()).isEqualTo("RangeError: boom");
        assertThat(r.get("stored").toString()).isEqualTo("{\"kept\":1,\"x\":null,\"y\":null}");
        assertThat(r.get("rows").asInt()).isZero();

        JsonNode sync = ok("/txn/throws/throw-sync");
        assertThat(sync.at("/r/error").asText()).isEqualTo("TypeError: sync boom");
        assertThat(sync.get("stored").toString()).isEqualTo("{\"s\":null}");
        // The object was not reset by it (unlike a rejected blockConcurrencyWhile): it still answers.
        assertThat(ok("/txn/throws/read?keys=kept").toString()).isEqualTo("{\"kept\":1}");
    }

    @Test
    void txnRollbackUndoesTheTransactionAndTheTxnRefusesCallsAfterwards() throws Exception {
        JsonNode r = ok("/txn/rolled/rollback");
        assertThat(r.at("/result/after/error").asText()).isEqualTo("Error: Cannot put on rolled back transaction");
        assertThat(r.at("/result/read").isNull()).isTrue();
        assertThat(r.get("stored").toString()).isEqualTo("{\"r\":null}");

        JsonNode moved = ok("/txn/rolled/moved-txn");
        assertThat(moved.at("/get/error").asText()).isEqualTo(
                "Error: Cannot call get on transaction that has already committed: did you move `txn` outside of the closure?");
        assertThat(moved.at("/rollback/error").asText()).startsWith("Error: Cannot call rollback on transaction that has already committed");
        assertThat(moved.get("tag").asText()).isEqualTo("[object DurableObjectTransaction]");

        JsonNode deleteAll = ok("/txn/rolled/delete-all");
        assertThat(deleteAll.at("/txn/error").asText()).isEqualTo("Error: Cannot call deleteAll() within a transaction");
        assertThat(deleteAll.at("/storage/error").asText()).isEqualTo("Error: Cannot call deleteAll() within a transaction");
    }

    @Test
    void transactionsNestAcrossAwaitsWithTransactionSyncInside() throws Exception {
        JsonNode r = ok("/txn/nest/nested");
        assertThat(r.get("errors").toString()).isEqualTo("{\"inner\":\"inner\",\"sync\":\"sync inner\"}");
        assertThat(r.get("stored").toString()).isEqualTo("{\"a\":1,\"b\":null,\"c\":1,\"d\":1,\"e\":null}");

        // An inner transaction that committed is still undone by its outer one's rollback (sql-test's case).
        assertThat(ok("/txn/nest/nested-then-outer-rollback").toString()).isEqualTo("{\"seen\":1,\"o\":null,\"i\":null}");

        // Two transactions started at once by one event run one after the other.
        assertThat(ok("/txn/nest/concurrent").toString()).isEqualTo("[\"1 start\",\"1 end\",\"2 start\",\"2 end\"]");
    }

    @Test
    void anAlarmSetAfterAnAwaitIsScheduledWhenTheTransactionCommitsAndNotWhenItRollsBack() throws Exception {
        JsonNode failed = ok("/txn/alarms/alarm?ms=300&fail=1");
        assertThat(failed.at("/r/error").asText()).isEqualTo("Error: no alarm");
        assertThat(failed.get("alarm").isNull()).isTrue();

        JsonNode set = ok("/txn/alarms/alarm?ms=300");
        assertThat(set.at("/r/ok").asBoolean()).isTrue();
        assertThat(set.get("alarm").isNumber()).isTrue();
        await().atMost(Duration.ofSeconds(30)).until(() -> ok("/txn/alarms/read?keys=alarmRan").get("alarmRan").asBoolean());
    }

    @Test
    void anotherEventWaitsUntilTheTransactionEndsAndSeesItsWrites() throws Exception {
        CompletableFuture<HttpResponse<String>> holding = TestProjects.HTTP.sendAsync(
                TestProjects.request(node, "/txn/blocked/hold?ms=1500").build(), HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(60)).until(() -> get("/marked/blocked").body().equals("true"));
        // Sent while the transaction awaits its timer: delivered only once it committed.
        JsonNode probe = ok("/txn/blocked/probe");
        assertThat(probe.toString()).isEqualTo("{\"inTxn\":false,\"beforeHold\":1,\"held\":1,\"released\":1}");
        assertThat(holding.get(60, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }

    @Test
    void anEventAlreadyRunningGoesOnOnlyOnceTheTransactionEnded() throws Exception {
        CompletableFuture<HttpResponse<String>> late = TestProjects.HTTP.sendAsync(
                TestProjects.request(node, "/txn/inflight/late?ms=1000&mark=inflight-late").build(), HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(60)).until(() -> get("/marked/inflight-late").body().equals("true"));
        // Its timer fires while this transaction awaits its own (2 s): it must not see the
        // transaction's uncommitted writes, nor run while the transaction is open.
        CompletableFuture<HttpResponse<String>> holding = TestProjects.HTTP.sendAsync(
                TestProjects.request(node, "/txn/inflight/hold?ms=2000").build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> r = late.get(60, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("{\"inTxn\":false,\"held\":1,\"released\":1}");
        assertThat(holding.get(60, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }

    @Test
    void aTransactionOpenPastTheGateTimeoutResetsTheObjectAndDropsItsWrites() throws Exception {
        HttpResponse<String> r = get("/txn/stuck/hold?ms=" + 3 * GATE_TIMEOUT_MS);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
        assertThat(r.body()).isEqualTo("Error: A call to blockConcurrencyWhile() in a Durable Object waited for too long."
                + " The call was canceled and the Durable Object was reset.");
        // Constructed again over its storage as of the transaction's start; the old closure, still
        // awaiting its timer, cannot write any more.
        assertThat(ok("/txn/stuck/probe").toString()).isEqualTo("{\"inTxn\":false,\"beforeHold\":1,\"held\":null,\"released\":null}");
    }

    @Test
    void killingTheSandboxLosesOnlyTheTransactionStillOpen() throws Exception {
        // Answered: its transaction committed before the response left (the output gate).
        ok("/txn/killed/across-awaits");
        CompletableFuture<HttpResponse<String>> holding = TestProjects.HTTP.sendAsync(
                TestProjects.request(node, "/txn/killed/hold?ms=" + 3 * GATE_TIMEOUT_MS + "").build(), HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(60)).until(() -> get("/marked/killed").body().equals("true"));
        List<Long> pids = node.supervisor().pids("txn");
        ProcessHandle.of(pids.getFirst()).orElseThrow().destroyForcibly();
        assertThat(holding.get(60, TimeUnit.SECONDS).statusCode()).isEqualTo(503);
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            List<Long> now = node.supervisor().pids("txn");
            return now.size() == 1 && !now.equals(pids);
        });
        assertThat(ok("/txn/killed/read?keys=before,inside,streamed,fetched").toString())
                .isEqualTo("{\"before\":1,\"inside\":1,\"streamed\":\"abc\",\"fetched\":\"hello\"}");
        // Written before the held transaction began: committed when it began; the held write is gone.
        assertThat(ok("/txn/killed/probe").toString()).isEqualTo("{\"inTxn\":false,\"beforeHold\":1,\"held\":null,\"released\":null}");
    }
}
