package dev.bulwark.server.governance;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Which tool-call arguments the audit trail keeps, and how they are redacted. Without rules set on
 * {@link Governance#auditArguments} the trail keeps only the arguments' hash (as before); with
 * rules, an allowed call's decision row also holds {@code args}, redacted:
 * <ul>
 *   <li>{@code paths}: dot paths into the arguments ({@code card.number}, {@code items.*.email};
 *       {@code *} is any key or array element); the value there, whatever it is, becomes
 *       {@value #MASK};</li>
 *   <li>{@code patterns}: regular expressions; every match inside any string value (keys are left
 *       alone) becomes {@value #MASK}.</li>
 * </ul>
 * Redaction happens before the row is written: the unredacted text never reaches the database.
 */
public record AuditRedaction(List<String> paths, List<Pattern> patterns) {
    public static final String MASK = "[redacted]";
    static final int MAX_RULES = 256;

    public AuditRedaction {
        paths = List.copyOf(paths);
        patterns = List.copyOf(patterns);
        if (paths.size() + patterns.size() > MAX_RULES) throw new IllegalArgumentException("at most " + MAX_RULES + " redaction rules");
        for (String p : paths) {
            if (p.isEmpty() || Arrays.asList(p.split("\\.", -1)).contains("")) {
                throw new IllegalArgumentException("redaction path '" + p + "': empty segment");
            }
        }
    }

    /** Rules from their configured text (regexes compiled here: a bad one is refused with its text). */
    public static AuditRedaction of(List<String> paths, List<String> patterns) {
        List<Pattern> compiled = new ArrayList<>();
        for (String p : patterns) {
            try {
                compiled.add(Pattern.compile(p));
            } catch (java.util.regex.PatternSyntaxException e) {
                throw new IllegalArgumentException("redaction pattern '" + p + "' is not a regular expression");
            }
        }
        return new AuditRedaction(paths, compiled);
    }

    /** A redacted copy of {@code args} (maps, lists, strings, numbers, booleans, null). */
    Object apply(Object args) {
        Object out = patterns(args, 0);
        for (String p : paths) out = path(out, p.split("\\."), 0);
        return out;
    }

    private Object patterns(Object v, int depth) {
        if (depth > 64) return MASK; // deeper than any sane argument: kept out rather than walked
        return switch (v) {
            case String s -> {
                String r = s;
                for (Pattern p : patterns) r = p.matcher(r).replaceAll(MASK.replace("$", "\\$"));
                yield r;
            }
            case Map<?, ?> m -> {
                Map<String, Object> copy = new LinkedHashMap<>();
                m.forEach((k, x) -> copy.put(String.valueOf(k), patterns(x, depth + 1)));
                yield copy;
            }
            case List<?> l -> {
                List<Object> copy = new ArrayList<>(l.size());
                for (Object x : l) copy.add(patterns(x, depth + 1));
                yield copy;
            }
            case null -> null;
            default -> v;
        };
    }

    private static Object path(Object v, String[] segs, int i) {
        if (i == segs.length) return MASK;
        String seg = segs[i];
        return switch (v) {
            case Map<?, ?> m -> {
                Map<String, Object> copy = new LinkedHashMap<>();
                m.forEach((k, x) -> {
                    String key = String.valueOf(k);
                    copy.put(key, seg.equals("*") || seg.equals(key) ? path(x, segs, i + 1) : x);
                });
                yield copy;
            }
            case List<?> l -> {
                List<Object> copy = new ArrayList<>(l.size());
                for (int j = 0; j < l.size(); j++) {
                    copy.add(seg.equals("*") || seg.equals(String.valueOf(j)) ? path(l.get(j), segs, i + 1) : l.get(j));
                }
                yield copy;
            }
            case null -> null;
            default -> v;
        };
    }
}
