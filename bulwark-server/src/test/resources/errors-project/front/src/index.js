// Errors across stubs (StubErrorsTest): the same worker ran on workerd 2026-11-17 to make
// ../workerd-measured.json. /?k=<kind> throws that kind through every kind of stub; /?w=life
// resets an object (ctx.abort, a rejected blockConcurrencyWhile) and calls it again.
import { DurableObject, WorkerEntrypoint } from 'cloudflare:workers';
import { make } from './thrower.js';
const KINDS = ['error','type','range','custom','string','object','number','undefined','props','dom','agg','cause','remoteflag'];
export class Obj extends DurableObject {
  constructor(ctx, env) { super(ctx, env); this.n = (globalThis.__n = (globalThis.__n||0) + 1); }
  async fetch(req) {
    const u = new URL(req.url);
    if (u.pathname === '/ok') return new Response('ok ' + this.n);
    if (u.pathname === '/bcwcatch') { try { await this.ctx.blockConcurrencyWhile(async () => { throw new Error('inner bcw'); }); return new Response('no throw'); } catch (e) { return new Response('caught ' + e.name + ': ' + e.message + ' remote=' + e.remote + ' reset=' + e.durableObjectReset); } }
    throw make(u.searchParams.get('k'));
  }
  async boom(k) { throw make(k); }
  syncBoom(k) { throw make(k); }
  ok() { return 'ok ' + this.n; }
  abortMe(reason) { this.ctx.abort(reason); return 'after abort'; }
  async bcw(k) { await this.ctx.blockConcurrencyWhile(async () => { throw make(k); }); return 'bcw returned'; }
}
function describe(e) {
  if (e === null || (typeof e !== 'object' && typeof e !== 'function')) return { thrown: typeof e, value: String(e) };
  const d = { ctor: e.constructor?.name, isError: e instanceof Error, name: e.name, message: e.message,
    own: Object.getOwnPropertyNames(e).filter(x => x !== 'stack'), hasStack: 'stack' in e,
    stack0: typeof e.stack === 'string' ? e.stack.split('\n').slice(0, 2).join(' | ') : e.stack };
  for (const p of ['remote','retryable','overloaded','durableObjectReset','code','detail','num','a','msg','cause','errors','durableObjectId']) if (p in e) d[p] = e[p] instanceof Error ? 'Error:' + e[p].message : e[p];
  d.keys = Object.keys(e); d.json = JSON.stringify(e);
  d.desc = {}; for (const p of ['message','name','remote','durableObjectId','code','f','g','hidden','stack']) { const x = Object.getOwnPropertyDescriptor(e, p); if (x) d.desc[p] = (x.enumerable?'e':'') + (x.writable?'w':'') + (x.configurable?'c':'') + (x.get?'G':''); }
  if (e.inner) d.inner = { ctor: e.inner.constructor.name, msg: e.inner.message, k: e.inner.k, remote: e.inner.remote };
  return d;
}
async function tryIt(f) {
  try { const r = await f(); if (r instanceof Response) return { response: r.status, headers: [...r.headers], body: (await r.text()).slice(0, 300) }; return { value: r }; }
  catch (e) { return { rejected: describe(e) }; }
}
const DYN = { compatibilityDate: '2026-11-17', mainModule: 'w.js', modules: {
  'w.js': `import { WorkerEntrypoint } from 'cloudflare:workers'; import { make } from './thrower.js';
    export class E extends WorkerEntrypoint { async fetch(req) { throw make(new URL(req.url).searchParams.get('k')); } async boom(k) { throw make(k); } }
    export default { async fetch(req) { throw make(new URL(req.url).searchParams.get('k')); } }`,
  'thrower.js': "export class MyError extends Error { constructor(m) { super(m); this.name = 'MyError'; } }\nexport function make(kind) {\n  switch (kind) {\n    case 'error': return new Error('plain boom');\n    case 'type': return new TypeError('type boom');\n    case 'range': return new RangeError('range boom');\n    case 'custom': return new MyError('custom boom');\n    case 'string': return 'string boom';\n    case 'object': return { a: 1, msg: 'object boom' };\n    case 'number': return 42;\n    case 'undefined': return undefined;\n    case 'props': { const e = new Error('props boom'); e.code = 'E_X'; e.detail = { x: 1 }; e.num = 7; return e; }\n    case 'dom': return new DOMException('dom boom', 'NotFoundError');\n    case 'agg': return new AggregateError([new Error('a')], 'agg boom');\n    case 'cause': return new Error('cause boom', { cause: new Error('inner') });\n    case 'protoname': { class P extends Error {} P.prototype.name = 'ProtoName'; return new P('proto boom'); }\n    case 'nomsg': return new Error();\n    case 'fnprop': { const e = new Error('fn boom'); e.f = () => 1; return e; }\n    case 'getter': { const e = new Error('getter boom'); Object.defineProperty(e, 'g', { get() { return 5; }, enumerable: true }); Object.defineProperty(e, 'hidden', { value: 9, enumerable: false }); return e; }\n    case 'null': return null;\n    case 'nested': { const e = new Error('nested boom'); e.inner = new TypeError('inner t'); e.inner.k = 1; return e; }\n    case 'eval': return new EvalError('eval boom');\n    case 'syntax': return new SyntaxError('syntax boom');\n    case 'ref': return new ReferenceError('ref boom');\n    case 'uri': return new URIError('uri boom');\n    case 'remoteflag': { const e = new Error('flag boom'); e.remote = false; e.retryable = true; return e; }\n  }\n}\n" } };
export default {
  async fetch(req, env, ctx) {
    const u = new URL(req.url); const out = {};
    const which = u.searchParams.get('w') || 'all';
    if (which === 'id') return new Response(env.OBJ.idFromName('x').toString());
    if (which === 'hostile') {
      // The attacker's side: a dynamic worker throws what it likes at its caller.
      const w = env.LOADER.get('hostile', () => ({ compatibilityDate: '2026-11-17', mainModule: 'h.js', modules: { 'h.js': `
        export default { async fetch(req) {
          const k = new URL(req.url).searchParams.get('k');
          if (k === 'big') { const e = new Error('big boom'); e.big = 'x'.repeat(200000); throw e; }
          if (k === 'proxy') throw new Proxy({}, { ownKeys() { throw new Error('trap'); }, get() { throw new Error('trap'); } });
          if (k === 'reset') { const e = new Error('fake reset'); e.durableObjectReset = true; throw e; }
        } }` } }));
      const out = {};
      for (const k of ['big', 'proxy', 'reset']) out[k] = await tryIt(() => w.getEntrypoint().fetch('http://h/?k=' + k));
      return Response.json(out);
    }
    if (which === 'life') {
      const L = {}; let i = 0;
      const s = () => env.OBJ.getByName(u.searchParams.get('name') || 'life');
      L.n0 = await tryIt(() => s().ok());
      L.abortErr = await tryIt(() => s().abortMe(new Error('bye now')));
      L.afterAbortRpc = await tryIt(() => s().ok());
      L.abortType = await tryIt(() => s().abortMe(new TypeError('typed bye')));
      L.abortString = await tryIt(() => s().abortMe('string bye'));
      L.abortNone = await tryIt(() => s().abortMe());
      L.afterAbortFetch = await tryIt(() => s().fetch('http://o/ok'));
      const st = s(); L.sameStubBefore = await tryIt(() => st.ok());
      L.abortViaFetchStub = await tryIt(() => st.abortMe(new Error('x')));
      L.sameStubAfter = await tryIt(() => st.ok());
      L.sameStubAfterFetch = await tryIt(() => st.fetch('http://o/ok'));
      L.bcwError = await tryIt(() => s().bcw('error'));
      L.afterBcw = await tryIt(() => s().ok());
      L.bcwType = await tryIt(() => s().bcw('type'));
      L.bcwString = await tryIt(() => s().bcw('string'));
      L.bcwProps = await tryIt(() => s().bcw('props'));
      L.afterBcw2 = await tryIt(() => s().ok());
      const st2 = s(); await st2.ok(); 
      L.bcwSameStub = await tryIt(() => st2.bcw('error'));
      L.sameStubAfterBcw = await tryIt(() => st2.ok());
      L.bcwFetchCaught = await tryIt(() => s().fetch('http://o/bcwcatch'));
      return Response.json(L);
    }
    const ks = u.searchParams.get('k') ? [u.searchParams.get('k')] : KINDS;
    for (const k of ks) {
      const r = {};
      if (which === 'all' || which === 'do') {
        const s = env.OBJ.getByName('x');
        r.doFetch = await tryIt(() => s.fetch('http://o/throw?k=' + k));
        r.doRpc = await tryIt(() => s.boom(k));
        r.doRpcSync = await tryIt(() => s.syncBoom(k));
      }
      if (which === 'all' || which === 'svc') {
        r.svcFetch = await tryIt(() => env.SVC.fetch('http://s/?k=' + k));
        r.svcRpc = await tryIt(() => env.SVC.boom(k));
      }
      if (which === 'all' || which === 'dyn') {
        const w = env.LOADER.get('dyn1', () => DYN);
        r.dynFetch = await tryIt(() => w.getEntrypoint().fetch('http://d/?k=' + k));
        r.dynEntFetch = await tryIt(() => w.getEntrypoint('E').fetch('http://d/?k=' + k));
        r.dynRpc = await tryIt(() => w.getEntrypoint('E').boom(k));
      }
      out[k] = r;
    }
    return Response.json(out);
  }
};
