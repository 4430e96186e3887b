package dev.bulwark.server.governance;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** A canonical text of mapped values (object keys sorted) and SHA-256 hex digests. */
final class Canonical {
    private Canonical() {}

    static String text(Object v) {
        StringBuilder out = new StringBuilder();
        write(v, out, 0);
        return out.toString();
    }

    private static void write(Object v, StringBuilder out, int depth) {
        if (depth > 200) throw new IllegalArgumentException("nested too deep");
        switch (v) {
            case null -> out.append("null");
            case String s -> quote(s, out);
            case Map<?, ?> m -> {
                TreeMap<String, Object> sorted = new TreeMap<>();
                m.forEach((k, x) -> sorted.put(String.valueOf(k), x));
                out.append('{');
                boolean first = true;
                for (Map.Entry<String, Object> e : sorted.entrySet()) {
                    if (!first) out.append(',');
                    first = false;
                    quote(e.getKey(), out);
                    out.append(':');
                    write(e.getValue(), out, depth + 1);
                }
                out.append('}');
            }
            case List<?> l -> {
                out.append('[');
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) out.append(',');
                    write(l.get(i), out, depth + 1);
                }
                out.append(']');
            }
            case byte[] b -> out.append("b\"").append(HexFormat.of().formatHex(b)).append('"');
            default -> out.append(v.getClass().getSimpleName().charAt(0)).append(v);
        }
    }

    private static void quote(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') out.append('\\').append(c);
            else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        out.append('"');
    }

    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
