package dev.bulwark.sandbox.isolate;

import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * What the first 10k-INSERT events of a fresh JVM cost before the JIT has compiled the
 * {@code sql.exec} path (compare.sh's {@code sql} phase runs its first {@code /do/batch} requests in
 * that state), and whether a self-warm would move them: with {@code warm > 0}, a separate runtime
 * over its own temporary database first runs {@code warm} events of 5,000 INSERTs and 500 counter
 * upserts, and is closed, as a sandbox could do before its first event. Then, as the bench does, a
 * runtime warmed with {@code counters} single-upsert events runs five events of 10,000 INSERTs.
 * Prints the process CPU (all threads: isolate, JIT compilers, GC) and the isolate threads' CPU of
 * each. Run a fresh JVM per trial, with the sandbox's JIT options.
 *
 * <pre>
 * $J --enable-native-access=ALL-UNNAMED -Xss8m -XX:+UseSerialGC -XX:CompileThresholdScaling=0.5 \
 *    -cp "$CP" dev.bulwark.sandbox.isolate.SqlFirstRequests [warm] [counters]
 * </pre>
 */
public final class SqlFirstRequests {
    private SqlFirstRequests() {}

    public static void main(String[] args) throws Exception {
        int warm = args.length > 0 ? Integer.parseInt(args[0]) : 0;
        int counters = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "warm=%d", warm));
        if (warm > 0) {
            long p0 = os.getProcessCpuTime();
            long w0 = System.nanoTime();
            SqlExecBench.Db w = new SqlExecBench.Db();
            w.setUp();
            try {
                for (int i = 0; i < warm; i++) {
                    w.run("/insert?n=5000");
                    w.run("/counter?n=500");
                }
            } finally {
                w.tearDown();
            }
            out.append(String.format(Locale.ROOT, " selfwarm: cpu %.0f ms wall %.0f ms |",
                    (os.getProcessCpuTime() - p0) / 1e6, (System.nanoTime() - w0) / 1e6));
        }
        SqlExecBench.Db db = new SqlExecBench.Db();
        db.setUp();
        try {
            for (int i = 0; i < counters; i++) db.run("/counter?n=1");
            out.append(" batch cpu(process/isolate) ms:");
            for (int r = 0; r < 5; r++) {
                long p0 = os.getProcessCpuTime();
                long i0 = SqlExecCpu.isolateCpu();
                db.run("/insert?n=10000");
                out.append(String.format(Locale.ROOT, " %.0f/%.0f", (os.getProcessCpuTime() - p0) / 1e6,
                        (SqlExecCpu.isolateCpu() - i0) / 1e6));
            }
        } finally {
            db.tearDown();
        }
        System.out.println(out);
    }
}
