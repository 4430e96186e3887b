package dev.bulwark.sandbox.isolate.web;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The code points of bytes 0x80-0xFF for the Encoding Standard's single-byte encodings, taken
 * from the JDK's charsets with the standard's differences applied (measured against its index
 * files by LegacyDecoderTest): the windows-* encodings map the bytes the JDK leaves unmapped in
 * 0x80-0x9F to the C1 controls; KOI8-U, x-mac-cyrillic and windows-1255 differ in a few bytes;
 * ISO-8859-10 and ISO-8859-14 are not in the JDK and are written out here (0xA0-0xFF; below is
 * identity).
 */
final class SingleByteTables {
    private SingleByteTables() {}

    private static final String ISO_8859_10 = "\u00A0\u0104\u0112\u0122\u012A\u0128\u0136\u00A7\u013B\u0110\u0160\u0166\u017D\u00AD\u016A\u014A"
            + "\u00B0\u0105\u0113\u0123\u012B\u0129\u0137\u00B7\u013C\u0111\u0161\u0167\u017E\u2015\u016B\u014B"
            + "\u0100\u00C1\u00C2\u00C3\u00C4\u00C5\u00C6\u012E\u010C\u00C9\u0118\u00CB\u0116\u00CD\u00CE\u00CF"
            + "\u00D0\u0145\u014C\u00D3\u00D4\u00D5\u00D6\u0168\u00D8\u0172\u00DA\u00DB\u00DC\u00DD\u00DE\u00DF"
            + "\u0101\u00E1\u00E2\u00E3\u00E4\u00E5\u00E6\u012F\u010D\u00E9\u0119\u00EB\u0117\u00ED\u00EE\u00EF"
            + "\u00F0\u0146\u014D\u00F3\u00F4\u00F5\u00F6\u0169\u00F8\u0173\u00FA\u00FB\u00FC\u00FD\u00FE\u0138";
    private static final String ISO_8859_14 = "\u00A0\u1E02\u1E03\u00A3\u010A\u010B\u1E0A\u00A7\u1E80\u00A9\u1E82\u1E0B\u1EF2\u00AD\u00AE\u0178"
            + "\u1E1E\u1E1F\u0120\u0121\u1E40\u1E41\u00B6\u1E56\u1E81\u1E57\u1E83\u1E60\u1EF3\u1E84\u1E85\u1E61"
            + "\u00C0\u00C1\u00C2\u00C3\u00C4\u00C5\u00C6\u00C7\u00C8\u00C9\u00CA\u00CB\u00CC\u00CD\u00CE\u00CF"
            + "\u0174\u00D1\u00D2\u00D3\u00D4\u00D5\u00D6\u1E6A\u00D8\u00D9\u00DA\u00DB\u00DC\u00DD\u0176\u00DF"
            + "\u00E0\u00E1\u00E2\u00E3\u00E4\u00E5\u00E6\u00E7\u00E8\u00E9\u00EA\u00EB\u00EC\u00ED\u00EE\u00EF"
            + "\u0175\u00F1\u00F2\u00F3\u00F4\u00F5\u00F6\u1E6B\u00F8\u00F9\u00FA\u00FB\u00FC\u00FD\u0177\u00FF";

    private static final Map<LegacyEncoding, int[]> TABLES = new ConcurrentHashMap<>();

    /** Code points of bytes 0x80..0xFF (index 0..127); -1 where the byte is an error. */
    static int[] table(LegacyEncoding encoding) {
        return TABLES.computeIfAbsent(encoding, SingleByteTables::build);
    }

    private static int[] build(LegacyEncoding e) {
        int[] t = new int[128];
        switch (e) {
            case ISO_8859_10 -> fromString(t, ISO_8859_10);
            case ISO_8859_14 -> fromString(t, ISO_8859_14);
            default -> {
                CharsetDecoder d = Charset.forName(jdkName(e)).newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
                for (int b = 0; b < 128; b++) {
                    try {
                        CharBuffer c = d.reset().decode(ByteBuffer.wrap(new byte[] {(byte) (0x80 + b)}));
                        t[b] = c.length() == 1 ? c.charAt(0) : -1;
                    } catch (CharacterCodingException x) {
                        t[b] = -1;
                    }
                    if (t[b] == -1 && b < 0x20 && e.name().startsWith("WINDOWS_")) t[b] = 0x80 + b;
                }
            }
        }
        switch (e) {
            case KOI8_U -> {
                t[0xae - 0x80] = 0x045e;
                t[0xbe - 0x80] = 0x040e;
            }
            case X_MAC_CYRILLIC -> {
                t[0xa2 - 0x80] = 0x0490;
                t[0xb6 - 0x80] = 0x0491;
                t[0xff - 0x80] = 0x20ac;
            }
            case WINDOWS_1255 -> t[0xca - 0x80] = 0x05ba;
            default -> { }
        }
        return t;
    }

    private static void fromString(int[] t, String upper) {
        for (int b = 0; b < 32; b++) t[b] = 0x80 + b;
        for (int b = 0; b < 96; b++) t[32 + b] = upper.charAt(b);
    }

    private static String jdkName(LegacyEncoding e) {
        return switch (e) {
            case IBM866 -> "IBM866";
            case ISO_8859_2 -> "ISO-8859-2";
            case ISO_8859_3 -> "ISO-8859-3";
            case ISO_8859_4 -> "ISO-8859-4";
            case ISO_8859_5 -> "ISO-8859-5";
            case ISO_8859_6 -> "ISO-8859-6";
            case ISO_8859_7 -> "ISO-8859-7";
            case ISO_8859_8, ISO_8859_8_I -> "ISO-8859-8";
            case ISO_8859_13 -> "ISO-8859-13";
            case ISO_8859_15 -> "ISO-8859-15";
            case ISO_8859_16 -> "ISO-8859-16";
            case KOI8_R -> "KOI8-R";
            case KOI8_U -> "KOI8-U";
            case MACINTOSH -> "x-MacRoman";
            case WINDOWS_874 -> "x-windows-874";
            case WINDOWS_1250 -> "windows-1250";
            case WINDOWS_1251 -> "windows-1251";
            case WINDOWS_1252 -> "windows-1252";
            case WINDOWS_1253 -> "windows-1253";
            case WINDOWS_1254 -> "windows-1254";
            case WINDOWS_1255 -> "windows-1255";
            case WINDOWS_1256 -> "windows-1256";
            case WINDOWS_1257 -> "windows-1257";
            case WINDOWS_1258 -> "windows-1258";
            case X_MAC_CYRILLIC -> "x-MacCyrillic";
            case ISO_8859_10, ISO_8859_14, X_USER_DEFINED, SHIFT_JIS, EUC_JP, ISO_2022_JP, GBK, GB18030, BIG5, EUC_KR ->
                    throw new IllegalArgumentException("not a JDK single-byte encoding: " + e);
        };
    }
}
