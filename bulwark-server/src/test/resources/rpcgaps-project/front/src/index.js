// Scenarios of PassedStubsTest: each path answers JSON the test checks exactly.
import { DurableObject, WorkerEntrypoint, RpcStub } from "cloudflare:workers";

export class Room extends DurableObject {
  async fetch(request) {
    const n = ((await this.ctx.storage.get("n")) ?? 0) + 1;
    await this.ctx.storage.put("n", n);
    return new Response(`room ${this.ctx.id.name ?? "?"} ${request.method} ${new URL(request.url).pathname} #${n}`);
  }
  hello(who) { return `room says hello to ${who}`; }
  huge() { return "y".repeat(33 << 20); }
  echo(s) { return s; }
  make(n) { return "r".repeat(n); }
}

export class Scoped extends WorkerEntrypoint {
  props() { return this.ctx.props; }
  async fetch(request) {
    return new Response(`scoped fetch ${new URL(request.url).pathname} props=${JSON.stringify(this.ctx.props)}`);
  }
}

// Tail events of dynamic workers, kept in order (the outbound summary of capability calls).
export class TailSink extends WorkerEntrypoint {
  async tail(events) { await this.env.TAILS.getByName("log").add(events); }
}

export class Tails extends DurableObject {
  add(events) {
    const all = this.ctx.storage.kv.get("events") ?? [];
    all.push(...events);
    this.ctx.storage.kv.put("events", all);
  }
  list() { return this.ctx.storage.kv.get("events") ?? []; }
}

async function attempt(fn) {
  try {
    return await fn();
  } catch (e) {
    return `${e.name}: ${e.message}`;
  }
}

const code = (body, env = {}, extra = {}) => ({
  compatibilityDate: "2025-06-01",
  mainModule: "main.js",
  modules: { "main.js": `import { WorkerEntrypoint } from "cloudflare:workers";\n${body}` },
  env,
  globalOutbound: null,
  ...extra,
});

// The child's side: what a stub it was given (as an argument, or in env) can do.
const PROBE = `
  async function probe(stub, path) {
    const out = {};
    out.tag = Object.prototype.toString.call(stub);
    const r = await stub.fetch("https://any.host" + path, { method: "POST", body: "payload" });
    out.status = r.status;
    out.body = await r.text();
    return out;
  }
  async function attempt(fn) {
    try { return await fn(); } catch (e) { return e.name + ": " + e.message; }
  }
`;

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/object": {
        // A durable object stub as an RPC argument and in a dynamic worker's env: fetch(), id,
        // name and RPC all work on the receiver's side.
        const room = env.ROOM.getByName("lobby");
        const child = env.LOADER.load(code(`${PROBE}
          export default class extends WorkerEntrypoint {
            async viaArg(room) {
              const out = await probe(room, "/arg");
              out.id = room.id.toString();
              out.idTag = Object.prototype.toString.call(room.id);
              out.name = room.name;
              out.idName = room.id.name;
              out.equals = room.id.equals(room.id);
              out.rpc = await room.hello("arg");
              return out;
            }
            async viaEnv() {
              const out = await probe(this.env.ROOM, "/env");
              out.id = this.env.ROOM.id.toString();
              out.name = this.env.ROOM.name;
              out.rpc = await this.env.ROOM.hello("env");
              return out;
            }
          }`, { ROOM: env.ROOM.getByName("lobby") }));
        const ep = child.getEntrypoint();
        return Response.json({ expectedId: room.id.toString(), arg: await ep.viaArg(room), env: await ep.viaEnv() });
      }
      case "/service": {
        // Service bindings (with and without config props) and a ctx.exports entrypoint with props,
        // in the child's env and as arguments: fetch() and RPC reach the granted entrypoint, with
        // the granter's props, which the child never sees.
        const child = env.LOADER.load(code(`${PROBE}
          export default class extends WorkerEntrypoint {
            async viaEnv() {
              return {
                back: await probe(this.env.BACK, "/b"),
                scoped: await probe(this.env.SCOPED, "/s"),
                scopedRpc: await this.env.SCOPED.whoami(),
                self: await probe(this.env.SELF, "/self"),
                selfRpc: await this.env.SELF.props(),
                envKeys: Object.keys(this.env).sort(),
                peek: await attempt(() => this.env.SCOPED.props),
              };
            }
            async viaArg(svc, self) {
              return { svc: await probe(svc, "/arg"), self: await self.props() };
            }
          }`, { BACK: env.BACK, SCOPED: env.SCOPED, SELF: ctx.exports.Scoped({ props: { grantee: "child" } }) }));
        const ep = child.getEntrypoint();
        return Response.json({
          env: await ep.viaEnv(),
          arg: await ep.viaArg(env.SCOPED, ctx.exports.Scoped({ props: { grantee: "arg" } })),
        });
      }
      case "/outbound": {
        // A props-specialized ctx.exports entrypoint as globalOutbound: the child's fetch() goes to it.
        const child = env.LOADER.load(code(`
          export default class extends WorkerEntrypoint {
            async run() { return await (await fetch("https://example.com/out")).text(); }
          }`, {}, { globalOutbound: ctx.exports.Scoped({ props: { via: "outbound" } }) }));
        return Response.json({ text: await child.getEntrypoint().run() });
      }
      case "/entrypoint": {
        // A dynamic worker's entrypoint specialized with props and limits, passed to another dynamic
        // worker: its props (and its lowered subrequest limit) travel with it.
        const inner = env.LOADER.load(code(`
          export default class extends WorkerEntrypoint {
            props() { return this.ctx.props; }
            async fetch(request) { return new Response("inner " + JSON.stringify(this.ctx.props)); }
          }`));
        const outer = env.LOADER.load(code(`${PROBE}
          export default class extends WorkerEntrypoint {
            async run(ep) { return { rpc: await ep.props(), fetch: await probe(ep, "/x") }; }
          }`));
        return Response.json(await outer.getEntrypoint().run(inner.getEntrypoint(undefined, { props: { level: 2 } })));
      }
      case "/forged": {
        // The child cannot name a capability it was not given: no index of its own import table
        // (stubs are proxies over a private index), and a fetch through a stub it was given but
        // disposed fails.
        const child = env.LOADER.load(code(`${PROBE}
          export default class extends WorkerEntrypoint {
            async run(room) {
              room[Symbol.dispose]();
              return { afterDispose: await attempt(() => room.fetch("https://x/after")) };
            }
          }`));
        return Response.json(await child.getEntrypoint().run(env.ROOM.getByName("forged")));
      }
      case "/blocking": {
        // Top-level code that never ends: the parent catches a load error naming the limit.
        const spin = env.LOADER.load(code(`while (true) {}\nexport default class extends WorkerEntrypoint { ok() { return 1; } }`,
          {}, { limits: { cpuMs: 200 } }));
        const wait = env.LOADER.load(code(`Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
          export default class extends WorkerEntrypoint { ok() { return 1; } }`, {}, { limits: { cpuMs: 300 } }));
        const fail = async (stub) => {
          try {
            await stub.getEntrypoint().ok();
            return "loaded";
          } catch (e) {
            return { name: e.name, message: e.message, code: e.code ?? null };
          }
        };
        return Response.json({ spin: await fail(spin), wait: await fail(wait) });
      }
      case "/context": {
        // A callback runs inside the request that passed it: its closures, and a stub this request
        // received (which dies with this request), are usable from it.
        const maker = env.LOADER.load(code(`
          import { RpcTarget } from "cloudflare:workers";
          class Box extends RpcTarget { constructor(v) { super(); this.v = v; } get() { return this.v; } }
          export default class extends WorkerEntrypoint { make(v) { return new Box(v); } }`));
        const box = await maker.getEntrypoint().make(41); // a stub held by this request
        let calls = 0;
        const callback = async (x) => { calls++; return (await box.get()) + x; };
        const child = env.LOADER.load(code(`
          export default class extends WorkerEntrypoint {
            async run(cb) { return [await cb(1), await cb(2)]; }
            async relay(give) { const b = await give(); return await b.get(); }
            async viaEnv() { return await this.env.CB(10); }
          }`, { CB: callback }));
        const results = await child.getEntrypoint().run(callback);
        const viaEnv = await child.getEntrypoint().viaEnv();
        // A callback may return a stub its request holds: the child gets its own stub on it.
        const relayed = await child.getEntrypoint().relay(() => box.dup());
        return Response.json({ results, viaEnv, calls, relayed });
      }
      case "/keep": {
        // A cached child holds, in its env, a callback of the request that loaded it.
        const child = env.LOADER.get("keeper", () => code(`
          let kept = null;
          export default class extends WorkerEntrypoint {
            async call() { return await this.env.CB(); }
            async keep(room) { kept = room; return (await room.fetch("https://x/kept")).status; }
            async useKept() {
              try { await kept.fetch("https://x/again"); return "fetched"; } catch (e) { return e.name + ": " + e.message; }
            }
          }`, { CB: () => "called back" }));
        const ep = child.getEntrypoint();
        return Response.json({ now: await ep.call(), kept: await ep.keep(env.ROOM.getByName("kept")) });
      }
      case "/later": {
        // A later request reaches that cached child: the callback's request has ended.
        const child = env.LOADER.get("keeper", () => { throw new Error("expected the cached child"); });
        return Response.json({ later: await attempt(() => child.getEntrypoint().call()),
          keptStub: await child.getEntrypoint().useKept() });
      }
      case "/tailed": {
        // A child's capability calls (a callback, a durable object's RPC and fetch, one that
        // throws, one refused) are in its invocation's outbound summary, as its tail event shows.
        const child = env.LOADER.load(code(`
          export default class extends WorkerEntrypoint {
            async run(cb, room) {
              await cb(1);
              await room.hello("tail");
              await (await room.fetch("https://x/t")).text();
              try { await cb(-1); } catch {}
              room[Symbol.dispose]();
              return "done";
            }
          }`, {}, { tails: [ctx.exports.TailSink] }));
        const cb = (x) => { if (x < 0) throw new RangeError("negative"); return x; };
        return Response.json({ run: await child.getEntrypoint().run(cb, env.ROOM.getByName("tails")) });
      }
      case "/tails": {
        const events = await env.TAILS.getByName("log").list();
        return Response.json(events.map((e) => ({ rpcMethod: e.event?.rpcMethod ?? null, outbound: e.outbound })));
      }
      case "/oversize": {
        // RPC payloads travel whole: past the limits each side gets a clear error, and the stub goes on
        // working; a fetch body streams (no limit).
        const room = env.ROOM.getByName("big");
        const child = env.LOADER.load(code(`
          export default class extends WorkerEntrypoint {
            take(s) { return s.length; }
            async bigBody(room) {
              const r = await room.fetch("https://x/big", { method: "POST", body: "z".repeat(9 << 20) }).then((r) => r.status, (e) => e.name + ": " + e.message);
              const huge = await room.huge().then((s) => s.length, (e) => e.name + ": " + e.message);
              return { r, huge, after: await room.hello("after") };
            }
          }`));
        const ep = child.getEntrypoint();
        return Response.json({
          args: await attempt(() => ep.take("x".repeat(33 << 20))),
          small: await ep.take("x"),
          child: await ep.bigBody(room),
        });
      }
      case "/rpc32": {
        // RPC payloads up to Workers' 32 MiB, both ways, to a durable object and to a dynamic worker;
        // one case per request (each holds up to two 32 MiB copies).
        const target = url.searchParams.get("to") === "object" ? env.ROOM.getByName("rpc32") : env.LOADER.load(code(`
          export default class extends WorkerEntrypoint {
            echo(s) { return s; }
            make(n) { return "r".repeat(n); }
          }`)).getEntrypoint();
        // Arguments of one string of n characters serialize to n + 10 bytes, a result to n + 7.
        const cases = {
          echo: async () => {
            const arg = "a".repeat(20 << 20) + "end";
            const back = await target.echo(arg);
            return { same: back === arg, length: back.length };
          },
          make: async () => {
            const made = await target.make(20 << 20);
            return { same: made === "r".repeat(20 << 20), length: made.length };
          },
          argsAtLimit: async () => (await target.echo("x".repeat((32 << 20) - 10))).length,
          argsPastLimit: () => target.echo("x".repeat((32 << 20) + 1 - 10)),
          resultAtLimit: async () => (await target.make((32 << 20) - 7)).length,
          resultPastLimit: () => target.make((32 << 20) + 1 - 7),
        };
        const out = await attempt(cases[url.searchParams.get("case")]);
        return Response.json({ out, after: await target.make(3) });
      }
      case "/props": {
        // Stubs, functions and entrypoints in getEntrypoint's props cross by reference: the child's
        // ctx.props.x works for the call. The child keeps ctx.props in a global (the attacker's move).
        const child = env.LOADER.get("propsholder", () => code(`
          let stolen = null;
          export default class extends WorkerEntrypoint {
            async run() {
              stolen = this.ctx.props;
              const p = this.ctx.props;
              return [p.tag, await p.room.hello("props"), await p.cb("now"), await (await p.self.fetch("https://x/p")).text(),
                Object.prototype.toString.call(p.room)].join(" | ");
            }
            async callback() { return await this.ctx.props.cb("again"); }
            async later() {
              const out = {};
              for (const k of ["room", "cb", "self"]) {
                try {
                  out[k] = k === "room" ? await stolen.room.hello("later") : k === "cb" ? await stolen.cb("later")
                    : await (await stolen.self.fetch("https://x/later")).text();
                } catch (e) { out[k] = e.name + ": " + e.message; }
              }
              return out;
            }
          }`));
        const props = { tag: "t1", room: env.ROOM.getByName("props"), cb: (s) => "cb " + s,
          self: ctx.exports.Scoped({ props: { grantee: "props" } }) };
        const ep = child.getEntrypoint(undefined, { props });
        const capProps = ctx.exports.Scoped({ props: { room: env.ROOM.getByName("props") } });
        return Response.json({
          run: await ep.run(),
          // An entrypoint whose props hold stubs is not passed on (its stubs are granted per call).
          passOn: await attempt(() => child.getEntrypoint(undefined, { props: { inner: capProps } }).run()),
          asArg: await attempt(() => ep.run(capProps)),
          // Neither are ctx.exports.X itself (workerd's LoopbackServiceStub) or a dynamic worker's entrypoint.
          loopback: await attempt(() => child.getEntrypoint(undefined, { props: { x: ctx.exports.Scoped } }).run()),
          dynamic: await attempt(() => child.getEntrypoint(undefined, { props: { x: child.getEntrypoint() } }).run()),
          // A stub in props that the granter disposed since fails the call as the stub itself would.
          disposed: await (async () => {
            const local = new RpcStub((s) => "local " + s);
            const withLocal = child.getEntrypoint(undefined, { props: { cb: local } });
            const before = await withLocal.callback();
            local[Symbol.dispose]();
            return [before, await attempt(() => withLocal.callback())];
          })(),
        });
      }
      case "/props-load-fails": {
        // A fetch with a function in its props, sent behind a load that fails: the call never
        // reaches a callee, and the node lets go of the function it had taken in for it.
        const child = env.LOADER.load(code(`export default {`));
        const ep = child.getEntrypoint(undefined, { props: { cb: () => "never" } });
        return Response.json({ fetch: await attempt(async () => (await ep.fetch("https://x/")).status) });
      }
      case "/props-later": {
        // A later request: what the child kept from the earlier call's ctx.props is dead.
        const child = env.LOADER.get("propsholder", () => { throw new Error("expected the cached child"); });
        return Response.json(await child.getEntrypoint().later());
      }
      case "/hostile": {
        // A child that answers 100 MB: refused in the child; the child, the parent and the node go on.
        const child = env.LOADER.load(code(`
          export default class extends WorkerEntrypoint {
            flood() { return "h".repeat(100_000_000); }
            small() { return "fine"; }
          }`)).getEntrypoint();
        return Response.json({
          flood: await attempt(() => child.flood()),
          small: await child.small(),
          room: await env.ROOM.getByName("after-flood").hello("me"),
        });
      }
      default:
        return new Response("not found", { status: 404 });
    }
  },
};
