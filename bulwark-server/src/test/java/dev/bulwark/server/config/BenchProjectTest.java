package dev.bulwark.server.config;

import dev.bulwark.sandbox.worker.ModuleType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static dev.bulwark.server.config.Fixtures.copyResource;
import static org.assertj.core.api.Assertions.assertThat;

/** The benchmark's Workers project (shared/bench/worker) loads as it is, without warnings. */
class BenchProjectTest {

    @Test
    void loads_durable_objects_migrations_and_worker_loaders_without_warnings(@TempDir Path dir) throws ConfigException {
        copyResource("bench/wrangler.jsonc", dir, "wrangler.jsonc");
        copyResource("bench/front.js", dir, "front.js");

        ProjectConfig config = ProjectLoader.load(dir);

        assertThat(config.warnings()).isEmpty();
        assertThat(config.name()).isEqualTo("bench-front");
        assertThat(config.compatibilityDate()).isEqualTo("2025-09-01");
        assertThat(config.durableObjects()).containsExactly(new DurableObjectBinding("COUNTER", "Counter", null));
        assertThat(config.migrations()).containsExactly(
                new Migration("v1", List.of("Counter"), List.of(), List.of(), List.of()));
        assertThat(config.workerLoaders()).containsExactly(new WorkerLoaderBinding("LOADER"));
        assertThat(config.services()).isEmpty();
        assertThat(config.bundle().mainModule()).isEqualTo("front.js");
        assertThat(config.bundle().modules()).containsOnlyKeys("front.js");
        assertThat(config.bundle().modules().get("front.js").type()).isEqualTo(ModuleType.JS);
        assertThat(config.settings()).isEqualTo(Settings.of(Settings.defaultDataDir(dir), "bench-front"));
    }
}
