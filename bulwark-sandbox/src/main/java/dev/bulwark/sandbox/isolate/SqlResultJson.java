package dev.bulwark.sandbox.isolate;

import java.util.List;

/**
 * An {@code sql.exec} result as the JSON text of the prelude's flat array
 * {@code [rowsRead, rowsWritten, columnCount, ...columnNames, ...values row by row]}: one string
 * crosses into V8 and {@code JSON.parse} builds the array there, instead of a JNI call that
 * converts every value. Only for values JSON carries exactly: null, integers, finite doubles
 * and strings; a blob or a non-finite double answers null (the caller sends the array instead).
 */
final class SqlResultJson {
    /** Integers up to this magnitude are written as they are; larger ones as the double JS sees. */
    private static final long EXACT = 1L << 53;
    /** Past this many characters the array path is used (JSON then saves little). */
    static final int MAX_CHARS = 4 << 20;

    private SqlResultJson() {}

    static String encode(long rowsRead, long rowsWritten, List<String> columns, List<Object[]> rows) {
        long guess = 32 + 16L * columns.size() * (rows.size() + 1L);
        if (guess > 4L * MAX_CHARS) return null; // far too large: no point building it
        StringBuilder b = new StringBuilder((int) Math.min(guess, MAX_CHARS));
        b.append('[').append(rowsRead).append(',').append(rowsWritten).append(',').append(columns.size());
        for (String c : columns) string(b.append(','), c);
        for (Object[] row : rows) {
            for (Object v : row) {
                b.append(',');
                switch (v) {
                    case null -> b.append("null");
                    case Long l -> {
                        if (Math.abs(l) <= EXACT) b.append((long) l);
                        else b.append((double) l);
                    }
                    case Integer i -> b.append((int) i);
                    case Double d -> {
                        if (!Double.isFinite(d)) return null;
                        b.append((double) d); // Java's shortest round-trip form, valid JSON (1.0E10, -0.0)
                    }
                    case String s -> string(b, s);
                    default -> {
                        return null;
                    }
                }
            }
            if (b.length() > MAX_CHARS) return null;
        }
        return b.append(']').toString();
    }

    private static void string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        b.append("\\u00").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 15, 16));
                    } else {
                        b.append(c); // lone surrogates too: JSON.parse keeps any code unit of a string
                    }
                }
            }
        }
        b.append('"');
    }
}
