package dev.bulwark.sandbox.isolate.web;

/**
 * The Encoding Standard's decoders for the legacy encodings, over the indexes in
 * {@link LegacyIndexes} and {@link SingleByteTables}. Stateless between calls: when a streaming
 * call ends inside a multi-byte sequence, the bytes of that sequence are reported unconsumed
 * (the prelude gives them again, in front of the next input), and ISO-2022-JP's mode travels in
 * {@code state}.
 */
public final class LegacyDecoder {
    /** The most input one call accepts (the prelude slices bigger inputs). */
    public static final int MAX_INPUT = 1 << 20;

    /** What one call decoded; {@code unconsumed} trailing input bytes are to be given again. */
    public record Decoded(String text, int unconsumed, int state) {}

    /** A fatal decoder met an error. */
    public static final class DecodingError extends Exception {
        DecodingError() {
            super("The encoded data was not valid.", null, false, false);
        }
    }

    private static final int ASCII = 0, ROMAN = 1, KATAKANA = 2, LEAD_BYTE = 3, FLAG = 8;

    private final byte[] in;
    private final boolean stream, fatal;
    private final StringBuilder out;
    private int i;

    private LegacyDecoder(byte[] in, boolean stream, boolean fatal) {
        this.in = in;
        this.stream = stream;
        this.fatal = fatal;
        this.out = new StringBuilder(in.length);
    }

    public static Decoded decode(LegacyEncoding encoding, byte[] input, boolean stream, boolean fatal, int state)
            throws DecodingError {
        LegacyDecoder d = new LegacyDecoder(input, stream, fatal);
        return switch (encoding) {
            case X_USER_DEFINED -> d.userDefined();
            case SHIFT_JIS -> d.shiftJis();
            case EUC_JP -> d.eucJp();
            case ISO_2022_JP -> d.iso2022Jp(state);
            case GBK, GB18030 -> d.gb18030();
            case BIG5 -> d.big5();
            case EUC_KR -> d.eucKr();
            case IBM866, ISO_8859_2, ISO_8859_3, ISO_8859_4, ISO_8859_5, ISO_8859_6, ISO_8859_7, ISO_8859_8,
                 ISO_8859_8_I, ISO_8859_10, ISO_8859_13, ISO_8859_14, ISO_8859_15, ISO_8859_16, KOI8_R, KOI8_U,
                 MACINTOSH, WINDOWS_874, WINDOWS_1250, WINDOWS_1251, WINDOWS_1252, WINDOWS_1253, WINDOWS_1254,
                 WINDOWS_1255, WINDOWS_1256, WINDOWS_1257, WINDOWS_1258, X_MAC_CYRILLIC ->
                    d.singleByte(SingleByteTables.table(encoding));
        };
    }

    private void error() throws DecodingError {
        if (fatal) throw new DecodingError();
        out.append('\uFFFD');
    }

    private void emit(int cp) {
        out.appendCodePoint(cp);
    }

    private Decoded done(int pendingFrom, int state) throws DecodingError {
        if (pendingFrom < 0) return new Decoded(out.toString(), 0, state);
        if (stream) return new Decoded(out.toString(), in.length - pendingFrom, state);
        error(); // end of input inside a sequence: one error for the whole sequence
        return new Decoded(out.toString(), 0, state);
    }

    private static boolean ascii(int b) {
        return b < 0x80;
    }

    private Decoded singleByte(int[] table) throws DecodingError {
        for (; i < in.length; i++) {
            int b = in[i] & 0xff;
            if (ascii(b)) out.append((char) b);
            else if (table[b - 0x80] >= 0) out.append((char) table[b - 0x80]);
            else error();
        }
        return done(-1, 0);
    }

    private Decoded userDefined() throws DecodingError {
        for (; i < in.length; i++) {
            int b = in[i] & 0xff;
            out.append((char) (ascii(b) ? b : 0xf780 + b - 0x80));
        }
        return done(-1, 0);
    }

    private Decoded shiftJis() throws DecodingError {
        int lead = 0;
        for (; i < in.length; i++) {
            int b = in[i] & 0xff;
            if (lead != 0) {
                int l = lead, pointer = -1;
                lead = 0;
                int offset = b < 0x7f ? 0x40 : 0x41, leadOffset = l < 0xa0 ? 0x81 : 0xc1;
                if (b >= 0x40 && b <= 0x7e || b >= 0x80 && b <= 0xfc) pointer = (l - leadOffset) * 188 + b - offset;
                if (pointer >= 8836 && pointer <= 10715) {
                    emit(0xe000 - 8836 + pointer);
                    continue;
                }
                int cp = pointer < 0 ? LegacyIndexes.NONE : LegacyIndexes.jis0208(pointer);
                if (cp != LegacyIndexes.NONE) {
                    emit(cp);
                    continue;
                }
                if (ascii(b)) i--; // the byte starts again
                error();
            } else if (ascii(b) || b == 0x80) {
                out.append((char) b);
            } else if (b >= 0xa1 && b <= 0xdf) {
                emit(0xff61 - 0xa1 + b);
            } else if (b >= 0x81 && b <= 0x9f || b >= 0xe0 && b <= 0xfc) {
                lead = b;
            } else {
                error();
            }
        }
        return done(lead != 0 ? in.length - 1 : -1, 0);
    }

    private Decoded eucJp() throws DecodingError {
        int lead = 0, start = -1;
        boolean jis0212 = false;
        for (; i < in.length; i++) {
            int b = in[i] & 0xff;
            if (lead == 0x8e && b >= 0xa1 && b <= 0xdf) {
                lead = 0;
                emit(0xff61 - 0xa1 + b);
            } else if (lead == 0x8f && b >= 0xa1 && b <= 0xfe) {
                jis0212 = true;
                lead = b;
            } else if (lead != 0) {
                int l = lead, cp = LegacyIndexes.NONE;
                lead = 0;
                if (l >= 0xa1 && l <= 0xfe && b >= 0xa1 && b <= 0xfe) {
                    int pointer = (l - 0xa1) * 94 + b - 0xa1;
                    cp = jis0212 ? LegacyIndexes.jis0212(pointer) : LegacyIndexes.jis0208(pointer);
                }
                jis0212 = false;
                if (cp != LegacyIndexes.NONE) {
                    emit(cp);
                    continue;
                }
                if (ascii(b)) i--;
                error();
            } else if (ascii(b)) {
                out.append((char) b);
            } else if (b == 0x8e || b == 0x8f || b >= 0xa1 && b <= 0xfe) {
                lead = b;
                start = i;
            } else {
                error();
            }
        }
        return done(lead != 0 ? start : -1, 0);
    }

    private Decoded gb18030() throws DecodingError {
        int first = 0, second = 0, third = 0, start = -1;
        for (; i < in.length; i++) {
            int b = in[i] & 0xff;
            if (third != 0) {
                if (b < 0x30 || b > 0x39) {
                    // second, third and this byte start again
                    i -= 3;
                    first = second = third = 0;
                    error();
                    continue;
                }
                int pointer = (((first - 0x81) * 10 + second - 0x30) * 126 + third - 0x81) * 10 + b - 0x30;
                first = second = third = 0;
                int cp = LegacyIndexes.gb18030Ranges(pointer);
                if (cp == LegacyIndexes.NONE) error();
                else emit(cp);
            } else if (second != 0) {
                if (b >= 0x81 && b <= 0xfe) {
                    third = b;
                    continue;
                }
                i -= 2; // second and this byte start again
                first = second = 0;
                error();
            } else if (first != 0) {
                if (b >= 0x30 && b <= 0x39) {
                    second = b;
                    continue;
                }
                int lead = first, cp = LegacyIndexes.NONE;
                first = 0;
                int offset = b < 0x7f ? 0x40 : 0x41;
                if (b >= 0x40 && b <= 0x7e || b >= 0x80 && b <= 0xfe) cp = LegacyIndexes.gb18030((lead - 0x81) * 190 + b - offset);
                if (cp != LegacyIndexes.NONE) {
                    emit(cp);
                    continue;
                }
                if (ascii(b)) i--;
                error();
            } else if (ascii(b)) {
                out.append((char) b);
            } else if (b == 0x80) {
                out.append('\u20AC');
            } else if (b <= 0xfe) {
                first = b;
                start = i;
            } else {
                error();
            }
        }
        return done(first != 0 ? start : -1, 0);
    }

    private Decoded big5() throws DecodingError {
        int lead = 0;
        for (; i < in.length; i++) {
            int b = in[i] & 0xff;
            if (lead != 0) {
                int l = lead, pointer = -1;
                lead = 0;
                int offset = b < 0x7f ? 0x40 : 0x62;
                if (b >= 0x40 && b <= 0x7e || b >= 0xa1 && b <= 0xfe) pointer = (l - 0x81) * 157 + b - offset;
                switch (pointer) {
                    case 1133 -> out.append("\u00CA\u0304");
                    case 1135 -> out.append("\u00CA\u030C");
                    case 1164 -> out.append("\u00EA\u0304");
                    case 1166 -> out.append("\u00EA\u030C");
                    default -> {
                        int cp = pointer < 0 ? LegacyIndexes.NONE : LegacyIndexes.big5(pointer);
                        if (cp != LegacyIndexes.NONE) {
                            emit(cp);
                        } else {
                            if (ascii(b)) i--;
                            error();
                        }
                    }
                }
            } else if (ascii(b)) {
                out.append((char) b);
            } else if (b >= 0x81 && b <= 0xfe) {
                lead = b;
            } else {
                error();
            }
        }
        return done(lead != 0 ? in.length - 1 : -1, 0);
    }

    private Decoded eucKr() throws DecodingError {
        int lead = 0;
        for (; i < in.length; i++) {
            int b = in[i] & 0xff;
            if (lead != 0) {
                int l = lead, cp = LegacyIndexes.NONE;
                lead = 0;
                if (b >= 0x41 && b <= 0xfe) cp = LegacyIndexes.eucKr((l - 0x81) * 190 + b - 0x41);
                if (cp != LegacyIndexes.NONE) {
                    emit(cp);
                    continue;
                }
                if (ascii(b)) i--;
                error();
            } else if (ascii(b)) {
                out.append((char) b);
            } else if (b >= 0x81 && b <= 0xfe) {
                lead = b;
            } else {
                error();
            }
        }
        return done(lead != 0 ? in.length - 1 : -1, 0);
    }

    /**
     * ISO-2022-JP. {@code state} holds the output state (ASCII, Roman, Katakana, lead byte) and the
     * output flag; an escape sequence or a two-byte character cut by the end of a streaming call is
     * given back unconsumed, with the state from before it.
     */
    private Decoded iso2022Jp(int state) throws DecodingError {
        int outputState = state & 7;
        if (outputState > LEAD_BYTE) outputState = ASCII;
        boolean flag = (state & FLAG) != 0;
        final int ESCAPE_START = 4, ESCAPE = 5, TRAIL_BYTE = 6;
        int decoderState = outputState, lead = 0;
        int seqStart = -1, seqState = 0; // where an unfinished sequence began, and the state to resume with
        for (; i < in.length; i++) {
            int b = in[i] & 0xff;
            switch (decoderState) {
                case ESCAPE_START -> {
                    if (b == 0x24 || b == 0x28) {
                        lead = b;
                        decoderState = ESCAPE;
                    } else {
                        i--;
                        flag = false;
                        decoderState = outputState;
                        seqStart = -1;
                        error();
                    }
                }
                case ESCAPE -> {
                    int l = lead, next = -1;
                    lead = 0;
                    if (l == 0x28 && b == 0x42) next = ASCII;
                    else if (l == 0x28 && b == 0x4a) next = ROMAN;
                    else if (l == 0x28 && b == 0x49) next = KATAKANA;
                    else if (l == 0x24 && (b == 0x40 || b == 0x42)) next = LEAD_BYTE;
                    seqStart = -1;
                    if (next >= 0) {
                        decoderState = outputState = next;
                        boolean wasFlag = flag;
                        flag = true;
                        if (wasFlag) error();
                    } else {
                        i -= 2; // lead and this byte start again
                        flag = false;
                        decoderState = outputState;
                        error();
                    }
                }
                case TRAIL_BYTE -> {
                    seqStart = -1;
                    if (b == 0x1b) {
                        decoderState = ESCAPE_START;
                        seqStart = i;
                        seqState = outputState | (flag ? FLAG : 0);
                        error();
                    } else if (b >= 0x21 && b <= 0x7e) {
                        decoderState = LEAD_BYTE;
                        int cp = LegacyIndexes.jis0208((lead - 0x21) * 94 + b - 0x21);
                        if (cp == LegacyIndexes.NONE) error();
                        else emit(cp);
                    } else {
                        decoderState = LEAD_BYTE;
                        error();
                    }
                }
                default -> { // ASCII, ROMAN, KATAKANA, LEAD_BYTE
                    if (b == 0x1b) {
                        seqStart = i;
                        seqState = outputState | (flag ? FLAG : 0);
                        decoderState = ESCAPE_START;
                        continue;
                    }
                    int before = flag ? FLAG : 0;
                    flag = false;
                    switch (decoderState) {
                        case ASCII -> {
                            if (ascii(b) && b != 0x0e && b != 0x0f) out.append((char) b);
                            else error();
                        }
                        case ROMAN -> {
                            if (b == 0x5c) out.append('\u00A5');
                            else if (b == 0x7e) out.append('\u203E');
                            else if (ascii(b) && b != 0x0e && b != 0x0f) out.append((char) b);
                            else error();
                        }
                        case KATAKANA -> {
                            if (b >= 0x21 && b <= 0x5f) emit(0xff61 - 0x21 + b);
                            else error();
                        }
                        default -> { // LEAD_BYTE
                            if (b >= 0x21 && b <= 0x7e) {
                                lead = b;
                                decoderState = TRAIL_BYTE;
                                seqStart = i;
                                seqState = LEAD_BYTE | before;
                            } else {
                                error();
                            }
                        }
                    }
                }
            }
        }
        if (decoderState == ESCAPE_START || decoderState == ESCAPE || decoderState == TRAIL_BYTE) {
            if (stream) return new Decoded(out.toString(), in.length - seqStart, seqState);
            // End of input: an unfinished escape is an error and its bytes start again (they are
            // then ASCII or errors in the output state); an unfinished character is one error.
            if (decoderState == TRAIL_BYTE) {
                error();
                return new Decoded(out.toString(), 0, LEAD_BYTE);
            }
            flag = false;
            error();
            byte[] rest = java.util.Arrays.copyOfRange(in, seqStart + 1, in.length);
            Decoded tail = new LegacyDecoder(rest, false, fatal).iso2022Jp(outputState);
            return new Decoded(out + tail.text(), 0, tail.state());
        }
        return new Decoded(out.toString(), 0, outputState | (flag ? FLAG : 0));
    }
}
