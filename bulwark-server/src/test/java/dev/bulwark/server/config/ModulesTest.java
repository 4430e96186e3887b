package dev.bulwark.server.config;

import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.bulwark.server.config.Fixtures.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The bundle: main plus every file under the base directory that a module rule types. */
class ModulesTest {

    @TempDir
    Path dir;

    private void wrangler(String extraKeys) {
        write(dir, "wrangler.jsonc", "{ \"name\": \"w\", \"compatibility_date\": \"2025-09-01\", \"main\": \"src/index.js\""
                + (extraKeys.isEmpty() ? "" : ", " + extraKeys) + " }");
        write(dir, "src/index.js", "export default {};");
    }

    private static Map<String, ModuleType> types(WorkerBundle bundle) {
        return bundle.modules().entrySet().stream()
                .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> e.getValue().type()));
    }

    @Test
    void the_default_rules_type_files_by_extension_in_nested_directories() throws ConfigException {
        wrangler("");
        write(dir, "src/lib/deep/util.js", "export const u = 1;");
        write(dir, "src/lib/esm.mjs", "export const m = 1;");
        write(dir, "src/legacy.cjs", "module.exports = 1;");
        write(dir, "src/pages/index.html", "<h1>hi</h1>");
        write(dir, "src/notes.txt", "notes");
        write(dir, "src/schema.sql", "CREATE TABLE t (x);");
        write(dir, "src/blob.bin", new byte[] {0, 1, 2});
        write(dir, "src/add.wasm", new byte[] {0, 'a', 's', 'm', 1, 0, 0, 0});
        write(dir, "src/config/settings.json", "{\"a\": 1}");
        write(dir, "src/image.png", new byte[] {1});
        write(dir, "src/README.md", "not a module");

        WorkerBundle bundle = ProjectLoader.load(dir).bundle();

        assertThat(bundle.mainModule()).isEqualTo("index.js");
        assertThat(types(bundle)).containsExactlyInAnyOrderEntriesOf(Map.ofEntries(
                Map.entry("index.js", ModuleType.JS),
                Map.entry("lib/deep/util.js", ModuleType.JS),
                Map.entry("lib/esm.mjs", ModuleType.JS),
                Map.entry("legacy.cjs", ModuleType.CJS),
                Map.entry("pages/index.html", ModuleType.TEXT),
                Map.entry("notes.txt", ModuleType.TEXT),
                Map.entry("schema.sql", ModuleType.TEXT),
                Map.entry("blob.bin", ModuleType.DATA),
                Map.entry("add.wasm", ModuleType.WASM),
                Map.entry("config/settings.json", ModuleType.JSON)));
        assertThat(bundle.modules().keySet()).first().isEqualTo("index.js");
        assertThat(bundle.modules().get("blob.bin").content()).containsExactly(0, 1, 2);
        assertThat(bundle.modules().get("pages/index.html").contentAsString()).isEqualTo("<h1>hi</h1>");
    }

    @Test
    void node_modules_dot_directories_dot_files_config_files_and_the_data_dir_are_skipped() throws ConfigException {
        write(dir, "wrangler.jsonc", """
                { "name": "w", "compatibility_date": "2025-09-01", "main": "index.js",
                  "bulwark": { "data_dir": "state" } }""");
        write(dir, "index.js", "export default {};");
        write(dir, "bulwark.toml", "port = 1\n");
        write(dir, "node_modules/pkg/index.js", "x");
        write(dir, "lib/node_modules/pkg/index.js", "x");
        write(dir, ".wrangler/tmp/bundle.js", "x");
        write(dir, ".bulwark/data/objects.json", "{}");
        write(dir, "state/objects.json", "{}");
        write(dir, ".hidden.js", "x");
        write(dir, ".dev.vars", "A=1\n");
        write(dir, "lib/kept.js", "export default 1;");

        assertThat(ProjectLoader.load(dir).bundle().modules()).containsOnlyKeys("index.js", "lib/kept.js");
    }

    @Test
    void project_rules_come_before_the_defaults() throws ConfigException {
        wrangler("""
                "rules": [
                  { "type": "Data", "globs": ["**/*.png"] },
                  { "type": "Text", "globs": ["**/*.md", "templates/*.tpl"], "fallthrough": true },
                  { "type": "json", "globs": ["**/*.webmanifest"] },
                  { "type": "CompiledWasm", "globs": ["**/*.wasm.bin"], "fallthrough": true },
                  { "type": "ESModule", "globs": ["**/*.es"], "fallthrough": true }
                ]""");
        write(dir, "src/logo.png", new byte[] {(byte) 0x89, 'P', 'N', 'G'});
        write(dir, "src/docs/guide.md", "# guide");
        write(dir, "src/templates/page.tpl", "{{x}}");
        write(dir, "src/templates/nested/no.tpl", "{{x}}");
        write(dir, "src/app.webmanifest", "{}");
        write(dir, "src/add.wasm.bin", new byte[] {0, 'a', 's', 'm'});
        write(dir, "src/old.es", "export default 1;");
        write(dir, "src/still-text.txt", "t");

        ProjectConfig config = ProjectLoader.load(dir);

        assertThat(types(config.bundle())).containsExactlyInAnyOrderEntriesOf(Map.ofEntries(
                Map.entry("index.js", ModuleType.JS),
                Map.entry("logo.png", ModuleType.DATA),
                Map.entry("docs/guide.md", ModuleType.TEXT),
                Map.entry("templates/page.tpl", ModuleType.TEXT),
                Map.entry("app.webmanifest", ModuleType.JSON),
                Map.entry("add.wasm.bin", ModuleType.WASM),
                Map.entry("old.es", ModuleType.JS),
                Map.entry("still-text.txt", ModuleType.TEXT)));
        assertThat(config.warnings()).containsExactly(
                "wrangler.jsonc: rules[0] (Data) shadows the default Data rule [**/*.bin], which is ignored;"
                        + " set fallthrough = true on rules[0] to use both, or fallthrough = false to silence this warning",
                "wrangler.jsonc: rules[2] (json) shadows the default json rule [**/*.json], which is ignored;"
                        + " set fallthrough = true on rules[2] to use both, or fallthrough = false to silence this warning");
        assertThat(config.rules()).extracting(ModuleRule::type).containsExactly(
                ModuleType.DATA, ModuleType.TEXT, ModuleType.JSON, ModuleType.WASM, ModuleType.JS,
                ModuleType.JS, ModuleType.CJS, ModuleType.TEXT, ModuleType.WASM);
    }

    @Test
    void a_file_only_a_shadowed_rule_would_type_is_an_error() {
        wrangler("""
                "rules": [ { "type": "Text", "globs": ["**/*.md"], "fallthrough": false } ]""");
        write(dir, "src/notes.txt", "t");

        assertThatThrownBy(() -> ProjectLoader.load(dir))
                .isInstanceOf(ConfigException.class)
                .hasMessage("wrangler.jsonc: the file notes.txt matches the default Text rule [**/*.txt, **/*.html, **/*.sql],"
                        + " which is ignored because an earlier Text rule does not set fallthrough = true");
    }

    @Test
    void fallthrough_false_silences_the_shadowing_warning() throws ConfigException {
        wrangler("""
                "rules": [ { "type": "Text", "globs": ["**/*.md"], "fallthrough": false } ]""");

        assertThat(ProjectLoader.load(dir).warnings()).isEmpty();
    }

    @Test
    void code_over_limits_code_bytes_is_an_error_naming_the_sizes() {
        wrangler("""
                "bulwark": { "limits": { "code_bytes": 2048 } }""");
        write(dir, "src/big.bin", new byte[3000]);
        write(dir, "src/small.txt", "x");

        assertThatThrownBy(() -> ProjectLoader.load(dir))
                .isInstanceOf(ConfigException.class)
                .hasMessage("wrangler.jsonc: the worker's modules total 3019 bytes (2.9 KiB), over limits.code_bytes of"
                        + " 2048 bytes (2.0 KiB); the largest: big.bin (3000 bytes (2.9 KiB)), index.js (18 bytes), small.txt (1 bytes)");
    }

    @Test
    void code_within_limits_code_bytes_loads() throws ConfigException {
        wrangler("""
                "bulwark": { "limits": { "code_bytes": 3019 } }""");
        write(dir, "src/big.bin", new byte[3000]);
        write(dir, "src/small.txt", "x");

        assertThat(ProjectLoader.load(dir).bundle().codeSize()).isEqualTo(3019);
    }

    @Test
    void vars_and_secrets_over_limits_env_bytes_is_an_error() {
        wrangler("""
                "vars": { "A": "%s" }, "bulwark": { "limits": { "env_bytes": 100 } }""".formatted("x".repeat(60)));
        write(dir, ".dev.vars", "SECRET=" + "s".repeat(40) + "\n");

        assertThatThrownBy(() -> ProjectLoader.load(dir))
                .isInstanceOf(ConfigException.class)
                .hasMessage("wrangler.jsonc: vars and secrets serialize to 120 bytes of JSON, over limits.env_bytes of 100 bytes");
    }

    @Test
    void symbolic_links_are_not_followed(@TempDir Path elsewhere) throws ConfigException, IOException {
        wrangler("");
        Path outside = write(elsewhere, "leak.txt", "outside");
        Path fileLink = Files.createSymbolicLink(dir.resolve("src/leak.txt"), outside);
        Path dirLink = Files.createSymbolicLink(dir.resolve("src/linked-dir"), elsewhere);
        try {
            ProjectConfig config = ProjectLoader.load(dir);

            assertThat(config.bundle().modules()).containsOnlyKeys("index.js");
            assertThat(config.warnings()).containsExactly(
                    "wrangler.jsonc: leak.txt is a symbolic link and is not a module; Bulwark does not follow links");
        } finally {
            Files.delete(fileLink);
            Files.delete(dirLink);
        }
    }

    @Test
    void a_project_directory_reached_through_a_link_is_walked(@TempDir Path links) throws ConfigException, IOException {
        wrangler("");
        write(dir, "src/lib/a.js", "export const a = 1;");
        Path link = Files.createSymbolicLink(links.resolve("project"), dir);
        try {
            ProjectConfig config = ProjectLoader.load(link);

            assertThat(config.directory()).isEqualTo(dir.toRealPath());
            assertThat(config.bundle().modules()).containsOnlyKeys("index.js", "lib/a.js");
        } finally {
            Files.delete(link);
        }
    }

    @Test
    void module_contents_are_read_as_they_are() throws ConfigException {
        wrangler("");
        byte[] bytes = new byte[256];
        for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) i;
        write(dir, "src/all.bin", bytes);

        WorkerModule module = ProjectLoader.load(dir).bundle().modules().get("all.bin");

        assertThat(module).isEqualTo(new WorkerModule("all.bin", ModuleType.DATA, bytes));
        assertThat(List.of(module.size())).containsExactly(256);
    }
}
