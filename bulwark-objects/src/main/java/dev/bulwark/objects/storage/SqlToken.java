package dev.bulwark.objects.storage;

/**
 * One token of SQLite's SQL, as SQLite's own tokenizer would cut it.
 *
 * @param kind  what it is
 * @param value for identifiers and strings the unquoted, unescaped value; otherwise the text
 * @param start offset of the token in the SQL text
 * @param end   offset just after the token
 */
record SqlToken(Kind kind, String value, int start, int end) {

    enum Kind {
        /** A bare identifier or keyword ({@code SELECT}, {@code foo}, {@code _cf_KV}). */
        WORD,
        /** An identifier in {@code "..."}, {@code `...`} or {@code [...]}. */
        QUOTED,
        /** A string literal {@code '...'} (SQLite also accepts one where a name is expected). */
        STRING,
        BLOB,
        NUMBER,
        /** {@code ?}, {@code ?NNN}, {@code :name}, {@code @name}, {@code $name}. */
        PARAM,
        SEMICOLON,
        /** Operators and other punctuation. */
        PUNCT
    }

    /** True if this is a bare word equal to {@code keyword}, compared as SQLite does (ASCII only). */
    boolean is(String keyword) {
        return kind == Kind.WORD && SqlTokenizer.asciiEqualsIgnoreCase(value, keyword);
    }

    /** True if this token can name a schema object (SQLite accepts a string literal there too). */
    boolean isName() {
        return kind == Kind.WORD || kind == Kind.QUOTED || kind == Kind.STRING;
    }
}
