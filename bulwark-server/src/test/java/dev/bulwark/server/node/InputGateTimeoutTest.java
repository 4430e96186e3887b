package dev.bulwark.server.node;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile (issue 11): an object's code holds its input gate forever. As in Workers, a
 * blockConcurrencyWhile callback gets a deadline (30 s there and by default here; 1.5 s in this
 * test, through the sandbox JVM's {@code bulwark.objects.gateTimeoutMs}); past it the object is
 * reset: every event waiting behind the gate fails with the reason, and the next event constructs
 * the object again, with its storage.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class InputGateTimeoutTest {
    @TempDir
    static Path data;
    static Node node;
    /** Cloudflare's message, as the front worker sees it through stub.fetch() (which rejects with the object's Error). */
    static final String RESET = "Error: A call to blockConcurrencyWhile() in a Durable Object waited for too long."
            + " The call was canceled and the Durable Object was reset.";

    @BeforeAll
    static void start() throws Exception {
        node = TestProjects.serve(data, s -> s.withJvmOptions(List.of("-Dbulwark.objects.gateTimeoutMs=1500")),
                "objects-project");
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static CompletableFuture<HttpResponse<String>> get(String path) {
        return TestProjects.HTTP.sendAsync(TestProjects.request(node, path).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aGateShutForeverResetsTheObjectAndTheNextEventConstructsItAgain() throws Exception {
        HttpResponse<String> first = get("/stuck/s").get(60, TimeUnit.SECONDS);
        assertThat(first.statusCode()).as(first.body()).isEqualTo(503);
        // stub.fetch() rejects with the object's error (StubErrorsTest: as in workerd).
        assertThat(first.body()).isEqualTo(RESET);
        HttpResponse<String> second = get("/stuck/s").get(60, TimeUnit.SECONDS);
        assertThat(second.statusCode()).as(second.body()).isEqualTo(200);
        assertThat(second.body()).as("constructed again; the first construction's write kept").isEqualTo("2");
        // Another object of the class was never held back.
        HttpResponse<String> other = get("/stuck/t").get(60, TimeUnit.SECONDS);
        assertThat(other.statusCode()).isEqualTo(503);
    }

    @Test
    void everyEventWaitingBehindTheStuckGateFailsWithTheReset() throws Exception {
        CompletableFuture<HttpResponse<String>> a = get("/stuck/w");
        Thread.sleep(300);
        CompletableFuture<HttpResponse<String>> b = get("/stuck/w");
        for (CompletableFuture<HttpResponse<String>> r : List.of(a, b)) {
            HttpResponse<String> res = r.get(60, TimeUnit.SECONDS);
            assertThat(res.statusCode()).as(res.body()).isEqualTo(503);
            assertThat(res.body()).isEqualTo(RESET);
        }
        assertThat(get("/stuck/w").get(60, TimeUnit.SECONDS).body()).isEqualTo("2");
    }
}
