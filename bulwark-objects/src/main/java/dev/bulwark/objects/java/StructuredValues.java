package dev.bulwark.objects.java;

/**
 * Java values in the structured format JS RPC and durable-object KV values use
 * ({@code serialize.js}, format v1), restricted to the values a Java durable object can take and
 * give. The mapping, both ways:
 *
 * <table>
 * <caption>JavaScript and Java values</caption>
 * <tr><th>JavaScript</th><th>Java</th></tr>
 * <tr><td>{@code null}, {@code undefined}</td><td>{@code null} (undefined arrives as null; null is sent as null)</td></tr>
 * <tr><td>boolean</td><td>{@link Boolean}</td></tr>
 * <tr><td>number</td><td>{@link Long} when it is an integer of magnitude at most 2^53 − 1 (and not −0), else
 *     {@link Double} (fractions, NaN, ±Infinity, −0, larger magnitudes). Sent: Byte, Short, Integer, Long
 *     (magnitude at most 2^53 − 1, else refused: use BigInteger), Float, Double</td></tr>
 * <tr><td>bigint</td><td>{@link java.math.BigInteger}</td></tr>
 * <tr><td>string</td><td>{@link String} (lone surrogates kept)</td></tr>
 * <tr><td>{@code Uint8Array}, {@code ArrayBuffer}</td><td>{@code byte[]} (a copy of the viewed bytes);
 *     a {@code byte[]} is sent as a {@code Uint8Array}</td></tr>
 * <tr><td>{@code Date}</td><td>{@link java.time.Instant} (milliseconds; an invalid Date is refused)</td></tr>
 * <tr><td>array</td><td>{@link java.util.List} (holes arrive as null; an array with extra named properties is
 *     refused)</td></tr>
 * <tr><td>plain object</td><td>{@link java.util.Map} with String keys, in insertion order (own enumerable
 *     properties; prototypes are not kept, as in structured clone)</td></tr>
 * <tr><td>{@code Error} and its standard subclasses</td><td>{@link RpcError} (type and message; stack and
 *     cause dropped). A {@code DOMException} arrives as an {@code RpcError} of type ERROR</td></tr>
 * </table>
 *
 * <p>Refused (a {@code TypeError} for the caller): Map, Set, RegExp, boxed primitives, typed arrays
 * other than Uint8Array, DataView, and capabilities (stubs, functions, RpcTargets). Shared
 * references and cycles survive both ways (a List or Map may contain itself). Nesting deeper than
 * {@value #MAX_DEPTH} is refused.
 *
 * <p>Decoding treats its input as hostile (it comes from sandboxes): every length and count is
 * checked against the bytes left before anything is allocated.
 */
public final class StructuredValues {
    static final int MAGIC = 0xB7;
    static final int VERSION = 1;
    static final int MAX_DEPTH = 1000;
    /** The largest integer a JS number holds exactly. */
    static final long MAX_SAFE_INTEGER = (1L << 53) - 1;

    private StructuredValues() {}

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
     * @throws RpcError (a TypeError) when the bytes are malformed or hold a value Java objects do not take
     */
    public static Object decode(byte[] bytes) {
        return new StructuredReader(bytes).read();
    }

    /** A deep copy through the format: what a callee gets of a caller's value. */
    static Object copy(Object value, int maxBytes) {
        return decode(encode(value, maxBytes));
    }
}
