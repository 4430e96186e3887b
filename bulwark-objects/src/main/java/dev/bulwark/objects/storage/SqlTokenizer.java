package dev.bulwark.objects.storage;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts SQL into tokens following SQLite's tokenizer ({@code tokenize.c}): comments and white
 * space are dropped; quoted identifiers and strings are unescaped so that checks compare what
 * SQLite will see, not the raw text. Unterminated quotes and comments run to the end of the text
 * (SQLite then refuses the statement, so nothing hidden in them can run).
 */
final class SqlTokenizer {

    private SqlTokenizer() {}

    static List<SqlToken> tokenize(String sql) {
        List<SqlToken> out = new ArrayList<>();
        int n = sql.length();
        int i = 0;
        while (i < n) {
            char c = sql.charAt(i);
            if (isSpace(c)) {
                i++;
            } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                while (i < n && sql.charAt(i) != '\n') i++;
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                int close = sql.indexOf("*/", i + 2);
                i = close < 0 ? n : close + 2;
            } else if (c == '\'' || c == '"' || c == '`') {
                i = quoted(sql, i, c, c == '\'' ? SqlToken.Kind.STRING : SqlToken.Kind.QUOTED, out);
            } else if (c == '[') {
                int close = sql.indexOf(']', i + 1);
                int end = close < 0 ? n : close + 1;
                out.add(new SqlToken(SqlToken.Kind.QUOTED, sql.substring(i + 1, close < 0 ? n : close), i, end));
                i = end;
            } else if ((c == 'x' || c == 'X') && i + 1 < n && sql.charAt(i + 1) == '\'') {
                int close = sql.indexOf('\'', i + 2);
                int end = close < 0 ? n : close + 1;
                out.add(new SqlToken(SqlToken.Kind.BLOB, sql.substring(i, end), i, end));
                i = end;
            } else if (isIdStart(c)) {
                int j = i + 1;
                while (j < n && isIdChar(sql.charAt(j))) j++;
                out.add(new SqlToken(SqlToken.Kind.WORD, sql.substring(i, j), i, j));
                i = j;
            } else if (isDigit(c) || (c == '.' && i + 1 < n && isDigit(sql.charAt(i + 1)))) {
                int j = i + 1;
                // Digits, hex, '.', exponents and '_' separators: SQLite refuses a malformed one.
                while (j < n && (isIdChar(sql.charAt(j)) || sql.charAt(j) == '.'
                        || ((sql.charAt(j) == '+' || sql.charAt(j) == '-')
                            && (sql.charAt(j - 1) == 'e' || sql.charAt(j - 1) == 'E')))) j++;
                out.add(new SqlToken(SqlToken.Kind.NUMBER, sql.substring(i, j), i, j));
                i = j;
            } else if (c == '?') {
                int j = i + 1;
                while (j < n && isDigit(sql.charAt(j))) j++;
                out.add(new SqlToken(SqlToken.Kind.PARAM, sql.substring(i, j), i, j));
                i = j;
            } else if (c == ':' || c == '@' || c == '$' || c == '#') {
                int j = i + 1;
                while (j < n && (isIdChar(sql.charAt(j)) || (c == '$' && sql.charAt(j) == ':'))) j++;
                if (c == '$' && j < n && sql.charAt(j) == '(') {
                    int close = sql.indexOf(')', j);
                    j = close < 0 ? n : close + 1;
                }
                out.add(new SqlToken(j == i + 1 ? SqlToken.Kind.PUNCT : SqlToken.Kind.PARAM,
                        sql.substring(i, j), i, j));
                i = j;
            } else if (c == ';') {
                out.add(new SqlToken(SqlToken.Kind.SEMICOLON, ";", i, i + 1));
                i++;
            } else {
                int j = i + 1;
                if (j < n && isTwoCharOperator(c, sql.charAt(j))) j++;
                out.add(new SqlToken(SqlToken.Kind.PUNCT, sql.substring(i, j), i, j));
                i = j;
            }
        }
        return out;
    }

    private static int quoted(String sql, int i, char q, SqlToken.Kind kind, List<SqlToken> out) {
        StringBuilder value = new StringBuilder();
        int n = sql.length();
        int j = i + 1;
        while (j < n) {
            char c = sql.charAt(j);
            if (c == q) {
                if (j + 1 < n && sql.charAt(j + 1) == q) {
                    value.append(q);
                    j += 2;
                    continue;
                }
                j++;
                out.add(new SqlToken(kind, value.toString(), i, j));
                return j;
            }
            value.append(c);
            j++;
        }
        out.add(new SqlToken(kind, value.toString(), i, n));
        return n;
    }

    private static boolean isTwoCharOperator(char a, char b) {
        return switch (a) {
            case '|' -> b == '|';
            case '<' -> b == '=' || b == '>' || b == '<';
            case '>' -> b == '=' || b == '>';
            case '=' -> b == '=';
            case '!' -> b == '=';
            case '-' -> b == '>';
            default -> false;
        };
    }

    /** SQLite's white space: space, \t, \n, \v, \f, \r. */
    static boolean isSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** SQLite treats every byte >= 0x80 as part of an identifier (so every non-ASCII char). */
    private static boolean isIdStart(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
    }

    private static boolean isIdChar(char c) {
        return isIdStart(c) || isDigit(c) || c == '$';
    }

    static boolean asciiEqualsIgnoreCase(String a, String b) {
        if (a.length() != b.length()) return false;
        for (int i = 0; i < a.length(); i++) {
            if (asciiLower(a.charAt(i)) != asciiLower(b.charAt(i))) return false;
        }
        return true;
    }

    static boolean asciiStartsWithIgnoreCase(String s, String prefix) {
        return s.length() >= prefix.length()
                && asciiEqualsIgnoreCase(s.substring(0, prefix.length()), prefix);
    }

    private static char asciiLower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c + 32) : c;
    }

    /**
     * Splits tokens into statements at ';' as SQLite's {@code sqlite3_complete} does: inside the
     * body of a {@code CREATE TRIGGER ... BEGIN ... END} only the ';' after {@code END} ends it.
     * Each statement is returned with its source range; empty statements are dropped.
     */
    static List<List<SqlToken>> statements(List<SqlToken> tokens) {
        List<List<SqlToken>> out = new ArrayList<>();
        List<SqlToken> current = new ArrayList<>();
        boolean inTriggerBody = false;
        for (SqlToken t : tokens) {
            if (t.kind() == SqlToken.Kind.SEMICOLON) {
                if (inTriggerBody && !(current.getLast().is("END"))) {
                    current.add(t);
                    continue;
                }
                if (!current.isEmpty()) out.add(current);
                current = new ArrayList<>();
                inTriggerBody = false;
                continue;
            }
            current.add(t);
            if (!inTriggerBody && t.is("BEGIN") && isCreateTrigger(current)) inTriggerBody = true;
        }
        if (!current.isEmpty()) out.add(current);
        return out;
    }

    private static boolean isCreateTrigger(List<SqlToken> stmt) {
        int i = skipExplain(stmt, 0);
        if (i >= stmt.size() || !stmt.get(i).is("CREATE")) return false;
        i++;
        if (i < stmt.size() && (stmt.get(i).is("TEMP") || stmt.get(i).is("TEMPORARY"))) i++;
        return i < stmt.size() && stmt.get(i).is("TRIGGER");
    }

    /** Index of the first token after {@code EXPLAIN [QUERY PLAN]}. */
    static int skipExplain(List<SqlToken> stmt, int i) {
        if (i < stmt.size() && stmt.get(i).is("EXPLAIN")) {
            i++;
            if (i + 1 < stmt.size() && stmt.get(i).is("QUERY") && stmt.get(i + 1).is("PLAN")) i += 2;
        }
        return i;
    }
}
