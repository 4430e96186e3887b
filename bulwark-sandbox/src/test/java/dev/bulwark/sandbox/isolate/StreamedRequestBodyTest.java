package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A streamed request body is pulled chunk by chunk: nothing is sent that the worker did not ask for. */
class StreamedRequestBodyTest {
    private final BlockingQueue<Message> out = new LinkedBlockingQueue<>();
    private SandboxRuntime runtime;

    @BeforeEach
    void start() throws Exception {
        runtime = new SandboxRuntime(IsolateSettings.forHeap(Sandboxes.HEAP_MB), 1, 0, out::add);
        WorkerBundle b = WorkerBundle.of("index.js", List.of(WorkerModule.text("index.js", ModuleType.JS, """
                export default {
                  async fetch(request) {
                    if (new URL(request.url).pathname === "/ignore") return new Response("did not read");
                    try { return new Response("read " + await request.text()); }
                    catch (e) { return new Response(e.name + ": " + e.message, {status: 400}); }
                  }
                };""")));
        runtime.deliver(new Message.LoadWorker(1, "w", b, "{}", Limits.DEFAULTS));
        assertThat(out.poll(30, TimeUnit.SECONDS)).isInstanceOf(Message.WorkerLoaded.class);
    }

    @AfterEach
    void stop() {
        runtime.close();
    }

    /** Answers pulls with the given chunks, then the end (or an error); returns the body text. */
    private List<Message> run(String path, List<String> chunks, String error) throws Exception {
        runtime.deliver(new Message.FetchStart(5, "w", "POST", "http://x" + path, List.of(), null, true));
        List<Message> seen = new ArrayList<>();
        int next = 0;
        while (true) {
            Message m = out.poll(30, TimeUnit.SECONDS);
            assertThat(m).as("message after %s", seen).isNotNull();
            seen.add(m);
            if (m instanceof Message.RequestBodyPull) {
                if (next < chunks.size()) {
                    runtime.deliver(new Message.RequestBodyChunk(5, chunks.get(next++).getBytes(StandardCharsets.UTF_8)));
                } else {
                    runtime.deliver(new Message.RequestBodyEnd(5, error));
                }
            }
            if (m instanceof Message.InvocationDone) return seen;
        }
    }

    private static String body(List<Message> messages) {
        StringBuilder sb = new StringBuilder();
        for (Message m : messages) if (m instanceof Message.ResponseChunk c) sb.append(new String(c.data(), StandardCharsets.UTF_8));
        return sb.toString();
    }

    @Test
    void theWorkerPullsEveryChunkInOrder() throws Exception {
        List<Message> seen = run("/", List.of("ab", "cd", "ef"), null);
        assertThat(body(seen)).isEqualTo("read abcdef");
        assertThat(seen.stream().filter(m -> m instanceof Message.RequestBodyPull).count()).isEqualTo(4);
    }

    @Test
    void aBodyNobodyReadsIsNeverPulled() throws Exception {
        List<Message> seen = run("/ignore", List.of("ab"), null);
        assertThat(body(seen)).isEqualTo("did not read");
        assertThat(seen).noneMatch(m -> m instanceof Message.RequestBodyPull);
    }

    @Test
    void aBrokenBodyErrorsTheWorkersStream() throws Exception {
        List<Message> seen = run("/", List.of("ab"), "the client went away");
        assertThat(body(seen)).isEqualTo("TypeError: the client went away");
    }
}
