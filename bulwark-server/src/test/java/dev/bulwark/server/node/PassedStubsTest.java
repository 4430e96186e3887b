package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.CapPayload;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Binding;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Stubs passed on keep what they were: a durable object stub keeps {@code fetch()}, {@code id} and
 * {@code name}; a service binding, a {@code ctx.exports} entrypoint with props and a dynamic
 * worker's entrypoint with props keep {@code fetch()} and their grant, in a dynamic worker's
 * {@code env} and as RPC arguments; against a real node (rpcgaps-project: gapfront and gapback).
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class PassedStubsTest {
    @TempDir
    static Path data;
    static Node node;
    static final ObjectMapper json = new ObjectMapper();
    static final HttpClient http = TestProjects.HTTP;

    @BeforeAll
    static void start() throws Exception {
        node = TestProjects.serve(data, "rpcgaps-project", "front", "back");
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static final String TOO_LARGE = "Error: Serialized RPC arguments or return values are limited to 32MiB, but the size of this value was: ";

    static JsonNode get(String path) throws Exception {
        return json.readTree(TestProjects.ok(node, "gapfront.localhost", path));
    }

    @Test
    void aDurableObjectStubPassedOnKeepsFetchIdNameAndRpc() throws Exception {
        JsonNode r = get("/object");
        String id = r.get("expectedId").asText();
        assertThat(r.get("arg")).isEqualTo(json.readTree("""
                {"tag":"[object DurableObjectStub]","status":200,"body":"room lobby POST /arg #1",
                 "id":"%s","idTag":"[object DurableObjectId]","name":"lobby","idName":"lobby","equals":true,
                 "rpc":"room says hello to arg"}""".formatted(id)));
        assertThat(r.get("env")).isEqualTo(json.readTree("""
                {"tag":"[object DurableObjectStub]","status":200,"body":"room lobby POST /env #2","id":"%s","name":"lobby",
                 "rpc":"room says hello to env"}""".formatted(id)));
    }

    @Test
    void serviceBindingsAndCtxExportsWithPropsCanBeGrantedInAChildsEnvAndPassedAsArguments() throws Exception {
        assertThat(get("/service")).isEqualTo(json.readTree("""
                {"env":{
                   "back":{"tag":"[object Fetcher]","status":200,"body":"back saw POST /b payload"},
                   "scoped":{"tag":"[object Fetcher]","status":200,"body":"admin fetch /s props={\\"tenant\\":\\"acme\\"}"},
                   "scopedRpc":{"tenant":"acme"},
                   "self":{"tag":"[object Fetcher]","status":200,"body":"scoped fetch /self props={\\"grantee\\":\\"child\\"}"},
                   "selfRpc":{"grantee":"child"},
                   "envKeys":["BACK","SCOPED","SELF"],
                   "peek":"TypeError: The RPC receiver does not implement the method \\"props\\"."},
                 "arg":{
                   "svc":{"tag":"[object Fetcher]","status":200,"body":"admin fetch /arg props={\\"tenant\\":\\"acme\\"}"},
                   "self":{"grantee":"arg"}}}"""));
    }

    @Test
    void aCtxExportsEntrypointWithPropsServesAsGlobalOutbound() throws Exception {
        assertThat(get("/outbound")).isEqualTo(json.readTree("""
                {"text":"scoped fetch /out props={\\"via\\":\\"outbound\\"}"}"""));
    }

    @Test
    void aDynamicEntrypointWithPropsPassedOnKeepsItsProps() throws Exception {
        assertThat(get("/entrypoint")).isEqualTo(json.readTree("""
                {"rpc":{"level":2},"fetch":{"tag":"[object Fetcher]","status":200,"body":"inner {\\"level\\":2}"}}"""));
    }

    @Test
    void aRefusedLoadLetsGoOfTheCapabilitiesItsEnvHeld() throws Exception {
        CapabilityTableTest.FakePeer parent = new CapabilityTableTest.FakePeer("gaps");
        parent.running.add(1L);
        int before = node.liveCapabilityRefs();
        // A load the node refuses (a grant of another tenant's worker, as a subverted sandbox might send)
        // whose env passes an RpcTarget of the parent's (export 7).
        Message.LoadDynamic load = new Message.LoadDynamic(1, 2, "gapfront", "x",
                WorkerBundle.of("index.js", List.of(WorkerModule.text("index.js", ModuleType.JS, "export default {};"))),
                "{}", false, Limits.DEFAULTS, List.of(new Binding.Outbound(new Address.Worker("elsewhere"))),
                CapabilityTableTest.payload(new CapPayload.Export(7)));
        java.util.concurrent.CompletableFuture<Message> reply = new java.util.concurrent.CompletableFuture<>();
        node.loadDynamic(parent, load, reply::complete);
        assertThat(reply.get(30, TimeUnit.SECONDS)).isInstanceOf(Message.CallFailed.class);
        assertThat(node.liveCapabilityRefs()).isEqualTo(before);
        // The parent is told at once that no one holds its export (its [Symbol.dispose]() runs).
        assertThat(parent.received).containsExactly(new Message.ExportDrop(List.of(7L)));
    }

    @Test
    void topLevelCodeThatNeverEndsIsALoadErrorTheParentCatches() throws Exception {
        // A CPU-bound loop stops at the child's CPU limit; a blocking wait (no CPU) at the top-level
        // wall clock (ten times the CPU limit, at least 2 s), well before the parent's own 30 s.
        assertThat(get("/blocking")).isEqualTo(json.readTree("""
                {"spin":{"name":"TypeError","code":"worker_load_failed","message":"the dynamic worker failed to load: \
                main.js: top-level code: the worker exceeded its CPU time limit of 200 ms"},
                 "wait":{"name":"TypeError","code":"worker_load_failed","message":"the dynamic worker failed to load: \
                main.js: top-level code: the worker did not finish within its wall-clock limit of 3000 ms"}}"""));
    }

    @Test
    void stubsInPropsCrossByReferenceForTheCallAndDieWithIt() throws Exception {
        JsonNode r = get("/props");
        assertThat(r.get("run").asText()).isEqualTo(
                "t1 | room says hello to props | cb now | scoped fetch /p props={\"grantee\":\"props\"} | [object DurableObjectStub]");
        String notPassedOn = "DataCloneError: An entrypoint whose props hold stubs, functions or RpcTargets cannot be passed on: "
                + "those are granted to each of its calls, not to whoever holds the entrypoint.";
        assertThat(r.get("passOn").asText()).isEqualTo(notPassedOn);
        assertThat(r.get("asArg").asText()).isEqualTo(notPassedOn);
        assertThat(r.get("loopback").asText()).isEqualTo(
                "DataCloneError: Could not serialize object of type \"LoopbackServiceStub\". This type does not support serialization.");
        assertThat(r.get("dynamic").asText()).startsWith("DataCloneError: Entrypoints to dynamically-loaded workers cannot be transferred");
        assertThat(r.get("disposed")).isEqualTo(json.readTree("""
                ["local again","Error: RPC stub used after being disposed."]"""));
        // The attacker's move: the child kept ctx.props in a global; a later request cannot use them.
        String dead = "Error: This RPC stub cannot be used here: it was released when the request that received it ended.";
        assertThat(get("/props-later")).isEqualTo(json.createObjectNode().put("room", dead).put("cb", dead).put("self", dead));
    }

    @Test
    void aCallWithStubsInPropsThatNeverStartsLetsGoOfThem() throws Exception {
        int before = node.caps.liveRefs();
        assertThat(get("/props-load-fails").get("fetch").asText()).startsWith("TypeError: the dynamic worker failed to load: main.js");
        await().atMost(Duration.ofSeconds(10)).until(() -> node.caps.liveRefs() <= before);
    }

    @Test
    void aCallbackRunsInsideTheRequestThatPassedItWithItsClosuresAndStubs() throws Exception {
        assertThat(get("/context")).isEqualTo(json.readTree("""
                {"results":[42,43],"viaEnv":51,"calls":3,"relayed":41}"""));
    }

    @Test
    void aCallbackWhoseRequestEndedFailsCleanly() throws Exception {
        assertThat(get("/keep")).isEqualTo(json.readTree("""
                {"now":"called back","kept":200}"""));
        // The callback in the cached child's env belonged to the first request; a durable object stub
        // the child kept from its first call was disposed when that call returned (as in workerd):
        // neither serves a later request.
        assertThat(get("/later")).isEqualTo(json.readTree("""
                {"later":"Error: This RPC callback cannot be called any more: the request that passed it has ended \
                (references die with the invocation that created them).",
                 "keptStub":"Error: RPC stub used after being disposed."}"""));
    }

    @Test
    void capabilityCallsAreInTheCallersOutboundSummaryAndTailEvent() throws Exception {
        assertThat(get("/tailed")).isEqualTo(json.readTree("""
                {"run":"done"}"""));
        await().atMost(Duration.ofSeconds(60)).until(() -> get("/tails").size() == 1);
        JsonNode event = get("/tails").get(0);
        assertThat(event.get("rpcMethod").asText()).isEqualTo("run");
        JsonNode outbound = event.get("outbound");
        assertThat(outbound.get("calls").asInt()).isEqualTo(4);
        assertThat(outbound.get("failed").asInt()).isEqualTo(1);
        StringBuilder seen = new StringBuilder();
        for (JsonNode c : outbound.get("first")) {
            seen.append(c.get("method").asText()).append(' ').append(c.get("host").asText()).append(' ')
                    .append(c.get("status").asInt()).append(' ').append(c.get("outcome").asText()).append('\n');
        }
        assertThat(seen.toString()).isEqualTo("""
                RPC capability:callback 200 ok
                RPC capability:object/Room 200 ok
                GET capability:object/Room 200 ok
                RPC capability:callback 500 threw
                """);
    }

    @Test
    void callsPastTheSizeLimitsFailClearlyAndTheStubGoesOnWorking() throws Exception {
        // RPC arguments and results over 32 MiB are refused with workerd's error; a passed stub's fetch
        // body of 9 MiB streams to the object (branch streamcalls: a call's body is no longer capped).
        assertThat(get("/oversize")).isEqualTo(json.readTree("""
                {"args":"%s34603018 bytes.","small":1,
                 "child":{"r":200,
                          "huge":"%s34603015 bytes.",
                          "after":"room says hello to after"}}""".formatted(TOO_LARGE, TOO_LARGE)));
    }

    @Test
    void aDisposedPassedStubCannotFetch() throws Exception {
        assertThat(get("/forged")).isEqualTo(json.readTree("""
                {"afterDispose":"Error: RPC stub used after being disposed."}"""));
    }
}
