package dev.bulwark.objects.java;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the structured format into Java values (see {@link StructuredValues}). The input is
 * hostile: every length is checked against the bytes left before anything is allocated, every
 * reference and index is validated, nesting is bounded. Not thread-safe; one use.
 */
final class StructuredReader {
    private final byte[] b;
    private int p;
    /** Objects by id, in the order the writer numbered them (null: a placeholder still being read). */
    private final List<Object> objects = new ArrayList<>();
    /** The byte arrays that came from an ArrayBuffer (a view must sit on one of these). */
    private final Set<Object> buffers = Collections.newSetFromMap(new IdentityHashMap<>());
    private int depth;
    /** The elements sparse arrays may still have beyond the bytes left (see {@link #array}). */
    private long sparseLeft = StructuredValues.MAX_SPARSE_ELEMENTS;

    StructuredReader(byte[] bytes) {
        this.b = bytes;
    }

    Object read() {
        if (b == null || b.length < 2 || (b[0] & 0xff) != StructuredValues.MAGIC) throw invalid("not serialized data");
        if (b[1] != StructuredValues.VERSION) throw invalid("unsupported version " + b[1]);
        p = 2;
        Object v = value();
        if (p != b.length) throw invalid("trailing bytes");
        return v;
    }

    static RpcError invalid(String why) {
        return new RpcError(RpcError.Type.TYPE_ERROR, "Unable to deserialize cloned data: " + why + ".");
    }

    private static RpcError unsupported(String what) {
        return new RpcError(RpcError.Type.TYPE_ERROR,
                what + " cannot be passed to Java (it takes null, booleans, numbers, bigints, strings, "
                        + "Uint8Array/ArrayBuffer, Date, arrays, plain objects, Map, Set and errors).");
    }

    private int left() {
        return b.length - p;
    }

    private int u8() {
        if (p >= b.length) throw invalid("unexpected end");
        return b[p++] & 0xff;
    }

    /** An unsigned LEB128 of at most 8 bytes (56 bits), as serialize.js writes and reads them. */
    private long varint() {
        long n = 0;
        for (int i = 0; i < 8; i++) {
            int c = u8();
            n |= (long) (c & 0x7f) << (7 * i);
            if (c < 0x80) return n;
        }
        throw invalid("malformed length");
    }

    /** A length of bytes (or items of at least one byte each): never more than what is left. */
    private int length() {
        long n = varint();
        if (n > left()) throw invalid("length past the end");
        return (int) n;
    }

    private double float64() {
        if (left() < 8) throw invalid("unexpected end");
        long bits = 0;
        for (int i = 0; i < 8; i++) bits |= (long) (b[p + i] & 0xff) << (8 * i);
        p += 8;
        return Double.longBitsToDouble(bits);
    }

    private byte[] take(int n) {
        byte[] out = Arrays.copyOfRange(b, p, p + n);
        p += n;
        return out;
    }

    /** A JS number as Java sees it: Long for safe integers (not -0), Double otherwise. */
    static Object number(double d) {
        boolean negativeZero = d == 0 && Double.doubleToRawLongBits(d) != 0;
        if (d == Math.rint(d) && !negativeZero && Math.abs(d) <= StructuredValues.MAX_SAFE_INTEGER) return (long) d;
        return d;
    }

    private String string(int tag) {
        if (tag == Tags.STRING) return new String(take(length()), StandardCharsets.UTF_8);
        if (tag == Tags.STRING16) {
            long units = varint();
            if (units * 2 > left()) throw invalid("length past the end");
            char[] chars = new char[(int) units];
            for (int i = 0; i < chars.length; i++) chars[i] = (char) ((b[p + 2 * i] & 0xff) | (b[p + 2 * i + 1] & 0xff) << 8);
            p += 2 * chars.length;
            return new String(chars);
        }
        throw invalid("expected a string");
    }

    private String string() {
        return string(u8());
    }

    private BigInteger bigint() {
        int sign = u8();
        byte[] le = take(length());
        byte[] be = new byte[le.length + 1]; // a leading zero keeps it positive
        for (int i = 0; i < le.length; i++) be[be.length - 1 - i] = le[i];
        BigInteger m = new BigInteger(be);
        return sign == 1 ? m.negate() : m;
    }

    private int placeholder() {
        objects.add(null);
        return objects.size() - 1;
    }

    private <T> T keep(T o) {
        objects.add(o);
        return o;
    }

    private Object value() {
        int tag = u8();
        switch (tag) {
            case Tags.UNDEFINED, Tags.NULL -> {
                return null;
            }
            case Tags.TRUE -> {
                return Boolean.TRUE;
            }
            case Tags.FALSE -> {
                return Boolean.FALSE;
            }
            case Tags.INT -> {
                long z = varint();
                return number((z & 1) == 0 ? (double) (z >>> 1) : -(double) (z >>> 1) - 1);
            }
            case Tags.DOUBLE -> {
                return number(float64());
            }
            case Tags.BIGINT -> {
                return bigint();
            }
            case Tags.STRING, Tags.STRING16 -> {
                return string(tag);
            }
            case Tags.REF -> {
                long id = varint();
                if (id >= objects.size()) throw invalid("reference to an unknown object");
                return objects.get((int) id);
            }
            case Tags.SLOT -> throw unsupported("A stub, function or RpcTarget");
            default -> {
                if (++depth > StructuredValues.MAX_DEPTH) throw invalid("nested too deeply");
                try {
                    return object(tag);
                } finally {
                    depth--;
                }
            }
        }
    }

    private Object object(int tag) {
        return switch (tag) {
            case Tags.DATE -> {
                double ms = float64();
                if (!Double.isFinite(ms) || Math.abs(ms) > 8.64e15) throw unsupported("An invalid Date");
                yield keep(Instant.ofEpochMilli((long) ms));
            }
            case Tags.ARRAY_BUFFER -> {
                byte[] bytes = keep(take(length()));
                buffers.add(bytes);
                yield bytes;
            }
            case Tags.VIEW -> view();
            case Tags.ERROR -> error();
            case Tags.RICH_ERROR -> richError();
            case Tags.DOM_EXCEPTION -> {
                int id = placeholder();
                String name = string();
                String message = string();
                if (u8() == 1) string(); // the stack
                RpcError e = RpcError.domException(name, message);
                objects.set(id, e);
                yield e;
            }
            case Tags.OBJECT -> {
                Map<String, Object> map = keep(new LinkedHashMap<>());
                int n = length();
                for (int i = 0; i < n; i++) {
                    String key = string();
                    map.put(key, value());
                }
                yield map;
            }
            case Tags.ARRAY, Tags.SPARSE_ARRAY -> array(tag);
            case Tags.MAP -> {
                Map<Object, Object> map = keep(new StructuredValues.JsMap());
                int n = length();
                for (int i = 0; i < n; i++) {
                    Object key = key(value());
                    map.put(key, value());
                }
                yield map;
            }
            case Tags.SET -> {
                Set<Object> set = keep(new LinkedHashSet<>());
                int n = length();
                for (int i = 0; i < n; i++) set.add(key(value()));
                yield set;
            }
            case Tags.REGEXP -> throw unsupported("A RegExp");
            case Tags.NUMBER_OBJECT, Tags.STRING_OBJECT, Tags.BOOLEAN_OBJECT, Tags.BIGINT_OBJECT ->
                    throw unsupported("A boxed primitive");
            default -> throw invalid("unknown tag 0x" + Integer.toHexString(tag));
        };
    }

    /**
     * A Map key or Set element: primitives only. An object key would be compared by identity in JS
     * but by (mutable, possibly cyclic) content in Java, so it is refused.
     */
    private static Object key(Object k) {
        if (StructuredValues.isPrimitive(k)) return k;
        throw unsupported("An object as a Map key or Set element");
    }

    private byte[] view() {
        int kind = u8();
        if (kind > 12) throw invalid("unknown view type");
        if (kind != Tags.VIEW_UINT8) throw unsupported("A typed array other than Uint8Array, or a DataView,");
        int id = placeholder();
        Object buffer = value();
        if (!(buffer instanceof byte[] bytes) || !buffers.contains(bytes)) throw invalid("a view without an ArrayBuffer");
        long offset = varint(), length = varint();
        if (offset > bytes.length || length > bytes.length - offset) throw invalid("view out of range");
        byte[] out = Arrays.copyOfRange(bytes, (int) offset, (int) (offset + length));
        objects.set(id, out);
        return out;
    }

    private RpcError error() {
        int index = u8();
        RpcError.Type[] types = RpcError.Type.values();
        if (index >= types.length) throw invalid("unknown error type");
        int flags = u8();
        int id = placeholder();
        String message = (flags & 1) != 0 ? string() : "";
        if ((flags & 2) != 0) string(); // the stack: not kept
        if ((flags & 4) != 0) value(); // the cause: read past, not kept
        RpcError e = new RpcError(types[index], message);
        objects.set(id, e);
        return e;
    }

    /**
     * An error as a stub's caller gets it: its class (AggregateError, index 7, becomes Error here),
     * message and name; its own properties are read past (an RpcError carries type and message only).
     */
    private RpcError richError() {
        int index = u8();
        RpcError.Type[] types = RpcError.Type.values();
        if (index > types.length) throw invalid("unknown error type");
        int flags = u8();
        int id = placeholder();
        String message = (flags & 1) != 0 ? string() : "";
        if ((flags & 2) != 0) string(); // a name that is not the class's: not kept
        int n = length();
        for (int i = 0; i < n; i++) {
            string();
            value();
        }
        RpcError e = new RpcError(index == types.length ? RpcError.Type.ERROR : types[index], message);
        objects.set(id, e);
        return e;
    }

    private List<Object> array(int tag) {
        long length = varint();
        if (length > left()) {
            // Only a sparse array ([] with a[100] = 1) is longer than its bytes. Its holes become nulls,
            // bounded for the whole value, so a few hostile bytes cannot make the node allocate much.
            if (tag != Tags.SPARSE_ARRAY || length > sparseLeft) throw invalid("array past the end");
            sparseLeft -= length;
        }
        List<Object> list = keep(new ArrayList<>((int) length));
        if (tag == Tags.ARRAY) {
            for (long i = 0; i < length; i++) {
                if (p < b.length && (b[p] & 0xff) == Tags.HOLE) {
                    p++;
                    list.add(null);
                } else {
                    list.add(value());
                }
            }
        } else {
            for (long i = 0; i < length; i++) list.add(null);
            int n = length();
            for (int i = 0; i < n; i++) {
                long index = varint();
                if (index >= length) throw invalid("array index out of range");
                list.set((int) index, value());
            }
        }
        if (length() != 0) throw unsupported("An array with named properties");
        return list;
    }
}
