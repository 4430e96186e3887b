package dev.bulwark.server.node;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The node's memory budget under hostile load, proved against a real node in its own JVM with a
 * small heap ({@value #NODE_HEAP_MB} MiB, and {@code -XX:+ExitOnOutOfMemoryError}, so an
 * OutOfMemoryError anywhere in the node ends it and fails this test). All at once: workers draining
 * large upstream bodies, workers holding 1 GiB upstream bodies they never read, workers offering 1 GiB
 * request bodies to an upstream that never reads them (one tenant), clients
 * that never read a 64 MiB single-enqueue response or a 100 MiB one-chunk body (another tenant). Before the gateway streamed and
 * the prelude split chunks, any one of these took the node past a gigabyte. A bystander tenant is
 * asked every 200 ms throughout and must answer every time. Loopback only; bounded in count and time.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class NodeMemoryBudgetTest {
    static final int NODE_HEAP_MB = 96;

    @TempDir
    Path dir;

    @Test
    void aSmallHeapNodeSurvivesTheMemoryAttacksAndTheBystanderKeepsAnswering() throws Exception {
        HttpServer upstream = upstream();
        NodeProcess node = startNode(upstream.getAddress().getPort());
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        List<Socket> stalled = new ArrayList<>();
        try {
            int port = Integer.parseInt(node.readyLine().substring(5).trim());
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(pool).build();
            assertThat(get(http, port, "bystander", "/").body()).isEqualTo("still here");

            List<CompletableFuture<Object>> drains = new ArrayList<>(), holds = new ArrayList<>();
            for (int i = 0; i < 4; i++) drains.add(async(pool, () -> get(http, port, "fetcher", "/drain?mb=128")));
            for (int i = 0; i < 8; i++) holds.add(async(pool, () -> get(http, port, "fetcher", "/hold")));
            List<CompletableFuture<Object>> uploads = new ArrayList<>();
            for (int i = 0; i < 4; i++) uploads.add(async(pool, () -> get(http, port, "fetcher", "/upload-stuck")));
            List<CompletableFuture<Object>> attacks = new ArrayList<>(drains);
            attacks.addAll(holds);
            attacks.addAll(uploads);
            for (int i = 0; i < 12; i++) stalled.add(stalledClient(port, "/enqueue64"));
            for (int i = 0; i < 2; i++) stalled.add(stalledClient(port, "/body100"));

            long peakRss = 0;
            int probes = 0;
            // At least 10 s, and until every attack has been answered (the stalled clients stay for all of it).
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < until || !CompletableFuture.allOf(attacks.toArray(CompletableFuture[]::new)).isDone()) {
                HttpResponse<String> r = get(http, port, "bystander", "/");
                assertThat(r.statusCode()).as("bystander probe " + probes).isEqualTo(200);
                assertThat(r.body()).isEqualTo("still here");
                probes++;
                peakRss = Math.max(peakRss, node.rss());
                assertThat(node.isAlive()).isTrue();
                Thread.sleep(200);
            }
            // The attacks themselves were served: every byte of the drained bodies reached its worker.
            for (CompletableFuture<Object> d : drains) {
                assertThat(((HttpResponse<?>) d.get(60, TimeUnit.SECONDS)).body()).isEqualTo(Long.toString(128L << 20));
            }
            for (CompletableFuture<Object> u : uploads) {
                assertThat(((HttpResponse<?>) u.get(60, TimeUnit.SECONDS)).body()).isEqualTo("stuck");
            }
            for (CompletableFuture<Object> h : holds) {
                assertThat(((HttpResponse<?>) h.get(60, TimeUnit.SECONDS)).body()).isEqualTo("held 200");
            }
            assertThat(node.isAlive()).as("the node did not die of an OutOfMemoryError").isTrue();
            assertThat(get(http, port, "bystander", "/").body()).isEqualTo("still here");
            System.out.printf("node memory budget: heap %d MiB, peak RSS %d MiB over %d bystander probes%n",
                    NODE_HEAP_MB, peakRss >> 20, probes);
        } finally {
            for (Socket s : stalled) s.close();
            node.stop(20);
            upstream.stop(0);
            pool.shutdownNow();
        }
    }

    static CompletableFuture<Object> async(ExecutorService pool, java.util.concurrent.Callable<Object> c) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return c.call();
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, pool);
    }

    private static HttpResponse<String> get(HttpClient http, int port, String worker, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).header("Host", worker)
                .timeout(Duration.ofSeconds(120)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A client that sends its request and never reads a byte of the answer. */
    static Socket stalledClient(int port, String path) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setReceiveBufferSize(4096);
        s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: responder\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        return s;
    }

    /** A local upstream: {@code /big?mb=N} writes N MiB; {@code /stuck} never reads the request body. */
    static HttpServer upstream() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        AtomicLong written = new AtomicLong();
        server.createContext("/stuck", ex -> {
            try {
                Thread.sleep(15_000); // never reads the request body
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ex.close();
        });
        server.createContext("/big", ex -> {
            long mb = Long.parseLong(ex.getRequestURI().getQuery().substring(3));
            ex.sendResponseHeaders(200, 0);
            byte[] block = new byte[64 << 10];
            try (OutputStream out = ex.getResponseBody()) {
                for (long i = 0; i < mb * 16; i++) {
                    out.write(block);
                    written.addAndGet(block.length);
                }
            } catch (IOException gone) {
                // the gateway closed the upstream
            }
        });
        server.start();
        return server;
    }

    private NodeProcess startNode(int upstreamPort) throws Exception {
        return NodeProcess.start(List.of("-Xmx" + NODE_HEAP_MB + "m", "-XX:+ExitOnOutOfMemoryError"),
                BudgetNodeMain.class.getName(), List.of(Files.createDirectories(dir.resolve("data")).toString(),
                        Integer.toString(upstreamPort)), line -> line.startsWith("PORT "), line -> {
                    if (line.contains("OutOfMemoryError") || line.contains("ERROR")) System.out.println("node: " + line);
                });
    }
}
