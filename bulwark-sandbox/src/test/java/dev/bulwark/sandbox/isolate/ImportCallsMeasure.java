package dev.bulwark.sandbox.isolate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * What the import() rewrite costs a module's load (docs/notes/dynimport.md), printed, never asserted.
 * Run with {@code -Dtest=ImportCallsMeasure -Dbulwark.measure=true}.
 */
@EnabledIfSystemProperty(named = "bulwark.measure", matches = "true")
class ImportCallsMeasure {
    static final Path AGENTS = Path.of("..", "bulwark-server", "src", "test", "resources", "agents-fixture", "project", "src", "index.js");
    static final Path PRELUDE = Path.of("src", "main", "resources", "dev", "bulwark", "sandbox", "prelude", "prelude.js");

    @Test
    void rewriteCost() throws Exception {
        for (Path p : new Path[] {PRELUDE, AGENTS}) {
            String source = Files.readString(p);
            // The same text with one import() call at its end: the whole tokenizer runs.
            String withCall = source + "\nexport const lazy = () => import('./x.js');\n";
            System.out.printf("%s: %d chars%n", p.getFileName(), source.length());
            time("  quick check only (no import( in it)", source, s -> ImportCalls.rewrite(s));
            time("  full tokenizer (one import( added)", withCall, s -> ImportCalls.rewrite(s));
        }
    }

    /** The thread's CPU time per call (2 cores shared with other work: wall-clock time says little). */
    static void time(String what, String source, Consumer<String> f) {
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        for (int warm = 0; warm < 40; warm++) f.accept(source);
        long[] us = new long[41];
        for (int i = 0; i < us.length; i++) {
            long t = threads.getCurrentThreadCpuTime();
            f.accept(source);
            us[i] = (threads.getCurrentThreadCpuTime() - t) / 1000;
        }
        Arrays.sort(us);
        System.out.printf("%s: CPU median %d µs, min %d µs (%.1f ns per char at the median)%n", what, us[us.length / 2], us[0],
                us[us.length / 2] * 1000.0 / source.length());
    }
}
