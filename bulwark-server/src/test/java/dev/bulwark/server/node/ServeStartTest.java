package dev.bulwark.server.node;

import dev.bulwark.server.config.ProjectLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code bulwark serve}'s start: the front door listens before the project's worker is deployed
 * (its sandbox starts meanwhile); a request that arrives in between waits for the worker and gets
 * its answer, never a "no worker is routed" 404.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ServeStartTest {
    @TempDir
    Path data;

    @Test
    void aRequestThatArrivesWhileTheWorkerIsDeployedGetsTheWorkersAnswer() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        Path project = TestProjects.resource("objects-project");
        CompletableFuture<Node> serving = CompletableFuture.supplyAsync(() -> {
            try {
                return Node.serve(ProjectLoader.load(project, s -> s.withPort(port).withDataDir(data)));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        List<HttpResponse<String>> early = new ArrayList<>();
        try {
            // Knock until the front door answers, then once more: every answer is the worker's.
            while (early.isEmpty() || !serving.isDone()) {
                try {
                    early.add(TestProjects.HTTP.send(java.net.http.HttpRequest.newBuilder(
                                    java.net.URI.create("http://127.0.0.1:" + port + "/gated/early")).build(),
                            HttpResponse.BodyHandlers.ofString()));
                } catch (java.net.ConnectException notYet) {
                    Thread.sleep(5);
                }
            }
        } finally {
            serving.join().close();
        }
        assertThat(early).isNotEmpty();
        for (HttpResponse<String> r : early) assertThat(r.statusCode() + " " + r.body()).isEqualTo("200 true");
    }
}
