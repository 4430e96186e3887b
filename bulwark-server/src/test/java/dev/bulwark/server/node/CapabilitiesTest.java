package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.server.caps.CapabilityError;
import dev.bulwark.server.config.ProjectConfig;
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
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Functions, RpcTargets and stubs passed by reference between a worker and the dynamic workers it
 * loads (another sandbox process), against a real node (test project {@code caps-project}).
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class CapabilitiesTest {
    @TempDir
    static Path data;
    static Node node;
    static final ObjectMapper json = new ObjectMapper();
    static final HttpClient http = TestProjects.HTTP;

    @BeforeAll
    static void start() throws Exception {
        ProjectConfig config = TestProjects.load(TestProjects.resource("caps-project"), data);
        node = Node.serve(config);
        node.capabilities().register("tool", (method, args) -> switch (method) {
            case "add" -> (Long) args.get(0) + (Long) args.get(1);
            case "echo" -> args.getFirst();
            // What each argument arrives as in Java (StructuredValues' mapping).
            case "types" -> args.stream().map(a -> a == null ? "null" : a.getClass().getSimpleName()).toList();
            case "unsendable" -> new Object();
            case "fail" -> throw new CapabilityError("RangeError", "nope");
            default -> throw new CapabilityError("TypeError", "no method " + method);
        });
        assertThat(node.deploy(node.withCapability(node.worker(config), "TOOL", "tool"))).isNull();
        // @cloudflare/codemode's DynamicWorkerExecutor, bundled unchanged (see codemode-fixture/README.md).
        String bundle = java.nio.file.Files.readString(Path.of("src", "test", "resources", "codemode-fixture", "index.js"));
        assertThat(node.deploy(new DeployedWorker("codemode", "caps", WorkerBundle.of("index.js",
                List.of(WorkerModule.text("index.js", ModuleType.JS, bundle))), "{}",
                List.of(new Binding.WorkerLoader("LOADER")), true, Limits.DEFAULTS))).isNull();
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static JsonNode get(String path) throws Exception {
        return get("caps", path);
    }

    static JsonNode get(String host, String path) throws Exception {
        HttpResponse<String> r = http.send(TestProjects.request(node, path)
                .header("Host", host).timeout(Duration.ofSeconds(120)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return json.readTree(r.body());
    }

    @Test
    void functionsAtAnyDepthAreCalledBackAndTakeCallbacksThemselves() throws Exception {
        assertThat(get("/callbacks")).isEqualTo(json.readTree("""
                {"a":42,"b":"xxx","c":"hey!","same":true,"kinds":["function","object"],"plain":{"n":1}}"""));
    }

    @Test
    void rpcTargetMethodsAndGettersAreReachableButNotFieldsOrConstructorAndItIsDisposedAfterTheCall() throws Exception {
        assertThat(get("/target")).isEqualTo(json.readTree("""
                {"greet":"hello bob","name":"api",
                 "field":"TypeError: The RPC receiver does not implement the method \\"prefix\\".",
                 "ctor":"TypeError: The RPC receiver does not implement the method \\"constructor\\".",
                 "range":"RangeError: out of range","type":"TypeError: wrong type",
                 "cb":"child got from-api","disposedAfterCall":true}"""));
    }

    @Test
    void aStubPassedOnThroughThreeWorkersCallsTheExporterAndIsMovedAwayFromTheRelay() throws Exception {
        assertThat(get("/chain")).isEqualTo(json.readTree("""
                {"r":"C saw A answered c","after":"RPC stub used after being disposed.","calls":["c"]}"""));
    }

    @Test
    void codeModesPatternAnRpcTargetInTheChildsEnvAndAsAnArgument() throws Exception {
        assertThat(get("/codemode")).isEqualTo(json.readTree("""
                {"viaEnv":"tool env","viaArg":"dispatch arg","plain":"data","argDisposed":true}"""));
    }

    @Test
    void codeModesDynamicWorkerExecutorRunsUnchanged() throws Exception {
        assertThat(get("codemode", "/")).isEqualTo(json.readTree("""
                {"result":{"result":{"sum":42,"bytes":[7,8,9],"failed":"tool exploded","blocked":"Error"},
                           "logs":["sum is 42"]},
                 "calls":["add"]}"""));
    }

    @Test
    void disposeDupAndUsingAsWorkerd() throws Exception {
        assertThat(get("/dispose")).isEqualTo(json.readTree("""
                {"first":10,"afterDispose":"Error: RPC stub used after being disposed.","dupStill":30,
                 "afterUsing":"Error: RPC stub used after being disposed."}"""));
    }

    @Test
    void aStubKeptPastTheRequestThatReceivedItFails() throws Exception {
        // A stub received as an argument is disposed when the call returns, as in workerd.
        assertThat(get("/expired")).isEqualTo(json.readTree("""
                {"first":"ok","later":"Error: RPC stub used after being disposed."}"""));
    }

    @Test
    void returnedTargetsStayUsableAndHostileResultsCannotHurtTheParent() throws Exception {
        assertThat(get("/returned")).isEqualTo(json.readTree("""
                {"first":5,"set":7,"second":7,"selfAgain":"function","cycle":true,"cycleCall":"in cycle",
                 "getter":"RangeError: getter threw",
                 "huge":"Error: Serialized RPC arguments or return values are limited to 32MiB, but the size of this value was: 41943047 bytes.","stillFine":7,
                 "pipelined":9,"pipelinedPath":"in cycle","pipelinedThen":3}"""));
    }

    @Test
    void byteStreamsCrossBothWaysPulledOneChunkPerRead() throws Exception {
        assertThat(get("/stream")).isEqualTo(json.readTree("""
                {"length":3145733,"sumMatches":true,"before":0,"first":1,"second":2,"after":2,
                 "strings":"TypeError: Only byte streams (chunks of ArrayBuffer or ArrayBufferView) can be passed over RPC."}"""));
    }

    @Test
    void writableStreamsRequestsResponsesAndSignalsCrossWithBoundedWrites() throws Exception {
        assertThat(get("/writable")).isEqualTo(json.readTree("""
                {"received":4000000,"sumMatches":true,"closed":true,"resolved":16,
                 "status":201,"method":"POST","cf":{"k":1},"echoed":true,"abortReason":"stop",
                 "signalRefused":"DataCloneError: Could not serialize object of type \\\"AbortSignal\\\". This type does not support serialization.",
                 "localWritten":3}"""));
    }

    @Test
    void aStubShowsNothingOfTheHostToWhoWalksIt() throws Exception {
        assertThat(get("/probe")).isEqualTo(json.readTree("""
                {"protoIsOwnFunctionPrototype":true,
                 "ctor":"The RPC receiver does not implement the method \\"constructor\\".",
                 "proto":"The RPC receiver does not implement the method \\"__proto__\\".",
                 "keys":["length","name","prototype"],"set":"TypeError","call":"called with ok"}"""));
    }

    @Test
    void durableObjectStubsCrossAsArgumentsAndInEnv() throws Exception {
        assertThat(get("/object")).isEqualTo(json.readTree("""
                {"a":1,"b":101}"""));
    }

    @Test
    void aJavaCapabilityIsCalledFromADynamicWorkerThroughEnvAndAsAnArgument() throws Exception {
        assertThat(get("/java")).isEqualTo(json.readTree("""
                {"viaEnv":3,"viaArg":{"s":"é","n":1.5,"list":[true,null],"bytes":[1,2]},
                 "types":["Long","Double","BigInteger","Instant","JsMap","LinkedHashSet","RpcError","null"],
                 "back":[true,true,true,true,true],
                 "regexp":"TypeError: Java capability tool: A RegExp cannot be passed to Java (it takes null, booleans, numbers,\
                 bigints, strings, Uint8Array/ArrayBuffer, Date, arrays, plain objects, Map, Set and errors).",
                 "unsendable":"Error: internal error in capability tool",
                 "failed":"RangeError: nope",
                 "fn":"TypeError: A Java capability takes plain values only: no functions, RpcTargets or stubs."}"""));
    }

    @Test
    void theGranterRevokesAndCallsFailAcrossProcesses() throws Exception {
        assertThat(get("/revoke")).isEqualTo(json.readTree("""
                {"before":"revocable x","revoked":true,
                 "after":"Error: The RPC stub was revoked by the worker that granted it."}"""));
    }

    @Test
    void whenTheExportersSandboxIsKilledCallsFailAtOnce() throws Exception {
        CompletableFuture<JsonNode> answer = CompletableFuture.supplyAsync(() -> {
            try {
                return get("/gone");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        String tenant = DynamicWorkers.generatedTenant("caps");
        await().atMost(Duration.ofSeconds(60)).until(() -> node.supervisor().pids(tenant).size() == 1);
        List<Long> pids = node.supervisor().pids(tenant);
        Thread.sleep(1500); // the parent is calling the child's function in a loop by now
        ProcessHandle.of(pids.getFirst()).orElseThrow().destroyForcibly();
        assertThat(answer.get(120, TimeUnit.SECONDS)).isEqualTo(json.readTree("""
                {"first":"alive","failed":true,
                 "later":"Error: The RPC stub points to an object in a worker that is gone (its sandbox exited)."}"""));
    }
}
