package dev.bulwark.server.governance;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Base64;

/**
 * The node's Ed25519 key for execution envelopes: made on first use and kept under the data
 * directory ({@code governance/envelope.key}, PKCS#8, owner-only; {@code envelope.pub}, X.509), so
 * envelopes survive a restart. Only the node reads it; no sandbox's mount view holds it.
 *
 * <p>A sealed envelope is {@code base64url(bytes) "." base64url(signature)}; {@link #open} checks
 * the signature over the exact bytes before it parses anything.
 */
final class EnvelopeKeys {
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getUrlDecoder();
    static final int MAX_TOKEN_CHARS = 16 * 1024;

    private final PrivateKey privateKey;
    private final PublicKey publicKey;

    private EnvelopeKeys(PrivateKey privateKey, PublicKey publicKey) {
        this.privateKey = privateKey;
        this.publicKey = publicKey;
    }

    static EnvelopeKeys load(Path dir) throws IOException {
        try {
            KeyPair pair = KeyFiles.ed25519(dir, "envelope");
            return new EnvelopeKeys(pair.getPrivate(), pair.getPublic());
        } catch (GeneralSecurityException e) {
            throw new IOException("the envelope key in " + dir + " cannot be read: " + e.getMessage(), e);
        }
    }

    String seal(Envelope envelope) {
        byte[] bytes = envelope.bytes();
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(privateKey);
            s.update(bytes);
            return B64.encodeToString(bytes) + "." + B64.encodeToString(s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 signing failed", e);
        }
    }

    /** The envelope of a sealed token whose signature checks, or null (malformed, tampered, another key). */
    Envelope open(String token) {
        if (token == null || token.length() > MAX_TOKEN_CHARS) return null;
        int dot = token.indexOf('.');
        if (dot < 0 || token.indexOf('.', dot + 1) >= 0) return null;
        try {
            byte[] bytes = B64D.decode(token.substring(0, dot));
            byte[] sig = B64D.decode(token.substring(dot + 1));
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(publicKey);
            s.update(bytes);
            if (!s.verify(sig)) return null;
            return Envelope.parse(bytes);
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            return null;
        }
    }
}
