// Tests of the host contract (runtime.dispatchFetch, fireTimer, fetch, install) that need a
// scripted host, so they cannot be plain conformance workers.
import assert from 'node:assert/strict';
import vm from 'node:vm';
import util from 'node:util';
import { createIsolate, loadWorker, dispatch } from './host.mjs';
import { CACHE_OPTION, STRIP_AUTHORIZATION } from '../src/compat.js';
import { URLPattern as PolyfillURLPattern } from 'urlpattern-polyfill/urlpattern';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function echoFetch(method, url, headers, body) {
  const u = new URL(url);
  if (u.hostname === 'error.test') return Promise.reject(new Error('connection refused'));
  if (u.pathname === '/cross-origin') {
    return Promise.resolve({ status: 302, statusText: 'Found', headers: [['location', 'https://other.test/final']], body: Buffer.alloc(0), url });
  }
  const delay = u.hostname === 'slow.test' ? 100 : 0;
  return sleep(delay).then(() => ({
    status: u.pathname === '/404' ? 404 : 200,
    statusText: u.pathname === '/404' ? 'Not Found' : 'OK',
    headers: [['content-type', 'application/json'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2']],
    body: Buffer.from(JSON.stringify({ method, url, headers, body: body ? body.toString('utf8') : null })),
    url: u.pathname === '/redirect' ? url.replace('/redirect', '/final') : url,
  }));
}

async function run(opts, source, req = {}, id = 7, extra = {}) {
  const iso = createIsolate(opts.preludePath, { verbose: opts.verbose, fetch: echoFetch, ...extra });
  const handler = await loadWorker(iso, source, 'contract-worker.js');
  const r = await dispatch(iso, handler, req, id);
  return { iso, r };
}

export const contractTests = [
  ['install is one-shot and leaves nothing host-reachable', async (opts) => {
    const iso = createIsolate(opts.preludePath, {});
    assert.equal(vm.runInContext("typeof globalThis.__bulwark_install", iso.context), 'undefined');
    assert.equal(vm.runInContext("Object.getOwnPropertyNames(globalThis).includes('__bulwark_install')", iso.context), false);
    assert.equal(iso.state.timers.size, 0, 'no timers at load');
    // Walk everything reachable from globalThis through properties and prototypes (without
    // invoking getters): neither the host object nor any of its functions may be found.
    const forbidden = new Set([iso.host, ...Object.values(iso.host)]);
    const seen = new Set();
    const queue = [iso.context];
    let visited = 0;
    while (queue.length) {
      const obj = queue.shift();
      if (obj === null || (typeof obj !== 'object' && typeof obj !== 'function') || seen.has(obj)) continue;
      seen.add(obj);
      visited++;
      if (forbidden.has(obj)) throw new Error('host reachable from globalThis');
      if (typeof obj === 'function' && Function.prototype.toString.call(obj).includes('ReflectApply(fn, host')) throw new Error('a host wrapper is reachable');
      for (const key of Reflect.ownKeys(obj)) {
        const d = Object.getOwnPropertyDescriptor(obj, key);
        if (!d) continue;
        for (const v of [d.value, d.get, d.set]) if (v !== undefined) queue.push(v);
      }
      queue.push(Object.getPrototypeOf(obj));
    }
    assert.ok(visited > 200, `walked ${visited} objects`);
  }],

  ['HTMLRewriter\'s glue is a part loaded by the first transform, once', async (opts) => {
    const iso = createIsolate(opts.preludePath, {});
    const handler = await loadWorker(iso, `export default { async fetch(req) {
      const rewriter = new HTMLRewriter().on('p', { element(e) { e.setAttribute('x', '1'); } });
      if (new URL(req.url).pathname === '/plain') return new Response(String(typeof HTMLRewriter.prototype.transform));
      return rewriter.transform(new Response('<p>a</p>', { headers: { 'content-type': 'text/html' } }));
    } }`, 'parts.js');
    const plain = await dispatch(iso, handler, { url: 'https://x.test/plain' }, 1);
    assert.equal(plain.body.toString(), 'function');
    assert.equal(iso.state.partsLoaded, undefined, 'constructing a rewriter loads nothing');
    for (const id of [2, 3]) {
      const r = await dispatch(iso, handler, { url: 'https://x.test/' }, id);
      assert.equal(r.body.toString(), '<p x="1">a</p>');
    }
    assert.deepEqual(iso.state.partsLoaded, ['html-rewriter']);
  }],

  ['URLPattern has the polyfill\'s shape and loads it on first use only', async (opts) => {
    const iso = createIsolate(opts.preludePath, {});
    const shape = (C) => [C.name, C.length, ...[C, C.prototype].flatMap((o) => Reflect.ownKeys(o).map((k) => {
      const d = Object.getOwnPropertyDescriptor(o, k);
      const fn = d.value ?? d.get;
      return [String(k), 'value' in d ? 'value' : 'accessor', d.enumerable, d.configurable, d.writable,
        typeof fn === 'function' ? `${fn.name}/${fn.length}` : typeof fn].join(' ');
    }))];
    assert.deepEqual(shape(vm.runInContext('URLPattern', iso.context)), shape(PolyfillURLPattern));
    assert.equal(iso.state.partsLoaded, undefined, 'nothing loaded by install or by reading the class');
    const out = vm.runInContext(`(() => {
      class Sub extends URLPattern { extra() { return this.pathname; } }
      const p = new URLPattern({ pathname: '/books/:id' });
      const s = new Sub('https://x.test/a/:b');
      return JSON.stringify([p instanceof URLPattern, Object.prototype.toString.call(p), p.test('https://x.test/books/1'),
        p.exec('https://x.test/books/7').pathname.groups.id, p.pathname, p.hasRegExpGroups, s instanceof Sub, s.extra(),
        URLPattern.compareComponent('pathname', p, s), structuredCloneFails(p)]);
      function structuredCloneFails(v) { try { structuredClone(v); return false; } catch (e) { return e.name; } }
    })()`, iso.context);
    assert.equal(out, JSON.stringify([true, '[object URLPattern]', true, '7', '/books/:id', false, true, '/a/:b', 1, 'DataCloneError']));
    assert.deepEqual(iso.state.partsLoaded, ['urlpattern']);
    assert.throws(() => vm.runInContext('URLPattern.prototype.test.call({}, "https://x.test/")', iso.context), /private|TypeError/i);
  }],

  ['SubtleCrypto keeps its shape and loads its implementation on the first call only', async (opts) => {
    const iso = createIsolate(opts.preludePath, {});
    // The class's shape before its implementation became a part (main f18b1fd), member by member.
    const before = ["SubtleCrypto", 0, "length value false true false number", "name value false true false string", "prototype value false false false object", "constructor value false true true SubtleCrypto/0", "digest value true true true digest/2", "generateKey value true true true generateKey/3", "importKey value true true true importKey/5", "exportKey value true true true exportKey/2", "sign value true true true sign/3", "verify value true true true verify/4", "encrypt value true true true encrypt/3", "decrypt value true true true decrypt/3", "deriveBits value true true true deriveBits/2", "deriveKey value true true true deriveKey/5", "wrapKey value true true true wrapKey/4", "unwrapKey value true true true unwrapKey/7", "timingSafeEqual value true true true timingSafeEqual/2", "Symbol(Symbol.toStringTag) value false true false string"];
    const shape = vm.runInContext(`(() => [SubtleCrypto.name, SubtleCrypto.length, ...[SubtleCrypto, SubtleCrypto.prototype]
      .flatMap((o) => Reflect.ownKeys(o).map((k) => {
        const d = Object.getOwnPropertyDescriptor(o, k);
        const fn = d.value ?? d.get;
        return [String(k), 'value' in d ? 'value' : 'accessor', d.enumerable, d.configurable, d.writable,
          typeof fn === 'function' ? fn.name + '/' + fn.length : typeof fn].join(' ');
      }))])()`, iso.context);
    assert.deepEqual(JSON.parse(JSON.stringify(shape)), before);
    const plain = vm.runInContext(`JSON.stringify([crypto.subtle instanceof SubtleCrypto, String(crypto.subtle),
      crypto.subtle.timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])), (() => { try { new SubtleCrypto(); return 'made'; } catch (e) { return e.name; } })()])`, iso.context);
    assert.equal(plain, JSON.stringify([true, '[object SubtleCrypto]', true, 'TypeError']));
    assert.equal(iso.state.partsLoaded, undefined, 'nothing loaded by install, reading the class or timingSafeEqual');
    const out = await vm.runInContext(`(async () => {
      const p = crypto.subtle.digest('SHA-256');
      const results = [p instanceof Promise];
      for (const attempt of [p, crypto.subtle.importKey('raw', new Uint8Array(16), { name: 'NOPE' }, false, []),
        SubtleCrypto.prototype.exportKey.call(undefined, 'raw', {})]) {
        results.push(await attempt.then(() => 'fulfilled', (e) => e.name + ': ' + e.message));
      }
      return JSON.stringify(results);
    })()`, iso.context);
    assert.equal(out, JSON.stringify([true,
      "TypeError: Failed to execute 'digest' on 'SubtleCrypto': 2 arguments required, but only 1 present.",
      'NotSupportedError: Unrecognized or unsupported algorithm for importKey: NOPE',
      "TypeError: parameter 2 is not of type 'CryptoKey'."]));
    assert.deepEqual(iso.state.partsLoaded, ['subtle']);
  }],

  ['runtime.consoleFormat and console levels', async (opts) => {
    const iso = createIsolate(opts.preludePath, {});
    assert.equal(iso.runtime.consoleFormat('a %s', 'b', { x: 1 }), 'a b { x: 1 }');
    assert.equal(iso.runtime.consoleFormat('%d%%', 42), '42%');
    vm.runInContext("console.log('L'); console.info('I'); console.warn('W'); console.error('E'); console.debug('D')", iso.context);
    assert.deepEqual(iso.state.logs, [['log', 'L'], ['info', 'I'], ['warn', 'W'], ['error', 'E'], ['debug', 'D']]);
  }],

  ['console formatting matches Node util.format for common values', async (opts) => {
    const iso = createIsolate(opts.preludePath, {});
    const exprs = [
      "['plain string']", "['a %s b %d c %i %f %j %%', 'x', 42, 3.7, '2.5', {j: 1}]", "[1, -0, NaN, 10n, true, null, undefined]",
      "[Symbol('s')]", "[{ a: 1, b: 'two', c: [1, 2, 3], d: { e: { f: { g: 1 } } } }]", "[[1, [2, [3, [4, [5]]]]]]",
      "[(() => { const o = { x: 1 }; o.self = o; return o; })()]", "[new Map([['k', 1], [{}, []]]), new Set([1, 'a'])]",
      "[Object.create(null)]", "[{ 'a-b': 1, [Symbol('k')]: 2, get g() { return 1; } }]", "[function foo() {}, () => {}, class A {}]",
      "[new Date(0), /x/gi, new Uint8Array([1, 2]), [1, , 3], new Array(3)]", "[Object(1), Object('s'), Object(true)]",
      "['%s', { deep: { er: { est: 1 } } }]", "[{ s: 'it\\'s', q: 'say \"hi\"', n: 'a\\nb' }]",
      "[Array.from({ length: 30 }, (_, i) => i)]", "[Array.from({ length: 120 }, (_, i) => i * 7)]", "[Array.from({ length: 26 }, (_, i) => String.fromCharCode(97 + i).repeat(i % 5 + 1))]",
      "[new Uint8Array(40)]", "[{ arr: Array.from({ length: 10 }, (_, i) => ({ i })) }]", "[new Error('e').message]", "[{ longKeyNumberOne: 'some value here', longKeyNumberTwo: 'another value', three: 3 }]",
    ];
    const format = vm.runInContext('(rt, args) => rt.consoleFormat(...args)', iso.context);
    const mismatches = [];
    for (const e of exprs) {
      const args = vm.runInContext(e, iso.context);
      const mine = format(iso.runtime, args);
      const node = util.format(...args);
      if (mine !== node) mismatches.push(`${e}\n  prelude: ${JSON.stringify(mine)}\n  node:    ${JSON.stringify(node)}`);
    }
    if (mismatches.length) throw new Error(mismatches.join('\n'));
  }],

  ['object handler gets request, env and ctx; incoming headers are immutable', async (opts) => {
    const { r } = await run(opts, `
      export default {
        async fetch(request, env, ctx) {
          if (typeof ctx.waitUntil !== 'function' || typeof ctx.passThroughOnException !== 'function') throw new Error('ctx');
          if (JSON.stringify(ctx.props) !== '{}') throw new Error('props');
          let threw = false;
          try { request.headers.set('x', 'y'); } catch (e) { threw = e instanceof TypeError; }
          if (!threw) throw new Error('incoming headers must be immutable');
          const body = await request.json();
          return new Response(JSON.stringify({ method: request.method, url: request.url, h: request.headers.get('X-Test'), body }), { status: 201, statusText: 'Made', headers: { 'x-out': '1' } });
        }
      };`, { method: 'POST', url: 'https://worker.test/path?q=1', headers: [['x-test', 'yes'], ['content-type', 'application/json']], body: '{"a":1}' });
    assert.equal(r.error, null, r.error && r.error.stack);
    assert.equal(r.start.status, 201);
    assert.equal(r.start.statusText, 'Made');
    assert.deepEqual(Array.from(r.start.headers.find((h) => h[0] === 'x-out')), ['x-out', '1']);
    assert.deepEqual(JSON.parse(r.body), { method: 'POST', url: 'https://worker.test/path?q=1', h: 'yes', body: { a: 1 } });
    assert.deepEqual(r.events, ['start', 'chunk', 'end']);
  }],

  ['class handler (WorkerEntrypoint from cloudflare:workers) is constructed with (ctx, env)', async (opts) => {
    const { r } = await run(opts, `
      import { WorkerEntrypoint, DurableObject, RpcTarget, WorkflowEntrypoint } from 'cloudflare:workers';
      if (typeof DurableObject !== 'function' || typeof RpcTarget !== 'function' || typeof WorkflowEntrypoint !== 'function') throw new Error('exports');
      const d = new DurableObject('c', 'e');
      if (d.ctx !== 'c' || d.env !== 'e') throw new Error('DurableObject fields');
      export default class extends WorkerEntrypoint {
        async fetch(request) {
          if (typeof this.ctx.waitUntil !== 'function') throw new Error('ctx missing');
          return new Response('class:' + JSON.stringify(this.env) + ':' + new URL(request.url).pathname);
        }
      }`, { url: 'https://worker.test/abc' });
    assert.equal(r.error, null, r.error && r.error.stack);
    assert.equal(r.body.toString(), 'class:{}:/abc');
  }],

  ['non-Response result is a TypeError with the workerd message', async (opts) => {
    const { r } = await run(opts, `export default { fetch() { return 'nope'; } };`);
    assert.equal(r.start, null);
    assert.equal(r.error.name, 'TypeError');
    assert.equal(r.error.message, "Incorrect type for Promise: the Promise did not resolve to 'Response'.");
    assert.equal(r.error.passThrough, false);
  }],

  ['thrown errors are reported with stack and passThroughOnException flag', async (opts) => {
    const { r, iso } = await run(opts, `export default { async fetch(req, env, ctx) { ctx.passThroughOnException(); await null; throw new RangeError('boom'); } };`);
    assert.equal(r.error.name, 'RangeError');
    assert.equal(r.error.message, 'boom');
    assert.match(r.error.stack, /RangeError: boom\n\s+at /);
    assert.equal(r.error.passThrough, true);
    assert.equal(iso.state.logs.filter((l) => l[0] === 'error').length, 0, 'handler errors are not logged by the prelude');
  }],

  ['streamed body: chunks of strings, ArrayBuffers and views, in order', async (opts) => {
    const { r } = await run(opts, `
      export default {
        fetch() {
          const stream = new ReadableStream({
            async start(c) {
              c.enqueue(new TextEncoder().encode('a'));
              c.enqueue('b');
              c.enqueue(new Uint8Array([0x63]).buffer);
              c.enqueue(new DataView(new Uint8Array([0, 0x64, 0]).buffer, 1, 1));
              await scheduler.wait(5);
              c.enqueue(new Uint16Array([0x6665]));
              c.close();
            }
          });
          return new Response(stream);
        }
      };`);
    assert.equal(r.error, null, r.error && r.error.stack);
    assert.equal(r.body.toString(), 'abcdef');
    assert.deepEqual(r.events, ['start', 'chunk', 'chunk', 'chunk', 'chunk', 'chunk', 'end']);
  }],

  ['body stream error after responseStart is reported via responseError', async (opts) => {
    const { r } = await run(opts, `
      export default {
        fetch() {
          let n = 0;
          return new Response(new ReadableStream({
            pull(c) { if (n++ === 0) c.enqueue(new Uint8Array([1])); else c.error(new Error('mid-stream')); }
          }));
        }
      };`);
    assert.deepEqual(r.events, ['start', 'chunk', 'error']);
    assert.equal(r.error.message, 'mid-stream');
  }],

  ['dispatchFetch waits for waitUntil; rejections are logged, not thrown', async (opts) => {
    const { r, iso } = await run(opts, `
      let finished = false;
      export default {
        fetch(req, env, ctx) {
          ctx.waitUntil(scheduler.wait(60).then(() => { finished = true; console.log('waited'); }));
          ctx.waitUntil(Promise.reject(new Error('bg failure')));
          return new Response('quick');
        }
      };`);
    assert.equal(r.body.toString(), 'quick');
    assert.ok(iso.state.logs.some((l) => l[0] === 'log' && l[1] === 'waited'), 'waitUntil finished before dispatch settled');
    const err = iso.state.logs.find((l) => l[0] === 'error');
    assert.ok(err && /bg failure/.test(err[1]), 'rejection logged');
  }],

  ['timers: fireTimer runs callbacks, errors are logged with stack, leftovers are cancelled', async (opts) => {
   for (const bigintIds of [false, true]) {
    const { r, iso } = await run(opts, `
      export default {
        async fetch() {
          setTimeout(() => { throw new Error('timer boom'); }, 1);
          setTimeout(() => {}, 60000); // still pending when the invocation ends
          let n = 0;
          await new Promise((resolve) => { const id = setInterval(() => { if (++n === 3) { clearInterval(id); resolve(); } }, 1); });
          await scheduler.wait(5);
          return new Response(String(n));
        }
      };`, {}, 7, { bigintIds });
    assert.equal(r.body.toString(), '3');
    const err = iso.state.logs.find((l) => l[0] === 'error');
    assert.ok(err && /timer boom/.test(err[1]) && /\n\s+at /.test(err[1]), 'timer exception logged with stack');
    assert.equal(iso.state.timers.size, 0, `pending timers of a finished invocation are cleared with the host (bigint ids: ${bigintIds})`);
   }
  }],

  ['fetch goes through host.fetch with method, headers, body and invocation id', async (opts) => {
    const { r } = await run(opts, `
      export default {
        async fetch() {
          const res = await fetch('https://echo.test/redirect', { method: 'post', headers: { 'X-A': '1' }, body: 'payload' });
          let immutable = false;
          try { res.headers.set('a', 'b'); } catch (e) { immutable = e instanceof TypeError; }
          const j = await res.json();
          return Response.json({ j, status: res.status, ok: res.ok, url: res.url, redirected: res.redirected, immutable, cookies: res.headers.getSetCookie(), bodyUsed: res.bodyUsed });
        }
      };`, {}, 42);
    assert.equal(r.error, null, r.error && r.error.stack);
    const out = JSON.parse(r.body);
    assert.equal(out.j.method, 'POST');
    assert.equal(out.j.url, 'https://echo.test/redirect');
    assert.equal(out.j.body, 'payload');
    assert.deepEqual(out.j.headers.find((h) => h[0] === 'x-a'), ['x-a', '1']);
    assert.deepEqual(out.j.headers.find((h) => h[0] === 'content-type'), ['content-type', 'text/plain;charset=UTF-8']);
    assert.equal(out.status, 200);
    assert.equal(out.url, 'https://echo.test/final');
    assert.equal(out.redirected, true);
    assert.equal(out.immutable, true);
    assert.deepEqual(out.cookies, ['a=1', 'b=2']);
    assert.equal(out.bodyUsed, true);
  }],

  ['fetch: host rejection is a TypeError; abort rejects with the reason and ignores the late result', async (opts) => {
    const { r } = await run(opts, `
      export default {
        async fetch() {
          const out = {};
          try { await fetch('https://error.test/'); } catch (e) { out.err = e.name + ':' + e.message; }
          const ac = new AbortController();
          const p = fetch('https://slow.test/', { signal: ac.signal });
          setTimeout(() => ac.abort(new Error('stop it')), 10);
          try { await p; out.aborted = 'resolved?!'; } catch (e) { out.aborted = e.message; }
          try { await fetch('https://echo.test/', { signal: AbortSignal.abort() }); } catch (e) { out.pre = e.name; }
          try { await fetch('https://slow.test/', { signal: AbortSignal.timeout(10) }); } catch (e) { out.timeout = e.name; }
          await scheduler.wait(150); // the slow host call completes meanwhile and must be ignored
          try { await fetch('/relative'); } catch (e) { out.rel = e.name; }
          try { await fetch('https://echo.test/', { method: 'GET', body: 'x' }); } catch (e) { out.getBody = e.name; }
          return Response.json(out);
        }
      };`);
    assert.equal(r.error, null, r.error && r.error.stack);
    assert.deepEqual(JSON.parse(r.body), { err: 'TypeError:connection refused', aborted: 'stop it', pre: 'AbortError', timeout: 'TimeoutError', rel: 'TypeError', getBody: 'TypeError' });
  }],

  ['Response.error() and used bodies are errors', async (opts) => {
    let { r } = await run(opts, `export default { fetch() { return Response.error(); } };`);
    assert.equal(r.error.name, 'TypeError');
    ({ r } = await run(opts, `export default { async fetch() { const res = new Response('x'); await res.text(); return res; } };`));
    assert.equal(r.error.name, 'TypeError');
    assert.equal(r.start, null);
  }],

  ['uncaught exceptions in event listeners and microtasks are logged', async (opts) => {
    const { r, iso } = await run(opts, `
      export default {
        async fetch() {
          const t = new EventTarget();
          t.addEventListener('x', () => { throw new Error('listener boom'); });
          t.addEventListener('x', () => { globalThis.second = true; });
          t.dispatchEvent(new Event('x'));
          queueMicrotask(() => { throw new Error('microtask boom'); });
          await null; await null;
          return new Response(String(globalThis.second));
        }
      };`);
    assert.equal(r.body.toString(), 'true');
    const errors = iso.state.logs.filter((l) => l[0] === 'error').map((l) => l[1]).join('\n');
    assert.match(errors, /listener boom/);
    assert.match(errors, /microtask boom/);
  }],
  ['Request\'s cache option follows the worker\'s cache_option_enabled (setCompatibility)', async (opts) => {
    const iso = createIsolate(opts.preludePath, {});
    const handler = await loadWorker(iso, `export default { fetch() {
      try { return new Response(new Request('https://x.test/', { cache: 'no-store' }).cache); }
      catch (e) { return new Response(e.constructor.name + ': ' + e.message); }
    } }`, 'cache.js');
    assert.equal((await dispatch(iso, handler, {}, 1)).body.toString(), 'no-store');
    iso.runtime.setCompatibility(0);
    assert.equal((await dispatch(iso, handler, {}, 2)).body.toString(),
      "Error: The 'cache' field on 'RequestInitializerDict' is not implemented.");
    iso.runtime.setCompatibility(CACHE_OPTION);
    assert.equal((await dispatch(iso, handler, {}, 3)).body.toString(), 'no-store');
  }],

  ['a cross-origin redirect drops Authorization from 2025-09-01 (strip_authorization_on_cross_origin_redirect), keeps it before', async (opts) => {
    const iso = createIsolate(opts.preludePath, { fetch: echoFetch });
    const handler = await loadWorker(iso, `export default { async fetch() {
      const res = await fetch('https://echo.test/cross-origin', { headers: { authorization: 'Bearer t', 'x-a': '1' } });
      const j = await res.json();
      return Response.json({ url: j.url, auth: (j.headers.find((h) => h[0] === 'authorization') ?? [])[1] ?? null,
        other: (j.headers.find((h) => h[0] === 'x-a') ?? [])[1] ?? null });
    } }`, 'redirect.js');
    iso.runtime.setCompatibility(STRIP_AUTHORIZATION);
    assert.deepEqual(JSON.parse((await dispatch(iso, handler, {}, 1)).body), { url: 'https://other.test/final', auth: null, other: '1' });
    iso.runtime.setCompatibility(0);
    assert.deepEqual(JSON.parse((await dispatch(iso, handler, {}, 2)).body), { url: 'https://other.test/final', auth: 'Bearer t', other: '1' });
  }],

  ['cjsModule (the CommonJS modules of ModuleLinker): the body runs once; require() of faces, namespaces, cycles; the errors of workerd', async (opts) => {
    const iso = createIsolate(opts.preludePath, { verbose: opts.verbose });
    const compile = (src) => vm.runInContext(`(function (exports, require, module, __filename, __dirname) {${src}\n})`, iso.context);
    const faces = {};
    // What ModuleLinker.requireModule answers: [kind, value] (0 invalid, 1 missing, 2 face, 3 namespace, 4 throw, 5 failed).
    const host = (spec, from) => {
      switch (spec) {
        case './a.cjs': return [2, faces.a];
        case './b.cjs': return [2, faces.b];
        case './boom.cjs': return [2, faces.boom];
        case './esm.js': return [3, { default: 'esm default', other: 1 }];
        case './mx.js': return [3, { 'module.exports': 'mx', default: 'ignored' }];
        case '../x': return [0];
        case 'missing': return [1, `lib/missing (from ${from})`];
        default: return [5, `could not link ${spec}`];
      }
    };
    const make = (name, src, exportDefault = true) => iso.runtime.cjsModule(name, compile(src), host, exportDefault);
    faces.a = make('lib/a.cjs', `globalThis.runs = (globalThis.runs || 0) + 1;
      exports.early = true;
      module.exports.b = require('./b.cjs');
      module.exports.where = __filename + ' ' + __dirname;
      module.exports.esm = require('./esm.js');
      module.exports.mx = require('./mx.js');
      module.exports.self = this === exports;`);
    faces.b = make('lib/b.cjs', `exports.sawEarly = require('./a.cjs').early;`);
    faces.boom = make('boom.cjs', `throw new RangeError('once');`);
    const a = faces.a.default;
    assert.equal(faces.a.default, a);
    assert.equal(vm.runInContext('globalThis.runs', iso.context), 1);
    assert.deepEqual({ ...a, b: { ...a.b } }, { early: true, b: { sawEarly: true }, where: '/lib/a.cjs /lib', esm: 'esm default', mx: 'mx', self: true });
    const errors = make('errors.cjs', `module.exports = ['../x', 'missing', './boom.cjs', './boom.cjs', 'other'].map((s) => {
      try { require(s); return 'ok'; } catch (e) { return e.name + ': ' + e.message; } });`).default;
    assert.deepEqual([...errors], ['TypeError: Invalid module specifier "../x".', 'Error: No such module "lib/missing (from errors.cjs)".',
      'RangeError: once', 'RangeError: once', 'Error: could not link other']);
    assert.equal(make('ns.cjs', `module.exports = require('./esm.js');`, false).default.other, 1);
  }],

  ['importer (dynamic import() of ModuleLinker): ToString of the specifier, V8\'s checks of the options, the host\'s answers as promises, never a synchronous throw', async (opts) => {
    const iso = createIsolate(opts.preludePath, { verbose: opts.verbose });
    const ns = { ns: true };
    const asked = [];
    // What ModuleLinker.importModule answers: [kind, ...] (0 namespace, 1 pending evaluation, 2 throw, 3 error, 4 type error).
    const host = (spec, from) => {
      asked.push(`${spec} from ${from}`);
      switch (spec) {
        case './a.js': return [0, ns];
        case './tla.js': return [1, Promise.resolve(), ns, true];
        case './rejects.js': return [1, Promise.reject(new RangeError('late')), ns, true];
        case './boom.js': return [2, new RangeError('boom')];
        case '../x': return [3, 'No such module "../x"'];
        default: return [4, `Invalid module specifier "${spec}".`];
      }
    };
    const load = iso.runtime.importer('lib/m.js', host);
    const settle = (p) => p.then((v) => v, (e) => `${e.name}: ${e.message}`);
    assert.equal(await load('./a.js'), ns);
    assert.equal(await load({ toString: () => './a.js' }), ns);
    assert.equal(await load('./tla.js'), ns);
    assert.equal(await settle(load('./rejects.js')), 'RangeError: late');
    assert.equal(await settle(load('./boom.js')), 'RangeError: boom');
    assert.equal(await settle(load('../x')), 'Error: No such module "../x"');
    assert.equal(await settle(load('other')), 'TypeError: Invalid module specifier "other".');
    let p;
    assert.doesNotThrow(() => { p = load(Symbol('s')); });
    assert.equal(await settle(p), 'TypeError: Cannot convert a Symbol value to a string');
    assert.equal(await settle(load('./a.js', 1)), 'TypeError: The second argument to import() must be an object');
    assert.equal(await settle(load('./a.js', { with: 'json' })), "TypeError: The 'with' option must be an object");
    assert.equal(await settle(load('./a.js', { with: { type: 1 } })), 'TypeError: Import attribute value must be a string');
    assert.equal(await load('./a.js', { with: { type: 'json' } }), ns);
    assert.equal(await load('./a.js', {}), ns);
    // The options were refused before the host was asked; every other call asked it from lib/m.js.
    assert.equal(asked.length, 9);
    assert.ok(asked.every((a) => a.endsWith(' from lib/m.js')));
  }],
];
