package dev.bulwark.sandbox.isolate;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Finds the dynamic {@code import(...)} calls of a module's source and renames their keyword to
 * {@link #HELPER}, a function the module imports (see {@link ModuleLinker}): Javet installs no
 * host callback for V8's own {@code import()}, which therefore rejects every call with "Not
 * supported".
 *
 * <p>The renaming keeps every character where it was ({@code import} and {@link #HELPER} are both
 * six UTF-16 units, and the helper's one non-ASCII letter is Latin-1, so V8 keeps a one-byte
 * string): a syntax error or a stack trace still points at the module's own line and column.
 *
 * <p>It is a tokenizer, not a pattern: it knows strings, template literals with nested
 * {@code ${...}}, comments, regular expression literals against division (from the token before
 * the slash, as parsers do), property names ({@code obj.import(}, {@code obj?.import(},
 * {@code #import}) and method definitions named import in object literals and class bodies (a
 * brace is a block, an object literal, a class body or a template's substitution, told from the
 * token before it). What is not a valid dynamic import is left alone so that V8 reports it as
 * before: {@code new import(x)}, no argument, more than two, a spread argument.
 */
final class ImportCalls {
    /** What {@code import} becomes: "import" with its i replaced by U+00EF (Latin-1), a letter V8 accepts in a name. */
    static final String HELPER = "\u00efmport";

    private ImportCalls() {
    }

    /**
     * Whether {@code source} may hold a dynamic import at all: the word import followed by "(" after
     * optional white space and comments. False answers are exact; a true one needs {@link #rewrite}.
     */
    static boolean mayContain(String source) {
        for (int at = source.indexOf("import"); at >= 0; at = source.indexOf("import", at + 6)) {
            int next = skipSpace(source, at + 6);
            if (next < source.length() && source.charAt(next) == '(') return true;
        }
        return false;
    }

    /** {@code source} with each dynamic import's keyword renamed to {@link #HELPER}; the same instance if none. */
    static String rewrite(String source) {
        return rewrite(source, "");
    }

    /**
     * As {@link #rewrite(String)}, with {@code suffix} appended when something was renamed (one copy of
     * the source, however large: a module's code may be tens of MB).
     */
    static String rewrite(String source, String suffix) {
        if (!mayContain(source)) return source;
        return new Scan(source).run(suffix);
    }

    /**
     * Tokenizes all of {@code source} (no quick check) and tells whether every bracket it opened was
     * closed: for tests and measurements, a check that strings, templates and regexes were told apart.
     */
    static boolean scansBalanced(String source) {
        Scan scan = new Scan(source);
        scan.run("");
        return scan.stack.size() == 1;
    }

    /** The first index at or after {@code i} that is neither white space nor inside a comment. */
    static int skipSpace(String s, int i) {
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (c == '/' && i + 1 < n && s.charAt(i + 1) == '/') {
                while (i < n && s.charAt(i) != '\n' && s.charAt(i) != '\r' && s.charAt(i) != '\u2028' && s.charAt(i) != '\u2029') i++;
            } else if (c == '/' && i + 1 < n && s.charAt(i + 1) == '*') {
                int end = s.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
            } else if (Character.isWhitespace(c) || c == '\u00a0' || c == '\ufeff' || Character.isSpaceChar(c)) {
                i++;
            } else {
                return i;
            }
        }
        return n;
    }

    /** What a brace opened. */
    private enum Brace { BLOCK, OBJECT, CLASS, TEMPLATE }

    /** What the last token was, as far as the next one's meaning depends on it. */
    private enum Prev {
        /** an expression may start here: start of input, most punctuators, return/typeof/... */
        EXPRESSION,
        /** a statement starts here: after ; { } of a block, else, do, a label's colon */
        STATEMENT,
        /** the end of a value: a name, a literal, ) ] or the } of an object */
        VALUE,
        /** the end of a control statement's head, if (...) : a regex may follow */
        CONTROL_HEAD,
        /** . or ?. : a property name follows */
        DOT,
        /** new: new import(...) is a SyntaxError V8 should report */
        NEW,
        /** => : a brace after it is a function body */
        ARROW
    }

    /** An open (, [ or {, and what the scan needs to know about it. */
    private static final class Open {
        final char kind;
        final Brace brace;
        /** ( of if/while/for/with/switch/catch: a regex may follow its ) */
        boolean control;
        /** ? of conditional expressions not yet matched by their : at this level */
        int ternaries;
        /** For the ( of a rewritten import: where its keyword is, and what it may turn out to be. */
        int importAt = -1;
        boolean maybeMethod;
        int arguments;
        boolean argumentOpen, spread, emptyArgument;

        Open(char kind, Brace brace) {
            this.kind = kind;
            this.brace = brace;
        }
    }

    /** Keywords after which an expression starts (a slash is a regex, a brace an object literal). */
    private static final Set<String> EXPRESSION_KEYWORDS = Set.of("return", "typeof", "instanceof", "in", "of", "delete",
            "void", "throw", "case", "yield", "await", "extends", "default");
    /** Keywords after which a statement starts. */
    private static final Set<String> STATEMENT_KEYWORDS = Set.of("else", "do", "try", "finally");
    /** Keywords whose parenthesised head a statement follows. */
    private static final Set<String> CONTROL_KEYWORDS = Set.of("if", "while", "for", "with", "switch", "catch");
    /** What may stand between a class member's or object method's start and its name. */
    private static final Set<String> MODIFIERS = Set.of("get", "set", "static", "async", "accessor");

    private static final class Scan {
        private final String s;
        private final int n;
        /** Where the renamed keywords start, in order; -1 for one restored. */
        private int[] renames = new int[4];
        private int renameCount;
        private final List<Open> stack = new ArrayList<>();
        private Prev prev = Prev.STATEMENT;
        /** In an object literal or class body, where a member's name may come. */
        private boolean keyPosition;
        /** The stack depth at which a class keyword awaits its body's brace, or -1. */
        private int pendingClass = -1;
        /** A control keyword was just read: its ( is a control head. */
        private boolean controlNext;
        /** The import keyword just renamed, whose ( comes next (position, whether a method name). */
        private int importAt = -1;
        private boolean importMaybeMethod;
        private int i;

        Scan(String source) {
            s = source;
            n = source.length();
            stack.add(new Open('{', Brace.BLOCK)); // the module's top level
        }

        String run(String suffix) {
            if (s.startsWith("#!")) skipLine();
            while (i < n) step();
            StringBuilder out = null;
            int from = 0;
            for (int r = 0; r < renameCount; r++) {
                int at = renames[r];
                if (at < 0) continue;
                if (out == null) out = new StringBuilder(n + suffix.length());
                out.append(s, from, at).append(HELPER);
                from = at + HELPER.length();
            }
            if (out == null) return s;
            return out.append(s, from, n).append(suffix).toString();
        }

        private Open top() {
            return stack.getLast();
        }

        private void step() {
            char c = s.charAt(i);
            if (c == '/' && i + 1 < n && s.charAt(i + 1) == '/') {
                skipLine();
            } else if (c == '/' && i + 1 < n && s.charAt(i + 1) == '*') {
                int end = s.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
            } else if (c == ' ' || c == '\n' || c == '\t' || c == '\r'
                    || c > 0x7f && (Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\ufeff')) {
                i++;
            } else if (c == '\'' || c == '"') {
                string(c);
                value();
            } else if (c == '`') {
                i++;
                template();
            } else if (c == '/') {
                if (regexAllowed()) regex();
                else operator(1);
            } else if (isNameStart(c) || c == '#') {
                name();
            } else if (c >= '0' && c <= '9' || c == '.' && i + 1 < n && Character.isDigit(s.charAt(i + 1))) {
                number();
            } else {
                punctuator(c);
            }
        }

        private void skipLine() {
            while (i < n && s.charAt(i) != '\n' && s.charAt(i) != '\r' && s.charAt(i) != '\u2028' && s.charAt(i) != '\u2029') i++;
        }

        private boolean regexAllowed() {
            return switch (prev) {
                case EXPRESSION, STATEMENT, CONTROL_HEAD, NEW, ARROW -> true;
                case VALUE, DOT -> false;
            };
        }

        /** A token that ends a value. */
        private void value() {
            countArgumentToken();
            prev = Prev.VALUE;
            keyPosition = false;
        }

        private void string(char quote) {
            i++;
            while (i < n) {
                char c = s.charAt(i++);
                if (c == '\\') i += s.startsWith("\r\n", i) ? 2 : 1;
                else if (c == quote || c == '\n' || c == '\r') return;
            }
        }

        /** From just after a ` or the } ending a substitution, to the closing ` or the next ${. */
        private void template() {
            while (i < n) {
                char c = s.charAt(i++);
                if (c == '\\') {
                    i++;
                } else if (c == '`') {
                    value();
                    return;
                } else if (c == '$' && i < n && s.charAt(i) == '{') {
                    i++;
                    countArgumentToken();
                    stack.add(new Open('{', Brace.TEMPLATE));
                    prev = Prev.EXPRESSION;
                    keyPosition = false;
                    return;
                }
            }
        }

        private void regex() {
            i++;
            boolean inClass = false;
            while (i < n) {
                char c = s.charAt(i++);
                if (c == '\\') i++;
                else if (c == '[') inClass = true;
                else if (c == ']') inClass = false;
                else if (c == '/' && !inClass) break;
                else if (c == '\n' || c == '\r') break;
            }
            while (i < n && isNamePart(s.charAt(i))) i++; // flags
            value();
        }

        private void number() {
            while (i < n && (isNamePart(s.charAt(i)) || s.charAt(i) == '.')) i++;
            value();
        }

        private void name() {
            int start = i;
            boolean isPrivate = s.charAt(i) == '#';
            if (isPrivate) i++;
            boolean escaped = false;
            while (i < n) {
                char c = s.charAt(i);
                if (c == '\\') {
                    escaped = true;
                    if (s.startsWith("\\u{", i)) {
                        int end = s.indexOf('}', i);
                        i = end < 0 ? n : end + 1;
                    } else {
                        i += 2;
                    }
                } else if (isNamePart(c)) {
                    i++;
                } else {
                    break;
                }
            }
            // Only keywords matter here, all of 2 to 10 letters: no string is made for other names.
            int length = i - start;
            String word = escaped || isPrivate || length < 2 || length > 10 ? "" : s.substring(start, i);
            boolean property = prev == Prev.DOT || isPrivate || escaped;
            if (!property && word.equals("import")) {
                importKeyword(start);
                return;
            }
            if (!property && keyPosition && MODIFIERS.contains(word)) {
                // get/set/static/async/accessor before a member's name: still where a name comes
                countArgumentToken();
                prev = Prev.VALUE;
                return;
            }
            boolean wasKey = keyPosition;
            countArgumentToken();
            keyPosition = false;
            if (property || wasKey) {
                prev = Prev.VALUE;
            } else if (word.equals("class") && !followedBy(':', '(', ',', '}', '=')) {
                pendingClass = stack.size();
                prev = Prev.VALUE;
            } else if (word.equals("new")) {
                prev = Prev.NEW;
            } else if (EXPRESSION_KEYWORDS.contains(word)) {
                prev = Prev.EXPRESSION;
            } else if (STATEMENT_KEYWORDS.contains(word)) {
                prev = Prev.STATEMENT;
            } else {
                controlNext = CONTROL_KEYWORDS.contains(word);
                prev = Prev.VALUE;
            }
        }

        private boolean followedBy(char... chars) {
            int next = skipSpace(s, i);
            if (next >= n) return false;
            for (char c : chars) if (s.charAt(next) == c) return true;
            return false;
        }

        /** The keyword import at {@code start}, not a property name. */
        private void importKeyword(int start) {
            boolean call = followedBy('(');
            boolean maybeMethod = call && isMemberNamePosition();
            boolean isNew = prev == Prev.NEW;
            countArgumentToken();
            keyPosition = false;
            prev = Prev.VALUE;
            if (!call || isNew) return; // import declarations, import.meta, new import(...) (V8's SyntaxError)
            if (renameCount == renames.length) renames = java.util.Arrays.copyOf(renames, renameCount * 2);
            renames[renameCount++] = start;
            importAt = start;
            importMaybeMethod = maybeMethod;
        }

        /** Whether a name read now would name a member of an object literal or a class (so import( may be a method). */
        private boolean isMemberNamePosition() {
            Brace b = top().brace;
            if (top().kind != '{') return false;
            if (b == Brace.OBJECT) return keyPosition;
            // In a class body, a value cannot be continued by import, so a new member starts.
            if (b == Brace.CLASS) return keyPosition || prev == Prev.VALUE || prev == Prev.STATEMENT;
            return false;
        }

        private void restore(int at) {
            for (int r = renameCount - 1; r >= 0; r--) {
                if (renames[r] == at) {
                    renames[r] = -1;
                    return;
                }
            }
        }

        private void punctuator(char c) {
            switch (c) {
                case '(' -> {
                    countArgumentToken();
                    Open o = new Open('(', null);
                    o.control = controlNext;
                    controlNext = false;
                    if (importAt >= 0) {
                        o.importAt = importAt;
                        o.maybeMethod = importMaybeMethod;
                        importAt = -1;
                    }
                    stack.add(o);
                    i++;
                    expression();
                }
                case '[' -> {
                    countArgumentToken();
                    stack.add(new Open('[', null));
                    i++;
                    expression();
                }
                case '{' -> openBrace();
                case ')' -> {
                    i++;
                    Open o = pop('(');
                    if (o != null && o.importAt >= 0) closeImport(o);
                    prev = o != null && o.control ? Prev.CONTROL_HEAD : Prev.VALUE;
                    keyPosition = false;
                }
                case ']' -> {
                    i++;
                    pop('[');
                    value();
                }
                case '}' -> closeBrace();
                case ';' -> {
                    i++;
                    prev = Prev.STATEMENT;
                    keyPosition = top().brace == Brace.CLASS && top().kind == '{';
                }
                case ',' -> {
                    i++;
                    Open t = top();
                    if (t.importAt >= 0) {
                        if (!t.argumentOpen) t.emptyArgument = true;
                        t.argumentOpen = false;
                    }
                    expression();
                    keyPosition = t.kind == '{' && t.brace == Brace.OBJECT;
                }
                case '?' -> {
                    if (i + 1 < n && s.charAt(i + 1) == '.' && !(i + 2 < n && Character.isDigit(s.charAt(i + 2)))) {
                        i += 2;
                        countArgumentToken();
                        prev = Prev.DOT;
                        keyPosition = false;
                    } else if (i + 1 < n && s.charAt(i + 1) == '?') {
                        operator(s.startsWith("??=", i) ? 3 : 2);
                    } else {
                        top().ternaries++;
                        operator(1);
                    }
                }
                case ':' -> {
                    i++;
                    countArgumentToken();
                    Open t = top();
                    if (t.ternaries > 0) {
                        t.ternaries--;
                        prev = Prev.EXPRESSION;
                    } else if (t.kind == '{' && t.brace == Brace.OBJECT) {
                        prev = Prev.EXPRESSION; // a property's value
                    } else {
                        prev = Prev.STATEMENT; // a label's or a case's colon
                    }
                    keyPosition = false;
                }
                case '.' -> {
                    if (s.startsWith("...", i)) {
                        Open t = top();
                        if (t.importAt >= 0) t.spread = true;
                        operator(3);
                    } else {
                        i++;
                        countArgumentToken();
                        prev = Prev.DOT;
                        keyPosition = false;
                    }
                }
                case '=' -> {
                    if (s.startsWith("=>", i)) {
                        i += 2;
                        countArgumentToken();
                        prev = Prev.ARROW;
                        keyPosition = false;
                    } else {
                        operator(1);
                    }
                }
                case '+', '-' -> {
                    // a++ / b: after a value, ++ and -- end it (postfix); otherwise they start one (prefix)
                    if (i + 1 < n && s.charAt(i + 1) == c) {
                        i += 2;
                        countArgumentToken();
                        if (prev != Prev.VALUE) expression();
                    } else {
                        operator(1);
                    }
                }
                case '*' -> {
                    // *name() in an object or class: a generator method; its name stays where names come
                    boolean key = keyPosition;
                    operator(1);
                    keyPosition = key;
                }
                default -> operator(1);
            }
        }

        /** An operator of {@code length} characters, after which an expression starts. */
        private void operator(int length) {
            i += length;
            countArgumentToken();
            expression();
        }

        private void expression() {
            prev = Prev.EXPRESSION;
            keyPosition = false;
            controlNext = false;
        }

        private void openBrace() {
            i++;
            countArgumentToken();
            Brace b;
            if (pendingClass == stack.size()) {
                b = Brace.CLASS;
                pendingClass = -1;
            } else {
                b = switch (prev) {
                    case EXPRESSION, NEW -> Brace.OBJECT;
                    case STATEMENT, CONTROL_HEAD, ARROW, DOT -> Brace.BLOCK;
                    // ) { of a function, a name's { (class handled above): a block; } { of a member body too
                    case VALUE -> Brace.BLOCK;
                };
            }
            stack.add(new Open('{', b));
            prev = b == Brace.OBJECT ? Prev.EXPRESSION : Prev.STATEMENT;
            keyPosition = b == Brace.OBJECT || b == Brace.CLASS;
            controlNext = false;
        }

        private void closeBrace() {
            i++;
            Open o = top();
            if (stack.size() > 1 && o.kind == '{' && o.brace == Brace.TEMPLATE) {
                stack.removeLast();
                template();
                return;
            }
            pop('{');
            if (o.kind == '{' && o.brace == Brace.OBJECT) {
                value();
            } else {
                prev = Prev.STATEMENT;
                Open t = top();
                // } ending a member's body: the next member's name may follow
                keyPosition = t.kind == '{' && t.brace == Brace.CLASS;
            }
        }

        /** Pops the innermost open bracket if it is a {@code kind} (an unbalanced source is V8's to report). */
        private Open pop(char kind) {
            if (stack.size() > 1 && top().kind == kind) return stack.removeLast();
            return null;
        }

        /** The ) of a renamed import: keep it renamed only if it was a call V8 would accept. */
        private void closeImport(Open o) {
            boolean method = o.maybeMethod && followedBy('{');
            boolean valid = !o.spread && !o.emptyArgument && o.arguments >= 1 && o.arguments <= 2;
            if (method || !valid) restore(o.importAt);
        }

        /** A token inside the parentheses of a renamed import starts or continues an argument. */
        private void countArgumentToken() {
            Open t = top();
            if (t.importAt < 0 || t.argumentOpen) return;
            t.argumentOpen = true;
            t.arguments++;
        }

        private static boolean isNameStart(char c) {
            return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '$' || c == '_' || c == '\\'
                    || c > 0x7f && (Character.isLetter(c) || Character.isSurrogate(c));
        }

        private static boolean isNamePart(char c) {
            return isNameStart(c) || c >= '0' && c <= '9' || c == '\u200c' || c == '\u200d'
                    || c > 0x7f && (Character.isLetterOrDigit(c) || Character.getType(c) == Character.NON_SPACING_MARK
                    || Character.getType(c) == Character.COMBINING_SPACING_MARK || Character.getType(c) == Character.CONNECTOR_PUNCTUATION);
        }
    }
}
