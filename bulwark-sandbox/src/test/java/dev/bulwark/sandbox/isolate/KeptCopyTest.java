package dev.bulwark.sandbox.isolate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** A kept copy is copied whole after its file was deleted, and never when it changed size or was let go. */
class KeptCopyTest {
    @Test
    void copiesTheKeptBytesAfterTheFileIsGoneButNotOnceItChangedOrWasLetGo(@TempDir Path dir) throws Exception {
        byte[] bytes = new byte[3 << 20];
        new java.util.Random(7).nextBytes(bytes);
        Path first = Files.write(dir.resolve("first"), bytes);
        KeptCopy kept = KeptCopy.of(first);
        Files.delete(first); // as a closed node's run directory
        Path copy = Files.createFile(dir.resolve("copy"));
        assertThat(kept.copyTo(copy)).isTrue();
        assertThat(Files.readAllBytes(copy)).isEqualTo(bytes);

        Path changed = Files.write(dir.resolve("changed"), bytes);
        KeptCopy shrunk = KeptCopy.of(changed);
        try (var ch = java.nio.channels.FileChannel.open(changed, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(1000);
        }
        assertThat(shrunk.copyTo(Files.createFile(dir.resolve("copy2")))).isFalse();

        kept.close();
        assertThat(kept.copyTo(Files.createFile(dir.resolve("copy3")))).isFalse();
    }
}
