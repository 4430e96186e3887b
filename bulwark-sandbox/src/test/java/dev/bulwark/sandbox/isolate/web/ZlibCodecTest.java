package dev.bulwark.sandbox.isolate.web;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.HexFormat;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The host side of CompressionStream / DecompressionStream, including hostile input. */
class ZlibCodecTest {
    private static byte[] all(ZlibCodec codec, byte[] input) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] piece = codec.push(input, false);
        while (piece.length > 0) {
            out.write(piece);
            piece = codec.push(null, false);
        }
        do {
            piece = codec.push(null, true);
            out.write(piece);
        } while (piece.length > 0);
        codec.end();
        return out.toByteArray();
    }

    @Test
    void gzipIsWhatZlibWritesAndJavaReads() throws Exception {
        byte[] gz = all(ZlibCodec.create(ZlibFormat.GZIP, true), "hello world".getBytes());
        assertThat(HexFormat.of().formatHex(gz)).isEqualTo("1f8b0800000000000003cb48cdc9c95728cf2fca49010085114a0d0b000000");
        try (GZIPInputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(gz))) {
            assertThat(new String(in.readAllBytes())).isEqualTo("hello world");
        }
    }

    /** 256 MiB of zeros in ~256 KiB: each call hands out at most 64 KiB, however small the input. */
    @Test
    void aZipBombComesOutInBoundedPieces() throws Exception {
        Deflater d = new Deflater(9, true);
        byte[] zeros = new byte[1 << 20];
        ByteArrayOutputStream bomb = new ByteArrayOutputStream();
        byte[] buf = new byte[1 << 16];
        for (int i = 0; i < 256; i++) {
            d.setInput(zeros);
            while (!d.needsInput()) bomb.write(buf, 0, d.deflate(buf));
        }
        d.finish();
        while (!d.finished()) bomb.write(buf, 0, d.deflate(buf));
        d.end();
        assertThat(bomb.size()).isLessThan(ZlibCodec.MAX_INPUT);

        ZlibCodec codec = ZlibCodec.create(ZlibFormat.DEFLATE_RAW, false);
        byte[] piece = codec.push(bomb.toByteArray(), false);
        long total = 0;
        for (int i = 0; i < 100; i++) {
            assertThat(piece).hasSize(ZlibCodec.MAX_OUTPUT);
            total += piece.length;
            piece = codec.push(null, false);
        }
        codec.end();
        assertThat(total).isEqualTo(100L * ZlibCodec.MAX_OUTPUT);
        assertThatThrownBy(() -> codec.push(null, false)).isInstanceOf(ZlibCodec.ZlibException.class)
                .hasMessage("The decompression stream has ended.");
    }

    @Test
    void corruptTruncatedAndTrailingInputAreErrors() throws Exception {
        byte[] gz = HexFormat.of().parseHex("1f8b0800000000000003cb48cdc9c95728cf2fca49010085114a0d0b000000");
        assertThatThrownBy(() -> all(ZlibCodec.create(ZlibFormat.GZIP, false), "not gzip".getBytes()))
                .hasMessage("The data is not in gzip format.");
        assertThatThrownBy(() -> all(ZlibCodec.create(ZlibFormat.GZIP, false), java.util.Arrays.copyOf(gz, 20)))
                .hasMessage("The compressed data ended early.");
        byte[] trailing = java.util.Arrays.copyOf(gz, gz.length + 1);
        assertThatThrownBy(() -> all(ZlibCodec.create(ZlibFormat.GZIP, false), trailing))
                .hasMessage("Trailing data after the end of the compressed stream.");
        byte[] badCrc = gz.clone();
        badCrc[gz.length - 8] ^= 1;
        assertThatThrownBy(() -> all(ZlibCodec.create(ZlibFormat.GZIP, false), badCrc))
                .hasMessage("The gzip CRC-32 does not match the data.");
        assertThatThrownBy(() -> all(ZlibCodec.create(ZlibFormat.DEFLATE, false), HexFormat.of().parseHex("789cff")))
                .hasMessage("The compressed data is not valid.");
    }

    @Test
    void theTableCapsOpenStreamsAndFreesAnInvocationsStreams() throws Exception {
        ZlibStreams streams = new ZlibStreams();
        for (int i = 0; i < ZlibStreams.MAX_OPEN; i++) streams.open(ZlibFormat.GZIP, true, i % 2 == 0 ? 7 : 8);
        assertThatThrownBy(() -> streams.open(ZlibFormat.GZIP, true, 7)).isInstanceOf(ZlibCodec.ZlibException.class);
        streams.invocationEnded(7);
        assertThat(streams.openCount()).isEqualTo(ZlibStreams.MAX_OPEN / 2);
        int h = streams.open(ZlibFormat.DEFLATE, false, 9);
        streams.close(h);
        assertThatThrownBy(() -> streams.push(h, new byte[1], false)).hasMessage("The compression stream is closed.");
        streams.closeAll();
        assertThat(streams.openCount()).isZero();
    }
}
