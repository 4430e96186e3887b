package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A response that streams faster than the node can send it waits once the node holds a window's
 * worth unacknowledged: a slow client slows the worker down instead of filling the node's memory.
 */
class ResponseBackPressureTest {
    private final BlockingQueue<Message> out = new LinkedBlockingQueue<>();
    private SandboxRuntime runtime;

    @BeforeEach
    void start() throws Exception {
        runtime = new SandboxRuntime(IsolateSettings.forHeap(Sandboxes.HEAP_MB), 1, 0, out::add);
        WorkerBundle b = WorkerBundle.of("index.js", List.of(WorkerModule.text("index.js", ModuleType.JS, """
                export default {
                  fetch() {
                    const chunk = new Uint8Array(64 << 10).fill(120);
                    return new Response(new ReadableStream({ pull(c) { c.enqueue(chunk); } }));
                  }
                };""")));
        runtime.deliver(new Message.LoadWorker(1, "w", b, "{}", new Limits(5_000, 10_000, 64, 5, 1 << 20, 1 << 16, 1 << 20)));
        assertThat(out.poll(30, TimeUnit.SECONDS)).isInstanceOf(Message.WorkerLoaded.class);
    }

    @AfterEach
    void stop() {
        runtime.close();
    }

    /** Bytes of response chunks that arrive until nothing more comes for {@code quietMs}. */
    private long drain(long quietMs) throws InterruptedException {
        long bytes = 0;
        Message m;
        while ((m = out.poll(quietMs, TimeUnit.MILLISECONDS)) != null) {
            if (m instanceof Message.ResponseChunk c) bytes += c.data().length;
        }
        return bytes;
    }

    @Test
    void anEndlessResponseStopsAtTheWindowUntilTheNodeAcknowledges() throws Exception {
        runtime.deliver(new Message.FetchStart(7, "w", "GET", "http://x/", List.of(), null));
        long first = drain(1_500);
        assertThat(first).isGreaterThan(Invocation.RESPONSE_WINDOW)
                .isLessThanOrEqualTo(Invocation.RESPONSE_WINDOW + (64 << 10));

        runtime.deliver(new Message.ResponseAck(7, first));
        long second = drain(1_500);
        assertThat(second).isGreaterThan(Invocation.RESPONSE_WINDOW / 2)
                .isLessThanOrEqualTo(Invocation.RESPONSE_WINDOW + (64 << 10));
        runtime.deliver(new Message.Cancel(7, "test over"));
    }
}
