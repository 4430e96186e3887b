package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.V8Runtime;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.reference.V8ValueArrayBuffer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The memory one isolate's {@code sql.exec} shares with the host: an ArrayBuffer made here, held
 * by the prelude's storage module (never by worker code) and read and written here through its
 * direct {@link ByteBuffer}. For an SQL text with a number ({@link SqlTexts}) and a few null,
 * number or short string bindings, the prelude writes the object's handle, the text's number and
 * the bindings into it and calls {@code sqlExec()} with no argument (through {@code sqlRun}, a V8
 * function of its own: see Isolate.bindOwn); the host answers a result
 * without columns by writing its counts back and returning null. A Javet callback pays a few JNI
 * up-calls per argument (each argument becomes a Java object) and per result, so such a call
 * costs the fixed part of one crossing only. Everything else (SQL run the first time, blobs, long
 * strings, more bindings than {@link #MAX_BINDINGS}) goes as arguments, as before.
 *
 * <p>Layout (native byte order, as the prelude's typed arrays use): float64 rowsRead at
 * {@value #ROWS_READ}, float64 rowsWritten at {@value #ROWS_WRITTEN} (host → JS); int32 handle at
 * {@value #HANDLE}, int32 text number at {@value #TEXT}, int32 binding count at {@value #COUNT},
 * one tag byte per binding from {@value #TAGS}, one 8-byte slot per binding from {@value #SLOTS}
 * (a number's value, or a string's length in code units and its byte offset in the data area)
 * and the strings' code units from {@value #DATA} (JS → host). A small result (one row or none,
 * see {@link #result}) comes back in the same places (host → JS), as does a result without
 * columns (its counts, and -1 at {@value #RESULT_ROWS}). Isolate thread only; a call reads what
 * JS wrote just before it, and JS reads the answer right after it returns.
 *
 * <p>The prelude's code is trusted but everything is bounds-checked anyway: a malformed entry is
 * refused like a malformed argument.
 */
final class SqlExchange implements AutoCloseable {
    static final int SIZE = 64 << 10;
    static final int MAX_BINDINGS = 64;
    static final int ROWS_READ = 0;
    static final int ROWS_WRITTEN = 8;
    static final int HANDLE = 16;
    static final int TEXT = 20;
    static final int COUNT = 24;
    /** Host → JS: -1 for a result without columns, else its row count (0 or 1; see {@link #result}). */
    static final int RESULT_ROWS = 28;
    /** Columns of a result that can come back through the buffer (names and values: two entries each). */
    static final int MAX_RESULT_COLUMNS = MAX_BINDINGS / 2;
    /** Longest string (code units) of a result that comes back through the buffer: the prelude's limit for bindings. */
    static final int MAX_CHARS = 256;
    static final int TAGS = 32;
    static final int SLOTS = TAGS + MAX_BINDINGS;
    static final int DATA = SLOTS + 8 * MAX_BINDINGS;

    /** Tags: SQL NULL; a number (float64 slot); a string of code units below 256 (one byte each); any string (two bytes each). */
    static final byte NULL = 0;
    static final byte NUMBER = 1;
    static final byte LATIN1 = 2;
    static final byte UTF16 = 3;

    private final V8ValueArrayBuffer buffer;
    private final ByteBuffer bytes;

    SqlExchange(V8Runtime runtime) throws JavetException {
        this.buffer = runtime.createV8ValueArrayBuffer(SIZE);
        this.bytes = buffer.getByteBuffer().order(ByteOrder.nativeOrder());
        if (bytes.capacity() < SIZE) throw new IllegalStateException("sql exchange buffer too small");
    }

    /** A new reference to the buffer, for the prelude (Javet closes a callback's result). */
    V8Value reference() throws JavetException {
        return buffer.toClone(true);
    }

    int handle() {
        return bytes.getInt(HANDLE);
    }

    int text() {
        return bytes.getInt(TEXT);
    }

    /** The bindings the prelude wrote, as {@code ObjectStore.Database.exec} takes them. */
    List<Object> bindings() {
        int n = bytes.getInt(COUNT);
        if (n < 0 || n > MAX_BINDINGS) throw new IllegalArgumentException("sql.exec: bad binding count");
        List<Object> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int slot = SLOTS + 8 * i;
            out.add(switch (bytes.get(TAGS + i)) {
                case NULL -> null;
                case NUMBER -> number(bytes.getDouble(slot));
                case LATIN1 -> latin1(bytes.getInt(slot), bytes.getInt(slot + 4));
                case UTF16 -> utf16(bytes.getInt(slot), bytes.getInt(slot + 4));
                default -> throw new IllegalArgumentException("unsupported SQL binding");
            });
        }
        return out;
    }

    /** Tells the prelude the counts of a result without columns. */
    void counts(long rowsRead, long rowsWritten) {
        bytes.putDouble(ROWS_READ, rowsRead);
        bytes.putDouble(ROWS_WRITTEN, rowsWritten);
        bytes.putInt(RESULT_ROWS, -1);
    }

    /**
     * Writes a result of at most one row, at most {@value #MAX_RESULT_COLUMNS} columns and values
     * that are nulls, numbers or strings of at most {@value #MAX_CHARS} code units (names too):
     * the counts, the column count at {@value #COUNT}, the row count (0 or 1) at
     * {@value #RESULT_ROWS}, the names as entries 0.., the values as entries
     * {@value #MAX_RESULT_COLUMNS}.. (tag and slot as a binding's). False, with nothing the
     * prelude will read, when the result does not fit: it then crosses as before. A number is
     * the double JS would get from the other answers (a long beyond 2^53 rounded as
     * {@code (double)} does, which is what JSON.parse of its digits gives too).
     */
    boolean result(List<String> columns, List<Object[]> rows, long rowsRead, long rowsWritten) {
        int width = columns.size();
        if (rows.size() > 1 || width > MAX_RESULT_COLUMNS) return false;
        int data = DATA;
        for (int i = 0; i < width; i++) {
            data = string(i, columns.get(i), data);
            if (data < 0) return false;
        }
        if (!rows.isEmpty()) {
            Object[] row = rows.getFirst();
            for (int i = 0; i < width; i++) {
                int entry = MAX_RESULT_COLUMNS + i;
                switch (row[i]) {
                    case null -> bytes.put(TAGS + entry, NULL);
                    case Long l -> number(entry, (double) l);
                    case Integer n -> number(entry, n);
                    case Double d -> number(entry, d);
                    case String str -> data = string(entry, str, data);
                    default -> data = -1; // a blob: the other answers carry it
                }
                if (data < 0) return false;
            }
        }
        bytes.putDouble(ROWS_READ, rowsRead);
        bytes.putDouble(ROWS_WRITTEN, rowsWritten);
        bytes.putInt(COUNT, width);
        bytes.putInt(RESULT_ROWS, rows.size());
        return true;
    }

    private void number(int entry, double v) {
        bytes.put(TAGS + entry, NUMBER);
        bytes.putDouble(SLOTS + 8 * entry, v);
    }

    /** Writes a string entry at {@code data}; the next free offset, or -1 if it does not fit. */
    private int string(int entry, String s, int data) {
        int len = s.length();
        if (len > MAX_CHARS) return -1;
        boolean latin1 = true;
        for (int i = 0; i < len && latin1; i++) latin1 = s.charAt(i) < 256;
        if (latin1) {
            if (data + len > SIZE) return -1;
            for (int i = 0; i < len; i++) bytes.put(data + i, (byte) s.charAt(i));
        } else {
            data = (data + 1) & ~1;
            if (data + 2 * len > SIZE) return -1;
            for (int i = 0; i < len; i++) bytes.putChar(data + 2 * i, s.charAt(i));
        }
        bytes.put(TAGS + entry, latin1 ? LATIN1 : UTF16);
        bytes.putInt(SLOTS + 8 * entry, len);
        bytes.putInt(SLOTS + 8 * entry + 4, data);
        return data + (latin1 ? len : 2 * len);
    }

    /** As a JS number argument would arrive: an integer below 2^53 (not -0) as a Long. */
    static Object number(double x) {
        return x == Math.rint(x) && Math.abs(x) < 0x1p53 && !(x == 0 && 1 / x < 0) ? (Object) (long) x : (Object) x;
    }

    private String latin1(int length, int offset) {
        checkRange(length, offset, 1);
        byte[] b = new byte[length];
        bytes.get(offset, b);
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private String utf16(int length, int offset) {
        checkRange(length, offset, 2);
        char[] c = new char[length];
        for (int i = 0; i < length; i++) c[i] = bytes.getChar(offset + 2 * i);
        return new String(c);
    }

    private static void checkRange(int length, int offset, int unit) {
        if (length < 0 || offset < DATA || offset > SIZE || (long) length * unit > SIZE - offset
                || (unit == 2 && (offset & 1) != 0)) {
            throw new IllegalArgumentException("sql.exec: bad string binding");
        }
    }

    @Override
    public void close() {
        try {
            buffer.close();
        } catch (JavetException ignored) {
            // the runtime is going away with it
        }
    }
}
