package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.worker.Limits;
import org.junit.jupiter.api.Test;

import static dev.bulwark.sandbox.isolate.Sandboxes.*;
import static org.assertj.core.api.Assertions.assertThat;

class IsolateHostTest {

    @Test
    void servesAModuleWorker() throws Exception {
        long t0 = System.nanoTime();
        Sandboxes.nextId();
        System.err.println("runtime up " + (System.nanoTime() - t0) / 1e6);
        String w = load(bundle("""
                export default {
                  async fetch(request, env, ctx) {
                    return new Response("Hello " + new URL(request.url).pathname, {headers: {"x-test": "1"}});
                  }
                };"""), Limits.DEFAULTS);
        System.err.println("loaded " + (System.nanoTime() - t0) / 1e6);
        Recorder.Outcome out = fetch(w, "http://localhost/world");
        System.err.println("fetched " + (System.nanoTime() - t0) / 1e6 + " " + out);
        assertThat(out.failure()).isNull();
        assertThat(out.status()).isEqualTo(200);
        assertThat(out.body()).isEqualTo("Hello /world");
        assertThat(out.header("x-test")).isEqualTo("1");
    }
}
