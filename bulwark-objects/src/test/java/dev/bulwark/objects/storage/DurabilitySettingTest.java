package dev.bulwark.objects.storage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.SQLException;

import static org.assertj.core.api.Assertions.assertThat;

/** What each {@link Durability} sets in SQLite, and the size limits the options give the connection. */
class DurabilitySettingTest {
    @TempDir
    Path dir;

    private static String pragma(Sqlite db, String name) throws SQLException {
        return db.queryStrings("PRAGMA " + name, 1).getFirst()[0];
    }

    @Test
    void fullSyncsEveryCommitAndNormalDoesNot() throws SQLException {
        // synchronous: 1 = NORMAL, 2 = FULL (https://sqlite.org/pragma.html#pragma_synchronous)
        try (Sqlite full = new Sqlite(dir.resolve("full.sqlite"), StorageOptions.defaults().withDurability(Durability.FULL))) {
            assertThat(pragma(full, "synchronous")).isEqualTo("2");
            assertThat(pragma(full, "journal_mode")).isEqualTo("wal");
        }
        try (Sqlite normal = new Sqlite(dir.resolve("normal.sqlite"), StorageOptions.defaults())) {
            assertThat(pragma(normal, "synchronous")).isEqualTo("1");
            assertThat(pragma(normal, "journal_mode")).isEqualTo("wal");
        }
    }

    @Test
    void theDatabaseLimitIsItsPageCount() throws SQLException {
        try (Sqlite db = new Sqlite(dir.resolve("small.sqlite"), StorageOptions.defaults().withMaxDatabaseBytes(1L << 20))) {
            assertThat(Long.parseLong(pragma(db, "max_page_count")) * Sqlite.PAGE_SIZE).isEqualTo(1L << 20);
        }
    }
}
