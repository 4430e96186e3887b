package dev.bulwark.objects.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqlTest {

    @TempDir Path dir;
    ObjectStorage s;

    @BeforeEach
    void open() {
        s = ObjectStorage.open(dir.resolve("o.sqlite"), StorageOptions.defaults());
    }

    @AfterEach
    void close() {
        s.close();
    }

    static List<List<Object>> all(SqlCursor c) {
        List<List<Object>> rows = new ArrayList<>();
        for (List<Object> r = c.next(); r != null; r = c.next()) rows.add(r);
        return rows;
    }

    @Test
    void valuesComeBackAsNullLongDoubleStringBytes() {
        SqlCursor c = s.exec("SELECT NULL AS n, 42 AS i, 9007199254740993 AS big, 1.5 AS d, 'héllo' AS t, x'00ff' AS b",
                List.of());
        assertThat(c.columnNames()).containsExactly("n", "i", "big", "d", "t", "b");
        List<Object> row = c.next();
        assertThat(row.get(0)).isNull();
        assertThat(row.get(1)).isEqualTo(42L);
        assertThat(row.get(2)).isEqualTo(9007199254740993L);
        assertThat(row.get(3)).isEqualTo(1.5);
        assertThat(row.get(4)).isEqualTo("héllo");
        assertThat((byte[]) row.get(5)).containsExactly(0, 0xff);
        assertThat(c.next()).isNull();
        assertThat(c.isDone()).isTrue();
    }

    @Test
    void aRepeatedQuerySeesTheColumnsOfTheSchemaAsItIsNow() {
        s.exec("CREATE TABLE t (a, b)", List.of());
        s.exec("INSERT INTO t VALUES (1, 2)", List.of());
        assertThat(s.exec("SELECT * FROM t", List.of()).columnNames()).containsExactly("a", "b");
        s.exec("ALTER TABLE t RENAME COLUMN b TO c", List.of());
        assertThat(s.exec("SELECT * FROM t", List.of()).columnNames()).containsExactly("a", "c");
        s.exec("ALTER TABLE t ADD COLUMN d DEFAULT 4", List.of());
        SqlCursor c = s.exec("SELECT * FROM t", List.of());
        assertThat(c.columnNames()).containsExactly("a", "c", "d");
        assertThat(c.next()).containsExactly(1L, 2L, 4L);
        s.commit();
        // A rollback undoes a schema change: the names go back with it.
        s.exec("ALTER TABLE t RENAME COLUMN a TO z", List.of());
        assertThat(s.exec("SELECT * FROM t", List.of()).columnNames()).containsExactly("z", "c", "d");
        s.rollback();
        assertThat(s.exec("SELECT * FROM t", List.of()).columnNames()).containsExactly("a", "c", "d");
        // A rolled back transactionSync too.
        assertThatThrownBy(() -> s.transactionSync(() -> {
            s.exec("ALTER TABLE t RENAME COLUMN a TO y", List.of());
            assertThat(s.exec("SELECT * FROM t", List.of()).columnNames()).containsExactly("y", "c", "d");
            throw new IllegalStateException("undo");
        })).hasMessage("undo");
        assertThat(s.exec("SELECT * FROM t", List.of()).columnNames()).containsExactly("a", "c", "d");
        // Several statements in one exec, the DDL not last.
        s.exec("ALTER TABLE t RENAME COLUMN c TO x; SELECT 1", List.of());
        assertThat(s.exec("SELECT * FROM t", List.of()).columnNames()).containsExactly("a", "x", "d");
        // deleteAll drops the table; a new one of that name has other columns.
        s.deleteAll(false);
        s.exec("CREATE TABLE t (q)", List.of());
        assertThat(s.exec("SELECT * FROM t", List.of()).columnNames()).containsExactly("q");
    }

    @Test
    void anInsertReturningClosedEarlyCountsItsRowsWritten() {
        s.exec("CREATE TABLE t (a)", List.of());
        SqlCursor c = s.exec("INSERT INTO t VALUES (1), (2), (3) RETURNING a", List.of());
        assertThat(c.next()).containsExactly(1L);
        c.close();
        assertThat(c.rowsWritten()).isEqualTo(3);
        assertThat(all(s.exec("SELECT a FROM t", List.of()))).hasSize(3);
    }

    @Test
    void bindingsOfEveryTypeRoundTrip() {
        s.exec("CREATE TABLE t (a, b, c, d, e)", List.of());
        s.exec("INSERT INTO t VALUES (?, ?, ?, ?, ?)", java.util.Arrays.asList(null, 7L, 2.25, "x", new byte[] {1, 2}));
        List<Object> row = s.exec("SELECT * FROM t", List.of()).next();
        assertThat(row.subList(0, 4)).containsExactly(null, 7L, 2.25, "x");
        assertThat((byte[]) row.get(4)).containsExactly(1, 2);
    }

    @Test
    void rowsWrittenCountsChangedRowsAndRowsReadCountsReturnedRows() {
        SqlCursor create = s.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", List.of());
        assertThat(create.rowsWritten()).isZero();
        SqlCursor ins = s.exec("INSERT INTO t (v) VALUES ('a'), ('b'), ('c')", List.of());
        assertThat(ins.rowsWritten()).isEqualTo(3);
        assertThat(ins.columnNames()).isEmpty();
        assertThat(ins.next()).isNull();
        SqlCursor sel = s.exec("SELECT v FROM t ORDER BY id", List.of());
        assertThat(sel.rowsRead()).isZero();
        sel.next();
        assertThat(sel.rowsRead()).isEqualTo(1);
        assertThat(all(sel)).hasSize(2);
        assertThat(sel.rowsRead()).isEqualTo(3);
        assertThat(sel.rowsWritten()).isZero();
        SqlCursor upd = s.exec("UPDATE t SET v = 'z' WHERE id >= 2 RETURNING id", List.of());
        assertThat(all(upd)).containsExactly(List.of(2L), List.of(3L));
        assertThat(upd.rowsWritten()).isEqualTo(2);
    }

    @Test
    void aRepeatedInsertCountsOnlyItsOwnRowsWhateverRanBetween() {
        // The runner reuses the change total the previous exec left (one sqlite3_total_changes
        // per INSERT instead of two): every other write in between must still be left out.
        s.exec("CREATE TABLE t (v UNIQUE)", List.of());
        s.exec("CREATE TABLE log (v)", List.of());
        s.exec("CREATE TRIGGER tl AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.v); END", List.of());
        s.commit();
        String ins = "INSERT INTO t VALUES (?)";
        List<Long> written = new ArrayList<>();
        java.util.function.LongConsumer insert = v -> {
            SqlCursor c = s.exec(ins, List.of(v));
            written.add(c.rowsWritten());
            assertThat(c.rowsRead()).isEqualTo(c.rowsWritten());
        };
        insert.accept(1);
        insert.accept(2);
        s.put("k", new byte[] {1});                 // a KV write between two runs
        insert.accept(3);
        s.put(java.util.Map.of("a", new byte[] {1}, "b", new byte[] {2}));
        insert.accept(4);
        SqlCursor returning = s.exec("INSERT INTO log VALUES (10), (11), (12) RETURNING v", List.of());
        assertThat(returning.next()).containsExactly(10L); // left open: its rows count when it ends
        insert.accept(5);
        returning.close();
        insert.accept(6);
        assertThatThrownBy(() -> s.exec(ins, List.of(6L))).hasMessageContaining("UNIQUE");
        insert.accept(7);
        s.setAlarm(1_000L);
        insert.accept(8);
        s.transactionSync(() -> {
            insert.accept(9);
            return null;
        });
        s.deleteAlarm();
        insert.accept(10);
        s.delete("k");
        insert.accept(11);
        s.exec("DELETE FROM log", List.of());       // another statement, not cached before
        insert.accept(12);
        s.rollback();
        insert.accept(13);
        assertThat(written).containsExactly(2L, 2L, 2L, 2L, 2L, 2L, 2L, 2L, 2L, 2L, 2L, 2L, 2L);
    }

    // Cloudflare: cursor.rowsWritten is "the number of rows written so far as part of this SQL
    // query"; workerd counts it per statement (a counter of the statement's own). A RETURNING
    // cursor left open while other execs and KV writes run counts only its own rows.
    @Test
    void anOpenReturningCursorCountsOnlyItsOwnRowsWhileOthersWrite() {
        s.exec("CREATE TABLE t (a)", List.of());
        s.exec("CREATE TABLE log (v)", List.of());
        SqlCursor returning = s.exec("INSERT INTO t VALUES (1), (2), (3) RETURNING a", List.of());
        assertThat(returning.next()).containsExactly(1L);
        SqlCursor other = s.exec("INSERT INTO log VALUES (10), (11)", List.of());
        assertThat(other.rowsWritten()).isEqualTo(2);
        s.put("k", new byte[] {1});
        SqlCursor cached = s.exec("INSERT INTO log VALUES (10), (11)", List.of()); // the cached statement's path
        assertThat(cached.rowsWritten()).isEqualTo(2);
        assertThat(all(returning)).containsExactly(List.of(2L), List.of(3L));
        assertThat(returning.rowsWritten()).isEqualTo(3);
        assertThat(returning.rowsRead()).isEqualTo(3 + 3);
        SqlCursor after = s.exec("INSERT INTO log VALUES (12)", List.of());
        assertThat(after.rowsWritten()).isEqualTo(1);
    }

    @Test
    void twoOpenReturningCursorsClosedInTheOtherOrderEachCountTheirOwnRows() {
        s.exec("CREATE TABLE t (a)", List.of());
        s.exec("CREATE TABLE log (v)", List.of());
        s.exec("INSERT INTO log VALUES (1), (2), (3), (4)", List.of());
        SqlCursor inserted = s.exec("INSERT INTO t VALUES (1), (2) RETURNING a", List.of());
        assertThat(inserted.next()).containsExactly(1L);
        SqlCursor updated = s.exec("UPDATE log SET v = v + 10 WHERE v <= 3 RETURNING v", List.of());
        assertThat(updated.next()).isNotNull();
        SqlCursor deleted = s.exec("DELETE FROM log WHERE v = 4", List.of());
        assertThat(deleted.rowsWritten()).isEqualTo(1);
        assertThat(all(inserted)).containsExactly(List.of(2L)); // read to its end while the other is open
        assertThat(inserted.rowsWritten()).isEqualTo(2);
        s.exec("INSERT INTO t VALUES (5), (6), (7), (8)", List.of());
        updated.close();                                    // closed early
        assertThat(updated.rowsWritten()).isEqualTo(3);
        assertThat(all(s.exec("SELECT v FROM log ORDER BY v", List.of())))
                .containsExactly(List.of(11L), List.of(12L), List.of(13L));
    }

    @Test
    void anOpenCursorOfSeveralStatementsCountsAllItsStatementsAndTheirTriggersOnly() {
        s.exec("CREATE TABLE t (a)", List.of());
        s.exec("CREATE TABLE log (v)", List.of());
        s.exec("CREATE TRIGGER tl AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.a); END", List.of());
        // 1 row + its trigger's, then 2 rows + their triggers': 6 rows written by this exec.
        SqlCursor c = s.exec("INSERT INTO t VALUES (9); INSERT INTO t VALUES (7), (8) RETURNING a", List.of());
        assertThat(c.next()).containsExactly(7L);
        SqlCursor other = s.exec("INSERT INTO t VALUES (100)", List.of());
        assertThat(other.rowsWritten()).isEqualTo(2);
        s.setAlarm(1_000L);
        c.close();
        assertThat(c.rowsWritten()).isEqualTo(6);
    }

    @Test
    void multipleStatementsRunInOrderAndTheCursorIsTheLast() {
        SqlCursor c = s.exec("CREATE TABLE t (v); INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);"
                + " SELECT sum(v) AS s FROM t;", List.of());
        assertThat(c.columnNames()).containsExactly("s");
        assertThat(c.next()).containsExactly(3L);
        assertThat(c.rowsWritten()).isEqualTo(2);
    }

    @Test
    void bindingsGoToTheLastStatementOnly() {
        s.exec("CREATE TABLE t (v)", List.of());
        SqlCursor c = s.exec("INSERT INTO t VALUES (1); SELECT count(*) FROM t WHERE v = ?", List.of(1L));
        assertThat(c.next()).containsExactly(1L);
        assertThatThrownBy(() -> s.exec("INSERT INTO t VALUES (?); SELECT 1", List.of(1L)))
                .hasMessage("When executing multiple SQL statements in a single call, only the last statement "
                        + "can have parameters.");
    }

    @Test
    void wrongBindingCountIsAnError() {
        assertThatThrownBy(() -> s.exec("SELECT ?, ?", List.of(1L)))
                .hasMessage("Wrong number of parameter bindings for SQL query.");
    }

    @Test
    void semicolonsInStringsCommentsAndTriggersDoNotSplit() {
        s.exec("CREATE TABLE t (v TEXT); CREATE TABLE log (v TEXT);"
                + " CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.v || ';'); END;"
                + " INSERT INTO t VALUES ('a;b') -- ; not a statement\n; /* ; */ SELECT 1", List.of());
        assertThat(all(s.exec("SELECT v FROM log", List.of()))).containsExactly(List.of("a;b;"));
    }

    @Test
    void commentsAloneAfterTheLastSemicolonAreAnEmptyStatement() {
        // As workerd (sql-test.js): it prepares the rest after each ';'.
        assertThatThrownBy(() -> s.exec("SELECT 1; SELECT 2; -- trailing comment", List.of()))
                .hasMessage("SQL code did not contain a statement.");
        assertThatThrownBy(() -> s.exec("SELECT 1; /* c */ ", List.of()))
                .hasMessage("SQL code did not contain a statement.");
        assertThat(all(s.exec("SELECT 1 -- no ';' before it", List.of()))).containsExactly(List.of(1L));
        assertThat(all(s.exec("SELECT 1; -- c\n SELECT 2;\n\t", List.of()))).containsExactly(List.of(2L));
    }

    @Test
    void sqliteErrorsCarrySqlitesMessage() {
        assertThatThrownBy(() -> s.exec("SELECT * FROM missing", List.of()))
                .isInstanceOf(StorageException.class)
                .hasMessage("no such table: missing: SQLITE_ERROR");
        s.exec("CREATE TABLE u (k UNIQUE)", List.of());
        s.exec("INSERT INTO u VALUES (1)", List.of());
        assertThatThrownBy(() -> s.exec("INSERT INTO u VALUES (1)", List.of()))
                .hasMessageStartingWith("UNIQUE constraint failed: u.k: SQLITE_CONSTRAINT")
                .extracting(e -> ((StorageException) e).kind()).isEqualTo(StorageException.Kind.SQL);
        assertThatThrownBy(() -> s.exec("   ", List.of())).hasMessage("SQL code did not contain a statement.");
    }

    @Test
    void aFailedStatementKeepsTheEarlierWritesOfTheTurn() {
        s.exec("CREATE TABLE u (k UNIQUE)", List.of());
        s.exec("INSERT INTO u VALUES (1)", List.of());
        assertThatThrownBy(() -> s.exec("INSERT INTO u VALUES (1)", List.of())).isInstanceOf(StorageException.class);
        s.commit();
        assertThat(s.exec("SELECT count(*) FROM u", List.of()).next()).containsExactly(1L);
    }

    @Test
    void rowsLargerThanCloudflares2MiBAreAccepted() {
        s.exec("CREATE TABLE big (b)", List.of());
        s.exec("INSERT INTO big VALUES (?)", List.of(new byte[3 << 20]));
        s.commit();
        assertThat(s.exec("SELECT length(b) FROM big", List.of()).next()).containsExactly((long) (3 << 20));
    }

    @Test
    void pragmasCloudflareAllowsWork() {
        s.exec("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)", List.of());
        assertThat(all(s.exec("PRAGMA table_info(t)", List.of()))).hasSize(2);
        assertThat(all(s.exec("PRAGMA table_list", List.of()))).isNotEmpty();
        s.exec("PRAGMA foreign_keys = ON", List.of());
        assertThat(all(s.exec("PRAGMA index_list('t')", List.of()))).isEmpty();
        assertThat(all(s.exec("PRAGMA quick_check", List.of()))).containsExactly(List.of("ok"));
        assertThat(all(s.exec("SELECT name FROM pragma_table_info('t')", List.of())))
                .containsExactly(List.of("a"), List.of("b"));
    }

    @Test
    void databaseSizeGrowsWithData() {
        long empty = s.databaseSize();
        s.exec("CREATE TABLE t (b)", List.of());
        s.exec("INSERT INTO t VALUES (zeroblob(100000))", List.of());
        s.commit();
        assertThat(s.databaseSize()).isGreaterThanOrEqualTo(empty + 100000).isEqualTo(s.databaseSize());
        assertThat(s.databaseSize() % Sqlite.PAGE_SIZE).isZero();
    }

    @Test
    void foreignKeysAreEnforcedAsInWorkerdAndDeferredOnesAtTheCommit() {
        s.exec("CREATE TABLE users (id INTEGER PRIMARY KEY)", List.of());
        s.exec("CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id))", List.of());
        s.commit();
        assertThatThrownBy(() -> s.exec("INSERT INTO posts (user_id) VALUES (1)", List.of()))
                .isInstanceOf(StorageException.class)
                .hasMessageStartingWith("FOREIGN KEY constraint failed");
        s.rollback();
        // The object cannot switch enforcement off: its statements run inside the turn's transaction.
        s.exec("PRAGMA foreign_keys = OFF", List.of());
        assertThatThrownBy(() -> s.exec("INSERT INTO posts (user_id) VALUES (1)", List.of()))
                .hasMessageStartingWith("FOREIGN KEY constraint failed");
        s.rollback();
        // defer_foreign_keys moves the check to the commit: out-of-order inserts that end valid commit.
        s.exec("PRAGMA defer_foreign_keys = ON", List.of());
        s.exec("INSERT INTO posts (user_id) VALUES (2)", List.of());
        s.exec("INSERT INTO users (id) VALUES (2)", List.of());
        s.commit();
        assertThat(s.exec("SELECT count(*) FROM posts", List.of()).next()).containsExactly(1L);
        // ... and ones that end invalid fail the commit, which writes nothing.
        s.exec("PRAGMA defer_foreign_keys = ON", List.of());
        s.exec("INSERT INTO posts (user_id) VALUES (3)", List.of());
        assertThatThrownBy(s::commit).isInstanceOf(StorageException.class).hasMessageContaining("FOREIGN KEY constraint failed");
        s.rollback();
        assertThat(s.exec("SELECT count(*) FROM posts", List.of()).next()).containsExactly(1L);
    }

    @Test
    void pastTheDatabaseLimitTheTurnFailsClearlyAndIsNeverAcknowledged(@TempDir Path d2) {
        try (ObjectStorage small = ObjectStorage.open(d2.resolve("s.sqlite"),
                StorageOptions.defaults().withMaxDatabaseBytes(256 * 1024))) {
            small.exec("CREATE TABLE t (b)", List.of());
            small.exec("INSERT INTO t VALUES (zeroblob(50000))", List.of());
            small.commit();
            small.exec("INSERT INTO t VALUES (1)", List.of());
            assertThatThrownBy(() -> small.exec("INSERT INTO t VALUES (zeroblob(400000))", List.of()))
                    .isInstanceOf(StorageException.class)
                    .hasMessage("database or disk is full: SQLITE_FULL (this object's database is limited to 262144 bytes)")
                    .extracting(e -> ((StorageException) e).kind()).isEqualTo(StorageException.Kind.FULL);
            // SQLite rolled the whole transaction back: later writes of the turn are refused and
            // commit() fails, so the output gate never acknowledges the lost write.
            assertThatThrownBy(() -> small.put("k", new byte[] {1}))
                    .extracting(e -> ((StorageException) e).kind()).isEqualTo(StorageException.Kind.STATE);
            assertThatThrownBy(small::commit)
                    .hasMessageStartingWith("the writes of this event were rolled back after an earlier error")
                    .extracting(e -> ((StorageException) e).kind()).isEqualTo(StorageException.Kind.STATE);
            // The next turn starts clean from the last commit.
            assertThat(small.exec("SELECT count(*) FROM t", List.of()).next()).containsExactly(1L);
            assertThatThrownBy(() -> small.put("big", new byte[400_000]))
                    .extracting(e -> ((StorageException) e).kind()).isEqualTo(StorageException.Kind.FULL);
            small.rollback();
            small.exec("INSERT INTO t VALUES (2)", List.of());
            small.commit();
            assertThat(small.exec("SELECT count(*) FROM t", List.of()).next()).containsExactly(2L);
        }
    }

    @Test
    void theSameSqlRunsAgainWhileAnEarlierCursorOfItIsStillOpen() {
        s.exec("CREATE TABLE t (v)", List.of());
        for (long i = 0; i < 3; i++) s.exec("INSERT INTO t VALUES (?)", List.of(i));
        SqlCursor first = s.exec("SELECT v FROM t ORDER BY v", List.of());
        assertThat(first.next()).containsExactly(0L);
        SqlCursor second = s.exec("SELECT v FROM t ORDER BY v", List.of());
        assertThat(all(second)).containsExactly(List.of(0L), List.of(1L), List.of(2L));
        assertThat(all(first)).containsExactly(List.of(1L), List.of(2L));
        SqlCursor third = s.exec("SELECT v FROM t ORDER BY v", List.of());
        assertThat(all(third)).hasSize(3);
    }

    @Test
    void statementsStayCorrectAcrossCacheEvictionAndSchemaChanges() {
        s.exec("CREATE TABLE t (v)", List.of());
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < SqlRunner.CACHE_SIZE * 2; i++) {
                s.exec("INSERT INTO t VALUES (" + i + ")", List.of());
            }
        }
        assertThat(all(s.exec("SELECT count(*) FROM t", List.of()))).containsExactly(List.of(4L * SqlRunner.CACHE_SIZE));
        s.exec("DROP TABLE t", List.of());
        assertThatThrownBy(() -> s.exec("SELECT count(*) FROM t", List.of())).hasMessage("no such table: t: SQLITE_ERROR");
        s.exec("CREATE TABLE t (a, b)", List.of());
        s.exec("INSERT INTO t VALUES (1, 2)", List.of());
        assertThat(s.exec("SELECT count(*) FROM t", List.of()).next()).containsExactly(1L);
    }
}
