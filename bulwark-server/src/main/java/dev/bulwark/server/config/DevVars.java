package dev.bulwark.server.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code .dev.vars} format, read as wrangler reads it (dotenv): {@code KEY=VALUE} lines, blank
 * lines and {@code #} comments, an optional {@code export } prefix, values optionally in single,
 * double or back quotes (quoted values may span lines; in double quotes {@code \n} and {@code \r}
 * are newline and carriage return). An unquoted value ends at {@code #}. A later line wins over an
 * earlier one with the same key. Errors name the line, never a value.
 */
final class DevVars {

    static final String FILE_NAME = ".dev.vars";

    private final String text;
    private int pos;
    private int line = 1;

    private DevVars(String text) {
        this.text = text;
    }

    static Map<String, String> parse(String text) throws ConfigException {
        return new DevVars(text).entries();
    }

    private Map<String, String> entries() throws ConfigException {
        Map<String, String> entries = new LinkedHashMap<>();
        while (true) {
            skipWhitespaceAndNewlines();
            if (atEnd()) break;
            if (peek() == '#') {
                skipToEndOfLine();
                continue;
            }
            int entryLine = line;
            if (text.startsWith("export", pos) && pos + 6 < text.length()
                    && (text.charAt(pos + 6) == ' ' || text.charAt(pos + 6) == '\t')) {
                pos += 6;
                skipBlanks();
            }
            String key = key();
            if (key.isEmpty()) throw error(entryLine, "expected KEY=VALUE");
            skipBlanks();
            if (atEnd() || peek() != '=') throw error(entryLine, "expected '=' after " + key);
            pos++;
            skipBlanks();
            String value = atEnd() ? "" : switch (peek()) {
                case '"', '\'', '`' -> quoted(key, entryLine);
                default -> unquoted();
            };
            entries.put(key, value);
        }
        return Collections.unmodifiableMap(entries);
    }

    private String key() {
        int start = pos;
        while (!atEnd()) {
            char c = peek();
            if (Character.isLetterOrDigit(c) && c < 128 || c == '_' || c == '.' || c == '-') pos++;
            else break;
        }
        return text.substring(start, pos);
    }

    private String quoted(String key, int entryLine) throws ConfigException {
        char quote = text.charAt(pos++);
        StringBuilder value = new StringBuilder();
        while (true) {
            if (atEnd()) throw error(entryLine, "the quoted value of " + key + " is not closed");
            char c = text.charAt(pos++);
            if (c == quote) break;
            if (c == '\n') line++;
            if (c == '\\' && !atEnd() && peek() == quote) {
                value.append(c).append(quote);
                pos++;
                continue;
            }
            value.append(c);
        }
        skipBlanks();
        if (!atEnd() && peek() == '#') skipToEndOfLine();
        if (!atEnd() && peek() != '\n' && peek() != '\r') {
            throw error(line, "unexpected text after the quoted value of " + key);
        }
        String result = value.toString();
        return quote == '"' ? result.replace("\\n", "\n").replace("\\r", "\r") : result;
    }

    private String unquoted() {
        int start = pos;
        while (!atEnd() && peek() != '\n' && peek() != '\r' && peek() != '#') pos++;
        String value = text.substring(start, pos).strip();
        skipToEndOfLine();
        return value;
    }

    private void skipWhitespaceAndNewlines() {
        while (!atEnd() && Character.isWhitespace(peek())) {
            if (peek() == '\n') line++;
            pos++;
        }
    }

    private void skipBlanks() {
        while (!atEnd() && (peek() == ' ' || peek() == '\t')) pos++;
    }

    private void skipToEndOfLine() {
        while (!atEnd() && peek() != '\n') pos++;
    }

    private boolean atEnd() {
        return pos >= text.length();
    }

    private char peek() {
        return text.charAt(pos);
    }

    private static ConfigException error(int line, String message) {
        return new ConfigException(FILE_NAME + ":" + line + ": " + message);
    }
}
