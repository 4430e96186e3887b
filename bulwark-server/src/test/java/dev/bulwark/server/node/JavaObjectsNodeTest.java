package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.objects.java.AlarmInfo;
import dev.bulwark.objects.java.HttpHeader;
import dev.bulwark.objects.java.JavaDurableObject;
import dev.bulwark.objects.java.JavaObjectClass;
import dev.bulwark.objects.java.JavaObjectContext;
import dev.bulwark.objects.java.JavaObjects;
import dev.bulwark.objects.java.JavaRequest;
import dev.bulwark.objects.java.JavaResponse;
import dev.bulwark.objects.java.RpcError;
import dev.bulwark.objects.java.StructuredValues;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.server.config.ProjectConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Durable objects implemented in Java, run in a real node and called by JS workers in real
 * sandboxes (and by Java): same ids, stubs, serial delivery, output gate and storage as JS objects.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class JavaObjectsNodeTest {
    @TempDir
    Path data;
    @TempDir
    static Path sharedData;
    static Node shared;
    Node node;
    static final ObjectMapper json = new ObjectMapper();
    static final HttpClient http = TestProjects.HTTP;
    static final Path RESOURCES = Path.of("src", "test", "resources").toAbsolutePath();
    /** What the Java objects saw, in order (they run in this JVM). */
    static final List<String> trace = Collections.synchronizedList(new ArrayList<>());

    /** A counter with the methods the JS worker calls. */
    static final class JavaCounter implements JavaDurableObject {
        private final JavaObjectContext ctx;

        JavaCounter(JavaObjectContext ctx) {
            this.ctx = ctx;
        }

        private long count() {
            Object n = ctx.storage().get("n");
            return n == null ? 0 : (Long) n;
        }

        @Override
        public Object call(String method, List<Object> args) throws Exception {
            return switch (method) {
                case "increment" -> {
                    long n = count() + 1;
                    ctx.storage().put("n", n);
                    yield n;
                }
                case "get" -> count();
                case "slow" -> {
                    trace.add("start " + args.getFirst());
                    Thread.sleep(300);
                    trace.add("end " + args.getFirst());
                    yield args.getFirst();
                }
                case "echo" -> {
                    if (!(args.getFirst() instanceof Map<?, ?> m)) throw new RpcError(RpcError.Type.TYPE_ERROR, "expected an object");
                    Map<String, Object> out = new LinkedHashMap<>();
                    m.forEach((k, v) -> out.put((String) k, v));
                    out.put("javaAdded", true);
                    yield out;
                }
                case "fail" -> throw new RpcError(RpcError.Type.RANGE_ERROR, "too far");
                case "crash" -> throw new IllegalStateException("com.example.Secret: do not show this");
                case "notListed" -> "reached a method the class does not export";
                case "setAlarmIn" -> {
                    ctx.storage().setAlarm(System.currentTimeMillis() + (Long) args.getFirst());
                    yield true;
                }
                case "alarms" -> {
                    Object n = ctx.storage().get("alarms");
                    yield n == null ? 0L : n;
                }
                default -> throw new IllegalArgumentException(method);
            };
        }

        @Override
        public JavaResponse fetch(JavaRequest request) {
            if (request.url().endsWith("/throw")) throw new RpcError("boom");
            String body = request.method() + " " + request.url() + " " + new String(request.body(), StandardCharsets.UTF_8)
                    + " " + request.header("x-a") + " " + count();
            return new JavaResponse(201, List.of(new HttpHeader("x-object", "java"), new HttpHeader(":bulwark-websocket", "7")),
                    body.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public void alarm(AlarmInfo alarm) {
            Object n = ctx.storage().get("alarms");
            ctx.storage().put("alarms", (n == null ? 0L : (Long) n) + 1);
        }
    }

    static final List<JavaObjectClass> CLASSES = List.of(
            JavaObjectClass.bindable("JavaCounter", JavaCounter::new, "increment", "get", "slow", "echo", "fail", "crash",
                    "setAlarmIn", "alarms"),
            JavaObjectClass.javaOnly("SessionObject", JavaCounter::new, "increment", "get"));

    /** A node of this test's own. */
    Node start() throws Exception {
        node = serve(data);
        return node;
    }

    /** The class's node, shared by the tests that do not restart it (each its own objects; started by the first that asks). */
    Node startShared() throws Exception {
        if (shared == null) shared = serve(sharedData);
        node = shared;
        return node;
    }

    static Node serve(Path dataDir) throws Exception {
        List<ProjectConfig> projects = new ArrayList<>();
        for (String p : List.of("java-objects-project", "java-objects-other")) {
            projects.add(TestProjects.load(RESOURCES.resolve(p), dataDir));
        }
        return Node.serve(projects, CLASSES);
    }

    @AfterEach
    void stop() {
        if (node != null && node != shared) node.close();
        trace.clear();
    }

    @AfterAll
    static void stopShared() {
        if (shared != null) shared.close();
        shared = null;
    }

    HttpResponse<String> send(String worker, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + path))
                .header("Host", worker + ".localhost").timeout(Duration.ofSeconds(90)).build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonNode get(String worker, String path) throws Exception {
        HttpResponse<String> r = send(worker, path);
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return json.readTree(r.body());
    }

    @Test
    void jsWorkersReachTheJavaObjectByRpcAndFetchWithExactCountsUnderConcurrency() throws Exception {
        startShared();
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            all.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/inc/c32"))
                    .header("Host", "javaobj.localhost").timeout(Duration.ofSeconds(120)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        List<Integer> seen = new ArrayList<>();
        for (var f : all) {
            HttpResponse<String> r = f.get(150, TimeUnit.SECONDS);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            seen.add(Integer.parseInt(r.body()));
        }
        assertThat(seen).containsExactlyInAnyOrderElementsOf(IntStream.rangeClosed(1, 32).boxed().toList());
        assertThat(get("javaobj", "/get/c32").asLong()).isEqualTo(32);

        // The same object from Java: the same id as idFromName in JS, the same storage.
        var ns = node.javaObjects().namespace("javaobj", "JavaCounter");
        assertThat(ns.idFromName("c32").hex()).isEqualTo(get("javaobj", "/id/c32").asText());
        assertThat(ns.getByName("c32").call("increment")).isEqualTo(33L);
        assertThat(get("javaobj", "/get/c32").asLong()).isEqualTo(33);

        HttpResponse<String> fetched = send("javaobj", "/fetch/c32");
        assertThat(fetched.statusCode()).isEqualTo(201);
        assertThat(fetched.body()).isEqualTo("POST http://object/hello?q=1 hi b 33");
        assertThat(fetched.headers().firstValue("x-from-object")).hasValue("java");

        JsonNode echo = get("javaobj", "/echo/e");
        assertThat(echo.toString()).isEqualTo("{\"a\":[1,\"two\",null],\"n\":1.5,\"big\":\"bigint:10\",\"bytes\":[1,2],"
                + "\"when\":5,\"tags\":[\"x\",2],\"javaAdded\":true}");
    }

    @Test
    void errorsArriveAsJsErrorsWithoutJavaDetailsAndOnlyExportedMethodsAnswer() throws Exception {
        startShared();
        JsonNode e = get("javaobj", "/errors/err");
        assertThat(e.at("/range/name").asText()).isEqualTo("RangeError");
        assertThat(e.at("/range/message").asText()).isEqualTo("too far");
        assertThat(e.at("/range/isError").asBoolean()).isTrue();
        assertThat(e.at("/crash/name").asText()).isEqualTo("Error");
        assertThat(e.at("/crash/isError").asBoolean()).isTrue();
        assertThat(e.at("/crash/message").asText()).matches("internal error; reference = [0-9a-f]{16}");
        assertThat(e.at("/notExported/text").asText())
                .isEqualTo("TypeError: The RPC receiver does not implement the method \"notListed\".");
        assertThat(e.at("/reserved/text").asText())
                .isEqualTo("TypeError: The RPC receiver does not implement the method \"constructor\".");
        assertThat(e.at("/propertyRead/text").asText()).isEqualTo("TypeError: \"get\" is a method: call it.");
        assertThat(e.at("/unsupported/name").asText()).isEqualTo("TypeError");
        assertThat(e.at("/unsupported/message").asText()).startsWith("A RegExp cannot be passed to Java");
        assertThat(e.at("/fetchThrows/message").asText()).contains("boom");
        String all = e.toString();
        for (String leak : List.of("java.", "Exception", "com.example", "Secret", "at dev.")) assertThat(all).doesNotContain(leak);
    }

    @Test
    void overlappingCallsFromJsNeverInterleave() throws Exception {
        startShared();
        var a = http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/slow/s?who=a"))
                .header("Host", "javaobj.localhost").build(), HttpResponse.BodyHandlers.ofString());
        var b = http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/slow/s?who=b"))
                .header("Host", "javaobj.localhost").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(a.get(120, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(b.get(120, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(trace).hasSize(4);
        assertThat(trace.get(1)).isEqualTo("end " + trace.get(0).substring(6));
        assertThat(trace.get(3)).isEqualTo("end " + trace.get(2).substring(6));
    }

    @Test
    void storageAndAlarmsSurviveANodeRestart() throws Exception {
        start();
        for (int i = 0; i < 3; i++) get("javaobj", "/inc/durable");
        String id = get("javaobj", "/id/durable").asText();
        assertThat(get("javaobj", "/alarm/durable?ms=1500").asBoolean()).isTrue();
        node.close();
        node = null;
        // The object's file is in the node's own directory, never in a tenant's (what sandboxes see).
        assertThat(data.resolve("node-objects/javaobj/JavaCounter/" + id + ".sqlite")).exists();
        try (var files = Files.walk(data.resolve("tenants"))) {
            assertThat(files.filter(p -> p.toString().contains(id)).toList()).isEmpty();
        }
        start();
        assertThat(get("javaobj", "/get/durable").asLong()).isEqualTo(3);
        var stub = node.javaObjects().namespace("javaobj", "JavaCounter").getByName("durable");
        await().atMost(Duration.ofSeconds(60)).until(() -> (Long) stub.call("alarms") == 1L);
    }

    @Test
    void tenantsHaveTheirOwnNamespaceOfAJavaClass() throws Exception {
        startShared();
        get("javaobj", "/inc/shared");
        get("javaobj", "/inc/shared");
        String mine = get("javaobj", "/id/shared").asText();
        assertThat(get("othertenant", "/id/shared").asText()).isNotEqualTo(mine);
        assertThat(get("othertenant", "/get/shared").asLong()).isZero();
        assertThat(get("othertenant", "/foreign/x?id=" + mine).get("message").asText())
                .isEqualTo("Invalid Durable Object ID: the ID is not for this namespace.");
        // A sandbox of the other tenant that forges a call with the first tenant's id is refused by the node.
        Message m = JavaObjectCalls.rpc(node.javaObjects(), "othertenant",
                new Address.DurableObject(JavaObjects.WORKER_ID, "JavaCounter", mine, "shared"),
                new Message.RpcCall(1, 2, null, "get", StructuredValues.encode(List.of())));
        assertThat(m).isInstanceOfSatisfying(Message.RpcResult.class, r -> {
            assertThat(r.threw()).isTrue();
            assertThat(StructuredValues.decode(r.value())).isEqualTo(new RpcError(RpcError.Type.TYPE_ERROR, "ID is not for this namespace."));
        });
        // ... and so is a call to a class that is not open to workers, with an id of its namespace.
        String session = node.javaObjects().namespace("javaobj", "SessionObject").idFromName("s").hex();
        Message s = JavaObjectCalls.rpc(node.javaObjects(), "javaobj",
                new Address.DurableObject(JavaObjects.WORKER_ID, "SessionObject", session, "s"),
                new Message.RpcCall(1, 3, null, "get", StructuredValues.encode(List.of())));
        assertThat(StructuredValues.decode(((Message.RpcResult) s).value()))
                .isEqualTo(new RpcError(RpcError.Type.TYPE_ERROR, "no durable object class 'SessionObject' can be called from here"));
        assertThat(get("javaobj", "/get/shared").asLong()).isEqualTo(2);
    }

    @Test
    void aBindingToAClassTheNodeHasNotOpenedToWorkersIsRefusedAtDeploy(@TempDir Path project) throws Exception {
        Files.createDirectories(project.resolve("src"));
        Files.writeString(project.resolve("src/index.js"), "export default { fetch() { return new Response('x'); } };");
        Files.writeString(project.resolve("wrangler.jsonc"), """
                {"name": "sneaky", "main": "src/index.js", "compatibility_date": "2025-09-01",
                 "durable_objects": {"bindings": [{"name": "S", "class_name": "SessionObject", "script_name": "bulwark:java"}]}}""");
        node = Node.start(TestProjects.load(project, data).settings(), CLASSES);
        ProjectConfig sneaky = TestProjects.load(project, data);
        assertThatThrownBy(() -> node.worker(sneaky)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("durable object binding S names the Java class 'SessionObject', which this node has not registered for workers");
    }
}
