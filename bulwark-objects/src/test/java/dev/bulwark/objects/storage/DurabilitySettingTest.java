package dev.bulwark.objects.storage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
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
            assertThat(pragma(normal, "journal_mode")).isEqualTo("wal");
            commitOneWrite(normal);
            assertThat(pragma(normal, "synchronous")).isEqualTo("1");
        }
    }

    @Test
    void aFreshWalRunsUnsyncedUntilItsFirstCommitThenNormal() throws SQLException {
        Path file = dir.resolve("fresh.sqlite");
        try (Sqlite db = new Sqlite(file, StorageOptions.defaults())) {
            // No WAL yet: the first commit would sync the new WAL's header and its directory.
            assertThat(db.unsyncedUntilFirstCommit()).isTrue();
            assertThat(pragma(db, "synchronous")).isEqualTo("0");
            assertThat(pragma(db, "wal_autocheckpoint")).isEqualTo("0");
            commitOneWrite(db);
            assertThat(db.unsyncedUntilFirstCommit()).isFalse();
            assertThat(pragma(db, "synchronous")).isEqualTo("1");
            assertThat(pragma(db, "wal_autocheckpoint"))
                    .isEqualTo(String.valueOf(StorageOptions.defaults().walCheckpointPages()));
        }
        // A clean close checkpoints and removes the WAL: the next open starts a fresh one again.
        assertThat(file.resolveSibling("fresh.sqlite-wal")).doesNotExist();
        try (Sqlite again = new Sqlite(file, StorageOptions.defaults())) {
            assertThat(again.unsyncedUntilFirstCommit()).isTrue();
            assertThat(again.queryLong("SELECT count(*) FROM t")).isEqualTo(1);
        }
    }

    @Test
    void aWalLeftWithFramesIsNormalAtOnce() throws Exception {
        Path file = dir.resolve("crashed.sqlite");
        Path copy = dir.resolve("copy.sqlite");
        try (Sqlite db = new Sqlite(file, StorageOptions.defaults())) {
            commitOneWrite(db);
            // What a kill -9 leaves: the database and a WAL with committed frames.
            Files.copy(file, copy);
            Files.copy(file.resolveSibling("crashed.sqlite-wal"), copy.resolveSibling("copy.sqlite-wal"));
        }
        assertThat(Files.size(copy.resolveSibling("copy.sqlite-wal"))).isGreaterThan(32);
        try (Sqlite db = new Sqlite(copy, StorageOptions.defaults())) {
            assertThat(db.unsyncedUntilFirstCommit()).isFalse();
            assertThat(pragma(db, "synchronous")).isEqualTo("1");
            assertThat(db.queryLong("SELECT count(*) FROM t")).isEqualTo(1);
        }
    }

    @Test
    void fullNeverRunsUnsynced() throws SQLException {
        try (Sqlite db = new Sqlite(dir.resolve("f.sqlite"), StorageOptions.defaults().withDurability(Durability.FULL))) {
            assertThat(db.unsyncedUntilFirstCommit()).isFalse();
            assertThat(pragma(db, "synchronous")).isEqualTo("2");
        }
    }

    private static void commitOneWrite(Sqlite db) throws SQLException {
        Transactions tx = new Transactions(db);
        tx.ensureOpen();
        db.exec("CREATE TABLE IF NOT EXISTS t (x)");
        db.exec("INSERT INTO t VALUES (1)");
        tx.commit();
    }

    @Test
    void theDatabaseLimitIsItsPageCount() throws SQLException {
        try (Sqlite db = new Sqlite(dir.resolve("small.sqlite"), StorageOptions.defaults().withMaxDatabaseBytes(1L << 20))) {
            assertThat(Long.parseLong(pragma(db, "max_page_count")) * Sqlite.PAGE_SIZE).isEqualTo(1L << 20);
        }
    }
}
