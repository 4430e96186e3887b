package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A subrequest's upstream body reaches the worker as a stream: chunk by chunk, acknowledged as the
 * worker reads (never more than it read), canceled when the worker cancels or its request ends.
 * And the other direction: one enqueue of 16 MiB (in-process; the node test uses 64 MiB) crosses to the node in 64 KiB pieces, no more
 * than the response window ahead of the node's acknowledgements.
 */
class StreamedSubrequestTest {
    private final BlockingQueue<Message> out = new LinkedBlockingQueue<>();
    private SandboxRuntime runtime;

    @BeforeEach
    void start() throws Exception {
        runtime = new SandboxRuntime(IsolateSettings.forHeap(Sandboxes.HEAP_MB), 1, 0, out::add);
        WorkerBundle b = WorkerBundle.of("index.js", List.of(WorkerModule.text("index.js", ModuleType.JS, """
                export default {
                  async fetch(request) {
                    const path = new URL(request.url).pathname;
                    if (path === "/huge") return new Response(new Uint8Array(16 << 20).fill(7));
                    if (path === "/upload") {
                      const body = new ReadableStream({ start(c) {
                        c.enqueue(new TextEncoder().encode("ab")); c.enqueue(new Uint8Array(100000)); c.close(); } });
                      const r = await fetch("https://up.test/", {method: "POST", body});
                      return new Response(await r.text());
                    }
                    const r = await fetch("https://up.test/");
                    if (path === "/text") return new Response(r.status + ":" + await r.text());
                    if (path === "/cancel") {
                      const rd = r.body.getReader();
                      const first = await rd.read();
                      await rd.cancel();
                      return new Response("first " + first.value.byteLength);
                    }
                    if (path === "/ignore") return new Response("ignored");
                    if (path === "/broken") {
                      try { await r.text(); return new Response("whole?"); }
                      catch (e) { return new Response(e.name + ": " + e.message); }
                    }
                    return new Response("?");
                  }
                };""")));
        runtime.deliver(new Message.LoadWorker(1, "w", b, "{}", new Limits(5_000, 10_000, 64, 5, 1 << 20, 1 << 16, 1 << 20)));
        assertThat(out.poll(30, TimeUnit.SECONDS)).isInstanceOf(Message.WorkerLoaded.class);
    }

    @AfterEach
    void stop() {
        runtime.close();
    }

    private <T extends Message> T next(Class<T> type, List<Message> seen) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            Message m = out.poll(100, TimeUnit.MILLISECONDS);
            if (m == null) continue;
            seen.add(m);
            if (type.isInstance(m)) return type.cast(m);
        }
        throw new AssertionError("no " + type.getSimpleName() + " in " + seen);
    }

    private String body(List<Message> seen, long invocation) throws InterruptedException {
        StringBuilder sb = new StringBuilder();
        for (Message m : seen) {
            if (m instanceof Message.ResponseChunk c && c.invocationId() == invocation) sb.append(new String(c.data()));
        }
        while (true) {
            Message m = out.poll(30, TimeUnit.SECONDS);
            assertThat(m).as("the invocation's end").isNotNull();
            seen.add(m);
            if (m instanceof Message.ResponseChunk c && c.invocationId() == invocation) sb.append(new String(c.data()));
            if (m instanceof Message.InvocationDone d && d.invocationId() == invocation) return sb.toString();
        }
    }

    @Test
    void aStreamedBodyArrivesInOrderAndIsAcknowledgedAsItIsRead() throws Exception {
        List<Message> seen = new ArrayList<>();
        runtime.deliver(new Message.FetchStart(11, "w", "GET", "http://x/text", List.of(), null));
        Message.Subrequest s = next(Message.Subrequest.class, seen);
        runtime.deliver(new Message.SubrequestHead(s.subrequestId(), 200, "OK", List.of(), "https://up.test/", true));
        runtime.deliver(new Message.SubrequestChunk(s.subrequestId(), "hello ".getBytes()));
        runtime.deliver(new Message.SubrequestChunk(s.subrequestId(), "world".getBytes()));
        // Each chunk the worker reads is acknowledged, for exactly its size.
        assertThat(next(Message.SubrequestAck.class, seen)).isEqualTo(new Message.SubrequestAck(s.subrequestId(), 6));
        assertThat(next(Message.SubrequestAck.class, seen)).isEqualTo(new Message.SubrequestAck(s.subrequestId(), 5));
        runtime.deliver(new Message.SubrequestEnd(s.subrequestId(), null));
        assertThat(body(seen, 11)).isEqualTo("200:hello world");
    }

    @Test
    void aBodyTheWorkerCancelsIsCanceledAtTheNode() throws Exception {
        List<Message> seen = new ArrayList<>();
        runtime.deliver(new Message.FetchStart(12, "w", "GET", "http://x/cancel", List.of(), null));
        Message.Subrequest s = next(Message.Subrequest.class, seen);
        runtime.deliver(new Message.SubrequestHead(s.subrequestId(), 200, "OK", List.of(), "https://up.test/", true));
        runtime.deliver(new Message.SubrequestChunk(s.subrequestId(), new byte[1000]));
        Message.SubrequestCancel c = next(Message.SubrequestCancel.class, seen);
        assertThat(c.subrequestId()).isEqualTo(s.subrequestId());
        assertThat(body(seen, 12)).isEqualTo("first 1000");
    }

    @Test
    void aBodyLeftUnreadIsCanceledWhenTheRequestEnds() throws Exception {
        List<Message> seen = new ArrayList<>();
        runtime.deliver(new Message.FetchStart(13, "w", "GET", "http://x/ignore", List.of(), null));
        Message.Subrequest s = next(Message.Subrequest.class, seen);
        runtime.deliver(new Message.SubrequestHead(s.subrequestId(), 200, "OK", List.of(), "https://up.test/", true));
        assertThat(body(seen, 13)).isEqualTo("ignored");
        Message.SubrequestCancel c = next(Message.SubrequestCancel.class, seen);
        assertThat(c.subrequestId()).isEqualTo(s.subrequestId());
    }

    @Test
    void aBrokenUpstreamBodyErrorsTheWorkersStream() throws Exception {
        List<Message> seen = new ArrayList<>();
        runtime.deliver(new Message.FetchStart(14, "w", "GET", "http://x/broken", List.of(), null));
        Message.Subrequest s = next(Message.Subrequest.class, seen);
        runtime.deliver(new Message.SubrequestHead(s.subrequestId(), 200, "OK", List.of(), "https://up.test/", true));
        runtime.deliver(new Message.SubrequestChunk(s.subrequestId(), new byte[10]));
        runtime.deliver(new Message.SubrequestEnd(s.subrequestId(), "The response body is larger than allowed"));
        assertThat(body(seen, 14)).isEqualTo("TypeError: The response body is larger than allowed");
    }

    @Test
    void aStreamedRequestBodyIsSentOnePieceAtATimeAsTheNodePulls() throws Exception {
        List<Message> seen = new ArrayList<>();
        runtime.deliver(new Message.FetchStart(16, "w", "GET", "http://x/upload", List.of(), null));
        Message.StreamedSubrequest s = next(Message.StreamedSubrequest.class, seen);
        assertThat(s.method()).isEqualTo("POST");
        List<Integer> sizes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            runtime.deliver(new Message.SubrequestBodyPull(s.subrequestId()));
            sizes.add(next(Message.SubrequestBodyChunk.class, seen).data().length);
        }
        assertThat(sizes).containsExactly(2, Message.STREAM_CHUNK, 100_000 - Message.STREAM_CHUNK);
        // Nothing is sent that was not pulled.
        assertThat(out.poll(300, TimeUnit.MILLISECONDS)).isNull();
        runtime.deliver(new Message.SubrequestBodyPull(s.subrequestId()));
        assertThat(next(Message.SubrequestBodyEnd.class, seen)).isEqualTo(new Message.SubrequestBodyEnd(s.subrequestId(), null));
        runtime.deliver(new Message.SubrequestHead(s.subrequestId(), 200, "OK", List.of(), "https://up.test/", true));
        runtime.deliver(new Message.SubrequestChunk(s.subrequestId(), "stored".getBytes()));
        runtime.deliver(new Message.SubrequestEnd(s.subrequestId(), null));
        assertThat(body(seen, 16)).isEqualTo("stored");
    }

    @Test
    void oneHugeEnqueueCrossesInPiecesAndStopsAtTheWindow() throws Exception {
        runtime.deliver(new Message.FetchStart(15, "w", "GET", "http://x/huge", List.of(), null));
        long bytes = 0;
        int largest = 0;
        Message m;
        List<Message> other = new ArrayList<>();
        while ((m = out.poll(3_000, TimeUnit.MILLISECONDS)) != null) {
            if (!(m instanceof Message.ResponseChunk)) other.add(m);
            if (m instanceof Message.ResponseChunk c) {
                bytes += c.data().length;
                largest = Math.max(largest, c.data().length);
            }
        }
        assertThat(other).as("besides the chunks").hasSize(1).first().isInstanceOf(Message.ResponseHead.class);
        assertThat(largest).isEqualTo(Message.STREAM_CHUNK);
        assertThat(bytes).isGreaterThan(Invocation.RESPONSE_WINDOW).isLessThanOrEqualTo(Invocation.RESPONSE_WINDOW + Message.STREAM_CHUNK);
        runtime.deliver(new Message.Cancel(15, "test over"));
    }
}
