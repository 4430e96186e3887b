package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.server.config.ProjectConfig;
import org.junit.jupiter.api.Assumptions;
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
 * re-exports the file whole and adds the {@code BulwarkConformance} entrypoint, serves every suite's
 * workers on one node with the {@code runner} worker, and runs every export that has a
 * {@code test()} handler as workerd's test runner would: {@code test(controller, env, ctx)} with t's
 * env, one at a time, in the order of the module's export names.
 *
 * <p>{@code expectations.txt} names each test known to fail here, with the reason. A test that fails
 * and is not named fails the build, and so does a named one that passes (take it off the list).
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class WorkerdConformanceTest {
    static final Path SUITES = TestProjects.resource("workerd-tests");
    /** wrangler.jsonc as wrangler reads it: comments and trailing commas. */
    static final ObjectMapper JSONC = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_JAVA_COMMENTS, JsonReadFeature.ALLOW_TRAILING_COMMA).build();
    static final Pattern DEFAULT_EXPORT = Pattern.compile("(?m)^export default\\b");

    /**
     * Reasons in expectations.txt that start with these leave the test out of the default run (it is
     * reported as skipped); {@code -Dbulwark.workerdTests.long=true} runs it. {@code [hangs]}: a known
     * failure that takes the wall-clock limit (30 s) to fail; it must still fail. {@code [load]}: a test
     * bound to CPU time that passes on a quiet machine and may fail under load; reported, not gated.
     */
    static final String HANGS = "[hangs]", LOAD = "[load]", NOT_RUN = "\0not run";
    static final boolean LONG = Boolean.getBoolean("bulwark.workerdTests.long");

    /** A test slower than this is named on standard output (the suite's time is mostly a few of them). */
    static final long SLOW_MS = 2_000;

    @TempDir
    static Path work;

    @TestFactory
    Stream<DynamicNode> workerdTests() throws IOException {
        Map<String, String> expectedFailures = expectations(SUITES.resolve("expectations.txt"));
        List<String> suites;
        try (Stream<Path> dirs = Files.list(SUITES)) {
            suites = dirs.filter(d -> Files.isDirectory(d.resolve("t")) && chosen(d))
                    .map(d -> d.getFileName().toString()).sorted().toList();
        }
        // One node for every suite (a node's start is most of a small suite's time); if they do
        // not deploy together, each suite on its own node, so that the one that fails is named.
        Map<String, Map<String, String>> results;
        try {
            results = run(suites, work.resolve("all"), expectedFailures);
        } catch (Exception together) {
            System.out.println("workerd suites did not deploy together, each on its own node now: " + together);
            results = new TreeMap<>();
            for (String suite : suites) {
                try {
                    results.putAll(run(List.of(suite), work.resolve(suite), expectedFailures));
                } catch (Exception e) {
                    results.put(suite, Map.of(suite + "/(suite)", e.toString()));
                }
            }
        }
        summarize(results);
        Map<String, Map<String, String>> ran = results;
        // A line for a test of a suite that ran but has no such test (renamed, a typo) would gate nothing.
        DynamicTest exact = DynamicTest.dynamicTest("expectations.txt names only tests that exist", () ->
                assertThat(expectedFailures.keySet().stream().filter(t -> {
                    Map<String, String> suite = ran.get(t.substring(0, t.indexOf('/')));
                    return suite != null && !suite.containsKey(t);
                }).toList()).isEmpty());
        return Stream.concat(Stream.of(exact), results.entrySet().stream().map(suite -> DynamicContainer.dynamicContainer(suite.getKey(),
                suite.getValue().entrySet().stream().map(e -> verdict(e.getKey(), e.getValue(), expectedFailures)))));
    }

    /** One line per suite on standard output: its tests, how many passed, failed and were left out. */
    private static void summarize(Map<String, Map<String, String>> results) {
        int all = 0, passed = 0, left = 0;
        for (var suite : results.entrySet()) {
            int n = suite.getValue().size();
            int p = (int) suite.getValue().values().stream().filter(java.util.Objects::isNull).count();
            int l = (int) suite.getValue().values().stream().filter(NOT_RUN::equals).count();
            System.out.printf("workerd suite %s: %d tests, %d passed, %d failed, %d left out%n", suite.getKey(), n, p, n - p - l, l);
            all += n;
            passed += p;
            left += l;
        }
        System.out.printf("workerd suites: %d tests, %d passed, %d failed, %d left out%n", all, passed, all - passed - left, left);
    }

    /** {@code -Dbulwark.workerdTests=a,b} runs only those suites (while working on them); all by default. */
    private static boolean chosen(Path suite) {
        String only = System.getProperty("bulwark.workerdTests", "");
        return only.isBlank() || List.of(only.split(",")).contains(suite.getFileName().toString());
    }

    /** A test's outcome: null when it passed, else what it threw ({@link #NOT_RUN} when it was left out). */
    private static DynamicTest verdict(String test, String failure, Map<String, String> expectedFailures) {
        return DynamicTest.dynamicTest(test.substring(test.indexOf('/') + 1), () -> {
            String expected = expectedFailures.get(test);
            Assumptions.assumeFalse(NOT_RUN.equals(failure), "left out of the default run: " + expected);
            if (expected != null && expected.startsWith(LOAD)) {
                // Passes on a quiet machine, may fail under load: reported, not gated.
                System.out.println("workerd test " + test + (failure == null ? " passed" : " failed: " + failure));
            } else if (expected == null) {
                assertThat(failure).as(test + " failed").isNull();
            } else {
                assertThat(failure).as(test + " passes now: take it off expectations.txt (" + expected + ")").isNotNull();
            }
        });
    }

    /**
     * Serves these suites on one node and runs their tests: suite → (suite/export → null when it
     * passed, else the failure). Each suite's workers are renamed into the node's one namespace of
     * worker names: t becomes the suite's name, another worker W {@code <suite>-W}.
     */
    private static Map<String, Map<String, String>> run(List<String> suites, Path dir, Map<String, String> expectedFailures)
            throws Exception {
        Path data = dir.resolve("data");
        List<ProjectConfig> projects = new ArrayList<>();
        ArrayNode services = JSONC.createArrayNode();
        for (int i = 0; i < suites.size(); i++) {
            String suite = suites.get(i);
            Path copy = dir.resolve(suite);
            copyTree(SUITES.resolve(suite), copy);
            writeHarness(copy.resolve("t"), testFile(suite));
            List<Path> workers;
            try (Stream<Path> ws = Files.list(copy)) {
                workers = ws.filter(w -> Files.exists(w.resolve("wrangler.jsonc"))).sorted().toList();
            }
            Map<String, String> names = new LinkedHashMap<>();
            for (Path w : workers) names.put(w.getFileName().toString(), workerName(suite, w.getFileName().toString()));
            for (Path w : workers) {
                rename(w.resolve("wrangler.jsonc"), names);
                projects.add(TestProjects.load(w, data));
            }
            services.addObject().put("binding", "S" + i).put("service", workerName(suite, "t")).put("entrypoint", "BulwarkConformance");
        }
        Path runner = dir.resolve("runner");
        copyTree(SUITES.resolve("runner"), runner);
        ObjectNode config = JSONC.createObjectNode().put("name", "runner").put("main", "src/index.js")
                .put("compatibility_date", "2025-09-01");
        config.set("services", services);
        config.putObject("bulwark").put("tenant", "workerd-tests");
        Files.writeString(runner.resolve("wrangler.jsonc"), JSONC.writeValueAsString(config));
        projects.add(TestProjects.load(runner, data));

        Map<String, Map<String, String>> results = new LinkedHashMap<>();
        try (Node node = Node.serve(projects)) {
            for (int i = 0; i < suites.size(); i++) {
                String suite = suites.get(i);
                Map<String, String> outcomes = new LinkedHashMap<>();
                try {
                    JsonNode list = JSONC.readTree(TestProjects.ok(node, "runner.localhost", "/list?binding=S" + i));
                    for (JsonNode test : list) {
                        String name = suite + "/" + test.asText(), expected = expectedFailures.get(name);
                        if (expected != null && (expected.startsWith(HANGS) || expected.startsWith(LOAD)) && !LONG) {
                            outcomes.put(name, NOT_RUN);
                            continue;
                        }
                        String path = "/run?binding=S" + i + "&name=" + URLEncoder.encode(test.asText(), StandardCharsets.UTF_8);
                        long started = System.nanoTime();
                        HttpResponse<String> r = TestProjects.HTTP.send(TestProjects.request(node, path)
                                .header("Host", "runner.localhost").build(), HttpResponse.BodyHandlers.ofString());
                        outcomes.put(suite + "/" + test.asText(), outcome(r));
                        long ms = (System.nanoTime() - started) / 1_000_000;
                        if (ms >= SLOW_MS) System.out.printf("workerd test %s/%s took %d ms%n", suite, test.asText(), ms);
                    }
                } catch (AssertionError e) {
                    // The suite's module threw when it was loaded (TestProjects.ok saw the runner's
                    // /list fail): the suite fails as one test, and the other suites still run.
                    outcomes.put(suite + "/(suite)", e.getMessage());
                }
                results.put(suite, outcomes);
            }
        }
        return results;
    }

    /**
     * The workerd file a suite runs: its name, or for {@code <name>@<variant>} (the same file under
     * another of its .wd-test's services, with other flags or bindings) the part before the {@code @}.
     */
    private static String testFile(String suite) {
        int at = suite.indexOf('@');
        return (at < 0 ? suite : suite.substring(0, at)) + ".js";
    }

    private static String workerName(String suite, String worker) {
        String name = suite.replace('@', '-');
        return worker.equals("t") ? name : name + "-" + worker;
    }

    /** Renames a suite's worker and its references to the suite's workers (service bindings, script_name). */
    private static void rename(Path wrangler, Map<String, String> names) throws IOException {
        ObjectNode config = (ObjectNode) JSONC.readTree(Files.readString(wrangler));
        config.put("name", names.get(config.path("name").asText()));
        for (JsonNode service : config.path("services")) {
            String to = names.get(service.path("service").asText());
            if (to != null) ((ObjectNode) service).put("service", to);
        }
        for (JsonNode binding : config.path("durable_objects").path("bindings")) {
            String to = names.get(binding.path("script_name").asText());
            if (to != null) ((ObjectNode) binding).put("script_name", to);
        }
        Files.writeString(wrangler, JSONC.writeValueAsString(config));
    }

    private static String outcome(HttpResponse<String> r) throws IOException {
        if (r.statusCode() != 200) return "HTTP " + r.statusCode() + ": " + r.body();
        JsonNode result = JSONC.readTree(r.body());
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
