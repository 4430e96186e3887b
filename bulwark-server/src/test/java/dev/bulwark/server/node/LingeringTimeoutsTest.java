package dev.bulwark.server.node;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Timeouts that outlive the event that set them, as in workerd: every event of a durable object
 * runs in the object's one context (Cloudflare: "waitUntil is not necessary" in an object), and a
 * request that hands a WebSocket over keeps its context while the socket is open. A plain request's
 * context still ends with its response. Project {@code timers-project}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LingeringTimeoutsTest {
    @TempDir
    static Path data;
    static Node node;

    @BeforeAll
    static void start() throws Exception {
        node = TestProjects.serve(data, "timers-project");
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static String get(String path) throws Exception {
        return TestProjects.ok(node, null, path);
    }

    @Test
    void aDurableObjectsTimeoutRunsAfterItsResponseAndTheTimeoutsItSetsToo() throws Exception {
        assertThat(get("/do/a/set")).isEqualTo("set");
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(get("/do/a/read"))
                .isEqualTo("{\"inMemory\":\"fired\",\"second\":\"fired\",\"stored\":\"fired\",\"rpc\":0}"));
    }

    @Test
    void aDurableObjectsRpcMethodsTimeoutRunsAfterItReturned() throws Exception {
        assertThat(get("/do/b/rpc")).isEqualTo("bumped");
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(get("/do/b/read"))
                .isEqualTo("{\"inMemory\":null,\"second\":null,\"stored\":null,\"rpc\":1}"));
    }

    @Test
    void anObjectThatAbortsItselfFromATimeoutOnceTheCallReturnedIsReset() throws Exception {
        // The agents SDK's Agent.destroy(): setTimeout(() => ctx.abort("destroyed"), 0).
        String born = get("/do/d/born");
        assertThat(get("/do/d/destroy")).isEqualTo("destroying");
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(get("/do/d/born")).isNotEqualTo(born));
    }

    @Test
    void aClearedTimeoutNeverRuns() throws Exception {
        assertThat(get("/do/c/cleared")).isEqualTo("cleared");
        Thread.sleep(1_000); // three times the timeout's delay
        assertThat(get("/do/c/read")).isEqualTo("{\"inMemory\":null,\"second\":null,\"stored\":null,\"rpc\":0}");
    }

    @Test
    void aPlainRequestsTimeoutEndsWithItsResponse() throws Exception {
        String isolate = get("/plain/set").substring("set ".length());
        Thread.sleep(600); // six times the timeout's delay
        assertThat(get("/plain/read")).as("no run, and the same isolate").isEqualTo("0 " + isolate);
    }

    @Test
    void aWebSocketRequestsTimeoutsRunWhileItsSocketIsOpen() throws Exception {
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        CompletableFuture<String> closed = new CompletableFuture<>();
        WebSocket ws = TestProjects.HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(30))
                .buildAsync(URI.create("ws://127.0.0.1:" + node.port() + "/ws/deadline"), new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onText(WebSocket webSocket, CharSequence text, boolean last) {
                        received.add(text.toString());
                        webSocket.request(1);
                        return null;
                    }

                    @Override
                    public CompletionStage<?> onClose(WebSocket webSocket, int code, String reason) {
                        closed.complete(code + " " + reason);
                        return null;
                    }

                    @Override
                    public void onError(WebSocket webSocket, Throwable error) {
                        closed.complete("error " + error);
                    }
                }).join();
        try {
            assertThat(received.poll(30, TimeUnit.SECONDS)).isEqualTo("first, from the request");
            // The client never says hello: the request's deadline closes the socket.
            assertThat(closed.get(30, TimeUnit.SECONDS)).isEqualTo("4000 no hello within 600 ms");
        } finally {
            ws.abort();
        }
    }
}
