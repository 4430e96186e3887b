package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.worker.Limits;
import org.junit.jupiter.api.Test;

import static dev.bulwark.sandbox.isolate.Sandboxes.*;
import static org.assertj.core.api.Assertions.assertThat;

class IsolateHostTest {

    @Test
    void servesAModuleWorker() throws Exception {
        String w = load(bundle("""
                export default {
                  async fetch(request, env, ctx) {
                    return new Response("Hello " + new URL(request.url).pathname, {headers: {"x-test": "1"}});
                  }
                };"""), Limits.DEFAULTS);
        Recorder.Outcome out = fetch(w, "http://localhost/world");
        assertThat(out.failure()).isNull();
        assertThat(out.status()).isEqualTo(200);
        assertThat(out.body()).isEqualTo("Hello /world");
        assertThat(out.header("x-test")).isEqualTo("1");
    }
}
