package dev.bulwark.sandbox.isolate.crypto;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.EdECPrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.interfaces.XECPrivateKey;
import java.security.spec.ECPoint;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPrivateCrtKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;

/**
 * Asymmetric keys in and out of their encodings. A key lives in JS as canonical DER only (PKCS#8
 * for a private key, with its public key's SPKI beside it; SPKI for a public key), inside the
 * CryptoKey's private fields; every import is parsed and re-encoded here, so what JS holds is
 * always something the JDK produced.
 */
final class Keys {
    /** RSA moduli above this are refused: private operations grow with the cube of the size. */
    static final int MAX_RSA_BITS = 16_384;

    private static final byte[] ED25519_SPKI = Bytes.hex("302a300506032b6570032100");
    private static final byte[] X25519_SPKI = Bytes.hex("302a300506032b656e032100");
    private static final byte[] ED25519_PKCS8 = Bytes.hex("302e020100300506032b657004220420");
    private static final byte[] X25519_PKCS8 = Bytes.hex("302e020100300506032b656e04220420");

    private Keys() {}

    /** A key as JS keeps it; {@code spki} equals {@code der} for a public key. */
    record Imported(byte[] der, byte[] spki, int modulusBits, byte[] publicExponent) {
        Imported(byte[] der, byte[] spki) {
            this(der, spki, 0, null);
        }
    }

    static KeyFactory factory(KeyKind kind) {
        try {
            return KeyFactory.getInstance(kind.jdkFactory);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK lacks " + kind.jdkFactory, e);
        }
    }

    static PublicKey publicKey(KeyKind kind, byte[] spki) throws CryptoException {
        try {
            return factory(kind).generatePublic(new X509EncodedKeySpec(spki));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw CryptoException.data("Invalid " + kind.wireName + " public key");
        }
    }

    static PrivateKey privateKey(KeyKind kind, byte[] pkcs8) throws CryptoException {
        try {
            return factory(kind).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw CryptoException.data("Invalid " + kind.wireName + " private key");
        }
    }

    // ------------------------------------------------------------------ import

    static Imported importSpki(KeyKind kind, byte[] der) throws CryptoException {
        return ofPublic(kind, publicKey(kind, der));
    }

    static Imported importPkcs8(KeyKind kind, byte[] der) throws CryptoException {
        return ofPrivate(kind, privateKey(kind, der));
    }

    static Imported importRaw(KeyKind kind, byte[] raw) throws CryptoException {
        switch (kind) {
            case ED25519, X25519 -> {
                if (raw.length != 32) throw CryptoException.data(kind.wireName + " raw public key must be 32 bytes");
                return importSpki(kind, Bytes.concat(kind == KeyKind.ED25519 ? ED25519_SPKI : X25519_SPKI, raw));
            }
            case P256, P384, P521 -> {
                int n = kind.curve.fieldBytes;
                if (raw.length != 1 + 2 * n || raw[0] != 4) {
                    throw CryptoException.data("Invalid " + kind.wireName + " point: expected an uncompressed point of " + (1 + 2 * n) + " bytes");
                }
                BigInteger x = new BigInteger(1, Arrays.copyOfRange(raw, 1, 1 + n));
                BigInteger y = new BigInteger(1, Arrays.copyOfRange(raw, 1 + n, 1 + 2 * n));
                return ecPublic(kind, new ECPoint(x, y));
            }
            case RSA -> throw CryptoException.notSupported("RSA keys cannot be imported in raw format");
        }
        throw new AssertionError(kind);
    }

    /**
     * A JWK's key members, already base64url-decoded, in a fixed order: RSA n e [d p q dp dq qi];
     * EC x y [d]; OKP x [d].
     */
    static Imported importJwk(KeyKind kind, byte[][] parts) throws CryptoException {
        try {
            switch (kind) {
                case RSA -> {
                    BigInteger n = big(parts[0]), e = big(parts[1]);
                    if (parts.length == 2) {
                        return ofPublic(kind, factory(kind).generatePublic(new RSAPublicKeySpec(n, e)));
                    }
                    RSAPrivateCrtKeySpec spec = new RSAPrivateCrtKeySpec(n, e, big(parts[2]), big(parts[3]), big(parts[4]),
                            big(parts[5]), big(parts[6]), big(parts[7]));
                    if (!spec.getPrimeP().multiply(spec.getPrimeQ()).equals(n)) throw CryptoException.data("Invalid RSA private key: p·q ≠ n");
                    return ofPrivate(kind, factory(kind).generatePrivate(spec));
                }
                case P256, P384, P521 -> {
                    Curve c = kind.curve;
                    for (byte[] part : parts) {
                        if (part.length != c.fieldBytes) throw CryptoException.data("Invalid " + c.webName + " JWK: members must be " + c.fieldBytes + " bytes");
                    }
                    ECPoint q = new ECPoint(big(parts[0]), big(parts[1]));
                    if (parts.length == 2) return ecPublic(kind, q);
                    Imported priv = ofPrivate(kind, factory(kind).generatePrivate(new ECPrivateKeySpec(big(parts[2]), c.params)));
                    ECPublicKey derived = (ECPublicKey) publicKey(kind, priv.spki());
                    if (!derived.getW().equals(q)) throw CryptoException.data("Invalid " + c.webName + " JWK: d does not match x and y");
                    return priv;
                }
                case ED25519, X25519 -> {
                    if (parts.length == 1) return importRaw(kind, parts[0]);
                    if (parts[1].length != 32) throw CryptoException.data("Invalid " + kind.wireName + " JWK: d must be 32 bytes");
                    Imported priv = importPkcs8(kind, Bytes.concat(kind == KeyKind.ED25519 ? ED25519_PKCS8 : X25519_PKCS8, parts[1]));
                    if (!Arrays.equals(exportRaw(kind, priv.spki()), parts[0])) {
                        throw CryptoException.data("Invalid " + kind.wireName + " JWK: d does not match x");
                    }
                    return priv;
                }
            }
        } catch (GeneralSecurityException | RuntimeException e) {
            throw CryptoException.data("Invalid " + kind.wireName + " JWK");
        }
        throw new AssertionError(kind);
    }

    private static Imported ecPublic(KeyKind kind, ECPoint q) throws CryptoException {
        if (!kind.curve.contains(q)) throw CryptoException.data("The point is not on " + kind.curve.webName);
        try {
            return ofPublic(kind, factory(kind).generatePublic(new ECPublicKeySpec(q, kind.curve.params)));
        } catch (GeneralSecurityException e) {
            throw CryptoException.data("Invalid " + kind.wireName + " public key");
        }
    }

    private static BigInteger big(byte[] b) throws CryptoException {
        if (b == null || b.length == 0) throw CryptoException.data("A JWK member is missing or empty");
        return new BigInteger(1, b);
    }

    static Imported ofPublic(KeyKind kind, PublicKey key) throws CryptoException {
        switch (key) {
            case RSAPublicKey rsa -> {
                checkRsaSize(rsa.getModulus());
                byte[] der = rsa.getEncoded();
                return new Imported(der, der, rsa.getModulus().bitLength(), Bytes.unsigned(rsa.getPublicExponent()));
            }
            case ECPublicKey ec -> {
                if (Curve.of(ec.getParams()) != kind.curve) throw CryptoException.data("The key is not on " + kind.curve.webName);
                if (!kind.curve.contains(ec.getW())) throw CryptoException.data("The point is not on " + kind.curve.webName);
                byte[] der = ec.getEncoded();
                return new Imported(der, der);
            }
            default -> {
                byte[] der = key.getEncoded();
                if (!kind.okp() || der.length != 44) throw CryptoException.data("Invalid " + kind.wireName + " public key");
                return new Imported(der, der);
            }
        }
    }

    static Imported ofPrivate(KeyKind kind, PrivateKey key) throws CryptoException {
        try {
            switch (key) {
                case RSAPrivateCrtKey rsa -> {
                    checkRsaSize(rsa.getModulus());
                    PublicKey pub = factory(kind).generatePublic(new RSAPublicKeySpec(rsa.getModulus(), rsa.getPublicExponent()));
                    return new Imported(rsa.getEncoded(), pub.getEncoded(), rsa.getModulus().bitLength(), Bytes.unsigned(rsa.getPublicExponent()));
                }
                case ECPrivateKey ec -> {
                    Curve c = Curve.of(ec.getParams());
                    if (c != kind.curve) throw CryptoException.data("The key is not on " + kind.curve.webName);
                    BigInteger s = ec.getS();
                    if (s.signum() <= 0 || s.compareTo(c.params.getOrder()) >= 0) throw CryptoException.data("Invalid " + c.webName + " private key");
                    PublicKey pub = factory(kind).generatePublic(new ECPublicKeySpec(c.publicPoint(s), c.params));
                    return new Imported(ec.getEncoded(), pub.getEncoded());
                }
                case EdECPrivateKey ed -> {
                    byte[] d = ed.getBytes().orElseThrow(() -> CryptoException.data("Invalid Ed25519 private key"));
                    return okpPrivate(kind, d);
                }
                case XECPrivateKey x -> {
                    byte[] d = x.getScalar().orElseThrow(() -> CryptoException.data("Invalid X25519 private key"));
                    return okpPrivate(kind, d);
                }
                default -> throw CryptoException.data("Invalid " + kind.wireName + " private key");
            }
        } catch (GeneralSecurityException e) {
            throw CryptoException.data("Invalid " + kind.wireName + " private key");
        }
    }

    /**
     * The JDK derives a 25519 public key only while generating a pair, from the 32 bytes its
     * random source gives it: hand it the private key as that randomness.
     */
    private static Imported okpPrivate(KeyKind kind, byte[] d) throws GeneralSecurityException, CryptoException {
        if (d.length != 32) throw CryptoException.data("Invalid " + kind.wireName + " private key");
        KeyPairGenerator g = KeyPairGenerator.getInstance(kind.jdkFactory);
        g.initialize(kind == KeyKind.ED25519 ? NamedParameterSpec.ED25519 : NamedParameterSpec.X25519, new Replay(d));
        KeyPair pair = g.generateKeyPair();
        byte[] pkcs8 = Bytes.concat(kind == KeyKind.ED25519 ? ED25519_PKCS8 : X25519_PKCS8, d);
        return new Imported(pkcs8, pair.getPublic().getEncoded());
    }

    private static void checkRsaSize(BigInteger n) throws CryptoException {
        if (n.bitLength() > MAX_RSA_BITS) throw CryptoException.data("RSA keys above " + MAX_RSA_BITS + " bits are not supported");
    }

    /** Yields given bytes once, as a random source; anything more is a bug. */
    private static final class Replay extends SecureRandom {
        private byte[] bytes;

        Replay(byte[] bytes) {
            this.bytes = bytes.clone();
        }

        @Override
        public void nextBytes(byte[] out) {
            if (bytes == null || out.length != bytes.length) throw new IllegalStateException("unexpected randomness request");
            System.arraycopy(bytes, 0, out, 0, out.length);
            bytes = null;
        }
    }

    // ------------------------------------------------------------------ export

    static byte[] exportRaw(KeyKind kind, byte[] spki) throws CryptoException {
        return switch (kind) {
            case ED25519, X25519 -> Arrays.copyOfRange(spki, spki.length - 32, spki.length);
            case P256, P384, P521 -> {
                ECPoint w = ((ECPublicKey) publicKey(kind, spki)).getW();
                yield Bytes.concat(new byte[] {4}, Bytes.concat(kind.curve.fixed(w.getAffineX()), kind.curve.fixed(w.getAffineY())));
            }
            case RSA -> throw CryptoException.notSupported("RSA keys cannot be exported in raw format");
        };
    }

    /** The JWK members in {@link #importJwk}'s order; {@code pkcs8} null for a public key. */
    static byte[][] exportJwk(KeyKind kind, byte[] spki, byte[] pkcs8) throws CryptoException {
        switch (kind) {
            case RSA -> {
                RSAPublicKey pub = (RSAPublicKey) publicKey(kind, spki);
                if (pkcs8 == null) return new byte[][] {Bytes.unsigned(pub.getModulus()), Bytes.unsigned(pub.getPublicExponent())};
                if (!(privateKey(kind, pkcs8) instanceof RSAPrivateCrtKey k)) throw CryptoException.operation("The RSA key lacks CRT members");
                return new byte[][] {Bytes.unsigned(k.getModulus()), Bytes.unsigned(k.getPublicExponent()),
                        Bytes.unsigned(k.getPrivateExponent()), Bytes.unsigned(k.getPrimeP()), Bytes.unsigned(k.getPrimeQ()),
                        Bytes.unsigned(k.getPrimeExponentP()), Bytes.unsigned(k.getPrimeExponentQ()), Bytes.unsigned(k.getCrtCoefficient())};
            }
            case P256, P384, P521 -> {
                ECPoint w = ((ECPublicKey) publicKey(kind, spki)).getW();
                byte[] x = kind.curve.fixed(w.getAffineX()), y = kind.curve.fixed(w.getAffineY());
                if (pkcs8 == null) return new byte[][] {x, y};
                ECPrivateKey k = (ECPrivateKey) privateKey(kind, pkcs8);
                return new byte[][] {x, y, kind.curve.fixed(k.getS())};
            }
            case ED25519, X25519 -> {
                byte[] x = exportRaw(kind, spki);
                if (pkcs8 == null) return new byte[][] {x};
                return new byte[][] {x, Arrays.copyOfRange(pkcs8, pkcs8.length - 32, pkcs8.length)};
            }
        }
        throw new AssertionError(kind);
    }
}
