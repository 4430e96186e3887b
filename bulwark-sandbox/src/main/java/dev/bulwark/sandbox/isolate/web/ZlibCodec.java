package dev.bulwark.sandbox.isolate.web;

/**
 * One compression or decompression stream. Input is given once; output is then taken in pieces
 * of at most {@link #MAX_OUTPUT} bytes until a call returns none, so one small input (a zip bomb)
 * can never make the host produce more than one piece before the reader asks for the next.
 */
public sealed interface ZlibCodec permits Compressor, Decompressor {
    /** The most output one call produces. */
    int MAX_OUTPUT = 64 << 10;
    /** The most input one call accepts (the prelude slices bigger chunks). */
    int MAX_INPUT = 1 << 20;

    /**
     * Takes {@code input} (null: none) and returns the next output, empty when the input given so
     * far is used up. With {@code finish}, the end of the input: the stream is completed (and a
     * decompressor checks that its input was complete).
     *
     * @throws ZlibException for corrupt, truncated or trailing input, or a stream already ended
     */
    byte[] push(byte[] input, boolean finish) throws ZlibException;

    /** Frees the native zlib state; the codec cannot be used again. */
    void end();

    static ZlibCodec create(ZlibFormat format, boolean compress) {
        return compress ? new Compressor(format) : new Decompressor(format);
    }

    /** A failure whose message may be shown to the worker. */
    final class ZlibException extends Exception {
        public ZlibException(String message) {
            super(message, null, false, false);
        }
    }
}
