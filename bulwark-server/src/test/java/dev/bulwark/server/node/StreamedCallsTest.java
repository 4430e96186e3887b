package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Calls stream (DESIGN: "bodies of any size travel as chunked streams"): the response of a
 * durable object's or a dynamic worker's {@code fetch()} reaches the HTTP client chunk by chunk
 * through the worker in front, with back-pressure, without a size cap; request bodies stream to
 * the callee; a client that leaves cancels the callee's stream. The project is
 * {@code src/test/resources/streamcalls-project}: a durable object and a dynamic worker with the
 * same handlers. Object calls go through the node on the object's first event, and stay in the
 * sandbox (LocalCalls) afterwards; a dynamic worker lives in another sandbox, so its calls always
 * go through the node: the tests cover both ways.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class StreamedCallsTest {
    @TempDir
    static Path data;
    static Node node;
    static final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        node = TestProjects.serve(data, "streamcalls-project");
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static String body(String path) throws Exception {
        return TestProjects.ok(node, null, path);
    }

    /** What the streaming handler behind {@code prefix} saw on channel {@code ch}. */
    static JsonNode state(String prefix, String ch) throws Exception {
        return json.readTree(body(prefix + "/state?ch=" + ch));
    }

    /** A raw HTTP/1.1 exchange, so the test sees bytes as they arrive and can leave at any moment. */
    static final class RawClient implements AutoCloseable {
        final Socket socket;
        final InputStream in;
        final ByteArrayOutputStream seen = new ByteArrayOutputStream();

        RawClient(String path) throws IOException {
            socket = new Socket("127.0.0.1", node.port());
            socket.setSoTimeout(90_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: streams\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            in = socket.getInputStream();
        }

        /** Reads until {@code text} has arrived; fails (read timeout) if it never does. */
        String readUntil(String text) throws IOException {
            byte[] buf = new byte[8192];
            while (!seen.toString(StandardCharsets.ISO_8859_1).contains(text)) {
                int n = in.read(buf);
                if (n < 0) throw new IOException("the response ended before '" + text + "': " + seen);
                seen.write(buf, 0, n);
            }
            return seen.toString(StandardCharsets.ISO_8859_1);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /**
     * The client gets the first event while the callee has not written the last one (it waits
     * for the test's release): were the response carried whole, the first read would wait for
     * ever (the read times out and the test fails).
     */
    private void firstEventArrivesBeforeTheLastIsWritten(String prefix, String ch) throws Exception {
        try (RawClient client = new RawClient(prefix + "/sse?ch=" + ch)) {
            String head = client.readUntil("data: first");
            assertThat(head).startsWith("HTTP/1.1 200").containsIgnoringCase("content-type: text/event-stream");
            assertThat(head).doesNotContain("data: last");
            assertThat(body(prefix + "/release?ch=" + ch)).isEqualTo("released");
            assertThat(client.readUntil("data: last")).contains("data: first");
        }
    }

    /**
     * The response head reaches the client when the handler returns its Response, before any of
     * a streamed body exists (as in Workers: an SSE client sees the stream open): were the head
     * held for the first chunk, the first read would wait for ever.
     */
    private void headArrivesBeforeAnyOfTheBody(String prefix, String ch) throws Exception {
        try (RawClient client = new RawClient(prefix + "/sse-quiet?ch=" + ch)) {
            String head = client.readUntil("\r\n\r\n");
            assertThat(head).startsWith("HTTP/1.1 200").containsIgnoringCase("content-type: text/event-stream")
                    .doesNotContain("data:");
            assertThat(body(prefix + "/release?ch=" + ch)).isEqualTo("released");
            client.readUntil("data: last");
        }
    }

    @Test
    void theHeadOfAStreamThatHasWrittenNothingYetReachesTheClient() throws Exception {
        headArrivesBeforeAnyOfTheBody("/do/quiet-relayed", "q");
        assertThat(body("/do/quiet-local/warm")).isEqualTo("ok /warm");
        headArrivesBeforeAnyOfTheBody("/do/quiet-local", "q");
        headArrivesBeforeAnyOfTheBody("/dyn", "quiet");
    }

    @Test
    void serverSentEventsOfAnObjectReachTheClientOneByOneThroughTheNode() throws Exception {
        // The object's first event: it is placed by the node, and the call is relayed by the node.
        firstEventArrivesBeforeTheLastIsWritten("/do/sse-relayed", "a");
    }

    @Test
    void serverSentEventsOfAnObjectPlacedInTheCallersSandboxStreamToo() throws Exception {
        assertThat(body("/do/sse-local/warm")).isEqualTo("ok /warm"); // placed: later calls stay in the sandbox
        firstEventArrivesBeforeTheLastIsWritten("/do/sse-local", "a");
    }

    @Test
    void aWorkerThatReadsTheBodyItselfGetsTheEventsAsTheyCome() throws Exception {
        assertThat(body("/do/sse-read/warm")).isEqualTo("ok /warm");
        try (RawClient client = new RawClient("/read/do/sse-read/sse?ch=a")) {
            assertThat(client.readUntil("DATA: FIRST")).doesNotContain("DATA: LAST");
            body("/do/sse-read/release?ch=a");
            client.readUntil("DATA: LAST");
        }
    }

    /**
     * Many calls at once (the 50 subrequests a request may make), each carrying a 60 KiB body, each
     * relayed by the node to a sandbox of the same tenant (new objects: their first events; the
     * dynamic worker: always). The node starts them on the caller's reader thread: when it waited
     * there on the callee's full socket (here the caller's own sandbox) while that sandbox's
     * thread waited on the node to read what it was writing, neither moved again and the tenant's
     * sandbox was wedged for good.
     */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void manyCallsWithBodiesAtOnceNeverStallTheNodesReaders() throws Exception {
        assertThat(body("/fanout?n=50&kib=60&run=" + System.nanoTime())).isEqualTo("50 of 50");
        assertThat(body("/fanout?n=50&kib=60&dyn")).isEqualTo("50 of 50");
    }

    @Test
    void serverSentEventsOfADynamicWorkerStream() throws Exception {
        firstEventArrivesBeforeTheLastIsWritten("/dyn", "sse");
    }

    /** Byte {@code i} of the test pattern (as the project's index.js makes it). */
    static byte pattern(long i) {
        long x = (i & 0xffff) + (((i >>> 16) * 13) & 0xffff);
        return (byte) ((x * 7 + (x >>> 8)) & 0xff);
    }

    /** Reads a pattern body of {@code mb} MiB and checks every byte. */
    private static void readsPattern(String path, long mb) throws Exception {
        HttpResponse<InputStream> r = TestProjects.HTTP.send(TestProjects.request(node, path)
                .timeout(Duration.ofSeconds(240)).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        long offset = 0;
        long mismatches = 0;
        try (InputStream in = r.body()) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                for (int k = 0; k < n; k++) if (buf[k] != pattern(offset + k)) mismatches++;
                offset += n;
            }
        }
        assertThat(offset).isEqualTo(mb << 20);
        assertThat(mismatches).isZero();
    }

    @Test
    void a100MiBResponseOfAnObjectPassesThroughWhole() throws Exception {
        // Over the old 32 MiB cap of a call's response, through the node's relay (first event).
        readsPattern("/do/big-relayed/big?mb=100", 100);
        // And in the caller's sandbox.
        readsPattern("/do/big-relayed/big?mb=100", 100);
    }

    @Test
    void a100MiBResponseOfADynamicWorkerPassesThroughWhole() throws Exception {
        readsPattern("/dyn/big?mb=100", 100);
    }

    /** A pattern request body of {@code mb} MiB, made as it is sent. */
    private static HttpRequest.BodyPublisher patternBody(long mb) {
        return HttpRequest.BodyPublishers.ofInputStream(() -> new InputStream() {
            long i;
            final long total = mb << 20;

            @Override
            public int read() {
                if (i >= total) return -1;
                return pattern(i++) & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (i >= total) return -1;
                int n = (int) Math.min(len, total - i);
                for (int k = 0; k < n; k++, i++) b[off + k] = pattern(i);
                return n;
            }
        });
    }

    private static void uploads(String path, long mb) throws Exception {
        HttpResponse<String> r = TestProjects.HTTP.send(TestProjects.request(node, path).timeout(Duration.ofSeconds(240))
                .POST(patternBody(mb)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode result = json.readTree(r.body());
        assertThat(result.get("length").asLong()).isEqualTo(mb << 20);
        java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[1 << 16];
        for (long i = 0; i < (mb << 20); i += buf.length) {
            for (int k = 0; k < buf.length; k++) buf[k] = pattern(i + k);
            sha.update(buf);
        }
        assertThat(result.get("sha256").asText()).isEqualTo(java.util.HexFormat.of().formatHex(sha.digest()));
        // It came in pieces, as it was sent: never whole.
        assertThat(result.get("pieces").asLong()).isGreaterThan(mb);
    }

    @Test
    void aLargeUploadForwardedToAnObjectStreamsToIt() throws Exception {
        // Over the old 8 MiB cap of a call's body: through the node (first event), then in the sandbox.
        uploads("/do/up/upload", 12);
        uploads("/do/up/upload", 12);
    }

    @Test
    void aLargeUploadForwardedToADynamicWorkerStreamsToIt() throws Exception {
        uploads("/dyn/upload", 12);
    }

    @Test
    void aClientThatLeavesCancelsTheObjectsStream() throws Exception {
        for (String prefix : new String[] {"/do/cancel-relayed", "/dyn"}) {
            // Every loop: a fresh object (first event relayed by the node), and the dynamic worker.
            try (RawClient client = new RawClient(prefix + "/sse-heartbeat?ch=cancel")) {
                client.readUntil("data: first");
            }
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                    assertThat(state(prefix, "cancel").get("canceled").asText()).as(prefix).isEqualTo("AbortError"));
        }
        assertThat(body("/do/cancel-local/warm")).isEqualTo("ok /warm");
        try (RawClient client = new RawClient("/do/cancel-local/sse-heartbeat?ch=cancel")) {
            client.readUntil("data: first");
        }
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(state("/do/cancel-local", "cancel").get("canceled").asText()).isEqualTo("AbortError"));
    }

    // (The node notices a client gone at its next write to it: Jetty does not report an idle
    // HTTP/1.1 connection the client closed. The stream here sends SSE heartbeats, as SSE servers do.)

    /**
     * Hostile: an object that would produce for ever, to a client that reads 1 MiB and then stops
     * reading. The object is pulled only as far as the windows on the way allow (the object's and
     * the caller's 1 MiB response windows, the front door's, the sockets' buffers): it stops, and
     * so nothing grows in the node. Without back-pressure it would run on to its limits.
     */
    @Test
    void anObjectThatProducesForeverIsHeldBackByASlowClient() throws Exception {
        for (String prefix : new String[] {"/do/forever", "/dyn"}) {
            try (RawClient client = new RawClient(prefix + "/forever?ch=forever")) {
                byte[] buf = new byte[8192];
                long read = 0;
                while (read < (1 << 20)) {
                    int n = client.in.read(buf);
                    assertThat(n).isPositive();
                    read += n;
                }
                // The producer comes to a halt: its pull count stops moving while the client does not read.
                long[] last = {-1};
                await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() -> {
                    long now = state(prefix, "forever").get("pulls").asLong();
                    boolean still = now == last[0];
                    last[0] = now;
                    return still;
                });
                long produced = state(prefix, "forever").get("foreverBytes").asLong();
                // Ahead of the client by the windows and socket buffers on the way, never more (64 MiB is generous).
                assertThat(produced).as(prefix).isLessThan(read + (64L << 20));
            }
        }
    }

    /** Workers' limit of a dynamic worker's code is 64 MiB: exactly that loads, one byte more is refused clearly. */
    @Test
    void aBundleOfExactly64MiBLoadsAndOneByteMoreIsRefused() throws Exception {
        long limit = 64L << 20;
        assertThat(body("/bundle?bytes=" + limit)).isEqualTo("loaded " + limit);
        HttpResponse<String> over = TestProjects.HTTP.send(TestProjects.request(node, "/bundle?bytes=" + (limit + 1)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(over.statusCode()).isEqualTo(400);
        // workerd's words (its worker-loader-limits-test).
        assertThat(over.body()).isEqualTo("Error: Dynamic Worker code size (" + (limit + 1)
                + " bytes) exceeds the maximum allowed size of 67108864 bytes.");
    }
}
