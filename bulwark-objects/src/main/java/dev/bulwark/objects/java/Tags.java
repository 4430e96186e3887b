package dev.bulwark.objects.java;

/** The tag bytes of the structured format, version 1 (the same as {@code serialize.js}). */
final class Tags {
    private Tags() {}

    static final int UNDEFINED = 0x00, NULL = 0x01, TRUE = 0x02, FALSE = 0x03, INT = 0x04, DOUBLE = 0x05,
            BIGINT = 0x06, STRING = 0x07, STRING16 = 0x08, HOLE = 0x0f;
    static final int REF = 0x10, OBJECT = 0x11, ARRAY = 0x12, SPARSE_ARRAY = 0x13, DATE = 0x14, REGEXP = 0x15,
            MAP = 0x16, SET = 0x17, ARRAY_BUFFER = 0x18, VIEW = 0x19, ERROR = 0x1a, NUMBER_OBJECT = 0x1b,
            STRING_OBJECT = 0x1c, BOOLEAN_OBJECT = 0x1d, BIGINT_OBJECT = 0x1e, DOM_EXCEPTION = 0x1f, SLOT = 0x20,
            // An error thrown across a stub (the prelude's richErrors, remote-errors.js): read, never written here.
            RICH_ERROR = 0x21;
    /** The index of Uint8Array among the view kinds. */
    static final int VIEW_UINT8 = 2;
}
