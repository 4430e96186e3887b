package dev.bulwark.sandbox.isolate;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static dev.bulwark.sandbox.isolate.Sandboxes.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Web API prelude's conformance workers ({@code src/test/resources/prelude-tests/*.js}): each
 * is a module worker that checks one area of the prelude and answers 200 {@code ok}, or throws,
 * or answers something else that says what went wrong.
 */
class PreludeConformanceTest {
    static final String DIRECTORY = "prelude-tests";

    static List<Path> workers() throws Exception {
        URL url = PreludeConformanceTest.class.getClassLoader().getResource(DIRECTORY);
        assertThat(url).as("test resource directory " + DIRECTORY).isNotNull();
        try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
            return files.filter(p -> p.getFileName().toString().endsWith(".js")).sorted().toList();
        }
    }

    @TestFactory
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    Stream<DynamicTest> everyConformanceWorkerAnswersOk() throws Exception {
        List<Path> files = workers();
        assertThat(files).as("conformance workers").isNotEmpty();
        return files.stream().map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), file.toUri(), () -> {
            String source = Files.readString(file);
            // A wall-clock limit well below the recorder's 30 s wait, so a hung worker reports its logs.
            String w = load(bundle(source), limits(5_000, 10_000));
            long id = start(w, "GET", "http://prelude.test/" + file.getFileName(), null);
            Recorder.Outcome out = RECORDER.await(id);
            String logs = String.join("\n", RECORDER.logs(id).stream().map(l -> l.level() + ": " + l.message()).toList());
            assertThat(out.failure()).as("%s failed; logs:%n%s", file.getFileName(), logs).isNull();
            assertThat(out.status()).as("%s status; body: %s; logs:%n%s", file.getFileName(), out.body(), logs).isEqualTo(200);
            assertThat(out.body()).as("%s body; logs:%n%s", file.getFileName(), logs).isEqualTo("ok");
        }));
    }
}
