import { WorkerEntrypoint, DurableObject, exports } from 'cloudflare:workers';

const DATE = '2025-06-01';

export class Local extends WorkerEntrypoint {
  greet(name) { return `local hello ${name}`; }
  whoami() { return this.ctx.props; }
}

// A parent's egress interceptor: a dynamic worker's globalOutbound.
export class Outbound extends WorkerEntrypoint {
  async fetch(request) {
    const body = request.method === 'GET' ? '' : await request.text();
    return new Response(`intercepted ${request.method} ${request.url} body=${body} tenant=${this.ctx.props.tenant}`);
  }
}

// A tail worker: stores what it receives.
export class Tail extends WorkerEntrypoint {
  async tail(events) {
    await this.env.TAILLOG.getByName(this.ctx.props?.log ?? 'log').add(events);
  }
}

export class TailLog extends DurableObject {
  add(events) {
    const all = this.ctx.storage.kv.get('events') ?? [];
    all.push(...events);
    this.ctx.storage.kv.put('events', all);
  }
  list() { return this.ctx.storage.kv.get('events') ?? []; }
}

export class Aborter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.n = 0;
    ctx.storage.kv.put('constructed', (ctx.storage.kv.get('constructed') ?? 0) + 1);
  }
  ping() { return 'pong'; }
  exportsKeys() { return Object.keys(this.ctx.exports).sort(); }
  inc() { return ++this.n; }
  constructions() { return this.ctx.storage.kv.get('constructed'); }
  slow() {
    this.started = true;
    return new Promise((resolve) => { this.release = resolve; }).then(() => 'slow done');
  }
  isStarted() { return this.started === true; }
  abortNow() {
    if (this.release) this.release();
    this.ctx.abort('reset!');
  }
  async armAbortingAlarm() {
    this.ctx.storage.kv.put('alarms', 0);
    await this.ctx.storage.setAlarm(Date.now() + 50);
  }
  async alarm() {
    this.ctx.storage.kv.put('alarms', (this.ctx.storage.kv.get('alarms') ?? 0) + 1);
    // Committed first: abort() drops what the object wrote since its last commit (as workerd).
    await new Promise((resolve) => setTimeout(resolve, 1));
    this.ctx.abort('alarm reset', { retryAlarm: false });
  }
  alarms() { return this.ctx.storage.kv.get('alarms') ?? 0; }
}

async function settle(p) {
  try {
    return { ok: true, value: await p };
  } catch (e) {
    return { ok: false, error: `${e.name}: ${e.message}` };
  }
}

// Request coalescing (ServicesTest): what /coalesce-lead's calls to back will settle, which
// /coalesce-follow awaits with nothing of its own in flight.
let coalesced;

const json = (v) => new Response(JSON.stringify(v), { headers: { 'content-type': 'application/json' } });
const wait = (ms) => new Promise((r) => setTimeout(r, ms));

const CHILD = `
import { WorkerEntrypoint } from 'cloudflare:workers';
export class Api extends WorkerEntrypoint {
  who() { return this.ctx.props; }
  counter() { let n = 0; return () => ++n; }
  async tryFetch() {
    try { return await (await fetch('https://example.com/t')).text(); } catch (e) { return 'refused: ' + e.message; }
  }
}
export default {
  async fetch(request, env, ctx) {
    const path = new URL(request.url).pathname;
    if (path === '/self') return new Response(JSON.stringify(await ctx.exports.Api({ props: { me: 1 } }).who()));
    if (path === '/out') {
      const r = await fetch('https://api.example.com/v1?q=1', { method: 'POST', body: 'hi' });
      const seen = JSON.stringify({ env, props: ctx.props, keys: Object.keys(ctx.exports).sort() });
      return new Response((await r.text()) + ' | ' + seen);
    }
    if (path === '/throw') { console.log('child about to throw'); throw new Error('child boom'); }
    console.log('child log', path);
    return new Response('dyn ' + JSON.stringify(ctx.props));
  },
};`;

function child(extra = {}) {
  return { compatibilityDate: DATE, mainModule: 'm.js', modules: { 'm.js': CHILD }, ...extra };
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case '/echo':
        return new Response(`echo ${JSON.stringify(ctx.props)}`);
      case '/service':
        return json({
          fetch: await (await env.BACK.fetch('https://back.test/x', { method: 'PUT', body: 'b' })).text(),
          greet: await env.ADMIN.greet('ada'),
          adminFetch: await (await env.ADMIN.fetch('https://admin.test/y')).text(),
          props: await env.ADMIN.whoami(),
          configured: await env.CONFIGURED.whoami(),
          tag: Object.prototype.toString.call(env.BACK),
          defaultRpc: await settle(env.BACK.greet('x')),
          handlerRpc: await env.BACK.double(21),
          handlerTwoArgs: await settle(env.BACK.double(1, 2)),
          path: await env.ADMIN.tools.add(2, 3),
          pathValue: await env.ADMIN.tools.deep.n,
          pathThroughMap: await settle(env.ADMIN.tools.box.size),
          missing: await settle(env.ADMIN.nothing()),
          notCallable: await settle((async () => env.BACK({ props: { a: 1 } }))()),
          forge: await settle((async () => new (Object.getPrototypeOf(env.BACK).constructor)())()),
        });
      case '/hung':
        return json({ call: await settle(env.ADMIN.neverReturn()) });
      case '/coalesce-lead': {
        // A fetch, then an RPC call, to another worker, each longer than the hang grace.
        const ms = Number(url.searchParams.get('ms'));
        coalesced = (async () => {
          const fetched = await (await env.BACK.fetch(`https://back.test/slow?wait=${ms}`)).text();
          return `${fetched}; ${await env.ADMIN.slowly(ms)}`;
        })();
        return new Response(`lead: ${await coalesced}`);
      }
      case '/coalesce-follow':
        while (coalesced === undefined) await wait(10);
        return new Response(`follow: ${await coalesced}`);
      case '/exports':
        return json({
          greet: await ctx.exports.Local.greet('bo'),
          props: await ctx.exports.Local({ props: { tenant: 't1' } }).whoami(),
          noProps: await ctx.exports.Local.whoami(),
          dflt: await (await ctx.exports.default.fetch('https://self.test/echo')).text(),
          dfltProps: await (await ctx.exports.default({ props: { p: 1 } }).fetch('https://self.test/echo')).text(),
          same: exports === ctx.exports,
          keys: Object.keys(ctx.exports).sort(),
          ns: await ctx.exports.Aborter.getByName('ns').ping(),
          objectSees: await ctx.exports.Aborter.getByName('ns').exportsKeys(),
          envHasNoExports: env.Aborter === undefined && env.Local === undefined,
        });
      case '/peek': {
        const stub = ctx.exports.Local({ props: { secret: 'p-secret' } });
        return json({
          ownKeys: Reflect.ownKeys(stub).length,
          names: Object.getOwnPropertyNames(stub),
          json: JSON.stringify(stub) ?? null,
          desc: Object.getOwnPropertyDescriptor(stub, 'props') ?? null,
          props: await settle(stub.props),
          ctx: await settle(stub.ctx),
          whoami: await stub.whoami(),
        });
      }
      case '/dynamic': {
        const w = env.LOADER.get('ent', () => child({ globalOutbound: ctx.exports.Outbound({ props: { tenant: 't-out' } }) }));
        return json({
          who: await w.getEntrypoint('Api', { props: { user: 'u1' } }).who(),
          whoNone: await w.getEntrypoint('Api').who(),
          dflt: await (await w.getEntrypoint(undefined, { props: { d: 2 } }).fetch('https://d.test/')).text(),
          self: await (await w.getEntrypoint().fetch('https://d.test/self')).text(),
          capped: await w.getEntrypoint('Api', { limits: { subRequests: 0 } }).tryFetch(),
          uncapped: await w.getEntrypoint('Api').tryFetch(),
        });
      }
      case '/outbound': {
        const w = env.LOADER.load(child({ globalOutbound: ctx.exports.Outbound({ props: { tenant: 't9', token: 'tok-secret' } }) }));
        return new Response(await (await w.getEntrypoint().fetch('https://d.test/out')).text());
      }
      case '/outbound-service': {
        const w = env.LOADER.load(child({ globalOutbound: env.BACK }));
        return new Response(await (await w.getEntrypoint('Api').tryFetch()));
      }
      case '/outbound-invalid':
        return json({
          object: await settle(env.LOADER.load(child({ globalOutbound: { fetch() { return new Response('x'); } } })).getEntrypoint().fetch('https://d.test/')),
          tails: await settle(env.LOADER.load(child({ tails: [{}] })).getEntrypoint().fetch('https://d.test/')),
        });
      case '/tails': {
        const w = env.LOADER.get('tailed', () => child({ tails: [ctx.exports.Tail] }));
        const ok = await (await w.getEntrypoint().fetch('https://d.test/hello')).text();
        const threw = await settle(w.getEntrypoint().fetch('https://d.test/throw'));
        return json({ ok, threw });
      }
      case '/tails/capability': {
        // A tailed child's RPC result that holds a function: the tail's listener passes it on.
        const w = env.LOADER.get('tailed-cap', () => child({ tails: [ctx.exports.Tail({ props: { log: 'caps' } })] }));
        const next = await w.getEntrypoint('Api').counter();
        return json({ a: await next(), b: await next() });
      }
      case '/tails/list':
        return json(await env.TAILLOG.getByName('log').list());
      case '/abort': {
        const s = ctx.exports.Aborter.getByName('a1');
        const a = await s.inc();
        const b = await s.inc();
        const c1 = await s.constructions();
        const p = settle(s.slow());
        while (!(await s.isStarted())) await wait(10);
        const abort = await settle(s.abortNow());
        const slow = await p;
        // The stub that met the reset stays broken (as in workerd); a new one reaches the new instance.
        const sameStub = await settle(s.inc());
        const again = ctx.exports.Aborter.getByName('a1');
        const after = await again.inc();
        const c2 = await again.constructions();
        return json({ a, b, abort, slow, sameStub, after, constructedAgain: c2 - c1 });
      }
      case '/alarm-abort/arm':
        await ctx.exports.Aborter.getByName('al').armAbortingAlarm();
        return new Response('armed');
      case '/alarm-abort/count':
        return new Response(`${await ctx.exports.Aborter.getByName('al').alarms()}`);
      case '/dclass': {
        const w = env.LOADER.load(child());
        const c = w.getDurableObjectClass('App');
        return json({
          tag: Object.prototype.toString.call(c),
          keys: Reflect.ownKeys(c).length,
          empty: await settle((async () => w.getDurableObjectClass(''))()),
        });
      }
      default:
        return new Response('not found', { status: 404 });
    }
  },
};
