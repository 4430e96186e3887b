package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code connect()} through a fetcher to a worker's {@code connect(socket, env, ctx)} handler
 * (Cloudflare's connect handler): a service binding to another worker, {@code ctx.exports}, a
 * dynamic worker's entrypoint, and a dynamic worker's {@code globalOutbound}, on a real node
 * (svcconnect-project/front and back, one tenant), from the user's side and the attacker's.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ServiceConnectTest {
    @TempDir
    static Path data;
    static Node node;
    static final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        node = TestProjects.serve(data, "svcconnect-project", "front", "back");
    }

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

    @Test
    void theDocumentedPairReadsHelloAndBothSidesSeeTheAddressAsWorkerdGivesIt() throws Exception {
        JsonNode r = get("/hello");
        assertThat(r.get("text").asText()).isEqualTo("hello");
        // The caller's socket: the address it passed is the remote one.
        assertThat(r.get("opened").toString()).isEqualTo("{\"remoteAddress\":\"hello:1234\",\"localAddress\":\"undefined\"}");
        // The handler's: the caller's address is its local one, it has no remote address; env and ctx are the callee's.
        JsonNode info = json.readTree(body("/info"));
        assertThat(info.get("remoteAddress").asText()).isEqualTo("undefined");
        assertThat(info.get("localAddress").asText()).isEqualTo("info:99");
        assertThat(info.get("tag").asText()).isEqualTo("[object Socket]");
        assertThat(info.get("secureTransport").asText()).isEqualTo("off");
        assertThat(info.get("args").toString()).isEqualTo("[\"object\",\"function\"]");
        // A WorkerEntrypoint's connect(socket), its env its own.
        assertThat(body("/classy")).isEqualTo("classy classy.example:7 object");
    }

    @Test
    void eightMebibytesGoThroughAndBackWithBackPressureBothWays() throws Exception {
        JsonNode r = get("/echo?mib=8");
        assertThat(r.get("total").asLong()).isEqualTo(8L << 20);
        assertThat(r.get("received").asLong()).isEqualTo(8L << 20);
        assertThat(r.get("same").asBoolean()).isTrue();
        // Streamed, not collected into one answer.
        assertThat(r.get("chunks").asInt()).isGreaterThan(8);
    }

    @Test
    void aHandlerWaitingOnASlowCallerIsNotHung() throws Exception {
        // Longer than the hang rule's grace (2 s): the handler has answered (accepted), it waits on its caller.
        assertThat(body("/slow")).isEqualTo("late");
    }

    @Test
    void ctxExportsReachesTheWorkersOwnConnectHandlerWithProps() throws Exception {
        // The caller half-closes after "abc": the handler reads to the end, then ends its side.
        assertThat(body("/self")).isEqualTo("local self.local:5 props={\"who\":\"me\"} ABC");
    }

    @Test
    void aDynamicWorkersEntrypointHasAConnectHandler() throws Exception {
        assertThat(body("/dynamic")).isEqualTo("dynamic dyn:42");
    }

    @Test
    void aDynamicWorkersSocketsGoToItsGlobalOutboundFetcher() throws Exception {
        // The parent intercepts its child's TCP as it intercepts its fetch().
        assertThat(body("/outbound?via=self&to=db.internal:5432")).isEqualTo("intercepted db.internal:5432 saw child-bytes");
        // A service binding as globalOutbound: the other worker's connect handler.
        assertThat(body("/outbound?via=back&to=echo:1")).isEqualTo("child-bytes");
        // No network at all: workerd's error, as for fetch().
        assertThat(body("/outbound?via=null&to=db.internal:5432")).isEqualTo("threw Error: This worker is not permitted to "
                + "access the internet via global functions like fetch(). It must use capabilities (such as bindings in "
                + "'env') to talk to the outside world.");
    }

    @Test
    void aDurableObjectStubConnectsToTheObjectsConnectHandler() throws Exception {
        JsonNode r = get("/object");
        assertThat(r.get("text").asText()).isEqualTo("room lobby room.example:1 saw knock (1)");
        assertThat(r.get("plain").get("error").asText()).isEqualTo("Error: proxy request failed, cannot connect to the specified address");
        // The same object, its storage kept.
        assertThat(get("/object").get("text").asText()).isEqualTo("room lobby room.example:1 saw knock (2)");
    }

    @Test
    void aServiceBindingPassedToADynamicWorkerConnects() throws Exception {
        // The child has no network (globalOutbound null) but holds the parent's stub: it may connect through it.
        assertThat(body("/passed")).isEqualTo("child-bytes");
    }

    @Test
    void aWorkerCannotForgeAConnectEventThroughFetch() throws Exception {
        JsonNode r = get("/forge");
        assertThat(r.get("request").get("error").asText()).isEqualTo("TypeError: 'CONNECT' HTTP method is unsupported.");
        assertThat(r.get("fetch").get("error").asText()).isEqualTo("TypeError: 'CONNECT' HTTP method is unsupported.");
    }

    @Test
    void aMissingHandlerFailsTheCallersSocketAsWorkerdDoes() throws Exception {
        JsonNode r = get("/noconnect?to=x:1");
        String failed = "Error: proxy request failed, cannot connect to the specified address";
        assertThat(r.get("opened").get("error").asText()).isEqualTo(failed);
        assertThat(r.get("closed").get("error").asText()).isEqualTo(failed);
        // The callee's own error text does not reach the caller; ports 80 and 443 get workerd's hint.
        JsonNode https = get("/noconnect?to=x:443");
        assertThat(https.get("opened").get("error").asText()).isEqualTo(failed
                + ". It looks like you might be trying to connect to a HTTP-based service — consider using fetch instead");
    }

    @Test
    void noTlsToAConnectHandler() throws Exception {
        JsonNode r = get("/tls");
        assertThat(r.get("opened").get("error").asText()).isEqualTo("Error: proxy request failed, cannot connect to the specified address");
        assertThat(r.get("startTls").asText()).isEqualTo("TypeError: startTls() is not supported on a socket to a worker's connect handler.");
        assertThat(r.get("text").asText()).isEqualTo("hello");
    }

    @Test
    void halfOpenBothWays() throws Exception {
        // The handler ended its side first; the half-open caller still writes, and the handler reads it.
        assertThat(body("/halfclose")).isEqualTo("bye");
        await().atMost(Duration.ofSeconds(30)).until(() -> body("/recorded?key=afterItsEnd").equals("\"after your end\""));
        // The caller's half-close: the handler reads to the end and answers before it ends (ctx.exports case too).
        assertThat(body("/self")).endsWith(" ABC");
    }

    @Test
    void aHandlerThatNeverReadsHoldsTheCallersWritesAndTheyFailWhenItIsDone() throws Exception {
        JsonNode r = get("/never-reads");
        assertThat(r.get("ready").asText()).isEqualTo("ready");
        // Nothing was taken from the caller while the handler did not read.
        assertThat(r.get("after1s").asText()).isEqualTo("pending");
        assertThat(r.get("finally").asText()).isEqualTo("rejected: The socket is closed.");
    }

    @Test
    void aCallerThatNeverReadsStopsTheHandlersWrites() throws Exception {
        JsonNode r = get("/flood");
        assertThat(r.get("first").asLong()).isGreaterThanOrEqualTo(1 << 20);
        // Bounded by the windows on the way (about a MiB each), not by what the handler would write.
        assertThat(r.get("later").asLong()).isLessThan(8L << 20);
        assertThat(r.get("read").asLong()).isGreaterThanOrEqualTo(4L << 20);
    }

    @Test
    void aSocketLeftOpenIsClosedWithItsRequest() throws Exception {
        assertThat(body("/outlive")).isEqualTo("left open");
        // The handler would read for ever (its wall-clock limit is 30 s): its invocation ends with the caller's.
        await().atMost(Duration.ofSeconds(15)).until(() -> node.supervisor().processes().stream()
                .mapToInt(SandboxProcess::inFlight).sum() == 0);
    }

    @Test
    void theConnectionEndsWhenTheHandlerSettlesAndItsErrorsStayWithIt() throws Exception {
        JsonNode r = get("/handler-ends");
        // A handler that throws after accepting: the caller reads the end of stream, and the error
        // (logged at the callee) does not reach it.
        assertThat(r.get("throws").get("text").get("ok").asText()).as(r.toString()).isEmpty();
        assertThat(r.get("throws").get("closed").get("ok").asText()).isEqualTo("undefined");
        assertThat(r.toString()).doesNotContain("secret of back");
        // A handler that returns without closing: the connection ends with it, the caller's socket closes.
        assertThat(r.get("early").get("closed").get("ok").asText()).as(r.toString()).isEqualTo("undefined");
    }

    @Test
    void aClientsConnectRequestNeverReachesAConnectHandler() throws Exception {
        try (Socket s = new Socket("127.0.0.1", node.port())) {
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            out.write("CONNECT hello:1 HTTP/1.1\r\nHost: front.localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] head = new byte[12];
            int n = in.readNBytes(head, 0, head.length);
            // Jetty refuses it itself (400); the front door would refuse any that passed (405).
            assertThat(new String(head, 0, n, StandardCharsets.US_ASCII)).matches("HTTP/1\\.1 40[05]");
        }
    }
}
