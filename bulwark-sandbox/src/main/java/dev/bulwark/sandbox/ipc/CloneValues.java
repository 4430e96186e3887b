package dev.bulwark.sandbox.ipc;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The prelude's structured serialization ({@code serialize.js}, format version 1) for the Java
 * values a Java capability takes and gives: null, Boolean, Number (read back as Double), String,
 * byte[] (a Uint8Array), List, Map with String keys, and errors ({@link JsError}). Anything else
 * is refused with an IllegalArgumentException naming what it met. Reading is bounded by the
 * bytes given; nesting is capped.
 */
public final class CloneValues {
    private CloneValues() {}

    /** A JS error as a value: its class name (Error, TypeError, RangeError, ...) and message. */
    public record JsError(String name, String message) {}

    private static final int MAGIC = 0xb7, VERSION = 1, MAX_DEPTH = 200;
    private static final int UNDEFINED = 0x00, NULL = 0x01, TRUE = 0x02, FALSE = 0x03, INT = 0x04, DOUBLE = 0x05,
            STRING = 0x07, STRING16 = 0x08, HOLE = 0x0f, REF = 0x10, OBJECT = 0x11, ARRAY = 0x12, SPARSE_ARRAY = 0x13,
            ARRAY_BUFFER = 0x18, VIEW = 0x19, ERROR = 0x1a, SLOT = 0x20;
    private static final List<String> ERROR_NAMES = List.of("Error", "EvalError", "RangeError", "ReferenceError",
            "SyntaxError", "TypeError", "URIError");
    private static final int UINT8_ARRAY = 2;

    // ---- writing

    public static byte[] serialize(Object value) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(MAGIC);
        o.write(VERSION);
        write(o, value, 0);
        return o.toByteArray();
    }

    private static void write(ByteArrayOutputStream o, Object v, int depth) {
        if (depth > MAX_DEPTH) throw new IllegalArgumentException("a value nested too deeply");
        switch (v) {
            case null -> o.write(NULL);
            case Boolean b -> o.write(b ? TRUE : FALSE);
            case Integer i -> writeNumber(o, i);
            case Long l when l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE -> writeNumber(o, l.intValue());
            case Number n -> {
                o.write(DOUBLE);
                o.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(n.doubleValue()).array());
            }
            case String s -> writeString(o, s);
            case byte[] b -> {
                // A Uint8Array over its own buffer: the view's id comes before its buffer's.
                o.write(VIEW);
                o.write(UINT8_ARRAY);
                o.write(ARRAY_BUFFER);
                varint(o, b.length);
                o.writeBytes(b);
                varint(o, 0);
                varint(o, b.length);
            }
            case List<?> list -> {
                o.write(ARRAY);
                varint(o, list.size());
                for (Object e : list) write(o, e, depth + 1);
                varint(o, 0);
            }
            case Map<?, ?> map -> {
                o.write(OBJECT);
                varint(o, map.size());
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    if (!(e.getKey() instanceof String k)) throw new IllegalArgumentException("a Map key that is not a String");
                    writeString(o, k);
                    write(o, e.getValue(), depth + 1);
                }
            }
            case JsError e -> {
                o.write(ERROR);
                int index = ERROR_NAMES.indexOf(e.name());
                o.write(Math.max(index, 0));
                o.write(e.message() == null ? 0 : 1);
                if (e.message() != null) writeString(o, e.message());
            }
            default -> throw new IllegalArgumentException("a " + v.getClass().getSimpleName()
                    + " cannot be passed to JavaScript (use null, Boolean, Number, String, byte[], List or Map)");
        }
    }

    private static void writeNumber(ByteArrayOutputStream o, int n) {
        o.write(INT);
        varint(o, n >= 0 ? 2L * n : -2L * n - 1);
    }

    private static void writeString(ByteArrayOutputStream o, String s) {
        boolean wellFormed = true;
        for (int i = 0; i < s.length() && wellFormed; i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) i++;
                else wellFormed = false;
            } else if (Character.isLowSurrogate(c)) {
                wellFormed = false;
            }
        }
        if (wellFormed) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            o.write(STRING);
            varint(o, b.length);
            o.writeBytes(b);
        } else {
            o.write(STRING16);
            varint(o, s.length());
            for (int i = 0; i < s.length(); i++) {
                o.write(s.charAt(i) & 0xff);
                o.write(s.charAt(i) >> 8);
            }
        }
    }

    private static void varint(ByteArrayOutputStream o, long n) {
        while (n >= 0x80) {
            o.write((int) (n & 0x7f) | 0x80);
            n >>>= 7;
        }
        o.write((int) n);
    }

    // ---- reading

    public static Object deserialize(byte[] bytes) {
        Reader r = new Reader(bytes);
        if (r.b() != MAGIC) throw new IllegalArgumentException("not serialized data");
        if (r.b() != VERSION) throw new IllegalArgumentException("unsupported serialization version");
        Object v = r.value(0);
        if (r.p != bytes.length) throw new IllegalArgumentException("trailing bytes");
        return v;
    }

    private static final class Reader {
        final byte[] b;
        int p;
        final List<Object> objects = new ArrayList<>();

        Reader(byte[] b) {
            this.b = b;
        }

        int b() {
            if (p >= b.length) throw new IllegalArgumentException("unexpected end of serialized data");
            return b[p++] & 0xff;
        }

        long varint() {
            long n = 0;
            long scale = 1;
            for (int i = 0; i < 8; i++) {
                int c = b();
                n += (c & 0x7f) * scale;
                if (c < 0x80) return n;
                scale *= 0x80;
            }
            throw new IllegalArgumentException("malformed length");
        }

        int length() {
            long n = varint();
            if (n > b.length - p) throw new IllegalArgumentException("length past the end");
            return (int) n;
        }

        String string(int tag) {
            if (tag == STRING) {
                int n = length();
                String s = new String(b, p, n, StandardCharsets.UTF_8);
                p += n;
                return s;
            }
            if (tag == STRING16) {
                long n = varint();
                if (n * 2 > b.length - p) throw new IllegalArgumentException("length past the end");
                StringBuilder sb = new StringBuilder((int) n);
                for (int i = 0; i < n; i++) sb.append((char) ((b[p + 2 * i] & 0xff) | ((b[p + 2 * i + 1] & 0xff) << 8)));
                p += (int) (2 * n);
                return sb.toString();
            }
            throw new IllegalArgumentException("expected a string");
        }

        Object value(int depth) {
            if (depth > MAX_DEPTH) throw new IllegalArgumentException("a value nested too deeply");
            int tag = b();
            switch (tag) {
                case UNDEFINED, NULL -> { return null; }
                case TRUE -> { return Boolean.TRUE; }
                case FALSE -> { return Boolean.FALSE; }
                case INT -> {
                    long z = varint();
                    return (double) (z % 2 == 0 ? z / 2 : -(z + 1) / 2);
                }
                case DOUBLE -> {
                    if (b.length - p < 8) throw new IllegalArgumentException("unexpected end of serialized data");
                    double d = ByteBuffer.wrap(b, p, 8).order(ByteOrder.LITTLE_ENDIAN).getDouble();
                    p += 8;
                    return d;
                }
                case STRING, STRING16 -> { return string(tag); }
                case REF -> {
                    long id = varint();
                    if (id >= objects.size()) throw new IllegalArgumentException("reference to an unknown object");
                    return objects.get((int) id);
                }
                case ARRAY_BUFFER -> {
                    int n = length();
                    byte[] out = java.util.Arrays.copyOfRange(b, p, p + n);
                    p += n;
                    objects.add(out);
                    return out;
                }
                case VIEW -> {
                    int kind = b();
                    int id = objects.size();
                    objects.add(null);
                    Object buffer = value(depth + 1);
                    if (!(buffer instanceof byte[] bytes)) throw new IllegalArgumentException("a view without a buffer");
                    long offset = varint(), len = varint();
                    if (kind != UINT8_ARRAY && kind != 1 && kind != 3 && kind != 0) {
                        throw new IllegalArgumentException("only byte arrays (Uint8Array, ArrayBuffer) can be passed to Java");
                    }
                    if (offset + len > bytes.length) throw new IllegalArgumentException("view out of range");
                    byte[] out = java.util.Arrays.copyOfRange(bytes, (int) offset, (int) (offset + len));
                    objects.set(id, out);
                    return out;
                }
                case ERROR -> {
                    int nameIndex = b();
                    int flags = b();
                    int id = objects.size();
                    objects.add(null);
                    String message = (flags & 1) != 0 ? string(b()) : null;
                    if ((flags & 2) != 0) string(b()); // the stack stays in JS
                    if ((flags & 4) != 0) value(depth + 1); // the cause is not kept
                    JsError e = new JsError(nameIndex < ERROR_NAMES.size() ? ERROR_NAMES.get(nameIndex) : "Error", message);
                    objects.set(id, e);
                    return e;
                }
                case OBJECT -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    objects.add(m);
                    long n = varint();
                    if (n > b.length - p) throw new IllegalArgumentException("count past the end");
                    for (long i = 0; i < n; i++) {
                        String k = string(b());
                        m.put(k, value(depth + 1));
                    }
                    return m;
                }
                case ARRAY, SPARSE_ARRAY -> {
                    long length = varint();
                    if (length > b.length - p && tag == ARRAY) throw new IllegalArgumentException("array past the end");
                    if (length > 1_000_000) throw new IllegalArgumentException("array too long for Java");
                    List<Object> list = new ArrayList<>();
                    objects.add(list);
                    for (long i = 0; i < length; i++) list.add(null);
                    if (tag == ARRAY) {
                        for (int i = 0; i < length; i++) {
                            if (p < b.length && (b[p] & 0xff) == HOLE) {
                                p++;
                                continue;
                            }
                            list.set(i, value(depth + 1));
                        }
                    } else {
                        long n = varint();
                        if (n > b.length - p) throw new IllegalArgumentException("count past the end");
                        for (long i = 0; i < n; i++) {
                            long index = varint();
                            if (index >= length) throw new IllegalArgumentException("array index out of range");
                            list.set((int) index, value(depth + 1));
                        }
                    }
                    long extras = varint();
                    for (long i = 0; i < extras; i++) {
                        string(b());
                        value(depth + 1);
                    }
                    return list;
                }
                case SLOT -> throw new IllegalArgumentException("a function, RpcTarget or stub cannot be passed to a Java capability");
                default -> throw new IllegalArgumentException(
                        "a value of this type (tag 0x" + Integer.toHexString(tag) + ") cannot be passed to a Java capability");
            }
        }
    }
}
