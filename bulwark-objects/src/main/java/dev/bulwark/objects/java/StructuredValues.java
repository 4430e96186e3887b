package dev.bulwark.objects.java;

import java.math.BigInteger;
import java.util.LinkedHashMap;

/**
 * Java values in the structured format of JS RPC and durable-object KV values ({@code serialize.js},
 * format v1): the one codec between Java and JS values, used by Java durable objects, Java
 * capabilities ({@code dev.bulwark.server.caps}), the tenant
 * HTTP API and the Java embedding API. The mapping, both ways:
 *
 * <table>
 * <caption>JavaScript and Java values</caption>
 * <tr><th>JavaScript</th><th>Java</th></tr>
 * <tr><td>{@code null}, {@code undefined}</td><td>{@code null} (undefined arrives as null; null is sent as null)</td></tr>
 * <tr><td>boolean</td><td>{@link Boolean}</td></tr>
 * <tr><td>number</td><td>{@link Long} when it is an integer of magnitude at most 2^53 − 1 (and not −0), else
 *     {@link Double} (fractions, NaN, ±Infinity, −0, larger magnitudes). Sent: Byte, Short, Integer, Long
 *     (magnitude at most 2^53 − 1, else refused: use BigInteger), Float, Double; other Number classes
 *     are refused</td></tr>
 * <tr><td>bigint</td><td>{@link java.math.BigInteger} (both ways)</td></tr>
 * <tr><td>string</td><td>{@link String} (lone surrogates kept)</td></tr>
 * <tr><td>{@code Uint8Array}, {@code ArrayBuffer}</td><td>{@code byte[]} (a copy of the viewed bytes);
 *     a {@code byte[]} is sent as a {@code Uint8Array}</td></tr>
 * <tr><td>{@code Date}</td><td>{@link java.time.Instant} (milliseconds; an invalid Date is refused)</td></tr>
 * <tr><td>array</td><td>{@link java.util.List} (holes arrive as null; an array with extra named properties is
 *     refused; sparse arrays longer than their bytes may have {@value #MAX_SPARSE_ELEMENTS} elements in all
 *     per value)</td></tr>
 * <tr><td>plain object</td><td>{@link java.util.Map} with String keys, in insertion order (own enumerable
 *     properties; prototypes are not kept, as in structured clone). Sent: any Map whose keys are all
 *     Strings (an empty Map too), except one that arrived as a JS {@code Map}</td></tr>
 * <tr><td>{@code Map}</td><td>{@link java.util.Map} in insertion order, which is sent back as a JS
 *     {@code Map} (even with only String keys) as long as it is that same instance. Sent: a Map with any
 *     key that is not a String. Keys must be primitives (null, Boolean, a number, BigInteger, String) both
 *     ways: an object key is refused, since JS compares it by identity and Java by content</td></tr>
 * <tr><td>{@code Set}</td><td>{@link java.util.Set} (a {@code LinkedHashSet}, insertion order); any Java Set
 *     is sent as a {@code Set}. Elements must be primitives, as Map keys</td></tr>
 * <tr><td>{@code Error} and its standard subclasses</td><td>{@link RpcError} (type and message; stack and
 *     cause dropped). A {@code DOMException} arrives as an {@code RpcError} of type ERROR whose
 *     {@link RpcError#name()} is the DOMException's name, and is sent back as that DOMException</td></tr>
 * </table>
 *
 * <p>Refused (a {@code TypeError} for the caller): RegExp, boxed primitives, typed arrays other than
 * Uint8Array, DataView, and capabilities (stubs, functions, RpcTargets). Shared references and
 * cycles survive both ways (a List or Map may contain itself). Nesting deeper than
 * {@value #MAX_DEPTH} is refused.
 *
 * <p>Decoding treats its input as hostile (it comes from sandboxes): every length and count is
 * checked against the bytes left before anything is allocated.
 */
public final class StructuredValues {
    static final int MAGIC = 0xB7;
    static final int VERSION = 1;
    static final int MAX_DEPTH = 1000;
    /** The most elements that sparse arrays of one value may have beyond its bytes (holes arrive as nulls). */
    static final int MAX_SPARSE_ELEMENTS = 1 << 20;
    /** The largest integer a JS number holds exactly. */
    static final long MAX_SAFE_INTEGER = (1L << 53) - 1;

    private StructuredValues() {}

    /** What a JS {@code Map} arrives as: written back as a {@code Map}, never as a plain object. */
    static final class JsMap extends LinkedHashMap<Object, Object> {
        @java.io.Serial
        private static final long serialVersionUID = 1L;
    }

    /** The values a Map key or Set element may be (see the class comment). */
    static boolean isPrimitive(Object v) {
        return switch (v) {
            case null -> true;
            case Boolean _, Byte _, Short _, Integer _, Long _, Float _, Double _, BigInteger _, String _ -> true;
            default -> false;
        };
    }

    /**
     * The bytes of {@code value}.
     *
     * @throws IllegalArgumentException when the value (or a part of it) has no JS form, or the
     *                                  bytes would pass {@code maxBytes}
     */
    public static byte[] encode(Object value, int maxBytes) {
        return new StructuredWriter(maxBytes).write(value);
    }

    /** {@link #encode(Object, int)} with a 32 MiB limit. */
    public static byte[] encode(Object value) {
        return encode(value, 32 << 20);
    }

    /**
     * The value the bytes hold.
     *
     * @throws RpcError (a TypeError) when the bytes are malformed or hold a value with no Java form
     */
    public static Object decode(byte[] bytes) {
        return new StructuredReader(bytes).read();
    }

    /** A deep copy through the format: what a callee gets of a caller's value. */
    static Object copy(Object value, int maxBytes) {
        return decode(encode(value, maxBytes));
    }
}
