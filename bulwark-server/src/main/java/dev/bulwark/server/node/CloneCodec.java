package dev.bulwark.server.node;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Java values to and from the prelude's structured serialization ({@code serialize.js}, version 1),
 * the bytes RPC arguments and results travel as. Java → JS: null, Boolean, a Number (as a JS number),
 * String, byte[] (ArrayBuffer), List (Array), Map with String keys (a plain object; other keys: a
 * Map), Set. JS → Java: null and undefined → null, booleans, numbers → Double, strings, ArrayBuffer and
 * Uint8Array → byte[], Array → List, plain object → Map&lt;String,Object&gt;, Map → Map, Set → Set,
 * Date → {@link java.time.Instant}, BigInt → {@link java.math.BigInteger}, errors → {@link JsError}.
 * Shared references and cycles are kept (a cyclic List contains itself). Anything else (other typed
 * arrays, RegExp, a stub) is refused with {@link IllegalArgumentException}; bytes from a sandbox are
 * never trusted: every length is checked against the bytes left, and nesting is bounded.
 */
public final class CloneCodec {
    private static final int MAGIC = 0xB7, VERSION = 1, MAX_DEPTH = 1000;
    private static final int UNDEFINED = 0x00, NULL = 0x01, TRUE = 0x02, FALSE = 0x03, INT = 0x04, DOUBLE = 0x05,
            BIGINT = 0x06, STRING = 0x07, STRING16 = 0x08, HOLE = 0x0f, REF = 0x10, OBJECT = 0x11, ARRAY = 0x12,
            SPARSE_ARRAY = 0x13, DATE = 0x14, REGEXP = 0x15, MAP = 0x16, SET = 0x17, ARRAY_BUFFER = 0x18, VIEW = 0x19,
            ERROR = 0x1a, NUMBER_OBJECT = 0x1b, STRING_OBJECT = 0x1c, BOOLEAN_OBJECT = 0x1d, BIGINT_OBJECT = 0x1e,
            DOM_EXCEPTION = 0x1f, SLOT = 0x20;
    private static final List<String> ERROR_NAMES = List.of("Error", "EvalError", "RangeError", "ReferenceError",
            "SyntaxError", "TypeError", "URIError");
    private static final int VIEW_UINT8 = 2;

    /** A JS error as Java sees it: its class name ({@code TypeError}, ...) and message. */
    public record JsError(String name, String message) {}

    private CloneCodec() {}

    /** Serializes {@code value} (see the class comment for the types). */
    public static byte[] serialize(Object value) {
        Writer w = new Writer();
        w.out.write(MAGIC);
        w.out.write(VERSION);
        w.value(value, 0);
        return w.out.toByteArray();
    }

    /** Deserializes bytes the prelude wrote. */
    public static Object deserialize(byte[] bytes) {
        if (bytes == null || bytes.length < 3 || (bytes[0] & 0xff) != MAGIC || bytes[1] != VERSION) {
            throw new IllegalArgumentException("not a serialized value");
        }
        Reader r = new Reader(bytes);
        Object v = r.value(0);
        if (r.p != bytes.length) throw new IllegalArgumentException("trailing bytes after a serialized value");
        return v;
    }

    private static final class Writer {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final IdentityHashMap<Object, Integer> ids = new IdentityHashMap<>();

        void varint(long n) {
            while (n >= 0x80) {
                out.write((int) (n & 0x7f) | 0x80);
                n >>>= 7;
            }
            out.write((int) n);
        }

        void string(String s) {
            var encoder = StandardCharsets.UTF_8.newEncoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT);
            try {
                ByteBuffer b = encoder.encode(java.nio.CharBuffer.wrap(s));
                out.write(STRING);
                varint(b.remaining());
                out.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
            } catch (CharacterCodingException e) {
                // Lone surrogates survive only as UTF-16 code units.
                out.write(STRING16);
                varint(s.length());
                for (int i = 0; i < s.length(); i++) {
                    out.write(s.charAt(i) & 0xff);
                    out.write(s.charAt(i) >> 8);
                }
            }
        }

        void number(double d) {
            if (d == Math.rint(d) && d >= Integer.MIN_VALUE && d <= Integer.MAX_VALUE && !(d == 0 && 1 / d < 0)) {
                long n = (long) d;
                out.write(INT);
                varint(n >= 0 ? n * 2 : -n * 2 - 1);
            } else {
                out.write(DOUBLE);
                out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(d).array());
            }
        }

        void value(Object v, int depth) {
            if (depth > MAX_DEPTH) throw new IllegalArgumentException("a value nested more than " + MAX_DEPTH + " deep");
            switch (v) {
                case null -> out.write(NULL);
                case Boolean b -> out.write(b ? TRUE : FALSE);
                case Number n when !(n instanceof java.math.BigInteger) -> number(n.doubleValue());
                case String s -> string(s);
                default -> object(v, depth);
            }
        }

        void object(Object v, int depth) {
            Integer id = ids.get(v);
            if (id != null) {
                out.write(REF);
                varint(id);
                return;
            }
            ids.put(v, ids.size());
            switch (v) {
                case byte[] b -> {
                    out.write(ARRAY_BUFFER);
                    varint(b.length);
                    out.writeBytes(b);
                }
                case List<?> list -> {
                    out.write(ARRAY);
                    varint(list.size());
                    for (Object e : list) value(e, depth + 1);
                    varint(0);
                }
                case Map<?, ?> map when map.keySet().stream().allMatch(k -> k instanceof String) -> {
                    out.write(OBJECT);
                    varint(map.size());
                    for (Map.Entry<?, ?> e : map.entrySet()) {
                        string((String) e.getKey());
                        value(e.getValue(), depth + 1);
                    }
                }
                case Map<?, ?> map -> {
                    out.write(MAP);
                    varint(map.size());
                    for (Map.Entry<?, ?> e : map.entrySet()) {
                        value(e.getKey(), depth + 1);
                        value(e.getValue(), depth + 1);
                    }
                }
                case Set<?> set -> {
                    out.write(SET);
                    varint(set.size());
                    for (Object e : set) value(e, depth + 1);
                }
                default -> throw new IllegalArgumentException("a " + v.getClass().getSimpleName()
                        + " cannot be passed to JavaScript (null, Boolean, Number, String, byte[], List, Map, Set can)");
            }
        }
    }

    private static final class Reader {
        final byte[] b;
        int p;
        final List<Object> objects = new ArrayList<>();

        Reader(byte[] b) {
            this.b = b;
            this.p = 2;
        }

        int left() {
            return b.length - p;
        }

        int u8() {
            if (p >= b.length) throw bad("unexpected end");
            return b[p++] & 0xff;
        }

        long varint() {
            long n = 0;
            for (int shift = 0; shift <= 49; shift += 7) {
                int c = u8();
                n |= (long) (c & 0x7f) << shift;
                if (c < 0x80) return n;
            }
            throw bad("malformed length");
        }

        /** A count of items that each take at least one byte: never more than the bytes left. */
        int count() {
            long n = varint();
            if (n > left()) throw bad("count past the end");
            return (int) n;
        }

        byte[] take(long n) {
            if (n > left()) throw bad("length past the end");
            byte[] out = Arrays.copyOfRange(b, p, p + (int) n);
            p += (int) n;
            return out;
        }

        double dbl() {
            return ByteBuffer.wrap(take(8)).order(ByteOrder.LITTLE_ENDIAN).getDouble();
        }

        String string() {
            return string(u8());
        }

        String string(int tag) {
            if (tag == STRING) return new String(take(varint()), StandardCharsets.UTF_8);
            if (tag == STRING16) {
                long n = varint();
                if (n > left() / 2) throw bad("length past the end");
                byte[] u = take(n * 2);
                char[] c = new char[(int) n];
                for (int i = 0; i < n; i++) c[i] = (char) ((u[2 * i] & 0xff) | (u[2 * i + 1] & 0xff) << 8);
                return new String(c);
            }
            throw bad("expected a string");
        }

        java.math.BigInteger bigint() {
            int sign = u8();
            byte[] le = take(varint());
            byte[] be = new byte[le.length];
            for (int i = 0; i < le.length; i++) be[i] = le[le.length - 1 - i];
            java.math.BigInteger m = new java.math.BigInteger(1, be);
            return sign == 1 ? m.negate() : m;
        }

        <T> T keep(T o) {
            objects.add(o);
            return o;
        }

        Object value(int depth) {
            if (depth > MAX_DEPTH) throw bad("nested too deeply");
            int tag = u8();
            return switch (tag) {
                case UNDEFINED, NULL -> null;
                case TRUE -> true;
                case FALSE -> false;
                case INT -> {
                    long z = varint();
                    yield (double) ((z & 1) == 0 ? z / 2 : -(z + 1) / 2);
                }
                case DOUBLE -> dbl();
                case BIGINT -> bigint();
                case STRING, STRING16 -> string(tag);
                case REF -> {
                    long id = varint();
                    if (id >= objects.size()) throw bad("reference to an unknown object");
                    yield objects.get((int) id);
                }
                case SLOT -> throw new IllegalArgumentException("a stub or function cannot be passed to Java");
                default -> object(tag, depth);
            };
        }

        Object object(int tag, int depth) {
            return switch (tag) {
                case BOOLEAN_OBJECT -> keep(u8() == 1);
                case NUMBER_OBJECT -> keep(dbl());
                case BIGINT_OBJECT -> keep(bigint());
                case STRING_OBJECT -> keep(string());
                case DATE -> keep(java.time.Instant.ofEpochMilli((long) dbl()));
                case ARRAY_BUFFER -> keep(take(varint()));
                case VIEW -> {
                    int kind = u8();
                    int id = objects.size();
                    objects.add(null); // the view's id comes before its buffer's
                    Object buffer = value(depth + 1);
                    long offset = varint(), length = varint();
                    if (kind != VIEW_UINT8) throw new IllegalArgumentException("only Uint8Array views can be passed to Java");
                    if (!(buffer instanceof byte[] bytes) || offset + length > bytes.length) throw bad("view out of range");
                    byte[] view = Arrays.copyOfRange(bytes, (int) offset, (int) (offset + length));
                    objects.set(id, view);
                    yield view;
                }
                case MAP -> {
                    Map<Object, Object> m = keep(new LinkedHashMap<>());
                    int n = count();
                    for (int i = 0; i < n; i++) m.put(value(depth + 1), value(depth + 1));
                    yield m;
                }
                case SET -> {
                    Set<Object> s = keep(new LinkedHashSet<>());
                    int n = count();
                    for (int i = 0; i < n; i++) s.add(value(depth + 1));
                    yield s;
                }
                case DOM_EXCEPTION -> {
                    int id = objects.size();
                    objects.add(null);
                    JsError e = new JsError(string(), string());
                    if (u8() == 1) string();
                    objects.set(id, e);
                    yield e;
                }
                case ERROR -> {
                    int name = u8();
                    if (name >= ERROR_NAMES.size()) throw bad("unknown error type");
                    int flags = u8();
                    int id = objects.size();
                    objects.add(null);
                    String message = (flags & 1) != 0 ? string() : "";
                    if ((flags & 2) != 0) string(); // the stack stays with the worker
                    JsError e = new JsError(ERROR_NAMES.get(name), message);
                    objects.set(id, e);
                    if ((flags & 4) != 0) value(depth + 1);
                    yield e;
                }
                case OBJECT -> {
                    Map<String, Object> o = keep(new LinkedHashMap<>());
                    int n = count();
                    for (int i = 0; i < n; i++) {
                        String k = string();
                        o.put(k, value(depth + 1));
                    }
                    yield o;
                }
                case ARRAY, SPARSE_ARRAY -> {
                    long length = varint();
                    // Each element of a dense array takes a byte; a sparse one is refused past a bound.
                    if (tag == ARRAY ? length > left() : length > 1_000_000) throw bad("array too long");
                    List<Object> a = keep(new ArrayList<>(Math.min((int) length, 1024)));
                    if (tag == ARRAY) {
                        for (int i = 0; i < length; i++) {
                            if (p < b.length && (b[p] & 0xff) == HOLE) {
                                p++;
                                a.add(null);
                            } else {
                                a.add(value(depth + 1));
                            }
                        }
                    } else {
                        for (int i = 0; i < length; i++) a.add(null);
                        int n = count();
                        for (int i = 0; i < n; i++) {
                            long index = varint();
                            if (index >= length) throw bad("array index out of range");
                            a.set((int) index, value(depth + 1));
                        }
                    }
                    int extras = count();
                    for (int i = 0; i < extras; i++) {
                        string();
                        value(depth + 1); // properties of an array that are not elements do not reach Java
                    }
                    yield a;
                }
                case REGEXP -> throw new IllegalArgumentException("a RegExp cannot be passed to Java");
                default -> throw bad("unknown tag " + tag);
            };
        }

        private static IllegalArgumentException bad(String why) {
            return new IllegalArgumentException("Unable to deserialize cloned data: " + why);
        }
    }
}
