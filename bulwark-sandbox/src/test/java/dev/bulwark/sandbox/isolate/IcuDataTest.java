package dev.bulwark.sandbox.isolate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/** ICU's data reaches a directory whole and verified, and a damaged copy is never kept. */
class IcuDataTest {
    private static final String SHA256 = "e3317ce82aa92b22d8375eb33a8fb477c91b8ef7065950d71f05b08299a9c20f";
    private static final long SIZE = 26_151_216;

    @Test
    void deployWritesTheVerifiedDataOnceAndLeavesNoPartialFiles(@TempDir Path a, @TempDir Path b) throws Exception {
        Path first = IcuData.deploy(a);
        assertThat(first).isEqualTo(a.resolve("icudt77l.dat"));
        assertThat(Files.size(first)).isEqualTo(SIZE);
        assertThat(sha256(first)).isEqualTo(SHA256);
        Path second = IcuData.deploy(b);
        assertThat(sha256(second)).isEqualTo(SHA256);
        try (var files = Files.list(a)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("icudt77l.dat");
        }
        assertThat(IcuData.isValid(first)).isTrue();
    }

    @Test
    void aDirectoryDeployedAfterTheFirstOneWasRemovedStillGetsTheVerifiedData(@TempDir Path a, @TempDir Path b) throws Exception {
        Files.delete(IcuData.deploy(a)); // as a closed node's run directory: the copy later ones are made from is gone
        Path second = IcuData.deploy(b);
        assertThat(Files.size(second)).isEqualTo(SIZE);
        assertThat(sha256(second)).isEqualTo(SHA256);
        try (var files = Files.list(b)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("icudt77l.dat");
        }
    }

    @Test
    void aTruncatedFileIsNotValidAndIsReplaced(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("icudt77l.dat");
        Files.write(file, new byte[1000]);
        assertThat(IcuData.isValid(file)).isFalse();
        IcuData.deploy(dir);
        assertThat(sha256(file)).isEqualTo(SHA256);
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        sha.update(Files.readAllBytes(file));
        return HexFormat.of().formatHex(sha.digest());
    }
}
