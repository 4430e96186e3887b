package dev.bulwark.objects.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.objects.storage.StorageOptions;
import dev.bulwark.sandbox.isolate.ObjectStore;
import dev.bulwark.sandbox.isolate.ObjectStore.Database;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An object's SQLite connection is closed once its storage was idle, while the object stays
 * live, and opened again by its next storage call: everything it wrote is there, it writes and
 * sets alarms as before, a transaction in progress is never closed under it, an idle object holds
 * no file open, and a database that cannot be opened again fails the call with a clear message.
 */
class IdleStorageTest {
    private static final String WORKER = "w";
    private static final String CLASS = "Counter";
    private static final String ID = "ab".repeat(32);

    @TempDir Path dir;
    private SqliteObjectStore store;

    @BeforeEach
    void openStore() {
        // An idle period no test waits for: the tests close idle connections themselves.
        store = new SqliteObjectStore(dir, StorageOptions.defaults(), 3_600_000);
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    @Test
    void anObjectIdlePastThePeriodHoldsNoFileAndReadsWritesAndSetsAlarmsAfterwards() throws IOException {
        Database db = store.open(WORKER, CLASS, ID);
        db.exec("CREATE TABLE t (v TEXT)", List.of());
        db.exec("INSERT INTO t VALUES (?)", List.of("before"));
        db.put(List.of("k"), List.of(bytes("one")));
        db.setAlarm(1_900_000_000_000L);
        db.commit();
        assertThat(openFiles()).as("an object in use holds its database and its WAL, no -shm file")
                .containsExactlyInAnyOrder(".sqlite", ".sqlite-wal");

        assertThat(store.closeIdleConnectionsNow()).isEqualTo(1);
        assertThat(openFiles()).as("files held by an idle object").isEmpty();

        assertThat(rows(db.exec("SELECT v FROM t", List.of()))).containsExactly(List.of("before"));
        assertThat(new String(db.get(List.of("k")).getFirst(), StandardCharsets.UTF_8)).isEqualTo("one");
        assertThat(db.alarm()).isEqualTo(1_900_000_000_000L);
        db.commit();

        assertThat(store.closeIdleConnectionsNow()).isEqualTo(1);
        db.exec("INSERT INTO t VALUES (?)", List.of("after"));
        db.put(List.of("k"), List.of(bytes("two")));
        db.setAlarm(1_950_000_000_000L);
        db.commit();
        assertThat(store.closeIdleConnectionsNow()).isEqualTo(1);
        db.close();

        // What was written after the reopen is durable: a fresh store (another process's view) sees it.
        try (SqliteObjectStore other = new SqliteObjectStore(dir)) {
            Database again = other.open(WORKER, CLASS, ID);
            assertThat(rows(again.exec("SELECT v FROM t ORDER BY rowid", List.of())))
                    .containsExactly(List.of("before"), List.of("after"));
            assertThat(new String(again.get(List.of("k")).getFirst(), StandardCharsets.UTF_8)).isEqualTo("two");
            assertThat(again.alarm()).isEqualTo(1_950_000_000_000L);
            again.close();
        }
    }

    @Test
    void aConnectionWithUncommittedWritesOrAnOpenTransactionIsNeverClosed() throws IOException {
        Database db = store.open(WORKER, CLASS, ID);
        db.exec("CREATE TABLE t (v INTEGER)", List.of());
        assertThat(store.closeIdleConnectionsNow()).as("writes of the running task, not committed yet").isZero();
        db.commit();

        db.beginSavepoint(); // an async transaction() that awaits between tasks
        db.exec("INSERT INTO t VALUES (1)", List.of());
        assertThat(store.closeIdleConnectionsNow()).isZero();
        db.releaseSavepoint();
        assertThat(store.closeIdleConnectionsNow()).as("its writes are still to be committed").isZero();
        db.commit();
        assertThat(store.closeIdleConnectionsNow()).isEqualTo(1);
        assertThat(rows(db.exec("SELECT v FROM t", List.of()))).containsExactly(List.of(1L));

        db.exec("INSERT INTO t VALUES (2)", List.of());
        db.rollback();
        assertThat(store.closeIdleConnectionsNow()).isEqualTo(1);
        assertThat(rows(db.exec("SELECT v FROM t", List.of()))).containsExactly(List.of(1L));
        db.close();
    }

    @Test
    void committingOrRollingBackAClosedConnectionDoesNotOpenIt() throws IOException {
        Database db = store.open(WORKER, CLASS, ID);
        db.put(List.of("k"), List.of(bytes("v")));
        db.commit();
        store.closeIdleConnectionsNow();
        db.commit();
        db.rollback();
        assertThat(openFiles()).isEmpty();
        db.close();
    }

    @Test
    void aDatabaseThatVanishedWhileClosedFailsTheNextCallClearlyAndIsNotRecreatedEmpty() throws IOException {
        Database db = store.open(WORKER, CLASS, ID);
        db.put(List.of("k"), List.of(bytes("v")));
        db.commit();
        store.closeIdleConnectionsNow();
        Path file = store.file(WORKER, CLASS, ID);
        Files.delete(file);

        assertThatThrownBy(() -> db.get(List.of("k")))
                .isInstanceOf(ObjectStore.StorageException.class)
                .hasMessage("could not open the object's storage again: the object's database file is gone");
        assertThat(file).doesNotExist();
        db.close();
    }

    @Test
    void aDatabaseThatCannotBeOpenedAgainFailsTheCallWithSqlitesReasonAndTheNextCallTriesAgain() throws IOException {
        Database db = store.open(WORKER, CLASS, ID);
        db.put(List.of("k"), List.of(bytes("v")));
        db.commit();
        store.closeIdleConnectionsNow();
        Path file = store.file(WORKER, CLASS, ID);
        byte[] good = Files.readAllBytes(file);
        Files.write(file, "this is not a database, it only has this text in it; ".repeat(200).getBytes());

        assertThatThrownBy(() -> db.put(List.of("k"), List.of(bytes("w"))))
                .isInstanceOf(ObjectStore.StorageException.class)
                .hasMessageStartingWith("could not open the object's storage again: ")
                .hasMessageContaining("not a database");
        assertThat(openFiles()).as("a failed open leaves nothing open").isEmpty();

        Files.write(file, good);
        assertThat(new String(db.get(List.of("k")).getFirst(), StandardCharsets.UTF_8)).isEqualTo("v");
        db.close();
    }

    @Test
    void aClosedDatabaseStaysClosedAndTheSweepForgetsIt() throws IOException {
        Database db = store.open(WORKER, CLASS, ID);
        db.put(List.of("k"), List.of(bytes("v")));
        db.commit();
        db.close();
        assertThat(store.closeIdleConnectionsNow()).isZero();
        assertThatThrownBy(() -> db.get(List.of("k"))).isInstanceOf(ObjectStore.StorageException.class)
                .hasMessage("storage is closed");
        assertThat(openFiles()).isEmpty();
    }

    @Test
    void theSweepClosesIdleConnectionsOnItsOwn() throws Exception {
        store.close();
        store = new SqliteObjectStore(dir, StorageOptions.defaults(), 50);
        Database db = store.open(WORKER, CLASS, ID);
        db.put(List.of("k"), List.of(bytes("v")));
        db.commit();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!openFiles().isEmpty() && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(openFiles()).isEmpty();
        assertThat(new String(db.get(List.of("k")).getFirst(), StandardCharsets.UTF_8)).isEqualTo("v");
        db.close();
    }

    // ------------------------------------------------------------------------------------------

    /** The suffixes (".sqlite", ".sqlite-wal", ...) of this object's files this process holds open. */
    private List<String> openFiles() throws IOException {
        String base = store.file(WORKER, CLASS, ID).toString();
        List<String> out = new ArrayList<>();
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException gone) {
                    continue;
                }
                if (target.startsWith(base)) out.add(target.substring(base.length() - ".sqlite".length()));
            }
        }
        return out;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<List<Object>> rows(ObjectStore.SqlResult r) {
        return r.rows().stream().map(row -> List.of(row)).toList();
    }
}
