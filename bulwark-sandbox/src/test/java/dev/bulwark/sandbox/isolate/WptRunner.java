package dev.bulwark.sandbox.isolate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.bulwark.sandbox.isolate.Sandboxes.*;

/**
 * Runs one WPT file as a module worker in a real Bulwark isolate: the harness module
 * ({@code wpt-host/harness.js}), the file's META scripts and the file itself wrapped in one
 * function that the worker's fetch handler hands to the harness, and the .json data files it
 * fetches as text modules. The handler answers the results as JSON.
 *
 * <p>Each lane reloads one worker id, so a lane's previous isolate is retired before the next
 * file runs (a run of hundreds of files never holds more than one isolate per lane).
 */
final class WptRunner {
    static final long TIMEOUT_MS = 5_000;
    static final long LONG_TIMEOUT_MS = 20_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Declarations of sloppy-mode implicit globals ({@code name = value} with no var/let/const). */
    private static final java.util.regex.Pattern ASSIGNMENT =
            java.util.regex.Pattern.compile("^\\s*([A-Za-z_$][\\w$]*)\\s*=(?![=>])", java.util.regex.Pattern.MULTILINE);

    private final Path root;
    private final String harness;
    /** Test-only scripts run before the files under a path prefix (see wpt-host/*.js). */
    private final java.util.Map<String, String> adapters;

    WptRunner(Path root, String harness, java.util.Map<String, String> adapters) {
        this.root = root;
        this.harness = harness;
        this.adapters = adapters;
    }

    WptResult run(WptFile file, String lane) {
        try {
            WorkerBundle bundle = bundle(file);
            long timeout = file.longTimeout() ? LONG_TIMEOUT_MS : TIMEOUT_MS;
            // CPU generous (thousands of subtests in one file); the wall clock past the harness timeout.
            Limits limits = limits(60_000, timeout + 15_000);
            Message loaded = loadAs(lane, bundle, limits);
            if (loaded instanceof Message.WorkerLoadFailed f) {
                return WptResult.error(file.path(), "load failed: " + f.message());
            }
            long id = start(lane, "GET", "http://wpt.test/" + file.path(), null);
            Recorder.Outcome out = RECORDER.awaitWithin(id, timeout + 30_000, TimeUnit.MILLISECONDS);
            if (out.failure() != null) {
                return WptResult.error(file.path(), out.failure().code() + ": " + out.failure().message());
            }
            if (out.status() != 200) return WptResult.error(file.path(), "status " + out.status() + ": " + out.body());
            return parse(file.path(), out.body());
        } catch (Exception e) {
            return WptResult.error(file.path(), e.toString());
        }
    }

    /** Replaces a lane's worker with an empty one, so the last test file's isolate is closed. */
    void retire(String lane) {
        try {
            loadAs(lane, Sandboxes.bundle("export default { fetch() { return new Response(''); } };"), limits(1_000, 5_000));
        } catch (Exception e) {
            // best effort: the runtime is shared by the whole test JVM and ends with it
        }
    }

    private static Message loadAs(String lane, WorkerBundle bundle, Limits limits) throws Exception {
        long correlation = nextId();
        RUNTIME.deliver(new Message.LoadWorker(correlation, lane, bundle, "{}", limits));
        return RECORDER.load(correlation).get(60, TimeUnit.SECONDS);
    }

    WorkerBundle bundle(WptFile file) throws IOException {
        StringBuilder main = new StringBuilder();
        main.append("import { run } from './harness.js';\n");
        List<WorkerModule> modules = new ArrayList<>();
        modules.add(WorkerModule.text("harness.js", ModuleType.JS, harness));
        StringBuilder resources = new StringBuilder("const resources = {");
        int n = 0;
        for (String data : file.dataFiles()) {
            Path p = root.resolve(data);
            if (!Files.isRegularFile(p)) continue;
            String module = "data/" + n + ".txt";
            modules.add(WorkerModule.text(module, ModuleType.TEXT, Files.readString(p)));
            main.append("import r").append(n).append(" from './").append(module).append("';\n");
            resources.append(JSON.writeValueAsString(data)).append(": r").append(n).append(", ");
            n++;
        }
        main.append(resources).append("};\n");
        // Modules are strict: a WPT script's sloppy implicit global ("x = 1" with no declaration)
        // would throw, so such names are declared on globalThis first.
        java.util.Set<String> implicit = new java.util.TreeSet<>();
        List<String> texts = new ArrayList<>();
        for (String script : file.scripts()) texts.add(read(script));
        texts.add(file.source());
        for (String text : texts) {
            java.util.regex.Matcher m = ASSIGNMENT.matcher(text);
            while (m.find()) implicit.add(m.group(1));
        }
        main.append("for (const name of ").append(JSON.writeValueAsString(implicit))
                .append(") if (!(name in globalThis)) globalThis[name] = undefined;\n");
        main.append("function wptBody() {\n");
        for (java.util.Map.Entry<String, String> a : adapters.entrySet()) {
            if (file.path().startsWith(a.getKey())) main.append(a.getValue()).append("\n;\n");
        }
        for (String script : file.scripts()) {
            main.append("// ---- META script ").append(script).append('\n');
            main.append(read(script)).append("\n;\n");
        }
        main.append("// ---- test ").append(file.path()).append('\n');
        main.append(file.source()).append("\n}\n");
        main.append("export default {\n  async fetch() {\n    const results = await run(wptBody, { path: ")
                .append(JSON.writeValueAsString(file.path())).append(", resources, timeoutMs: ")
                .append(file.longTimeout() ? LONG_TIMEOUT_MS : TIMEOUT_MS).append(" });\n")
                .append("    return new Response(JSON.stringify(results), { headers: { 'content-type': 'application/json' } });\n")
                .append("  },\n};\n");
        modules.addFirst(WorkerModule.text("index.js", ModuleType.JS, main.toString()));
        return WorkerBundle.of("index.js", modules);
    }

    private String read(String wptPath) {
        try {
            return Files.readString(root.resolve(wptPath));
        } catch (IOException e) {
            throw new UncheckedIOException("META script " + wptPath + " is not vendored", e);
        }
    }

    private static WptResult parse(String path, String body) throws IOException {
        JsonNode r = JSON.readTree(body);
        List<WptResult.Subtest> subtests = new ArrayList<>();
        for (JsonNode t : r.get("tests")) {
            subtests.add(new WptResult.Subtest(t.get("name").asText(), t.get("status").asText(),
                    t.get("message").isNull() ? null : t.get("message").asText()));
        }
        JsonNode message = r.get("message");
        return new WptResult(path, r.get("status").asText(), message == null || message.isNull() ? null : message.asText(),
                List.copyOf(subtests));
    }
}
