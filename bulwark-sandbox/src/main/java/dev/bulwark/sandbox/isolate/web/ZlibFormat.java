package dev.bulwark.sandbox.isolate.web;

/** The formats of the Compression Streams standard. */
public enum ZlibFormat {
    /** RFC 1950: zlib header, deflate data, Adler-32. */
    DEFLATE,
    /** RFC 1952: gzip header, deflate data, CRC-32 and length. */
    GZIP,
    /** RFC 1951: deflate data alone. */
    DEFLATE_RAW;

    /** The format named as in the standard ("deflate", "gzip", "deflate-raw"), or null. */
    public static ZlibFormat named(String name) {
        if (name == null) return null;
        return switch (name) {
            case "deflate" -> DEFLATE;
            case "gzip" -> GZIP;
            case "deflate-raw" -> DEFLATE_RAW;
            default -> null;
        };
    }
}
