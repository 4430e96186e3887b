package dev.bulwark.server.config;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.bulwark.server.config.Fixtures.copyResource;
import static dev.bulwark.server.config.Fixtures.write;
import static org.assertj.core.api.Assertions.assertThat;

/** One project written as wrangler.jsonc, wrangler.json and wrangler.toml reads the same from each. */
class FormatsTest {

    @TempDir
    Path temp;

    private Path project(String format) {
        Path dir = temp.resolve(format.replace('.', '-'));
        copyResource("same-project/" + format, dir, format);
        write(dir, "src/index.js", "import text from './notes.md';\nexport default { fetch() { return new Response(text); } };\n");
        write(dir, "src/notes.md", "# notes\n");
        write(dir, "src/lib/util.mjs", "export const x = 1;\n");
        return dir;
    }

    @ParameterizedTest
    @ValueSource(strings = {"wrangler.jsonc", "wrangler.json", "wrangler.toml"})
    void every_format_reads_the_whole_supported_subset(String format) throws ConfigException {
        Path dir = project(format);
        ProjectConfig config = ProjectLoader.load(dir);

        // nodejs_compat is understood now: everything is read without complaint.
        assertThat(config.warnings()).isEmpty();
        assertThat(config.directory()).isEqualTo(dir);
        assertThat(config.name()).isEqualTo("formats");
        assertThat(config.compatibilityDate()).isEqualTo("2025-09-01");
        assertThat(config.compatibilityFlags()).containsExactly("nodejs_compat");
        // ... and the date and flags travel with the bundle to the sandbox.
        assertThat(config.bundle().compatibility())
                .isEqualTo(new dev.bulwark.sandbox.worker.Compatibility("2025-09-01", java.util.List.of("nodejs_compat")));

        JsonNodeFactory json = JsonNodeFactory.instance;
        ObjectNode nested = json.objectNode();
        nested.putArray("list").add(1).add("two").addObject().put("three", 3);
        assertThat(config.vars()).containsExactly(
                Map.entry("GREETING", json.textNode("hello")),
                Map.entry("COUNT", json.numberNode(42)),
                Map.entry("BIG", json.numberNode(9_999_999_999L)),
                Map.entry("RATIO", json.numberNode(1.5)),
                Map.entry("ENABLED", json.booleanNode(true)),
                Map.entry("NESTED", nested));
        assertThat(config.secrets()).containsExactly(Map.entry("API_KEY", "s3cr3t-from-settings"));

        assertThat(config.durableObjects()).containsExactly(
                new DurableObjectBinding("COUNTER", "Counter", null),
                new DurableObjectBinding("REMOTE", "Remote", "other-worker"));
        assertThat(config.migrations()).containsExactly(
                new Migration("v1", List.of("Counter"), List.of(), List.of(), List.of()),
                new Migration("v2", List.of(), List.of("Legacy"), List.of(new RenamedClass("Legacy", "Modern")),
                        List.of("Modern")));
        assertThat(config.workerLoaders()).containsExactly(new WorkerLoaderBinding("LOADER"));
        assertThat(config.services()).containsExactly(
                new ServiceBinding("AUTH", "auth-worker", "Verifier"),
                new ServiceBinding("PLAIN", "plain-worker", null));

        assertThat(config.rules()).first().isEqualTo(new ModuleRule(ModuleType.TEXT, List.of("**/*.md"), true));
        assertThat(config.rules()).hasSize(1 + ModuleRules.DEFAULTS.size());
        assertThat(config.bundle().mainModule()).isEqualTo("index.js");
        assertThat(config.bundle().modules()).containsOnlyKeys("index.js", "lib/util.mjs", "notes.md");
        assertThat(config.bundle().modules().get("notes.md").type()).isEqualTo(ModuleType.TEXT);

        Settings settings = config.settings();
        assertThat(settings.host()).isEqualTo("0.0.0.0");
        assertThat(settings.port()).isEqualTo(9000);
        assertThat(settings.dataDir()).isEqualTo(dir.resolve("state"));
        assertThat(settings.tenant()).isEqualTo("acme");
        assertThat(settings.limits()).isEqualTo(new Limits(50, 5000, 64, 10, Limits.DEFAULTS.codeBytes(),
                Limits.DEFAULTS.envBytes(), 1_048_576));
        assertThat(settings.sandboxes()).isEqualTo(SandboxSettings.DEFAULTS.withProcessesPerTenant(2).withPoolSize(2)
                .withJvmOptions(List.of("-Xmx256m")));
        assertThat(settings.egress()).isEqualTo(new EgressSettings(List.of("api.example.com", "*.example.org"), false));
    }

    @Test
    void a_toml_date_may_be_written_unquoted(@TempDir Path dir) throws ConfigException {
        write(dir, "wrangler.toml", "name = \"w\"\nmain = \"index.js\"\ncompatibility_date = 2025-09-01\n");
        write(dir, "index.js", "export default {};");

        assertThat(ProjectLoader.load(dir).compatibilityDate()).isEqualTo("2025-09-01");
    }

    @Test
    void the_three_formats_give_equal_configs_apart_from_paths() throws ConfigException {
        ProjectConfig jsonc = withoutPaths(ProjectLoader.load(project("wrangler.jsonc")));
        ProjectConfig json = withoutPaths(ProjectLoader.load(project("wrangler.json")));
        ProjectConfig toml = withoutPaths(ProjectLoader.load(project("wrangler.toml")));

        assertThat(json).isEqualTo(jsonc);
        assertThat(toml).isEqualTo(jsonc);
    }

    /** The config without what names the file or directory (paths, and warnings, which name the file). */
    private static ProjectConfig withoutPaths(ProjectConfig c) {
        Path nowhere = Path.of("/nowhere");
        return new ProjectConfig(nowhere, c.name(), c.bundle(), c.compatibilityDate(), c.compatibilityFlags(), c.vars(),
                c.secrets(), c.durableObjects(), c.migrations(), c.workerLoaders(), c.services(), c.rules(),
                c.settings().withDataDir(nowhere), List.of());
    }
}
