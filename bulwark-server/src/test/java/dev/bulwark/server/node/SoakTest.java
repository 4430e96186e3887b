package dev.bulwark.server.node;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The memory-bounded soak of issue 13: a real node in its own JVM with a {@value #NODE_HEAP_MB} MiB
 * heap ({@code -XX:+ExitOnOutOfMemoryError}: an OutOfMemoryError anywhere ends it), two attacker
 * tenants and a bystander tenant ({@link SoakNodeMain}), and for the whole run, all at once: huge
 * upstream bodies drained, held unread and uploaded to an upstream that never reads (a local
 * upstream), clients that never read a 64 MiB single-enqueue response or a 100 MiB one-chunk body,
 * 200 MiB digests, log floods after the response, {@code Float32Array(50e6).sort()}, 5 million nested
 * {@code JSON.parse}, dynamic workers whose top-level code blocks in {@code Atomics.wait}, and
 * fan-out loops back to the node itself.
 *
 * <p>Asserted: the bystander answered every request, 200 and its body; the node is alive at the
 * end; its resident set stayed under {@value #NODE_RSS_BUDGET_MB} MiB; no client saw a Java
 * exception. Reported, never asserted (this machine is shared): the bystander's p50/p99/max, the
 * node's peak RSS and heap, the sandboxes' peak RSS, and what each attack got.
 *
 * <p>The default run lasts {@value #DEFAULT_SECONDS} s; {@code -Dbulwark.soak.seconds=600} is the
 * ten-minute long variant.
 */
@Timeout(value = 40, unit = TimeUnit.MINUTES)
class SoakTest {
    static final int NODE_HEAP_MB = 256;
    /** The node's heap plus its JVM's own (code, metaspace, threads, direct buffers): see docs/security.md. */
    static final long NODE_RSS_BUDGET_MB = 512;
    static final int DEFAULT_SECONDS = 10;
    static final String EXPECTED_DIGEST = sha256OfZeros(200 << 20);

    @TempDir
    Path dir;

    /** An attack: which worker, which path, and what a client is allowed to see from it. */
    record Attack(String worker, String path) {}

    static final List<Attack> ATTACKS = List.of(
            new Attack("fetcher", "/drain?mb=64"),
            new Attack("burner", "/sort"),
            new Attack("flooder", "/flood"),
            new Attack("fetcher", "/hold"),
            new Attack("burner", "/json"),
            new Attack("flooder", "/deploy"),
            new Attack("burner", "/digest"),
            new Attack("fetcher", "/upload-stuck"),
            new Attack("burner", "/loop"));

    @Test
    void mixedHostileTrafficCannotExhaustTheNodeAndTheBystanderKeepsAnswering() throws Exception {
        int seconds = Integer.getInteger("bulwark.soak.seconds", DEFAULT_SECONDS);
        HttpServer upstream = NodeMemoryBudgetTest.upstream();
        AtomicLong peakHeap = new AtomicLong();
        List<String> nodeErrors = Collections.synchronizedList(new ArrayList<>());
        NodeProcess node = NodeProcess.start(List.of("-Xmx" + NODE_HEAP_MB + "m", "-XX:+ExitOnOutOfMemoryError"),
                SoakNodeMain.class.getName(), List.of(Files.createDirectories(dir.resolve("data")).toString(),
                        Integer.toString(upstream.getAddress().getPort())), line -> line.startsWith("PORT "), line -> {
                    if (line.startsWith("HEAP ")) {
                        peakHeap.accumulateAndGet(Long.parseLong(line.split(" ")[1]), Math::max);
                    } else if (line.contains("OutOfMemoryError") || line.contains(" ERROR ")) {
                        nodeErrors.add(line);
                    }
                });
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        Map<String, Map<String, LongAdder>> outcomes = new ConcurrentSkipListMap<>();
        List<String> leaks = Collections.synchronizedList(new ArrayList<>());
        ArrayDeque<Socket> stalled = new ArrayDeque<>();
        try {
            int port = Integer.parseInt(node.readyLine().substring(5).trim());
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(pool).build();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);

            // Four attackers, each running the attacks one after another, round robin; until the
            // deadline, and at least until every attack has been started once (a short run on a
            // slow machine still tries each).
            AtomicInteger next = new AtomicInteger();
            List<java.util.concurrent.Future<?>> attackers = new ArrayList<>();
            for (int a = 0; a < 4; a++) {
                attackers.add(pool.submit(() -> {
                    while (System.nanoTime() < deadline || next.get() < ATTACKS.size()) {
                        Attack attack = ATTACKS.get(Math.floorMod(next.getAndIncrement(), ATTACKS.size()));
                        String outcome;
                        try {
                            HttpResponse<String> r = get(http, port, attack.worker(), attack.path());
                            outcome = describe(attack, r);
                            if (r.body().contains("java.") || r.body().contains("Exception")) {
                                leaks.add(attack + ": " + r.body());
                            }
                        } catch (Exception e) {
                            outcome = "no answer: " + e.getClass().getSimpleName();
                        }
                        outcomes.computeIfAbsent(attack.worker() + attack.path(), k -> new ConcurrentHashMap<>())
                                .computeIfAbsent(outcome, k -> new LongAdder()).increment();
                    }
                    return null;
                }));
            }

            List<Long> latencies = new ArrayList<>();
            long peakRss = 0, peakSandboxRss = 0, lastStall = 0;
            int stalls = 0;
            while (System.nanoTime() < deadline) {
                // Clients that never read: a new one every 2 s (64 MiB enqueue, 100 MiB body in turn), 6 at most.
                if (System.nanoTime() - lastStall > TimeUnit.SECONDS.toNanos(2)) {
                    if (stalled.size() == 6) stalled.removeFirst().close();
                    stalled.addLast(NodeMemoryBudgetTest.stalledClient(port, stalls++ % 2 == 0 ? "/enqueue64" : "/body100"));
                    lastStall = System.nanoTime();
                }
                long start = System.nanoTime();
                HttpResponse<String> r = get(http, port, "bystander", "/");
                latencies.add(System.nanoTime() - start);
                assertThat(r.statusCode()).as("bystander request %d: %s", latencies.size(), r.body()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("still here");
                peakRss = Math.max(peakRss, node.rss());
                peakSandboxRss = Math.max(peakSandboxRss, node.childrenRss());
                assertThat(node.isAlive()).as("the node is alive").isTrue();
                Thread.sleep(100);
            }
            for (var attacker : attackers) attacker.get(5, TimeUnit.MINUTES);

            assertThat(node.isAlive()).as("the node did not die (of an OutOfMemoryError or otherwise)").isTrue();
            HttpResponse<String> last = get(http, port, "bystander", "/");
            assertThat(last.statusCode()).isEqualTo(200);
            assertThat(last.body()).isEqualTo("still here");
            peakRss = Math.max(peakRss, node.rss());

            Collections.sort(latencies);
            System.out.printf("soak: %d s, node -Xmx%dm: bystander %d requests, all 200; p50 %.1f ms, p99 %.1f ms, max %.1f ms;"
                            + " node peak RSS %d MiB, peak heap used %d MiB; sandboxes' peak RSS (sum) %d MiB; %d stalled clients%n",
                    seconds, NODE_HEAP_MB, latencies.size(), ms(percentile(latencies, 50)), ms(percentile(latencies, 99)),
                    ms(latencies.getLast()), peakRss >> 20, peakHeap.get() >> 20, peakSandboxRss >> 20, stalls);
            for (var e : outcomes.entrySet()) System.out.printf("soak: %-24s %s%n", e.getKey(), new TreeMap<>(e.getValue()));
            for (String line : nodeErrors.subList(0, Math.min(10, nodeErrors.size()))) System.out.println("soak node: " + line);

            assertThat(leaks).as("no client saw a Java exception").isEmpty();
            assertThat(peakRss >> 20).as("the node's peak RSS in MiB").isLessThan(NODE_RSS_BUDGET_MB);
        } finally {
            for (Socket s : stalled) s.close();
            node.stop(30);
            upstream.stop(0);
            pool.shutdownNow();
        }
    }

    /** What an attack got: its status, and for errors the code; for answers, the answer when it is short. */
    private static String describe(Attack attack, HttpResponse<String> r) {
        String body = r.body();
        if (r.statusCode() != 200) {
            int at = body.indexOf("\"code\":\"");
            return r.statusCode() + " " + (at < 0 ? "(not a structured error)" : body.substring(at + 8, body.indexOf('"', at + 8)));
        }
        if (attack.path().equals("/digest")) return "200 " + (body.equals(EXPECTED_DIGEST) ? "digest right" : "digest WRONG");
        return "200 " + (body.length() > 60 ? body.substring(0, 60) + "..." : body);
    }

    private static HttpResponse<String> get(HttpClient http, int port, String worker, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).header("Host", worker)
                .timeout(Duration.ofSeconds(120)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static long percentile(List<Long> sorted, int p) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    private static String sha256OfZeros(int bytes) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            byte[] block = new byte[1 << 20];
            for (int i = 0; i < bytes / block.length; i++) d.update(block);
            return HexFormat.of().formatHex(d.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
