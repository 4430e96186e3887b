package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.worker.Compatibility;
import dev.bulwark.sandbox.worker.Limits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.bulwark.sandbox.isolate.Sandboxes.*;

/**
 * Measurements behind docs/notes/nodecompat.md, printed, never asserted (timings vary with the
 * machine). Run with {@code -Dtest=NodeCompatMeasure -Dbulwark.measure=true}.
 */
@EnabledIfSystemProperty(named = "bulwark.measure", matches = "true")
class NodeCompatMeasure {
    static final Compatibility OFF = new Compatibility("2025-09-20", List.of());
    static final Compatibility ON = new Compatibility("2025-09-20", List.of("nodejs_compat"));
    static final Limits LIMITS = limits(30_000, 60_000);

    @Test
    void loadCost() throws Exception {
        String main = "export default { fetch() { return new Response('x'); } };";
        for (Compatibility c : List.of(OFF, ON, OFF, ON)) {
            long[] ms = new long[15];
            for (int i = 0; i < ms.length; i++) {
                long t = System.nanoTime();
                load(bundle(main).withCompatibility(c), "{}", LIMITS);
                ms[i] = (System.nanoTime() - t) / 1000;
            }
            Arrays.sort(ms);
            System.out.printf("load %s: median %d µs, min %d µs%n", c.flags(), ms[ms.length / 2], ms[0]);
        }
        String imports = """
                import 'node:buffer'; import 'node:events'; import 'node:util'; import 'node:stream';
                import 'node:crypto'; import 'node:async_hooks'; import 'node:path';
                export default { fetch() { return new Response('x'); } };""";
        long[] ms = new long[15];
        for (int i = 0; i < ms.length; i++) {
            long t = System.nanoTime();
            load(bundle(imports).withCompatibility(ON), "{}", LIMITS);
            ms[i] = (System.nanoTime() - t) / 1000;
        }
        Arrays.sort(ms);
        System.out.printf("load with 7 node imports: median %d µs, min %d µs%n", ms[ms.length / 2], ms[0]);
    }

    @Test
    void perAwaitCost() throws Exception {
        String w = load(bundle("""
                import { AsyncLocalStorage } from 'node:async_hooks';
                const als = new AsyncLocalStorage(), other = new AsyncLocalStorage();
                async function loop(n, read) { let k = 0; for (let i = 0; i < n; i++) { await null; if (read) k += als.getStore() ? 1 : 0; } return k; }
                export default { async fetch(request) {
                  const p = new URL(request.url).searchParams;
                  const n = Number(p.get('n')), mode = p.get('mode');
                  if (mode === 'plain') await loop(n, false);
                  else if (mode === 'als') await other.run(1, () => als.run({ id: 1 }, () => loop(n, false)));
                  else await als.run({ id: 1 }, () => loop(n, true));
                  return new Response('done');
                } };""").withCompatibility(ON), "{}", LIMITS);
        int n = 200_000;
        for (int round = 0; round < 3; round++) {
            for (String mode : List.of("plain", "als", "als+getStore")) {
                List<Long> cpu = new ArrayList<>();
                for (int i = 0; i < 5; i++) cpu.add(RECORDER.await(start(w, "GET", "http://m.test/?n=" + n + "&mode=" + mode, null)).cpuMicros());
                cpu.sort(null);
                System.out.printf("%-13s %d awaits: median CPU %d µs = %.1f ns per await%n", mode, n, cpu.get(2), cpu.get(2) * 1000.0 / n);
            }
        }
    }
}
