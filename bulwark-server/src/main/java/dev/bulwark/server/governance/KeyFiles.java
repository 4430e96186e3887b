package dev.bulwark.server.governance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;

/** Governance's secrets on disk: owner-only files written whole, and Ed25519 key pairs made on first use. */
final class KeyFiles {
    private KeyFiles() {
    }

    /**
     * The Ed25519 pair kept as {@code <name>.key} (PKCS#8) and {@code <name>.pub} (X.509) in
     * {@code dir}; made and written on first use.
     */
    static KeyPair ed25519(Path dir, String name) throws IOException, GeneralSecurityException {
        Path priv = dir.resolve(name + ".key");
        Path pub = dir.resolve(name + ".pub");
        KeyFactory kf = KeyFactory.getInstance("Ed25519");
        if (Files.exists(priv) && Files.exists(pub)) {
            return new KeyPair(kf.generatePublic(new X509EncodedKeySpec(Files.readAllBytes(pub))),
                    kf.generatePrivate(new PKCS8EncodedKeySpec(Files.readAllBytes(priv))));
        }
        KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Files.createDirectories(dir);
        writeOwnerOnly(pub, pair.getPublic().getEncoded());
        writeOwnerOnly(priv, pair.getPrivate().getEncoded()); // last: its presence means both are there
        return pair;
    }

    /** Writes {@code bytes} to a new owner-only file beside {@code file}, then moves it into place at once. */
    static void writeOwnerOnly(Path file, byte[] bytes) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(tmp, bytes);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
