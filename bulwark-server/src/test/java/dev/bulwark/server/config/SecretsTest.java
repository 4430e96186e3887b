package dev.bulwark.server.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static dev.bulwark.server.config.Fixtures.project;
import static dev.bulwark.server.config.Fixtures.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Secrets come from .dev.vars and the secrets setting, replace vars of their name, and are never printed. */
class SecretsTest {

    @TempDir
    Path dir;

    @Test
    void dev_vars_become_secrets() throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01" }""");
        write(dir, ".dev.vars", """
                # local secrets
                API_TOKEN=tok-123
                DB_PASSWORD="p@ss # not a comment"
                """);

        ProjectConfig config = ProjectLoader.load(dir);

        assertThat(config.secrets()).containsExactly(
                Map.entry("API_TOKEN", "tok-123"), Map.entry("DB_PASSWORD", "p@ss # not a comment"));
        assertThat(config.warnings()).isEmpty();
    }

    @Test
    void a_secret_replaces_the_var_of_its_name() throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01",
                  "vars": { "API_TOKEN": "placeholder", "MODE": "dev" } }""");
        write(dir, ".dev.vars", "API_TOKEN=real-token\n");

        ProjectConfig config = ProjectLoader.load(dir);

        assertThat(config.vars()).containsOnlyKeys("MODE");
        assertThat(config.secrets()).containsExactly(Map.entry("API_TOKEN", "real-token"));
    }

    @Test
    void the_secrets_setting_overrides_dev_vars_with_a_warning_naming_only_the_key() throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01" }""");
        write(dir, ".dev.vars", "API_TOKEN=from-dev-vars\nOTHER=kept\n");
        write(dir, "bulwark.toml", """
                [secrets]
                API_TOKEN = "from-bulwark-toml"
                """);

        ProjectConfig config = ProjectLoader.load(dir);

        assertThat(config.secrets()).containsExactly(
                Map.entry("API_TOKEN", "from-bulwark-toml"), Map.entry("OTHER", "kept"));
        assertThat(config.warnings()).containsExactly("bulwark.toml: secrets.API_TOKEN overrides API_TOKEN in .dev.vars");
    }

    @Test
    void to_string_never_shows_a_secret_value() throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01",
                  "bulwark": { "secrets": { "FROM_SETTINGS": "settings-secret-value" } } }""");
        write(dir, ".dev.vars", "FROM_DEV_VARS=dev-vars-secret-value\n");

        ProjectConfig config = ProjectLoader.load(dir);

        assertThat(config.toString())
                .contains("FROM_SETTINGS", "FROM_DEV_VARS")
                .doesNotContain("settings-secret-value", "dev-vars-secret-value");
        assertThat(config.settings().toString()).doesNotContain("settings-secret-value", "dev-vars-secret-value");
        assertThat(String.join("\n", config.warnings())).doesNotContain("secret-value");
    }

    @Test
    void a_secret_of_the_wrong_type_is_rejected_without_showing_its_value() {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01",
                  "bulwark": { "secrets": { "PIN": 482913 } } }""");

        assertThatThrownBy(() -> ProjectLoader.load(dir))
                .isInstanceOf(ConfigException.class)
                .hasMessage("wrangler.jsonc: bulwark.secrets.PIN must be a string, got a number");
    }

    @Test
    void a_malformed_dev_vars_line_is_rejected_by_line_number_without_its_value() {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01" }""");
        write(dir, ".dev.vars", "OK=1\nthis is not an assignment of hunter2\n");

        assertThatThrownBy(() -> ProjectLoader.load(dir))
                .isInstanceOf(ConfigException.class)
                .hasMessage(".dev.vars:2: expected '=' after this")
                .message().doesNotContain("hunter2");
    }

    @Test
    void a_secret_may_not_take_the_name_of_another_binding() {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01",
                  "worker_loaders": [ { "binding": "LOADER" } ] }""");
        write(dir, ".dev.vars", "LOADER=x\n");

        assertThatThrownBy(() -> ProjectLoader.load(dir))
                .isInstanceOf(ConfigException.class)
                .hasMessage("wrangler.jsonc: binding name 'LOADER' is used by both secret LOADER and worker_loaders[0].binding");
    }
}
