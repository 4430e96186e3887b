package dev.bulwark.sandbox.isolate.crypto;

import javax.crypto.Mac;

/**
 * HKDF (RFC 5869) and PBKDF2 (RFC 8018) over the JDK's HMAC. Written here rather than taken from
 * the JDK's KDF/SecretKeyFactory because those want passwords as chars (PBKDF2) or lack SHA-1
 * (HKDF), and WebCrypto passes arbitrary bytes.
 */
final class Kdf {
    /** Workers' production limit (workerd leaves it open): iterations run in Java, out of V8's reach. */
    static final int MAX_PBKDF2_ITERATIONS = 100_000;

    private Kdf() {}

    static byte[] hkdf(Hash hash, byte[] ikm, byte[] salt, byte[] info, int lengthBytes) throws CryptoException {
        if (lengthBytes > 255 * hash.length) {
            throw CryptoException.operation("HKDF cannot derive more than " + 255 * hash.length * 8 + " bits with " + hash.webName);
        }
        byte[] prk = hash.mac(salt.length == 0 ? new byte[hash.length] : salt).doFinal(ikm);
        Mac mac = hash.mac(prk);
        byte[] out = new byte[lengthBytes];
        byte[] t = new byte[0];
        int pos = 0;
        for (int i = 1; pos < lengthBytes; i++) {
            mac.update(t);
            mac.update(info);
            mac.update((byte) i);
            t = mac.doFinal();
            int n = Math.min(t.length, lengthBytes - pos);
            System.arraycopy(t, 0, out, pos, n);
            pos += n;
        }
        return out;
    }

    static byte[] pbkdf2(Hash hash, byte[] password, byte[] salt, int iterations, int lengthBytes) throws CryptoException {
        if (iterations <= 0) throw CryptoException.operation("PBKDF2 requires a positive iteration count (requested " + iterations + ").");
        if (iterations > MAX_PBKDF2_ITERATIONS) {
            throw CryptoException.notSupported("Pbkdf2 failed: iteration counts above " + MAX_PBKDF2_ITERATIONS
                    + " are not supported (requested " + iterations + ").");
        }
        Mac mac = hash.mac(password);
        byte[] out = new byte[lengthBytes];
        int pos = 0;
        for (int block = 1; pos < lengthBytes; block++) {
            mac.update(salt);
            mac.update(new byte[] {(byte) (block >>> 24), (byte) (block >>> 16), (byte) (block >>> 8), (byte) block});
            byte[] u = mac.doFinal();
            byte[] acc = u.clone();
            for (int i = 1; i < iterations; i++) {
                u = mac.doFinal(u);
                for (int k = 0; k < acc.length; k++) acc[k] ^= u[k];
            }
            int n = Math.min(acc.length, lengthBytes - pos);
            System.arraycopy(acc, 0, out, pos, n);
            pos += n;
        }
        return out;
    }
}
