package dev.bulwark.server.node;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;

/**
 * The keys durable object ids are made with, one per namespace (tenant, worker, class), derived
 * from a secret the node keeps in its data directory. Ids must stay the same across restarts
 * ({@code idFromName} is deterministic and objects keep their data), so the secret is made once
 * and kept with the data it addresses.
 */
final class NamespaceKeys {
    static final String FILE = "namespace.secret";
    private final byte[] secret;

    private NamespaceKeys(byte[] secret) {
        this.secret = secret;
    }

    static NamespaceKeys load(Path dataDir) throws IOException {
        Path file = dataDir.resolve(FILE);
        if (!Files.exists(file)) {
            byte[] fresh = new byte[32];
            new SecureRandom().nextBytes(fresh);
            Path tmp = dataDir.resolve(FILE + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.write(tmp, fresh);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        byte[] secret = Files.readAllBytes(file);
        if (secret.length != 32) throw new IOException(file + " is damaged: expected 32 bytes, found " + secret.length);
        return new NamespaceKeys(secret);
    }

    byte[] keyFor(String tenant, String workerId, String className) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return mac.doFinal((tenant + "\n" + workerId + "\n" + className).getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JDK", e);
        }
    }
}
