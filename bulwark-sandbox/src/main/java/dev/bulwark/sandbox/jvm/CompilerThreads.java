package dev.bulwark.sandbox.jvm;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Runs this JVM's JIT compiler threads at a lower OS priority (a higher nice value), so that in
 * the first seconds after a start, while C1 and C2 compile the request path, they take the cores
 * the requests leave idle rather than share them with the requests (docs/notes/jitwarm2.md).
 *
 * <p>Done here rather than with HotSpot's {@code -XX:ThreadPriorityPolicy=1
 * -XX:CompilerThreadPriority=10}: that policy also gives every other JVM thread the nice value of
 * its Java priority (as root, the VM thread, GC and reference handler then run at nice -4 to -5,
 * above every other process), and a JVM not run as root prints a warning about it at start, which
 * every sandbox would repeat in the node's log. This changes the compiler threads only; compiler
 * threads HotSpot adds later (on machines with more cores) are started by a compiler thread and
 * inherit its nice value. A process may always lower its own threads' priority: no privilege.
 *
 * <p>Linux only ({@code /proc/self/task}, {@code setpriority} on a thread id); elsewhere, without
 * native access, or for a JVM whose threads are named otherwise, it does nothing.
 */
public final class CompilerThreads {
    /** The system property with the nice value (0: leave them as they are). */
    public static final String PROPERTY = "bulwark.jit.compilerNice";
    static final int DEFAULT_NICE = 10;
    /** HotSpot's names, as the kernel keeps them (15 characters: "C2 CompilerThread0" becomes this). */
    private static final String C1 = "C1 CompilerThre";
    private static final String C2 = "C2 CompilerThre";
    private static final int PRIO_PROCESS = 0;

    private CompilerThreads() {}

    /** The nice value this JVM's compiler threads get: the property's, else 10; 0 to 19. */
    public static int configuredNice() {
        String v = System.getProperty(PROPERTY);
        if (v == null || v.isBlank()) return DEFAULT_NICE;
        try {
            return Math.max(0, Math.min(19, Integer.parseInt(v.trim())));
        } catch (NumberFormatException e) {
            return DEFAULT_NICE;
        }
    }

    /** Lowers the compiler threads to {@link #configuredNice()}; returns how many it changed. */
    public static int lower() {
        return lower(configuredNice());
    }

    /**
     * Sets the nice value of each compiler thread below {@code nice} to {@code nice} (never raises
     * a thread's priority); returns how many it changed.
     */
    public static int lower(int nice) {
        if (nice <= 0) return 0;
        MethodHandle setpriority = Libc.find("setpriority", FunctionDescriptor.of(ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)).orElse(null);
        if (setpriority == null) return 0;
        int changed = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                String comm;
                try {
                    comm = Files.readString(task.resolve("comm")).strip();
                } catch (IOException e) {
                    continue; // the thread ended
                }
                if (!comm.equals(C1) && !comm.equals(C2)) continue;
                int tid = Integer.parseInt(task.getFileName().toString());
                Integer now = niceOf(task);
                if (now != null && now >= nice) continue;
                if ((int) setpriority.invokeExact(PRIO_PROCESS, tid, nice) == 0) changed++;
            }
        } catch (Throwable e) {
            // not Linux, no /proc, no native access: the JIT keeps its priority, nothing breaks
        }
        return changed;
    }

    /** A thread's nice value ({@code /proc/self/task/TID/stat}, field 19), or null. */
    static Integer niceOf(Path task) {
        try {
            String stat = Files.readString(task.resolve("stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Integer.parseInt(f[16]);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
