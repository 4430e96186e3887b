package dev.bulwark.server.node;

import dev.bulwark.server.config.SandboxSettings;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Start-up cost of a sandbox (launch until its Ready), confined and plain, alternating. Not a
 * test (its name keeps it out of {@code verify}): run it with
 * {@code -Dtest=ConfinementStartupBench -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class ConfinementStartupBench {
    static final int ROUNDS = Integer.getInteger("rounds", 6);

    @Test
    void startUp() throws Exception {
        Path run = Files.createTempDirectory("bulwark-bench");
        Path data = Files.createTempDirectory("bulwark-bench-data");
        Confinement confined = Confinement.detect(SandboxSettings.Confine.AUTO, "bulwark-bench-" + ProcessHandle.current().pid());
        Confinement plain = Confinement.detect(SandboxSettings.Confine.OFF, "unused");
        SandboxLauncher c = new SandboxLauncher(run, data, 64, 1, 1, 1024, List.of(), SandboxSettings.DEFAULT_OBJECT_IDLE_MS,
                SandboxSettings.DEFAULT_OBJECT_STORAGE_IDLE_MS, confined);
        SandboxLauncher p = new SandboxLauncher(run, data, 64, 1, 1, 1024, List.of(), SandboxSettings.DEFAULT_OBJECT_IDLE_MS,
                SandboxSettings.DEFAULT_OBJECT_STORAGE_IDLE_MS, plain);
        List<Long> tc = new ArrayList<>();
        List<Long> tp = new ArrayList<>();
        for (int i = 0; i < ROUNDS + 1; i++) {
            long a = once(c, "c" + i);
            long b = once(p, "p" + i);
            if (i > 0) { // the first round warms the page cache
                tc.add(a);
                tp.add(b);
            }
        }
        confined.close();
        System.out.println("BENCH confined ms " + tc + " median " + median(tc));
        System.out.println("BENCH plain    ms " + tp + " median " + median(tp));
    }

    private static long once(SandboxLauncher l, String name) throws Exception {
        long t0 = System.nanoTime();
        SandboxProcess s = SandboxProcess.start(name, "bench", l, m -> {}, x -> {});
        long ms = (System.nanoTime() - t0) / 1_000_000;
        s.close();
        l.release(name);
        return ms;
    }

    private static long median(List<Long> v) {
        List<Long> s = v.stream().sorted().toList();
        return s.get(s.size() / 2);
    }
}
