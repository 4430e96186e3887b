package dev.bulwark.server.node;

import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import static dev.bulwark.server.node.BudgetNodeMain.bundle;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A failed sandbox handshake leaks nothing (issue 13): the node kills the child and closes its
 * end of the socket, and keeps serving its other tenants. The sandboxes of three tenants break
 * the handshake ({@link HandshakeSaboteur}, a test-only agent given to every sandbox JVM): one
 * connects and writes garbage then waits, one connects and exits, one (long variant,
 * {@code -Dbulwark.handshake.silent=true}: the bound is 60 s) connects and says nothing. The node
 * retries each with back-off, so every attempt but the last one recorded has been given up.
 *
 * <p>Unconfined sandboxes ({@code sandboxes.confine = "off"}): the agent's jar and record file
 * live outside what a confined sandbox sees, and a confined child's pid is its namespace's own.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class SandboxHandshakeTest {
    @TempDir
    static Path dir;
    static Path record;
    static Node node;
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    static final String WORKER = """
            export default { fetch() { return new Response("fine"); } };""";

    /** An attempt to start a sandbox: the mode it broke the handshake in, its pid, its socket. */
    record Attempt(String mode, long pid, Path socket) {}

    @BeforeAll
    static void start() throws Exception {
        record = dir.resolve("attempts.txt");
        String agentArgs = record + ";garbage=garbage;exit=exit;silent=silent";
        Limits limits = new Limits(1_000, 30_000, 64, 50, 1 << 20, 1 << 16, 1 << 20);
        node = nodeWith(dir, agentArgs);
        node.deploy(new DeployedWorker("bystander", "bystander", bundle(WORKER), "{}", limits));
        boolean silent = Boolean.getBoolean("bulwark.handshake.silent");
        for (String tenant : silent ? List.of("garbage", "exit", "silent") : List.of("garbage", "exit")) {
            // A deploy waits for its tenant's sandbox, which never comes: deployed from the side.
            Thread.startVirtualThread(() -> node.deploy(new DeployedWorker(tenant, tenant, bundle(WORKER), "{}", limits)));
        }
    }

    /** A node (in {@code dir}) whose sandboxes run the saboteur with {@code agentArgs}; unconfined. */
    static Node nodeWith(Path dir, String agentArgs) throws Exception {
        Path agent = dir.resolve("saboteur.jar");
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().putValue("Premain-Class", HandshakeSaboteur.class.getName());
        try (OutputStream out = Files.newOutputStream(agent); JarOutputStream jar = new JarOutputStream(out, manifest)) {
            jar.flush(); // the class itself comes from the class path the sandbox shares with this JVM
        }
        Limits limits = new Limits(1_000, 30_000, 64, 50, 1 << 20, 1 << 16, 1 << 20);
        SandboxSettings sandboxes = SandboxSettings.DEFAULTS.withPoolSize(0)
                .withJvmOptions(List.of("-javaagent:" + agent + "=" + agentArgs)).withConfine(SandboxSettings.Confine.OFF);
        return Node.start(Settings.of(dir.resolve("data"), "bystander").withPort(0).withLimits(limits)
                .withSandboxes(sandboxes));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static List<Attempt> attempts(String mode) throws IOException {
        if (!Files.exists(record)) return List.of();
        return Files.readAllLines(record).stream().map(l -> l.split(" "))
                .map(p -> new Attempt(p[0], Long.parseLong(p[1]), Path.of(p[2]))).filter(a -> a.mode().equals(mode)).toList();
    }

    /** Whether any socket of this machine's network namespace is still bound to {@code path} (the node's accepted end is). */
    static boolean socketOpen(Path path) throws IOException {
        return Files.readAllLines(Path.of("/proc/net/unix")).stream().anyMatch(l -> l.endsWith(" " + path));
    }

    static String bystander() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/"))
                .header("Host", "bystander").timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body();
    }

    /** Waits for {@code n} attempts of {@code mode}, then checks that all but the last left nothing behind. */
    static void everyGivenUpAttemptLeftNothing(String mode, int n, Duration within) throws Exception {
        await().atMost(within).pollInterval(Duration.ofMillis(200)).until(() -> attempts(mode).size() >= n);
        List<Attempt> all = attempts(mode);
        for (Attempt given : all.subList(0, all.size() - 1)) {
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(ProcessHandle.of(given.pid()).map(ProcessHandle::isAlive).orElse(false))
                        .as("the %s child %d is gone", mode, given.pid()).isFalse();
                assertThat(socketOpen(given.socket())).as("no end of %s's socket %s is open", mode, given.socket()).isFalse();
            });
            assertThat(given.socket()).as("the socket's file is removed").doesNotExist();
        }
        assertThat(bystander()).isEqualTo("200 fine");
    }

    @Test
    void aSandboxThatWritesGarbageIsKilledAndItsSocketClosed() throws Exception {
        everyGivenUpAttemptLeftNothing("garbage", 3, Duration.ofSeconds(90));
    }

    @Test
    void aSandboxThatConnectsAndExitsLeavesNoSocket() throws Exception {
        everyGivenUpAttemptLeftNothing("exit", 3, Duration.ofSeconds(90));
    }

    @Test
    void closingTheNodeKillsASandboxStillInItsHandshake(@TempDir Path other) throws Exception {
        Path attempts = other.resolve("attempts.txt");
        Node closing = nodeWith(other, attempts + ";silent=silent");
        Limits limits = Limits.DEFAULTS;
        Thread.startVirtualThread(() -> closing.deploy(new DeployedWorker("silent", "silent", bundle(WORKER), "{}", limits)));
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> Files.exists(attempts) && !Files.readAllLines(attempts).isEmpty());
        long pid = Long.parseLong(Files.readAllLines(attempts).getFirst().split(" ")[1]);
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("it waits in its handshake").isTrue();
        closing.close();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("the child outlived its node").isFalse());
    }

    /** Long variant: the handshake's bound is 60 s. */
    @Test
    @EnabledIfSystemProperty(named = "bulwark.handshake.silent", matches = "true")
    void aSandboxThatConnectsAndSaysNothingIsKilledAtTheBound() throws Exception {
        everyGivenUpAttemptLeftNothing("silent", 2, Duration.ofSeconds(150));
    }
}
