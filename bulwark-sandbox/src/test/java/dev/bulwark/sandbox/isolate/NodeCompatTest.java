package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Compatibility;
import dev.bulwark.sandbox.worker.Limits;
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
 * nodejs_compat: which flags turn on what, the node:* modules as real workers use them (exact
 * outputs), AsyncLocalStorage across every kind of continuation and across concurrent requests,
 * and the errors for what is not there.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NodeCompatTest {
    static final String ENV = "{\"API_KEY\":\"k-123\",\"LIMIT\":5,\"CFG\":{\"a\":[1]}}";
    /** nodejs_compat on a date where it means v2 and process.env is populated; node:os is there. */
    static final Compatibility COMPAT = new Compatibility("2025-09-20", List.of("nodejs_compat"));

    static String loadWith(String main, Compatibility c) throws Exception {
        return load(bundle(main).withCompatibility(c), ENV, Limits.DEFAULTS);
    }

    static String body(String worker) throws Exception {
        return body(worker, "http://n.test/");
    }

    static String body(String worker, String url) throws Exception {
        Recorder.Outcome out = fetch(worker, url);
        assertThat(out.failure()).as("outcome %s", out).isNull();
        assertThat(out.status()).as("outcome %s", out).isEqualTo(200);
        return out.body();
    }

    static Message.WorkerLoadFailed loadFails(String main, Compatibility c) throws Exception {
        Message m = loadResult(bundle(main).withCompatibility(c), ENV, Limits.DEFAULTS);
        assertThat(m).as("load result").isInstanceOf(Message.WorkerLoadFailed.class);
        return (Message.WorkerLoadFailed) m;
    }

    // ================================================================ flags

    @Nested
    @DisplayName("flags")
    class Flags {
        static final String PROBE = """
                export default { fetch() {
                  return new Response(`${typeof Buffer} ${typeof process} ${typeof globalThis.global}`);
                } };""";

        @Test
        void withoutTheFlagThereAreNoNodeGlobals() throws Exception {
            assertThat(body(loadWith(PROBE, new Compatibility("2025-09-20", List.of())))).isEqualTo("undefined undefined undefined");
        }

        @Test
        void withoutTheFlagANodeModuleFailsTheLoadNamingModuleAndFlag() throws Exception {
            Message.WorkerLoadFailed f = loadFails("import { Buffer } from 'node:buffer'; export default {};",
                    new Compatibility("2025-09-20", List.of()));
            assertThat(f.code()).isEqualTo(ErrorCode.WORKER_LOAD_FAILED.code());
            assertThat(f.message()).isEqualTo(
                    "index.js:1: cannot import 'node:buffer': Node.js built-in modules need the nodejs_compat compatibility flag");
        }

        @Test
        void v1HasTheModulesUnderTheirPrefixButNoGlobals() throws Exception {
            Compatibility v1 = new Compatibility("2024-01-01", List.of("nodejs_compat"));
            String w = loadWith("""
                    import { Buffer } from 'node:buffer';
                    export default { fetch() {
                      return new Response(`${Buffer.from('v1').toString('base64')} ${typeof globalThis.Buffer} ${typeof globalThis.process}`);
                    } };""", v1);
            assertThat(body(w)).isEqualTo("djE= undefined undefined");
            assertThat(body(loadWith("export default { fetch() { return new Response(`${typeof setImmediate} ${typeof clearImmediate}`); } };", v1)))
                    .isEqualTo("undefined undefined");
            Message.WorkerLoadFailed f = loadFails("import { Buffer } from 'buffer'; export default {};", v1);
            assertThat(f.message()).isEqualTo("index.js:1: cannot import 'buffer': no such module in the worker's bundle"
                    + " (before nodejs_compat_v2, Node.js built-ins need the prefix: 'node:buffer')");
        }

        @Test
        void v2AddsBufferAndProcessGlobalsAndBareSpecifiers() throws Exception {
            String w = loadWith("""
                    import { Buffer as B } from 'buffer';
                    import path from 'path';
                    export default { fetch() {
                      return new Response(`${typeof Buffer} ${typeof process} ${B === Buffer} ${path.join('a', 'b')} ${process.env.API_KEY}`);
                    } };""", COMPAT);
            assertThat(body(w)).isEqualTo("function object true a/b k-123");
        }

        @Test
        void v2MakesNodesSetImmediateAndClearImmediateGlobals() throws Exception {
            // workerd exposes them on the global scope only under nodejs_compat_v2 (and through node:timers
            // under nodejs_compat alone); they are node:timers' own functions.
            String w = loadWith("""
                    import timers from 'node:timers';
                    export default { async fetch() {
                      const args = await new Promise((r) => setImmediate((a, b) => r(`${a} ${b}`), 'x', 2));
                      let fired = false;
                      const cleared = setImmediate(() => { fired = true; });
                      clearImmediate(cleared);
                      await new Promise((r) => setTimeout(r, 20));
                      return new Response([args, fired, typeof cleared, setImmediate === timers.setImmediate,
                        clearImmediate === timers.clearImmediate, Object.keys(globalThis).includes('setImmediate')].join(' '));
                    } };""", COMPAT);
            assertThat(body(w)).isEqualTo("x 2 false object true true false");
        }

        @Test
        void nodejsCompatIsOnByDefaultFrom20260804UnlessTurnedOff() throws Exception {
            assertThat(body(loadWith(PROBE, new Compatibility("2026-08-04", List.of())))).isEqualTo("function object undefined");
            assertThat(body(loadWith(PROBE, new Compatibility("2026-08-04", List.of("no_nodejs_compat", "no_nodejs_compat_v2")))))
                    .isEqualTo("undefined undefined undefined");
        }

        @Test
        void anUnsupportedModuleFailsTheLoadNamingItAndWhatThereIs() throws Exception {
            Message.WorkerLoadFailed f = loadFails("import fs from 'node:fs'; export default {};", COMPAT);
            assertThat(f.message()).startsWith("index.js:1: cannot import 'node:fs': Bulwark does not provide this Node.js module"
                    + " (under nodejs_compat it provides node:assert, node:assert/strict, node:async_hooks, node:buffer,");
            assertThat(f.message()).contains("node:util/types)");
        }

        @Test
        void nodeOsNeedsItsCompatibilityDate() throws Exception {
            Message.WorkerLoadFailed f = loadFails("import os from 'node:os'; export default {};",
                    new Compatibility("2025-06-01", List.of("nodejs_compat")));
            assertThat(f.message()).isEqualTo("index.js:1: cannot import 'node:os': node:os needs a compatibility date of 2025-09-15 or later");
            String w = loadWith("import os from 'node:os'; export default { fetch() { return new Response(JSON.stringify([os.EOL, os.platform()])); } };", COMPAT);
            assertThat(body(w)).isEqualTo("[\"\\n\",\"linux\"]");
        }

        @Test
        void nodejsAlsAloneGivesOnlyAsyncHooks() throws Exception {
            Compatibility als = new Compatibility("2025-09-20", List.of("nodejs_als"));
            String w = loadWith("""
                    import { AsyncLocalStorage } from 'node:async_hooks';
                    const s = new AsyncLocalStorage();
                    export default { fetch() { return s.run(7, async () => { await 0; return new Response(`${s.getStore()} ${typeof Buffer}`); }); } };""", als);
            assertThat(body(w)).isEqualTo("7 undefined");
            assertThat(loadFails("import 'node:buffer'; export default {};", als).message()).isEqualTo(
                    "index.js:1: cannot import 'node:buffer': the nodejs_als compatibility flag provides only node:async_hooks;"
                            + " Node.js built-in modules need nodejs_compat");
        }

        @Test
        void aBundleModuleOfTheSameNameWinsOverTheBuiltIn() throws Exception {
            var b = bundle("import { who } from 'events'; export default { fetch() { return new Response(who); } };",
                    module("events", dev.bulwark.sandbox.worker.ModuleType.JS, "export const who = 'mine';"))
                    .withCompatibility(COMPAT);
            assertThat(body(load(b, ENV, Limits.DEFAULTS))).isEqualTo("mine");
        }
    }

    // ================================================================ modules, as workers use them

    @Nested
    @DisplayName("modules")
    class Modules {
        @Test
        void cryptoHashesHmacAndRandomValues() throws Exception {
            String w = loadWith("""
                    import crypto from 'node:crypto';
                    import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual, getRandomValues } from 'node:crypto';
                    export default { fetch() {
                      const out = [];
                      for (const a of ['md5', 'sha1', 'sha256', 'sha512']) out.push(createHash(a).update('ab').update('c').digest('hex'));
                      out.push(createHmac('sha256', 'key').update('The quick brown fox jumps over the lazy dog').digest('base64'));
                      out.push(crypto.createHash('SHA-1').update(new Uint8Array([1, 2, 3])).digest('base64url'));
                      const r = randomBytes(70000);
                      out.push(`${r.length} ${r instanceof Uint8Array} ${/^[0-9a-f-]{36}$/.test(randomUUID())}`);
                      out.push(`${timingSafeEqual(Buffer.from('abc'), Buffer.from('abc'))} ${timingSafeEqual(Buffer.from('abc'), Buffer.from('abd'))}`);
                      try { timingSafeEqual(Buffer.from('a'), Buffer.from('ab')); } catch (e) { out.push(`${e.name} ${e.code}`); }
                      const h = createHash('sha256'); h.digest();
                      try { h.update('x'); } catch (e) { out.push(e.code); }
                      try { createHash('whirlpool'); } catch (e) { out.push(e.message); }
                      out.push(getRandomValues(new Uint8Array(4)).length);
                      return new Response(out.join('\\n'));
                    } };""", COMPAT);
            assertThat(body(w)).isEqualTo(String.join("\n",
                    "900150983cd24fb0d6963f7d28e17f72",
                    "a9993e364706816aba3e25717850c26c9cd0d89d",
                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
                    "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=",
                    "cDeAcZjCKn0rCAc3HXY3eahP388",
                    "70000 true true",
                    "true false",
                    "RangeError ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH",
                    "ERR_CRYPTO_HASH_FINALIZED",
                    "Digest method not supported",
                    "4"));
        }

        @Test
        void bufferAsPackagesUseIt() throws Exception {
            String w = loadWith("""
                    import { Buffer } from 'node:buffer';
                    export default { fetch() {
                      const b = Buffer.from('hello world');
                      return new Response([b.toString('base64'), b.toString('hex'), b.readUInt32BE(0),
                        Buffer.concat([Buffer.from([1]), Buffer.alloc(2, 0xff)]).toString('hex'), b.subarray(6).toString(),
                        Buffer.byteLength('€uro'), b.equals(Buffer.from('hello world')), Buffer.from('aGk', 'base64').toString(),
                        Buffer.compare(Buffer.from('a'), Buffer.from('b')), Buffer.isBuffer(b), b instanceof Uint8Array,
                        // base64url, which JWT libraries use and the npm package lacks
                        Buffer.from('aGk_-w', 'base64url').toString('hex'), Buffer.from('aGk_-w', 'base64url').toString('base64url'),
                        Buffer.byteLength('aGk_-w', 'base64url'), Buffer.isEncoding('base64url'),
                        Buffer.from([0xfb, 0xff]).toString('base64url'), Buffer.from([0xfb, 0xff]).toString('base64')].join(' '));
                    } };""", COMPAT);
            assertThat(body(w)).isEqualTo("aGVsbG8gd29ybGQ= 68656c6c6f20776f726c64 1751477356 01ffff world 6 true hi -1 true true"
                    + " 68693ffb aGk_-w 4 true -_8 +/8=");
        }

        @Test
        void inspectShowsAPromisesState() throws Exception {
            String w = loadWith("""
                    import { inspect } from 'node:util';
                    export default { async fetch() {
                      const rejected = Promise.reject(new RangeError('no'));
                      rejected.catch(() => {});
                      const shown = [new Promise(() => {}), Promise.resolve({ a: 1 }), rejected].map((p) => inspect(p));
                      return new Response(shown.map((s) => s.split('\\n')[0]).join(' | '));
                    } };""", COMPAT);
            assertThat(body(w)).isEqualTo("Promise { <pending> } | Promise { { a: 1 } } | Promise { <rejected> RangeError: no");
        }

        @Test
        void nodeTestHasTheMockTracker() throws Exception {
            String w = loadWith("""
                    import { mock } from 'node:test';
                    export default { async fetch() {
                      const f = mock.fn((a, b) => a + b);
                      f(1, 2); f.mock.mockImplementationOnce(() => 'once'); f(3, 4);
                      const calls = f.mock.calls.map((c) => `${c.arguments.join('+')}=${c.result}`).join(' ');
                      const o = { greet(n) { return `hi ${n}`; } };
                      const m = mock.method(o, 'greet', (n) => `yo ${n}`);
                      const mocked = o.greet('a');
                      mock.restoreAll();
                      return new Response([f.mock.callCount(), calls, mocked, m.mock.callCount(), o.greet('b')].join(' | '));
                    } };""", COMPAT);
            assertThat(body(w)).isEqualTo("2 | 1+2=3 3+4=once | yo a | 1 | hi b");
        }

        @Test
        void utilPathStringDecoderAndUrl() throws Exception {
            String w = loadWith("""
                    import util from 'node:util';
                    import { promisify, types, inherits, isDeepStrictEqual } from 'node:util';
                    import path from 'node:path';
                    import { StringDecoder } from 'node:string_decoder';
                    import { fileURLToPath, pathToFileURL, format } from 'node:url';
                    export default { async fetch() {
                      const out = [];
                      out.push(util.format('%s=%d %j', 'a', 42, { x: [1] }));
                      const sleep = promisify((ms, cb) => setTimeout(() => cb(null, `slept ${ms}`), ms));
                      out.push(await sleep(1));
                      const fails = promisify((cb) => cb(new Error('nope')));
                      out.push(await fails().catch((e) => e.message));
                      out.push([types.isPromise(Promise.resolve()), types.isDate(new Date()), types.isRegExp(/a/),
                        types.isUint8Array(new Uint8Array()), types.isAsyncFunction(async () => {}), types.isRegExp({})].join());
                      function A() {} function B() {} inherits(B, A);
                      out.push(`${new B() instanceof A} ${B.super_ === A} ${isDeepStrictEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })} ${isDeepStrictEqual([1], ['1'])}`);
                      out.push(new util.TextDecoder().decode(new util.TextEncoder().encode('✓')));
                      out.push([path.join('/a/b', '../c', './d.txt'), path.resolve('/x', 'y', '..', 'z'), path.basename('/p/q/file.tar.gz', '.gz'),
                        path.extname('index.html'), path.relative('/data/a/b', '/data/c'), path.dirname('/a/b/c'), JSON.stringify(path.parse('/home/u/f.txt'))].join(' '));
                      const d = new StringDecoder('utf8'); const e = Buffer.from('€');
                      out.push(JSON.stringify([d.write(e.subarray(0, 1)), d.write(e.subarray(1)), d.end()]));
                      out.push([fileURLToPath('file:///tmp/a%20b.txt'), pathToFileURL('/tmp/a b#c.txt').href,
                        format({ protocol: 'https', hostname: 'ex.com', pathname: '/p', query: { q: '1 2' } })].join(' '));
                      return new Response(out.join('\\n'));
                    } };""", COMPAT);
            assertThat(body(w)).isEqualTo(String.join("\n",
                    "a=42 {\"x\":[1]}",
                    "slept 1",
                    "nope",
                    "true,true,true,true,true,false",
                    "true true true false",
                    "✓",
                    "/a/c/d.txt /x/z file.tar .html ../../c /a/b {\"root\":\"/\",\"dir\":\"/home/u\",\"base\":\"f.txt\",\"ext\":\".txt\",\"name\":\"f\"}",
                    "[\"\",\"€\",\"\"]",
                    "/tmp/a b.txt file:///tmp/a%20b%23c.txt https://ex.com/p?q=1%202"));
        }

        @Test
        void eventsAndStreamsPipeline() throws Exception {
            String w = loadWith("""
                    import { EventEmitter, once } from 'node:events';
                    import { Readable, Transform, Writable, pipeline } from 'node:stream';
                    import { pipeline as pipelineAsync } from 'node:stream/promises';
                    export default { async fetch() {
                      const out = [];
                      const e = new EventEmitter();
                      e.on('x', (a, b) => out.push(`x:${a}${b}`));
                      e.once('x', () => out.push('once'));
                      e.emit('x', 1, 2); e.emit('x', 3, 4);
                      setTimeout(() => e.emit('ready', 'go'), 1);
                      out.push((await once(e, 'ready'))[0]);
                      const upper = () => new Transform({ transform(chunk, enc, cb) { cb(null, chunk.toString().toUpperCase()); } });
                      const got = [];
                      const sink = () => new Writable({ write(chunk, enc, cb) { got.push(chunk.toString()); cb(); } });
                      await new Promise((resolve, reject) => pipeline(Readable.from(['a', 'b', 'c']), upper(), sink(), (err) => err ? reject(err) : resolve()));
                      out.push(got.join(''));
                      got.length = 0;
                      await pipelineAsync(Readable.from(['d', 'e']), upper(), sink());
                      out.push(got.join(''));
                      const chunks = [];
                      for await (const c of Readable.from([Buffer.from('f'), Buffer.from('g')])) chunks.push(c.toString());
                      out.push(chunks.join('+'));
                      return new Response(out.join(' '));
                    } };""", COMPAT);
            assertThat(body(w)).isEqualTo("x:12 once x:34 go ABC DE f+g");
        }

        @Test
        void assertPassesSilentlyAndFailsWithAssertionError() throws Exception {
            String w = loadWith("""
                    import assert from 'node:assert';
                    import { strict } from 'node:assert';
                    export default { async fetch() {
                      const out = [];
                      assert(true); assert.equal(1, '1'); assert.deepStrictEqual({ a: [1, new Map([[1, { b: 2 }]])] }, { a: [1, new Map([[1, { b: 2 }]])] });
                      assert.throws(() => { throw new TypeError('bad'); }, TypeError);
                      assert.throws(() => { throw new Error('boom 42'); }, /boom \\d+/);
                      await assert.rejects(Promise.reject(new Error('r')), { message: 'r' });
                      for (const f of [() => assert.strictEqual(1, 2, 'one is not two'), () => strict.equal(1, '1'),
                                       () => assert.deepStrictEqual([1], ['1']), () => assert.ok(0), () => assert.throws(() => {})]) {
                        try { f(); out.push('no throw'); } catch (e) { out.push(`${e.name}/${e.code}/${e.operator}/${e instanceof assert.AssertionError}`); }
                      }
                      out.push(assert.strict === strict);
                      return new Response(out.join('\\n'));
                    } };""", COMPAT);
            assertThat(body(w)).isEqualTo(String.join("\n",
                    "AssertionError/ERR_ASSERTION/strictEqual/true",
                    "AssertionError/ERR_ASSERTION/strictEqual/true",
                    "AssertionError/ERR_ASSERTION/deepStrictEqual/true",
                    "AssertionError/ERR_ASSERTION/==/true",
                    "AssertionError/ERR_ASSERTION/throws/true",
                    "true"));
        }

        @Test
        void theImportsTheAgentsSdkMakesAtLoadResolve() throws Exception {
            // AGENTS-SDK.md: what agents@0.32.0 imports at the top of its bundle.
            String w = loadWith("""
                    import { DurableObject, WorkerEntrypoint, RpcTarget, exports, env } from 'cloudflare:workers';
                    import { EmailMessage } from 'cloudflare:email';
                    import { AsyncLocalStorage } from 'node:async_hooks';
                    import { channel, tracingChannel } from 'node:diagnostics_channel';
                    import { EOL, platform } from 'node:os';
                    import { join, basename } from 'node:path';
                    export default { fetch() {
                      return new Response([typeof DurableObject, typeof WorkerEntrypoint, typeof RpcTarget, typeof exports,
                        env.API_KEY, typeof EmailMessage, typeof AsyncLocalStorage, channel('agents:x').name,
                        typeof tracingChannel('agents:t').traceSync, JSON.stringify(EOL), platform(), join('a', basename('/b/c'))].join(' '));
                    } };""", COMPAT);
            assertThat(body(w)).isEqualTo("function function function object k-123 function function agents:x function \"\\n\" linux a/c");
        }

        @Test
        void aRefreshedTimeoutFiresOneDelayAfterTheRefreshAndItsNumberStillClearsIt() throws Exception {
            // Node's Timeout.refresh(): the same callback and arguments, one delay from now, also after it
            // fired; +timeout stays the number clearTimeout takes. ref()/unref() change only hasRef().
            String w = loadWith("""
                    import { setTimeout as later, clearTimeout as cancel, setInterval as every, clearInterval } from 'node:timers';
                    const sleep = (ms) => new Promise((r) => later(r, ms));
                    export default { async fetch() {
                      const out = [];
                      let n = 0;
                      const t = later((a) => { n++; out.push(`fired ${a} at ${n}`); }, 200, 'arg');
                      const id = +t;
                      await sleep(50);
                      t.refresh();
                      // Both checks are timers set with the refresh, so their order with it is fixed.
                      const [before, after] = [sleep(150), sleep(300)];
                      await before;
                      out.push(`150 ms after the refresh: ${n}`);
                      await after;
                      out.push(`300 ms after the refresh: ${n}`);
                      t.refresh();
                      await sleep(300);
                      out.push(`refreshed after firing: ${n}`);
                      t.refresh();
                      cancel(id);
                      await sleep(300);
                      out.push(`cleared by its number after a refresh: ${n} ${+t === id}`);
                      out.push(`${t.hasRef()} ${t.unref() === t} ${t.hasRef()} ${t.ref() === t} ${t.hasRef()}`);
                      let ticks = 0;
                      const i = every(() => { ticks++; }, 100);
                      await sleep(50);
                      i.refresh();
                      const [early, late] = [sleep(70), sleep(150)];
                      await early;
                      out.push(`interval refreshed, ticks 70 ms later: ${ticks}`);
                      await late;
                      out.push(`ticks 150 ms later: ${ticks}`);
                      clearInterval(+i);
                      await sleep(250);
                      out.push(`ticks after clearInterval by number: ${ticks}`);
                      return new Response(out.join('\\n'));
                    } };""", COMPAT);
            assertThat(body(w)).isEqualTo(String.join("\n",
                    "150 ms after the refresh: 0", "fired arg at 1", "300 ms after the refresh: 1", "fired arg at 2",
                    "refreshed after firing: 2", "cleared by its number after a refresh: 2 true", "true true false true true",
                    "interval refreshed, ticks 70 ms later: 0", "ticks 150 ms later: 1", "ticks after clearInterval by number: 1"));
        }

        @Test
        void timersProcessDiagnosticsChannelAndCloudflareModules() throws Exception {
            String w = loadWith("""
                    import { setTimeout as later, setImmediate } from 'node:timers';
                    import { setTimeout as sleep } from 'node:timers/promises';
                    import process, { nextTick } from 'node:process';
                    import dc from 'node:diagnostics_channel';
                    import { env, WorkerEntrypoint } from 'cloudflare:workers';
                    import { EmailMessage } from 'cloudflare:email';
                    export default { async fetch() {
                      const out = [];
                      await new Promise((r) => later(() => { out.push('timeout'); r(); }, 1).unref());
                      await new Promise((r) => setImmediate(() => { out.push('immediate'); r(); }));
                      out.push(await sleep(1, 'slept'));
                      await new Promise((r) => nextTick((a) => { out.push(`tick ${a}`); r(); }, 'x'));
                      const ch = dc.channel('my-lib:query');
                      out.push(`${ch.hasSubscribers}`);
                      const seen = (m, name) => out.push(`${name} ${m.sql}`);
                      dc.subscribe('my-lib:query', seen);
                      ch.publish({ sql: 'select 1' });
                      out.push(`${dc.hasSubscribers('my-lib:query')} ${dc.unsubscribe('my-lib:query', seen)} ${ch.hasSubscribers}`);
                      out.push(`${process.getBuiltinModule('node:path').join('a', 'b')} ${process.getBuiltinModule('fs')} ${process.platform}`);
                      out.push(`${env.API_KEY} ${typeof WorkerEntrypoint}`);
                      const m = new EmailMessage('a@x.test', 'b@y.test', 'raw');
                      out.push(`${m.from} ${m.to} ${m.raw}`);
                      return new Response(out.join('\\n'));
                    } };""", COMPAT);
            assertThat(body(w)).isEqualTo(String.join("\n",
                    "timeout", "immediate", "slept", "tick x", "false", "my-lib:query select 1", "true true false",
                    "a/b undefined linux", "k-123 function", "a@x.test b@y.test raw"));
        }
    }

    // ================================================================ an npm package, bundled as wrangler would

    @Nested
    @DisplayName("npm packages")
    class Packages {
        static String fixture(String path) throws Exception {
            try (var in = NodeCompatTest.class.getResourceAsStream("/node-fixtures/" + path)) {
                return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            }
        }

        @Test
        void cookieSignatureRunsUnderNodejsCompat() throws Exception {
            String w = loadWith(fixture("cookie-signature/bundle.js"), COMPAT);
            // The same as Node 20 prints for sign('hello', 'tobiiscool') and its checks.
            assertThat(body(w)).isEqualTo("{\"signed\":\"hello.DGDUkGlIkCzPz+C0B064FNgHdEjox7ch8tOBGslZ5QI\",\"back\":\"hello\",\"forged\":false}");
        }

        @Test
        void withoutTheFlagItFailsToLoadNamingTheModule() throws Exception {
            Message.WorkerLoadFailed f = loadFails(fixture("cookie-signature/bundle.js"), new Compatibility("2025-09-20", List.of()));
            assertThat(f.message()).isEqualTo(
                    "index.js:50: cannot import 'node:crypto': Node.js built-in modules need the nodejs_compat compatibility flag");
        }
    }

    // ================================================================ AsyncLocalStorage

    @Nested
    @DisplayName("AsyncLocalStorage")
    class Als {
        @Test
        void theStoreSurvivesAwaitTimersThenQueueMicrotaskAndThenables() throws Exception {
            String w = loadWith("""
                    import { AsyncLocalStorage } from 'node:async_hooks';
                    const als = new AsyncLocalStorage();
                    async function deep(n) { if (n === 0) { await null; return als.getStore(); } return deep(n - 1); }
                    export default { async fetch() {
                      const out = [];
                      out.push(`outside ${als.getStore()}`);
                      await als.run('S', async () => {
                        await null; out.push(`await ${als.getStore()}`);
                        await new Promise((r) => setTimeout(r, 2)); out.push(`after timer ${als.getStore()}`);
                        await new Promise((r) => setTimeout(() => { out.push(`in timer ${als.getStore()}`); r(); }, 1));
                        await new Promise((r) => { let n = 0; const id = setInterval(() => { out.push(`interval ${als.getStore()}`); if (++n === 2) { clearInterval(id); r(); } }, 1); });
                        await Promise.resolve().then(() => out.push(`then ${als.getStore()}`));
                        await new Promise((r) => queueMicrotask(() => { out.push(`microtask ${als.getStore()}`); r(); }));
                        await { then(r) { out.push(`thenable ${als.getStore()}`); r(); } };
                        out.push(`deep ${await deep(20)}`);
                        const inner = als.run('T', () => als.getStore());
                        out.push(`nested ${inner} back ${als.getStore()}`);
                        out.push(`exit ${als.exit(() => als.getStore())}`);
                        for await (const x of (async function* () { yield 1; await null; yield 2; })()) out.push(`gen ${x} ${als.getStore()}`);
                      });
                      out.push(`after run ${als.getStore()}`);
                      const bound = als.run('B', () => AsyncLocalStorage.bind(() => als.getStore()));
                      const snap = als.run('N', () => AsyncLocalStorage.snapshot());
                      out.push(`bind ${bound()} snapshot ${snap(() => als.getStore())}`);
                      return new Response(out.join('\\n'));
                    } };""", COMPAT);
            assertThat(body(w)).isEqualTo(String.join("\n",
                    "outside undefined", "await S", "after timer S", "in timer S", "interval S", "interval S", "then S", "microtask S", "thenable S",
                    "deep S", "nested T back S", "exit undefined", "gen 1 S", "gen 2 S", "after run undefined",
                    "bind B snapshot N"));
        }

        @Test
        void twoStoresAreIndependentAndAsyncResourceKeepsItsContext() throws Exception {
            String w = loadWith("""
                    import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
                    const a = new AsyncLocalStorage(), b = new AsyncLocalStorage();
                    export default { async fetch() {
                      return a.run(1, () => b.run(2, async () => {
                        const res = a.run(10, () => new AsyncResource('job'));
                        await null;
                        const r = res.runInAsyncScope(() => `${a.getStore()},${b.getStore()}`);
                        return new Response(`${a.getStore()},${b.getStore()} ${r} ${a.getStore()}`);
                      }));
                    } };""", COMPAT);
            assertThat(body(w)).isEqualTo("1,2 10,2 1");
        }

        @Test
        void concurrentRequestsEachSeeTheirOwnStoreAndNeverAnother() throws Exception {
            String w = loadWith("""
                    import { AsyncLocalStorage } from 'node:async_hooks';
                    const als = new AsyncLocalStorage();
                    export default { async fetch(request) {
                      const id = new URL(request.url).searchParams.get('id');
                      const before = als.getStore();
                      if (id === 'plain') {
                        // Never calls run(): must see no store at any point, whatever the others do.
                        const seen = [before];
                        for (let i = 0; i < 5; i++) { await new Promise((r) => setTimeout(r, 1)); seen.push(als.getStore()); }
                        return new Response(JSON.stringify(seen));
                      }
                      return als.run({ id }, async () => {
                        const seen = [];
                        for (let i = 0; i < 5; i++) {
                          await new Promise((r) => setTimeout(r, (Number(id) * 7 + i) % 4));
                          await null;
                          seen.push(als.getStore().id);
                        }
                        return new Response(`${before} ${seen.join(',')}`);
                      });
                    } };""", COMPAT);
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < 20; i++) ids.add(start(w, "GET", "http://n.test/?id=" + i, null));
            long plain = start(w, "GET", "http://n.test/?id=plain", null);
            for (int i = 0; i < 20; i++) {
                Recorder.Outcome out = RECORDER.await(ids.get(i));
                assertThat(out.failure()).isNull();
                assertThat(out.body()).isEqualTo("undefined " + String.join(",", List.of("" + i, "" + i, "" + i, "" + i, "" + i)));
            }
            assertThat(RECORDER.await(plain).body()).isEqualTo("[null,null,null,null,null,null]");
        }

        @Test
        void aStoreSetByOneRequestIsNotSeenByTheNext() throws Exception {
            String w = loadWith("""
                    import { AsyncLocalStorage } from 'node:async_hooks';
                    const als = new AsyncLocalStorage();
                    let settled, unbound;
                    export default { async fetch(request) {
                      if (new URL(request.url).pathname === '/first') {
                        // Leaves a settled promise and a plain function made inside its context.
                        als.run('first', () => { settled = Promise.resolve('value'); unbound = () => als.getStore(); });
                        return new Response('ok');
                      }
                      const at = als.getStore();
                      // A reaction runs in the context current when it was registered, not where the promise was made.
                      const inThen = await settled.then(() => als.getStore());
                      return new Response(`${at} ${inThen} ${unbound()} ${als.getStore()}`);
                    } };""", COMPAT);
            assertThat(body(w, "http://n.test/first")).isEqualTo("ok");
            assertThat(body(w, "http://n.test/second")).isEqualTo("undefined undefined undefined undefined");
        }

        @Test
        void aWorkerThatReplacesMapMethodsAndPromiseThenCannotForgeOrBreakTheStores() throws Exception {
            String w = loadWith("""
                    import { AsyncLocalStorage } from 'node:async_hooks';
                    const als = new AsyncLocalStorage();
                    const realGet = Map.prototype.get;
                    const realThen = Promise.prototype.then;
                    export default { fetch() {
                      return als.run('kept', async () => {
                        Map.prototype.get = function (k) { return k === als ? 'forged' : Reflect.apply(realGet, this, [k]); };
                        Promise.prototype.then = function (a, b) { return Reflect.apply(realThen, this, [a, b]); };
                        try {
                          await null;
                          await Promise.resolve().then(() => 0);
                          return new Response(`${als.getStore()} ${als.run('inner', () => als.getStore())}`);
                        } finally {
                          Map.prototype.get = realGet;
                          Promise.prototype.then = realThen;
                        }
                      });
                    } };""", COMPAT);
            assertThat(body(w)).isEqualTo("kept inner");
        }

        @Test
        void untrustedCodeCannotReachTheEnginesContextFunctions() throws Exception {
            String w = loadWith("""
                    export default { fetch() {
                      const names = Object.getOwnPropertyNames(globalThis).filter((n) => /ontinuation|extras|asyncContext|__bulwark/i.test(n));
                      let natives;
                      try { natives = typeof new Function('return 1'); } catch (e) { natives = e.name; }
                      return new Response(`${JSON.stringify(names)} ${natives}`);
                    } };""", COMPAT);
            assertThat(body(w)).isEqualTo("[] EvalError");
            Message.WorkerLoadFailed f = loadFails("const x = %GetContinuationPreservedEmbedderData(); export default {};", COMPAT);
            assertThat(f.message()).contains("SyntaxError");
        }
    }

    // ================================================================ process.env

    @Nested
    @DisplayName("process.env")
    class ProcessEnv {
        static final String ENV_PROBE = """
                import process from 'node:process';
                export default { fetch() { return new Response(JSON.stringify(process.env)); } };""";

        @Test
        void holdsTheTextBindingsFrom20250401() throws Exception {
            assertThat(body(loadWith(ENV_PROBE, new Compatibility("2025-04-01", List.of("nodejs_compat")))))
                    .isEqualTo("{\"API_KEY\":\"k-123\",\"LIMIT\":\"5\",\"CFG\":\"{\\\"a\\\":[1]}\"}");
        }

        @Test
        void isEmptyBeforeThatDateUnlessAFlagAsks() throws Exception {
            assertThat(body(loadWith(ENV_PROBE, new Compatibility("2025-03-31", List.of("nodejs_compat"))))).isEqualTo("{}");
            assertThat(body(loadWith(ENV_PROBE, new Compatibility("2025-03-31",
                    List.of("nodejs_compat", "nodejs_compat_populate_process_env"))))).contains("\"API_KEY\":\"k-123\"");
            assertThat(body(loadWith(ENV_PROBE, new Compatibility("2025-09-20",
                    List.of("nodejs_compat", "nodejs_compat_do_not_populate_process_env"))))).isEqualTo("{}");
        }

        @Test
        void storesWhatIsWrittenAsStrings() throws Exception {
            String w = loadWith("""
                    export default { fetch() { process.env.N = 42; return new Response(`${typeof process.env.N} ${process.env.N}`); } };""", COMPAT);
            assertThat(body(w)).isEqualTo("string 42");
        }
    }
}
