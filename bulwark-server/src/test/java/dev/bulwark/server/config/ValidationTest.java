package dev.bulwark.server.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;

import static dev.bulwark.server.config.Fixtures.project;
import static dev.bulwark.server.config.Fixtures.write;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A wrong type or a bad value is an error naming the file and the key, never a silent default. */
class ValidationTest {

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            "limits": { "cpu_ms": "fast" }                         | wrangler.jsonc: limits.cpu_ms must be a positive integer, got "fast"
            "limits": { "cpu_ms": 0 }                              | wrangler.jsonc: limits.cpu_ms must be a positive integer, got 0
            "bulwark": { "limits": { "heap_mb": 1.5 } }            | wrangler.jsonc: bulwark.limits.heap_mb must be a positive integer, got 1.5
            "bulwark": { "limits": { "subrequests": -1 } }         | wrangler.jsonc: bulwark.limits.subrequests must be a non-negative integer, got -1
            "bulwark": { "limits": { "code_bytes": "64MiB" } }     | wrangler.jsonc: bulwark.limits.code_bytes must be a positive integer, got "64MiB"
            "bulwark": { "port": 70000 }                           | wrangler.jsonc: bulwark.port must be an integer from 0 to 65535, got 70000
            "bulwark": { "port": "8080" }                          | wrangler.jsonc: bulwark.port must be an integer from 0 to 65535, got "8080"
            "bulwark": { "host": "" }                              | wrangler.jsonc: bulwark.host must be a non-empty string, got ""
            "bulwark": { "host": "local host" }                    | wrangler.jsonc: bulwark.host must be a host name or IP address, got "local host"
            "bulwark": { "tenant": "a/b" }                         | wrangler.jsonc: bulwark.tenant must be a name of at most 63 letters, digits, '-' and '_', not starting with '-', got "a/b"
            "bulwark": { "data_dir": 5 }                           | wrangler.jsonc: bulwark.data_dir must be a non-empty string, got 5
            "bulwark": { "sandboxes": { "processes_per_tenant": 0 } } | wrangler.jsonc: bulwark.sandboxes.processes_per_tenant must be a positive integer, got 0
            "bulwark": { "sandboxes": { "jvm_options": "-Xmx1g" } }   | wrangler.jsonc: bulwark.sandboxes.jvm_options must be an array, got "-Xmx1g"
            "bulwark": { "sandboxes": { "jvm_options": ["Xmx1g"] } }  | wrangler.jsonc: bulwark.sandboxes.jvm_options[0] must be a JVM option starting with '-', got "Xmx1g"
            "bulwark": { "egress": { "allow": ["https://api.example.com/"] } } | wrangler.jsonc: bulwark.egress.allow[0] must be a host pattern such as "api.example.com" or "*.example.org", got "https://api.example.com/"
            "bulwark": { "egress": { "allow_private_networks": "yes" } }      | wrangler.jsonc: bulwark.egress.allow_private_networks must be true or false, got "yes"
            "bulwark": { "limits": { "cpu_msec": 5 } }             | wrangler.jsonc: bulwark.limits.cpu_msec is not a Bulwark setting; limits has code_bytes, cpu_ms, env_bytes, heap_mb, request_body_bytes, subrequests, wall_ms
            "bulwark": { "prot": 1 }                               | wrangler.jsonc: bulwark.prot is not a Bulwark setting; the settings are api, data_dir, egress, facets, front_door, governance, host, limits, port, sandboxes, secrets, storage, tenant
            "bulwark": { "facets": { "route_prefix": "apps/" } }   | wrangler.jsonc: bulwark.facets.route_prefix must be "/" or a path like "/apps" (no trailing '/', '*', '?' or '%'), got "apps/"
            "bulwark": []                                          | wrangler.jsonc: bulwark must be an object, got an array
            "name": "my worker"                                    | wrangler.jsonc: name must be a name of at most 63 letters, digits, '-' and '_', not starting with '-', got "my worker"
            "compatibility_date": "2025-13-01"                     | wrangler.jsonc: compatibility_date must be a date YYYY-MM-DD, got "2025-13-01"
            "compatibility_date": "next week"                      | wrangler.jsonc: compatibility_date must be a date YYYY-MM-DD, got "next week"
            "compatibility_flags": "nodejs_compat"                 | wrangler.jsonc: compatibility_flags must be an array of strings, got "nodejs_compat"
            "vars": [ "A" ]                                        | wrangler.jsonc: vars must be an object, got an array
            "no_bundle": "yes"                                     | wrangler.jsonc: no_bundle must be true or false, got "yes"
            "durable_objects": { "bindings": [ { "name": "X" } ] } | wrangler.jsonc: durable_objects.bindings[0].class_name is required
            "durable_objects": { "bindings": { "name": "X" } }     | wrangler.jsonc: durable_objects.bindings must be an array, got an object
            "migrations": [ { "new_sqlite_classes": ["A"] } ]      | wrangler.jsonc: migrations[0].tag is required
            "migrations": [ { "tag": "v1" }, { "tag": "v1" } ]     | wrangler.jsonc: migrations[1].tag 'v1' repeats the tag of migrations[0].tag
            "migrations": [ { "tag": "v1", "renamed_classes": [ { "from": "A" } ] } ] | wrangler.jsonc: migrations[0].renamed_classes[0].to is required
            "migrations": [ { "tag": "v1", "deleted_classes": [ 1 ] } ] | wrangler.jsonc: migrations[0].deleted_classes[0] must be a non-empty string, got 1
            "worker_loaders": [ { "binding": 1 } ]                 | wrangler.jsonc: worker_loaders[0].binding must be a non-empty string, got 1
            "services": [ { "binding": "S" } ]                     | wrangler.jsonc: services[0].service is required
            "rules": [ { "type": "Markdown", "globs": ["**/*.md"] } ] | wrangler.jsonc: rules[0].type must be one of ESModule, CommonJS, Text, Data, CompiledWasm, json, got "Markdown"
            "rules": [ { "type": "PythonModule", "globs": ["**/*.py"] } ] | wrangler.jsonc: rules[0].type 'PythonModule' is not supported by Bulwark
            "rules": [ { "type": "Text", "globs": [] } ]           | wrangler.jsonc: rules[0].globs must be a non-empty array of globs, got an array
            "rules": [ { "type": "Text", "globs": ["{a,b"] } ]     | wrangler.jsonc: rules[0].globs[0] must be a glob ('{' without '}'), got "{a,b"
            "rules": [ { "type": "Text", "globs": ["*.md"], "fallthrough": 1 } ] | wrangler.jsonc: rules[0].fallthrough must be true or false, got 1
            "vars": { "LOADER": "x" }, "worker_loaders": [ { "binding": "LOADER" } ] | wrangler.jsonc: binding name 'LOADER' is used by both vars.LOADER and worker_loaders[0].binding
            """)
    void rejects(String keys, String message) {
        StringBuilder json = new StringBuilder("{ \"main\": \"index.js\"");
        if (!keys.startsWith("\"name\"")) json.append(", \"name\": \"w\"");
        if (!keys.startsWith("\"compatibility_date\"")) json.append(", \"compatibility_date\": \"2025-09-01\"");
        project(dir, json.append(", ").append(keys).append(" }").toString());

        assertThatThrownBy(() -> ProjectLoader.load(dir))
                .isInstanceOf(ConfigException.class)
                .hasMessage(message);
    }

    @Test
    void errors_in_bulwark_toml_name_bulwark_toml() {
        project(dir, "{ \"name\": \"w\", \"main\": \"index.js\", \"compatibility_date\": \"2025-09-01\" }");
        write(dir, "bulwark.toml", "[limits]\nwall_ms = \"1s\"\n");

        assertThatThrownBy(() -> ProjectLoader.load(dir))
                .isInstanceOf(ConfigException.class)
                .hasMessage("bulwark.toml: limits.wall_ms must be a positive integer, got \"1s\"");
    }

    @Test
    void errors_in_wrangler_toml_call_tables_tables() {
        write(dir, "wrangler.toml", "name = \"w\"\nmain = \"index.js\"\nvars = [1]\n");
        write(dir, "index.js", "export default {};");

        assertThatThrownBy(() -> ProjectLoader.load(dir))
                .isInstanceOf(ConfigException.class)
                .hasMessage("wrangler.toml: vars must be a table, got an array");
    }

    @Test
    void a_syntax_error_names_file_line_and_column() {
        project(dir, "{\n  \"name\": \"w\",\n  \"main\" \"index.js\"\n}");

        assertThatThrownBy(() -> ProjectLoader.load(dir))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("wrangler.jsonc:3:");
    }

    @Test
    void a_duplicate_key_is_an_error() {
        project(dir, "{ \"name\": \"w\", \"name\": \"v\", \"main\": \"index.js\" }");

        assertThatThrownBy(() -> ProjectLoader.load(dir))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("wrangler.jsonc:1:")
                .hasMessageContaining("Duplicate field 'name'");
    }

    @Test
    void a_toml_syntax_error_names_the_file_and_line() {
        write(dir, "wrangler.toml", "name = \"w\"\nmain = \n");

        assertThatThrownBy(() -> ProjectLoader.load(dir))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("wrangler.toml:2:");
    }

    @Test
    void a_top_level_that_is_not_an_object_is_an_error() {
        project(dir, "[]");

        assertThatThrownBy(() -> ProjectLoader.load(dir))
                .isInstanceOf(ConfigException.class)
                .hasMessage("wrangler.jsonc: the top level must be an object, not array");
    }

    @Test
    void a_directory_without_a_wrangler_file_is_an_error() {
        assertThatThrownBy(() -> ProjectLoader.load(dir))
                .isInstanceOf(ConfigException.class)
                .hasMessage(dir + ": no wrangler.jsonc, wrangler.json, wrangler.toml found");
    }

    @Test
    void a_missing_directory_is_an_error() {
        assertThatThrownBy(() -> ProjectLoader.load(dir.resolve("absent")))
                .isInstanceOf(ConfigException.class)
                .hasMessage(dir.resolve("absent") + ": not a directory");
    }
}
