package dev.bulwark.sandbox.isolate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code wpt-host/expectations.txt}: what is known not to pass, each with a one-line reason.
 * Tab-separated lines ({@code #} starts a comment; in names, {@code \t}, {@code \n} and
 * {@code \\} stand for a tab, a newline and a backslash):
 * <pre>
 * pending  DIR|FILE       REASON   what another branch implements: run only on request, not gated
 * skip     FILE           REASON   a file not run at all
 * exclude  FILE  REGEX    REASON   subtests of FILE whose names match REGEX are not counted
 * error    FILE           REASON   the file is known not to load or run (no subtests reported)
 * fail     FILE  SUBTEST  REASON   a subtest known not to pass
 * </pre>
 */
record WptExpectations(Map<String, String> pending, Map<String, String> skipped, List<Exclusion> exclusions,
                       Map<String, String> errors, Map<String, Map<String, String>> failures) {

    record Exclusion(String file, Pattern names, String reason) {}

    static WptExpectations parse(String text) {
        Map<String, String> pending = new LinkedHashMap<>();
        Map<String, String> skipped = new LinkedHashMap<>();
        List<Exclusion> exclusions = new ArrayList<>();
        Map<String, String> errors = new LinkedHashMap<>();
        Map<String, Map<String, String>> failures = new LinkedHashMap<>();
        int lineNo = 0;
        for (String line : text.split("\n", -1)) {
            lineNo++;
            if (line.isBlank() || line.startsWith("#")) continue;
            String[] f = line.split("\t", -1);
            String kind = f[0];
            int fields = switch (kind) {
                case "pending", "skip", "error" -> 3;
                case "exclude", "fail" -> 4;
                default -> throw new IllegalArgumentException("expectations line " + lineNo + ": unknown kind '" + kind + "'");
            };
            if (f.length != fields || f[fields - 1].isBlank()) {
                throw new IllegalArgumentException("expectations line " + lineNo + ": expected " + fields
                        + " tab-separated fields ending in a reason: " + line);
            }
            switch (kind) {
                case "pending" -> pending.put(f[1], f[2]);
                case "skip" -> skipped.put(f[1], f[2]);
                case "error" -> errors.put(f[1], f[2]);
                case "exclude" -> exclusions.add(new Exclusion(f[1], Pattern.compile(f[2]), f[3]));
                case "fail" -> failures.computeIfAbsent(f[1], k -> new LinkedHashMap<>()).put(unescape(f[2]), f[3]);
                default -> throw new AssertionError(kind);
            }
        }
        return new WptExpectations(pending, skipped, exclusions, errors, failures);
    }

    /** Why this file (or the directory that holds it) is pending, or null. */
    String pendingReason(String path) {
        for (Map.Entry<String, String> e : pending.entrySet()) {
            if (path.equals(e.getKey()) || path.startsWith(e.getKey() + "/")) return e.getValue();
        }
        return null;
    }

    boolean excluded(String file, String subtest) {
        for (Exclusion e : exclusions) {
            if (e.file().equals(file) && e.names().matcher(subtest).find()) return true;
        }
        return false;
    }

    Map<String, String> failuresOf(String file) {
        return failures.getOrDefault(file, Map.of());
    }

    static String escape(String name) {
        return name.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r");
    }

    static String unescape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                b.append(switch (n) {
                    case 't' -> '\t';
                    case 'n' -> '\n';
                    case 'r' -> '\r';
                    default -> n;
                });
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
