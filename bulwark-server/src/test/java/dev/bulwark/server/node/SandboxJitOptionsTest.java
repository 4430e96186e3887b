package dev.bulwark.server.node;

import dev.bulwark.server.config.SandboxSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A sandbox JVM starts with the node's JIT options (it compiles sooner), and an operator's
 * {@code sandboxes.jvm_options} come after them, so that the operator's value is the one the JVM takes.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SandboxJitOptionsTest {
    @TempDir
    Path dir;

    @Test
    void aSandboxStartsWithTheJitOptionsAndTheOperatorsOptionsAfterThem() throws Exception {
        List<String> cmdline = startedCommandLine(List.of("-XX:CompileThresholdScaling=1.0"));
        String jit = SandboxLauncher.JIT_OPTIONS.getFirst();
        assertThat(jit).startsWith("-XX:CompileThresholdScaling=").isNotEqualTo("-XX:CompileThresholdScaling=1.0");
        int ours = cmdline.indexOf(jit);
        int operators = cmdline.indexOf("-XX:CompileThresholdScaling=1.0");
        assertThat(ours).isPositive();
        assertThat(operators).isGreaterThan(ours);
        assertThat(operators).isLessThan(cmdline.indexOf("dev.bulwark.objects.process.SandboxMain"));
    }

    @Test
    void withoutOperatorOptionsTheSandboxRunsWithTheJitOptions() throws Exception {
        List<String> cmdline = startedCommandLine(List.of());
        assertThat(cmdline.stream().filter(a -> a.startsWith("-XX:CompileThresholdScaling")))
                .containsExactlyElementsOf(SandboxLauncher.JIT_OPTIONS);
    }

    /** Starts a plain sandbox with these operator options, waits for its Ready, returns its command line. */
    private List<String> startedCommandLine(List<String> jvmOptions) throws Exception {
        Confinement confinement = Confinement.detect(SandboxSettings.Confine.OFF, "bulwark-jit-" + ProcessHandle.current().pid());
        Path run = Files.createDirectories(dir.resolve("run"));
        Path data = Files.createDirectories(dir.resolve("data"));
        SandboxLauncher launcher = new SandboxLauncher(run, data, 64, 1, 1, 1024, jvmOptions,
                SandboxSettings.DEFAULT_OBJECT_IDLE_MS, SandboxSettings.DEFAULT_OBJECT_STORAGE_IDLE_MS, confinement,
                SandboxAotCache.of(dir.resolve("no-cache.aot"), System.getProperty("java.class.path")),
                dev.bulwark.sandbox.isolate.Dormancy.OFF);
        try (SandboxProcess s = SandboxProcess.start("jit-1", "alpha", launcher, m -> {}, x -> {})) {
            assertThat(s.isAlive()).isTrue();
            return Arrays.asList(Files.readString(Path.of("/proc/" + s.pid() + "/cmdline")).split("\0"));
        } finally {
            launcher.killAll();
            launcher.release("jit-1");
            confinement.close();
        }
    }
}
