package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerModule;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.bulwark.sandbox.isolate.Sandboxes.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Untrusted code attacks its isolate. Each attack must end with the precise error, and the
 * sandbox must go on serving: a plain hello worker still answers, and so does the attacker's
 * own next, benign request (on a fresh isolate when the attack got its isolate terminated).
 *
 * <p>Every hostile worker below answers {@code /ok} with {@code "ok <n>"}, where n counts the
 * requests its isolate has served: a fresh isolate says {@code ok 1} again.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HostileWorkerTest {

    static final Limits TIGHT_CPU = limits(150, 10_000);
    static final Limits ROOMY_CPU = limits(10_000, 20_000);

    static String hello;

    @BeforeAll
    static void loadHello() throws Exception {
        hello = load(bundle("export default { fetch() { return new Response('hello'); } };"), Limits.DEFAULTS);
    }

    /** A worker answering /ok benignly and running {@code attack} (a function body) on any other path. */
    static String hostile(String attack, Limits limits, WorkerModule... others) throws Exception {
        return hostile("", attack, limits, others);
    }

    static String hostile(String prelude, String attack, Limits limits, WorkerModule... others) throws Exception {
        String source = prelude + """

                let served = 0;
                export default {
                  async fetch(request, env, ctx) {
                    if (new URL(request.url).pathname === '/ok') return new Response('ok ' + (++served));
                %s
                  }
                };""".formatted(attack);
        String w = load(bundle(source, others), limits);
        assertThat(fetch(w, "http://hostile.test/ok").body()).as("first benign request").isEqualTo("ok 1");
        return w;
    }

    static Recorder.Outcome attack(String w) throws Exception {
        return fetch(w, "http://hostile.test/attack");
    }

    static void assertFailed(Recorder.Outcome out, ErrorCode code) {
        assertThat(out.failure()).as("outcome %s", out).isNotNull();
        assertThat(out.failure().code()).as("outcome %s", out).isEqualTo(code.code());
    }

    /** The hello worker answers, and the attacker's next benign request is served by a fresh isolate. */
    static void assertServesOnFreshIsolate(String w) throws Exception {
        assertThat(fetch(w, "http://hostile.test/ok").body()).as("the terminated isolate was replaced").isEqualTo("ok 1");
    }

    /** The hello worker answers, and the attacker's isolate survived the attack. */
    static void assertServesOnSameIsolate(String w) throws Exception {
        assertThat(fetch(w, "http://hostile.test/ok").body()).as("the isolate survived").isEqualTo("ok 2");
    }

    @AfterEach
    void helloStillAnswers() throws Exception {
        Recorder.Outcome out = fetch(hello, "http://hello.test/");
        assertThat(out.failure()).as("hello after the attack: %s", out).isNull();
        assertThat(out.status()).isEqualTo(200);
        assertThat(out.body()).isEqualTo("hello");
    }

    static boolean logged(String text, long waitMs) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        do {
            if (RECORDER.logs.stream().anyMatch(l -> l.message() != null && l.message().contains(text))) return true;
            Thread.sleep(20);
        } while (System.nanoTime() < end);
        return false;
    }

    // ================================================================ CPU

    @Nested
    @DisplayName("CPU")
    class Cpu {
        @Test
        void anInfiniteLoopExceedsTheCpuLimit() throws Exception {
            String w = hostile("while (true) {}", TIGHT_CPU);
            Recorder.Outcome out = attack(w);
            assertFailed(out, ErrorCode.CPU_LIMIT_EXCEEDED);
            assertThat(out.status()).as("no response head was sent").isEqualTo(-1);
            assertThat(out.failure().message()).contains("CPU time limit of 150 ms");
            assertServesOnFreshIsolate(w);
        }

        @Test
        void catastrophicRegexBacktrackingExceedsTheCpuLimit() throws Exception {
            String w = hostile("return new Response(String(/(a+)+b/.test('a'.repeat(40))));", TIGHT_CPU);
            assertFailed(attack(w), ErrorCode.CPU_LIMIT_EXCEEDED);
            assertServesOnFreshIsolate(w);
        }

        @Test
        void stackOverflowPingPongExceedsTheCpuLimit() throws Exception {
            // Catching RangeError at every level makes the recursion exponential.
            String w = hostile("function f() { try { f(); } catch { f(); } } f(); return new Response('done');", TIGHT_CPU);
            assertFailed(attack(w), ErrorCode.CPU_LIMIT_EXCEEDED);
            assertServesOnFreshIsolate(w);
        }

        @Test
        void aLoopInATimerCallbackIsChargedToItsRequest() throws Exception {
            String w = hostile("await new Promise(r => setTimeout(r, 5)); while (true) {}", TIGHT_CPU);
            assertFailed(attack(w), ErrorCode.CPU_LIMIT_EXCEEDED);
            assertServesOnFreshIsolate(w);
        }

        @Test
        void aBodyThatStreamsForeverWithoutYieldingExceedsTheCpuLimit() throws Exception {
            String w = hostile("return new Response(new ReadableStream({ pull(c) { c.enqueue(new Uint8Array(1024).fill(65)); } }));",
                    limits(150, 10_000));
            Recorder.Outcome out = attack(w);
            assertThat(out.status()).as("the head was sent before the body ran away").isEqualTo(200);
            assertFailed(out, ErrorCode.CPU_LIMIT_EXCEEDED);
            assertServesOnFreshIsolate(w);
        }

        @Test
        void codeStillRunningAfterItsResponseIsSentStaysUnderTheCpuLimit() throws Exception {
            // A bounded spin (seconds, counted: the clock does not move while code runs) so that this
            // test cannot burn a core for ever when the bug is present.
            String w = hostile("""
                    const spin = async () => {
                      for (let i = 0; i < 200; i++) await null; // until the invocation is over
                      for (let i = 0; i < 2e9; i++) {}
                      console.log('escaped the CPU limit after the response');
                    };
                    spin();
                    return new Response('bye');""", TIGHT_CPU);
            Recorder.Outcome out = attack(w);
            assertThat(out.body()).isEqualTo("bye");
            assertThat(logged("escaped the CPU limit after the response", 2_500))
                    .as("the detached spin was stopped by the CPU limit").isFalse();
            assertServesOnFreshIsolate(w);
        }

        @Test
        void aCanceledRequestThatKeepsRunningStaysUnderTheCpuLimit() throws Exception {
            String w = hostile("""
                    for (let i = 0; i < 2e9; i++) {}
                    console.log('kept running after cancel');
                    return new Response('late');""", limits(300, 10_000));
            long id = start(w, "GET", "http://hostile.test/attack", null);
            Thread.sleep(100);
            RUNTIME.deliver(new Message.Cancel(id, "client went away"));
            Recorder.Outcome out = RECORDER.await(id);
            assertFailed(out, ErrorCode.CANCELED);
            assertThat(logged("kept running after cancel", 2_500)).as("the canceled code was stopped").isFalse();
            assertThat(fetch(w, "http://hostile.test/ok").body()).startsWith("ok ");
        }

        @Test
        void topLevelCodeIsUnderACpuLimit() throws Exception {
            // Bounded (counted) so that the bug cannot burn a core for ever.
            Message m = loadResult(bundle("""
                    for (let i = 0; i < 2e9; i++) {}
                    export default { fetch() { return new Response('loaded'); } };"""), TIGHT_CPU);
            assertThat(m).as("load result").isInstanceOf(Message.WorkerLoadFailed.class);
            Message.WorkerLoadFailed f = (Message.WorkerLoadFailed) m;
            assertThat(f.code()).isEqualTo(ErrorCode.CPU_LIMIT_EXCEEDED.code());
            assertThat(f.message()).isEqualTo("index.js: top-level code: the worker exceeded its CPU time limit of 150 ms");
        }
        @Test
        void topLevelCodeThatBlocksIsALoadErrorAtTheWallClockLimit() throws Exception {
            // Atomics.wait uses no CPU: only the wall clock can end it.
            Message m = loadResult(bundle("""
                    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
                    export default { fetch() { return new Response('loaded'); } };"""), limits(150, 300));
            assertThat(m).as("load result").isInstanceOf(Message.WorkerLoadFailed.class);
            Message.WorkerLoadFailed f = (Message.WorkerLoadFailed) m;
            assertThat(f.code()).isEqualTo(ErrorCode.WALL_TIME_EXCEEDED.code());
            assertThat(f.message()).isEqualTo("index.js: top-level code: the worker did not finish within its wall-clock limit of 300 ms");
        }
        @Test
        void aHugeTypedArraySortStopsAtTheCpuLimit() throws Exception {
            // V8 sorts a typed array without a comparator in one uninterruptible std::sort (50
            // million floats: ~2 s); the prelude sorts it in runs the CPU limit can stop between.
            String w = hostile("new Float32Array(50e6).sort(); return new Response('sorted');", limits(100, 20_000));
            Recorder.Outcome out = attack(w);
            assertFailed(out, ErrorCode.CPU_LIMIT_EXCEEDED);
            assertThat(Termination.abandonedIsolates()).as("the sort was stopped, not left running").isZero();
            assertServesOnFreshIsolate(w);
        }

        @Test
        void aHugeDefaultOrderArraySortStopsAtTheCpuLimit() throws Exception {
            // Numbers sorted as strings in Torque without looking at termination (3 million: 17 s).
            String w = hostile("""
                    const a = [];
                    for (let i = 0; i < 1e6; i++) a.push((i * 7919) % 1e6);
                    a.sort();
                    return new Response('sorted');""", limits(300, 20_000));
            Recorder.Outcome out = attack(w);
            assertFailed(out, ErrorCode.CPU_LIMIT_EXCEEDED);
            assertThat(Termination.abandonedIsolates()).as("the sort was stopped, not left running").isZero();
            assertServesOnFreshIsolate(w);
        }

        @Test
        void deeplyNestedJsonIsASyntaxErrorNotAStuckParser() throws Exception {
            String w = hostile("""
                    const deep = '['.repeat(5e6) + ']'.repeat(5e6);
                    try { JSON.parse(deep); return new Response('parsed'); }
                    catch (e) { return new Response(e.name + ': ' + e.message); }""", limits(2_000, 20_000));
            assertThat(attack(w).body()).isEqualTo("SyntaxError: JSON.parse: nesting deeper than 100000 levels");
            assertServesOnSameIsolate(w);
        }

        /**
         * Filling the array must be quick and interruptible, sorting it long and not: a Float64Array
         * fills in ~50 ms, and the generic sort converts every compared double to a string in one
         * builtin (measured on an AMD EPYC VM: 1.5 million elements, ~2.4 s; a {@code {length}}
         * object of 2 million Smis instead filled in 450 ms there, so the CPU limit stopped the
         * fill loop, not the sort). Its heap: 12 MB of workspace and 24 MB of boxed doubles.
         */
        static final String STUCK_SORT = """
                const o = new Float64Array(1.5e6);
                for (let i = 0; i < o.length; i++) o[i] = (i * 7919) % o.length + 0.5;
                Array.prototype.sort.call(o);
                """;

        @Test
        void aBuiltinThatIgnoresTerminationCostsOnlyItsIsolateNotTheSandbox() throws Exception {
            // Array.prototype.sort on a non-array (no wrapper) sorts its elements as strings
            // without looking at termination. The isolate is written off at once (its request fails
            // with the CPU limit) instead of ending the whole sandbox.
            String w = hostile(STUCK_SORT + "return new Response('sorted');", limits(300, 60_000));
            Recorder.Outcome out = attack(w);
            assertFailed(out, ErrorCode.CPU_LIMIT_EXCEEDED);
            assertThat(Termination.abandonedIsolates()).as("the stuck isolate was abandoned, its sort still runs").isEqualTo(1);
            assertServesOnFreshIsolate(w);
            // Its thread finishes the sort, meets the termination and closes the runtime.
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (Termination.abandonedIsolates() > 0 && System.nanoTime() < end) Thread.sleep(50);
            assertThat(Termination.abandonedIsolates()).as("the abandoned isolate ended").isZero();
        }

        @Test
        void topLevelCodeStuckInABuiltinFailsTheLoadAtOnce() throws Exception {
            long correlation = nextId();
            RUNTIME.deliver(new Message.LoadWorker(correlation, "w" + nextId(), bundle(STUCK_SORT + """
                    export default { fetch() { return new Response('loaded'); } };"""), "{}", limits(300, 60_000)));
            try {
                Message m = RECORDER.load(correlation).get(30, TimeUnit.SECONDS);
                // Which thread reported the failure: the watchdog (at once) or the isolate's own
                // thread (only once the builtin has returned, seconds later).
                assertThat(RECORDER.loadReporter(correlation)).as("reported while the isolate's thread was still stuck")
                        .isEqualTo("sandbox-watchdog");
                assertThat(m).as("load result").isInstanceOf(Message.WorkerLoadFailed.class);
                Message.WorkerLoadFailed f = (Message.WorkerLoadFailed) m;
                assertThat(f.code()).isEqualTo(ErrorCode.CPU_LIMIT_EXCEEDED.code());
                assertThat(f.message()).isEqualTo("index.js: top-level code: the worker exceeded its CPU time limit of 300 ms");
            } finally {
                // Whatever was asserted, the stuck isolate must be gone before the next test counts.
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (Termination.abandonedIsolates() > 0 && System.nanoTime() < end) Thread.sleep(50);
            }
            assertThat(Termination.abandonedIsolates()).as("the abandoned isolate ended").isZero();
        }

        @Test
        void theWrappedBuiltinsGiveTheBuiltinsResults() throws Exception {
            String w = hostile("""
                    const n = 1_200_000;
                    const f = new Float64Array(n);
                    for (let i = 0; i < n; i++) f[i] = ((i * 7919) % n) - n / 2;
                    f[5] = NaN; f[6] = -0; f[7] = 0; f[8] = -Infinity; f[9] = Infinity; f[10] = -0;
                    const copy = f.slice();
                    const sorted = f.toSorted();
                    f.sort();
                    let typedOk = copy[5] !== copy[5] && sorted.every((v, i) => Object.is(v, f[i]));
                    for (let i = 1; i < n - 1; i++) if (!(f[i - 1] <= f[i])) typedOk = false;
                    typedOk &&= f[0] === -Infinity && f[n - 2] === Infinity && Number.isNaN(f[n - 1]);
                    const zeros = f.indexOf(0); // -0 and +0 compare equal; the two -0 come first
                    typedOk &&= Object.is(f[zeros], -0) && Object.is(f[zeros + 1], -0) && Object.is(f[zeros + 2], 0);
                    const big = new BigInt64Array(600_000).map((_, i) => BigInt(600_000 - i));
                    typedOk &&= big.sort()[0] === 1n && big[599_999] === 600_000n;
                    const a = [];
                    for (let i = 0; i < 5000; i++) a.push(i % 3 === 0 ? undefined : i);
                    a.length = 5002; // two holes at the end
                    a.sort();
                    const arrayOk = a[0] === 1 && a[1] === 10 && a[2] === 100 && a[3] === 1000 && a[4] === 1001
                        && a.indexOf(undefined) === 3333 && a.length === 5002 && !(5001 in a) && !(5000 in a);
                    const nested = '['.repeat(1000) + ']'.repeat(1000);
                    const wide = '[' + '{"a":[1,"]"]},'.repeat(150_000) + '{}]';
                    const jsonOk = JSON.parse(nested).length === 1 && JSON.parse(wide).length === 150_001
                        && JSON.parse('{"x":1}', (k, v) => k === 'x' ? v + 1 : v).x === 2;
                    return new Response([typedOk, arrayOk, jsonOk].join(','));""", limits(20_000, 60_000));
            assertThat(attack(w).body()).isEqualTo("true,true,true");
        }
    }

    // ================================================================ memory

    @Nested
    @DisplayName("memory")
    class Memory {
        @Test
        void aHeapBombOfGrowingArraysOfObjectsExceedsTheMemoryLimit() throws Exception {
            String w = hostile("const keep = []; for (;;) keep.push([{x: 1}, {y: 2}, new Array(100).fill({z: 3})]);", ROOMY_CPU);
            Recorder.Outcome out = attack(w);
            assertFailed(out, ErrorCode.MEMORY_LIMIT_EXCEEDED);
            assertThat(out.failure().message()).contains("memory limit");
            assertServesOnFreshIsolate(w);
        }

        @Test
        void theArrayPushBombThatTurboFanOnceMadeUnkillableExceedsTheMemoryLimit() throws Exception {
            String w = hostile("const a = []; while (true) a.push({x: new Array(1000).fill(1)});", ROOMY_CPU);
            assertFailed(attack(w), ErrorCode.MEMORY_LIMIT_EXCEEDED);
            assertServesOnFreshIsolate(w);
        }

        @Test
        void aStringBombExceedsTheMemoryLimit() throws Exception {
            String w = hostile("let s = 'x'; const keep = []; for (;;) { s = s + s.length; keep.push(s + 'y'.repeat(1000)); }", ROOMY_CPU);
            assertFailed(attack(w), ErrorCode.MEMORY_LIMIT_EXCEEDED);
            assertServesOnFreshIsolate(w);
        }

        /**
         * Filling 16 MiB arrays until 4 GiB: outside the V8 heap. The watchdog stops the task once the
         * process grew by more than twice the heap cap (128 MiB) within it, after ~8 arrays: before
         * any allocation could fail (no RangeError). Faulting in fresh pages is CPU time, and its
         * cost varies with the machine (a Firecracker VM: 0.5 to 1.2 s for those 128 MiB), so the
         * CPU limit here is far above it.
         */
        static final String TYPED_ARRAY_BOMB = """
                const keep = []; let total = 0;
                while (total < 4 * 2 ** 30) {
                  const u = new Uint8Array(16 << 20);
                  u.fill(7);
                  keep.push(u);
                  total += u.length;
                }
                return new Response('allocated ' + total);""";

        @Test
        void aTypedArrayBombFailsCleanly() throws Exception {
            String w = hostile(TYPED_ARRAY_BOMB, limits(5_000, 20_000));
            Recorder.Outcome out = attack(w);
            assertFailed(out, ErrorCode.MEMORY_LIMIT_EXCEEDED);
            assertThat(out.failure().message()).as("outcome %s", out).contains("grew by more than 128 MiB during one task");
            assertServesOnFreshIsolate(w);
        }

        @Test
        void aTypedArrayBombExceedsTheMemoryLimitEvenWithoutTheRssWatchdog() throws Exception {
            String w = hostile(TYPED_ARRAY_BOMB.replace("4 * 2 ** 30", "2 * 2 ** 30"), limits(3_000, 20_000));
            assertFailed(attack(w), ErrorCode.MEMORY_LIMIT_EXCEEDED);
            assertServesOnFreshIsolate(w);
        }

        @Test
        void aHugeWebAssemblyMemoryIsARangeError() throws Exception {
            String w = hostile("""
                    try { new WebAssembly.Memory({initial: 65536}); return new Response('allocated'); }
                    catch (e) { return new Response(e.name); }""", TIGHT_CPU);
            Recorder.Outcome out = attack(w);
            assertThat(out.failure()).isNull();
            assertThat(out.body()).isEqualTo("RangeError");
            assertServesOnSameIsolate(w);
        }

        @Test
        void anUncaughtHugeWebAssemblyMemoryIsAWorkerException() throws Exception {
            String w = hostile("new WebAssembly.Memory({initial: 65536}); return new Response('allocated');", TIGHT_CPU);
            Recorder.Outcome out = attack(w);
            assertFailed(out, ErrorCode.WORKER_THREW);
            assertThat(out.failure().message()).startsWith("RangeError");
            assertServesOnSameIsolate(w);
        }

        @Test
        void growingAWebAssemblyMemoryStopsAtTheConfiguredMaximum() throws Exception {
            int maxPages = IsolateSettings.forHeap(HEAP_MB).wasmMaxPages();
            String w = hostile("""
                    const m = new WebAssembly.Memory({initial: 1}); let pages = 1;
                    try { for (;;) { m.grow(1); pages++; } }
                    catch (e) { return new Response(e.name + ' at ' + pages); }""", TIGHT_CPU);
            Recorder.Outcome out = attack(w);
            assertThat(out.failure()).isNull();
            assertThat(out.body()).isEqualTo("RangeError at " + maxPages);
            assertServesOnSameIsolate(w);
        }

        @Test
        void infiniteRecursionIsARangeErrorTheWorkerCanCatch() throws Exception {
            String w = hostile("""
                    function f(n) { return f(n + 1) + 1; }
                    try { f(0); } catch (e) { return new Response(e.name + ': ' + e.message); }""", TIGHT_CPU);
            Recorder.Outcome out = attack(w);
            assertThat(out.body()).isEqualTo("RangeError: Maximum call stack size exceeded");
            assertServesOnSameIsolate(w);
        }

        @Test
        void uncaughtInfiniteRecursionIsAWorkerException() throws Exception {
            String w = hostile("function f(n) { return f(n + 1) + 1; } f(0);", TIGHT_CPU);
            Recorder.Outcome out = attack(w);
            assertFailed(out, ErrorCode.WORKER_THREW);
            assertThat(out.failure().message()).isEqualTo("RangeError: Maximum call stack size exceeded");
            assertServesOnSameIsolate(w);
        }
    }

    // ================================================================ code generation and escape hatches

    @Nested
    @DisplayName("no code generation, no way out")
    class Escapes {
        @Test
        void evalAndTheFunctionConstructorsAreEvalErrors() throws Exception {
            String w = hostile("""
                    const attempts = {
                      eval: () => eval('1'),
                      indirectEval: () => (0, globalThis.eval)('1'),
                      Function: () => new Function('return 1'),
                      constructorChain: () => (function () {}).constructor.constructor('return this')(),
                      AsyncFunction: () => (async function () {}).constructor('return 1'),
                      GeneratorFunction: () => (function* () {}).constructor('yield 1'),
                      setTimeoutString: () => setTimeout('1', 0),
                    };
                    const out = [];
                    for (const [name, f] of Object.entries(attempts)) {
                      try { f(); out.push(name + ' ran'); } catch (e) { out.push(name + ' ' + e.name); }
                    }
                    return new Response(out.join('\\n'));""", TIGHT_CPU);
            assertThat(attack(w).body().lines()).containsExactly(
                    "eval EvalError", "indirectEval EvalError", "Function EvalError", "constructorChain EvalError",
                    "AsyncFunction EvalError", "GeneratorFunction EvalError", "setTimeoutString TypeError");
            assertServesOnSameIsolate(w);
        }

        @Test
        void uncaughtEvalIsAWorkerException() throws Exception {
            String w = hostile("eval('1'); return new Response('evaluated');", TIGHT_CPU);
            Recorder.Outcome out = attack(w);
            assertFailed(out, ErrorCode.WORKER_THREW);
            assertThat(out.failure().message()).startsWith("EvalError: Code generation from strings disallowed");
            assertServesOnSameIsolate(w);
        }

        @Test
        void theGlobalScopeHoldsNoHostObjects() throws Exception {
            String w = hostile("""
                    const names = new Set();
                    for (let o = globalThis; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
                      for (const k of Reflect.ownKeys(o)) names.add(String(k));
                    }
                    const suspicious = [...names].filter(n => /java|javet|host|bulwark|__|packages|graal|nashorn/i.test(n));
                    return new Response(JSON.stringify(suspicious));""", TIGHT_CPU);
            assertThat(attack(w).body()).isEqualTo("[]");
        }

        @Test
        void noRuntimeOfAnotherPlatformIsVisible() throws Exception {
            String w = hostile("""
                    const names = ['require', 'process', 'Deno', 'Bun', 'module', 'exports', '__dirname', 'global',
                      'java', 'Java', 'Packages', 'javet', '__bulwark_install', 'quit', 'print', 'load', 'read', 'gc',
                      'Polyglot', 'importScripts', 'postMessage', 'WorkerGlobalScope'];
                    return new Response(names.map(n => n + ' ' + typeof globalThis[n]).join('\\n'));""", TIGHT_CPU);
            assertThat(attack(w).body().lines()).allSatisfy(line -> assertThat(line).endsWith(" undefined"));
        }

        @Test
        void functionsOfTheWebApiDoNotLeadToTheHost() throws Exception {
            // The prelude's functions are plain JS; their properties and the stack frames below user code hold
            // nothing callable that belongs to the host.
            String w = hostile("""
                    const out = [];
                    for (const name of ['fetch', 'setTimeout', 'clearTimeout', 'queueMicrotask', 'structuredClone']) {
                      const f = globalThis[name];
                      const own = Reflect.ownKeys(f).map(String).filter(k => !['length', 'name', 'prototype'].includes(k));
                      if (own.length) out.push(name + ' has ' + own.join(','));
                    }
                    for (const name of Reflect.ownKeys(console)) {
                      const f = console[name];
                      if (typeof f === 'function' && Reflect.ownKeys(f).some(k => !['length', 'name', 'prototype'].includes(String(k))))
                        out.push('console.' + String(name) + ' has extra properties');
                    }
                    Error.prepareStackTrace = (e, frames) => frames;
                    const frames = new Error().stack;
                    Error.prepareStackTrace = undefined;
                    for (const f of frames) {
                      if (f.getFunction() !== undefined && f.getFileName() !== 'index.js') out.push('frame ' + f.getFileName() + ' exposes its function');
                      if (f.getThis() !== undefined && f.getFileName() !== 'index.js') out.push('frame ' + f.getFileName() + ' exposes its receiver');
                    }
                    return new Response(JSON.stringify(out));""", TIGHT_CPU);
            assertThat(attack(w).body()).isEqualTo("[]");
        }

        @Test
        void dynamicImportOfAnythingOutsideTheBundleRejects() throws Exception {
            String w = hostile("""
                    const out = [];
                    for (const specifier of ['node:fs', 'https://example.com/x.js', 'file:///etc/passwd', '/etc/passwd', '../outside.js']) {
                      try { await import(specifier); out.push(specifier + ' imported'); }
                      catch (e) { out.push(specifier + ' rejected'); }
                    }
                    return new Response(out.join('\\n'));""", TIGHT_CPU);
            assertThat(attack(w).body().lines()).allSatisfy(line -> assertThat(line).endsWith(" rejected"));
            assertServesOnSameIsolate(w);
        }

        @Test
        void aStaticImportOfAModuleOutsideTheBundleFailsTheLoad() throws Exception {
            for (String specifier : List.of("node:fs", "https://example.com/x.js", "/etc/passwd", "file:///etc/passwd", "../outside.js")) {
                Message m = loadResult(bundle("import x from '" + specifier + "';\nexport default { fetch() { return new Response(String(x)); } };"),
                        TIGHT_CPU);
                assertThat(m).as(specifier).isInstanceOf(Message.WorkerLoadFailed.class);
                Message.WorkerLoadFailed f = (Message.WorkerLoadFailed) m;
                assertThat(f.code()).isEqualTo(ErrorCode.WORKER_LOAD_FAILED.code());
                assertThat(f.message()).as(specifier).contains("index.js").contains("'" + specifier + "'");
            }
        }

        @Test
        void v8NativesSyntaxIsASyntaxErrorNotAnAbort() throws Exception {
            Message m = loadResult(bundle("%AbortJS('bye');\nexport default { fetch() { return new Response('x'); } };"), TIGHT_CPU);
            assertThat(m).isInstanceOf(Message.WorkerLoadFailed.class);
            assertThat(((Message.WorkerLoadFailed) m).message()).contains("SyntaxError");
        }

        @Test
        void aWorkerCannotEndItsSandbox() throws Exception {
            String w = hostile("""
                    const attempts = [() => process.exit(1), () => Deno.exit(1), () => Bun.exit(1), () => quit(),
                      () => globalThis.close(), () => self.close()];
                    const out = [];
                    for (const f of attempts) { try { f(); out.push('returned'); } catch (e) { out.push(e.name); } }
                    return new Response(out.join(','));""", TIGHT_CPU);
            Recorder.Outcome out = attack(w);
            // No such globals (ReferenceError); globalThis and self have no close (TypeError: not a function).
            assertThat(out.body()).isEqualTo("ReferenceError,ReferenceError,ReferenceError,ReferenceError,TypeError,TypeError");
            assertServesOnSameIsolate(w);
        }

        @Test
        void aWebAssemblyTrapIsAWorkerException() throws Exception {
            String w = hostile("import trap from './trap.wasm';",
                    "new WebAssembly.Instance(trap).exports.trap(); return new Response('survived');", TIGHT_CPU,
                    new WorkerModule("trap.wasm", ModuleType.WASM, WasmModules.trap()));
            Recorder.Outcome out = attack(w);
            assertFailed(out, ErrorCode.WORKER_THREW);
            assertThat(out.failure().message()).startsWith("RuntimeError").contains("unreachable");
            assertServesOnSameIsolate(w);
        }

        @Test
        void atomicsWaitForeverIsEndedByTheWallClockLimit() throws Exception {
            String w = hostile("Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); return new Response('woke');",
                    limits(150, 300));
            assertFailed(attack(w), ErrorCode.WALL_TIME_EXCEEDED);
            assertServesOnFreshIsolate(w);
        }

        @Test
        void throwingValuesThatCannotBeDescribedIsAWorkerException() throws Exception {
            String w = hostile("""
                    const kind = new URL(request.url).searchParams.get('kind');
                    const trap = () => { throw new Error('trap'); };
                    if (kind === 'proxy') throw new Proxy({}, { get: trap, has: trap, ownKeys: trap, getPrototypeOf: trap, getOwnPropertyDescriptor: trap });
                    if (kind === 'null') throw null;
                    if (kind === 'symbol') throw Symbol('s');
                    throw { get message() { throw new Error('getter'); }, get stack() { throw new Error('getter'); } };""", TIGHT_CPU);
            for (String kind : List.of("proxy", "null", "symbol", "getters")) {
                Recorder.Outcome out = fetch(w, "http://hostile.test/attack?kind=" + kind);
                assertFailed(out, ErrorCode.WORKER_THREW);
            }
            assertThat(fetch(w, "http://hostile.test/ok").body()).isEqualTo("ok 2");
        }

        @Test
        void replacingPromisePrototypeThenDoesNotKeepInvocationsOpen() throws Exception {
            String w = load(bundle("""
                    export default {
                      fetch() {
                        Promise.prototype.then = function () { return this; };
                        return new Response('hijacked');
                      }
                    };"""), limits(150, 25_000));
            long id = start(w, "GET", "http://hostile.test/", null);
            // Far below the 25 s wall-clock limit: the invocation must end when its response has been sent.
            Recorder.Outcome out = RECORDER.awaitWithin(id, 5, TimeUnit.SECONDS);
            assertThat(out.body()).isEqualTo("hijacked");
        }

        @Test
        void aFailedFetchRejectsWithTheIntrinsicTypeErrorEvenIfTheGlobalWasReplaced() throws Exception {
            String w = load(bundle("""
                    export default {
                      async fetch() {
                        const IntrinsicTypeError = TypeError;
                        globalThis.TypeError = 42;
                        try { await fetch('http://127.0.0.1:1/'); return new Response('resolved'); }
                        catch (e) { return new Response(String(e instanceof IntrinsicTypeError) + ' ' + e.message); }
                      }
                    };"""), TIGHT_CPU);
            long id = start(w, "GET", "http://hostile.test/", null);
            Message.Subrequest sub = RECORDER.awaitSubrequest(id, 0);
            RUNTIME.deliver(new Message.SubrequestFailed(sub.subrequestId(), "connection refused"));
            Recorder.Outcome out = RECORDER.await(id);
            assertThat(out.failure()).as("%s", out).isNull();
            assertThat(out.body()).isEqualTo("true connection refused");
        }
    }

    // ================================================================ I/O limits

    @Nested
    @DisplayName("subrequests, timers, streams")
    class Io {
        @Test
        void aFetchGoesToTheOutboxAndAFailedAnswerRejectsWithATypeError() throws Exception {
            String w = hostile("""
                    try { await fetch('http://127.0.0.1:1/'); return new Response('resolved'); }
                    catch (e) { return new Response(e.name + ': ' + e.message); }""", TIGHT_CPU);
            long id = start(w, "GET", "http://hostile.test/attack", null);
            Message.Subrequest sub = RECORDER.awaitSubrequest(id, 0);
            assertThat(sub.invocationId()).isEqualTo(id);
            assertThat(sub.method()).isEqualTo("GET");
            assertThat(sub.url()).isEqualTo("http://127.0.0.1:1/");
            assertThat(sub.body()).isNull();
            RUNTIME.deliver(new Message.SubrequestFailed(sub.subrequestId(), "egress denied: 127.0.0.1 is a private address"));
            Recorder.Outcome out = RECORDER.await(id);
            assertThat(out.failure()).isNull();
            assertThat(out.body()).isEqualTo("TypeError: egress denied: 127.0.0.1 is a private address");
            assertServesOnSameIsolate(w);
        }

        @Test
        void theSubrequestAfterTheLimitThrowsTooManySubrequests() throws Exception {
            Limits d = Limits.DEFAULTS;
            Limits two = new Limits(150, 10_000, d.heapMb(), 2, d.codeBytes(), d.envBytes(), d.requestBodyBytes());
            String w = hostile("""
                    fetch('http://a.test/1'); fetch('http://a.test/2');
                    try { await fetch('http://a.test/3'); return new Response('third allowed'); }
                    catch (e) { return new Response(e.message); }""", two);
            long id = start(w, "GET", "http://hostile.test/attack", null);
            Recorder.Outcome out = RECORDER.await(id);
            assertThat(out.body()).startsWith("Too many subrequests");
            List<Message.Subrequest> sent = RECORDER.events(id).stream()
                    .filter(m -> m instanceof Message.Subrequest).map(m -> (Message.Subrequest) m).toList();
            assertThat(sent).extracting(Message.Subrequest::url).containsExactly("http://a.test/1", "http://a.test/2");
            // Late answers to a finished invocation's subrequests are dropped.
            for (Message.Subrequest s : sent) RUNTIME.deliver(new Message.SubrequestFailed(s.subrequestId(), "late"));
            assertServesOnSameIsolate(w);
        }

        @Test
        void aResponseBodyThatNeverEndsIsCutByTheWallClockLimit() throws Exception {
            for (String pull : List.of(
                    "async pull(c) { await scheduler.wait(1); c.enqueue(new TextEncoder().encode('x')); }",
                    "pull(c) { return new Promise(r => setTimeout(() => { c.enqueue(new TextEncoder().encode('y')); r(); }, 1)); }")) {
                String w = hostile("return new Response(new ReadableStream({ " + pull + " }));", limits(1_000, 500));
                long id = start(w, "GET", "http://hostile.test/attack", null);
                Recorder.Outcome out = RECORDER.await(id);
                assertThat(out.status()).as("the head was sent").isEqualTo(200);
                assertFailed(out, ErrorCode.WALL_TIME_EXCEEDED);
                List<Message> events = RECORDER.events(id);
                assertThat(events).noneMatch(m -> m instanceof Message.ResponseEnd);
                assertThat(events.getLast()).isInstanceOf(Message.InvocationDone.class);
                Thread.sleep(50);
                assertThat(RECORDER.events(id)).as("nothing after InvocationDone").hasSameSizeAs(events);
                assertThat(fetch(w, "http://hostile.test/ok").body()).startsWith("ok ");
            }
        }

        @Test
        void aMillionTimersThrowTooManyTimersAndAreReleasedWhenTheRequestEnds() throws Exception {
            String w = hostile("""
                    if (new URL(request.url).pathname === '/timer') { await scheduler.wait(1); return new Response('timer fired'); }
                    let n = 0;
                    try { for (let i = 0; i < 1e6; i++) { setTimeout(() => {}, 1e6); n++; } return new Response('set ' + n); }
                    catch (e) { return new Response(e.message + ' after ' + n); }""", limits(2_000, 10_000));
            Recorder.Outcome out = attack(w);
            // The prelude stops a request at workerd's limit and message; the host caps the isolate at the same count.
            assertThat(out.body()).startsWith("You have exceeded the number of active timeouts you may set.")
                    .endsWith("after " + Isolate.MAX_TIMERS);
            assertThat(fetch(w, "http://hostile.test/timer").body()).as("timers were released").isEqualTo("timer fired");
            assertThat(fetch(w, "http://hostile.test/ok").body()).isEqualTo("ok 2");
        }

        @Test
        void aMillionUncaughtTimersFailTheRequestCleanly() throws Exception {
            String w = hostile("for (let i = 0; i < 1e6; i++) setTimeout(() => {}, 1e6); return new Response('set');",
                    limits(2_000, 10_000));
            Recorder.Outcome out = attack(w);
            assertFailed(out, ErrorCode.WORKER_THREW);
            assertThat(out.failure().message()).contains("exceeded the number of active timeouts");
            assertServesOnSameIsolate(w);
        }

        @Test
        void twoHundredConcurrentRequestsThatWaitAllAnswer() throws Exception {
            String w = load(bundle("""
                    export default {
                      async fetch(request) {
                        const n = Number(new URL(request.url).searchParams.get('n'));
                        if (n % 2 === 0) await scheduler.wait(50);
                        else await new Promise(r => setTimeout(r, 50));
                        return new Response('answer ' + n);
                      }
                    };"""), limits(1_000, 20_000));
            List<Long> ids = new ArrayList<>();
            for (int n = 0; n < 200; n++) ids.add(start(w, "GET", "http://many.test/?n=" + n, null));
            for (int n = 0; n < 200; n++) {
                Recorder.Outcome out = RECORDER.await(ids.get(n));
                assertThat(out.failure()).as("request %d: %s", n, out).isNull();
                assertThat(out.status()).isEqualTo(200);
                assertThat(out.body()).isEqualTo("answer " + n);
            }
        }

        @Test
        void aConsoleFloodIsCappedPerRequest() throws Exception {
            String w = hostile("for (let i = 0; i < 5000; i++) console.log(i < 3 ? 'x'.repeat(100000) : 'line ' + i); return new Response('logged');",
                    limits(2_000, 10_000));
            long id = start(w, "GET", "http://hostile.test/attack", null);
            Recorder.Outcome out = RECORDER.await(id);
            assertThat(out.body()).isEqualTo("logged");
            List<Message.LogLine> lines = RECORDER.logs(id);
            assertThat(lines).hasSize(Invocation.MAX_LOG_LINES + 1);
            assertThat(lines.getLast().level()).isEqualTo("warn");
            assertThat(lines.getLast().message()).contains("log limit reached");
            assertThat(lines).allSatisfy(l -> assertThat(l.message().length()).isLessThanOrEqualTo(Isolate.MAX_LOG_CHARS + 20));
            assertServesOnSameIsolate(w);
        }

        @Test
        void consoleLinesAfterTheResponseCountAgainstTheRequestsLimit() throws Exception {
            String w = hostile("""
                    const flood = async () => {
                      for (let i = 0; i < 200; i++) await null; // until the invocation is over
                      for (let i = 0; i < 5000; i++) console.log('late ' + i);
                    };
                    flood();
                    return new Response('bye');""", limits(2_000, 10_000));
            long id = start(w, "GET", "http://hostile.test/attack", null);
            assertThat(RECORDER.await(id).body()).isEqualTo("bye");
            List<Message.LogLine> lines = logsOnceSettled(id);
            assertThat(lines).hasSize(Invocation.MAX_LOG_LINES + 1);
            assertThat(lines.getLast().message()).contains("log limit reached");
            assertServesOnSameIsolate(w);
        }

        @Test
        void topLevelConsoleLinesAreCappedOnceForAllIsolatesOfTheWorker() throws Exception {
            String marker = "top-" + nextId() + " ";
            String w = hostile("for (let i = 0; i < 5000; i++) console.log('%s' + i);".formatted(marker),
                    "for (;;) {}", TIGHT_CPU);
            assertThat(topLevelLines(marker)).hasSize(Invocation.MAX_LOG_LINES);
            assertFailed(attack(w), ErrorCode.CPU_LIMIT_EXCEEDED);
            // The next request loads the worker into a fresh isolate, which runs its top level again.
            assertServesOnFreshIsolate(w);
            assertThat(topLevelLines(marker)).as("the second isolate's top level logs nothing more").hasSize(Invocation.MAX_LOG_LINES);
            assertThat(RECORDER.logs.stream().filter(l -> l.message() != null
                    && l.message().startsWith("log limit reached: further console output of this worker's top-level code")))
                    .isNotEmpty();
        }

        private static List<String> topLevelLines(String marker) {
            return RECORDER.logs.stream().map(Message.LogLine::message).filter(m -> m != null && m.startsWith(marker)).toList();
        }

        /** An invocation's log lines once no more arrive (they may trail its end by a flush). */
        private static List<Message.LogLine> logsOnceSettled(long id) throws InterruptedException {
            List<Message.LogLine> lines = RECORDER.logs(id);
            for (int stable = 0; stable < 5; ) {
                Thread.sleep(50);
                List<Message.LogLine> now = RECORDER.logs(id);
                stable = now.size() == lines.size() ? stable + 1 : 0;
                lines = now;
            }
            return lines;
        }
    }

    // ================================================================ the clock

    /** Workers' timers advance only on I/O (a Spectre mitigation); workerd answers 0 in global scope. */
    @Nested
    class Clock {
        @Test
        void timeStandsStillWhileCodeRuns() throws Exception {
            String w = hostile("""
                    const fmt = new Intl.DateTimeFormat('en-US', {timeZone: 'UTC', hour12: false, hour: '2-digit',
                        minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3});
                    const before = [Date.now(), performance.now(), new Date().getTime()];
                    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25); // a real 25 ms
                    const after = [Date.now(), performance.now(), new Date().getTime(), Date.parse(Date())];
                    return Response.json({
                      frozen: after.slice(0, 3).every((t) => t === before[0]) && before.every((t) => t === before[0]),
                      toString: Math.floor(before[0] / 1000) * 1000 === after[3],
                      intl: fmt.format === fmt.format && fmt.format() === fmt.format(before[0]) && fmt.formatToParts().map((p) => p.value).join('') === fmt.format(before[0]),
                      // No Temporal clock to freeze: workerd's V8 has no Temporal (nor Date's bridge to it).
                      temporal: typeof Temporal === 'undefined' && !('Temporal' in globalThis)
                          && typeof Date.prototype.toTemporalInstant === 'undefined',
                      timeOrigin: performance.timeOrigin,
                    });""", Limits.DEFAULTS);
            assertThat(attack(w).body()).isEqualTo(
                    "{\"frozen\":true,\"toString\":true,\"intl\":true,\"temporal\":true,\"timeOrigin\":0}");
        }

        @Test
        void timeAdvancesWhenATimerFires() throws Exception {
            String w = hostile("""
                    const before = Date.now();
                    await new Promise((resolve) => setTimeout(resolve, 30));
                    return new Response(String(Date.now() - before >= 30));""", Limits.DEFAULTS);
            assertThat(attack(w).body()).isEqualTo("true");
        }

        @Test
        void globalScopeSeesTheEpoch() throws Exception {
            String w = hostile("const atLoad = [Date.now(), new Date().toISOString(), performance.now()].join(' ');",
                    "return new Response(atLoad);", Limits.DEFAULTS);
            assertThat(attack(w).body()).isEqualTo("0 1970-01-01T00:00:00.000Z 0");
        }

        @Test
        void dateStillBehavesAsDate() throws Exception {
            String w = hostile("""
                    class Later extends Date { plus(ms) { return this.getTime() + ms; } }
                    const checks = [
                      new Date(5).getTime() === 5,
                      new Date(2024, 0, 2).getFullYear() === 2024,
                      new Date('2024-01-02T03:04:05Z').toISOString() === '2024-01-02T03:04:05.000Z',
                      Date.UTC(1970, 0, 1) === 0,
                      new Later().plus(1) === Date.now() + 1,
                      new Later() instanceof Date && new Date() instanceof Date,
                      Date.prototype.constructor === Date && Date.name === 'Date' && Date.length === 7,
                      typeof Date() === 'string',
                      Object.prototype.toString.call(new Date()) === '[object Date]',
                    ];
                    return new Response(checks.join(','));""", Limits.DEFAULTS);
            assertThat(attack(w).body()).isEqualTo("true,true,true,true,true,true,true,true,true");
        }
    }
}
