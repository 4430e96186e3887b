package dev.bulwark.sandbox.isolate.crypto;

/** The families of asymmetric keys: RSA, the NIST curves, and the two 25519 curves. */
enum KeyKind {
    RSA("RSA", "RSA", null),
    P256("P-256", "EC", Curve.P256),
    P384("P-384", "EC", Curve.P384),
    P521("P-521", "EC", Curve.P521),
    ED25519("Ed25519", "Ed25519", null),
    X25519("X25519", "X25519", null);

    final String wireName;
    final String jdkFactory;
    final Curve curve;

    KeyKind(String wireName, String jdkFactory, Curve curve) {
        this.wireName = wireName;
        this.jdkFactory = jdkFactory;
        this.curve = curve;
    }

    static KeyKind of(String name) throws CryptoException {
        for (KeyKind k : values()) if (k.wireName.equals(name)) return k;
        throw CryptoException.notSupported("Unsupported key type: " + name);
    }

    boolean okp() {
        return this == ED25519 || this == X25519;
    }
}
