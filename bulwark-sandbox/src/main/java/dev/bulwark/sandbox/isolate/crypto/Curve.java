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
     * k·G, for deriving a public key from an imported private key. Plain double-and-add in affine
     * coordinates: not constant-time, so it runs only on import/export, never per operation.
     */
    ECPoint publicPoint(BigInteger k) {
        ECPoint result = ECPoint.POINT_INFINITY;
        ECPoint addend = params.getGenerator();
        for (int i = 0; i < k.bitLength(); i++) {
            if (k.testBit(i)) result = add(result, addend);
            addend = add(addend, addend);
        }
        return result;
    }

    private ECPoint add(ECPoint a, ECPoint b) {
        if (a.equals(ECPoint.POINT_INFINITY)) return b;
        if (b.equals(ECPoint.POINT_INFINITY)) return a;
        BigInteger x1 = a.getAffineX(), y1 = a.getAffineY(), x2 = b.getAffineX(), y2 = b.getAffineY();
        BigInteger lambda;
        if (x1.equals(x2)) {
            if (y1.add(y2).mod(p).signum() == 0) return ECPoint.POINT_INFINITY;
            BigInteger num = x1.multiply(x1).multiply(BigInteger.valueOf(3)).add(params.getCurve().getA());
            lambda = num.multiply(y1.shiftLeft(1).modInverse(p)).mod(p);
        } else {
            lambda = y2.subtract(y1).multiply(x2.subtract(x1).modInverse(p)).mod(p);
        }
        BigInteger x3 = lambda.multiply(lambda).subtract(x1).subtract(x2).mod(p);
        BigInteger y3 = lambda.multiply(x1.subtract(x3)).subtract(y1).mod(p);
        return new ECPoint(x3, y3);
    }

    /** A field element as a fixed-length big-endian byte string (JWK x/y/d, raw points). */
    byte[] fixed(BigInteger v) {
        return Bytes.fixed(v, fieldBytes);
    }
}
