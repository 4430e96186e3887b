package dev.bulwark.server.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.bulwark.server.config.Fixtures.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** main is required, must exist, must stay inside the project, and must be a JavaScript module. */
class MainModuleTest {

    @TempDir
    Path temp;

    private Path dir() {
        return temp.resolve("project");
    }

    private void wrangler(String main) {
        write(dir(), "wrangler.jsonc", "{ \"name\": \"w\", \"compatibility_date\": \"2025-09-01\""
                + (main == null ? "" : ", \"main\": \"" + main + "\"") + " }");
    }

    @Test
    void a_missing_main_is_an_error() {
        wrangler(null);

        assertThatThrownBy(() -> ProjectLoader.load(dir()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("wrangler.jsonc: main is required (the path of the worker's entry module)");
    }

    @Test
    void a_main_that_does_not_exist_is_an_error() {
        wrangler("src/index.js");

        assertThatThrownBy(() -> ProjectLoader.load(dir()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("wrangler.jsonc: main 'src/index.js' does not exist (looked for "
                        + dir().resolve("src/index.js") + ")");
    }

    @Test
    void a_main_that_is_a_directory_is_an_error() {
        wrangler("src");
        write(dir(), "src/index.js", "export default {};");

        assertThatThrownBy(() -> ProjectLoader.load(dir()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("wrangler.jsonc: main 'src' is not a file");
    }

    @Test
    void a_main_outside_the_project_directory_is_rejected() {
        write(temp, "outside.js", "export default {};");
        wrangler("../outside.js");

        assertThatThrownBy(() -> ProjectLoader.load(dir()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("wrangler.jsonc: main '../outside.js' is outside the project directory " + dir());
    }

    @Test
    void a_main_that_climbs_out_and_back_in_is_accepted() throws ConfigException {
        write(dir(), "src/index.js", "export default {};");
        wrangler("src/../src/./index.js");

        assertThat(ProjectLoader.load(dir()).bundle().mainModule()).isEqualTo("index.js");
    }

    @Test
    void an_absolute_main_outside_the_project_is_rejected() {
        Path outside = write(temp, "outside.js", "export default {};");
        wrangler(outside.toString());

        assertThatThrownBy(() -> ProjectLoader.load(dir()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("is outside the project directory");
    }

    @Test
    void a_main_that_leaves_through_a_symbolic_link_is_rejected() throws IOException {
        Path outside = write(temp, "elsewhere/secret.js", "export default {};");
        Files.createDirectories(dir());
        Path link = Files.createSymbolicLink(dir().resolve("linked"), outside.getParent());
        wrangler("linked/secret.js");

        assertThatThrownBy(() -> ProjectLoader.load(dir()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("wrangler.jsonc: main 'linked/secret.js' leads outside the project directory through a symbolic link");
        Files.delete(link);
    }

    @Test
    void a_typescript_main_asks_for_a_build_step() {
        write(dir(), "src/index.ts", "export default {};");
        wrangler("src/index.ts");

        assertThatThrownBy(() -> ProjectLoader.load(dir()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("wrangler.jsonc: main 'index.ts' needs a build step (.ts)");
    }

    @Test
    void a_main_that_the_rules_type_as_something_else_is_rejected() {
        write(dir(), "index.cjs", "module.exports = {};");
        wrangler("index.cjs");

        assertThatThrownBy(() -> ProjectLoader.load(dir()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("wrangler.jsonc: main 'index.cjs' must be an ES module, but the module rules make it cjs");
    }

    @Test
    void base_dir_names_modules_and_may_hold_main() throws ConfigException {
        write(dir(), "wrangler.jsonc", """
                { "name": "w", "compatibility_date": "2025-09-01", "main": "src/worker/index.js", "base_dir": "src" }""");
        write(dir(), "src/worker/index.js", "import './lib/a.js'; export default {};");
        write(dir(), "src/lib/a.js", "export const a = 1;");

        ProjectConfig config = ProjectLoader.load(dir());

        assertThat(config.bundle().mainModule()).isEqualTo("worker/index.js");
        assertThat(config.bundle().modules()).containsOnlyKeys("worker/index.js", "lib/a.js");
    }

    @Test
    void main_may_be_given_relative_to_base_dir() throws ConfigException {
        write(dir(), "wrangler.jsonc", """
                { "name": "w", "compatibility_date": "2025-09-01", "main": "index.js", "base_dir": "src" }""");
        write(dir(), "src/index.js", "export default {};");

        assertThat(ProjectLoader.load(dir()).bundle().mainModule()).isEqualTo("index.js");
    }

    @Test
    void main_outside_base_dir_is_an_error() {
        write(dir(), "wrangler.jsonc", """
                { "name": "w", "compatibility_date": "2025-09-01", "main": "index.js", "base_dir": "src" }""");
        write(dir(), "index.js", "export default {};");
        write(dir(), "src/a.js", "export default {};");

        assertThatThrownBy(() -> ProjectLoader.load(dir()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("wrangler.jsonc: main 'index.js' is not inside base_dir");
    }

    @Test
    void base_dir_outside_the_project_is_rejected() {
        write(dir(), "wrangler.jsonc", """
                { "name": "w", "compatibility_date": "2025-09-01", "main": "index.js", "base_dir": ".." }""");
        write(dir(), "index.js", "export default {};");

        assertThatThrownBy(() -> ProjectLoader.load(dir()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("wrangler.jsonc: base_dir '..' is outside the project directory " + dir());
    }
}
