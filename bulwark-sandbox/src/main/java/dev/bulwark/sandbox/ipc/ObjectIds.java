package dev.bulwark.sandbox.ipc;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Durable object ids, as workerd makes them: 32 bytes shown as 64 lower-case hex digits. The first
 * 16 bytes are the object's identity (an HMAC of its name, or random); the last 16 are an HMAC of
 * the first under the namespace's key, so an id is valid in exactly one namespace and
 * {@code idFromString} can refuse an id made up or taken from another namespace.
 */
public final class ObjectIds {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final HexFormat HEX = HexFormat.of();

    private ObjectIds() {}

    public static boolean isWellFormed(String id) {
        if (id == null || id.length() != 64) return false;
        for (int i = 0; i < 64; i++) {
            char c = id.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
        }
        return true;
    }

    /** The id {@code idFromName(name)} gives in the namespace with this key: always the same. */
    public static String fromName(byte[] namespaceKey, String name) {
        byte[] base = truncate(hmac(namespaceKey, ("name:" + name).getBytes(StandardCharsets.UTF_8)));
        return withMac(namespaceKey, base);
    }

    /** A fresh random id of the namespace. */
    public static String unique(byte[] namespaceKey) {
        byte[] base = new byte[16];
        RANDOM.nextBytes(base);
        return withMac(namespaceKey, base);
    }

    /** Whether {@code id} is well formed and was made in the namespace with this key. */
    public static boolean belongsTo(byte[] namespaceKey, String id) {
        if (!isWellFormed(id)) return false;
        byte[] all = HEX.parseHex(id);
        byte[] base = java.util.Arrays.copyOfRange(all, 0, 16);
        byte[] mac = java.util.Arrays.copyOfRange(all, 16, 32);
        return java.security.MessageDigest.isEqual(mac, truncate(hmac(namespaceKey, base)));
    }

    private static String withMac(byte[] key, byte[] base) {
        return HEX.formatHex(base) + HEX.formatHex(truncate(hmac(key, base)));
    }

    private static byte[] truncate(byte[] b) {
        return java.util.Arrays.copyOf(b, 16);
    }

    /**
     * Mac instances for reuse: {@code Mac.getInstance} (a provider lookup) cost more than the
     * HMAC itself, three times per {@code idFromName}. One per thread hashing at the same moment.
     */
    private static final java.util.concurrent.ConcurrentLinkedQueue<Mac> MACS = new java.util.concurrent.ConcurrentLinkedQueue<>();

    private static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = MACS.poll();
            if (mac == null) mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            byte[] out = mac.doFinal(data);
            MACS.offer(mac);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JDK", e);
        }
    }
}
