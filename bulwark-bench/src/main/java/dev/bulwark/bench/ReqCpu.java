package dev.bulwark.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPU time per request of a running node's whole process tree (the node and every descendant
 * JVM: its sandboxes), from {@code /proc}, over N sequential keep-alive requests. Latency on a
 * shared machine is noise; CPU per request is what this measures. The node is started by the
 * caller (its pid and port given), so any build can be measured the same way.
 *
 * <pre>
 *   java -cp bulwark-bench/target/classes dev.bulwark.bench.ReqCpu PORT NODE_PID [--n N] [--rounds R]
 *        [--warm W] [--threads] PATH...
 * </pre>
 *
 * For each path: W warm-up requests, then R rounds of N requests; per round the CPU µs per
 * request of the node, of each sandbox JVM and of the whole tree; at the end the median round.
 * {@code --threads} adds, for the median round, the CPU per request of each thread name group.
 * A path may hold {@code {n}}: each request fills it with a new number (a new dynamic worker id).
 * The client is a raw HTTP/1.1 socket (the least CPU of its own, outside the measured tree).
 */
public final class ReqCpu {

    private static final long TICK_US = 10_000; // USER_HZ = 100
    /** Fills "{n}" in a path with a number never used before in this run (a new dynamic worker id per request). */
    private static long uniques = System.currentTimeMillis() * 1000;

    private static String unique(String path) {
        return path.contains("{n}") ? path.replace("{n}", Long.toString(uniques++)) : path;
    }


    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        long nodePid = Long.parseLong(args[1]);
        int n = 2000, rounds = 5, warm = 2000;
        boolean threads = false;
        List<String> paths = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            switch (args[i]) {
                case "--n" -> n = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--warm" -> warm = Integer.parseInt(args[++i]);
                case "--threads" -> threads = true;
                default -> paths.add(args[i]);
            }
        }
        try (Client c = new Client(port)) {
            for (String path : paths) {
                for (int i = 0; i < warm; i++) c.get(unique(path));
                List<double[]> results = new ArrayList<>();
                List<Map<String, Double>> perThread = new ArrayList<>();
                List<double[]> wakes = new ArrayList<>();
                for (int r = 0; r < rounds; r++) {
                    Map<Long, String> tree = tree(nodePid);
                    Map<String, Long> t0 = threadTicks(tree);
                    long[] p0 = procTicks(tree);
                    long[] v0 = wakeups(tree);
                    long w0 = System.nanoTime();
                    for (int i = 0; i < n; i++) c.get(unique(path));
                    long wall = System.nanoTime() - w0;
                    long[] p1 = procTicks(tree);
                    long[] v1 = wakeups(tree);
                    Map<String, Long> t1 = threadTicks(tree);
                    double nodeUs = (p1[0] - p0[0]) * TICK_US / (double) n;
                    double sbUs = (p1[1] - p0[1]) * TICK_US / (double) n;
                    results.add(new double[] {nodeUs, sbUs, nodeUs + sbUs, wall / 1e3 / n});
                    Map<String, Double> pt = new TreeMap<>();
                    for (var e : t1.entrySet()) {
                        long d = e.getValue() - t0.getOrDefault(e.getKey(), 0L);
                        if (d > 0) pt.merge(e.getKey(), d * TICK_US / (double) n, Double::sum);
                    }
                    perThread.add(pt);
                    double jit = pt.entrySet().stream().filter(e -> e.getKey().contains("Compiler")).mapToDouble(Map.Entry::getValue).sum();
                    results.getLast()[3] = nodeUs + sbUs - jit;
                    double nodeW = (v1[0] - v0[0]) / (double) n, sbW = (v1[1] - v0[1]) / (double) n;
                    wakes.add(new double[] {nodeW, sbW});
                    System.out.printf(Locale.ROOT, "%-28s round %d: node %6.1f  sandboxes %6.1f  total %6.1f  w/o JIT %6.1f µs CPU/req  wake-ups node %.2f sandboxes %.2f  (wall %.0f µs/req, load %s)%n",
                            path, r + 1, nodeUs, sbUs, nodeUs + sbUs, nodeUs + sbUs - jit, nodeW, sbW, wall / 1e3 / n, loadavg());
                }
                int mid = medianIndex(results);
                double[] m = results.get(mid);
                System.out.printf(Locale.ROOT, "RESULT %-28s node %6.1f  sandboxes %6.1f  total %6.1f  w/o JIT %6.1f µs CPU/req (median round; min total %.1f)%n",
                        path, m[0], m[1], m[2], m[3], results.stream().mapToDouble(x -> x[2]).min().orElse(0));
                System.out.printf(Locale.ROOT, "RESULT %-28s wake-ups per request: node %.2f  sandboxes %.2f (median round)%n",
                        path, wakes.get(mid)[0], wakes.get(mid)[1]);
                if (threads) {
                    perThread.get(mid).entrySet().stream().sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
                            .limit(14).forEach(e -> System.out.printf(Locale.ROOT, "    %-40s %6.1f%n", e.getKey(), e.getValue()));
                }
            }
        }
    }

    private static int medianIndex(List<double[]> results) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < results.size(); i++) idx.add(i);
        idx.sort((a, b) -> Double.compare(results.get(a)[2], results.get(b)[2]));
        return idx.get(idx.size() / 2);
    }

    /** pid -> "node" or "sandbox" for the node and its descendant JVMs. */
    private static Map<Long, String> tree(long nodePid) {
        Map<Long, String> out = new HashMap<>();
        out.put(nodePid, "node");
        for (ProcessHandle c : ProcessHandle.of(nodePid).orElseThrow().descendants().toList()) {
            try {
                String cmd = Files.readString(Path.of("/proc/" + c.pid() + "/cmdline")).replace('\0', ' ');
                if (cmd.split(" ")[0].endsWith("/java")) out.put(c.pid(), cmd.contains("generated") ? "sandbox-gen" : "sandbox");
            } catch (IOException gone) {
                // ended
            }
        }
        return out;
    }

    /** [node ticks, sandboxes' ticks] (utime + stime of every thread, live or ended). */
    private static long[] procTicks(Map<Long, String> tree) throws IOException {
        long[] t = new long[2];
        for (var e : tree.entrySet()) {
            long v = ticks(Path.of("/proc/" + e.getKey() + "/stat"));
            if (e.getValue().equals("node")) t[0] += v;
            else t[1] += v;
        }
        return t;
    }

    /** [node, sandboxes]: voluntary context switches (a thread blocking, to be woken) of every live thread. */
    private static long[] wakeups(Map<Long, String> tree) {
        long[] w = new long[2];
        for (var e : tree.entrySet()) {
            try (var s = Files.list(Path.of("/proc/" + e.getKey() + "/task"))) {
                for (Path task : s.toList()) {
                    try {
                        for (String line : Files.readAllLines(task.resolve("status"))) {
                            if (line.startsWith("voluntary_ctxt_switches:")) {
                                w[e.getValue().equals("node") ? 0 : 1] += Long.parseLong(line.substring(24).trim());
                            }
                        }
                    } catch (IOException gone) {
                        // thread ended
                    }
                }
            } catch (IOException gone) {
                // process ended
            }
        }
        return w;
    }

    private static Map<String, Long> threadTicks(Map<Long, String> tree) {
        Map<String, Long> out = new HashMap<>();
        for (var e : tree.entrySet()) {
            try (var s = Files.list(Path.of("/proc/" + e.getKey() + "/task"))) {
                for (Path task : s.toList()) {
                    try {
                        String comm = Files.readString(task.resolve("comm")).trim().replaceAll("[0-9]+$", "#");
                        out.merge(e.getValue() + ":" + comm, ticks(task.resolve("stat")), Long::sum);
                    } catch (IOException gone) {
                        // thread ended
                    }
                }
            } catch (IOException gone) {
                // process ended
            }
        }
        return out;
    }

    private static long ticks(Path stat) throws IOException {
        String s = Files.readString(stat);
        String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14, 15)
    }

    private static String loadavg() throws IOException {
        return Files.readString(Path.of("/proc/loadavg")).trim().split(" ")[0];
    }

    /** A minimal keep-alive HTTP/1.1 GET client (Content-Length or chunked bodies). */
    private static final class Client implements AutoCloseable {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        private final byte[] buf = new byte[65536];
        private int pos, lim;

        Client(int port) throws IOException {
            socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress("127.0.0.1", port));
            in = socket.getInputStream();
            out = socket.getOutputStream();
        }

        void get(String path) throws IOException {
            out.write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: reqcpu\r\nAccept: */*\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            String status = line();
            if (!status.startsWith("HTTP/1.1 200")) throw new IOException(path + ": " + status);
            long length = -1;
            boolean chunked = false;
            for (String h; !(h = line()).isEmpty(); ) {
                String lower = h.toLowerCase(Locale.ROOT);
                if (lower.startsWith("content-length:")) length = Long.parseLong(lower.substring(15).trim());
                if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) chunked = true;
            }
            if (chunked) {
                while (true) {
                    long size = Long.parseLong(line().trim(), 16);
                    skip(size);
                    line();
                    if (size == 0) break;
                }
            } else {
                skip(Math.max(0, length));
            }
        }

        private void fill() throws IOException {
            if (pos < lim) return;
            lim = in.read(buf);
            pos = 0;
            if (lim < 0) throw new IOException("closed");
        }

        private String line() throws IOException {
            StringBuilder sb = new StringBuilder();
            while (true) {
                fill();
                byte b = buf[pos++];
                if (b == '\n') break;
                if (b != '\r') sb.append((char) b);
            }
            return sb.toString();
        }

        private void skip(long n) throws IOException {
            while (n > 0) {
                fill();
                int k = (int) Math.min(n, lim - pos);
                pos += k;
                n -= k;
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
