package dev.bulwark.server.config;

import dev.bulwark.objects.storage.Durability;
import dev.bulwark.objects.storage.StorageOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static dev.bulwark.server.config.Fixtures.project;
import static dev.bulwark.server.config.Fixtures.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code [storage]} table: every durable object's durability, largest value and largest database. */
class StorageSettingsTest {

    @TempDir
    Path dir;

    private Settings load(String toml) throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01" }""");
        write(dir, "bulwark.toml", toml);
        return ProjectLoader.load(dir).settings();
    }

    private void refused(String toml, String... fragments) {
        assertThatThrownBy(() -> load(toml)).isInstanceOf(ConfigException.class)
                .satisfies(e -> {
                    for (String f : fragments) assertThat(e.getMessage()).contains(f);
                    assertThat(e.getMessage()).doesNotContain("\n");
                });
    }

    @Test
    void without_a_storage_table_the_defaults_apply() throws ConfigException {
        StorageOptions s = load("").storage();
        assertThat(s).isEqualTo(StorageOptions.defaults());
        assertThat(s.maxValueBytes()).isEqualTo(32L << 20);
        assertThat(s.maxDatabaseBytes()).isEqualTo(10_000_000_000L);
        assertThat(s.durability()).isEqualTo(Durability.NORMAL);
    }

    @Test
    void every_key_is_read() throws ConfigException {
        StorageOptions s = load("""
                [storage]
                durability = "full"
                max_value_bytes = 1048576
                max_database_bytes = 2097152
                """).storage();
        assertThat(s).isEqualTo(new StorageOptions(1L << 20, 2L << 20, Durability.FULL));
        assertThat(load("""
                [storage]
                durability = "normal"
                """).storage().durability()).isEqualTo(Durability.NORMAL);
    }

    @Test
    void the_bounds_are_inclusive() throws ConfigException {
        StorageOptions low = load("""
                [storage]
                max_value_bytes = 1024
                max_database_bytes = 1048576
                """).storage();
        assertThat(low.maxValueBytes()).isEqualTo(1024);
        assertThat(low.maxDatabaseBytes()).isEqualTo(1L << 20);
        StorageOptions high = load("""
                [storage]
                max_value_bytes = 67108864
                max_database_bytes = 1099511627776
                """).storage();
        assertThat(high.maxValueBytes()).isEqualTo(64L << 20);
        assertThat(high.maxDatabaseBytes()).isEqualTo(1L << 40);
    }

    @Test
    void values_out_of_range_or_of_the_wrong_kind_are_refused_on_one_line() {
        refused("[storage]\ndurability = \"off\"\n", "storage.durability", "\"normal\" or \"full\"");
        refused("[storage]\ndurability = 1\n", "storage.durability");
        refused("[storage]\nmax_value_bytes = 1023\n", "storage.max_value_bytes", "1024 (1 KiB) to 67108864 (64 MiB)");
        refused("[storage]\nmax_value_bytes = 67108865\n", "storage.max_value_bytes");
        refused("[storage]\nmax_value_bytes = \"32MB\"\n", "storage.max_value_bytes");
        refused("[storage]\nmax_database_bytes = 1048575\n", "storage.max_database_bytes", "1048576 (1 MiB)");
        refused("[storage]\nmax_database_bytes = 1099511627777\n", "storage.max_database_bytes");
        refused("[storage]\nmax_database_bytes = -1\n", "storage.max_database_bytes");
        refused("[storage]\nsynchronous = \"full\"\n", "synchronous", "is not a Bulwark setting", "durability");
    }
}
