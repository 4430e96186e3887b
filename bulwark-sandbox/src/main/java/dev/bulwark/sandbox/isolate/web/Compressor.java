package dev.bulwark.sandbox.isolate.web;

import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/** A CompressionStream's state: zlib's deflate at the default level, framed as the format says. */
public final class Compressor implements ZlibCodec {
    /** gzip header: magic, deflate, no flags, no mtime, no extra flags, OS "unknown" as zlib writes it on Unix (3). */
    private static final byte[] GZIP_HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};

    private final ZlibFormat format;
    private final Deflater deflater;
    private final CRC32 crc = new CRC32();
    private long inputLength;
    /** Framing bytes (gzip header, then trailer) waiting to go out before/after the deflate data. */
    private byte[] prefix;
    private boolean trailerWritten, ended;
    /** Reused for every call: one piece of output is copied out of it. */
    private final byte[] out = new byte[MAX_OUTPUT];

    Compressor(ZlibFormat format) {
        this.format = format;
        this.deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, format != ZlibFormat.DEFLATE);
        this.prefix = format == ZlibFormat.GZIP ? GZIP_HEADER.clone() : new byte[0];
    }

    @Override
    public byte[] push(byte[] input, boolean finish) throws ZlibException {
        if (ended) throw new ZlibException("The compression stream has ended.");
        if (input != null && input.length > 0) {
            if (deflater.finished() || !deflater.needsInput()) throw new ZlibException("Compression input given out of turn.");
            deflater.setInput(input);
            crc.update(input);
            inputLength += input.length;
        }
        if (finish) deflater.finish();
        byte[] out = this.out;
        int n = 0;
        if (prefix.length > 0) {
            n = prefix.length;
            System.arraycopy(prefix, 0, out, 0, n);
            prefix = new byte[0];
        }
        while (n < out.length && !deflater.finished()) {
            int k = deflater.deflate(out, n, out.length - n, Deflater.NO_FLUSH);
            n += k;
            if (k == 0 && deflater.needsInput() && !finish) break;
        }
        if (deflater.finished() && format == ZlibFormat.GZIP && !trailerWritten) {
            trailerWritten = true;
            byte[] trailer = new byte[8];
            int c = (int) crc.getValue(), len = (int) inputLength;
            for (int i = 0; i < 4; i++) {
                trailer[i] = (byte) (c >>> (8 * i));
                trailer[4 + i] = (byte) (len >>> (8 * i));
            }
            int fit = Math.min(8, out.length - n);
            System.arraycopy(trailer, 0, out, n, fit);
            n += fit;
            if (fit < 8) prefix = Arrays.copyOfRange(trailer, fit, 8);
        }
        return Arrays.copyOf(out, n);
    }

    @Override
    public void end() {
        ended = true;
        deflater.end();
    }
}
