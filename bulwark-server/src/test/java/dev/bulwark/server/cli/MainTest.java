package dev.bulwark.server.cli;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The command line answers every bad input in one line and never claims to serve what did not load. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MainTest {
    @TempDir
    Path tmp;

    record Run(int status, String out, String err) {
        List<String> errLines() {
            return err.lines().filter(l -> !l.isBlank()).toList();
        }
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Main.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), args);
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Exactly one line, "bulwark: ...", and nothing that looks like a stack trace. */
    static void assertOneLine(Run r, int status, String contains) {
        assertThat(r.status()).as("exit status; stderr: %s", r.err()).isEqualTo(status);
        assertThat(r.errLines()).as("stderr").singleElement().satisfies(l ->
                assertThat(l).startsWith("bulwark: ").contains(contains).doesNotContain("Exception"));
        assertThat(r.out()).doesNotContain("serving");
    }

    Path project(String name, String mainSource) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.createDirectories(dir.resolve("src"));
        Files.writeString(dir.resolve("src/index.js"), mainSource);
        Files.writeString(dir.resolve("wrangler.jsonc"), """
                { "name": "%s", "main": "src/index.js", "compatibility_date": "2026-01-01",
                  "bulwark": { "sandboxes": { "pool_size": 0 } } }""".formatted(name));
        return dir;
    }

    @Test
    void doctorSaysOfEveryProtectionWhetherItAppliesAndFailsIfOneDoesNot() {
        Run r = run("doctor");
        List<String> lines = r.out().lines().toList();
        List<String> names = List.of("network namespace", "mount namespace", "pid namespace", "unprivileged user",
                "memory cgroup", "pids limit", "seccomp filter");
        assertThat(lines).hasSize(names.size() + 1);
        for (int i = 0; i < names.size(); i++) {
            assertThat(lines.get(i)).as("line %d", i).matches("bulwark: sandbox confinement: " + names.get(i)
                    + ": (applied|NOT applied) \\(.+\\)");
        }
        boolean all = lines.stream().limit(names.size()).noneMatch(l -> l.contains(": NOT applied ("));
        assertThat(r.status()).as("exit status: 0 only if every protection applies").isEqualTo(all ? 0 : 1);
        assertThat(lines.getLast()).isEqualTo(all
                ? "bulwark: every protection applies; sandboxes.confine = \"require\" will start"
                : "bulwark: some protections cannot be applied here; sandboxes.confine = \"require\" would refuse to start");
    }

    @Test
    void aMissingDirectory() {
        assertOneLine(run("serve", tmp.resolve("nowhere").toString()), 2, "not a directory");
    }

    @Test
    void aPortOutOfRange() {
        assertOneLine(run("serve", "--port", "70000", tmp.toString()), 2, "--port 70000: must be from 0 to 65535");
    }

    @Test
    void aPortThatIsNotANumber() {
        assertOneLine(run("serve", "--port", "eighty"), 2, "eighty");
    }

    @Test
    void anUnknownOption() {
        assertOneLine(run("serve", "--prot", "8080"), 2, "--prot");
    }

    @Test
    void aBadConfiguration() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("bad"));
        Files.writeString(dir.resolve("wrangler.jsonc"), "{ \"name\": 5 }");
        assertOneLine(run("serve", dir.toString()), 2, "name");
    }

    @Test
    void aMissingMainGivenOnTheCommandLine() throws Exception {
        Path dir = project("p", "export default {};");
        assertOneLine(run("serve", dir.toString(), "--main", dir.resolve("dist/nothing.js").toString()), 2,
                "--main");
    }

    @Test
    void aPortInUseIsOneLineAndLeavesTheOtherNodesTokenAlone() throws Exception {
        Path dir = project("inuse", "export default { fetch() { return new Response('x'); } };");
        Path data = Files.createDirectories(tmp.resolve("data"));
        Files.writeString(data.resolve("admin.token"), "the running node's token");
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            Run r = run("serve", dir.toString(), "--port", Integer.toString(taken.getLocalPort()), "--data", data.toString());
            assertOneLine(r, 1, "already in use");
        }
        assertThat(Files.readString(data.resolve("admin.token"))).isEqualTo("the running node's token");
    }

    @Test
    void aDataDirectoryThatIsAFile() throws Exception {
        Path dir = project("p", "export default {};");
        Path file = Files.writeString(tmp.resolve("not-a-dir"), "x");
        assertOneLine(run("serve", dir.toString(), "--port", "0", "--data", file.toString()), 1,
                "not-a-dir: exists and is not a directory");
    }

    @Test
    void tailWithoutANode() throws Exception {
        Path data = Files.createDirectories(tmp.resolve("data"));
        Files.writeString(data.resolve("admin.token"), "t");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        assertOneLine(run("tail", "w", "--port", Integer.toString(port), "--data", data.toString()), 1, "no node answers");
    }

    @Test
    void aWorkerThatFailsToLoadIsNotServedAndItsErrorIsLoggedOnce() throws Exception {
        Path dir = project("broken", "import { x } from './lib.js';\nthrow new Error('boom at load');\nexport default {};");
        Files.writeString(dir.resolve("src/lib.js"), "export const x = 1;");
        ListAppender<ILoggingEvent> logs = capture();
        try {
            Run r = run("serve", dir.toString(), "--port", "0", "--data", tmp.resolve("data").toString());
            assertOneLine(r, 1, "not serving: worker broken failed to load");
            List<String> mentions = logs.list.stream().map(ILoggingEvent::getFormattedMessage)
                    .filter(m -> m.contains("boom at load")).toList();
            assertThat(mentions).as("log lines naming the error").singleElement().satisfies(m ->
                    assertThat(m).contains("worker broken").contains("src/index.js").doesNotContain("in promise"));
        } finally {
            release(logs);
        }
    }

    @Test
    void severalProjectsWithOneBrokenServeTheOthersSayWhichFailedAndRouteExplicitly() throws Exception {
        Path good = project("good", "export default { fetch() { return new Response('good'); } };");
        Path broken = project("broken", "throw new Error('boom');\nexport default {};");
        Path data = tmp.resolve("data");
        CompletableFuture<Main.Serving> serving = new CompletableFuture<>();
        Main.servingHook = serving::complete;
        CompletableFuture<Run> result = CompletableFuture.supplyAsync(() ->
                run("serve", good.toString(), broken.toString(), "--port", "0", "--data", data.toString()));
        Main.Serving s = serving.get(90, TimeUnit.SECONDS);
        try {
            int port = s.node().port();
            assertThat(get(port, "good.localhost").body()).isEqualTo("good");
            HttpResponse<String> b = get(port, "broken.localhost");
            assertThat(b.statusCode()).isEqualTo(500);
            assertThat(b.body()).contains("worker_load_failed").doesNotContain("boom");
            HttpResponse<String> stray = get(port, "127.0.0.1");
            assertThat(stray.statusCode()).as("no default worker with several projects").isEqualTo(404);

            Run tail = run("tail", "nosuch", "--port", Integer.toString(port), "--data", data.toString());
            assertOneLine(tail, 1, "no worker named 'nosuch'");
        } finally {
            Main.servingHook = null;
            s.stop().run();
        }
        Run r = result.get(30, TimeUnit.SECONDS);
        assertThat(r.status()).isZero();
        assertThat(r.out()).contains("bulwark: serving good on http://");
        assertThat(r.err()).contains("WARNING: 1 of 2 workers FAILED to load").contains("broken");
    }

    @Test
    void mainOnTheCommandLineServesABuiltBundleWithTheProjectsConfiguration() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("ts"));
        Files.createDirectories(dir.resolve("src"));
        Files.createDirectories(dir.resolve("dist"));
        Files.writeString(dir.resolve("src/index.ts"), "export default { fetch(): Response { return new Response('ts'); } };");
        Files.writeString(dir.resolve("dist/index.js"),
                "export default { fetch(req, env) { return new Response('built ' + env.WHO); } };");
        Files.writeString(dir.resolve("wrangler.jsonc"), """
                { "name": "ts", "main": "src/index.ts", "compatibility_date": "2026-01-01", "vars": { "WHO": "me" },
                  "bulwark": { "sandboxes": { "pool_size": 0 } } }""");
        CompletableFuture<Main.Serving> serving = new CompletableFuture<>();
        Main.servingHook = serving::complete;
        CompletableFuture<Run> result = CompletableFuture.supplyAsync(() -> run("serve", dir.toString(), "--main",
                "dist/index.js", "--port", "0", "--data", tmp.resolve("data").toString()));
        Main.Serving s = serving.get(90, TimeUnit.SECONDS);
        try {
            assertThat(get(s.node().port(), "127.0.0.1").body()).isEqualTo("built me");
        } finally {
            Main.servingHook = null;
            s.stop().run();
        }
        assertThat(result.get(30, TimeUnit.SECONDS).status()).isZero();
    }

    static HttpResponse<String> get(int port, String host) throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/")).header("Host", host).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static ListAppender<ILoggingEvent> capture() {
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).addAppender(appender);
        ((Logger) LoggerFactory.getLogger("bulwark.worker")).addAppender(appender);
        return appender;
    }

    static void release(ListAppender<ILoggingEvent> appender) {
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).detachAppender(appender);
        ((Logger) LoggerFactory.getLogger("bulwark.worker")).detachAppender(appender);
    }
}
