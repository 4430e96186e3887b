// Loads dynamic workers from code in the request and calls them.
import wrapper from './wrap.cjs';
async function attempt(fn) {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, error: `${e.name}: ${e.message}` };
  }
}

const code = (body, extra = {}) => ({
  compatibilityDate: "2025-06-01",
  mainModule: "main.js",
  modules: { "main.js": body },
  env: {},
  globalOutbound: null,
  ...extra,
});

let callbacks = 0;

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const q = url.searchParams;
    switch (url.pathname) {
      case "/get": {
        const id = q.get("id");
        const worker = env.LOADER.get(id, async () => {
          callbacks++;
          return code(`export default { fetch(req, env) { return new Response("dyn " + ${JSON.stringify(id)} + " " + env.GREETING + " " + typeof env.SECRET_OF_THE_PARENT); } };`,
            { env: { GREETING: "hi" } });
        });
        const r = await worker.getEntrypoint().fetch(request);
        return new Response(`${await r.text()} callbacks=${callbacks}`);
      }
      case "/instance": {
        // A dynamic worker that counts the requests its one instance served; its code comes after
        // a pause, so concurrent first requests overlap their loads.
        const worker = env.LOADER.get(q.get("id"), async () => {
          await new Promise((r) => setTimeout(r, 50));
          return code(`let served = 0; export default { fetch() { return new Response("instance " + (++served)); } };`);
        });
        return worker.getEntrypoint().fetch("http://dyn/");
      }
      case "/big": {
        // More code than one 16 MiB frame from a sandbox holds: it travels to the node in chunks.
        const mb = Number(q.get("mb"));
        const bytes = new Uint8Array(mb * 1024 * 1024);
        bytes[bytes.length - 1] = 7;
        const main = `import big from "./big.bin";
          export default { fetch() { const b = new Uint8Array(big); return new Response(b.length + " " + b[b.length - 1]); } };`;
        const worker = env.LOADER.load(code(main, { modules: { "main.js": main, "big.bin": { data: bytes } } }));
        return worker.getEntrypoint().fetch("http://dyn/");
      }
      case "/api-id": {
        // The same id the tenant API loaded: the loader's own namespace, so its callback runs.
        const worker = env.LOADER.get(q.get("id"), () => code(`export default { fetch() { return new Response("loader's own"); } };`));
        return worker.getEntrypoint().fetch("http://dyn/");
      }
      case "/load": {
        const worker = env.LOADER.load(code(`export default { fetch() { return new Response("fresh"); } };`));
        return worker.getEntrypoint().fetch("http://dyn/");
      }
      case "/entrypoint": {
        const worker = env.LOADER.get("entry", () => code(`
          import { WorkerEntrypoint } from "cloudflare:workers";
          export class Admin extends WorkerEntrypoint { fetch() { return new Response("admin entrypoint"); } }
          export default { fetch() { return new Response("default"); } };`));
        const a = await (await worker.getEntrypoint("Admin").fetch("http://dyn/")).text();
        const d = await (await worker.getEntrypoint().fetch("http://dyn/")).text();
        const missing = await attempt(() => worker.getEntrypoint("Nope").fetch("http://dyn/"));
        return Response.json({ a, d, missing });
      }
      case "/modules": {
        const worker = env.LOADER.load({
          compatibilityDate: "2025-06-01",
          mainModule: "main.js",
          modules: {
            "main.js": `import greet from "./lib/greet.js"; import words from "./words.txt"; import data from "./cfg.json";
                        export default { fetch() { return new Response(greet(words) + " " + data.n); } };`,
            "lib/greet.js": { js: "export default (w) => 'greet ' + w.trim();" },
            "words.txt": { text: "text module\n" },
            "cfg.json": { json: { n: 42 } },
          },
          globalOutbound: null,
        });
        return worker.getEntrypoint().fetch("http://dyn/");
      }
      case "/cjs": {
        // CommonJS modules ({cjs}): imported from ES (module.exports is the default), require() of
        // CommonJS, ES and text modules; and a CommonJS main module whose exports are the handlers.
        const esMain = env.LOADER.load({
          compatibilityDate: "2025-06-01",
          mainModule: "main.js",
          modules: {
            "main.js": `import lib from "./lib/index.cjs";
                        export default { fetch() { return new Response(lib.greet("cjs") + " " + lib.file); } };`,
            "lib/index.cjs": { cjs: `const shout = require("./shout.cjs"); const suffix = require("../suffix.js");
                                     exports.greet = (w) => shout(require("/words.txt").trim() + " " + w) + suffix;
                                     exports.file = __filename;` },
            "lib/shout.cjs": { cjs: "module.exports = (s) => s.toUpperCase();" },
            "suffix.js": { js: "export default '!';" },
            "words.txt": { text: "hello\n" },
          },
          globalOutbound: null,
        });
        const cjsMain = env.LOADER.load({
          compatibilityDate: "2025-06-01",
          mainModule: "main.cjs",
          modules: {
            "main.cjs": { cjs: `module.exports = { fetch() { return new Response("cjs main " + require("./n.json").n); } };` },
            "n.json": { json: { n: 7 } },
          },
          globalOutbound: null,
        });
        const a = await (await esMain.getEntrypoint().fetch("http://dyn/")).text();
        const b = await (await cjsMain.getEntrypoint().fetch("http://dyn/")).text();
        return new Response(wrapper.wrap(a + " | " + b));
      }
      case "/anonymous": {
        // get(null | undefined, getCode): a worker of its own each time, its callback run without a call.
        let made = 0;
        const counter = () => {
          made++;
          return code(`import { WorkerEntrypoint } from "cloudflare:workers"; let i = 0;
            export default class extends WorkerEntrypoint { next() { return i++; } }`);
        };
        const a = env.LOADER.get(null, counter), b = env.LOADER.get(undefined, counter);
        env.LOADER.get(null, counter); // never called: its callback still runs
        await scheduler.wait(1);
        const madeBeforeCalls = made;
        const calls = [await a.getEntrypoint().next(), await a.getEntrypoint().next(), await b.getEntrypoint().next()];
        // load() copies the modules' bytes at once: a buffer changed afterwards changes nothing.
        const bytes = new TextEncoder().encode("kept");
        const copied = env.LOADER.load(code(`import data from "./d.bin"; export default { fetch() { return new Response(data); } };`,
          { modules: { "main.js": `import data from "./d.bin"; export default { fetch() { return new Response(data); } };`, "d.bin": { data: bytes } } }));
        bytes.fill(0);
        const data = await (await copied.getEntrypoint().fetch("http://dyn/")).text();
        return Response.json({ madeBeforeCalls, calls, made, data });
      }
      case "/compat": {
        // The WorkerCode's date and flags switch on what they do for a deployed worker.
        const probe = (date, flags, main) => attempt(() => env.LOADER.load({ compatibilityDate: date, compatibilityFlags: flags,
          mainModule: "main.js", modules: { "main.js": main } }).getEntrypoint().fetch("http://dyn/").then((r) => r.text()));
        const globals = `export default { fetch() { return new Response(typeof process + " " + typeof Buffer); } };`;
        const imports = `import { Buffer } from "node:buffer"; export default { fetch() { return new Response(typeof Buffer); } };`;
        return Response.json({
          v2: await probe("2025-01-01", ["nodejs_compat"], globals), v2Import: await probe("2025-01-01", ["nodejs_compat"], imports),
          none: await probe("2025-01-01", [], globals), noneImport: await probe("2025-01-01", [], imports),
          v1: await probe("2024-01-01", ["nodejs_compat"], globals), v1Import: await probe("2024-01-01", ["nodejs_compat"], imports),
        });
      }
      case "/object-rpc": {
        // An object export answers RPC as in workerd: a function gets (arg, env, ctx), one argument from the caller.
        const worker = env.LOADER.load(code(`export default {
          greet(name, env, ctx) { return env.word + ", " + name + " " + ctx.props.n; },
          pair(a, b, env, ctx) { return a + b; },
        };`, { env: { word: "Hello" } }));
        const ep = worker.getEntrypoint(undefined, { props: { n: 7 } });
        return Response.json({ one: await ep.greet("Ada"), none: await attempt(() => ep.greet()),
          two: await attempt(() => ep.greet("a", "b")), fourParams: await attempt(() => ep.pair(1, 2)) });
      }
      case "/invalid": {
        const tryLoad = (c) => attempt(async () => (await env.LOADER.load(c).getEntrypoint().fetch("http://dyn/")).text());
        return Response.json({
          noMain: await tryLoad({ compatibilityDate: "2025-06-01", modules: { "a.js": "export default {}" } }),
          mainMissing: await tryLoad({ compatibilityDate: "2025-06-01", mainModule: "b.js", modules: { "a.js": "export default {}" } }),
          badType: await tryLoad({ compatibilityDate: "2025-06-01", mainModule: "a.js", modules: { "a.js": "x", "b.wat": "y" } }),
          python: await tryLoad({ compatibilityDate: "2025-06-01", mainModule: "a.js", modules: { "a.js": "x", "b.py": "y" } }),
          pythonMain: await tryLoad({ compatibilityDate: "2025-06-01", mainModule: "a.py", modules: { "a.py": "y" } }),
          badDate: await tryLoad({ compatibilityDate: "yesterday", mainModule: "a.js", modules: { "a.js": "x" } }),
          futureDate: await tryLoad({ compatibilityDate: "2999-01-01", mainModule: "a.js", modules: { "a.js": "x" } }),
          syntax: await tryLoad(code("export default { fetch() { return new Response( }")),
          outside: await tryLoad(code(`import x from "../etc/passwd"; export default { fetch() { return new Response(x); } };`)),
          hugeEnv: await tryLoad(code("export default {}", { env: { big: "x".repeat(1100000) } })),
          hugeCode: await tryLoad(code("export default {}", { modules: { "main.js": "export default {}", "big.bin": { data: new Uint8Array(65 * 1024 * 1024) } } })),
          // A function in env crosses by reference (a capability), as in workerd.
          envFunction: await tryLoad(code("export default { async fetch(req, env) { return new Response(String(await env.f())); } };", { env: { f: () => 1 } })),
        });
      }
      case "/outbound": {
        const worker = env.LOADER.load(code(`export default { async fetch() {
          try { await fetch("http://example.com/"); return new Response("reached the network"); }
          catch (e) { return new Response(e.name + ": " + e.message); } } };`));
        return worker.getEntrypoint().fetch("http://dyn/");
      }
      case "/internal": {
        // A dynamic worker left on the network (no globalOutbound given) tries internal addresses.
        const worker = env.LOADER.load({ compatibilityDate: "2025-06-01", mainModule: "main.js", modules: { "main.js": `
          export default { async fetch(req) {
            const out = {};
            for (const target of await req.json()) {
              try { const r = await fetch(target); out[target] = "reached " + r.status; }
              catch (e) { out[target] = e.name + ": " + e.message; }
            }
            return Response.json(out); } };` } });
        return worker.getEntrypoint().fetch("http://dyn/", { method: "POST", body: q.get("targets") });
      }
      case "/hostile": {
        const worker = env.LOADER.load(code(`export default { async fetch(req, env, ctx) {
          const seen = [];
          seen.push(typeof globalThis.__bulwark_install);
          seen.push(Object.keys(env).join(","));
          seen.push(typeof process);
          return new Response(seen.join("|")); } };`));
        return worker.getEntrypoint().fetch("http://dyn/");
      }
      case "/rpc": {
        const worker = env.LOADER.get("calc", () => code(`
          import { WorkerEntrypoint } from "cloudflare:workers";
          export class Calc extends WorkerEntrypoint {
            add(a, b) { return a + b; }
            async slowDouble(x) { await scheduler.wait(1); return x * 2; }
            boom() { throw new SyntaxError("generated code failed"); }
          }
          export default class extends WorkerEntrypoint { hello(name) { return "hello " + name; } };`));
        const calc = worker.getEntrypoint("Calc");
        return Response.json({
          add: await calc.add(2, 3),
          slow: await calc.slowDouble(21),
          boom: await attempt(() => calc.boom()),
          hello: await worker.getEntrypoint().hello("ada"),
          missing: await attempt(() => calc.nothing()),
        });
      }
      case "/forgotten": {
        // A loader remembers at most 1024 ids: past them it forgets the least recently used, and
        // its next get() asks the node (which still knows what is loaded).
        const tag = q.get("tag");
        const make = (text) => () => code(`export default { fetch() { return new Response(${JSON.stringify(text)}); } };`);
        const call = async (id, text) => (await env.LOADER.get(id, make(text)).getEntrypoint().fetch("http://dyn/")).text();
        const first = await call(tag, "first");
        for (let i = 0; i < 1100; i++) env.LOADER.get(`${tag}-unused-${i}`, make("never")); // never called: nothing loads
        const stillLoaded = await call(tag, "second");
        for (let i = 0; i < 3; i++) await call(`${tag}-evict-${i}`, "evictor"); // past the tenant's budget of 3
        const afterEviction = await call(tag, "third");
        return Response.json({ first, stillLoaded, afterEviction });
      }
      case "/first-call": {
        // The first call of a new worker travels right behind its load (the node holds it until
        // the load is answered). A load that fails: the call's rejection is the load's error, the
        // same as an RPC call's (which waits for the load before calling).
        const tag = q.get("tag");
        const describe = (e) => ({ name: e.name, message: e.message, code: e.code, typeError: e instanceof TypeError });
        const failing = (id) => env.LOADER.get(id, () => code("export default { fetch() { return new Response( }"));
        let viaFetch, viaRpc;
        try { await failing(`${tag}-broken-a`).getEntrypoint().fetch("http://dyn/"); } catch (e) { viaFetch = describe(e); }
        try { await failing(`${tag}-broken-b`).getEntrypoint().anything(); } catch (e) { viaRpc = describe(e); }
        let made = 0;
        const echo = env.LOADER.get(`${tag}-echo`, () => {
          made++;
          return code(`export default { async fetch(req) {
            return new Response(req.method + " " + new URL(req.url).pathname + " " + req.headers.get("x-n") + " " + await req.text()); } };`);
        });
        // Two calls at once on a worker not loaded yet: the first goes behind the load, the second after it.
        const [a, b] = await Promise.all([1, 2].map(async (n) =>
          (await echo.getEntrypoint().fetch(`http://dyn/p${n}`, { method: "POST", headers: { "x-n": String(n) }, body: `body ${n}` })).text()));
        const again = await (await echo.getEntrypoint().fetch("http://dyn/p3", { headers: { "x-n": "3" } })).text();
        return Response.json({ viaFetch, viaRpc, a, b, again, made });
      }
      case "/spin": {
        const worker = env.LOADER.load(code(`export default { fetch() { while (true) {} } };`, { limits: { cpuMs: 20 } }));
        return Response.json(await attempt(() => worker.getEntrypoint().fetch("http://dyn/")));
      }
      default:
        return new Response("not found", { status: 404 });
    }
  },
};
