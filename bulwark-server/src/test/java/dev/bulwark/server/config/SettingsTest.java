package dev.bulwark.server.config;

import dev.bulwark.sandbox.worker.Limits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static dev.bulwark.server.config.Fixtures.project;
import static dev.bulwark.server.config.Fixtures.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Bulwark's own settings: defaults, the bulwark section, bulwark.toml, and the CLI overrides. */
class SettingsTest {

    @TempDir
    Path dir;

    @Test
    void without_settings_every_default_applies() throws ConfigException {
        project(dir, """
                { "name": "hello", "main": "index.js", "compatibility_date": "2025-09-01" }""");

        Settings settings = ProjectLoader.load(dir).settings();

        assertThat(settings.host()).isEqualTo("127.0.0.1");
        assertThat(settings.port()).isEqualTo(8787);
        assertThat(settings.dataDir()).isEqualTo(dir.resolve(".bulwark/data"));
        assertThat(settings.tenant()).isEqualTo("hello");
        assertThat(settings.limits()).isEqualTo(Limits.DEFAULTS);
        assertThat(settings.sandboxes()).isEqualTo(SandboxSettings.DEFAULTS);
        assertThat(settings.egress()).isEqualTo(new EgressSettings(List.of(), false));
        assertThat(settings).isEqualTo(Settings.of(Settings.defaultDataDir(dir), "hello"));
    }

    @Test
    void front_door_max_concurrent_requests_is_read_and_must_be_positive() throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01",
                  "bulwark": { "front_door": { "max_concurrent_requests": 7 } } }""");
        assertThat(ProjectLoader.load(dir).settings().frontDoor().maxConcurrentRequests()).isEqualTo(7);

        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01",
                  "bulwark": { "front_door": { "max_concurrent_requests": 0 } } }""");
        assertThatThrownBy(() -> ProjectLoader.load(dir)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("front_door.max_concurrent_requests");
    }

    @Test
    void front_door_websocket_buffer_bytes_is_read_defaults_to_a_quarter_of_the_heap_and_must_be_at_least_1_MiB() throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01" }""");
        assertThat(ProjectLoader.load(dir).settings().frontDoor().webSocketBufferBytes())
                .isEqualTo(Math.max(64L << 20, Runtime.getRuntime().maxMemory() / 4));

        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01",
                  "bulwark": { "front_door": { "websocket_buffer_bytes": 33554432 } } }""");
        assertThat(ProjectLoader.load(dir).settings().frontDoor().webSocketBufferBytes()).isEqualTo(32L << 20);

        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01",
                  "bulwark": { "front_door": { "websocket_buffer_bytes": 1000 } } }""");
        assertThatThrownBy(() -> ProjectLoader.load(dir)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("front_door.websocket_buffer_bytes");
    }

    @Test
    void wrangler_top_level_limits_cpu_ms_sets_the_cpu_limit() throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01", "limits": { "cpu_ms": 25 } }""");

        ProjectConfig config = ProjectLoader.load(dir);

        assertThat(config.settings().limits().cpuMs()).isEqualTo(25);
        assertThat(config.warnings()).isEmpty();
    }

    @Test
    void the_bulwark_section_overrides_wrangler_limits_with_a_warning() throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01",
                  "limits": { "cpu_ms": 25 }, "bulwark": { "limits": { "cpu_ms": 30 } } }""");

        ProjectConfig config = ProjectLoader.load(dir);

        assertThat(config.settings().limits().cpuMs()).isEqualTo(30);
        assertThat(config.warnings()).containsExactly("wrangler.jsonc: bulwark.limits.cpu_ms overrides limits.cpu_ms");
    }

    @Test
    void bulwark_toml_settings_apply_and_win_over_the_bulwark_section_with_a_warning() throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01",
                  "bulwark": { "port": 9000, "host": "0.0.0.0", "limits": { "heap_mb": 64 } } }""");
        write(dir, "bulwark.toml", """
                port = 9100
                data_dir = "/var/lib/bulwark"

                [limits]
                heap_mb = 256
                subrequests = 0

                [egress]
                allow = ["API.Example.com"]
                allow_private_networks = true
                """);

        ProjectConfig config = ProjectLoader.load(dir);

        Settings settings = config.settings();
        assertThat(settings.port()).isEqualTo(9100);
        assertThat(settings.host()).isEqualTo("0.0.0.0");
        assertThat(settings.dataDir()).isEqualTo(Path.of("/var/lib/bulwark"));
        assertThat(settings.limits().heapMb()).isEqualTo(256);
        assertThat(settings.limits().subrequests()).isZero();
        assertThat(settings.egress()).isEqualTo(new EgressSettings(List.of("api.example.com"), true));
        assertThat(config.warnings()).containsExactly(
                "bulwark.toml: port overrides bulwark.port in wrangler.jsonc",
                "bulwark.toml: limits.heap_mb overrides bulwark.limits.heap_mb in wrangler.jsonc");
    }

    @Test
    void bulwark_toml_works_beside_a_wrangler_toml_too() throws ConfigException {
        write(dir, "wrangler.toml", """
                name = "w"
                main = "index.js"
                compatibility_date = "2025-09-01"

                [bulwark.sandboxes]
                pool_size = 8
                """);
        write(dir, "index.js", "export default {};");
        write(dir, "bulwark.toml", """
                [sandboxes]
                pool_size = 0
                rss_ceiling_mb = 512
                jvm_options = ["-XX:+UseSerialGC"]
                """);

        ProjectConfig config = ProjectLoader.load(dir);

        assertThat(config.settings().sandboxes()).isEqualTo(SandboxSettings.DEFAULTS.withRssCeilingMb(512).withPoolSize(0)
                .withJvmOptions(List.of("-XX:+UseSerialGC")));
        assertThat(config.warnings()).containsExactly(
                "bulwark.toml: sandboxes.pool_size overrides bulwark.sandboxes.pool_size in wrangler.toml");
    }

    @Test
    void sandbox_confinement_is_auto_unless_required_or_turned_off() throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01" }""");
        assertThat(ProjectLoader.load(dir).settings().sandboxes().confine()).isEqualTo(SandboxSettings.Confine.AUTO);

        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01",
                  "bulwark": { "sandboxes": { "confine": "require" } } }""");
        assertThat(ProjectLoader.load(dir).settings().sandboxes().confine()).isEqualTo(SandboxSettings.Confine.REQUIRE);

        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01",
                  "bulwark": { "sandboxes": { "confine": "maybe" } } }""");
        assertThatThrownBy(() -> ProjectLoader.load(dir)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("sandboxes.confine").hasMessageContaining("\"auto\", \"require\" or \"off\"");
    }

    @Test
    void data_dir_is_relative_to_the_project_directory() throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01", "bulwark": { "data_dir": "../state" } }""");

        assertThat(ProjectLoader.load(dir).settings().dataDir()).isEqualTo(dir.getParent().resolve("state"));
    }

    @Test
    void the_cli_overrides_port_and_data_directory() throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01", "bulwark": { "port": 9000 } }""");
        ProjectConfig config = ProjectLoader.load(dir);

        ProjectConfig overridden = config.withSettings(config.settings().withPort(18787).withDataDir(Path.of("/tmp/d")));

        assertThat(overridden.settings().port()).isEqualTo(18787);
        assertThat(overridden.settings().dataDir()).isEqualTo(Path.of("/tmp/d"));
        assertThat(overridden.settings().limits()).isEqualTo(config.settings().limits());
        assertThat(overridden.bundle()).isEqualTo(config.bundle());
        assertThatThrownBy(() -> config.settings().withPort(65_536)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void cli_overrides_given_to_load_apply_before_modules_are_collected() throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01" }""");
        write(dir, "cli-data/objects.json", "{}");

        ProjectConfig config = ProjectLoader.load(dir, s -> s.withPort(18787).withDataDir(dir.resolve("cli-data")));

        assertThat(config.settings().port()).isEqualTo(18787);
        assertThat(config.settings().dataDir()).isEqualTo(dir.resolve("cli-data"));
        assertThat(config.bundle().modules()).containsOnlyKeys("index.js");
    }

    @Test
    void websockets_per_object_is_a_sandboxes_setting_in_bulwark_toml() throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01" }""");
        write(dir, "bulwark.toml", """
                [sandboxes]
                websockets_per_object = 50
                """);

        assertThat(ProjectLoader.load(dir).settings().sandboxes().websocketsPerObject()).isEqualTo(50);
    }

    @Test
    void dormant_dynamic_workers_default_to_ten_seconds_idle_and_a_thousand_kept_and_may_be_off() throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01" }""");
        assertThat(ProjectLoader.load(dir).settings().sandboxes().dormant()).isEqualTo(new DormantWorkerSettings(10_000, 1_000));

        write(dir, "bulwark.toml", """
                [sandboxes]
                dynamic_workers_idle_isolate_ms = 0
                dynamic_workers_dormant_max = 0
                """);
        assertThat(ProjectLoader.load(dir).settings().sandboxes().dormant()).isEqualTo(new DormantWorkerSettings(0, 0));

        write(dir, "bulwark.toml", """
                [sandboxes]
                dynamic_workers_dormant_max = -1
                """);
        assertThatThrownBy(() -> ProjectLoader.load(dir)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("sandboxes.dynamic_workers_dormant_max");
    }

    @Test
    void object_storage_idle_ms_defaults_to_one_second_may_be_zero_and_not_negative() throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01" }""");
        assertThat(ProjectLoader.load(dir).settings().sandboxes().objectStorageIdleMs()).isEqualTo(1000);

        write(dir, "bulwark.toml", """
                [sandboxes]
                object_storage_idle_ms = 0
                """);
        assertThat(ProjectLoader.load(dir).settings().sandboxes().objectStorageIdleMs()).isZero();

        write(dir, "bulwark.toml", """
                [sandboxes]
                object_storage_idle_ms = -1
                """);
        assertThatThrownBy(() -> ProjectLoader.load(dir)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("sandboxes.object_storage_idle_ms");
    }

    @Test
    void session_sandboxes_default_to_one_per_session_sixteen_four_per_tenant_one_spare_and_are_read_from_bulwark_toml()
            throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01" }""");
        assertThat(ProjectLoader.load(dir).settings().sandboxes().sessions())
                .isEqualTo(new SessionSandboxSettings(SessionSandboxSettings.Per.SESSION, 16, 4, 10_000, 1, 300_000, 10_000));

        write(dir, "bulwark.toml", """
                [sandboxes]
                session_process = "run"
                session_max = 3
                session_max_per_tenant = 2
                session_wait_ms = 0
                session_spares = 0
                session_spare_idle_ms = 5000
                session_idle_ms = 0
                """);
        assertThat(ProjectLoader.load(dir).settings().sandboxes().sessions())
                .isEqualTo(new SessionSandboxSettings(SessionSandboxSettings.Per.RUN, 3, 2, 0, 0, 5000, 0));

        write(dir, "bulwark.toml", """
                [sandboxes]
                session_max = 0
                """);
        assertThatThrownBy(() -> ProjectLoader.load(dir)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("sandboxes.session_max");

        write(dir, "bulwark.toml", """
                [sandboxes]
                session_process = "tenant"
                """);
        assertThatThrownBy(() -> ProjectLoader.load(dir)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("sandboxes.session_process");
    }

    @Test
    void websockets_per_object_defaults_to_workers_number_and_must_be_positive() throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01" }""");
        assertThat(ProjectLoader.load(dir).settings().sandboxes().websocketsPerObject()).isEqualTo(32_768);

        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01",
                  "bulwark": { "sandboxes": { "websockets_per_object": 0 } } }""");
        assertThatThrownBy(() -> ProjectLoader.load(dir)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("sandboxes.websockets_per_object");
    }

    @Test
    void port_zero_means_any_free_port() throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01", "bulwark": { "port": 0 } }""");

        assertThat(ProjectLoader.load(dir).settings().port()).isZero();
    }

    @Test
    void egress_patterns_match_hosts() {
        EgressSettings egress = new EgressSettings(List.of("api.example.com", "*.example.org"), false);

        assertThat(egress.allowsHost("api.example.com")).isTrue();
        assertThat(egress.allowsHost("API.EXAMPLE.COM.")).isTrue();
        assertThat(egress.allowsHost("www.example.com")).isFalse();
        assertThat(egress.allowsHost("a.example.org")).isTrue();
        assertThat(egress.allowsHost("a.b.example.org")).isTrue();
        assertThat(egress.allowsHost("example.org")).isFalse();
        assertThat(egress.allowsHost("evilexample.org")).isFalse();
        assertThat(EgressSettings.NONE.allowsHost("example.com")).isFalse();
        assertThat(new EgressSettings(List.of("*"), false).allowsHost("anything.test")).isTrue();
    }
}
