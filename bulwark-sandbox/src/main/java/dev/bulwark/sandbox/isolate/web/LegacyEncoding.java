package dev.bulwark.sandbox.isolate.web;

/** The Encoding Standard's legacy encodings decoded in the host (UTF-8 and UTF-16 stay in the prelude). */
public enum LegacyEncoding {
    IBM866, ISO_8859_2, ISO_8859_3, ISO_8859_4, ISO_8859_5, ISO_8859_6, ISO_8859_7, ISO_8859_8, ISO_8859_8_I,
    ISO_8859_10, ISO_8859_13, ISO_8859_14, ISO_8859_15, ISO_8859_16, KOI8_R, KOI8_U, MACINTOSH,
    WINDOWS_874, WINDOWS_1250, WINDOWS_1251, WINDOWS_1252, WINDOWS_1253, WINDOWS_1254, WINDOWS_1255,
    WINDOWS_1256, WINDOWS_1257, WINDOWS_1258, X_MAC_CYRILLIC, X_USER_DEFINED,
    GBK, GB18030, BIG5, EUC_JP, ISO_2022_JP, SHIFT_JIS, EUC_KR;

    /** The standard's name of the encoding, as TextDecoder.encoding reports it. */
    public String webName() {
        return switch (this) {
            case IBM866, MACINTOSH, GBK, GB18030, BIG5 -> name().toLowerCase(java.util.Locale.ROOT);
            case SHIFT_JIS, X_USER_DEFINED, X_MAC_CYRILLIC, ISO_8859_8_I, EUC_JP, ISO_2022_JP, EUC_KR, KOI8_R, KOI8_U,
                 ISO_8859_2, ISO_8859_3, ISO_8859_4, ISO_8859_5, ISO_8859_6, ISO_8859_7, ISO_8859_8, ISO_8859_10,
                 ISO_8859_13, ISO_8859_14, ISO_8859_15, ISO_8859_16, WINDOWS_874, WINDOWS_1250, WINDOWS_1251,
                 WINDOWS_1252, WINDOWS_1253, WINDOWS_1254, WINDOWS_1255, WINDOWS_1256, WINDOWS_1257, WINDOWS_1258 ->
                    name().toLowerCase(java.util.Locale.ROOT).replace('_', '-').replace("shift-jis", "shift_jis");
        };
    }

    /** The encoding with this standard name (as the prelude's label table gives it), or null. */
    public static LegacyEncoding byWebName(String name) {
        if (name == null) return null;
        for (LegacyEncoding e : values()) if (e.webName().equals(name)) return e;
        return null;
    }

    boolean singleByte() {
        return ordinal() <= X_MAC_CYRILLIC.ordinal();
    }
}
