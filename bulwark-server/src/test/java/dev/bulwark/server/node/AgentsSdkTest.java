package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Cloudflare's own Agents SDK ({@code agents@0.32.0}, bundled unchanged: agents-fixture/README.md)
 * on a real node: an {@code Agent} durable object with state, SQL, schedules (the alarm), a queue,
 * {@code @callable()} RPC over its WebSocket protocol, JS RPC from the worker, hibernation and a
 * node restart; a sub-agent ({@code this.subAgent}: a facet of an exported class with no namespace,
 * run beside its parent); MCP servers: an {@code McpAgent} over Streamable HTTP and SSE (its worker talks to
 * the object over a WebSocket the object returned) and a stateless one; {@code @cloudflare/ai-chat}'s
 * {@code AIChatAgent} streaming a mock model's answer. Each message asserted is what the SDK itself
 * sends on workerd.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class AgentsSdkTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path data;
    @TempDir
    static Path sharedData;
    /** The class's node with the default settings, shared by the tests that need no other (each its own agents). */
    static Node shared;
    Node node;
    final java.util.List<WebSocketsTest.Client> clients = new java.util.ArrayList<>();

    /** A node of this test's own. */
    void start(UnaryOperator<dev.bulwark.server.config.SandboxSettings> sandboxes) throws Exception {
        node = TestProjects.serve(data, sandboxes, "agents-fixture/project");
    }

    /** The class's shared node with the default settings (started by the first test that asks). */
    void startShared() throws Exception {
        if (shared == null) shared = TestProjects.serve(sharedData, UnaryOperator.identity(), "agents-fixture/project");
        node = shared;
    }

    @AfterEach
    void stop() {
        for (WebSocketsTest.Client c : clients) {
            if (c.ws != null) c.ws.abort();
        }
        if (node != null && node != shared) node.close();
        if (node == shared) {
            // A test that killed the sandbox leaves the next one a live replacement, as a fresh node would.
            await().atMost(Duration.ofSeconds(60)).until(() -> shared.supervisor().pids("agents-sdk").size() == 1);
        }
    }

    @AfterAll
    static void stopShared() {
        if (shared != null) shared.close();
        shared = null;
    }

    JsonNode get(String path) throws Exception {
        return JSON.readTree(TestProjects.ok(node, null, path));
    }

    WebSocketsTest.Client connect(String path) {
        WebSocketsTest.Client c = new WebSocketsTest.Client();
        clients.add(c);
        c.ws = TestProjects.HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(60))
                .buildAsync(URI.create("ws://127.0.0.1:" + node.port() + path), c).join();
        return c;
    }

    static JsonNode next(WebSocketsTest.Client c) throws Exception {
        return JSON.readTree((String) c.next());
    }

    /**
     * The app's next echo, past the state broadcasts before it and the MCP state the SDK's
     * {@code onStart} broadcasts whenever the instance starts again.
     */
    static JsonNode echo(WebSocketsTest.Client c) throws Exception {
        JsonNode m;
        do {
            m = next(c);
        } while (!m.has("echo"));
        return m;
    }

    /** What the SDK sends every new connection, in order, then the app's own greeting. */
    static void handshake(WebSocketsTest.Client c, String name, String state) throws Exception {
        assertThat(next(c)).isEqualTo(JSON.readTree("""
                {"type":"cf_agent_identity","name":"%s","agent":"counter","stateFollows":true}""".formatted(name)));
        assertThat(next(c)).isEqualTo(JSON.readTree("""
                {"type":"cf_agent_state","state":%s}""".formatted(state)));
        assertThat(next(c).get("type").asText()).isEqualTo("cf_agent_mcp_servers");
        assertThat(next(c)).isEqualTo(JSON.readTree("""
                {"hello":"%s"}""".formatted(name)));
    }

    @Test
    void anAgentServesHttpWithStateSqlSchedulesQueuesAndRpc() throws Exception {
        startShared();
        assertThat(get("/agents/counter/alice")).isEqualTo(JSON.readTree("""
                {"name":"alice","state":{"count":0,"ticks":0},"schedules":0}"""));
        get("/agents/counter/alice/inc");
        assertThat(get("/agents/counter/alice/inc")).isEqualTo(JSON.readTree("""
                {"count":2,"ticks":0}"""));
        // JS RPC from the worker to the agent (getAgentByName, then a method of the class)
        assertThat(get("/rpc/alice")).isEqualTo(JSON.readTree("""
                {"count":5}"""));
        // a schedule one second out: the SDK keeps it in its own table and sets the object's alarm
        assertThat(get("/agents/counter/alice/schedule").get("type").asText()).isEqualTo("delayed");
        assertThat(get("/agents/counter/alice").get("schedules").asInt()).isEqualTo(1);
        await().atMost(Duration.ofSeconds(60)).until(() -> get("/agents/counter/alice").get("state").get("ticks").asInt() == 1);
        assertThat(get("/agents/counter/alice").get("schedules").asInt()).isZero();
        // a queued task runs after the request that queued it
        assertThat(get("/agents/counter/alice/queue")).isEqualTo(JSON.readTree("""
                {"queued":"string"}"""));
        await().atMost(Duration.ofSeconds(60)).until(() -> get("/agents/counter/alice").get("state").get("ticks").asInt() == 3);
        assertThat(get("/agents/counter/alice/log")).isEqualTo(JSON.readTree("""
                [{"id":1,"msg":"inc"},{"id":2,"msg":"inc"},{"id":3,"msg":"tick"},{"id":4,"msg":"tick"}]"""));
        HttpResponse<String> missing = TestProjects.HTTP.send(TestProjects.request(node, "/nowhere").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(missing.statusCode()).isEqualTo(404);
    }

    @Test
    void anAgentsWebSocketsCarryStateSyncAndCallableRpcToEveryClient() throws Exception {
        startShared();
        WebSocketsTest.Client a = connect("/agents/counter/bob");
        handshake(a, "bob", "{\"count\":0,\"ticks\":0}");
        WebSocketsTest.Client b = connect("/agents/counter/bob");
        handshake(b, "bob", "{\"count\":0,\"ticks\":0}");

        a.send("hi");
        JsonNode state1 = JSON.readTree("""
                {"type":"cf_agent_state","state":{"count":1,"ticks":0}}""");
        assertThat(next(a)).isEqualTo(state1);
        assertThat(next(a)).isEqualTo(JSON.readTree("""
                {"echo":"hi","count":1,"starts":1}"""));
        assertThat(next(b)).as("setState broadcasts to every connection").isEqualTo(state1);

        a.send("""
                {"type":"rpc","id":"r1","method":"add","args":[5]}""");
        JsonNode state6 = JSON.readTree("""
                {"type":"cf_agent_state","state":{"count":6,"ticks":0}}""");
        assertThat(next(a)).isEqualTo(state6);
        assertThat(next(a)).isEqualTo(JSON.readTree("""
                {"type":"rpc","id":"r1","success":true,"result":6,"done":true}"""));
        assertThat(next(b)).isEqualTo(state6);

        // a client sets the state: the others hear of it, the sender does not
        a.send("""
                {"type":"cf_agent_state","state":{"count":50,"ticks":0}}""");
        assertThat(next(b)).isEqualTo(JSON.readTree("""
                {"type":"cf_agent_state","state":{"count":50,"ticks":0}}"""));
        // an RPC to a method that is not @callable() is refused over the socket
        b.send("""
                {"type":"rpc","id":"r2","method":"tick","args":[{"n":1}]}""");
        JsonNode refused = next(b);
        assertThat(refused.get("id").asText()).isEqualTo("r2");
        assertThat(refused.get("success").asBoolean()).isFalse();
        assertThat(a.received).as("nothing more for the sender").isEmpty();
        assertThat(get("/agents/counter/bob").get("state")).isEqualTo(JSON.readTree("""
                {"count":50,"ticks":0}"""));
        a.ws.sendClose(1000, "done").join();
        b.ws.sendClose(1000, "done").join();
        assertThat(a.closed.get(30, TimeUnit.SECONDS)).isEqualTo(1000);
    }

    @Test
    void anAgentHibernatesWithItsSocketsOpenAndWakesFromStorageOnTheNextMessage() throws Exception {
        start(s -> s.withObjectIdleMs(300));
        WebSocketsTest.Client c = connect("/agents/counter/carol");
        handshake(c, "carol", "{\"count\":0,\"ticks\":0}");
        c.send("one");
        JsonNode echo = echo(c);
        assertThat(echo.get("count").asInt()).isEqualTo(1);
        int starts = echo.get("starts").asInt();
        // Idle past object_idle_ms the instance is dropped and the socket stays open in the node;
        // the next message starts the instance again (a second row in its starts table) with the
        // state it stored. Messages until that happens (eviction runs on the node's own clock).
        int sent = 1;
        do {
            Thread.sleep(1_000);
            c.send("m" + ++sent);
            echo = echo(c);
            assertThat(echo.get("count").asInt()).as("the state survives").isEqualTo(sent);
        } while (echo.get("starts").asInt() == starts && sent < 60);
        assertThat(echo.get("starts").asInt()).as("woken from storage, socket still open").isEqualTo(starts + 1);
        c.send("after");
        assertThat(echo(c).get("count").asInt()).isEqualTo(sent + 1);
    }

    /** What /sub answers: two searches of the sub-agent "main", its counts {@code n} and {@code n + 1}. */
    static JsonNode searches(int n) throws Exception {
        return JSON.readTree("""
                {"first":{"name":"main","count":%d},"second":{"name":"main","count":%d}}""".formatted(n, n + 1));
    }

    @Test
    void anAgentsSubAgentIsAFacetOfAnExportedClassWithoutANamespace() throws Exception {
        startShared();
        // this.subAgent(Searcher, "main"): ctx.exports.Searcher (a DurableObjectClass), a facet with
        // the id rootNs.idFromName(...) as its ctx.id, its own SQLite database
        assertThat(get("/agents/counter/dave/sub")).isEqualTo(searches(1));
        assertThat(get("/agents/counter/dave/sub")).isEqualTo(searches(3));
        // another parent's sub-agent "main" is another facet
        assertThat(get("/agents/counter/erin/sub")).isEqualTo(searches(1));
    }

    @Test
    void aSubAgentsStateSurvivesItsParentsEviction() throws Exception {
        start(s -> s.withObjectIdleMs(300));
        assertThat(get("/agents/counter/frank/sub")).isEqualTo(searches(1));
        // The parent's starts (a row per start of its instance) read over its socket, until idle
        // eviction dropped it and a message started it again.
        WebSocketsTest.Client c = connect("/agents/counter/frank");
        handshake(c, "frank", "{\"count\":0,\"ticks\":0}");
        c.send("one");
        int starts = echo(c).get("starts").asInt();
        int sent = 1;
        JsonNode echo;
        do {
            Thread.sleep(1_000);
            c.send("m" + ++sent);
            echo = echo(c);
        } while (echo.get("starts").asInt() == starts && sent < 60);
        assertThat(echo.get("starts").asInt()).as("the parent was evicted and started again").isEqualTo(starts + 1);
        assertThat(get("/agents/counter/frank/sub")).as("the sub-agent's data survives").isEqualTo(searches(3));
    }

    @Test
    void anAgentsClientsStayConnectedWhenItsSandboxIsKilled() throws Exception {
        startShared();
        WebSocketsTest.Client c = connect("/agents/counter/gina");
        handshake(c, "gina", "{\"count\":0,\"ticks\":0}");
        c.send("before");
        assertThat(echo(c)).isEqualTo(JSON.readTree("""
                {"echo":"before","count":1,"starts":1}"""));
        java.util.List<Long> pids = node.supervisor().pids("agents-sdk");
        assertThat(pids).isNotEmpty();
        for (long pid : pids) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly); // kill -9
        await().atMost(Duration.ofSeconds(60)).until(() -> !node.supervisor().pids("agents-sdk").isEmpty()
                && node.supervisor().pids("agents-sdk").stream().noneMatch(pids::contains));
        // The socket stayed open in the node; the next message starts the agent again in the new
        // sandbox, from the state it had stored.
        c.send("after");
        assertThat(echo(c)).isEqualTo(JSON.readTree("""
                {"echo":"after","count":2,"starts":2}"""));
    }

    @Test
    void anAgentsStateAndADueScheduleSurviveANodeRestart() throws Exception {
        start(UnaryOperator.identity());
        get("/agents/counter/dave/inc");
        get("/agents/counter/dave/schedule"); // due in one second
        node.close();
        node = null;
        start(UnaryOperator.identity());
        await().atMost(Duration.ofSeconds(60)).until(() -> get("/agents/counter/dave").get("state").get("ticks").asInt() == 1);
        assertThat(get("/agents/counter/dave").get("state")).isEqualTo(JSON.readTree("""
                {"count":1,"ticks":1}"""));
        assertThat(get("/agents/counter/dave/log")).isEqualTo(JSON.readTree("""
                [{"id":1,"msg":"inc"},{"id":2,"msg":"tick"}]"""));
    }

    static final String ACCEPT = "application/json, text/event-stream";

    HttpResponse<String> mcpPost(String path, String session, String body) throws Exception {
        var request = TestProjects.request(node, path).header("content-type", "application/json")
                .header("accept", ACCEPT).POST(java.net.http.HttpRequest.BodyPublishers.ofString(body));
        if (session != null) request.header("mcp-session-id", session);
        return TestProjects.HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The JSON-RPC message of a Streamable HTTP answer (one SSE event). */
    static JsonNode sseData(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("text/event-stream");
        return JSON.readTree(r.body().lines().filter(l -> l.startsWith("data: ")).findFirst().orElseThrow().substring(6));
    }

    static final String INITIALIZE = """
            {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"%s","capabilities":{},
             "clientInfo":{"name":"bulwark-test","version":"1"}}}""";

    static String call(int id, String tool, String arguments) {
        return """
                {"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"%s","arguments":%s}}""".formatted(id, tool, arguments);
    }

    @Test
    void anMcpAgentServesStreamableHttpWithItsStateInTheObject() throws Exception {
        startShared();
        HttpResponse<String> init = mcpPost("/mcp", null, INITIALIZE.formatted("2025-06-18"));
        assertThat(sseData(init).get("result").get("serverInfo")).isEqualTo(JSON.readTree("""
                {"name":"calc","version":"1.0.0"}"""));
        String session = init.headers().firstValue("mcp-session-id").orElseThrow();
        assertThat(mcpPost("/mcp", session, """
                {"jsonrpc":"2.0","method":"notifications/initialized"}""").statusCode()).isEqualTo(202);
        assertThat(sseData(mcpPost("/mcp", session, call(2, "add", "{\"a\":2,\"b\":3}"))).get("result")).isEqualTo(JSON.readTree("""
                {"content":[{"type":"text","text":"5 total 5"}]}"""));
        assertThat(sseData(mcpPost("/mcp", session, call(3, "add", "{\"a\":10,\"b\":1}"))).get("result")).isEqualTo(JSON.readTree("""
                {"content":[{"type":"text","text":"11 total 16"}]}"""));
        JsonNode tools = sseData(mcpPost("/mcp", session, """
                {"jsonrpc":"2.0","id":4,"method":"tools/list"}""")).get("result").get("tools");
        assertThat(tools).hasSize(1);
        assertThat(tools.get(0).get("name").asText()).isEqualTo("add");
        HttpResponse<String> unknown = mcpPost("/mcp", "no-such-session", call(5, "add", "{\"a\":1,\"b\":1}"));
        assertThat(unknown.statusCode()).as(unknown.body()).isEqualTo(404);
    }

    @Test
    void anMcpAgentServesTheLegacySseTransport() throws Exception {
        startShared();
        java.util.concurrent.BlockingQueue<String> lines = new java.util.concurrent.LinkedBlockingQueue<>();
        var stream = TestProjects.HTTP.sendAsync(TestProjects.request(node, "/sse").header("accept", "text/event-stream").build(),
                HttpResponse.BodyHandlers.fromLineSubscriber(new java.util.concurrent.Flow.Subscriber<String>() {
                    public void onSubscribe(java.util.concurrent.Flow.Subscription s) { s.request(Long.MAX_VALUE); }
                    public void onNext(String line) { if (line.startsWith("data: ")) lines.add(line.substring(6)); }
                    public void onError(Throwable t) {}
                    public void onComplete() {}
                }));
        String endpoint = lines.poll(60, TimeUnit.SECONDS);
        assertThat(endpoint).startsWith("/sse/message?sessionId=");
        assertThat(mcpPost(endpoint, null, INITIALIZE.formatted("2024-11-05")).statusCode()).isEqualTo(202);
        assertThat(JSON.readTree(lines.poll(60, TimeUnit.SECONDS)).get("result").get("serverInfo").get("name").asText())
                .isEqualTo("calc");
        assertThat(mcpPost(endpoint, null, call(2, "add", "{\"a\":1,\"b\":1}")).statusCode()).isEqualTo(202);
        assertThat(JSON.readTree(lines.poll(60, TimeUnit.SECONDS)).get("result")).isEqualTo(JSON.readTree("""
                {"content":[{"type":"text","text":"2 total 2"}]}"""));
        stream.cancel(true);
    }

    @Test
    void aStatelessMcpServerAnswersEachRequestOnItsOwn() throws Exception {
        startShared();
        assertThat(sseData(mcpPost("/stateless", null, INITIALIZE.formatted("2025-06-18"))).get("result").get("serverInfo"))
                .isEqualTo(JSON.readTree("""
                        {"name":"stateless","version":"1.0.0"}"""));
        assertThat(sseData(mcpPost("/stateless", null, call(2, "echo", "{\"text\":\"hey\"}"))).get("result"))
                .isEqualTo(JSON.readTree("""
                        {"content":[{"type":"text","text":"hey"}]}"""));
    }

    @Test
    void anAiChatAgentStreamsTheModelsAnswerAndKeepsTheConversation() throws Exception {
        startShared();
        WebSocketsTest.Client c = connect("/agents/chat/c1");
        assertThat(next(c).get("type").asText()).isEqualTo("cf_agent_identity");
        String messages = """
                [{"id":"u1","role":"user","parts":[{"type":"text","text":"Bulwark"}]}]""";
        c.send(JSON.writeValueAsString(JSON.readTree("""
                {"id":"req1","type":"cf_agent_use_chat_request","init":{"method":"POST","body":%s}}"""
                .formatted(JSON.writeValueAsString(JSON.writeValueAsString(JSON.readTree(
                        "{\"messages\":" + messages + ",\"trigger\":\"submit-message\"}")))))));
        StringBuilder text = new StringBuilder();
        java.util.List<String> parts = new java.util.ArrayList<>();
        int seq = 0;
        while (true) {
            JsonNode m = next(c);
            if (!m.get("type").asText().equals("cf_agent_use_chat_response")) continue;
            assertThat(m.get("id").asText()).isEqualTo("req1");
            if (m.get("done").asBoolean()) break;
            assertThat(m.get("seq").asInt()).as("chunks in order").isEqualTo(seq++);
            JsonNode part = JSON.readTree(m.get("body").asText());
            parts.add(part.get("type").asText());
            if (part.get("type").asText().equals("text-delta")) text.append(part.get("delta").asText());
        }
        assertThat(text).hasToString("Hello, Bulwark!");
        assertThat(parts).containsExactly("start", "start-step", "text-start", "text-delta", "text-delta", "text-delta",
                "text-delta", "text-end", "finish-step", "finish");
        // the conversation is kept in the object's SQLite database
        JsonNode kept = get("/agents/chat/c1/get-messages");
        assertThat(kept).hasSize(2);
        assertThat(kept.get(0).get("parts").get(0).get("text").asText()).isEqualTo("Bulwark");
        assertThat(kept.get(1).get("role").asText()).isEqualTo("assistant");
        assertThat(kept.get(1).get("parts").get(1).get("text").asText()).isEqualTo("Hello, Bulwark!");
    }
}
