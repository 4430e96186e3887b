package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Message;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * CPU time of the isolate threads per warm hello invocation ({@link InvocationBench#fetchHello}'s
 * path: {@code deliver(FetchStart)} to {@code InvocationDone}), in process. Wall time on a loaded
 * machine is noise; the isolate thread's CPU time is what the prelude's JavaScript costs.
 *
 * <pre>
 * $J $JOPTS -Xss8m -cp "$CP" dev.bulwark.sandbox.isolate.HelloCpu [rounds] [requests per round]
 * </pre>
 */
public final class HelloCpu {
    private HelloCpu() {}

    /** What the node's front door passes on for a curl-like client (ClientHeaders adds the cf-* and request.cf). */
    static final List<Message.Header> HEADERS = List.of(
            new Message.Header("Host", "localhost:8080"),
            new Message.Header("User-Agent", "curl/8.5.0"),
            new Message.Header("Accept", "*/*"),
            new Message.Header("cf-ray", "0123456789abcdef"),
            new Message.Header("cf-connecting-ip", "127.0.0.1"),
            new Message.Header("cf-ipcountry", "XX"),
            new Message.Header("cf-visitor", "{\"scheme\":\"http\"}"),
            new Message.Header("x-forwarded-for", "127.0.0.1"),
            new Message.Header("x-forwarded-proto", "http"),
            new Message.Header("cf-bulwark-request-cf", "{\"colo\":\"LOCAL\",\"httpProtocol\":\"HTTP/1.1\","
                    + "\"clientAcceptEncoding\":\"gzip\",\"tlsVersion\":\"\",\"tlsCipher\":\"\"}"));

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 5000;
        InvocationBench.Warm w = new InvocationBench.Warm();
        w.setUp();
        try {
            for (int i = 0; i < 3; i++) round(w, n); // warm-up
            List<Double> v = new ArrayList<>();
            for (int r = 0; r < rounds; r++) v.add(round(w, n));
            List<Double> sorted = new ArrayList<>(v);
            sorted.sort(null);
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT,
                    "hello median %8.2f  min %8.2f us CPU/request   rounds:", sorted.get(sorted.size() / 2),
                    sorted.getFirst()));
            for (double x : v) line.append(String.format(Locale.ROOT, " %.2f", x));
            System.out.println(line);
        } finally {
            w.tearDown();
        }
    }

    private static double round(InvocationBench.Warm w, int n) throws Exception {
        long cpu0 = isolateCpu();
        for (int i = 0; i < n; i++) {
            long id = w.ids.incrementAndGet();
            CompletableFuture<Void> done = new CompletableFuture<>();
            w.outbox.status = 0;
            w.outbox.current = done;
            w.outbox.currentId = id;
            w.runtime.deliver(new Message.FetchStart(id, "hello", "GET", "http://localhost:8080/hello", HEADERS, null));
            done.get(10, TimeUnit.SECONDS);
        }
        return (isolateCpu() - cpu0) / 1e3 / n;
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
