package dev.bulwark.sandbox.isolate.crypto;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;

/** AES-GCM, AES-CBC, AES-CTR and AES-KW with WebCrypto's parameters, on the JDK's AES. */
final class Aes {
    private Aes() {}

    static byte[] gcm(boolean encrypt, byte[] key, byte[] iv, byte[] aad, int tagBits, byte[] data)
            throws CryptoException {
        checkKey(key);
        if (iv.length == 0) throw CryptoException.operation("AES-GCM requires a non-empty iv");
        switch (tagBits) {
            case 32, 64, 96, 104, 112, 120, 128 -> { }
            default -> throw CryptoException.operation("Invalid AES-GCM tag length " + tagBits);
        }
        int tagBytes = tagBits / 8;
        // The JDK accepts tags of 96 to 128 bits. Shorter ones (32, 64) are the leading bytes of
        // the 128-bit tag: compute that and truncate (encrypt), or recover the plaintext with the
        // keystream and compare the recomputed tag's prefix (decrypt).
        int jdkTag = tagBits < 96 ? 128 : tagBits;
        try {
            if (encrypt) {
                byte[] out = gcmCipher(Cipher.ENCRYPT_MODE, key, iv, aad, jdkTag).doFinal(data);
                return jdkTag == tagBits ? out : Arrays.copyOf(out, data.length + tagBytes);
            }
            if (data.length < tagBytes) throw CryptoException.operation("The ciphertext is shorter than the tag");
            if (jdkTag == tagBits) return gcmCipher(Cipher.DECRYPT_MODE, key, iv, aad, jdkTag).doFinal(data);
            byte[] body = Arrays.copyOf(data, data.length - tagBytes);
            byte[] tag = Arrays.copyOfRange(data, data.length - tagBytes, data.length);
            // GCM's body is CTR: encrypting the ciphertext with the same key and iv yields the plaintext.
            byte[] plain = Arrays.copyOf(gcmCipher(Cipher.ENCRYPT_MODE, key, iv, new byte[0], 128).doFinal(body), body.length);
            byte[] again = gcmCipher(Cipher.ENCRYPT_MODE, key, iv, aad, 128).doFinal(plain);
            byte[] expected = Arrays.copyOfRange(again, plain.length, plain.length + tagBytes);
            if (!MessageDigest.isEqual(expected, tag)) throw CryptoException.operation("Decryption failed.");
            return plain;
        } catch (AEADBadTagException e) {
            throw CryptoException.operation("Decryption failed.");
        } catch (GeneralSecurityException e) {
            throw CryptoException.operation("AES-GCM operation failed");
        }
    }

    private static Cipher gcmCipher(int mode, byte[] key, byte[] iv, byte[] aad, int tagBits) throws GeneralSecurityException {
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(tagBits, iv));
        if (aad != null && aad.length > 0) c.updateAAD(aad);
        return c;
    }

    static byte[] cbc(boolean encrypt, byte[] key, byte[] iv, byte[] data) throws CryptoException {
        checkKey(key);
        if (iv.length != 16) throw CryptoException.operation("AES-CBC iv must be 16 bytes, got " + iv.length);
        try {
            Cipher c = Cipher.getInstance("AES/CBC/PKCS5Padding");
            c.init(encrypt ? Cipher.ENCRYPT_MODE : Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(iv));
            return c.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw CryptoException.operation("Decryption failed.");
        }
    }

    /**
     * AES-CTR where only the rightmost {@code lengthBits} of the counter block count (and wrap),
     * as WebCrypto defines it; the JDK counts with all 128 bits, so a run that wraps is split.
     */
    static byte[] ctr(byte[] key, byte[] counter, int lengthBits, byte[] data) throws CryptoException {
        checkKey(key);
        if (counter.length != 16) throw CryptoException.operation("AES-CTR counter must be 16 bytes, got " + counter.length);
        if (lengthBits < 1 || lengthBits > 128) throw CryptoException.operation("AES-CTR length must be between 1 and 128, got " + lengthBits);
        BigInteger span = BigInteger.ONE.shiftLeft(lengthBits);
        BigInteger blocks = BigInteger.valueOf((data.length + 15L) / 16);
        if (blocks.compareTo(span) > 0) throw CryptoException.operation("AES-CTR input is too long for the counter length");
        BigInteger whole = new BigInteger(1, counter);
        BigInteger low = whole.mod(span);
        BigInteger beforeWrap = span.subtract(low);
        try {
            if (blocks.compareTo(beforeWrap) <= 0) return ctrRun(key, counter, data, 0, data.length);
            int first = beforeWrap.intValueExact() * 16;
            byte[] out = new byte[data.length];
            System.arraycopy(ctrRun(key, counter, data, 0, first), 0, out, 0, first);
            byte[] wrapped = block(whole.subtract(low));
            System.arraycopy(ctrRun(key, wrapped, data, first, data.length - first), 0, out, first, data.length - first);
            return out;
        } catch (GeneralSecurityException | ArithmeticException e) {
            throw CryptoException.operation("AES-CTR operation failed");
        }
    }

    private static byte[] ctrRun(byte[] key, byte[] counter, byte[] data, int off, int len) throws GeneralSecurityException {
        Cipher c = Cipher.getInstance("AES/CTR/NoPadding");
        c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(counter));
        return c.doFinal(data, off, len);
    }

    private static byte[] block(BigInteger v) {
        byte[] b = v.toByteArray();
        byte[] out = new byte[16];
        int n = Math.min(16, b.length);
        System.arraycopy(b, b.length - n, out, 16 - n, n);
        return out;
    }

    /** RFC 3394 key wrap: the input is a key (a multiple of 8 bytes, at least 16). */
    static byte[] kw(boolean wrap, byte[] key, byte[] data) throws CryptoException {
        checkKey(key);
        if (data.length % 8 != 0 || data.length < (wrap ? 16 : 24)) {
            throw CryptoException.operation("AES-KW input must be a multiple of 8 bytes and at least " + (wrap ? 16 : 24));
        }
        try {
            Cipher c = Cipher.getInstance("AES/KW/NoPadding");
            c.init(wrap ? Cipher.ENCRYPT_MODE : Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"));
            return c.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw CryptoException.operation(wrap ? "AES-KW wrapping failed" : "AES-KW unwrapping failed: integrity check");
        }
    }

    private static void checkKey(byte[] key) throws CryptoException {
        if (key.length != 16 && key.length != 24 && key.length != 32) {
            throw CryptoException.data("AES key must be 128, 192 or 256 bits");
        }
    }
}
