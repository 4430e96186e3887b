package dev.bulwark.sandbox.trace;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A per-process latency trace for finding where a request waits: named stamps of
 * {@link System#nanoTime()} (CLOCK_MONOTONIC on Linux, so the node's and its sandboxes' stamps
 * compare on one machine) kept in a fixed ring, written to a file on demand.
 *
 * <p>Off unless the system property {@code bulwark.trace.dir} names a directory (node and
 * sandboxes alike: pass it to sandboxes with {@code -Dbulwark.sandbox.jvmOptions}). Off, every
 * stamp is one test of a static final boolean the JIT folds away. On, {@code kill -WINCH <pid>}
 * makes the process write its ring to {@code <dir>/trace-<pid>-<n>.tsv} (lines
 * {@code nanos<TAB>thread<TAB>point<TAB>id<TAB>threadCpuNanos}, oldest first) and empty it. A sandbox must be able to
 * write there ({@code sandboxes.confine = "off"}).
 *
 * <p>Diagnostics only: concurrent stamps may overwrite each other's slots when the ring wraps;
 * nothing in the request path reads the ring.
 */
public final class LatencyTrace {
    private static final String DIR = System.getProperty("bulwark.trace.dir", "");
    /** Whether stamps are taken: call sites whose arguments cost something test it first. */
    public static final boolean ON = !DIR.isEmpty();
    private static final int SIZE = 1 << 18;
    private static final int MASK = SIZE - 1;
    private static final long[] NANOS = ON ? new long[SIZE] : null;
    private static final long[] IDS = ON ? new long[SIZE] : null;
    private static final long[] THREADS = ON ? new long[SIZE] : null;
    private static final long[] CPU = ON ? new long[SIZE] : null;
    /** The thread's CPU time at each stamp: whether the time between two stamps of a thread was spent running. */
    private static final java.lang.management.ThreadMXBean THREAD_CPU = ON ? java.lang.management.ManagementFactory.getThreadMXBean() : null;
    private static final String[] POINTS = ON ? new String[SIZE] : null;
    private static final AtomicLong NEXT = new AtomicLong();
    private static final AtomicLong DUMPS = new AtomicLong();
    /** Where the ring was emptied last (stamps before it were dumped). */
    private static volatile long dumpedUpTo;

    static {
        if (ON) installDumpSignal();
    }

    private LatencyTrace() {}

    /** Records that this thread reached {@code point} now, for {@code id} (an invocation id, a message tag; 0 if none). */
    public static void stamp(String point, long id) {
        if (!ON) return;
        long t = System.nanoTime();
        int slot = (int) (NEXT.getAndIncrement() & MASK);
        NANOS[slot] = t;
        IDS[slot] = id;
        THREADS[slot] = Thread.currentThread().threadId();
        CPU[slot] = THREAD_CPU.getCurrentThreadCpuTime();
        POINTS[slot] = point;
    }

    /** The message's kind, as a point name: {@code prefix} + its simple class name. */
    public static void stampMessage(String prefix, Object message, long id) {
        if (!ON) return;
        stamp(prefix + message.getClass().getSimpleName(), id);
    }

    /** Writes the stamps taken since the last dump to a new file in the trace directory; returns it. */
    public static synchronized Path dump() throws IOException {
        if (!ON) throw new IllegalStateException("the latency trace is off");
        long end = NEXT.get();
        long start = Math.max(dumpedUpTo, end - SIZE);
        Path file = Path.of(DIR).resolve("trace-" + ProcessHandle.current().pid() + "-" + DUMPS.incrementAndGet() + ".tsv");
        try (BufferedWriter w = Files.newBufferedWriter(file)) {
            for (long i = start; i < end; i++) {
                int slot = (int) (i & MASK);
                String p = POINTS[slot];
                if (p == null) continue;
                w.write(Long.toString(NANOS[slot]));
                w.write('\t');
                w.write(Long.toString(THREADS[slot]));
                w.write('\t');
                w.write(p);
                w.write('\t');
                w.write(Long.toString(IDS[slot]));
                w.write('\t');
                w.write(Long.toString(CPU[slot]));
                w.write('\n');
            }
        }
        dumpedUpTo = end;
        return file;
    }

    @SuppressWarnings("restriction")
    private static void installDumpSignal() {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("WINCH"), s -> {
                try {
                    System.err.println("bulwark: latency trace written to " + dump());
                } catch (IOException | RuntimeException e) {
                    System.err.println("bulwark: latency trace not written: " + e);
                }
            });
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            System.err.println("bulwark: latency trace on, but no dump signal: " + e);
        }
    }
}
