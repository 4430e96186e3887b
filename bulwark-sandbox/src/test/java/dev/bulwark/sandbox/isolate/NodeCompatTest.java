package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Compatibility;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.WorkerBundle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.bulwark.sandbox.isolate.Sandboxes.*;
import static org.assertj.core.api.Assertions.assertThat;

/** nodejs_compat: the node:* modules real workers import, with exact outputs. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NodeCompatTest {
    static final Compatibility COMPAT = new Compatibility("2025-09-20", List.of("nodejs_compat"));

    static String loadCompat(String main, Compatibility c) throws Exception {
        return load(bundle(main).withCompatibility(c), "{\"API_KEY\":\"k-123\",\"LIMIT\":5,\"CFG\":{\"a\":[1]}}", Limits.DEFAULTS);
    }

    static String body(String worker) throws Exception {
        Recorder.Outcome out = fetch(worker, "http://n.test/");
        assertThat(out.failure()).as("outcome %s", out).isNull();
        return out.body();
    }

    @Test
    void smoke() throws Exception {
        String w = loadCompat("""
                import { Buffer } from 'node:buffer';
                import { AsyncLocalStorage } from 'node:async_hooks';
                const als = new AsyncLocalStorage();
                export default {
                  async fetch() {
                    return als.run('store-1', async () => {
                      await null;
                      await new Promise((r) => setTimeout(r, 1));
                      return new Response(Buffer.from('hi').toString('hex') + ' ' + als.getStore());
                    });
                  }
                };""", COMPAT);
        assertThat(body(w)).isEqualTo("6869 store-1");
    }
}
