package dev.bulwark.server.node;

import dev.bulwark.server.config.SandboxSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A sandbox JVM starts with the node's JIT options (it compiles sooner), and an operator's
 * {@code sandboxes.jvm_options} come after them, so that the operator's value is the one the JVM takes.
 * Its compiler threads run at the nice value the node was given ({@code bulwark.jit.compilerNice}),
 * its other threads at the process's own.
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

    @Test
    void aSandboxRunsItsCompilerThreadsAtTheNodesNiceValueAndNoOtherThreadOtherwise() throws Exception {
        // 19, not the default 10: the suite itself may run under nice 10, and the sandbox inherits it.
        Map<String, Integer> nice = withCompilerNice("19", () -> started(List.of(), s -> threadNice(s.pid())));
        int base = nice.get("leader");
        assertThat(base).isLessThan(19);
        assertThat(nice.keySet()).anyMatch(t -> t.startsWith("C1 CompilerThre"));
        nice.forEach((thread, n) -> {
            if (thread.startsWith("C1 CompilerThre") || thread.startsWith("C2 CompilerThre")) {
                assertThat(n).as(thread).isEqualTo(19);
            } else {
                assertThat(n).as(thread).isEqualTo(base);
            }
        });
    }

    @Test
    void withCompilerNiceZeroTheCompilerThreadsKeepTheProcesssPriority() throws Exception {
        Map<String, Integer> nice = withCompilerNice("0", () -> started(List.of(), s -> threadNice(s.pid())));
        assertThat(nice.keySet()).anyMatch(t -> t.startsWith("C1 CompilerThre"));
        assertThat(nice.values()).containsOnly(nice.get("leader"));
    }

    private static <T> T withCompilerNice(String value, java.util.concurrent.Callable<T> body) throws Exception {
        String property = dev.bulwark.sandbox.jvm.CompilerThreads.PROPERTY;
        String before = System.getProperty(property);
        System.setProperty(property, value);
        try {
            return body.call();
        } finally {
            if (before == null) System.clearProperty(property);
            else System.setProperty(property, before);
        }
    }

    /** Each thread's nice value by "name tid" ({@code /proc/PID/task}); the process's first thread as "leader". */
    private static Map<String, Integer> threadNice(long pid) throws Exception {
        Map<String, Integer> nice = new java.util.TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks.toList()) {
                String stat = Files.readString(task.resolve("stat"));
                String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                int n = Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[16]);
                String tid = task.getFileName().toString();
                nice.put(tid.equals(Long.toString(pid)) ? "leader" : name + " " + tid, n);
            }
        }
        return nice;
    }

    /** Starts a plain sandbox with these operator options, waits for its Ready, returns its command line. */
    private List<String> startedCommandLine(List<String> jvmOptions) throws Exception {
        return started(jvmOptions, s -> Arrays.asList(Files.readString(Path.of("/proc/" + s.pid() + "/cmdline")).split("\0")));
    }

    private interface Probe<T> {
        T of(SandboxProcess s) throws Exception;
    }

    /** Starts a plain sandbox with these operator options, waits for its Ready, returns what {@code probe} finds in it. */
    private <T> T started(List<String> jvmOptions, Probe<T> probe) throws Exception {
        Confinement confinement = Confinement.detect(SandboxSettings.Confine.OFF, "bulwark-jit-" + ProcessHandle.current().pid());
        Path run = Files.createDirectories(dir.resolve("run"));
        Path data = Files.createDirectories(dir.resolve("data"));
        SandboxLauncher launcher = new SandboxLauncher(run, data, 64, 1, 1, 1024, jvmOptions,
                SandboxSettings.DEFAULT_OBJECT_IDLE_MS, SandboxSettings.DEFAULT_OBJECT_STORAGE_IDLE_MS, confinement,
                SandboxAotCache.of(dir.resolve("no-cache.aot"), System.getProperty("java.class.path")),
                dev.bulwark.sandbox.isolate.Dormancy.OFF,
                dev.bulwark.objects.storage.StorageOptions.defaults());
        try (SandboxProcess s = SandboxProcess.start("jit-1", "alpha", launcher, m -> {}, x -> {})) {
            assertThat(s.isAlive()).isTrue();
            return probe.of(s);
        } finally {
            launcher.killAll();
            launcher.release("jit-1");
            confinement.close();
        }
    }
}
