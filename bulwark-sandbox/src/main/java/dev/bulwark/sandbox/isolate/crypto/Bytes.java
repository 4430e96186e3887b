package dev.bulwark.sandbox.isolate.crypto;

import java.math.BigInteger;

final class Bytes {
    private Bytes() {}

    /** An unsigned integer as exactly {@code length} big-endian bytes. */
    static byte[] fixed(BigInteger v, int length) {
        byte[] b = v.toByteArray();
        byte[] out = new byte[length];
        int n = Math.min(length, b.length);
        System.arraycopy(b, b.length - n, out, length - n, n);
        return out;
    }

    /** An unsigned integer in its shortest big-endian form (JWK RSA members). */
    static byte[] unsigned(BigInteger v) {
        byte[] b = v.toByteArray();
        if (b.length > 1 && b[0] == 0) return java.util.Arrays.copyOfRange(b, 1, b.length);
        return b;
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static byte[] hex(String h) {
        byte[] out = new byte[h.length() / 2];
        for (int i = 0; i < out.length; i++) out[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
        return out;
    }
}
