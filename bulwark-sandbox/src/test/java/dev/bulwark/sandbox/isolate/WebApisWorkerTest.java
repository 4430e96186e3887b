package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Limits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;

import static dev.bulwark.sandbox.isolate.Sandboxes.*;
import static org.assertj.core.api.Assertions.assertThat;

/** CompressionStream / DecompressionStream as workers use them, and as attackers use them. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WebApisWorkerTest {
    /** What Hono's compress() middleware does to a response (hono/src/middleware/compress). */
    static final String HONO_COMPRESS = """
            const ENCODINGS = ['gzip', 'deflate'];
            async function compress(request, res) {
              const accepted = request.headers.get('Accept-Encoding');
              const encoding = ENCODINGS.find((e) => accepted?.includes(e));
              if (!encoding || !res.body || res.headers.has('Content-Encoding') || request.method === 'HEAD') return res;
              const stream = new CompressionStream(encoding);
              res = new Response(res.body.pipeThrough(stream), res);
              res.headers.delete('Content-Length');
              res.headers.set('Content-Encoding', encoding);
              return res;
            }
            const body = JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ id: i, name: 'item ' + i })));
            export default {
              async fetch(request) {
                return compress(request, new Response(body, { headers: { 'Content-Type': 'application/json' } }));
              }
            };
            """;

    static byte[] bodyBytes(long invocationId) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Message m : RECORDER.events(invocationId)) {
            if (m instanceof Message.ResponseChunk c) out.writeBytes(c.data());
        }
        return out.toByteArray();
    }

    static String expectedHonoBody() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < 2000; i++) sb.append(i == 0 ? "" : ",").append("{\"id\":").append(i).append(",\"name\":\"item ").append(i).append("\"}");
        return sb.append(']').toString();
    }

    @Test
    void honoCompressMiddlewareGzipsAndDeflatesResponses() throws Exception {
        String w = load(bundle(HONO_COMPRESS), Limits.DEFAULTS);
        String expected = expectedHonoBody();
        for (String encoding : List.of("gzip", "deflate")) {
            long id = start(w, "GET", "http://hono.test/", List.of(new Message.Header("Accept-Encoding", encoding + ", br")), null);
            Recorder.Outcome out = RECORDER.await(id);
            assertThat(out.failure()).isNull();
            assertThat(out.status()).isEqualTo(200);
            assertThat(out.header("Content-Encoding")).isEqualTo(encoding);
            assertThat(out.header("Content-Length")).isNull();
            assertThat(out.header("Content-Type")).isEqualTo("application/json");
            byte[] compressed = bodyBytes(id);
            assertThat(compressed.length).isLessThan(expected.length() / 4);
            try (InputStream in = encoding.equals("gzip") ? new GZIPInputStream(new ByteArrayInputStream(compressed))
                    : new InflaterInputStream(new ByteArrayInputStream(compressed))) {
                assertThat(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo(expected);
            }
        }
        Recorder.Outcome plain = fetch(w, "http://hono.test/");
        assertThat(plain.header("Content-Encoding")).isNull();
        assertThat(plain.body()).isEqualTo(expected);
    }

    /** {@code mib} MiB of zeros as a gzip member, about a thousandth of the size. */
    static byte[] gzipBomb(int mib) {
        Deflater d = new Deflater(9, true);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 2, 3});
        byte[] zeros = new byte[1 << 20], buf = new byte[1 << 16];
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        for (int i = 0; i < mib; i++) {
            crc.update(zeros);
            d.setInput(zeros);
            while (!d.needsInput()) out.write(buf, 0, d.deflate(buf));
        }
        d.finish();
        while (!d.finished()) out.write(buf, 0, d.deflate(buf));
        d.end();
        long c = crc.getValue(), n = (long) mib << 20;
        for (int i = 0; i < 4; i++) out.write((int) (c >>> (8 * i)));
        for (int i = 0; i < 4; i++) out.write((int) (n >>> (8 * i)));
        return out.toByteArray();
    }

    static final String BOMB_WORKER = """
            let served = 0;
            export default {
              async fetch(request) {
                const path = new URL(request.url).pathname;
                if (path === '/ok') return new Response('ok ' + (++served));
                const inflated = request.body.pipeThrough(new DecompressionStream('gzip'));
                if (path === '/count') {
                  let total = 0, largest = 0;
                  for await (const piece of inflated) { total += piece.length; largest = Math.max(largest, piece.length); }
                  return new Response(total + ' ' + largest);
                }
                return new Response((await new Response(inflated).arrayBuffer()).byteLength);
              }
            };
            """;

    /** A reader that streams a bomb uses 64 KiB at a time, however much it expands to. */
    @Test
    void aStreamingReaderSurvivesAZipBomb() throws Exception {
        String w = load(bundle(BOMB_WORKER), limits(10_000, 30_000));
        byte[] bomb = gzipBomb(128);
        assertThat(bomb.length).isLessThan(256 << 10);
        Recorder.Outcome out = RECORDER.await(start(w, "POST", "http://bomb.test/count", bomb));
        assertThat(out.failure()).isNull();
        assertThat(out.body()).isEqualTo((128L << 20) + " 65536");
    }

    /** Collecting a 256 MiB bomb in memory ends at the memory limit, and the sandbox goes on. */
    @Test
    void collectingAZipBombHitsTheMemoryLimit() throws Exception {
        String w = load(bundle(BOMB_WORKER), limits(30_000, 60_000));
        Recorder.Outcome out = RECORDER.awaitWithin(start(w, "POST", "http://bomb.test/collect", gzipBomb(256)), 60, TimeUnit.SECONDS);
        assertThat(out.failure()).isNotNull();
        assertThat(out.failure().code()).as("%s", out).isEqualTo(ErrorCode.MEMORY_LIMIT_EXCEEDED.code());
        assertThat(fetch(w, "http://bomb.test/ok").body()).isEqualTo("ok 1");
    }

    /** Each stream holds native zlib memory: an isolate may have 128 open, and an invocation's are freed when it ends. */
    @Test
    void openCompressionStreamsAreCappedAndFreedWithTheirInvocation() throws Exception {
        String w = load(bundle("""
                export default {
                  async fetch() {
                    const open = [];
                    try {
                      for (let i = 0; i < 200; i++) {
                        const cs = new CompressionStream('gzip');
                        const writer = cs.writable.getWriter();
                        writer.write(new Uint8Array([1, 2, 3]));
                        await cs.readable.getReader().read(); // the gzip header: the stream is open in the host
                        open.push(writer);
                      }
                      return new Response('all 200 open');
                    } catch (e) {
                      return new Response(open.length + ' ' + e.name + ': ' + e.message);
                    }
                  }
                };
                """), Limits.DEFAULTS);
        String expected = "128 TypeError: Too many compression streams are open (at most 128).";
        assertThat(fetch(w, "http://cap.test/").body()).isEqualTo(expected);
        // The first invocation never closed its streams; they were freed when it ended.
        assertThat(fetch(w, "http://cap.test/").body()).isEqualTo(expected);
    }

    /**
     * An endless start tag makes lol-html buffer it in Wasm memory until the Wasm page cap: the
     * response fails (an error the worker can catch), and the next document in the same isolate
     * gets a fresh instance.
     */
    @Test
    void anEndlessTagExhaustsOnlyTheRewritersWasmMemory() throws Exception {
        String w = load(bundle("""
                export default {
                  async fetch(request) {
                    const ok = () => new HTMLRewriter().on('p', { element(e) { e.setAttribute('x', '1'); } })
                      .transform(new Response('<p>fine</p>')).text();
                    if (new URL(request.url).pathname === '/ok') return new Response(await ok());
                    const piece = new TextEncoder().encode('x'.repeat(1 << 20));
                    let sent = 0;
                    const endless = new ReadableStream({
                      pull(c) {
                        if (sent === 0) c.enqueue(new TextEncoder().encode('<div a="'));
                        if (sent++ < 200) c.enqueue(piece); else c.close();
                      },
                    });
                    try {
                      await new HTMLRewriter().on('div', { element() {} }).transform(new Response(endless)).text();
                      return new Response('no error after ' + sent + ' MiB');
                    } catch (e) {
                      return new Response(e.name + ' then ' + await ok());
                    }
                  }
                };
                """), limits(20_000, 60_000));
        Recorder.Outcome out = RECORDER.awaitWithin(start(w, "GET", "http://rewriter.test/bomb", null), 60, TimeUnit.SECONDS);
        assertThat(out.failure()).as("%s", out).isNull();
        assertThat(out.body()).isEqualTo("RuntimeError then <p x=\"1\">fine</p>");
        assertThat(fetch(w, "http://rewriter.test/ok").body()).isEqualTo("<p x=\"1\">fine</p>");
    }
}
