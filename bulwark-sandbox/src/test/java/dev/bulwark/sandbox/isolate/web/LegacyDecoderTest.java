package dev.bulwark.sandbox.isolate.web;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The legacy decoders against the Encoding Standard: its index files and its decoder algorithms. */
class LegacyDecoderTest {
    private static String decode(LegacyEncoding e, String hex) throws Exception {
        return LegacyDecoder.decode(e, HexFormat.of().parseHex(hex.replace(" ", "")), false, false, 0).text();
    }

    private static String codePoints(String s) {
        StringBuilder sb = new StringBuilder();
        s.codePoints().forEach(cp -> sb.append(sb.isEmpty() ? "" : " ").append(String.format("%04X", cp)));
        return sb.toString();
    }

    /** Every byte 0x80-0xFF of every single-byte encoding decodes as the standard's index says. */
    @ParameterizedTest
    @EnumSource(value = LegacyEncoding.class, names = {"IBM866", "ISO_8859_2", "ISO_8859_3", "ISO_8859_4", "ISO_8859_5",
            "ISO_8859_6", "ISO_8859_7", "ISO_8859_8", "ISO_8859_8_I", "ISO_8859_10", "ISO_8859_13", "ISO_8859_14", "ISO_8859_15",
            "ISO_8859_16", "KOI8_R", "KOI8_U", "MACINTOSH", "WINDOWS_874", "WINDOWS_1250", "WINDOWS_1251", "WINDOWS_1252",
            "WINDOWS_1253", "WINDOWS_1254", "WINDOWS_1255", "WINDOWS_1256", "WINDOWS_1257", "WINDOWS_1258", "X_MAC_CYRILLIC"})
    void singleByteEncodingsMatchTheStandardsIndex(LegacyEncoding e) throws Exception {
        String file = e == LegacyEncoding.ISO_8859_8_I ? "iso-8859-8" : e.webName();
        int[] expected = new int[128];
        java.util.Arrays.fill(expected, 0xfffd);
        try (InputStream in = getClass().getResourceAsStream("/whatwg-encoding/index-" + file + ".txt")) {
            assertThat(in).as(file).isNotNull();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.startsWith("#") || line.isBlank()) continue;
                String[] p = line.trim().split("\t");
                expected[Integer.parseInt(p[0].trim())] = Integer.decode(p[1]);
            }
        }
        byte[] all = new byte[256];
        for (int b = 0; b < 256; b++) all[b] = (byte) b;
        String text = LegacyDecoder.decode(e, all, false, false, 0).text();
        assertThat(text).hasSize(256);
        for (int b = 0; b < 128; b++) assertThat((int) text.charAt(b)).as("byte %02X", b).isEqualTo(b);
        for (int b = 0; b < 128; b++) {
            assertThat(String.format("%04X", (int) text.charAt(128 + b))).as("%s byte %02X", e.webName(), 0x80 + b)
                    .isEqualTo(String.format("%04X", expected[b]));
        }
    }

    @Test
    void shiftJis() throws Exception {
        assertThat(codePoints(decode(LegacyEncoding.SHIFT_JIS, "82a0 889f a1 80 5c 7e 815c f040 f9fc"))).isEqualTo(
                "3042 4E9C FF61 0080 005C 007E 2015 E000 E757");
        // An invalid trail byte that is ASCII starts again; others are swallowed with the lead.
        assertThat(decode(LegacyEncoding.SHIFT_JIS, "8120 41")).isEqualTo("\uFFFD A");
        assertThat(decode(LegacyEncoding.SHIFT_JIS, "81ff 41")).isEqualTo("\uFFFDA");
        assertThat(decode(LegacyEncoding.SHIFT_JIS, "a0 fd fe ff")).isEqualTo("\uFFFD\uFFFD\uFFFD\uFFFD");
        assertThat(decode(LegacyEncoding.SHIFT_JIS, "41 82")).isEqualTo("A\uFFFD");
    }

    @Test
    void eucJp() throws Exception {
        assertThat(codePoints(decode(LegacyEncoding.EUC_JP, "a4a2 b0a1 8eb1 8fb0a1 a1bd 41"))).isEqualTo(
                "3042 4E9C FF71 4E02 2015 0041");
        assertThat(decode(LegacyEncoding.EUC_JP, "a420")).isEqualTo("\uFFFD ");
        assertThat(decode(LegacyEncoding.EUC_JP, "8fb0")).isEqualTo("\uFFFD");
    }

    @Test
    void iso2022Jp() throws Exception {
        assertThat(codePoints(decode(LegacyEncoding.ISO_2022_JP, "41 1b2442 3021 2422 1b2842 42"))).isEqualTo("0041 4E9C 3042 0042");
        assertThat(codePoints(decode(LegacyEncoding.ISO_2022_JP, "1b284a 5c7e 1b2849 31 1b2842 5c"))).isEqualTo("00A5 203E FF71 005C");
        // Two escapes in a row: the first switch produced nothing, an error.
        assertThat(decode(LegacyEncoding.ISO_2022_JP, "1b2442 1b2842 41")).isEqualTo("\uFFFDA");
        // An unknown escape: error, then its bytes are read again as ASCII.
        assertThat(decode(LegacyEncoding.ISO_2022_JP, "1b2841")).isEqualTo("\uFFFD(A");
        assertThat(decode(LegacyEncoding.ISO_2022_JP, "0e 80")).isEqualTo("\uFFFD\uFFFD");
        // Cut off at the end: an escape is an error and its bytes start again; half a character is one error.
        assertThat(decode(LegacyEncoding.ISO_2022_JP, "41 1b24")).isEqualTo("A\uFFFD$");
        assertThat(decode(LegacyEncoding.ISO_2022_JP, "1b2442 30")).isEqualTo("\uFFFD");
    }

    @Test
    void gb18030AndGbk() throws Exception {
        for (LegacyEncoding e : new LegacyEncoding[] {LegacyEncoding.GB18030, LegacyEncoding.GBK}) {
            assertThat(codePoints(decode(e, "c4e3bac3 80 81308130 8431a439 90308130 a3a0 82359037 84328130"))).isEqualTo(
                    "4F60 597D 20AC 0080 FFFF 10000 3000 9FB4 FFFD");
            assertThat(decode(e, "8130 41")).isEqualTo("\uFFFD0A");
            assertThat(decode(e, "813081 20")).isEqualTo("\uFFFD0\uFFFD ");
            assertThat(decode(e, "ff 81")).isEqualTo("\uFFFD\uFFFD");
        }
    }

    @Test
    void big5AndEucKr() throws Exception {
        assertThat(codePoints(decode(LegacyEncoding.BIG5, "a440 8862 41"))).isEqualTo("4E00 00CA 0304 0041");
        assertThat(decode(LegacyEncoding.BIG5, "a420")).isEqualTo("\uFFFD ");
        assertThat(codePoints(decode(LegacyEncoding.EUC_KR, "b0a1 c7d1 8141"))).isEqualTo("AC00 D55C AC02");
        assertThat(decode(LegacyEncoding.EUC_KR, "b0 20")).isEqualTo("\uFFFD ");
    }

    @Test
    void xUserDefined() throws Exception {
        assertThat(codePoints(decode(LegacyEncoding.X_USER_DEFINED, "41 80 ff"))).isEqualTo("0041 F780 F7FF");
    }

    /** Streaming: a sequence cut by the end of a call comes back unconsumed, to be given again. */
    @Test
    void streamingKeepsPartialSequences() throws Exception {
        LegacyDecoder.Decoded d = LegacyDecoder.decode(LegacyEncoding.GB18030, HexFormat.of().parseHex("41813081"), true, false, 0);
        assertThat(d.text()).isEqualTo("A");
        assertThat(d.unconsumed()).isEqualTo(3);
        d = LegacyDecoder.decode(LegacyEncoding.EUC_JP, HexFormat.of().parseHex("8fb0"), true, false, 0);
        assertThat(d.unconsumed()).isEqualTo(2);
        // ISO-2022-JP: the mode travels in the state; a cut escape comes back whole.
        d = LegacyDecoder.decode(LegacyEncoding.ISO_2022_JP, HexFormat.of().parseHex("1b24423021"), true, false, 0);
        assertThat(codePoints(d.text())).isEqualTo("4E9C");
        assertThat(d.unconsumed()).isZero();
        LegacyDecoder.Decoded next = LegacyDecoder.decode(LegacyEncoding.ISO_2022_JP, HexFormat.of().parseHex("24221b28"), true, false, d.state());
        assertThat(codePoints(next.text())).isEqualTo("3042");
        assertThat(next.unconsumed()).isEqualTo(2);
        LegacyDecoder.Decoded last = LegacyDecoder.decode(LegacyEncoding.ISO_2022_JP, HexFormat.of().parseHex("1b284241"), false, false, next.state());
        assertThat(last.text()).isEqualTo("A");
    }

    @Test
    void fatalDecodersThrow() {
        assertThatThrownBy(() -> LegacyDecoder.decode(LegacyEncoding.SHIFT_JIS, HexFormat.of().parseHex("a0"), false, true, 0))
                .isInstanceOf(LegacyDecoder.DecodingError.class);
        assertThatThrownBy(() -> LegacyDecoder.decode(LegacyEncoding.WINDOWS_1253, HexFormat.of().parseHex("aa"), false, true, 0))
                .isInstanceOf(LegacyDecoder.DecodingError.class);
        assertThatThrownBy(() -> LegacyDecoder.decode(LegacyEncoding.BIG5, HexFormat.of().parseHex("a4"), false, true, 0))
                .isInstanceOf(LegacyDecoder.DecodingError.class);
    }

    @Test
    void everyEncodingHasAStandardName() throws IOException {
        for (LegacyEncoding e : LegacyEncoding.values()) assertThat(LegacyEncoding.byWebName(e.webName())).isEqualTo(e);
        assertThat(LegacyEncoding.SHIFT_JIS.webName()).isEqualTo("shift_jis");
        assertThat(LegacyEncoding.ISO_8859_8_I.webName()).isEqualTo("iso-8859-8-i");
        assertThat(LegacyEncoding.X_MAC_CYRILLIC.webName()).isEqualTo("x-mac-cyrillic");
    }
}
