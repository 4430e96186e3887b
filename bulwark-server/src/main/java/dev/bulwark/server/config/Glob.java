package dev.bulwark.server.config;

import java.util.regex.Pattern;

/**
 * A module-rule glob, matched against a module's path relative to the base directory ('/'
 * separators), with the semantics wrangler gives its rules: {@code **}{@code /} matches any number
 * of directories including none (so {@code **}{@code /*.js} matches {@code index.js}), {@code **}
 * elsewhere matches anything, {@code *} anything within one path segment, {@code ?} one character
 * other than '/', {@code {a,b}} either alternative, and {@code \x} the character x. A leading
 * {@code ./} is ignored. Everything else matches itself.
 */
final class Glob {

    private final Pattern pattern;

    private Glob(Pattern pattern) {
        this.pattern = pattern;
    }

    /** @throws IllegalArgumentException if braces do not pair or a backslash ends the glob */
    static Glob of(String glob) {
        return new Glob(Pattern.compile(toRegex(glob.startsWith("./") ? glob.substring(2) : glob)));
    }

    boolean matches(String relativePath) {
        return pattern.matcher(relativePath).matches();
    }

    private static String toRegex(String glob) {
        StringBuilder regex = new StringBuilder();
        int braces = 0;
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            switch (c) {
                case '*' -> {
                    if (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                        i++;
                        boolean atSegmentStart = i - 1 == 0 || glob.charAt(i - 2) == '/';
                        if (atSegmentStart && i + 1 < glob.length() && glob.charAt(i + 1) == '/') {
                            i++;
                            regex.append("(?:.*/)?");
                        } else {
                            regex.append(".*");
                        }
                    } else {
                        regex.append("[^/]*");
                    }
                }
                case '?' -> regex.append("[^/]");
                case '{' -> {
                    braces++;
                    regex.append("(?:");
                }
                case '}' -> {
                    if (braces == 0) throw new IllegalArgumentException("'}' without '{'");
                    braces--;
                    regex.append(')');
                }
                case ',' -> regex.append(braces > 0 ? "|" : ",");
                case '\\' -> {
                    if (++i == glob.length()) throw new IllegalArgumentException("'\\' at the end");
                    regex.append(Pattern.quote(String.valueOf(glob.charAt(i))));
                }
                default -> regex.append(Pattern.quote(String.valueOf(c)));
            }
        }
        if (braces != 0) throw new IllegalArgumentException("'{' without '}'");
        return regex.toString();
    }
}
