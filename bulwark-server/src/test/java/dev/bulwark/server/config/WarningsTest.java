package dev.bulwark.server.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static dev.bulwark.server.config.Fixtures.project;
import static dev.bulwark.server.config.Fixtures.write;
import static org.assertj.core.api.Assertions.assertThat;

/** What Bulwark does not use is reported once per key, clearly, and otherwise ignored. */
class WarningsTest {

    @TempDir
    Path dir;

    @Test
    void unsupported_and_unknown_keys_are_each_warned_once() throws ConfigException {
        project(dir, """
                {
                  "name": "w",
                  "main": "index.js",
                  "compatibility_date": "2025-09-01",
                  "kv_namespaces": [ { "binding": "KV", "id": "abc" } ],
                  "r2_buckets": [ { "binding": "R2", "bucket_name": "b" } ],
                  "triggers": { "crons": [ "0 * * * *" ] },
                  "observability": { "enabled": true },
                  "colour": "blue",
                  "durable_objects": { "bindings": [ { "name": "A", "class_name": "A", "environment": "prod", "shard": 1 } ] },
                  "migrations": [ { "tag": "v1", "new_sqlite_classes": ["A"], "transferred_classes": [], "sharded": true } ],
                  "services": [ { "binding": "S", "service": "s", "environment": "prod" } ],
                  "limits": { "cpu_ms": 10, "memory": 5 }
                }""");

        ProjectConfig config = ProjectLoader.load(dir);

        assertThat(config.warnings()).containsExactly(
                "wrangler.jsonc: unsupported key 'kv_namespaces' is ignored",
                "wrangler.jsonc: unsupported key 'r2_buckets' is ignored",
                "wrangler.jsonc: unsupported key 'triggers' is ignored",
                "wrangler.jsonc: unsupported key 'observability' is ignored",
                "wrangler.jsonc: unknown key 'colour' is ignored",
                "wrangler.jsonc: unsupported key 'durable_objects.bindings[0].environment' is ignored",
                "wrangler.jsonc: unknown key 'durable_objects.bindings[0].shard' is ignored",
                "wrangler.jsonc: unknown key 'migrations[0].sharded' is ignored",
                "wrangler.jsonc: unsupported key 'services[0].environment' is ignored",
                "wrangler.jsonc: unknown key 'limits.memory' is ignored");
        assertThat(config.durableObjects()).containsExactly(new DurableObjectBinding("A", "A", null));
    }

    @Test
    void keys_bulwark_accepts_without_effect_are_not_warned() throws ConfigException {
        project(dir, """
                { "$schema": "x.json", "name": "w", "main": "index.js", "compatibility_date": "2025-09-01",
                  "no_bundle": true, "find_additional_modules": true, "workers_dev": false, "base_dir": "." }""");

        assertThat(ProjectLoader.load(dir).warnings()).isEmpty();
    }

    @Test
    void compatibility_flags_are_accepted_and_each_unknown_one_warned_as_having_no_effect() throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01",
                  "compatibility_flags": ["nodejs_compat", "streams_enable_constructors"] }""");

        ProjectConfig config = ProjectLoader.load(dir);

        assertThat(config.compatibilityFlags()).containsExactly("nodejs_compat", "streams_enable_constructors");
        assertThat(config.warnings()).containsExactly(
                "wrangler.jsonc: compatibility flag 'streams_enable_constructors' is not supported yet and has no effect");
    }

    @Test
    void a_missing_name_falls_back_to_the_directory_name() throws ConfigException {
        Path project = dir.resolve("My Project");
        project(project, """
                { "main": "index.js", "compatibility_date": "2025-09-01" }""");

        ProjectConfig config = ProjectLoader.load(project);

        assertThat(config.name()).isEqualTo("my-project");
        assertThat(config.settings().tenant()).isEqualTo("my-project");
        assertThat(config.warnings()).containsExactly("wrangler.jsonc: name is not set; using 'my-project' from the directory name");
    }

    @Test
    void a_missing_compatibility_date_is_warned() throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js" }""");

        ProjectConfig config = ProjectLoader.load(dir);

        assertThat(config.compatibilityDate()).isNull();
        assertThat(config.warnings()).containsExactly("wrangler.jsonc: compatibility_date is not set");
    }

    @Test
    void the_first_wrangler_file_in_order_is_read_and_the_others_are_named_as_ignored() throws ConfigException {
        project(dir, """
                { "name": "from-jsonc", "main": "index.js", "compatibility_date": "2025-09-01" }""");
        write(dir, "wrangler.json", """
                { "name": "from-json", "main": "index.js" }""");
        write(dir, "wrangler.toml", "name = \"from-toml\"\n");

        ProjectConfig config = ProjectLoader.load(dir);

        assertThat(config.name()).isEqualTo("from-jsonc");
        assertThat(config.warnings()).containsExactly(
                "wrangler.json: ignored, wrangler.jsonc is read instead",
                "wrangler.toml: ignored, wrangler.jsonc is read instead");
    }

    @Test
    void a_durable_object_class_that_no_migration_creates_is_warned() throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01",
                  "durable_objects": { "bindings": [ { "name": "ROOM", "class_name": "Room" },
                                                     { "name": "ELSEWHERE", "class_name": "X", "script_name": "other" } ] } }""");

        assertThat(ProjectLoader.load(dir).warnings()).containsExactly(
                "wrangler.jsonc: durable object class 'Room' (binding ROOM) is not created by any migration;"
                        + " add it to a migration's new_sqlite_classes");
    }
}
