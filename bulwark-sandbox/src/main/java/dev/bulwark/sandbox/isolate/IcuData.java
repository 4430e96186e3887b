package dev.bulwark.sandbox.isolate;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.GZIPInputStream;

/**
 * ICU 77's data file ({@code icudt77l.dat}, 26 MB), without which the i18n build of V8 has no
 * {@code Intl}, no locale-aware formatting and no {@code \p{…}} regexes. It is built from ICU4J 77.1
 * by {@code src/icu/build-icudata.sh} and ships gzip-compressed in this jar (ICU's licence beside
 * it); it is decompressed once into a directory and V8 reads it from there.
 *
 * <p>V8 crashes the process when the file is missing or not ICU 77 data, so the file is checked
 * (its SHA-256 when written, its size when reused) before V8 is told about it.
 */
public final class IcuData {
    public static final String FILE_NAME = "icudt77l.dat";
    private static final String RESOURCE = "/dev/bulwark/sandbox/icu/" + FILE_NAME + ".gz";
    private static final String DIGEST = "/dev/bulwark/sandbox/icu/" + FILE_NAME + ".digest";

    /**
     * A copy this JVM inflated and verified, kept open: later directories (a node per test) copy it
     * instead, also once the directory it was written to is gone.
     */
    private static volatile KeptCopy verified;

    private IcuData() {}

    private record Digest(String sha256, long size) {}

    /** Decompresses the data into {@code dir} unless a file of the right size is there; returns its path. */
    public static Path deploy(Path dir) throws IOException {
        Digest expected = expected();
        Files.createDirectories(dir);
        Path target = dir.resolve(FILE_NAME);
        if (Files.isRegularFile(target) && Files.size(target) == expected.size()) return target;
        Path tmp = Files.createTempFile(dir, FILE_NAME, ".part");
        try {
            KeptCopy known = verified;
            if (known != null && known.size() == expected.size() && known.copyTo(tmp)) {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                return target;
            }
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            try (InputStream gz = IcuData.class.getResourceAsStream(RESOURCE)) {
                if (gz == null) throw new IOException("ICU data is missing from the class path: " + RESOURCE);
                try (InputStream in = new GZIPInputStream(gz, 1 << 16);
                     OutputStream out = new DigestOutputStream(Files.newOutputStream(tmp), sha)) {
                    in.transferTo(out);
                }
            }
            String actual = HexFormat.of().formatHex(sha.digest());
            if (!actual.equals(expected.sha256()) || Files.size(tmp) != expected.size()) {
                throw new IOException("ICU data in the class path is corrupt (sha256 " + actual + ")");
            }
            // Atomic, so a JVM that looks while another writes sees the whole file or none.
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            verified = KeptCopy.of(target); // the first, or one whose kept copy is no longer whole
            if (known != null) known.close();
            return target;
        } catch (NoSuchAlgorithmException e) {
            throw new IOException(e);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Whether {@code file} is the ICU data this build expects (by size: it was verified when written). */
    static boolean isValid(Path file) throws IOException {
        return Files.isRegularFile(file) && Files.isReadable(file) && Files.size(file) == expected().size();
    }

    private static Digest expected() throws IOException {
        try (InputStream in = IcuData.class.getResourceAsStream(DIGEST)) {
            if (in == null) throw new IOException("ICU data digest is missing from the class path: " + DIGEST);
            String[] parts = new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim().split(" ");
            return new Digest(parts[0], Long.parseLong(parts[1]));
        }
    }
}
