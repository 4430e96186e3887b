package dev.bulwark.server.config;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The tenant API's keys ({@code api.keys}): who may load, call, list and unload dynamic workers over
 * HTTP, and as which tenant. Keys are kept as SHA-256 digests only, so the configuration never holds
 * a usable key; they must be random (at least 128 bits), not passwords, because a digest of a
 * guessable key is itself guessable.
 *
 * @param keys the keys; empty means the tenant API answers 401 to everyone
 */
public record ApiSettings(List<Key> keys) {
    public static final ApiSettings NONE = new ApiSettings(List.of());
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

    /** One key: the tenant it acts for and the SHA-256 digest of the key. */
    public record Key(String tenant, byte[] sha256) {
        public Key {
            Objects.requireNonNull(tenant, "tenant");
            if (sha256 == null || sha256.length != 32) throw new IllegalArgumentException("a key digest is 32 bytes");
            sha256 = sha256.clone();
        }

        @Override
        public byte[] sha256() {
            return sha256.clone();
        }

        /** A key given in the clear (the embedding API, tests): only its digest is kept. */
        public static Key of(String tenant, String key) {
            return new Key(tenant, digest(key));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && tenant.equals(k.tenant) && java.util.Arrays.equals(sha256, k.sha256);
        }

        @Override
        public int hashCode() {
            return tenant.hashCode() * 31 + java.util.Arrays.hashCode(sha256);
        }

        /** Never the digest: it is as good as a password hash. */
        @Override
        public String toString() {
            return "Key[tenant=" + tenant + "]";
        }
    }

    public ApiSettings {
        keys = List.copyOf(keys);
    }

    /** Whether {@code hex} is how {@code key_sha256} is written: 64 lower-case hex digits. */
    public static boolean isDigest(String hex) {
        return SHA256_HEX.matcher(hex).matches();
    }

    static byte[] parseDigest(String hex) {
        return HexFormat.of().parseHex(hex);
    }

    /**
     * The tenant {@code presented} is a key of, or null. Every configured digest is compared, each
     * in constant time ({@link MessageDigest#isEqual}), whatever matched: the time taken says nothing
     * about which key, or how much of one, was right.
     */
    public String tenantOf(String presented) {
        if (presented == null || presented.isEmpty()) return null;
        byte[] digest = digest(presented);
        String tenant = null;
        for (Key k : keys) {
            if (MessageDigest.isEqual(digest, k.sha256) && tenant == null) tenant = k.tenant();
        }
        return tenant;
    }

    /** SHA-256 of the key's UTF-8 bytes (what {@code printf %s "$KEY" | sha256sum} prints, as bytes). */
    public static byte[] digest(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }
}
