package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Durable objects end to end, against a real node, real sandbox processes and real SQLite files:
 * the project in {@code src/test/resources/objects-project} is served as {@code bulwark serve}
 * would serve it.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DurableObjectsTest {
    @TempDir
    static Path data;
    static Node node;
    static final ObjectMapper json = new ObjectMapper();
    static final HttpClient http = TestProjects.HTTP;

    @BeforeAll
    static void start() throws Exception {
        node = TestProjects.serve(data, "objects-project");
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static HttpResponse<String> get(String path) throws Exception {
        return http.send(TestProjects.request(node, path)
                .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static String body(String path) throws Exception {
        HttpResponse<String> r = get(path);
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return r.body();
    }

    static JsonNode jsonBody(String path) throws Exception {
        return json.readTree(body(path));
    }

    @Test
    void concurrentReadModifyWriteAcrossAwaitsIsAtomic() throws Exception {
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int client = 0; client < 32; client++) {
            for (int i = 0; i < 10; i++) {
                all.add(http.sendAsync(HttpRequest.newBuilder(URI.create(
                        "http://127.0.0.1:" + node.port() + "/do/concurrent/increment")).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
        }
        List<Integer> seen = new ArrayList<>();
        for (var f : all) {
            HttpResponse<String> r = f.get(120, TimeUnit.SECONDS);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            seen.add(Integer.parseInt(r.body()));
        }
        // Every increment saw a distinct count: none read a value another was about to replace.
        assertThat(seen).containsExactlyInAnyOrderElementsOf(IntStream.rangeClosed(1, 320).boxed().toList());
        assertThat(body("/do/concurrent/count")).isEqualTo("320");
    }

    @Test
    void aTransactionWhoseClosureAwaitsATimerStaysOpenAndCommits() throws Exception {
        // It once ended the sandbox, then was rolled back; as workerd, it now stays open across the
        // await (DurableObjectsTxnTest has the rest).
        JsonNode r = jsonBody("/do/spanning/transaction-await");
        assertThat(r.get("error").isNull()).as(r.toString()).isTrue();
        assertThat(r.get("before").asInt()).isEqualTo(1);
        assertThat(r.get("inside").asInt()).isEqualTo(1);
        assertThat(r.get("after").asInt()).isEqualTo(1);
        assertThat(body("/do/spanning/increment")).isEqualTo("1");
    }

    @Test
    void anAbortDropsWhatTheObjectWroteSinceItsLastCommit() throws Exception {
        assertThat(body("/do/aborting/increment")).isEqualTo("1");
        assertThat(get("/do/aborting/abort-after-put").statusCode()).isEqualTo(500);
        assertThat(body("/do/aborting/count")).isEqualTo("1");
        assertThat(body("/do/aborting/increment")).isEqualTo("2");
    }

    @Test
    void objectsAreAddressedByIdAndKeepTheirName() throws Exception {
        JsonNode ids = jsonBody("/ids/x");
        assertThat(ids.get("deterministic").asBoolean()).isTrue();
        assertThat(ids.get("hex").asBoolean()).isTrue();
        assertThat(ids.get("roundTrip").asBoolean()).isTrue();
        assertThat(ids.get("uniqueName").isNull()).isTrue();
        assertThat(ids.at("/malformed/error").asText()).isEqualTo("TypeError: Invalid Durable Object ID: must be 64 hex digits");
        assertThat(ids.at("/foreign/error").asText())
                .isEqualTo("TypeError: Invalid Durable Object ID: the ID is not for this namespace.");
        assertThat(ids.at("/wrongNamespace/error").asText()).isEqualTo("TypeError: ID is not for this namespace.");
        assertThat(ids.at("/rpc/error").asText())
                .isEqualTo("TypeError: The RPC receiver does not implement the method \"noSuchMethod\".");
        assertThat(ids.at("/forged/error").asText()).isEqualTo("TypeError: Illegal constructor");

        JsonNode alice = jsonBody("/do/alice/id");
        assertThat(alice.get("name").asText()).isEqualTo("alice");
        assertThat(alice.get("equalsOwnName").asBoolean()).isTrue();
        assertThat(jsonBody("/do/alice/id").get("id").asText()).isEqualTo(alice.get("id").asText());
        assertThat(jsonBody("/do/bob/id").get("id").asText()).isNotEqualTo(alice.get("id").asText());
    }

    @Test
    void keyValueStorageFollowsWorkersSemantics() throws Exception {
        JsonNode kv = jsonBody("/do/kv/kv");
        assertThat(kv.get("some").toString()).isEqualTo("[[\"a\",{\"deep\":[1,2]}],[\"c\",\"three\"]]");
        assertThat(kv.get("listed").toString()).isEqualTo("[\"a\",\"ab\",\"b\"]");
        assertThat(kv.get("reversed").toString()).isEqualTo("[\"c\",\"b\"]");
        assertThat(kv.get("prefixed").toString()).isEqualTo("[\"a\",\"ab\"]");
        assertThat(kv.get("deleted").asInt()).isEqualTo(1);
        assertThat(kv.get("afterDelete").isNull()).isTrue();
        assertThat(kv.get("sync").asText()).isEqualTo("three");
    }

    @Test
    void sqlCursorsBehaveAsWorkers() throws Exception {
        JsonNode sql = jsonBody("/do/sql/sql");
        assertThat(sql.get("written").asInt()).isEqualTo(2);
        assertThat(sql.get("columns").toString()).isEqualTo("[\"id\",\"v\"]");
        assertThat(sql.get("rows").toString()).isEqualTo("[{\"id\":1,\"v\":\"x\"},{\"id\":2,\"v\":\"y\"}]");
        assertThat(sql.get("raw").toString()).isEqualTo("[[\"x\"],[\"y\"]]");
        assertThat(sql.at("/none/error").asText())
                .isEqualTo("Error: Expected exactly one result from SQL query, but got no results.");
        assertThat(sql.at("/many/error").asText())
                .isEqualTo("Error: Expected exactly one result from SQL query, but got multiple results.");
        assertThat(sql.get("blob").toString()).isEqualTo("[true,[1,2]]");
        assertThat(sql.get("bad").asText()).isEqualTo("refused");
        assertThat(sql.get("size").asBoolean()).isTrue();
        assertThat(sql.get("read").toString()).isEqualTo("[2,2,0]");
        assertThat(sql.get("manyBindings").toString()).isEqualTo("{\"n\":1500,\"s\":1125750}");
        assertThat(sql.get("bigColumns").toString()).isEqualTo("[\"x\",\"h\",\"z\"]");
        assertThat(sql.get("bigFirst").toString()).isEqualTo("{\"x\":1,\"h\":0.5,\"z\":null}");
        assertThat(sql.get("bigCount").asInt()).isEqualTo(5000);
        assertThat(sql.get("bigLast").toString()).isEqualTo("[5000,2500,null]");
        assertThat(sql.at("/wrongCount/error").asText()).isEqualTo("Error: Wrong number of parameter bindings for SQL query.");
    }

    @Test
    void sqlValuesComeBackExactly() throws Exception {
        JsonNode v = jsonBody("/do/sql-values/sql-values");
        String allTrue = "[true,true,true,true,true,true,true,true]";
        assertThat(v.get("plain").toString()).isEqualTo(allTrue);
        assertThat(v.get("keys").toString()).isEqualTo("[\"s\",\"big\",\"small\",\"tenth\",\"huge\",\"tiny\",\"n\",\"i\"]");
        assertThat(v.get("withBlob").toString()).isEqualTo(allTrue.replace("]", ",true]"));
        assertThat(v.get("withInf").toString()).isEqualTo(allTrue.replace("]", ",true]"));
        assertThat(v.get("noRows").toString()).isEqualTo("[[\"one\"],0,0,0]");
    }

    @Test
    void sqlCallsThroughTheExchangeBufferAnswerAsCallsWithArguments() throws Exception {
        // Each call ran three times: first with its SQL text and bindings as arguments, then with
        // the text's number and the bindings in the buffer shared with the host.
        JsonNode x = jsonBody("/do/sql-exchange/sql-exchange");
        for (String name : List.of("bound", "sums")) {
            for (JsonNode runs : x.get(name)) {
                assertThat(runs.get(1)).as(name + " " + runs.get(0)).isEqualTo(runs.get(0));
                assertThat(runs.get(2)).as(name + " " + runs.get(0)).isEqualTo(runs.get(0));
            }
        }
        JsonNode bound = x.get("bound");
        assertThat(bound.get(0).get(2).toString()).isEqualTo("[null,\"null\",\"\"]"); // null
        assertThat(bound.get(1).get(2).toString()).isEqualTo("[null,\"null\",\"\"]"); // undefined
        assertThat(bound.get(2).get(2).toString()).isEqualTo("[1,\"integer\",\"31\"]"); // true
        assertThat(bound.get(5).get(2).toString()).isEqualTo("[0,\"real\",\"302E30\"]"); // -0
        assertThat(bound.get(6).get(2).toString()).isEqualTo("[1.5,\"real\",\"312E35\"]");
        assertThat(bound.get(8).get(2).toString()).isEqualTo("[9007199254740994,\"real\",\"393030373139393235343734303939342E30\"]");
        assertThat(bound.get(9).get(2).toString()).isEqualTo("[1099511627776,\"integer\",\"31303939353131363237373736\"]"); // 2n ** 40n
        assertThat(bound.get(12).get(2).toString()).isEqualTo("[\"\u00e9\u00ff\",\"text\",\"C3A9C3BF\"]");
        assertThat(bound.get(13).get(2).toString()).isEqualTo("[\"\u2028 \uD83D\uDE00\",\"text\",\"E280A820F09F9880\"]");
        assertThat(bound.get(14).get(2).get(2).asText()).isEqualTo("613F62"); // a lone surrogate is stored as '?', as before
        assertThat(bound.get(15).get(2).get(0).asText()).isEqualTo("z".repeat(256));
        assertThat(bound.get(16).get(2).get(0).asText()).isEqualTo("\u0100".repeat(257));
        assertThat(x.get("sums").toString()).isEqualTo("[[64,64,64],[65,65,65]]");
        // Errors are thrown at the call, with SQLite's message, whichever way the call went.
        String unique = "Error: UNIQUE constraint failed: x.v: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_UNIQUE)";
        assertThat(x.get("errors").toString()).isEqualTo("[\"" + unique + "\",\"" + unique + "\",\"" + unique + "\"]");
        String range = "RangeError: BigInt out of range for SQLite";
        assertThat(x.get("tooBig").toString()).isEqualTo("[\"" + range + "\",\"" + range + "\",\"" + range + "\"]");
        for (JsonNode e : x.get("reserved")) {
            assertThat(e.asText()).startsWith("Error: access to the reserved name '_cf_KV' is not allowed").endsWith(": SQLITE_AUTH");
        }
        assertThat(x.get("patched").toString()).isEqualTo("[\"xyz\u0100\",\"xyz\u0100\",\"xyz\u0100\"]");
        // A result without columns: its counts, whenever the cursor is read.
        assertThat(x.get("later").toString()).isEqualTo("[[1,1,[],[]],[1,1,[],[]],[1,1,[],[]]]");
        assertThat(x.get("none").toString()).isEqualTo("[[0,0,[],[]],[0,0,[],[]],[0,0,[],[]]]");
        assertThat(x.get("deleted").toString()).isEqualTo("[3,3,[],[]]");
        // SELECT (n rows), DELETE (none), INSERT (one): read n + 1, written 1; the table grows by one each time.
        assertThat(x.get("multi").toString()).isEqualTo("[[2,1,[],[]],[3,1,[],[]],[4,1,[],[]]]");
        // Small results (one row or none) read the same whichever way they came back: each query's
        // three runs and the first row of the same query doubled (two rows: the JSON/array answer).
        for (JsonNode runs : x.get("small")) {
            for (int i = 1; i < 4; i++) assertThat(runs.get(i)).as(runs.get(0).toString()).isEqualTo(runs.get(0));
        }
        JsonNode small = x.get("small");
        assertThat(small.get(0).get(0).toString()).isEqualTo("[[\"big\",\"nz\",\"inf\",\"ninf\",\"nul\",\"\u00e9\u20ac\",\"r\",\"i\"],"
                + "[[[\"big\",\"number\",\"4611686018427388000\"],[\"nz\",\"number\",\"-0\"],[\"inf\",\"number\",\"Infinity\"],"
                + "[\"ninf\",\"number\",\"-Infinity\"],[\"nul\",\"object\",\"null\"],[\"\u00e9\u20ac\",\"string\",\"x\"],"
                + "[\"r\",\"number\",\"1.5\"],[\"i\",\"number\",\"7\"]]]]");
        assertThat(small.get(1).get(0).toString()).isEqualTo("[[\"a\",\"a\"],[[[\"a\",\"number\",\"2\"]]]]");
        assertThat(small.get(2).get(0).get(1).get(0).toString()).isEqualTo("[[\"s256\",\"string\",\"" + "\u0100".repeat(256)
                + "\"],[\"z256\",\"string\",\"" + "z".repeat(256) + "\"],[\"astral\",\"string\",\"a\u2028\uD83D\uDE00\"],"
                + "[\"empty\",\"string\",\"\"]]");
        assertThat(small.get(3).get(0).get(1).get(0).get(0).get(2).asText()).isEqualTo("z".repeat(257));
        assertThat(small.get(4).get(0).toString()).isEqualTo("[[\"b\",\"n\"],[[[\"b\",\"object\",\"bytes 2\"],[\"n\",\"number\",\"1\"]]]]");
        assertThat(small.get(5).get(0).get(0).size()).isEqualTo(32);
        assertThat(small.get(6).get(0).get(0).size()).isEqualTo(33);
        assertThat(small.get(6).get(0).get(1).get(0).get(32).toString()).isEqualTo("[\"c32\",\"number\",\"32\"]");
        assertThat(x.get("empty").toString()).isEqualTo("[[0,0,[\"v\",\"id\"],[]],[0,0,[\"v\",\"id\"],[]],[0,0,[\"v\",\"id\"],[]]]");
        JsonNode upserts = x.get("upserts");
        for (int i = 0; i < 4; i++) {
            assertThat(upserts.get(i).get(3).toString()).isEqualTo("[" + (i + 1) + "]");
            assertThat(upserts.get(i).get(1).asInt()).isEqualTo(1);
            // the same counts as the answer that crossed as before (the last, with a blob column)
            assertThat(upserts.get(i).get(0)).isEqualTo(upserts.get(3).get(0));
        }
        assertThat(x.get("patchedResult").toString()).isEqualTo("[\"abc\u0100\",\"abc\u0100\",\"abc\u0100\"]");
    }

    @Test
    void rpcCallsMethodsAndGettersOfTheObjectsClassOnly() throws Exception {
        JsonNode rpc = jsonBody("/rpc/rpc-counter");
        assertThat(rpc.get("first").asInt()).isEqualTo(2);
        assertThat(rpc.get("second").asInt()).isEqualTo(5);
        assertThat(rpc.get("label").asText()).isEqualTo("counter rpc-counter");
        assertEchoesAndRefusals(rpc);
        assertThat(rpc.at("/ctor/ok").asBoolean()).isFalse();
        assertThat(rpc.at("/fn/value").asInt()).isEqualTo(1);
        // RPC and fetch reach the same object and storage.
        assertThat(body("/do/rpc-counter/count")).isEqualTo("5");
    }

    /** What /rpc/NAME answers whatever the object's count: structured clones and refused methods. */
    private static void assertEchoesAndRefusals(JsonNode rpc) {
        assertThat(rpc.get("echoed").toString()).isEqualTo("[0,[\"a\"],[[1,\"one\"]],[7]]");
        assertThat(rpc.at("/thrown/error").asText()).isEqualTo("RangeError: too far");
        assertThat(rpc.at("/missing/error").asText())
                .isEqualTo("TypeError: The RPC receiver does not implement the method \"nope\".");
        assertThat(rpc.at("/field/error").asText())
                .isEqualTo("TypeError: The RPC receiver does not implement the method \"secret\".");
    }

    /** The RPC calls /rpc/NAME makes: add, add, echo, label, fail, nope, secret, constructor, and echo of a function. */
    private static final int RPCS_OF_THE_RPC_ROUTE = 9;

    @Test
    void callsToAnObjectPlacedInTheCallersSandboxAreMadeThereWithoutTheNode() throws Exception {
        // Its first event places the object: that call goes through the node.
        long relayed = node.relayedCalls(), local = node.localCalls();
        assertThat(body("/do/local-path/increment")).isEqualTo("1");
        assertThat(node.relayedCalls()).isEqualTo(relayed + 1);
        assertThat(node.localCalls()).isEqualTo(local);
        // Later calls from the same sandbox start the object's invocation there: the node relays
        // none of them, and is told of each, before it starts.
        for (int i = 2; i <= 6; i++) assertThat(body("/do/local-path/increment")).isEqualTo(Integer.toString(i));
        assertThat(node.relayedCalls()).isEqualTo(relayed + 1);
        assertThat(node.localCalls()).isEqualTo(local + 5);

        // RPC goes through the node even then (its arguments and result may pass capabilities,
        // which only the node translates); the one fetch among these calls is made locally.
        long relayedBeforeRpc = node.relayedCalls();
        JsonNode rpc = jsonBody("/rpc/local-path");
        assertThat(node.relayedCalls() - relayedBeforeRpc).as("RPC calls relayed").isEqualTo(RPCS_OF_THE_RPC_ROUTE);
        assertThat(node.localCalls()).isEqualTo(local + 6);
        assertThat(rpc.get("first").asInt()).isEqualTo(8);
        assertThat(rpc.get("second").asInt()).isEqualTo(11);
        assertThat(rpc.get("label").asText()).isEqualTo("counter local-path");
        assertEchoesAndRefusals(rpc);
        assertThat(rpc.get("viaFetch").asText()).isEqualTo("11");

        // The node records a local invocation as one it started: its outbound request is judged by
        // the egress policy under its worker (through the node first, then locally: the same answer).
        String viaNode = body("/do/egress-path/egress");
        long localBefore = node.localCalls();
        assertThat(body("/do/egress-path/egress")).isEqualTo(viaNode);
        assertThat(node.localCalls()).isEqualTo(localBefore + 1);
        assertThat(viaNode).contains("not allowed by this node's egress policy");
        // ...and ends its record when it ends.
        await().atMost(Duration.ofSeconds(10)).until(() -> node.liveLoopTrees() == 0);
    }

    @Test
    void transactionSyncRollsBackOnThrow() throws Exception {
        JsonNode txn = jsonBody("/do/txn/txn");
        assertThat(txn.at("/thrown/error").asText()).isEqualTo("Error: undo");
        assertThat(txn.get("rows").toString()).isEqualTo("[{\"v\":2}]");
    }

    @Test
    void objectCodeCannotReachOtherDatabasesOrReservedTables() throws Exception {
        JsonNode hostile = jsonBody("/do/hostile/hostile");
        assertThat(hostile.at("/attach/ok").asBoolean()).isFalse();
        assertThat(hostile.at("/reserved/ok").asBoolean()).isFalse();
        assertThat(hostile.at("/pragma/ok").asBoolean()).isFalse();
        assertThat(hostile.toString()).doesNotContain("java.").doesNotContain("Exception");
    }

    @Test
    void objectNamesThatLookLikePathsAreOnlyNames() throws Exception {
        List<String> names = List.of("../../escape", "/etc/passwd", "..", ".", "a/b", "a\\b", "_cf_KV", "_bw_meta",
                "%2e%2e%2fescape", "nul\u0000byte", "x".repeat(2048));
        JsonNode out = jsonBody("/names/x?names=" + java.net.URLEncoder.encode(new ObjectMapper().writeValueAsString(names),
                java.nio.charset.StandardCharsets.UTF_8));
        assertThat(out.size()).isEqualTo(names.size());
        java.util.Set<String> ids = new java.util.HashSet<>();
        for (int i = 0; i < names.size(); i++) {
            JsonNode o = out.get(i);
            assertThat(o.get("id").asText()).matches("[0-9a-f]{64}");
            ids.add(o.get("id").asText());
            assertThat(o.get("first").asInt()).as(names.get(i)).isEqualTo(1); // a new object, no one else's storage
            assertThat(o.get("second").asInt()).isEqualTo(2);
            assertThat(o.get("label").asText()).isEqualTo("counter " + names.get(i));
        }
        assertThat(ids).hasSize(names.size());
        // No file was named after a name: nothing called escape or passwd inside or beside the data directory.
        try (var files = java.nio.file.Files.walk(data)) {
            assertThat(files.map(f -> f.getFileName().toString())).noneMatch(f -> f.contains("escape") || f.contains("passwd"));
        }
        assertThat(data.getParent().resolve("escape")).doesNotExist();
    }

    @Test
    void anIdleObjectIsEvictedAndConstructedAgainFromItsStorage() throws Exception {
        assertThat(body("/evictable/e")).isEqualTo("1");
        assertThat(body("/evictable/e")).as("still in its isolate").isEqualTo("1");
        // The project evicts after 1.5 s without an event; the sweep runs every 0.75 s.
        Thread.sleep(3_500);
        assertThat(body("/evictable/e")).as("constructed again, its storage kept").isEqualTo("2");
    }

    @Test
    void blockConcurrencyWhileInTheConstructorHoldsEventsBack() throws Exception {
        assertThat(body("/gated/first")).isEqualTo("true");
    }

    @Test
    void acknowledgedWritesSurviveKillingTheSandbox() throws Exception {
        for (int i = 1; i <= 5; i++) assertThat(body("/do/durable/increment")).isEqualTo(Integer.toString(i));
        List<Long> before = node.supervisor().pids("objects");
        assertThat(before).hasSize(1);
        ProcessHandle.of(before.getFirst()).orElseThrow().destroyForcibly();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            List<Long> now = node.supervisor().pids("objects");
            return now.size() == 1 && !now.equals(before);
        });
        // The object re-activates in the new sandbox (its constructor runs again) with its data.
        assertThat(body("/do/durable/count")).isEqualTo("5");
        assertThat(body("/do/durable/increment")).isEqualTo("6");
    }

    @Test
    void acknowledgedSqlWritesSurviveKillingTheSandbox() throws Exception {
        for (int i = 1; i <= 5; i++) assertThat(body("/do/sqldurable/logged")).isEqualTo(Integer.toString(i));
        List<Long> before = node.supervisor().pids("objects");
        ProcessHandle.of(before.getFirst()).orElseThrow().destroyForcibly();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            List<Long> now = node.supervisor().pids("objects");
            return now.size() == 1 && !now.equals(before);
        });
        assertThat(body("/do/sqldurable/audit")).isEqualTo("{\"total\":5,\"rows\":5,\"max\":5}");
    }
}
