package dev.bulwark.sandbox.isolate.crypto;

import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.SignatureException;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.security.spec.RSAKeyGenParameterSpec;

/** Signatures, RSA-OAEP, key agreement and key generation for the asymmetric families. */
final class Asymmetric {
    /**
     * Largest modulus {@code generateKey} makes. Workers allows 16384, but generation runs in Java,
     * where V8's CPU limit cannot stop it, and an 8192-bit key already takes seconds.
     */
    static final int MAX_RSA_GENERATE_BITS = 4096;

    private Asymmetric() {}

    enum Scheme { PKCS1, PSS, ECDSA, EDDSA }

    static Scheme scheme(String name) throws CryptoException {
        return switch (name) {
            case "RSASSA-PKCS1-v1_5" -> Scheme.PKCS1;
            case "RSA-PSS" -> Scheme.PSS;
            case "ECDSA" -> Scheme.ECDSA;
            case "Ed25519" -> Scheme.EDDSA;
            default -> throw CryptoException.notSupported("Unsupported signature scheme " + name);
        };
    }

    static byte[] sign(KeyKind kind, Scheme scheme, Hash hash, int saltLength, byte[] pkcs8, byte[] data) throws CryptoException {
        try {
            Signature s = signature(kind, scheme, hash, saltLength);
            s.initSign(Keys.privateKey(kind, pkcs8));
            s.update(data);
            return s.sign();
        } catch (GeneralSecurityException | RuntimeException e) {
            throw CryptoException.operation("Signing failed" + (scheme == Scheme.PSS ? " (is the salt too long for the key?)" : ""));
        }
    }

    static boolean verify(KeyKind kind, Scheme scheme, Hash hash, int saltLength, byte[] spki, byte[] signature, byte[] data)
            throws CryptoException {
        Signature s;
        try {
            s = signature(kind, scheme, hash, saltLength);
            s.initVerify(Keys.publicKey(kind, spki));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw CryptoException.operation("Verification failed");
        }
        try {
            s.update(data);
            return s.verify(signature);
        } catch (SignatureException | RuntimeException e) {
            return false; // a malformed signature is simply not a valid one
        }
    }

    private static Signature signature(KeyKind kind, Scheme scheme, Hash hash, int saltLength)
            throws GeneralSecurityException, CryptoException {
        return switch (scheme) {
            case PKCS1 -> Signature.getInstance(hash.compact() + "withRSA");
            case PSS -> {
                if (saltLength < 0) throw CryptoException.operation("RSA-PSS saltLength must not be negative");
                Signature s = Signature.getInstance("RSASSA-PSS");
                s.setParameter(new PSSParameterSpec(hash.jdkDigest, "MGF1", new MGF1ParameterSpec(hash.jdkDigest), saltLength, 1));
                yield s;
            }
            case ECDSA -> {
                if (hash == Hash.MD5) throw CryptoException.notSupported("ECDSA with MD5 is not supported");
                yield Signature.getInstance(hash.compact() + "withECDSAinP1363Format");
            }
            case EDDSA -> Signature.getInstance("Ed25519");
        };
    }

    static byte[] oaep(boolean encrypt, Hash hash, byte[] der, byte[] label, byte[] data) throws CryptoException {
        try {
            Cipher c = Cipher.getInstance("RSA/ECB/OAEPPadding");
            OAEPParameterSpec spec = new OAEPParameterSpec(hash.jdkDigest, "MGF1", new MGF1ParameterSpec(hash.jdkDigest),
                    label.length == 0 ? PSource.PSpecified.DEFAULT : new PSource.PSpecified(label));
            if (encrypt) {
                c.init(Cipher.ENCRYPT_MODE, Keys.publicKey(KeyKind.RSA, der), spec);
            } else {
                c.init(Cipher.DECRYPT_MODE, Keys.privateKey(KeyKind.RSA, der), spec);
            }
            return c.doFinal(data);
        } catch (GeneralSecurityException | RuntimeException e) {
            throw CryptoException.operation(encrypt ? "Encryption failed (is the message too long for the key?)" : "Decryption failed.");
        }
    }

    /** ECDH or X25519: the shared secret (an EC secret is the x coordinate, field-size bytes). */
    static byte[] agree(KeyKind kind, byte[] pkcs8, byte[] peerSpki) throws CryptoException {
        try {
            KeyAgreement ka = KeyAgreement.getInstance(kind == KeyKind.X25519 ? "X25519" : "ECDH");
            ka.init(Keys.privateKey(kind, pkcs8));
            ka.doPhase(Keys.publicKey(kind, peerSpki), true);
            return ka.generateSecret();
        } catch (GeneralSecurityException | RuntimeException e) {
            throw CryptoException.operation("Key agreement failed");
        }
    }

    static Keys.Imported generate(KeyKind kind, int modulusBits, byte[] publicExponent, SecureRandom random) throws CryptoException {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance(kind.jdkFactory);
            switch (kind) {
                case RSA -> {
                    if (modulusBits % 8 != 0 || modulusBits < 512 || modulusBits > MAX_RSA_GENERATE_BITS) {
                        throw CryptoException.operation("The modulus length must be a multiple of 8 and between 512 and "
                                + MAX_RSA_GENERATE_BITS + ", but " + modulusBits + " was requested.");
                    }
                    BigInteger e = publicExponent.length > 8 ? BigInteger.ZERO : new BigInteger(1, publicExponent);
                    if (!e.equals(BigInteger.valueOf(3)) && !e.equals(BigInteger.valueOf(65537))) {
                        throw CryptoException.operation("The \"publicExponent\" must be either 3 or 65537.");
                    }
                    g.initialize(new RSAKeyGenParameterSpec(modulusBits, e), random);
                }
                case P256, P384, P521 -> g.initialize(kind.curve.params, random);
                case ED25519 -> g.initialize(NamedParameterSpec.ED25519, random);
                case X25519 -> g.initialize(NamedParameterSpec.X25519, random);
            }
            KeyPair pair = g.generateKeyPair();
            return switch (kind) {
                // ofPrivate would derive the public key again (slowly, for EC): use the pair's.
                case P256, P384, P521 -> new Keys.Imported(pair.getPrivate().getEncoded(), pair.getPublic().getEncoded());
                case RSA, ED25519, X25519 -> Keys.ofPrivate(kind, pair.getPrivate());
            };
        } catch (GeneralSecurityException e) {
            throw CryptoException.operation("Key generation failed");
        }
    }
}
