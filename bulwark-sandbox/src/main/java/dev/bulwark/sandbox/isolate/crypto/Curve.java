package dev.bulwark.sandbox.isolate.crypto;

import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.spec.ECFieldFp;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;

/** The NIST curves WebCrypto names, with the little point arithmetic the JDK does not expose. */
enum Curve {
    P256("P-256", "secp256r1", 32),
    P384("P-384", "secp384r1", 48),
    P521("P-521", "secp521r1", 66);

    final String webName;
    final int fieldBytes;
    final ECParameterSpec params;
    private final BigInteger p;

    Curve(String webName, String jdkName, int fieldBytes) {
        this.webName = webName;
        this.fieldBytes = fieldBytes;
        try {
            AlgorithmParameters ap = AlgorithmParameters.getInstance("EC");
            ap.init(new ECGenParameterSpec(jdkName));
            this.params = ap.getParameterSpec(ECParameterSpec.class);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK lacks " + jdkName, e);
        }
        this.p = ((ECFieldFp) params.getCurve().getField()).getP();
    }

    /** Whether a key's parameters are this curve's (the JDK names curves only by their parameters). */
    boolean matches(ECParameterSpec other) {
        return other.getOrder().equals(params.getOrder()) && other.getGenerator().equals(params.getGenerator())
                && other.getCurve().equals(params.getCurve());
    }

    static Curve of(ECParameterSpec spec) throws CryptoException {
        for (Curve c : values()) if (c.matches(spec)) return c;
        throw CryptoException.notSupported("Unsupported elliptic curve");
    }

    /** y² = x³ + ax + b (mod p), with both coordinates in the field. */
    boolean contains(ECPoint q) {
        if (q.equals(ECPoint.POINT_INFINITY)) return false;
        BigInteger x = q.getAffineX(), y = q.getAffineY();
        if (x.signum() < 0 || y.signum() < 0 || x.compareTo(p) >= 0 || y.compareTo(p) >= 0) return false;
        BigInteger a = params.getCurve().getA(), b = params.getCurve().getB();
        return y.multiply(y).subtract(x.multiply(x).multiply(x)).subtract(a.multiply(x)).subtract(b).mod(p).signum() == 0;
    }

    /**
     * k·G, for deriving a public key from an imported private key. Double-and-add in Jacobian
     * coordinates (one inversion at the end): not constant-time, so it runs only on import, never
     * per operation.
     */
    ECPoint publicPoint(BigInteger k) {
        BigInteger[] r = null; // null: the point at infinity
        BigInteger[] q = {params.getGenerator().getAffineX(), params.getGenerator().getAffineY(), BigInteger.ONE};
        for (int i = k.bitLength() - 1; i >= 0; i--) {
            if (r != null) r = twice(r);
            if (k.testBit(i)) r = r == null ? q : plus(r, q);
        }
        if (r == null || r[2].signum() == 0) return ECPoint.POINT_INFINITY;
        BigInteger zi = r[2].modInverse(p), zi2 = zi.multiply(zi).mod(p);
        return new ECPoint(r[0].multiply(zi2).mod(p), r[1].multiply(zi2).multiply(zi).mod(p));
    }

    private BigInteger[] twice(BigInteger[] a) {
        BigInteger x = a[0], y = a[1], z = a[2];
        if (y.signum() == 0 || z.signum() == 0) return new BigInteger[] {BigInteger.ONE, BigInteger.ONE, BigInteger.ZERO};
        BigInteger y2 = y.multiply(y).mod(p);
        BigInteger s4 = x.multiply(y2).shiftLeft(2).mod(p);
        BigInteger z2 = z.multiply(z).mod(p);
        BigInteger m = x.multiply(x).multiply(BigInteger.valueOf(3)).add(params.getCurve().getA().multiply(z2.multiply(z2))).mod(p);
        BigInteger x3 = m.multiply(m).subtract(s4.shiftLeft(1)).mod(p);
        BigInteger y3 = m.multiply(s4.subtract(x3)).subtract(y2.multiply(y2).shiftLeft(3)).mod(p);
        BigInteger z3 = y.multiply(z).shiftLeft(1).mod(p);
        return new BigInteger[] {x3, y3, z3};
    }

    private BigInteger[] plus(BigInteger[] a, BigInteger[] b) {
        if (a[2].signum() == 0) return b;
        if (b[2].signum() == 0) return a;
        BigInteger z1s = a[2].multiply(a[2]).mod(p), z2s = b[2].multiply(b[2]).mod(p);
        BigInteger u1 = a[0].multiply(z2s).mod(p), u2 = b[0].multiply(z1s).mod(p);
        BigInteger s1 = a[1].multiply(z2s).multiply(b[2]).mod(p), s2 = b[1].multiply(z1s).multiply(a[2]).mod(p);
        if (u1.equals(u2)) {
            return s1.equals(s2) ? twice(a) : new BigInteger[] {BigInteger.ONE, BigInteger.ONE, BigInteger.ZERO};
        }
        BigInteger h = u2.subtract(u1).mod(p), r = s2.subtract(s1).mod(p);
        BigInteger h2 = h.multiply(h).mod(p), h3 = h2.multiply(h).mod(p), u1h2 = u1.multiply(h2).mod(p);
        BigInteger x3 = r.multiply(r).subtract(h3).subtract(u1h2.shiftLeft(1)).mod(p);
        BigInteger y3 = r.multiply(u1h2.subtract(x3)).subtract(s1.multiply(h3)).mod(p);
        BigInteger z3 = h.multiply(a[2]).multiply(b[2]).mod(p);
        return new BigInteger[] {x3, y3, z3};
    }

    /** A field element as a fixed-length big-endian byte string (JWK x/y/d, raw points). */
    byte[] fixed(BigInteger v) {
        return Bytes.fixed(v, fieldBytes);
    }
}
