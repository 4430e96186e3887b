package dev.bulwark.sandbox.isolate;

import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * web-platform-tests in Bulwark isolates: every vendored test file ({@code src/test/resources/wpt},
 * WPT's BSD licence beside it) runs in a real isolate under our own harness
 * ({@code wpt-host/harness.js}); a subtest that fails and is not listed in
 * {@code wpt-host/expectations.txt}, or one listed there that passes, fails its file's test.
 *
 * <p>System properties: {@code bulwark.wpt} a comma-separated list of path prefixes to run
 * (default: every directory not pending); {@code bulwark.wpt.pending=true} also runs the pending
 * directories (reported, never gated); {@code bulwark.wpt.report=FILE} writes the per-directory
 * summary there (it is always printed); {@code bulwark.wpt.lanes=N} how many files run at once;
 * {@code bulwark.wpt.verbose=true} prints each file as it starts; {@code bulwark.wpt.write-failures=FILE}
 * writes every subtest that did not pass as {@code fail} lines (to bootstrap expectations).
 */
class WptConformanceTest {
    static final String ROOT = "wpt";
    static final int LANES = Integer.getInteger("bulwark.wpt.lanes", 2);
    static final boolean VERBOSE = Boolean.getBoolean("bulwark.wpt.verbose");

    @TestFactory
    @Timeout(value = 15, unit = TimeUnit.MINUTES)
    Stream<DynamicNode> webPlatformTests() throws Exception {
        Path root = resource(ROOT);
        WptExpectations expectations = WptExpectations.parse(Files.readString(resource("wpt-host/expectations.txt")));
        String fileReader = Files.readString(resource("wpt-host/filereader-adapter.js"));
        WptRunner runner = new WptRunner(root, Files.readString(resource("wpt-host/harness.js")),
                Map.of("FileAPI/blob/", fileReader, "FileAPI/file/", fileReader));
        boolean withPending = Boolean.getBoolean("bulwark.wpt.pending");
        String only = System.getProperty("bulwark.wpt", "");

        List<WptFile> files = new ArrayList<>();
        List<String> notRun = new ArrayList<>();
        for (String path : testFiles(root)) {
            if (!only.isBlank() && Stream.of(only.split(",")).noneMatch(p -> path.startsWith(p.trim()))) continue;
            if (expectations.skipped().containsKey(path)) {
                notRun.add(path + ": " + expectations.skipped().get(path));
                continue;
            }
            if (expectations.pendingReason(path) != null && !withPending) continue;
            WptFile file = WptFile.parse(path, Files.readString(root.resolve(path)));
            if (!file.workerScope() && !path.endsWith(".window.js")) {
                notRun.add(path + ": runs in window scope only");
                continue;
            }
            files.add(file);
        }

        Map<String, WptResult> results = runAll(runner, files);
        WptReport report = new WptReport(expectations, results.values(), notRun);
        String summary = report.markdown();
        System.out.println(summary);
        String reportFile = System.getProperty("bulwark.wpt.report");
        if (reportFile != null) Files.writeString(Path.of(reportFile), summary);
        String expectationsOut = System.getProperty("bulwark.wpt.write-failures");
        if (expectationsOut != null) Files.writeString(Path.of(expectationsOut), report.failureLines());

        Map<String, List<DynamicNode>> bySuite = new TreeMap<>();
        for (WptFile file : files) {
            WptResult result = results.get(file.path());
            bySuite.computeIfAbsent(WptReport.suiteOf(file.path()), k -> new ArrayList<>()).add(
                    DynamicTest.dynamicTest(file.path(), () -> check(expectations, result)));
        }
        return bySuite.entrySet().stream().map(e -> DynamicContainer.dynamicContainer(e.getKey(), e.getValue().stream()));
    }

    private static void check(WptExpectations expectations, WptResult result) {
        String path = result.path();
        if (expectations.pendingReason(path) != null) return; // reported, not gated
        if (result.subtests().isEmpty() && !result.harness().equals("OK")) {
            assertThat(expectations.errors()).as("%s did not run (%s: %s); list it as an error in expectations.txt "
                    + "if that is known", path, result.harness(), result.message()).containsKey(path);
            return;
        }
        assertThat(expectations.errors()).as("%s is listed as an error but ran", path).doesNotContainKey(path);
        Map<String, String> expected = expectations.failuresOf(path);
        List<String> unexpectedFailures = new ArrayList<>();
        List<String> unexpectedPasses = new ArrayList<>();
        Map<String, WptResult.Subtest> byName = new LinkedHashMap<>();
        for (WptResult.Subtest t : result.subtests()) byName.putIfAbsent(t.name(), t);
        for (WptResult.Subtest t : byName.values()) {
            if (expectations.excluded(path, t.name())) continue;
            if (!t.passed() && !expected.containsKey(t.name())) {
                unexpectedFailures.add(t.status() + " " + t.name() + ": " + t.message());
            }
        }
        for (String name : expected.keySet()) {
            WptResult.Subtest t = byName.get(name);
            if (t == null || t.passed()) unexpectedPasses.add((t == null ? "(no such subtest) " : "") + name);
        }
        assertThat(unexpectedFailures).as("%s: subtests that fail and are not in expectations.txt (harness %s: %s)",
                path, result.harness(), result.message()).isEmpty();
        assertThat(unexpectedPasses).as("%s: subtests listed in expectations.txt that now pass or no longer exist "
                + "(remove them)", path).isEmpty();
    }

    private static Map<String, WptResult> runAll(WptRunner runner, List<WptFile> files) throws Exception {
        Map<String, WptResult> results = new LinkedHashMap<>();
        ExecutorService lanes = Executors.newFixedThreadPool(LANES);
        try {
            java.util.concurrent.BlockingQueue<String> laneIds = new java.util.concurrent.LinkedBlockingQueue<>();
            for (int i = 0; i < LANES; i++) laneIds.add("wpt-lane-" + i);
            List<Future<WptResult>> futures = new ArrayList<>();
            for (WptFile file : files) {
                futures.add(lanes.submit(() -> {
                    String lane = laneIds.take();
                    try {
                        if (VERBOSE) System.out.println("wpt: " + lane + " runs " + file.path());
                        return runner.run(file, lane);
                    } finally {
                        laneIds.add(lane);
                    }
                }));
            }
            for (Future<WptResult> f : futures) {
                WptResult r = f.get();
                results.put(r.path(), r);
            }
        } finally {
            lanes.shutdownNow();
        }
        // Leave no test file's isolate behind for the tests that run after this one in the JVM.
        for (int i = 0; i < LANES; i++) runner.retire("wpt-lane-" + i);
        return results;
    }

    private static List<String> testFiles(Path root) throws Exception {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile)
                    .map(p -> root.relativize(p).toString().replace('\\', '/'))
                    .filter(p -> p.endsWith(".any.js") || p.endsWith(".window.js"))
                    .sorted().toList();
        }
    }

    private static Path resource(String name) throws Exception {
        URL url = WptConformanceTest.class.getClassLoader().getResource(name);
        assertThat(url).as("test resource " + name).isNotNull();
        return Path.of(url.toURI());
    }

}
