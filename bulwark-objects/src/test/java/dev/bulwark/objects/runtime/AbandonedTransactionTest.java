package dev.bulwark.objects.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulwark.objects.storage.StorageOptions;
import dev.bulwark.sandbox.isolate.ObjectStore;
import dev.bulwark.sandbox.isolate.ObjectStore.Database;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An async transaction() still running when its task ends (its closure awaits a timer): its
 * savepoint is rolled back so the rest of the turn commits, and the object's storage refuses
 * every call, with a message that says why, until the closure has ended that savepoint.
 */
class AbandonedTransactionTest {
    @TempDir Path dir;
    private SqliteObjectStore store;
    private Database db;

    @BeforeEach
    void open() {
        store = new SqliteObjectStore(dir, StorageOptions.defaults(), 3_600_000);
        db = store.open("w", "C", "cd".repeat(32));
    }

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void theTurnCommitsWithoutTheTransactionAndTheObjectRefusesCallsUntilTheClosureEnds() {
        db.put(List.of("before"), List.of(bytes("1")));
        db.beginSavepoint();
        db.put(List.of("inside"), List.of(bytes("2")));
        db.setAlarm(1_900_000_000_000L);

        assertThat(db.abandonSavepoints()).isTrue();
        db.commit();
        assertThat(db.alarm()).as("the alarm set inside is undone; asking is allowed").isNull();
        assertThatThrownBy(() -> db.get(List.of("before"))).isInstanceOf(ObjectStore.StorageException.class)
                .hasMessageStartingWith("storage.transaction() was rolled back");
        assertThatThrownBy(() -> db.exec("SELECT 1", List.of())).hasMessageStartingWith("storage.transaction() was rolled back");
        assertThatThrownBy(() -> db.beginSavepoint()).hasMessageStartingWith("storage.transaction() was rolled back");

        // The closure ends: release tells it its transaction is gone; then the object works again.
        assertThatThrownBy(() -> db.releaseSavepoint()).hasMessageStartingWith("storage.transaction() was rolled back");
        assertThat(db.get(List.of("before", "inside"))).satisfiesExactly(
                v -> assertThat(new String(v, StandardCharsets.UTF_8)).isEqualTo("1"),
                v -> assertThat(v).isNull());
        assertThat(db.abandonSavepoints()).as("none open now").isFalse();
    }

    @Test
    void nestedTransactionsAreEndedOneByOneAndARollbackOfAnAbandonedOneIsQuiet() {
        db.beginSavepoint();
        db.beginSavepoint();
        assertThat(db.abandonSavepoints()).isTrue();
        db.commit();
        db.rollbackSavepoint(); // the inner closure threw
        assertThatThrownBy(() -> db.get(List.of("k"))).hasMessageStartingWith("storage.transaction() was rolled back");
        assertThatThrownBy(() -> db.releaseSavepoint()).hasMessageStartingWith("storage.transaction() was rolled back");
        assertThat(Arrays.asList(db.get(List.of("k")).toArray())).containsExactly((Object) null);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
