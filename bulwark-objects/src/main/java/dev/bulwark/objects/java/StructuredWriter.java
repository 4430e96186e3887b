package dev.bulwark.objects.java;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Writes Java values in the structured format (see {@link StructuredValues}). Not thread-safe; one use. */
final class StructuredWriter {
    private final int maxBytes;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    /** Objects written so far, by identity, with the id the reader gives them. */
    private final IdentityHashMap<Object, Integer> ids = new IdentityHashMap<>();
    private int nextId;
    private int depth;

    StructuredWriter(int maxBytes) {
        this.maxBytes = maxBytes;
    }

    byte[] write(Object value) {
        out.write(StructuredValues.MAGIC);
        out.write(StructuredValues.VERSION);
        value(value);
        return out.toByteArray();
    }

    private void room(long n) {
        if (out.size() + n > maxBytes) {
            throw new IllegalArgumentException("the value is larger than the limit of " + maxBytes + " bytes");
        }
    }

    private void tag(int t) {
        room(1);
        out.write(t);
    }

    private void varint(long n) {
        room(10);
        while (n >= 0x80) {
            out.write((int) (n & 0x7f) | 0x80);
            n >>>= 7;
        }
        out.write((int) n);
    }

    private void raw(byte[] b) {
        room(b.length);
        out.writeBytes(b);
    }

    private void float64(double d) {
        long bits = Double.doubleToRawLongBits(d);
        room(8);
        for (int i = 0; i < 8; i++) out.write((int) (bits >>> (8 * i)) & 0xff);
    }

    private void value(Object v) {
        switch (v) {
            case null -> tag(Tags.NULL);
            case Boolean b -> tag(b ? Tags.TRUE : Tags.FALSE);
            case Byte b -> integer(b);
            case Short s -> integer(s);
            case Integer i -> integer(i);
            case Long l -> {
                if (Math.abs(l) > StructuredValues.MAX_SAFE_INTEGER) {
                    throw new IllegalArgumentException("the Long " + l + " is beyond what a JS number holds exactly (2^53 - 1): send a BigInteger");
                }
                integer(l);
            }
            case Float f -> number(f.doubleValue());
            case Double d -> number(d);
            case BigInteger b -> {
                tag(Tags.BIGINT);
                bigint(b);
            }
            case String s -> string(s);
            default -> object(v);
        }
    }

    private void integer(long n) {
        if (n >= Integer.MIN_VALUE && n <= Integer.MAX_VALUE) {
            tag(Tags.INT);
            varint(n >= 0 ? n * 2 : -n * 2 - 1);
        } else {
            tag(Tags.DOUBLE);
            float64(n);
        }
    }

    private void number(double d) {
        boolean negativeZero = d == 0 && Double.doubleToRawLongBits(d) != 0;
        if (d == Math.rint(d) && !negativeZero && d >= Integer.MIN_VALUE && d <= Integer.MAX_VALUE) integer((long) d);
        else {
            tag(Tags.DOUBLE);
            float64(d);
        }
    }

    private void bigint(BigInteger b) {
        byte[] be = b.abs().toByteArray();
        int start = 0;
        while (start < be.length && be[start] == 0) start++;
        byte[] le = new byte[be.length - start];
        for (int i = 0; i < le.length; i++) le[i] = be[be.length - 1 - i];
        tag(b.signum() < 0 ? 1 : 0);
        varint(le.length);
        raw(le);
    }

    private void string(String s) {
        if (wellFormed(s)) {
            byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
            tag(Tags.STRING);
            varint(utf8.length);
            raw(utf8);
        } else {
            tag(Tags.STRING16);
            varint(s.length());
            room(2L * s.length());
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                out.write(c & 0xff);
                out.write(c >>> 8);
            }
        }
    }

    private static boolean wellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) return false;
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    private void object(Object v) {
        Integer seen = ids.get(v);
        if (seen != null) {
            tag(Tags.REF);
            varint(seen);
            return;
        }
        if (++depth > StructuredValues.MAX_DEPTH) throw new IllegalArgumentException("the value is nested too deeply");
        try {
            switch (v) {
                case byte[] b -> {
                    // A Uint8Array over its own ArrayBuffer: the view's id comes before its buffer's.
                    remember(v);
                    tag(Tags.VIEW);
                    tag(Tags.VIEW_UINT8);
                    nextId++;
                    tag(Tags.ARRAY_BUFFER);
                    varint(b.length);
                    raw(b);
                    varint(0);
                    varint(b.length);
                }
                case Instant t -> {
                    remember(v);
                    tag(Tags.DATE);
                    float64(t.toEpochMilli());
                }
                case RpcError e when e.isDomException() -> {
                    remember(v);
                    tag(Tags.DOM_EXCEPTION);
                    string(e.name());
                    string(e.getMessage());
                    tag(0); // no stack
                }
                case RpcError e -> {
                    remember(v);
                    tag(Tags.ERROR);
                    tag(e.type().ordinal());
                    tag(1); // a message, no stack, no cause
                    string(e.getMessage());
                }
                case List<?> list -> {
                    remember(v);
                    tag(Tags.ARRAY);
                    varint(list.size());
                    for (Object item : list) value(item);
                    varint(0); // no extra properties
                }
                case StructuredValues.JsMap map -> jsMap(map);
                case Map<?, ?> map when map.keySet().stream().allMatch(k -> k instanceof String) -> {
                    remember(v);
                    tag(Tags.OBJECT);
                    varint(map.size());
                    for (Map.Entry<?, ?> e : map.entrySet()) {
                        string((String) e.getKey());
                        value(e.getValue());
                    }
                }
                case Map<?, ?> map -> jsMap(map);
                case Set<?> set -> {
                    remember(v);
                    tag(Tags.SET);
                    varint(set.size());
                    for (Object item : set) value(key(item));
                }
                default -> throw new IllegalArgumentException("a " + typeName(v) + " has no JS form (see StructuredValues)");
            }
        } finally {
            depth--;
        }
    }

    private void jsMap(Map<?, ?> map) {
        remember(map);
        tag(Tags.MAP);
        varint(map.size());
        for (Map.Entry<?, ?> e : map.entrySet()) {
            value(key(e.getKey()));
            value(e.getValue());
        }
    }

    private static Object key(Object k) {
        if (StructuredValues.isPrimitive(k)) return k;
        throw new IllegalArgumentException("a Map key or Set element sent to JS must be null, a Boolean, a number, a BigInteger or a String, not "
                + typeName(k));
    }

    private void remember(Object v) {
        ids.put(v, nextId++);
    }

    private static String typeName(Object o) {
        return o == null ? "null" : o.getClass().getName();
    }
}
