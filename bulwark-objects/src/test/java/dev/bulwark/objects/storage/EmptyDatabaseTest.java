package dev.bulwark.objects.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmptyDatabaseTest {

    @TempDir Path dir;

    @Test
    void aNewObjectsDatabaseIsAnEmptyWalDatabaseAndNothingElseIsLeftBeside() throws Exception {
        Path file = dir.resolve("new.sqlite");
        try (ObjectStorage s = ObjectStorage.open(file, StorageOptions.defaults())) {
            // The header's read and write format versions are 2 in WAL mode.
            byte[] header = Files.readAllBytes(file);
            assertThat(header[18]).isEqualTo((byte) 2);
            assertThat(header[19]).isEqualTo((byte) 2);
            assertThat(s.exec("SELECT count(*) FROM sqlite_master", List.of()).next()).containsExactly(0L);
            s.exec("CREATE TABLE t (a)", List.of());
            s.exec("INSERT INTO t VALUES (1)", List.of());
            s.commit();
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("new.sqlite");
        }
        try (ObjectStorage s = ObjectStorage.open(file, StorageOptions.defaults())) {
            assertThat(s.exec("SELECT a FROM t", List.of()).next()).containsExactly(1L);
        }
    }

    @Test
    void anExistingDatabaseIsNeverReplaced() {
        Path file = dir.resolve("old.sqlite");
        try (ObjectStorage s = ObjectStorage.open(file, StorageOptions.defaults())) {
            s.put("k", new byte[] {7});
            s.commit();
        }
        EmptyDatabase.createIfAbsent(file, true);
        try (ObjectStorage s = ObjectStorage.open(file, StorageOptions.defaults().withDurability(Durability.FULL))) {
            assertThat(s.get("k")).containsExactly(7);
        }
    }
}
