package dev.bulwark.objects.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The object's SQL attacks its own storage's reserved data and the files around it. */
class SqlGuardTest {

    @TempDir Path dir;
    ObjectStorage s;
    Path outside;

    @BeforeEach
    void open() {
        s = ObjectStorage.open(dir.resolve("o.sqlite"), StorageOptions.defaults());
        s.put("k", new byte[] {1, 2, 3});
        s.setAlarm(12345L);
        s.exec("CREATE TABLE mine (a)", List.of());
        s.commit();
        outside = dir.resolve("other.sqlite");
    }

    @AfterEach
    void reservedDataIsIntact() {
        s.rollback();
        assertThat(s.get("k")).containsExactly(1, 2, 3);
        assertThat(s.getAlarm()).isEqualTo(OptionalLong.of(12345L));
        assertThat(outside).doesNotExist();
        s.close();
        assertThat(dir.resolve("copy.sqlite")).doesNotExist();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        // reserved tables, however they are spelled
        "SELECT * FROM _bw_kv", "SELECT * FROM _cf_KV", "select * from _BW_KV", "SELECT * FROM \"_bw_kv\"",
        "SELECT * FROM `_bw_kv`", "SELECT * FROM [_bw_kv]", "SELECT * FROM '_bw_kv'", "SELECT * FROM main._bw_kv",
        "SELECT * FROM main . /* x */ _bw_kv", "SELECT * FROM/**/_bw_kv", "SELECT * FROM --\n_bw_kv",
        "SELECT * FROM \"_bw_\"\"kv\"", "SELECT * FROM _bw_kv\u00a0",
        "DROP TABLE _bw_alarm", "DELETE FROM _bw_kv", "UPDATE _bw_alarm SET time = 0",
        "INSERT INTO _bw_kv VALUES (x'6b', x'00', 0)", "REPLACE INTO \"_BW_ALARM\" VALUES (1, 0)",
        "ALTER TABLE _bw_kv RENAME TO stolen", "ALTER TABLE mine RENAME TO _bw_kv2", "CREATE TABLE _bw_x (a)",
        "CREATE TABLE _cf_x (a)", "CREATE TABLE _CF_x (a)", "CREATE TABLE _cF_x (a)", "CREATE INDEX _cf_i ON mine(a)", "CREATE INDEX i ON _bw_kv(value)",
        "CREATE TRIGGER t AFTER INSERT ON mine BEGIN DELETE FROM _bw_kv; END",
        "CREATE TRIGGER t AFTER INSERT ON mine BEGIN DELETE FROM '_bw_kv'; END",
        "CREATE VIEW v AS SELECT * FROM _bw_kv", "SELECT * FROM pragma_table_info('_bw_kv')",
        "SELECT 1; SELECT * FROM _bw_kv", "WITH x AS (SELECT * FROM _bw_kv) SELECT * FROM x",
        "SELECT * FROM mine WHERE 'a' LIKE \"_bw_kv\".key", "SELECT * FROM mine WHERE a LIKE _bw_kv",
        // other databases and files
        "ATTACH DATABASE 'other.sqlite' AS x", "attach '../other.sqlite' as o", "/* c */ ATTACH ':memory:' AS m",
        "ATTACH 'file:other.sqlite?mode=rwc' AS o", "DETACH x", "SELECT 1; ATTACH 'other.sqlite' AS y",
        "SELECT '/*'; ATTACH 'other.sqlite' AS y; SELECT '*/'", "SELECT \"--\"; ATTACH 'other.sqlite' AS y",
        "SELECT 1 /* ; */ ; ATTACH 'other.sqlite' AS y", "SELECT 1\u0000; ATTACH 'other.sqlite' AS y",
        "VACUUM INTO 'copy.sqlite'", "vacuum main into 'copy.sqlite'", "VACUUM",
        "SELECT load_extension('/tmp/evil.so')", "select LOAD_EXTENSION ('x')",
        // durability, journal and schema pragmas
        "PRAGMA journal_mode = DELETE", "PRAGMA synchronous = OFF", "PRAGMA writable_schema = ON",
        "PRAGMA main.journal_mode=OFF", "pragma Locking_Mode = NORMAL", "PRAGMA max_page_count = 99999999",
        "PRAGMA temp.foreign_keys = ON", "PRAGMA table_info(_bw_kv)", "PRAGMA table_info('_bw_kv')",
        "PRAGMA foreign_keys = 2", "PRAGMA query_only = 1", "PRAGMA mmap_size = 1", "PRAGMA page_size = 1024",
        "PRAGMA data_version = 1", "PRAGMA optimize = 'x'", "PRAGMA wal_checkpoint(TRUNCATE)",
        "PRAGMA journal_size_limit = 0", "PRAGMA cache_size = 1", "PRAGMA \"journal_mode\" = OFF",
        "PRAGMA user_version = 3", "PRAGMA schema_version = 1", "PRAGMA trusted_schema = ON",
        // transactions belong to the storage (a conflict ROLLBACK would end the implicit one)
        "BEGIN", "BEGIN IMMEDIATE", "COMMIT", "END", "ROLLBACK", "SAVEPOINT a", "RELEASE a",
        "INSERT OR ROLLBACK INTO mine VALUES (1)",
        "CREATE TRIGGER t BEFORE INSERT ON mine BEGIN SELECT RAISE(ROLLBACK, 'x'); END",
        "EXPLAIN BEGIN",
        // SQLite's own tables may be read, not written
        "INSERT INTO sqlite_sequence VALUES ('x', 1)", "DELETE FROM sqlite_sequence", "UPDATE sqlite_master SET sql = ''",
        "UPDATE main.sqlite_master SET name = 'x'", "DROP TABLE sqlite_stat1", "CREATE INDEX i ON sqlite_sequence(name)",
        "WITH a AS (SELECT 1) DELETE FROM sqlite_sequence", "SELECT * FROM sqlite_dbpage",
        "CREATE VIRTUAL TABLE v USING dbstat", "CREATE VIRTUAL TABLE v USING sqlite_dbpage",
        // the temp schema is outside the size limit
        "CREATE TEMP TABLE t AS SELECT * FROM sqlite_master", "create temporary table t (a)", "CREATE TABLE temp.t (a)",
        "CREATE TABLE \"temp\" . t (a)", "CREATE TEMP VIEW v AS SELECT 1", "CREATE TEMP TRIGGER t AFTER INSERT ON mine BEGIN SELECT 1; END",
        "CREATE INDEX temp.i ON mine(a)",
        // SQLite's own functions, as in workerd (what the build is and how it was compiled)
        "SELECT sqlite_version()", "SELECT Sqlite_Source_Id ()", "SELECT sqlite_compileoption_used('THREADSAFE')",
        "INSERT INTO mine SELECT x.a FROM mine AS x JOIN mine AS y ON sqlite_version() <> ''",
    })
    void refused(String sql) {
        assertThatThrownBy(() -> s.exec(sql, List.of()))
                .isInstanceOf(StorageException.class)
                .hasMessageEndingWith("SQLITE_AUTH")
                .extracting(e -> ((StorageException) e).kind()).isEqualTo(StorageException.Kind.AUTH);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SELECT 'a'';ATTACH ''other.sqlite'' AS y'", "SELECT 'prefix _bw_kv inside'", "SELECT name FROM sqlite_master",
        "INSERT INTO mine SELECT count(*) FROM sqlite_master", "CREATE TABLE copy AS SELECT name FROM sqlite_schema",
        "PRAGMA table_info(mine)", "PRAGMA main.table_info(mine)", "SELECT * FROM mine WHERE a = '--'",
        "CREATE VIRTUAL TABLE docs USING fts5(body)", "CREATE TABLE \"rollback\" (\"attach\")",
        "SELECT 1 -- ATTACH 'other.sqlite' AS y", "SELECT 1 /* VACUUM INTO 'copy.sqlite' */",
        "CREATE TABLE bw_kv (a)", "SELECT \"_bw\" FROM (SELECT 1 AS \"_bw\")",
        "PRAGMA foreign_keys", "PRAGMA foreign_keys = off", "PRAGMA quick_check(10)", "PRAGMA optimize",
        "EXPLAIN QUERY PLAN SELECT * FROM mine",
        "PRAGMA optimize(-1)", "PRAGMA optimize(0x7fffffff)", "PRAGMA optimize=0x10002", "PRAGMA quick_check(+5)",
        "SELECT * FROM mine AS sqlite_x", "SELECT abs(-1)",
        "SELECT name FROM sqlite_master WHERE name NOT LIKE '_cf_%'", "SELECT * FROM mine WHERE a GLOB \"_bw_*\"",
    })
    void allowed(String sql) {
        s.exec(sql, List.of()).close();
    }

    @Test
    void aRefusalSaysWhyAndThenWhatSQLiteSays() {
        // SQLite's authorizer message (workerd's), after the reason.
        assertThatThrownBy(() -> s.exec("PRAGMA page_size = 8192", List.of()))
                .hasMessage("PRAGMA page_size is not allowed with these arguments: not authorized: SQLITE_AUTH");
        assertThatThrownBy(() -> s.exec("SELECT sqlite_version()", List.of()))
                .hasMessage("not authorized to use function: sqlite_version: SQLITE_AUTH");
    }

    @Test
    void aReservedPrefixIsFineAsABoundValue() {
        s.exec("INSERT INTO mine VALUES (?)", List.of("_bw_kv"));
        assertThat(s.exec("SELECT a FROM mine", List.of()).next()).containsExactly("_bw_kv");
    }

    @Test
    void sqliteReallyAcceptsAStringWhereATableNameGoes() throws SQLException {
        // Why string literals are checked like names: without the guard this reads the table.
        s.close();
        try (Sqlite raw = new Sqlite(dir.resolve("o.sqlite"), StorageOptions.defaults());
             var ps = raw.prepare("SELECT count(*) FROM '_bw_kv'"); ResultSet rs = ps.executeQuery()) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getLong(1)).isEqualTo(1);
        }
        s = ObjectStorage.open(dir.resolve("o.sqlite"), StorageOptions.defaults());
    }

    @Test
    void theConnectionItselfCannotAttachEvenIfTheGuardWereBypassed() {
        s.close();
        try (Sqlite raw = new Sqlite(dir.resolve("o.sqlite"), StorageOptions.defaults())) {
            assertThatThrownBy(() -> raw.exec("ATTACH '" + outside + "' AS o"))
                    .hasMessageContaining("too many attached databases");
        }
        s = ObjectStorage.open(dir.resolve("o.sqlite"), StorageOptions.defaults());
    }

    @Test
    void noExtensionCanBeLoaded() {
        s.close();
        try (Sqlite raw = new Sqlite(dir.resolve("o.sqlite"), StorageOptions.defaults())) {
            assertThatThrownBy(() -> raw.queryLong("SELECT load_extension('/nonexistent')"))
                    .hasMessageContaining("not authorized");
        }
        s = ObjectStorage.open(dir.resolve("o.sqlite"), StorageOptions.defaults());
    }

    @Test
    void aSecondProcessOrConnectionCannotOpenALiveObjectsDatabase() throws Exception {
        // Exclusive locking: a second opener (another instance of the object) fails to read it.
        s.exec("SELECT 1", List.of()).close();
        s.commit();
        assertThatThrownBy(() -> ObjectStorage.open(dir.resolve("o.sqlite"), StorageOptions.defaults()))
                .isInstanceOf(StorageException.class)
                .hasMessage("database is locked: SQLITE_BUSY");
        assertThat(Files.exists(dir.resolve("o.sqlite"))).isTrue();
    }
}
