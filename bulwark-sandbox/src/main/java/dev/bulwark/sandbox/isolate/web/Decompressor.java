package dev.bulwark.sandbox.isolate.web;

import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A DecompressionStream's state. zlib's inflate does the deflate data (and the zlib wrapper of
 * "deflate"); the gzip header and trailer are parsed here. As the standard says, corrupt data,
 * data after the end of the compressed stream, and a stream that ends early are errors.
 */
public final class Decompressor implements ZlibCodec {
    /** A gzip header with a longer name or comment than this is refused. */
    static final int MAX_GZIP_HEADER = 128 << 10; // FEXTRA alone may be 64 KiB

    private enum Phase { HEADER, BODY, TRAILER, DONE }

    private final ZlibFormat format;
    private final Inflater inflater;
    private final CRC32 crc = new CRC32();
    private long outputLength;
    private Phase phase;
    /** Input not given to the inflater: the gzip header or trailer, or what follows the deflate data. */
    private byte[] buf = new byte[0];
    private int pos;
    /** The array last given to the inflater, so bytes it did not use can be taken back. */
    private byte[] inflaterInput;
    private boolean ended;
    /** Reused for every call: one piece of output is copied out of it. */
    private final byte[] out = new byte[MAX_OUTPUT];

    Decompressor(ZlibFormat format) {
        this.format = format;
        this.inflater = new Inflater(format != ZlibFormat.DEFLATE);
        this.phase = format == ZlibFormat.GZIP ? Phase.HEADER : Phase.BODY;
    }

    @Override
    public byte[] push(byte[] input, boolean finish) throws ZlibException {
        if (ended) throw new ZlibException("The decompression stream has ended.");
        if (input != null && input.length > 0) append(input);
        byte[] out = this.out;
        int n = 0;
        try {
            loop:
            while (n < out.length) {
                switch (phase) {
                    case HEADER -> {
                        int headerLength = GzipHeader.length(buf, pos);
                        if (headerLength < 0) {
                            if (buf.length - pos > MAX_GZIP_HEADER) throw new ZlibException("The gzip header is too long.");
                            break loop;
                        }
                        pos += headerLength;
                        phase = Phase.BODY;
                    }
                    case BODY -> {
                        if (inflater.needsInput()) {
                            if (pos == buf.length) break loop;
                            inflaterInput = pos == 0 ? buf : Arrays.copyOfRange(buf, pos, buf.length);
                            inflater.setInput(inflaterInput);
                            buf = new byte[0];
                            pos = 0;
                        }
                        int k = inflater.inflate(out, n, out.length - n);
                        if (format == ZlibFormat.GZIP) crc.update(out, n, k);
                        n += k;
                        outputLength += k;
                        if (inflater.finished()) {
                            int rest = inflater.getRemaining();
                            buf = Arrays.copyOfRange(inflaterInput, inflaterInput.length - rest, inflaterInput.length);
                            pos = 0;
                            phase = format == ZlibFormat.GZIP ? Phase.TRAILER : Phase.DONE;
                        } else if (inflater.needsDictionary()) {
                            throw new ZlibException("The compressed data needs a preset dictionary.");
                        } else if (k == 0 && !inflater.needsInput()) {
                            break loop;
                        }
                    }
                    case TRAILER -> {
                        if (buf.length - pos < 8) break loop;
                        if (le32(buf, pos) != (int) crc.getValue()) throw new ZlibException("The gzip CRC-32 does not match the data.");
                        if (le32(buf, pos + 4) != (int) outputLength) throw new ZlibException("The gzip length does not match the data.");
                        pos += 8;
                        phase = Phase.DONE;
                    }
                    case DONE -> {
                        if (pos < buf.length) throw new ZlibException("Trailing data after the end of the compressed stream.");
                        break loop;
                    }
                }
            }
        } catch (DataFormatException e) {
            throw new ZlibException("The compressed data is not valid.");
        }
        if (finish && n == 0 && phase != Phase.DONE) throw new ZlibException("The compressed data ended early.");
        return Arrays.copyOf(out, n);
    }

    private void append(byte[] input) throws ZlibException {
        if (phase == Phase.BODY && inflater.getRemaining() > 0) throw new ZlibException("Decompression input given out of turn.");
        if (pos == buf.length) {
            buf = input;
        } else {
            byte[] joined = Arrays.copyOfRange(buf, pos, buf.length + input.length);
            System.arraycopy(input, 0, joined, buf.length - pos, input.length);
            buf = joined;
        }
        pos = 0;
    }

    private static int le32(byte[] b, int i) {
        return (b[i] & 0xff) | (b[i + 1] & 0xff) << 8 | (b[i + 2] & 0xff) << 16 | (b[i + 3] & 0xff) << 24;
    }

    @Override
    public void end() {
        ended = true;
        inflater.end();
    }
}
