package dev.bulwark.sandbox.isolate;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The per-directory summary of a WPT run, as Markdown, and the failures as expectation lines. */
final class WptReport {
    private final WptExpectations expectations;
    private final List<WptResult> results;
    private final List<String> notRun;

    WptReport(WptExpectations expectations, Collection<WptResult> results, List<String> notRun) {
        this.expectations = expectations;
        this.results = new ArrayList<>(results);
        this.results.sort(java.util.Comparator.comparing(WptResult::path));
        this.notRun = notRun;
    }

    /** The directory a file is counted under: url, encoding, streams, FileAPI/blob, fetch/api/headers, ... */
    static String suiteOf(String path) {
        String[] parts = path.split("/");
        int depth = switch (parts[0]) {
            case "FileAPI" -> 2;
            case "fetch", "html" -> 3;
            default -> 1;
        };
        depth = Math.min(depth, parts.length - 1);
        return String.join("/", java.util.Arrays.copyOf(parts, Math.max(depth, 1)));
    }

    private static final class Tally {
        int files, subtests, passed, excluded, errors;
    }

    String markdown() {
        Map<String, Tally> tallies = new TreeMap<>();
        StringBuilder errors = new StringBuilder();
        for (WptResult r : results) {
            Tally t = tallies.computeIfAbsent(suiteOf(r.path()), k -> new Tally());
            t.files++;
            if (r.subtests().isEmpty() && !r.harness().equals("OK")) {
                t.errors++;
                errors.append("- `").append(r.path()).append("`: ").append(r.harness()).append(": ")
                        .append(oneLine(r.message())).append('\n');
            }
            for (WptResult.Subtest s : r.subtests()) {
                if (expectations.excluded(r.path(), s.name())) {
                    t.excluded++;
                    continue;
                }
                t.subtests++;
                if (s.passed()) t.passed++;
            }
        }
        StringBuilder b = new StringBuilder();
        b.append("| directory | files | subtests | passed | % | excluded subtests | files not loading |\n");
        b.append("|---|---:|---:|---:|---:|---:|---:|\n");
        for (Map.Entry<String, Tally> e : tallies.entrySet()) {
            Tally t = e.getValue();
            String pending = expectations.pendingReason(e.getKey() + "/") != null ? " (pending)" : "";
            b.append("| ").append(e.getKey()).append(pending).append(" | ").append(t.files).append(" | ")
                    .append(t.subtests).append(" | ").append(t.passed).append(" | ")
                    .append(t.subtests == 0 ? "-" : String.format(java.util.Locale.ROOT, "%.1f", 100.0 * t.passed / t.subtests))
                    .append(" | ").append(t.excluded).append(" | ").append(t.errors).append(" |\n");
        }
        if (!errors.isEmpty()) b.append("\nFiles that did not run:\n").append(errors);
        if (!notRun.isEmpty()) {
            b.append("\nFiles not run:\n");
            for (String s : notRun) b.append("- ").append(s).append('\n');
        }
        return b.toString();
    }

    /** Every subtest that did not pass, as {@code fail} lines (reason: its message), for bootstrapping. */
    String failureLines() {
        StringBuilder b = new StringBuilder();
        for (WptResult r : results) {
            if (r.subtests().isEmpty() && !r.harness().equals("OK")) {
                b.append("error\t").append(r.path()).append('\t').append(oneLine(r.message())).append('\n');
            }
            for (WptResult.Subtest s : r.subtests()) {
                if (s.passed() || expectations.excluded(r.path(), s.name())) continue;
                b.append("fail\t").append(r.path()).append('\t').append(WptExpectations.escape(s.name())).append('\t')
                        .append(s.status()).append(": ").append(oneLine(s.message())).append('\n');
            }
        }
        return b.toString();
    }

    private static String oneLine(String s) {
        if (s == null) return "(no message)";
        String line = s.replace('\t', ' ').replace('\r', ' ').split("\n")[0];
        return line.length() > 160 ? line.substring(0, 157) + "..." : line;
    }
}
