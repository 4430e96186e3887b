package dev.bulwark.sandbox.isolate.web;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;

/**
 * The Encoding Standard's indexes (pointer to code point), read out of the JDK's charsets once,
 * on first use. Measured against the standard's index files (see LegacyDecoderTest and
 * docs/notes/webapis.md): jis0208 from windows-31j, jis0212 from EUC-JP and euc-kr from
 * x-windows-949 are identical; gb18030 needs the corrections below; big5 from Big5-HKSCS lacks 140
 * of the 18,590 pointers (they decode as errors).
 */
final class LegacyIndexes {
    private LegacyIndexes() {}

    /** No code point at this pointer. */
    static final int NONE = -1;

    private static final class Jis0208 {
        // Shift_JIS bytes for a pointer, decoded by windows-31j.
        static final int[] TABLE = build("windows-31j", 94 * 120, p -> {
            int lead = p / 188, trail = p % 188;
            int l = lead + (lead < 0x1f ? 0x81 : 0xc1);
            return l > 0xfc ? null : new byte[] {(byte) l, (byte) (trail + (trail < 0x3f ? 0x40 : 0x41))};
        });
    }

    private static final class Jis0212 {
        static final int[] TABLE = build("EUC-JP", 94 * 94, p -> new byte[] {(byte) 0x8f, (byte) (p / 94 + 0xa1), (byte) (p % 94 + 0xa1)});
    }

    private static final class EucKr {
        static final int[] TABLE = build("x-windows-949", 126 * 190, p -> new byte[] {(byte) (p / 190 + 0x81), (byte) (p % 190 + 0x41)});
    }

    private static final class Gb18030 {
        static final int[] TABLE = build("GB18030", 126 * 190, p -> {
            int trail = p % 190;
            return new byte[] {(byte) (p / 190 + 0x81), (byte) (trail + (trail < 0x3f ? 0x40 : 0x41))};
        });

        static {
            TABLE[6555] = 0x3000; // A3 A0: the standard maps it to IDEOGRAPHIC SPACE, the JDK to a private-use code point
        }

        static final CharsetDecoder FOUR = decoder("GB18030");
    }

    private static final class Big5 {
        static final int[] TABLE = build("Big5-HKSCS", 126 * 157, p -> {
            int trail = p % 157;
            return new byte[] {(byte) (p / 157 + 0x81), (byte) (trail + (trail < 0x3f ? 0x40 : 0x62))};
        });
    }

    static int jis0208(int pointer) {
        return lookup(Jis0208.TABLE, pointer);
    }

    static int jis0212(int pointer) {
        return lookup(Jis0212.TABLE, pointer);
    }

    static int eucKr(int pointer) {
        return lookup(EucKr.TABLE, pointer);
    }

    static int gb18030(int pointer) {
        return lookup(Gb18030.TABLE, pointer);
    }

    static int big5(int pointer) {
        return lookup(Big5.TABLE, pointer);
    }

    /** The standard's "index gb18030 ranges code point" for a four-byte pointer. */
    static int gb18030Ranges(int pointer) {
        if (pointer > 39419 && pointer < 189000 || pointer > 1237575) return NONE;
        if (pointer == 7457) return 0xe7c7;
        if (pointer >= 189000) return 0x10000 + pointer - 189000;
        // The JDK maps these to private-use code points; the standard to the characters since added to Unicode.
        if (pointer >= 19057 && pointer <= 19064) return 0x9fb4 + pointer - 19057;
        if (pointer >= 39076 && pointer <= 39085) return 0xfe10 + pointer - 39076;
        byte[] b = {(byte) (pointer / 12600 + 0x81), (byte) (pointer / 1260 % 10 + 0x30),
                (byte) (pointer / 10 % 126 + 0x81), (byte) (pointer % 10 + 0x30)};
        synchronized (Gb18030.FOUR) {
            return single(Gb18030.FOUR, b);
        }
    }

    private static int lookup(int[] table, int pointer) {
        return pointer >= 0 && pointer < table.length ? table[pointer] : NONE;
    }

    private interface PointerBytes {
        byte[] bytes(int pointer);
    }

    private static int[] build(String charset, int size, PointerBytes bytes) {
        CharsetDecoder d = decoder(charset);
        int[] table = new int[size];
        for (int p = 0; p < size; p++) {
            byte[] b = bytes.bytes(p);
            table[p] = b == null ? NONE : single(d, b);
        }
        return table;
    }

    private static CharsetDecoder decoder(String charset) {
        return Charset.forName(charset).newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
    }

    /** The one code point the bytes decode to, or NONE. */
    private static int single(CharsetDecoder d, byte[] b) {
        try {
            CharBuffer c = d.reset().decode(ByteBuffer.wrap(b));
            if (c.length() == 0) return NONE;
            int cp = Character.codePointAt(c, 0);
            return Character.charCount(cp) == c.length() ? cp : NONE;
        } catch (CharacterCodingException e) {
            return NONE;
        }
    }
}
