package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.sandbox.ipc.Address;
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
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Service bindings, ctx.exports with props, getEntrypoint with props and limits, globalOutbound as
 * a fetcher, tails and ctx.abort, end to end against a real node serving two workers of one tenant
 * (services-project/front and back), from the user's side and the attacker's.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ServicesTest {
    @TempDir
    static Path data;
    static Node node;
    static final ObjectMapper json = new ObjectMapper();
    static final HttpClient http = TestProjects.HTTP;

    @BeforeAll
    static void start() throws Exception {
        // Alarm retries start FIRST_BACKOFF_MS after a failed run here (2 s by default).
        System.setProperty("bulwark.alarms.firstBackoffMs", Long.toString(FIRST_BACKOFF_MS));
        try {
            node = TestProjects.serve(data, "services-project", "front", "back");
        } finally {
            System.clearProperty("bulwark.alarms.firstBackoffMs");
        }
    }

    static final long FIRST_BACKOFF_MS = 200;

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static String body(String path) throws Exception {
        return TestProjects.ok(node, "front.localhost", path);
    }

    static JsonNode get(String path) throws Exception {
        return json.readTree(body(path));
    }

    static WorkerBundle bundle(String code) {
        return WorkerBundle.of("index.js", List.of(WorkerModule.text("index.js", ModuleType.JS, code)));
    }

    @Test
    void aServiceBindingReachesTheOtherWorkersFetchAndEntrypoints() throws Exception {
        JsonNode r = get("/service");
        assertThat(r.get("fetch").asText()).isEqualTo("back saw PUT /x props={}");
        assertThat(r.get("greet").asText()).isEqualTo("hello ada from back");
        assertThat(r.get("adminFetch").asText()).isEqualTo("admin fetch /y");
        assertThat(r.get("props")).isEqualTo(json.createObjectNode());
        // wrangler's services[].props: the callee's ctx.props.
        assertThat(r.get("configured").toString()).isEqualTo("{\"clientId\":\"front\",\"permissions\":[\"read\",\"write\"]}");
        assertThat(r.get("tag").asText()).isEqualTo("[object Fetcher]");
        // The default export is a plain object: no RPC, as in workerd.
        assertThat(r.at("/defaultRpc/ok").asBoolean()).isFalse();
        assertThat(r.get("handlerRpc").asInt()).isEqualTo(42);
        assertThat(r.at("/handlerTwoArgs/error").asText())
                .startsWith("TypeError: Attempted to call RPC function \"double\" with the wrong number of arguments.");
        assertThat(r.get("path").asInt()).isEqualTo(5);
        assertThat(r.get("pathValue").asInt()).isEqualTo(7);
        // Only plain objects, functions and RpcTargets are walked: a Map is not.
        assertThat(r.at("/pathThroughMap/error").asText())
                .isEqualTo("TypeError: The RPC receiver does not implement the method \"box\".");
        assertThat(r.at("/missing/error").asText())
                .isEqualTo("TypeError: The RPC receiver does not implement the method \"nothing\".");
        assertThat(r.at("/notCallable/error").asText()).isEqualTo("TypeError: A service binding is not a function.");
        assertThat(r.at("/forge/error").asText()).isEqualTo("TypeError: Illegal constructor");
    }

    @Test
    void aCallThatWaitsOnNothingIsCanceledAsHungAndTheCallerHearsWhy() throws Exception {
        // As workerd's js-rpc-test neverReturn: at once, not at the callee's wall-clock limit.
        long started = System.nanoTime();
        JsonNode r = get("/hung");
        assertThat(r.at("/call/error").asText()).isEqualTo("Error: The Workers runtime canceled this request because it "
                + "detected that your Worker's code had hung and would never generate a response. Refer to: "
                + "https://developers.cloudflare.com/workers/observability/errors/");
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - started)).isLessThan(java.time.Duration.ofSeconds(10));
    }

    @Test
    void aRequestAwaitingAnotherRequestsCallsToAnotherWorkerWaitsPastTheHangGrace() throws Exception {
        // Request coalescing: /coalesce-follow has nothing of its own in flight and awaits what
        // /coalesce-lead's fetch and then RPC call to back (each longer than the grace for calls
        // into the worker itself) will settle. Work elsewhere keeps it waiting, as a fetch() does.
        long ms = 3_000; // HangRule.GRACE_MS is 2 s
        java.util.concurrent.CompletableFuture<String> lead = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return body("/coalesce-lead?ms=" + ms);
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        String follow = body("/coalesce-follow");
        String settled = "back saw GET /slow props={}; slowly " + ms;
        assertThat(follow).isEqualTo("follow: " + settled);
        assertThat(lead.get(60, TimeUnit.SECONDS)).isEqualTo("lead: " + settled);
    }

    @Test
    void ctxExportsAreLoopbackStubsAndPropsReachOnlyTheCallee() throws Exception {
        JsonNode r = get("/exports");
        assertThat(r.get("greet").asText()).isEqualTo("local hello bo");
        assertThat(r.get("props").toString()).isEqualTo("{\"tenant\":\"t1\"}");
        assertThat(r.get("noProps").toString()).isEqualTo("{}");
        assertThat(r.get("dflt").asText()).isEqualTo("echo {}");
        assertThat(r.get("dfltProps").asText()).isEqualTo("echo {\"p\":1}");
        // cloudflare:workers' exports reads ctx.exports (withExports may replace it): not the same object, as in workerd.
        assertThat(r.get("same").asBoolean()).isFalse();
        assertThat(r.get("keys").toString())
                .isEqualTo("[\"Aborter\",\"Local\",\"Outbound\",\"Tail\",\"TailLog\",\"default\"]");
        assertThat(r.get("ns").asText()).isEqualTo("pong");
        // A durable object's ctx.exports are its worker's too.
        assertThat(r.get("objectSees")).isEqualTo(r.get("keys"));
        assertThat(r.get("envHasNoExports").asBoolean()).isTrue();
    }

    @Test
    void theHolderOfASpecializedStubCannotReadItsProps() throws Exception {
        String raw = body("/peek");
        JsonNode r = json.readTree(raw);
        assertThat(r.get("ownKeys").asInt()).isZero();
        assertThat(r.get("names").size()).isZero();
        assertThat(r.get("json").isNull()).isTrue();
        assertThat(r.get("desc").isNull()).isTrue();
        assertThat(r.at("/props/error").asText())
                .isEqualTo("TypeError: The RPC receiver does not implement the method \"props\".");
        assertThat(r.at("/ctx/error").asText())
                .isEqualTo("TypeError: The RPC receiver does not implement the method \"ctx\".");
        // Only the callee saw them, and returned them on purpose.
        assertThat(r.get("whoami").toString()).isEqualTo("{\"secret\":\"p-secret\"}");
        assertThat(raw.indexOf("p-secret")).isEqualTo(raw.lastIndexOf("p-secret"));
    }

    @Test
    void getEntrypointTakesPropsAndLowerLimits() throws Exception {
        JsonNode r = get("/dynamic");
        assertThat(r.get("who").toString()).isEqualTo("{\"user\":\"u1\"}");
        assertThat(r.get("whoNone").toString()).isEqualTo("{}");
        assertThat(r.get("dflt").asText()).isEqualTo("dyn {\"d\":2}");
        // A dynamic worker's ctx.exports reach itself through the node.
        assertThat(r.get("self").asText()).isEqualTo("{\"me\":1}");
        assertThat(r.get("uncapped").asText()).isEqualTo("intercepted GET https://example.com/t body= tenant=t-out");
        assertThat(r.get("capped").asText()).startsWith("refused: ").contains("subrequest");
    }

    @Test
    void globalOutboundAsAFetcherTakesEveryFetchOfTheChild() throws Exception {
        String out = body("/outbound");
        assertThat(out).isEqualTo("intercepted POST https://api.example.com/v1?q=1 body=hi tenant=t9 | "
                + "{\"env\":{},\"props\":{},\"keys\":[\"Api\",\"default\"]}");
        assertThat(out).doesNotContain("tok-secret").doesNotContain("do-not-leak");
        assertThat(body("/outbound-service")).isEqualTo("back saw GET /t props={}");
        JsonNode invalid = get("/outbound-invalid");
        assertThat(invalid.at("/object/error").asText()).isEqualTo("TypeError: Invalid WorkerCode: globalOutbound must be "
                + "null or a Fetcher: a service binding or a ctx.exports entrypoint");
        assertThat(invalid.at("/tails/error").asText()).isEqualTo("TypeError: Invalid WorkerCode: each of tails must be "
                + "a Fetcher (a service binding or a ctx.exports entrypoint) or a durable object stub");
    }

    @Test
    void aTailedWorkersRpcResultKeepsTheFunctionsItHolds() throws Exception {
        JsonNode r = get("/tails/capability");
        assertThat(r.get("a").asInt()).isEqualTo(1);
        assertThat(r.get("b").asInt()).isEqualTo(2);
    }

    @Test
    void tailWorkersGetOneTraceItemPerInvocation() throws Exception {
        JsonNode r = get("/tails");
        assertThat(r.get("ok").asText()).isEqualTo("dyn {}");
        assertThat(r.at("/threw/ok").asBoolean()).isFalse();
        JsonNode[] items = new JsonNode[1];
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            items[0] = get("/tails/list");
            return items[0].size() >= 2;
        });
        JsonNode list = items[0];
        assertThat(list.size()).isEqualTo(2);
        JsonNode ok = list.get(0).at("/event/request/url").asText().endsWith("/hello") ? list.get(0) : list.get(1);
        JsonNode threw = ok == list.get(0) ? list.get(1) : list.get(0);
        assertThat(ok.get("scriptName").asText()).startsWith("dyn-");
        assertThat(ok.get("outcome").asText()).isEqualTo("ok");
        assertThat(ok.at("/event/request/method").asText()).isEqualTo("GET");
        assertThat(ok.at("/event/response/status").asInt()).isEqualTo(200);
        assertThat(ok.at("/logs/0/level").asText()).isEqualTo("log");
        assertThat(ok.at("/logs/0/message/0").asText()).isEqualTo("child log /hello");
        assertThat(ok.get("exceptions").size()).isZero();
        assertThat(ok.get("eventTimestamp").isNumber()).isTrue();
        assertThat(ok.get("cpuTime").isNumber()).isTrue();
        assertThat(ok.at("/outbound/calls").asInt()).isZero();
        assertThat(threw.get("outcome").asText()).isEqualTo("exception");
        assertThat(threw.at("/exceptions/0/name").asText()).isEqualTo("Error");
        assertThat(threw.at("/exceptions/0/message").asText()).isEqualTo("child boom");
        assertThat(threw.at("/logs/0/message/0").asText()).isEqualTo("child about to throw");
    }

    @Test
    void ctxAbortResetsTheObjectAndFailsItsRunningCalls() throws Exception {
        JsonNode r = get("/abort");
        assertThat(r.get("a").asInt()).isEqualTo(1);
        assertThat(r.get("b").asInt()).isEqualTo(2);
        assertThat(r.at("/abort/error").asText()).isEqualTo("Error: reset!");
        assertThat(r.at("/slow/error").asText()).isEqualTo("Error: reset!");
        assertThat(r.at("/sameStub/error").asText()).isEqualTo("Error: reset!");
        // The next event constructs it again: its memory is gone, its storage kept.
        assertThat(r.get("after").asInt()).isEqualTo(1);
        assertThat(r.get("constructedAgain").asInt()).isEqualTo(1);
    }

    @Test
    void anAlarmThatAbortsWithRetryAlarmFalseIsNotRetried() throws Exception {
        assertThat(body("/alarm-abort/arm")).isEqualTo("armed");
        await().atMost(Duration.ofSeconds(30)).until(() -> body("/alarm-abort/count").equals("1"));
        // A retry would come after the first backoff (200 ms here): wait past it, then it must still be 1.
        Thread.sleep(FIRST_BACKOFF_MS + 1500);
        assertThat(body("/alarm-abort/count")).isEqualTo("1");
    }

    @Test
    void getDurableObjectClassIsAnOpaqueHandle() throws Exception {
        JsonNode r = get("/dclass");
        assertThat(r.get("tag").asText()).isEqualTo("[object DurableObjectClass]");
        assertThat(r.get("keys").asInt()).isZero();
        assertThat(r.at("/empty/error").asText())
                .isEqualTo("TypeError: getDurableObjectClass(name): name must be a non-empty string");
    }

    @Test
    void aServiceOfAnotherTenantOrAMissingOneIsADeployError() {
        DeployedWorker foreign = new DeployedWorker("intruder", "evil", bundle("export default { fetch() { return new Response('x'); } };"),
                "{}", List.of(new Binding.Service("BACK", new Address.Worker("back"))), true, Limits.DEFAULTS);
        assertThatThrownBy(() -> node.deploy(foreign)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("worker intruder: service binding BACK names the worker 'back' of another tenant; "
                        + "a worker can bind only workers of its own tenant");
        assertThat(node.isDeployed("intruder")).isFalse();
        DeployedWorker dangling = new DeployedWorker("dangling", "svc", bundle("export default { fetch() { return new Response('x'); } };"),
                "{}", List.of(new Binding.Service("NOPE", new Address.Worker("nowhere"))), true, Limits.DEFAULTS);
        assertThatThrownBy(() -> node.deploy(dangling)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("worker dangling: service binding NOPE names the worker 'nowhere', which is not deployed on this node");
    }

    @Test
    void theNodeRefusesCallsAndGrantsAcrossTenantsWhateverASandboxClaims() throws Exception {
        node.deploy(new DeployedWorker("elsewhere", "other", bundle(
                "export default { fetch() { return new Response('elsewhere secret'); } };"), "{}", Limits.DEFAULTS));
        // A call as a sandbox of tenant svc would send it: its own tenant's worker, yes; another's, no.
        assertThat(node.callable("svc", 0, new Address.Worker("back", "Admin"))).isNotNull();
        assertThat(node.callable("svc", 0, new Address.Worker("elsewhere"))).isNull();
        assertThat(node.callable("other", 0, new Address.Worker("back"))).isNull();
        // A sandbox for generated code with no invocation of that id behind the call reaches nothing.
        assertThat(node.callable(DynamicWorkers.generatedTenant("svc"), 12345, new Address.Worker("back"))).isNull();
        // A parent cannot hand generated code another tenant's worker, and generated code has no loader.
        WorkerBundle code = bundle("export default {};");
        Message.LoadDynamic foreign = new Message.LoadDynamic(1, 2, "front", "x", code, null, false, Limits.DEFAULTS,
                List.of(new Binding.Outbound(new Address.Worker("elsewhere"))));
        assertThat(answer(r -> node.loadDynamic("svc", foreign, r))).isEqualTo(new Message.CallFailed(2, "not_found",
                "a dynamic worker can be given only service bindings and ctx.exports entrypoints of its parent's tenant"));
        Message.LoadDynamic nested = new Message.LoadDynamic(1, 3, "dyn-x", null, code, null, false, Limits.DEFAULTS);
        assertThat(answer(r -> node.loadDynamic(DynamicWorkers.generatedTenant("svc"), nested, r)))
                .isEqualTo(new Message.CallFailed(3, "not_found", "a dynamic worker has no worker loader"));
    }

    static Message answer(java.util.function.Consumer<java.util.function.Consumer<Message>> call) throws Exception {
        java.util.concurrent.CompletableFuture<Message> reply = new java.util.concurrent.CompletableFuture<>();
        call.accept(reply::complete);
        return reply.get(30, TimeUnit.SECONDS);
    }
}
