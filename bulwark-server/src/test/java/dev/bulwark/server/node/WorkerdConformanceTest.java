package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.server.config.ProjectConfig;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * workerd's own tests of the APIs issues 10 and 11 build ({@code src/workerd/api/tests}, Apache 2.0,
 * {@code src/test/resources/workerd-tests/README.md}), run unchanged on a real node.
 *
 * <p>A suite is a directory of {@code workerd-tests} named after the workerd test file; its worker
 * {@code t} holds that file and the bindings of its {@code .wd-test} as a wrangler configuration,
 * beside any other worker the suite's configuration names. This test writes t's main module, which
 * re-exports the file whole and adds the {@code BulwarkConformance} entrypoint, serves the suite's
 * workers with the {@code runner} worker, and runs every export that has a {@code test()} handler
 * as workerd's test runner would: {@code test(controller, env, ctx)} with t's env, one at a time, in
 * the order of the module's export names.
 *
 * <p>{@code expectations.txt} names each test known to fail here, with the reason. A test that fails
 * and is not named fails the build, and so does a named one that passes (take it off the list).
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class WorkerdConformanceTest {
    static final Path SUITES = TestProjects.resource("workerd-tests");
    static final ObjectMapper JSON = new ObjectMapper();
    static final Pattern DEFAULT_EXPORT = Pattern.compile("(?m)^export default\\b");

    @TempDir
    static Path work;

    @TestFactory
    Stream<DynamicNode> workerdTests() throws IOException {
        Map<String, String> expectedFailures = expectations(SUITES.resolve("expectations.txt"));
        List<DynamicNode> suites = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(SUITES)) {
            for (Path suite : dirs.filter(d -> Files.isDirectory(d.resolve("t")) && chosen(d)).sorted().toList()) {
                suites.add(DynamicContainer.dynamicContainer(suite.getFileName().toString(),
                        run(suite, expectedFailures).entrySet().stream()
                                .map(e -> verdict(e.getKey(), e.getValue(), expectedFailures))));
            }
        }
        return suites.stream();
    }

    /** {@code -Dbulwark.workerdTests=a,b} runs only those suites (while working on them); all by default. */
    private static boolean chosen(Path suite) {
        String only = System.getProperty("bulwark.workerdTests", "");
        return only.isBlank() || List.of(only.split(",")).contains(suite.getFileName().toString());
    }

    /** A test's outcome: null when it passed, else what it threw. */
    private static DynamicTest verdict(String test, String failure, Map<String, String> expectedFailures) {
        return DynamicTest.dynamicTest(test.substring(test.indexOf('/') + 1), () -> {
            String expected = expectedFailures.get(test);
            if (expected == null) {
                assertThat(failure).as(test + " failed").isNull();
            } else {
                assertThat(failure).as(test + " passes now: take it off expectations.txt (" + expected + ")").isNotNull();
            }
        });
    }

    /** Serves one suite and runs its tests: suite/export → null (passed) or the failure. */
    private static Map<String, String> run(Path suite, Map<String, String> expectedFailures) throws IOException {
        String name = suite.getFileName().toString();
        Path copy = work.resolve(name);
        copyTree(suite, copy);
        writeHarness(copy.resolve("t"), name + ".js");
        Map<String, String> results = new LinkedHashMap<>();
        Path data = work.resolve(name + "-data");
        try {
            List<ProjectConfig> projects = new ArrayList<>();
            projects.add(TestProjects.load(SUITES.resolve("runner"), data));
            try (Stream<Path> workers = Files.list(copy)) {
                for (Path w : workers.filter(d -> Files.exists(d.resolve("wrangler.jsonc"))).sorted().toList()) {
                    projects.add(TestProjects.load(w, data));
                }
            }
            try (Node node = Node.serve(projects)) {
                JsonNode list = JSON.readTree(TestProjects.ok(node, "runner.localhost", "/list"));
                for (JsonNode test : list) {
                    String path = "/run?name=" + URLEncoder.encode(test.asText(), StandardCharsets.UTF_8);
                    HttpResponse<String> r = TestProjects.HTTP.send(TestProjects.request(node, path)
                            .header("Host", "runner.localhost").build(), HttpResponse.BodyHandlers.ofString());
                    results.put(name + "/" + test.asText(), outcome(r));
                }
            }
        } catch (Exception | AssertionError e) {
            // A suite that does not load (or whose /list fails) fails as one test, named after the suite.
            results.put(name + "/(suite)", e.toString());
        }
        return results;
    }

    private static String outcome(HttpResponse<String> r) throws IOException {
        if (r.statusCode() != 200) return "HTTP " + r.statusCode() + ": " + r.body();
        JsonNode result = JSON.readTree(r.body());
        if (result.path("ok").asBoolean()) return null;
        String error = result.path("error").asText(), stack = result.path("stack").asText();
        return stack.contains(error) ? stack : error + "\n" + stack;
    }

    /** t's main module: the suite's file re-exported whole, and the entrypoint the runner calls. */
    private static void writeHarness(Path t, String file) throws IOException {
        String source = Files.readString(t.resolve(file));
        String spec = "'./" + file + "'";
        String harness = """
                // Written by WorkerdConformanceTest: the suite's module, re-exported whole, and the
                // entrypoint the runner worker calls to run one of its test() handlers.
                import { WorkerEntrypoint } from 'cloudflare:workers';
                import * as suite from %1$s;
                export * from %1$s;
                %2$s
                export class BulwarkConformance extends WorkerEntrypoint {
                  list() {
                    return Object.keys(suite).filter((k) => suite[k] != null && typeof suite[k].test === 'function');
                  }
                  async run(name) {
                    try {
                      await suite[name].test({}, this.env, this.ctx);
                      return { ok: true };
                    } catch (e) {
                      const error = e instanceof Error ? `${e.name}: ${e.message}` : `thrown: ${String(e)}`;
                      return { ok: false, error, stack: String(e?.stack ?? '') };
                    }
                  }
                }
                """.formatted(spec, DEFAULT_EXPORT.matcher(source).find() ? "export { default } from " + spec + ";" : "");
        Files.writeString(t.resolve("bulwark-harness.js"), harness);
    }

    private static Map<String, String> expectations(Path file) throws IOException {
        Map<String, String> expected = new TreeMap<>();
        for (String line : Files.readAllLines(file)) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) continue;
            int space = l.indexOf(' ');
            expected.put(space < 0 ? l : l.substring(0, space), space < 0 ? "" : l.substring(space).strip());
        }
        return expected;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            files.forEach(p -> {
                try {
                    Path target = to.resolve(from.relativize(p).toString());
                    if (Files.isDirectory(p)) Files.createDirectories(target);
                    else Files.copy(p, target);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
