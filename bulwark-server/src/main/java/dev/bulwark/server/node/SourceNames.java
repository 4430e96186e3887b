package dev.bulwark.server.node;

import dev.bulwark.sandbox.worker.WorkerBundle;

import java.util.Comparator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Module names are relative to the bundle's root ({@code index.js}); an operator reads paths of the
 * project ({@code src/index.js}). This rewrites a bundle's module names where messages use them as
 * positions ({@code index.js:3:5}, {@code index.js: cannot import ...}) into project paths.
 */
final class SourceNames {
    static final SourceNames NONE = new SourceNames("", null);

    private final String prefix;
    private final Pattern names;

    private SourceNames(String prefix, Pattern names) {
        this.prefix = prefix;
        this.names = names;
    }

    /** For a bundle whose module names start at {@code prefix} (e.g. {@code "src/"}) in the project. */
    static SourceNames of(String prefix, WorkerBundle bundle) {
        if (prefix == null || prefix.isEmpty()) return NONE;
        // Longest first, so "lib/a.js" is not matched as "a.js".
        String alternatives = bundle.modules().keySet().stream()
                .sorted(Comparator.comparingInt(String::length).reversed())
                .map(Pattern::quote).collect(Collectors.joining("|"));
        return new SourceNames(prefix, Pattern.compile("(?<![\\w./-])(" + alternatives + ")(?=:)"));
    }

    String rewrite(String text) {
        if (names == null || text == null) return text;
        Matcher m = names.matcher(text);
        return m.replaceAll(r -> Matcher.quoteReplacement(prefix + r.group(1)));
    }
}
