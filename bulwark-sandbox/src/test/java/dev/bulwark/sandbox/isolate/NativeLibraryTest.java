package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.interop.loader.JavetLibLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/** Javet's library reaches every directory whole: the first by inflating it, later ones from that copy, also once it is gone. */
class NativeLibraryTest {
    @Test
    void everyDirectoryGetsTheLibraryAsInJavetsJarAlsoAfterTheFirstCopyIsRemoved(@TempDir Path a, @TempDir Path b,
                                                                               @TempDir Path c) throws Exception {
        String expected;
        try (InputStream in = JavetLibLoader.class.getResourceAsStream(
                new JavetLibLoader(NativeLibrary.RUNTIME).getResourceFileName())) {
            expected = sha256(in);
        }
        Path first = NativeLibrary.deploy(a);
        assertThat(sha256(first)).isEqualTo(expected);
        Path second = NativeLibrary.deploy(b);
        assertThat(sha256(second)).isEqualTo(expected);
        Files.delete(first);
        Files.delete(second);
        Path third = NativeLibrary.deploy(c);
        assertThat(sha256(third)).isEqualTo(expected);
        try (var files = Files.list(c)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder(third.getFileName().toString(), IcuData.FILE_NAME);
        }
    }

    private static String sha256(Path file) throws Exception {
        try (InputStream in = Files.newInputStream(file)) {
            return sha256(in);
        }
    }

    private static String sha256(InputStream in) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (DigestInputStream d = new DigestInputStream(in, sha)) {
            d.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
