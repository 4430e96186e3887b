package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.V8Runtime;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.primitive.V8ValueString;
import com.caoccao.javet.values.reference.V8ValueTypedArray;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;

/**
 * The hashes behind node:crypto's createHash and createHmac, with Node's (OpenSSL's) names:
 * md5, sha1, sha224, sha256, sha384, sha512. Sizes are checked before bytes are copied out of V8.
 */
final class NodeCryptoHost {
    /** The most one digest may hash in one call (what a hash object has gathered before digest()). */
    static final int MAX_INPUT = 128 << 20;

    interface Binder {
        void bind(String name, com.caoccao.javet.interop.callback.IJavetDirectCallable.NoThisAndResult<Exception> fn)
                throws JavetException;
    }

    private NodeCryptoHost() {}

    static void install(V8Runtime runtime, Binder binder) throws JavetException {
        binder.bind("nodeHash", args -> bytes(runtime,
                MessageDigest.getInstance(jdkDigest(name(args))).digest(input(args, 1, "data"))));
        binder.bind("nodeHmac", args -> {
            String mac = "Hmac" + jdkDigest(name(args)).replace("-", "");
            byte[] key = input(args, 1, "key");
            Mac m = Mac.getInstance(mac);
            // An empty key is legal in Node; SecretKeySpec refuses an empty array, so pad with nothing:
            // HMAC pads keys with zeros to the block size, so one zero byte is the same key.
            m.init(new SecretKeySpec(key.length == 0 ? new byte[1] : key, mac));
            return bytes(runtime, m.doFinal(input(args, 2, "data")));
        });
    }

    private static String name(V8Value[] args) {
        if (args.length < 1 || !(args[0] instanceof V8ValueString s)) throw new IllegalArgumentException("hash name missing");
        return s.getValue();
    }

    static String jdkDigest(String nodeName) throws GeneralSecurityException {
        return switch (nodeName) {
            case "md5" -> "MD5";
            case "sha1" -> "SHA-1";
            case "sha224" -> "SHA-224";
            case "sha256" -> "SHA-256";
            case "sha384" -> "SHA-384";
            case "sha512" -> "SHA-512";
            default -> throw new GeneralSecurityException("Digest method not supported: " + nodeName);
        };
    }

    private static byte[] input(V8Value[] args, int i, String what) throws JavetException {
        if (args.length <= i || !(args[i] instanceof V8ValueTypedArray t)) {
            throw new IllegalArgumentException(what + " must be a Uint8Array");
        }
        if (t.getByteLength() > MAX_INPUT) {
            throw new IllegalArgumentException(what + " is larger than " + MAX_INPUT + " bytes");
        }
        return t.toBytes();
    }

    private static V8Value bytes(V8Runtime runtime, byte[] b) throws JavetException {
        V8ValueTypedArray a = runtime.createV8ValueTypedArray(com.caoccao.javet.enums.V8ValueReferenceType.Uint8Array, b.length);
        if (b.length > 0) a.fromBytes(b);
        return a;
    }
}
