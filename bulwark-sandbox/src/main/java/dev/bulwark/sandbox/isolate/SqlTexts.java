package dev.bulwark.sandbox.isolate;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Small numbers for the SQL texts an isolate runs again and again, so {@code sql.exec} sends a
 * number instead of the text: no string copied out of V8, decoded and hashed per call, and the
 * statement cache finds its key by identity. The prelude asks for a text's number once
 * ({@code sqlText}) and keeps it in its own table.
 *
 * <p>Bounded, as the isolate's code is hostile: at most {@link #MAX_TEXTS} texts of at most
 * {@link #MAX_CHARS} characters each (past that, texts travel as before). A number never names
 * another isolate's text (one table per isolate) and an unknown one is refused.
 */
final class SqlTexts {
    static final int MAX_TEXTS = 1024;
    static final int MAX_CHARS = 4096;

    private final List<String> texts = new ArrayList<>();
    private final Map<String, Integer> ids = new HashMap<>();

    /** The text's number, or -1 when it gets none (too long, or the table is full). */
    int id(String text) {
        if (text.length() > MAX_CHARS) return -1;
        Integer known = ids.get(text);
        if (known != null) return known;
        if (texts.size() >= MAX_TEXTS) return -1;
        int id = texts.size();
        texts.add(text);
        ids.put(text, id);
        return id;
    }

    /** The text of a number {@link #id} gave. */
    String text(int id) {
        if (id < 0 || id >= texts.size()) throw new IllegalArgumentException("sql.exec: unknown statement");
        return texts.get(id);
    }
}
