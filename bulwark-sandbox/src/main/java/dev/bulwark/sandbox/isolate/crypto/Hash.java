package dev.bulwark.sandbox.isolate.crypto;

import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Locale;

/** The hash functions WebCrypto names (plus MD5, which Workers allows), with their JDK names. */
enum Hash {
    MD5("MD5", "MD5", "HmacMD5", 16),
    SHA_1("SHA-1", "SHA-1", "HmacSHA1", 20),
    SHA_256("SHA-256", "SHA-256", "HmacSHA256", 32),
    SHA_384("SHA-384", "SHA-384", "HmacSHA384", 48),
    SHA_512("SHA-512", "SHA-512", "HmacSHA512", 64);

    final String webName;
    final String jdkDigest;
    final String jdkMac;
    final int length;

    Hash(String webName, String jdkDigest, String jdkMac, int length) {
        this.webName = webName;
        this.jdkDigest = jdkDigest;
        this.jdkMac = jdkMac;
        this.length = length;
    }

    static Hash of(String name) throws CryptoException {
        if (name != null) {
            String n = name.toUpperCase(Locale.ROOT);
            for (Hash h : values()) if (h.webName.equals(n)) return h;
        }
        throw CryptoException.notSupported("Unrecognized or unimplemented digest algorithm requested.");
    }

    /** The JDK's name for a signature with this hash, e.g. {@code SHA256} of {@code SHA256withRSA}. */
    String compact() {
        return jdkDigest.replace("-", "");
    }

    MessageDigest digest() {
        try {
            return MessageDigest.getInstance(jdkDigest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK lacks " + jdkDigest, e);
        }
    }

    Mac mac(byte[] key) {
        try {
            Mac mac = Mac.getInstance(jdkMac);
            // An empty HMAC key is legal (HKDF with an empty salt, PBKDF2 with an empty password);
            // SecretKeySpec refuses empty arrays.
            mac.init(key.length == 0 ? new EmptyKey(jdkMac) : new SecretKeySpec(key, jdkMac));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK refused an HMAC key", e);
        }
    }

    private record EmptyKey(String algorithm) implements SecretKey {
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
