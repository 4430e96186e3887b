package dev.bulwark.objects.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TransactionTest {

    @TempDir Path dir;
    Path file;
    ObjectStorage s;

    @BeforeEach
    void open() {
        file = dir.resolve("o.sqlite");
        s = ObjectStorage.open(file, StorageOptions.defaults());
        s.exec("CREATE TABLE t (v)", List.of());
        s.commit();
    }

    @AfterEach
    void close() {
        s.close();
    }

    private long count(ObjectStorage st) {
        return (Long) st.exec("SELECT count(*) FROM t", List.of()).next().getFirst();
    }

    private ObjectStorage reopen() {
        s.close();
        s = ObjectStorage.open(file, StorageOptions.defaults());
        return s;
    }

    @Test
    void writesOfATurnAreVisibleBeforeCommitAndDurableOnlyAfterIt() {
        s.exec("INSERT INTO t VALUES (1)", List.of());
        s.put("k", new byte[] {7});
        s.setAlarm(99);
        assertThat(s.inTransaction()).isTrue();
        assertThat(count(s)).isEqualTo(1);
        assertThat(s.get("k")).containsExactly(7);
        assertThat(s.getAlarm()).isEqualTo(OptionalLong.of(99));
        // Closing without commit (a crash before the output gate opened) loses the turn.
        reopen();
        assertThat(count(s)).isZero();
        assertThat(s.get("k")).isNull();
        assertThat(s.getAlarm()).isEmpty();
    }

    @Test
    void commitMakesTheWholeTurnDurableAtOnce() {
        s.exec("INSERT INTO t VALUES (1)", List.of());
        s.put("k", new byte[] {7});
        s.setAlarm(99);
        s.commit();
        assertThat(s.inTransaction()).isFalse();
        reopen();
        assertThat(count(s)).isEqualTo(1);
        assertThat(s.get("k")).containsExactly(7);
        assertThat(s.getAlarm()).isEqualTo(OptionalLong.of(99));
    }

    @Test
    void rollbackDropsTheTurn() {
        s.exec("INSERT INTO t VALUES (1)", List.of());
        s.put("k", new byte[] {7});
        s.rollback();
        assertThat(count(s)).isZero();
        assertThat(s.get("k")).isNull();
        s.put("k2", new byte[] {8});
        s.commit();
        assertThat(reopen().get("k2")).containsExactly(8);
    }

    @Test
    void aRolledBackFirstKvWriteAlsoUndoesTheReservedTablesAndKvStillWorks() {
        s.put("k", new byte[] {1});
        s.rollback();
        assertThat(s.get("k")).isNull();
        assertThat(s.list(KvListOptions.all())).isEmpty();
        s.put("k", new byte[] {2});
        s.commit();
        assertThat(reopen().get("k")).containsExactly(2);
    }

    @Test
    void transactionSyncKeepsWritesWhenItReturns() {
        int r = s.transactionSync(() -> {
            s.exec("INSERT INTO t VALUES (1)", List.of());
            s.put("a", new byte[] {1});
            return 5;
        });
        assertThat(r).isEqualTo(5);
        s.commit();
        reopen();
        assertThat(count(s)).isEqualTo(1);
        assertThat(s.get("a")).containsExactly(1);
    }

    @Test
    void transactionSyncRollsBackOnlyItsOwnWritesWhenItThrows() {
        s.exec("INSERT INTO t VALUES (0)", List.of());
        assertThatThrownBy(() -> s.transactionSync(() -> {
            s.exec("INSERT INTO t VALUES (1)", List.of());
            s.put("a", new byte[] {1});
            s.setAlarm(5);
            throw new IllegalStateException("boom");
        })).isInstanceOf(IllegalStateException.class).hasMessage("boom");
        assertThat(count(s)).isEqualTo(1);
        assertThat(s.get("a")).isNull();
        assertThat(s.getAlarm()).isEmpty();
        s.commit();
        assertThat(count(reopen())).isEqualTo(1);
    }

    @Test
    void nestedTransactionsRollBackTheInnerOnly() {
        s.transactionSync(() -> {
            s.exec("INSERT INTO t VALUES (1)", List.of());
            assertThatThrownBy(() -> s.transactionSync(() -> {
                s.exec("INSERT INTO t VALUES (2)", List.of());
                s.exec("SELECT * FROM nope", List.of());
                return null;
            })).hasMessage("no such table: nope: SQLITE_ERROR");
            assertThat(count(s)).isEqualTo(1);
            s.exec("INSERT INTO t VALUES (3)", List.of());
            return null;
        });
        s.commit();
        assertThat(reopen().exec("SELECT v FROM t ORDER BY v", List.of()).next()).containsExactly(1L);
        assertThat(count(s)).isEqualTo(2);
    }

    @Test
    void explicitSavepointsEndInnermostFirst() {
        Savepoint outer = s.savepoint();
        s.exec("INSERT INTO t VALUES (1)", List.of());
        Savepoint inner = s.savepoint();
        s.exec("INSERT INTO t VALUES (2)", List.of());
        assertThatThrownBy(outer::release).hasMessageContaining("innermost first");
        inner.rollback();
        assertThatThrownBy(inner::release).hasMessage("savepoint already ended");
        outer.release();
        s.commit();
        assertThat(count(reopen())).isEqualTo(1);
    }

    @Test
    void commitAndDeleteAllAreRefusedInsideATransaction() {
        assertThatThrownBy(() -> s.transactionSync(() -> {
            s.commit();
            return null;
        })).hasMessage("commit() inside transactionSync()");
        assertThatThrownBy(() -> s.transactionSync(() -> {
            s.deleteAll(false);
            return null;
        })).hasMessage("Cannot call deleteAll() within a transaction");
    }

    @Test
    void aCursorOpenAcrossACommitKeepsReading() {
        for (int i = 0; i < 5; i++) s.exec("INSERT INTO t VALUES (?)", List.of((long) i));
        s.commit();
        SqlCursor c = s.exec("SELECT v FROM t ORDER BY v", List.of());
        assertThat(c.next()).containsExactly(0L);
        s.exec("INSERT INTO t VALUES (9)", List.of());
        s.commit();
        assertThat(c.next()).containsExactly(1L);
    }

    @Test
    void snapshotCopiesTheCommittedDatabase() {
        s.exec("INSERT INTO t VALUES (1)", List.of());
        s.put("k", new byte[] {5});
        assertThatThrownBy(() -> s.snapshot(dir.resolve("snap.sqlite")))
                .hasMessage("snapshot() with uncommitted writes; commit first");
        s.commit();
        s.exec("INSERT INTO t VALUES (2)", List.of());
        s.rollback();
        Path snap = dir.resolve("snap.sqlite");
        s.snapshot(snap);
        try (ObjectStorage copy = ObjectStorage.open(snap, StorageOptions.defaults())) {
            assertThat(count(copy)).isEqualTo(1);
            assertThat(copy.get("k")).containsExactly(5);
        }
    }

    @Test
    void deleteAllRemovesTablesAndKvAndKeepsTheAlarmUnlessAsked() {
        s.exec("CREATE TABLE parent (id INTEGER PRIMARY KEY)", List.of());
        s.exec("PRAGMA foreign_keys = ON", List.of());
        s.exec("CREATE TABLE child (p REFERENCES parent(id)); CREATE INDEX ci ON child(p);"
                + " CREATE VIEW v AS SELECT * FROM t; CREATE VIRTUAL TABLE docs USING fts5(body);"
                + " INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1);", List.of());
        s.put("k", new byte[] {1});
        s.setAlarm(7);
        s.commit();
        s.deleteAll(false);
        s.commit();
        reopen();
        assertThat(SqlTest.all(s.exec("SELECT name FROM sqlite_master WHERE name NOT LIKE '\\_bw\\_%' ESCAPE '\\'"
                + " AND name NOT LIKE 'sqlite_autoindex\\_\\_bw\\_%' ESCAPE '\\'",
                List.of()))).isEmpty();
        assertThat(s.get("k")).isNull();
        assertThat(s.getAlarm()).isEqualTo(OptionalLong.of(7));
        s.deleteAll(true);
        s.commit();
        assertThat(reopen().getAlarm()).isEmpty();
    }

    @Test
    void deleteStorageRemovesTheFiles() {
        s.put("k", new byte[] {1});
        s.commit();
        s.close();
        ObjectStorage.deleteStorage(file);
        assertThat(dir.toFile().list()).isEmpty();
        s = ObjectStorage.open(file, StorageOptions.defaults());
        assertThat(s.get("k")).isNull();
    }

    @Test
    void aClosedStorageRefusesUse() {
        s.close();
        assertThatThrownBy(() -> s.get("k")).hasMessage("storage is closed");
        s = ObjectStorage.open(file, StorageOptions.defaults());
    }

    @Test
    void interruptStopsARunawayQueryAndTheStorageStaysUsable() throws Exception {
        s.exec("INSERT INTO t VALUES (1)", List.of());
        Thread watchdog = Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                return;
            }
            s.interrupt();
        });
        assertThatThrownBy(() -> s.exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)"
                + " SELECT count(*) FROM c", List.of()))
                .isInstanceOf(StorageException.class).hasMessageContaining("interrupted");
        watchdog.join();
        // A read that was interrupted leaves the turn's writes in place.
        s.commit();
        assertThat(count(reopen())).isEqualTo(1);
    }

    @Test
    void anInterruptedWriteLosesTheTurnAndCommitSaysSo() throws Exception {
        s.exec("INSERT INTO t VALUES (1)", List.of());
        Thread watchdog = Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                return;
            }
            s.interrupt();
        });
        assertThatThrownBy(() -> s.exec("INSERT INTO t WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)"
                + " SELECT x FROM c", List.of()))
                .isInstanceOf(StorageException.class).hasMessage("interrupted: SQLITE_INTERRUPT");
        watchdog.join();
        // SQLite rolled the transaction back: later statements must not auto-commit on their own.
        assertThatThrownBy(() -> s.exec("INSERT INTO t VALUES (2)", List.of()))
                .extracting(e -> ((StorageException) e).kind()).isEqualTo(StorageException.Kind.STATE);
        assertThatThrownBy(s::commit).hasMessageStartingWith("the writes of this event were rolled back");
        assertThat(count(reopen())).isZero();
    }
}
