package dev.bulwark.sandbox.isolate;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@link SqlExecBench}'s scenarios measured in CPU time instead of wall time: on a loaded machine
 * a wall-clock average mostly measures the other processes. Runs each scenario in turn for
 * {@code rounds} rounds of about {@code seconds} each after a warm-up, and prints the CPU time
 * per operation of the isolate threads (where JS, the host functions and SQLite run; not JIT or
 * GC threads) of each round, their median and their minimum (the least disturbed round).
 *
 * <pre>
 * $J $JOPTS -Xss8m -cp "$CP" dev.bulwark.sandbox.isolate.SqlExecCpu [rounds] [seconds] [scenario...]
 * </pre>
 */
public final class SqlExecCpu {
    private SqlExecCpu() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 2;
        List<String> names = args.length > 2 ? List.of(args).subList(2, args.length)
                : List.of("insert", "txn", "select", "rows", "put", "get", "loop", "newObject");
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        SqlExecBench.Db db = new SqlExecBench.Db();
        db.setUp();
        try {
            for (int w = 0; w < 3; w++) {
                for (String name : names) run(db, name, os, seconds); // warm-up (JIT)
            }
            List<List<Double>> results = new ArrayList<>();
            List<List<Double>> allocs = new ArrayList<>();
            for (String ignored : names) {
                results.add(new ArrayList<>());
                allocs.add(new ArrayList<>());
            }
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < names.size(); i++) {
                    results.get(i).add(run(db, names.get(i), os, seconds));
                    allocs.get(i).add(lastAllocPerOp);
                }
            }
            for (int i = 0; i < names.size(); i++) {
                List<Double> v = results.get(i);
                List<Double> sorted = new ArrayList<>(v);
                sorted.sort(null);
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT,
                        "%-10s median %8.2f  min %8.2f us CPU/op   rounds:", names.get(i), sorted.get(sorted.size() / 2),
                        sorted.getFirst()));
                for (double x : v) line.append(String.format(Locale.ROOT, " %.2f", x));
                List<Double> a = new ArrayList<>(allocs.get(i));
                a.sort(null);
                line.append(String.format(Locale.ROOT, "   heap allocated median %.0f B/op", a.get(a.size() / 2)));
                System.out.println(line);
            }
        } finally {
            db.tearDown();
        }
    }

    /** CPU microseconds per operation over about {@code seconds} of wall time. */
    private static double run(SqlExecBench.Db db, String name, com.sun.management.OperatingSystemMXBean os,
                              double seconds) throws Exception {
        // "newObject": one event to a new object; "put1", "loop1"...: one event with one call.
        boolean perEvent = name.equals("newObject") || name.endsWith("1");
        String path = name.endsWith("1") ? "/" + name.substring(0, name.length() - 1) + "?n=1"
                : "/" + name + "?n=" + SqlExecBench.N;
        long ops = 0;
        long alloc0 = isolateAllocated();
        long cpu0 = isolateCpu();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
            if (name.equals("newObject")) {
                db.run(db.fresh(), "/new?n=0");
            } else {
                db.run(path);
            }
            ops += perEvent ? 1 : SqlExecBench.N;
        }
        double cpu = (isolateCpu() - cpu0) / 1e3 / ops;
        lastAllocPerOp = (double) (isolateAllocated() - alloc0) / ops;
        return cpu;
    }

    /** Java heap bytes the isolate threads allocated per operation in the last {@link #run}. */
    private static double lastAllocPerOp;

    /** Heap bytes allocated so far by the live threads named isolate-* (a count, not a time: steady under load). */
    private static long isolateAllocated() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("isolate")) sum += Math.max(0, threads.getThreadAllocatedBytes(t.threadId()));
        }
        return sum;
    }

    /** CPU nanoseconds used so far by the live threads named isolate-*. */
    static long isolateCpu() {
        var threads = ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("isolate")) sum += Math.max(0, threads.getThreadCpuTime(t.threadId()));
        }
        return sum;
    }
}
