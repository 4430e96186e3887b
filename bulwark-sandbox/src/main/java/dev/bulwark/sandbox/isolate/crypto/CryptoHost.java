package dev.bulwark.sandbox.isolate.crypto;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.V8Runtime;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.primitive.V8ValueBoolean;
import com.caoccao.javet.values.primitive.V8ValueDouble;
import com.caoccao.javet.values.primitive.V8ValueInteger;
import com.caoccao.javet.values.primitive.V8ValueLong;
import com.caoccao.javet.values.primitive.V8ValueString;
import com.caoccao.javet.values.reference.V8ValueArrayBuffer;

import javax.crypto.Mac;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.SecureRandom;

/**
 * The JDK side of {@code crypto.subtle}: one host function, {@code crypto(op, ...args)}, for one
 * isolate. Arguments are strings, numbers, booleans and ArrayBuffers; results are an ArrayBuffer
 * (several byte strings framed in one), a boolean or a number; a failure is answered as a string
 * {@code "ErrorName\nmessage"} that the prelude turns into the DOMException WebCrypto specifies.
 *
 * <p>It holds no keys: key material stays inside CryptoKey objects' private fields in JS and is
 * passed in for each operation. Every byte argument's length is checked before it is copied.
 */
public final class CryptoHost {
    /** Largest data argument of one call (a message, a ciphertext); larger digests arrive in pieces. */
    public static final int MAX_INPUT = 16 << 20;
    /** Largest key, IV, salt, label or JWK member. */
    static final int MAX_KEY = 64 << 10;
    /** PBKDF2 blocks × iterations one call may cost (each is one HMAC). */
    static final long MAX_PBKDF2_WORK = 1_000_000;

    private final V8Runtime runtime;
    private final SecureRandom random;
    private final Hashing hashing = new Hashing();

    public CryptoHost(V8Runtime runtime, SecureRandom random) {
        this.runtime = runtime;
        this.random = random;
    }

    /** The host function: never throws for a crypto failure, answers it as a string. */
    public V8Value call(V8Value[] args) throws JavetException {
        try {
            return dispatch(new Args(args));
        } catch (CryptoException e) {
            return runtime.createV8ValueString(e.kind.jsName + "\n" + e.getMessage());
        }
    }

    private V8Value dispatch(Args a) throws JavetException, CryptoException {
        String op = a.string(0);
        return switch (op) {
            case "digest" -> {
                MessageDigest md = Hash.of(a.string(1)).digest();
                md.update(a.view(2));
                yield bytes(md.digest());
            }
            case "hmac" -> {
                Mac mac = Hash.of(a.string(1)).mac(a.bytes(2, MAX_KEY));
                mac.update(a.view(3));
                yield bytes(mac.doFinal());
            }
            case "hashInit" -> runtime.createV8ValueInteger(hashing.digest(Hash.of(a.string(1))));
            case "hmacInit" -> runtime.createV8ValueInteger(hashing.hmac(Hash.of(a.string(1)), a.bytes(2, MAX_KEY)));
            case "hashUpdate" -> {
                hashing.update(a.integer(1), a.view(2));
                yield runtime.createV8ValueUndefined();
            }
            case "hashFinish" -> bytes(hashing.finish(a.integer(1)));
            case "hashDrop" -> {
                hashing.drop(a.integer(1));
                yield runtime.createV8ValueUndefined();
            }
            case "aesGcm" -> bytes(Aes.gcm(a.bool(1), a.bytes(2, MAX_KEY), a.bytes(3, MAX_KEY), a.bytes(4, MAX_INPUT),
                    a.integer(5), a.bytes(6, MAX_INPUT)));
            case "aesCbc" -> bytes(Aes.cbc(a.bool(1), a.bytes(2, MAX_KEY), a.bytes(3, MAX_KEY), a.bytes(4, MAX_INPUT)));
            case "aesCtr" -> bytes(Aes.ctr(a.bytes(1, MAX_KEY), a.bytes(2, MAX_KEY), a.integer(3), a.bytes(4, MAX_INPUT)));
            case "aesKw" -> bytes(Aes.kw(a.bool(1), a.bytes(2, MAX_KEY), a.bytes(3, MAX_KEY)));
            case "hkdf" -> bytes(Kdf.hkdf(Hash.of(a.string(1)), a.bytes(2, MAX_KEY), a.bytes(3, MAX_KEY), a.bytes(4, MAX_KEY),
                    a.integer(5)));
            case "pbkdf2" -> {
                Hash hash = Hash.of(a.string(1));
                int iterations = a.integer(4), length = a.integer(5);
                long work = (long) Math.ceilDiv(length, hash.length) * Math.max(iterations, 0);
                if (iterations <= Kdf.MAX_PBKDF2_ITERATIONS && work > MAX_PBKDF2_WORK) {
                    throw CryptoException.notSupported("Pbkdf2 failed: " + length * 8 + " bits at " + iterations
                            + " iterations exceed the work one call may do (" + MAX_PBKDF2_WORK + " HMAC blocks).");
                }
                yield bytes(Kdf.pbkdf2(hash, a.bytes(2, MAX_KEY), a.bytes(3, MAX_KEY), iterations, length));
            }
            case "generate" -> imported(Asymmetric.generate(KeyKind.of(a.string(1)), a.integer(2), a.bytes(3, MAX_KEY), random));
            case "import" -> {
                KeyKind kind = KeyKind.of(a.string(1));
                byte[] data = a.bytes(3, MAX_KEY);
                yield imported(switch (a.string(2)) {
                    case "spki" -> Keys.importSpki(kind, data);
                    case "pkcs8" -> Keys.importPkcs8(kind, data);
                    case "raw" -> Keys.importRaw(kind, data);
                    default -> throw CryptoException.notSupported("Unrecognized key import format");
                });
            }
            case "importJwk" -> {
                int n = 0;
                while (n < 8 && a.optionalBytesLength(n + 2) >= 0) n++;
                byte[][] parts = new byte[n][];
                for (int i = 0; i < n; i++) parts[i] = a.bytes(i + 2, MAX_KEY);
                yield imported(Keys.importJwk(KeyKind.of(a.string(1)), parts));
            }
            case "exportRaw" -> bytes(Keys.exportRaw(KeyKind.of(a.string(1)), a.bytes(2, MAX_KEY)));
            case "exportJwk" -> framed(Keys.exportJwk(KeyKind.of(a.string(1)), a.bytes(2, MAX_KEY), a.optionalBytes(3, MAX_KEY)));
            case "random" -> {
                int n = a.integer(1);
                if (n < 0 || n > MAX_KEY) throw CryptoException.operation("Cannot generate " + n + " random bytes");
                byte[] b = new byte[n];
                random.nextBytes(b);
                yield bytes(b);
            }
            case "sign" -> bytes(Asymmetric.sign(KeyKind.of(a.string(1)), Asymmetric.scheme(a.string(2)), hashOrSha256(a.string(3)),
                    a.integer(4), a.bytes(5, MAX_KEY), a.bytes(6, MAX_INPUT)));
            case "verify" -> runtime.createV8ValueBoolean(Asymmetric.verify(KeyKind.of(a.string(1)), Asymmetric.scheme(a.string(2)),
                    hashOrSha256(a.string(3)), a.integer(4), a.bytes(5, MAX_KEY), a.bytes(6, MAX_KEY), a.bytes(7, MAX_INPUT)));
            case "oaep" -> bytes(Asymmetric.oaep(a.bool(1), Hash.of(a.string(2)), a.bytes(3, MAX_KEY), a.bytes(4, MAX_KEY),
                    a.bytes(5, MAX_INPUT)));
            case "agree" -> bytes(Asymmetric.agree(KeyKind.of(a.string(1)), a.bytes(2, MAX_KEY), a.bytes(3, MAX_KEY)));
            case null, default -> throw CryptoException.notSupported("Unknown crypto operation");
        };
    }

    /** Ed25519 takes no hash; its requests carry none. */
    private static Hash hashOrSha256(String name) throws CryptoException {
        return name == null ? Hash.SHA_256 : Hash.of(name);
    }

    /** [der, spki, modulus bits as 4 bytes, public exponent?] in one framed buffer. */
    private V8Value imported(Keys.Imported k) throws JavetException {
        byte[] bits = java.nio.ByteBuffer.allocate(4).putInt(k.modulusBits()).array();
        return k.publicExponent() == null ? framed(new byte[][] {k.der(), k.spki(), bits})
                : framed(new byte[][] {k.der(), k.spki(), bits, k.publicExponent()});
    }

    /**
     * Several byte strings in one ArrayBuffer, each as a 4-byte big-endian length and its bytes.
     * One buffer, not a JS array: Javet fills arrays by calling their (replaceable) push method.
     */
    private V8Value framed(byte[][] parts) throws JavetException {
        int total = 0;
        for (byte[] p : parts) total += 4 + p.length;
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(total);
        for (byte[] p : parts) out.putInt(p.length).put(p);
        return bytes(out.array());
    }

    /**
     * An ArrayBuffer made natively. Not a Uint8Array: Javet creates typed arrays by calling the
     * global {@code Uint8Array}, which a worker can replace to keep a reference to what the host
     * then writes into it (a generated key, a derived secret).
     */
    private V8ValueArrayBuffer bytes(byte[] b) throws JavetException {
        V8ValueArrayBuffer a = runtime.createV8ValueArrayBuffer(b.length);
        if (b.length > 0) a.fromBytes(b);
        return a;
    }

    /** Typed access to the arguments, sizes checked before any byte is copied. */
    private record Args(V8Value[] values) {
        private V8Value at(int i) {
            return i < values.length ? values[i] : null;
        }

        String string(int i) {
            return at(i) instanceof V8ValueString s ? s.getValue() : null;
        }

        boolean bool(int i) {
            return at(i) instanceof V8ValueBoolean b && b.getValue();
        }

        int integer(int i) throws CryptoException {
            double d = switch (at(i)) {
                case V8ValueInteger n -> n.getValue();
                case V8ValueLong n -> n.getValue();
                case V8ValueDouble n -> n.getValue();
                case null, default -> throw new CryptoException(CryptoException.Kind.TYPE, "Argument " + i + " of " + string(0) + " must be a number");
            };
            if (d != Math.rint(d) || d < Integer.MIN_VALUE || d > Integer.MAX_VALUE) {
                throw CryptoException.operation("A numeric argument is out of range");
            }
            return (int) d;
        }

        /**
         * Arguments {@code i, i+1, i+2}: an ArrayBuffer, an offset and a length, as a read-only
         * view of V8's memory, for digests: the JDK hashes straight from it, so hashing any size
         * costs no Java copy. Valid only during this call (no JS runs, so nothing can detach the
         * buffer, until it returns).
         */
        ByteBuffer view(int i) throws CryptoException {
            ByteBuffer whole = buffer(i);
            int offset = integer(i + 1), n = integer(i + 2);
            if (offset < 0 || n < 0 || (long) offset + n > whole.capacity()) throw CryptoException.operation("The input's range is outside its buffer");
            return whole.slice(offset, n).asReadOnlyBuffer();
        }

        /**
         * An ArrayBuffer argument's memory. Its size comes from V8 itself (the direct buffer's
         * capacity), never from a JS property a worker could redefine; byte arguments are
         * ArrayBuffers for that reason, not typed arrays (whose byteLength Javet reads as a property).
         */
        private ByteBuffer buffer(int i) throws CryptoException {
            if (!(at(i) instanceof V8ValueArrayBuffer ab)) {
                throw new CryptoException(CryptoException.Kind.TYPE, "Argument " + i + " of " + string(0) + " must be an ArrayBuffer");
            }
            ByteBuffer b = ab.getByteBuffer();
            return b == null ? ByteBuffer.allocate(0) : b.duplicate();
        }

        /** The byte length of argument i, or -1 if it is not an ArrayBuffer. */
        int optionalBytesLength(int i) {
            if (!(at(i) instanceof V8ValueArrayBuffer ab)) return -1;
            ByteBuffer b = ab.getByteBuffer();
            return b == null ? 0 : b.capacity();
        }

        byte[] bytes(int i, int cap) throws CryptoException {
            byte[] b = optionalBytes(i, cap);
            if (b == null) throw new CryptoException(CryptoException.Kind.TYPE, "Argument " + i + " of " + string(0) + " must be an ArrayBuffer");
            return b;
        }

        byte[] optionalBytes(int i, int cap) throws CryptoException {
            if (!(at(i) instanceof V8ValueArrayBuffer)) return null;
            ByteBuffer b = buffer(i);
            int n = b.capacity();
            if (n > cap) {
                throw CryptoException.operation("Input of " + n + " bytes exceeds the limit of " + cap + " bytes for this argument");
            }
            byte[] out = new byte[n];
            b.position(0).get(out);
            return out;
        }
    }
}
