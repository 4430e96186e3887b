package dev.bulwark.sandbox.isolate;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;

/** The JDK side of crypto.subtle: digests and HMAC with the names WebCrypto uses. */
final class Crypto {
    private Crypto() {}

    static byte[] digest(String algorithm, byte[] data) throws GeneralSecurityException {
        return MessageDigest.getInstance(jdkDigest(algorithm)).digest(data);
    }

    static byte[] hmac(String hash, byte[] key, byte[] data) throws GeneralSecurityException {
        String name = "Hmac" + jdkDigest(hash).replace("-", "");
        Mac mac = Mac.getInstance(name);
        // An empty HMAC key is legal in WebCrypto; SecretKeySpec refuses empty arrays.
        mac.init(key.length == 0 ? new EmptyKey(name) : new SecretKeySpec(key, name));
        return mac.doFinal(data);
    }

    private static String jdkDigest(String webName) throws GeneralSecurityException {
        if (webName == null) throw new GeneralSecurityException("missing hash algorithm");
        return switch (webName.toUpperCase(java.util.Locale.ROOT)) {
            case "SHA-1" -> "SHA-1";
            case "SHA-256" -> "SHA-256";
            case "SHA-384" -> "SHA-384";
            case "SHA-512" -> "SHA-512";
            default -> throw new GeneralSecurityException("unsupported hash algorithm: " + webName);
        };
    }

    private record EmptyKey(String algorithm) implements javax.crypto.SecretKey {
        @Override
        public String getAlgorithm() {
            return algorithm;
        }

        @Override
        public String getFormat() {
            return "RAW";
        }

        @Override
        public byte[] getEncoded() {
            return new byte[0];
        }
    }
}
