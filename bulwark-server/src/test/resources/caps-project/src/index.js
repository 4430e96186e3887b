// Scenarios of capabilities passed by reference between a parent and the dynamic workers it
// loads. Each path answers JSON that CapabilitiesTest checks exactly.
import { DurableObject, RpcTarget, RpcStub } from "cloudflare:workers";
import { revoke } from "bulwark:rpc";

export class Counter extends DurableObject {
  async increment(by) {
    const n = ((await this.ctx.storage.get("n")) ?? 0) + by;
    await this.ctx.storage.put("n", n);
    return n;
  }
}

async function attempt(fn) {
  try {
    return await fn();
  } catch (e) {
    return `${e.name}: ${e.message}`;
  }
}

const code = (body, env = {}) => ({
  compatibilityDate: "2025-06-01",
  mainModule: "main.js",
  modules: { "main.js": `import { WorkerEntrypoint, RpcTarget } from "cloudflare:workers";\n${body}` },
  env,
  globalOutbound: null,
});

class Api extends RpcTarget {
  constructor(prefix) {
    super();
    this.prefix = prefix; // an instance field: not reachable over RPC
    this.disposed = false;
    this.whenDisposed = new Promise((resolve) => (this.markDisposed = resolve));
  }
  get name() { return "api"; }
  greet(who) { return `${this.prefix} ${who}`; }
  fail(kind) {
    if (kind === "range") throw new RangeError("out of range");
    throw new TypeError("wrong type");
  }
  withCallback(cb) { return cb("from-api"); }
  [Symbol.dispose]() {
    this.disposed = true;
    this.markDisposed();
  }
}

const within = (promise, ms) => Promise.race([promise, new Promise((r) => setTimeout(() => r("timed out"), ms))]);

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/callbacks": {
        const child = env.LOADER.load(code(`
          export default class extends WorkerEntrypoint {
            async run(opts) {
              const a = await opts.deep.nested.double(21);
              const b = await opts.list[1]("x");
              // A callback that takes a callback: the parent calls back into this child.
              const c = await opts.deep.nested.apply((v) => v + "!", "hey");
              const same = opts.list[0] === opts.list[2];
              return { a, b, c, same, kinds: [typeof opts.deep.nested.double, typeof opts.plain] , plain: opts.plain };
            }
          }`));
        const double = (n) => n * 2;
        const opts = {
          deep: { nested: { double, apply: async (f, v) => await f(v) } },
          list: [double, (s) => s.repeat(3), double],
          plain: { n: 1 },
        };
        return Response.json(await child.getEntrypoint().run(opts));
      }
      case "/target": {
        const child = env.LOADER.load(code(`
          export default class extends WorkerEntrypoint {
            async use(api) {
              const out = {};
              out.greet = await api.greet("bob");
              out.name = await api.name;
              out.field = await api.prefix.then(() => "read", (e) => e.name + ": " + e.message);
              out.ctor = await api.constructor().then(() => "called", (e) => e.name + ": " + e.message);
              out.range = await api.fail("range").then(() => "no", (e) => e.constructor.name + ": " + e.message);
              out.type = await api.fail("type").then(() => "no", (e) => e.constructor.name + ": " + e.message);
              out.cb = await api.withCallback((s) => "child got " + s);
              return out;
            }
          }`));
        const api = new Api("hello");
        const out = await child.getEntrypoint().use(api);
        out.disposedAfterCall = await within(api.whenDisposed.then(() => api.disposed), 5000);
        return Response.json(out);
      }
      case "/chain": {
        // A gives B a callback; B passes it on to C; C's calls reach A.
        const c = env.LOADER.load(code(`
          export default class extends WorkerEntrypoint {
            async callIt(cb) { return "C saw " + await cb("c"); }
          }`));
        const b = env.LOADER.load(code(`
          export default class extends WorkerEntrypoint {
            async relay(cb, c) {
              const r = await c.callIt(cb);
              // The stub was moved to C: B's own copy is disposed, as in workerd.
              const after = await cb("b").then(() => "usable", (e) => e.message);
              return { r, after };
            }
          }`));
        const calls = [];
        const cb = (who) => { calls.push(who); return "A answered " + who; };
        const out = await b.getEntrypoint().relay(cb, c.getEntrypoint());
        out.calls = calls;
        return Response.json(out);
      }
      case "/codemode": {
        // Code Mode's pattern: an RpcTarget in the child's env and as an entrypoint argument.
        const tools = new Api("tool");
        const dispatcher = new Api("dispatch");
        const child = env.LOADER.load(code(`
          export default class extends WorkerEntrypoint {
            async evaluate(d) {
              const viaEnv = await this.env.codemode.greet("env");
              const viaArg = await d.greet("arg");
              return { viaEnv, viaArg, plain: this.env.plain };
            }
          }`, { codemode: tools, plain: "data" }));
        const ep = child.getEntrypoint();
        const out = await ep.evaluate(dispatcher);
        out.argDisposed = await within(dispatcher.whenDisposed.then(() => true), 5000);
        return Response.json(out);
      }
      case "/dispose": {
        const child = env.LOADER.load(code(`
          export default class extends WorkerEntrypoint {
            async run(cb) {
              const dup = cb.dup();
              const first = await cb(1);
              cb[Symbol.dispose]();
              const afterDispose = await cb(2).then(() => "usable", (e) => e.name + ": " + e.message);
              const dupStill = await dup(3);
              { using scoped = dup.dup(); await scoped(4); var held = scoped; }
              const afterUsing = await held(5).then(() => "usable", (e) => e.name + ": " + e.message);
              return { first, afterDispose, dupStill, afterUsing };
            }
          }`));
        return Response.json(await child.getEntrypoint().run((n) => n * 10));
      }
      case "/expired": {
        const child = env.LOADER.get("keeper", () => code(`
          let kept = null;
          export default class extends WorkerEntrypoint {
            async keep(cb) { kept = cb; return await cb(); }
            async later() { return await kept().then(() => "usable", (e) => e.name + ": " + e.message); }
          }`));
        const ep = child.getEntrypoint();
        const first = await ep.keep(() => "ok");
        const later = await ep.later();
        return Response.json({ first, later });
      }
      case "/returned": {
        // A stub returned to the caller stays usable after the callee's invocation ended.
        const child = env.LOADER.load(code(`
          class Box extends RpcTarget { constructor(v) { super(); this.v = v; } get() { return this.v; } set(v) { this.v = v; return v; } }
          export default class extends WorkerEntrypoint {
            make(v) { return new Box(v); }
            selfish() { const f = () => f; return f; }
            cyclic() { const o = { f: () => "in cycle" }; o.self = o; return o; }
            throwingGetter() { return { get boom() { throw new RangeError("getter threw"); } }; }
            huge() { return "x".repeat(40 * 1024 * 1024); }
          }`));
        const ep = child.getEntrypoint();
        const box = await ep.make(5);
        const out = { first: await box.get(), set: await box.set(7), second: await box.get() };
        const f = await ep.selfish();
        const g = await f();
        out.selfAgain = typeof (await g());
        const o = await ep.cyclic();
        out.cycle = o.self === o;
        out.cycleCall = await o.self.f();
        out.getter = await attempt(() => ep.throwingGetter());
        out.huge = await attempt(() => ep.huge());
        out.stillFine = await box.get();
        // Promise pipelining's API: members of a result used before it settles.
        out.pipelined = await ep.make(9).get();
        out.pipelinedPath = await ep.cyclic().self.self.f();
        out.pipelinedThen = await ep.make(3).then((b) => b.get());
        return Response.json(out);
      }
      case "/object": {
        // A durable object stub passed to a dynamic worker, which has no binding of its own.
        const stub = env.COUNTER.getByName("shared");
        const child = env.LOADER.load(code(`
          export default class extends WorkerEntrypoint {
            async bump(counter, by) { return await counter.increment(by); }
            async viaEnv() { return await this.env.counter.increment(100); }
          }`, { counter: env.COUNTER.getByName("shared") }));
        const before = await stub.increment(0);
        const a = await child.getEntrypoint().bump(stub, 1);
        const b = await child.getEntrypoint().viaEnv();
        return Response.json({ a: a - before, b: b - before });
      }
      case "/java": {
        const child = env.LOADER.load(code(`
          export default class extends WorkerEntrypoint {
            async run(tool) {
              const viaEnv = await this.env.TOOL.add(1, 2);
              const viaArg = await tool.echo({ s: "é", n: 1.5, list: [true, null], bytes: new Uint8Array([1, 2]) });
              const types = await tool.types(7, 1.5, 2n, new Date(0), new Map([[1, "a"]]), new Set([1]), new TypeError("t"), undefined);
              const v = await tool.echo({ m: new Map([[1, "a"]]), set: new Set(["x"]), d: new Date(5), big: 2n ** 64n, e: new RangeError("r") });
              const back = [v.m instanceof Map && v.m.get(1) === "a", v.set instanceof Set && v.set.has("x"),
                v.d instanceof Date && v.d.getTime() === 5, v.big === 2n ** 64n, v.e instanceof RangeError && v.e.message === "r"];
              const regexp = await tool.echo(/x/).then(() => "no", (e) => e.constructor.name + ": " + e.message);
              const unsendable = await tool.unsendable().then(() => "no", (e) => e.constructor.name + ": " + e.message);
              const failed = await this.env.TOOL.fail().then(() => "no", (e) => e.constructor.name + ": " + e.message);
              const fn = await tool.add(() => 1).then(() => "no", (e) => e.constructor.name + ": " + e.message);
              return { viaEnv, viaArg: { ...viaArg, bytes: Array.from(viaArg.bytes) }, types, back, regexp, unsendable, failed, fn };
            }
          }`, { TOOL: env.TOOL }));
        return Response.json(await child.getEntrypoint().run(env.TOOL));
      }
      case "/revoke": {
        const api = new Api("revocable");
        const child = env.LOADER.load(code(`
          export default class extends WorkerEntrypoint {
            async call() { return await this.env.api.greet("x").then((v) => v, (e) => e.name + ": " + e.message); }
          }`, { api }));
        const ep = child.getEntrypoint();
        const before = await ep.call();
        const revoked = revoke(api);
        const after = await ep.call();
        return Response.json({ before, revoked, after });
      }
      case "/stream": {
        // Byte streams cross as streams, pulled one chunk per read (never ahead of the reader).
        const child = env.LOADER.load(code(`
          export default class extends WorkerEntrypoint {
            async digest(stream) {
              const b = new Uint8Array(await new Response(stream).arrayBuffer());
              let sum = 0;
              for (const x of b) sum = (sum + x) % 65521;
              return { length: b.length, sum };
            }
            counting() {
              let n = 0;
              const stream = new ReadableStream({ pull(c) { n++; c.enqueue(new Uint8Array([n])); } }, { highWaterMark: 0 });
              return { stream, pulls: () => n };
            }
            async text(stream) { return await new Response(stream).text(); }
          }`));
        const ep = child.getEntrypoint();
        const total = 3 * 1024 * 1024 + 5;
        let sent = 0, expected = 0;
        const big = new ReadableStream({
          pull(c) {
            const n = Math.min(700000, total - sent);
            if (n === 0) { c.close(); return; }
            const b = new Uint8Array(n);
            for (let i = 0; i < n; i++) { b[i] = (sent + i) & 0xff; expected = (expected + b[i]) % 65521; }
            sent += n;
            c.enqueue(b);
          },
        });
        const digest = await ep.digest(big);
        const { stream, pulls } = await ep.counting();
        const before = await pulls();
        const reader = stream.getReader();
        const first = (await reader.read()).value[0];
        const second = (await reader.read()).value[0];
        const after = await pulls();
        await reader.cancel();
        const strings = await attempt(() => ep.text(new ReadableStream({ start(c) { c.enqueue("not bytes"); c.close(); } })));
        return Response.json({ length: digest.length, sumMatches: digest.sum === expected, before, first, second, after, strings });
      }
      case "/writable": {
        // A WritableStream crosses by reference: the child writes, this side's sink gets the bytes.
        // Writes resolve within a window of calls on their way (a sink that never takes a chunk
        // holds the writer back); Request and Response cross with their bodies.
        const child = env.LOADER.load(code(`
          export default class extends WorkerEntrypoint {
            async fill(stream, n) {
              const writer = stream.getWriter();
              for (let i = 0; i < n; i++) await writer.write(new Uint8Array(100000).fill(i & 0xff));
              await writer.close();
            }
            async flood(stream) {
              const writer = stream.getWriter();
              let resolved = 0;
              for (let i = 0; i < 64; i++) writer.write(new Uint8Array(65536)).then(() => resolved++, () => {});
              await scheduler.wait(300);
              return resolved;
            }
            async echo(request) {
              return new Response(request.body, { status: 201, headers: { "x-method": request.method }, cf: { k: 1 } });
            }
            async aborted(signal) {
              if (signal.aborted) return "already";
              return await new Promise((resolve) => signal.addEventListener("abort", () => resolve(signal.reason.message)));
            }
            signalBack() {
              return new AbortController().signal; // this child lacks enable_abortsignal_rpc
            }
          }`));
        const ep = child.getEntrypoint();
        let received = 0, sum = 0, closed = false;
        await ep.fill(new WritableStream({
          write(chunk) { received += chunk.length; for (const x of chunk) sum = (sum + x) % 65521; },
          close() { closed = true; },
        }), 40);
        let expected = 0;
        for (let i = 0; i < 40; i++) expected = (expected + 100000 * (i & 0xff)) % 65521;
        const resolved = await ep.flood(new WritableStream({ write() { return new Promise(() => {}); } }));
        const big = "x".repeat(2 * 1024 * 1024 + 3);
        const res = await ep.echo(new Request("http://in/", { method: "POST", body: big }));
        const echoed = await res.text();
        // An AbortSignal: the child's aborts, with this side's reason, when this side's does.
        const controller = new AbortController();
        const waiting = ep.aborted(controller.signal);
        await scheduler.wait(50);
        controller.abort(new Error("stop"));
        const abortReason = await waiting;
        let signalRefused;
        try { await ep.signalBack(); } catch (e) { signalRefused = `${e.name}: ${e.message}`; }
        // A stub on a value of this isolate (new RpcStub) takes a WritableStream too.
        let localWritten = 0;
        const local = new RpcStub({
          async fill(w) { const writer = w.getWriter(); await writer.write(new Uint8Array([1, 2, 3])); await writer.close(); },
        });
        await local.fill(new WritableStream({ write(c) { localWritten += c.length; } }));
        return Response.json({ received, sumMatches: sum === expected, closed, resolved,
          status: res.status, method: res.headers.get("x-method"), cf: res.cf, echoed: echoed === big, abortReason, signalRefused, localWritten });
      }
      case "/probe": {
        // A child walks a stub looking for the host: it finds only RPC properties and its own realm.
        const child = env.LOADER.load(code(`
          export default class extends WorkerEntrypoint {
            async probe(stub) {
              const out = {};
              out.protoIsOwnFunctionPrototype = Object.getPrototypeOf(stub) === Function.prototype;
              out.ctor = await stub.constructor("return globalThis").then(() => "called", (e) => e.message);
              out.proto = await stub.__proto__.then(() => "read", (e) => e.message);
              out.keys = Reflect.ownKeys(stub).filter((k) => typeof k === "string").sort();
              out.set = (() => { try { stub.x = 1; return "set"; } catch (e) { return e.constructor.name; } })();
              out.call = await stub("ok");
              return out;
            }
          }`));
        return Response.json(await child.getEntrypoint().probe((s) => "called with " + s));
      }
      case "/gone": {
        // The child exports a function; its sandbox is killed (by the test) while the parent keeps calling it.
        const child = env.LOADER.load(code(`
          export default class extends WorkerEntrypoint { makeFn() { return () => "alive"; } }`));
        const f = await child.getEntrypoint().makeFn();
        const first = await f();
        console.log("gone: ready");
        const deadline = Date.now() + 60000;
        let firstError = null;
        while (Date.now() < deadline) {
          try {
            await f();
          } catch (e) {
            firstError = e.message;
            break;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
        await new Promise((r) => setTimeout(r, 300));
        const later = await attempt(() => f());
        return Response.json({ first, failed: firstError !== null, later });
      }
      default:
        return new Response("not found", { status: 404 });
    }
  },
};
