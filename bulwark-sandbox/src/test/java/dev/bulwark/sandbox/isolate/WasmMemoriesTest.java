package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.worker.Limits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static dev.bulwark.sandbox.isolate.Sandboxes.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The account of WebAssembly memories (prelude wasm-memories.js): an isolate holds at most 128 at
 * once, counted where they are made, by {@code new WebAssembly.Memory} and by instances of modules
 * that define their own. Each memory reserves its largest size of address space and two memory
 * mappings of the process: ~32,500 live ones end the whole sandbox process (V8's fatal
 * out-of-memory), so a worker that keeps them across requests is refused before that, with a
 * RangeError, and one that drops them is never refused.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WasmMemoriesTest {
    static final Limits ROOMY = limits(10_000, 30_000);

    /** {@code (module (memory 1))}: a module that defines one memory of one page and exports nothing. */
    static final String ONE_MEMORY_MODULE = "new Uint8Array([0,97,115,109,1,0,0,0,5,3,1,0,1])";

    static String worker(String body) throws Exception {
        return load(bundle("""
                globalThis.kept = [];
                const bytes = %s;
                export default {
                  async fetch(request) {
                    const q = new URL(request.url).searchParams;
                    const n = Number(q.get('n') ?? 1);
                    %s
                  }
                };""".formatted(ONE_MEMORY_MODULE, body)), ROOMY);
    }

    @Test
    void memoriesKeptAcrossRequestsAreRefusedPastTheBoundAndTheIsolateGoesOnServing() throws Exception {
        String w = worker("""
                if (q.has('drop')) { kept.length = 0; return new Response('dropped'); }
                try { for (let i = 0; i < n; i++) kept.push(new WebAssembly.Memory({initial: 1})); }
                catch (e) { return new Response(e.name + ': ' + e.message + ' | kept ' + kept.length); }
                return new Response('kept ' + kept.length);""");
        assertThat(fetch(w, "http://w.test/?n=100").body()).isEqualTo("kept 100");
        assertThat(fetch(w, "http://w.test/?n=28").body()).isEqualTo("kept 128");
        // The 129th, a request later: the collection finds nothing to free, every one is still held.
        String refused = fetch(w, "http://w.test/?n=1").body();
        assertThat(refused).startsWith("RangeError: WebAssembly.Memory(): this worker already holds 128 WebAssembly memories")
                .endsWith("| kept 128");
        // Dropped, they are given back: the next refusal's collection frees them.
        assertThat(fetch(w, "http://w.test/?drop").body()).isEqualTo("dropped");
        assertThat(fetch(w, "http://w.test/?n=128").body()).isEqualTo("kept 128");
        String other = load(bundle("export default { fetch() { return new Response('other'); } };"), ROOMY);
        assertThat(fetch(other, "http://w.test/").body()).as("the sandbox serves other workers").isEqualTo("other");
    }

    @Test
    void aWorkerThatDropsItsMemoriesIsNeverRefused() throws Exception {
        // One memory per job, dropped at once, 600 times in one request: past 128 the account asks
        // for a collection, which frees every earlier job's memory.
        String w = worker("""
                let made = 0;
                for (let i = 0; i < n; i++) {
                  new WebAssembly.Memory({initial: 1});
                  new WebAssembly.Instance(new WebAssembly.Module(bytes));
                  made += 2;
                  await new Promise((resolve) => setTimeout(resolve, 0));
                }
                return new Response('made ' + made);""");
        assertThat(fetch(w, "http://w.test/?n=300").body()).isEqualTo("made 600");
        assertThat(fetch(w, "http://w.test/?n=300").body()).isEqualTo("made 600");
    }

    @Test
    void instancesCountTheMemoriesTheirModuleDefines() throws Exception {
        String w = worker("""
                const module = new WebAssembly.Module(bytes);
                try {
                  for (let i = 0; i < n; i++) {
                    kept.push(q.has('async') ? await WebAssembly.instantiate(module) : new WebAssembly.Instance(module));
                  }
                } catch (e) { return new Response(e.name + ': ' + e.message.slice(0, 58) + ' | kept ' + kept.length); }
                return new Response('kept ' + kept.length);""");
        assertThat(fetch(w, "http://w.test/?n=127").body()).isEqualTo("kept 127");
        assertThat(fetch(w, "http://w.test/?n=1&async=1").body()).isEqualTo("kept 128");
        assertThat(fetch(w, "http://w.test/?n=1").body())
                .isEqualTo("RangeError: WebAssembly.Instance(): this worker already holds 128 WebA | kept 128");
        assertThat(fetch(w, "http://w.test/?n=1&async=1").body())
                .isEqualTo("RangeError: WebAssembly.instantiate(): this worker already holds 128 W | kept 128");
    }

    @Test
    void aModuleThatDefinesNoMemoryCostsNothing() throws Exception {
        // (module): no memory section.
        String w = load(bundle("""
                const empty = new Uint8Array([0,97,115,109,1,0,0,0]);
                const kept = [];
                export default {
                  async fetch() {
                    for (let i = 0; i < 500; i++) kept.push(new WebAssembly.Instance(new WebAssembly.Module(empty)));
                    const fromBytes = await WebAssembly.instantiate(empty);
                    return new Response(kept.length + ' ' + (fromBytes.instance instanceof WebAssembly.Instance)
                        + ' ' + (fromBytes.module instanceof WebAssembly.Module));
                  }
                };"""), ROOMY);
        assertThat(fetch(w, "http://w.test/").body()).isEqualTo("500 true true");
    }

    @Test
    void compileAndInstantiateFromBytesSettleWithNothingElseToWaitFor() throws Exception {
        // V8's asynchronous compile settles its promise from a task of the isolate's own; awaited
        // alone, with no timer or I/O to bring one, it used to hang now and then to the wall-clock
        // limit. Compiled in the worker's task, every one settles.
        String w = load(bundle("""
                const bytes = %s;
                export default {
                  async fetch(request) {
                    const q = new URL(request.url).searchParams;
                    if (q.has('compile')) {
                      const module = await WebAssembly.compile(bytes);
                      return new Response(String(module instanceof WebAssembly.Module));
                    }
                    const { module, instance } = await WebAssembly.instantiate(bytes);
                    let bad = '';
                    try { await WebAssembly.compile(new Uint8Array([1, 2, 3, 4])); } catch (e) { bad = e.name; }
                    let notBytes = '';
                    try { await WebAssembly.instantiate('nope'); } catch (e) { notBytes = e.name; }
                    return new Response([module instanceof WebAssembly.Module, instance instanceof WebAssembly.Instance,
                        bad, notBytes].join(' '));
                  }
                };""".formatted(ONE_MEMORY_MODULE)), ROOMY);
        for (int i = 0; i < 40; i++) {
            assertThat(fetch(w, "http://w.test/?compile").body()).isEqualTo("true");
            assertThat(fetch(w, "http://w.test/").body()).isEqualTo("true true CompileError TypeError");
        }
    }

    @Test
    void theReplacementsKeepTheShapeOfTheNatives() throws Exception {
        String w = load(bundle("""
                export default {
                  async fetch() {
                    const W = WebAssembly;
                    const m = new W.Memory({initial: 1, maximum: 2});
                    class Sub extends W.Memory {}
                    const s = new Sub({initial: 1});
                    let callError = '';
                    try { W.Memory({initial: 1}); } catch (e) { callError = e.name; }
                    let constructError = '';
                    try { new W.compile(new Uint8Array(8)); } catch (e) { constructError = e.name; }
                    const d = Object.getOwnPropertyDescriptor(W, 'Memory');
                    const p = Object.getOwnPropertyDescriptor(W.Memory, 'prototype');
                    return new Response([
                      m instanceof W.Memory, Object.getPrototypeOf(m) === W.Memory.prototype,
                      W.Memory.prototype.constructor === W.Memory, s instanceof Sub, s instanceof W.Memory,
                      m.grow(1), m.buffer.byteLength, W.Memory.name, W.Memory.length, W.Instance.length,
                      W.compile.name, 'prototype' in W.compile, typeof W.Module.exports, callError, constructError,
                      d.enumerable, d.writable, p.writable, Object.prototype.toString.call(m),
                      W.validate(new Uint8Array([0,97,115,109,1,0,0,0])),
                    ].join(' '));
                  }
                };"""), ROOMY);
        assertThat(fetch(w, "http://w.test/").body()).isEqualTo(
                "true true true true true 1 131072 Memory 1 1 compile false function TypeError TypeError "
                        + "false true false [object WebAssembly.Memory] true");
    }
}
