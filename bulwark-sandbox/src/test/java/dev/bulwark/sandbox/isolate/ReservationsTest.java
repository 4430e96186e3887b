package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.worker.Limits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static dev.bulwark.sandbox.isolate.Sandboxes.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The account of address-space reservations (prelude reservations.js, wasm-memories.js,
 * resizable-buffers.js): an isolate holds at most 128 WebAssembly memories and resizable buffers at
 * once, counted where they are made: {@code new WebAssembly.Memory}, instances of modules that define
 * their own memories, {@code new ArrayBuffer}/{@code SharedArrayBuffer} with a maxByteLength, and
 * {@code transfer()} of a resizable buffer. Each reserves its largest size of address space and
 * memory mappings of the process: ~32,500 live memories end the whole sandbox process (V8's fatal
 * out-of-memory), as many resizable buffers use up its mappings. So a worker that keeps them across
 * requests is refused before that, with a RangeError, and one that drops them is never refused.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReservationsTest {
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
        assertThat(refused).startsWith("RangeError: WebAssembly.Memory(): this worker already holds 128 WebAssembly memories and resizable buffers")
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
                    const g = Object.getOwnPropertyDescriptor(globalThis, 'WebAssembly');
                    const viaPrototype = Object.getPrototypeOf(m).constructor === W.Memory;
                    const p = Object.getOwnPropertyDescriptor(W.Memory, 'prototype');
                    return new Response([
                      m instanceof W.Memory, Object.getPrototypeOf(m) === W.Memory.prototype,
                      W.Memory.prototype.constructor === W.Memory, s instanceof Sub, s instanceof W.Memory,
                      m.grow(1), m.buffer.byteLength, W.Memory.name, W.Memory.length, W.Instance.length,
                      W.compile.name, 'prototype' in W.compile, typeof W.Module.exports, callError, constructError,
                      d.enumerable, d.writable, p.writable, Object.prototype.toString.call(m),
                      W.validate(new Uint8Array([0,97,115,109,1,0,0,0])),
                      // after its first use the global is the data property it was
                      g.value === W, g.writable, g.enumerable, g.configurable, viaPrototype,
                    ].join(' '));
                  }
                };"""), ROOMY);
        assertThat(fetch(w, "http://w.test/").body()).isEqualTo(
                "true true true true true 1 131072 Memory 1 1 compile false function TypeError TypeError "
                        + "false true false [object WebAssembly.Memory] true true true false true true");
    }

    @Test
    void aWorkerThatReplacesTheNamespaceFirstStillCannotReachAnUncountedMemory() throws Exception {
        // The account is put in front of the namespace at its first use, a write included.
        String w = load(bundle("""
                export default {
                  async fetch() {
                    const get = Object.getOwnPropertyDescriptor(globalThis, 'WebAssembly').get;
                    globalThis.WebAssembly = 'mine';
                    const W = get();
                    const kept = [];
                    try { for (let i = 0; i < 200; i++) kept.push(new (Object.getPrototypeOf(new W.Memory({initial: 1})).constructor)({initial: 1})); }
                    catch (e) { return new Response(globalThis.WebAssembly + ' ' + e.name + ' ' + kept.length); }
                    return new Response('not refused ' + kept.length);
                  }
                };"""), ROOMY);
        assertThat(fetch(w, "http://w.test/").body()).isEqualTo("mine RangeError 64");
    }

    @Test
    void resizableBuffersCountWithTheMemoriesAndFixedOnesDoNot() throws Exception {
        String w = worker("""
                if (q.has('fixed')) {
                  const fixed = [];
                  for (let i = 0; i < 10000; i++) fixed.push(new ArrayBuffer(16));
                  return new Response('fixed ' + fixed.length);
                }
                try {
                  for (let i = 0; i < n; i++) {
                    const kind = q.get('kind');
                    if (kind === 'memory') kept.push(new WebAssembly.Memory({initial: 1}));
                    else if (kind === 'shared') kept.push(new SharedArrayBuffer(8, {maxByteLength: 1 << 20}));
                    else if (kind === 'transfer') { const b = new ArrayBuffer(1, {maxByteLength: 1 << 20}); kept.push(b, b.transfer()); }
                    else if (kind === 'again') kept.push(kept[0].transfer());
                    else kept.push(new ArrayBuffer(8, {maxByteLength: 1 << 30}));
                  }
                } catch (e) { return new Response(e.name + ': ' + e.message.slice(0, 40) + ' | kept ' + kept.length); }
                return new Response('kept ' + kept.length);""");
        assertThat(fetch(w, "http://w.test/?fixed").body()).isEqualTo("fixed 10000");
        assertThat(fetch(w, "http://w.test/?n=60").body()).isEqualTo("kept 60");
        assertThat(fetch(w, "http://w.test/?n=30&kind=memory").body()).isEqualTo("kept 90");
        assertThat(fetch(w, "http://w.test/?n=30&kind=shared").body()).isEqualTo("kept 120");
        // transfer() of a resizable buffer makes another: the one it detached is still held (its
        // count goes when it is collected), so each step takes two.
        assertThat(fetch(w, "http://w.test/?n=3&kind=transfer").body()).isEqualTo("kept 126");
        assertThat(fetch(w, "http://w.test/?n=1&kind=transfer").body()).isEqualTo("kept 128");
        assertThat(fetch(w, "http://w.test/?n=1&kind=again").body())
                .isEqualTo("RangeError: ArrayBuffer.prototype.transfer(): this w | kept 128");
        assertThat(fetch(w, "http://w.test/?n=1").body()).isEqualTo("RangeError: ArrayBuffer(): this worker already holds | kept 128");
        assertThat(fetch(w, "http://w.test/?n=1&kind=shared").body())
                .isEqualTo("RangeError: SharedArrayBuffer(): this worker already | kept 128");
    }

    @Test
    void theBufferConstructorsKeepTheShapeOfTheNatives() throws Exception {
        String w = load(bundle("""
                export default {
                  async fetch() {
                    const order = [];
                    const length = { valueOf() { order.push('length'); return 8; } };
                    const options = { get maxByteLength() { order.push('max'); return 16; } };
                    const r = new ArrayBuffer(length, options);
                    r.resize(12);
                    class Sub extends ArrayBuffer {}
                    const s = new Sub(4);
                    let callError = '';
                    try { ArrayBuffer(8); } catch (e) { callError = e.name; }
                    let badMax = '';
                    try { new ArrayBuffer(8, {maxByteLength: 4}); } catch (e) { badMax = e.name; }
                    const p = Object.getOwnPropertyDescriptor(ArrayBuffer, 'prototype');
                    const g = Object.getOwnPropertyDescriptor(globalThis, 'ArrayBuffer');
                    const t = new ArrayBuffer(4, {maxByteLength: 8}).transfer(6);
                    return new Response([
                      order.join(','), r.resizable, r.byteLength, r.maxByteLength, new ArrayBuffer(3).resizable,
                      s instanceof Sub, s instanceof ArrayBuffer, new Uint8Array(2).buffer instanceof ArrayBuffer,
                      ArrayBuffer.prototype.constructor === ArrayBuffer, ArrayBuffer.name, ArrayBuffer.length,
                      ArrayBuffer.isView(new Uint8Array(1)), ArrayBuffer[Symbol.species] === ArrayBuffer,
                      callError, badMax, p.writable, g.enumerable, ArrayBuffer.prototype.transfer.length,
                      'prototype' in ArrayBuffer.prototype.transfer, t.resizable, t.byteLength,
                      new SharedArrayBuffer(2, {maxByteLength: 4}).growable, SharedArrayBuffer.name,
                      Object.prototype.toString.call(r),
                    ].join(' '));
                  }
                };"""), ROOMY);
        assertThat(fetch(w, "http://w.test/").body()).isEqualTo(
                "length,max true 12 16 false true true true true ArrayBuffer 1 true true TypeError RangeError "
                        + "false false 0 false true 6 true SharedArrayBuffer [object ArrayBuffer]");
    }
}
