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
 * An async transaction() still running when its task ends (its closure awaits a timer): as in
 * workerd, its savepoint stays open across tasks ({@code inTransaction()}, and the host does not
 * commit meanwhile); it commits once ended, and a close (a crash) before that loses only it.
 */
class OpenTransactionTest {
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
    void theSavepointStaysOpenAcrossTasksAndCommitsWhenReleased() {
        db.put(List.of("before"), List.of(bytes("1")));
        db.commit(); // transaction() commits the turn's writes before it begins
        assertThat(db.inTransaction()).isFalse();
        db.beginSavepoint();
        db.put(List.of("inside"), List.of(bytes("2")));
        assertThat(db.inTransaction()).as("the task ends here; its host skips the commit").isTrue();

        // The next task: the closure goes on, reads its own writes, writes more, then ends.
        assertThat(string(db.get(List.of("inside")).getFirst())).isEqualTo("2");
        db.put(List.of("after"), List.of(bytes("3")));
        db.releaseSavepoint();
        assertThat(db.inTransaction()).isFalse();
        db.commit();
        db.close();

        Database again = store.open("w", "C", "cd".repeat(32));
        assertThat(again.get(List.of("before", "inside", "after"))).extracting(OpenTransactionTest::string)
                .containsExactly("1", "2", "3");
        again.close();
    }

    @Test
    void aCloseWhileItIsOpenLosesOnlyTheTransaction() {
        db.put(List.of("before"), List.of(bytes("1")));
        db.commit();
        db.beginSavepoint();
        db.put(List.of("inside"), List.of(bytes("2")));
        db.setAlarm(1_900_000_000_000L);
        db.close(); // the sandbox dies (DurableObjectsTxnTest kills a real one)

        Database again = store.open("w", "C", "cd".repeat(32));
        assertThat(Arrays.asList(again.get(List.of("before", "inside")).toArray())).extracting(v -> string((byte[]) v))
                .containsExactly("1", null);
        assertThat(again.alarm()).isNull();
        again.close();
    }

    @Test
    void aRollbackUndoesExactlyTheClosuresWritesAndNestedOnesEndInnermostFirst() {
        db.put(List.of("k"), List.of(bytes("0")));
        db.commit();
        db.beginSavepoint();
        db.put(List.of("k"), List.of(bytes("outer")));
        db.beginSavepoint();
        db.put(List.of("k"), List.of(bytes("inner")));
        db.rollbackSavepoint(); // the inner closure threw
        assertThat(db.inTransaction()).isTrue();
        assertThat(string(db.get(List.of("k")).getFirst())).isEqualTo("outer");
        db.rollbackSavepoint(); // and the outer one
        assertThat(db.inTransaction()).isFalse();
        assertThat(string(db.get(List.of("k")).getFirst())).isEqualTo("0");
        assertThatThrownBy(() -> db.releaseSavepoint()).isInstanceOf(ObjectStore.StorageException.class)
                .hasMessage("no transaction is open");
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String string(byte[] v) {
        return v == null ? null : new String(v, StandardCharsets.UTF_8);
    }
}
