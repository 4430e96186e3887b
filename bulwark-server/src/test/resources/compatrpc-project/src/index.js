// The callee of CompatRpcTest's callers, and the host that loads them with the date under test.
import { WorkerEntrypoint, RpcTarget } from 'cloudflare:workers';
import CALLER from './caller.txt';
import PROXY from './proxy.txt';

const outcome = (p) => Promise.resolve(p).then(
  (value) => ({ value }),
  (e) => ({ error: { name: e?.name, message: e?.message } }));

let stashed = null; // a parameter a callee tries to keep past its call
let stashedDup = null; // and a dup() of it
let returnedDups = 0; // dup() calls on a target Keeper returned (a result moves: never called)

class Returned extends RpcTarget {
  ping() { return 'pong'; }
  dup() { returnedDups++; return new Returned(); }
}

export class Keeper extends WorkerEntrypoint {
  async increment(stub, i) { return await stub.increment(i); }

  async callFn(holder, i) { return await holder.fn(i); }

  // Keeps a dup() past the call: the call returns at once, the dup is used 100 ms later.
  keep(stub) {
    const d = stub.dup();
    this.ctx.waitUntil(scheduler.wait(100).then(() => d.increment(100)).finally(() => d[Symbol.dispose]()));
    return 'kept';
  }

  stash(stub) {
    stashed = stub;
    stashedDup = stub.dup();
    return 'stashed';
  }

  async useStashed() {
    return {
      param: await outcome(stashed.increment(1000)),
      dupOfParam: await outcome(stashedDup.increment(1000)),
      dupAgain: await outcome((async () => stashed.dup())()),
    };
  }

  // What an error inside a value arrived as (the caller's enhanced_error_serialization decides).
  describe(value) {
    const e = value.e;
    return { ctor: e.constructor.name, name: e.name, message: e.message, extra: e.extra ?? null, callersStack: `${e.stack}`.includes('caller.js') };
  }

  throwRich() {
    const e = new RangeError('thrown');
    e.extra = 8;
    throw e;
  }

  throwNamed() {
    class MyError extends Error { constructor(m) { super(m); this.name = 'MyError'; this.code = 42; } }
    throw new MyError('named');
  }

  giveTarget() { return new Returned(); }

  returnedDups() { return returnedDups; }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const flags = (url.searchParams.get('flags') ?? '').split(',').filter((f) => f !== '');
    const proxyDate = url.searchParams.get('proxy') ?? '2026-02-01';
    const proxy = env.LOADER.load({
      compatibilityDate: proxyDate,
      mainModule: 'proxy.js',
      modules: { 'proxy.js': PROXY },
      env: { KEEPER: env.KEEPER },
      globalOutbound: null,
    });
    const caller = env.LOADER.load({
      compatibilityDate: url.searchParams.get('date'),
      compatibilityFlags: flags,
      mainModule: 'caller.js',
      modules: { 'caller.js': CALLER },
      env: { KEEPER: env.KEEPER, PROXY: proxy.getEntrypoint('Proxy') },
      globalOutbound: null,
    });
    return Response.json(await caller.getEntrypoint('Caller').run(url.searchParams.get('case')));
  },
};
