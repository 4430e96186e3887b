package dev.bulwark.sandbox.isolate.web;

/** RFC 1952 member header parsing. */
final class GzipHeader {
    private static final int FHCRC = 2, FEXTRA = 4, FNAME = 8, FCOMMENT = 16;

    private GzipHeader() {}

    /**
     * The length of the complete header at {@code b[from..]}, or -1 if more bytes are needed.
     *
     * @throws ZlibCodec.ZlibException if it is not a gzip header for deflate data
     */
    static int length(byte[] b, int from) throws ZlibCodec.ZlibException {
        int n = b.length - from;
        if (n >= 1 && (b[from] & 0xff) != 0x1f || n >= 2 && (b[from + 1] & 0xff) != 0x8b) {
            throw new ZlibCodec.ZlibException("The data is not in gzip format.");
        }
        if (n >= 3 && b[from + 2] != 8) throw new ZlibCodec.ZlibException("The gzip data uses an unknown compression method.");
        if (n < 10) return -1;
        int flags = b[from + 3] & 0xff;
        if ((flags & 0xe0) != 0) throw new ZlibCodec.ZlibException("The gzip header has reserved flags set.");
        int i = from + 10;
        if ((flags & FEXTRA) != 0) {
            if (b.length - i < 2) return -1;
            i += 2 + ((b[i] & 0xff) | (b[i + 1] & 0xff) << 8);
            if (i > b.length) return -1;
        }
        for (int flag : new int[] {FNAME, FCOMMENT}) {
            if ((flags & flag) == 0) continue;
            while (i < b.length && b[i] != 0) i++;
            if (i == b.length) return -1;
            i++;
        }
        if ((flags & FHCRC) != 0) {
            i += 2;
            if (i > b.length) return -1;
        }
        return i - from;
    }
}
