package dev.bulwark.server.node;

import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
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
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.bulwark.server.node.BudgetNodeMain.bundle;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 13: an OutOfMemoryError on a sandbox's Java side ends that sandbox (the node answers 503
 * and replaces it); it never becomes an error the worker can catch, and the sandbox never goes on
 * after it. The sandbox JVM is given a Java heap too small for a 16 MiB one-shot encryption
 * (the input and output copies), which V8's own limits allow.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SandboxOutOfMemoryTest {
    @TempDir
    static Path data;
    static Node node;
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        Limits limits = new Limits(10_000, 30_000, 128, 5, 1 << 20, 1 << 16, 1 << 20);
        node = Node.start(Settings.of(data, "small").withPort(0).withLimits(limits)
                .withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(1)
                        .withJvmOptions(List.of("-Xmx" + System.getProperty("bulwark.oom.xmx", "32m")))));
        node.deploy(new DeployedWorker("small", "small", bundle("""
                export default {
                  async fetch(request) {
                    if (new URL(request.url).pathname !== "/encrypt") return new Response("fine");
                    const key = await crypto.subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["encrypt"]);
                    try {
                      const out = [];
                      for (let i = 0; i < 4; i++) {
                        out.push(await crypto.subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, key, new Uint8Array(16 << 20)));
                      }
                      return new Response("encrypted " + out.length);
                    } catch (e) {
                      return new Response("caught " + e.name + ": " + e.message);
                    }
                  }
                };"""), "{}", limits));
        node.deploy(new DeployedWorker("bystander", "other", bundle(
                "export default { fetch() { return new Response('still here'); } };"), "{}", limits));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static HttpResponse<String> get(String worker, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + path)).header("Host", worker)
                .timeout(Duration.ofSeconds(90)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aJavaOutOfMemoryErrorEndsTheSandboxAndTheNodeReplacesIt() throws Exception {
        HttpResponse<String> r = get("small", "/encrypt");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
        assertThat(r.body()).contains("\"code\":\"sandbox_crashed\"").doesNotContain("Java heap space");
        assertThat(get("small", "/").body()).isEqualTo("fine");
        assertThat(get("bystander", "/").body()).isEqualTo("still here");
    }
}
