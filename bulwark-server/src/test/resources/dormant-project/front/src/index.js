// Tenant a's parent: loads children by id and reports what they saw, with how often its callback ran.
import { WorkerEntrypoint } from "cloudflare:workers";

const callbacks = new Map();

// Granted to children with props they cannot read: answers with what the granter scoped it to.
export class Scoped extends WorkerEntrypoint {
  whoAmI() {
    return `scoped to ${this.ctx.props.owner}`;
  }
}

// Module state (calls, made) starts fresh whenever the child's isolate is made again.
const CHILD = `
import { WorkerEntrypoint, RpcTarget } from "cloudflare:workers";
let calls = 0;
class Counter extends RpcTarget {
  next() { return ++calls; }
}
export class Api extends WorkerEntrypoint {
  counter() { return new Counter(); }
}
let made = null;
async function attempt(fn) {
  try { return await fn(); } catch (e) { return e.name + ": " + e.message; }
}
export default {
  async fetch(request, env) {
    calls++;
    made ??= crypto.randomUUID();
    const out = { calls, made };
    if (new URL(request.url).searchParams.has("plain")) return Response.json(out);
    out.scoped = await attempt(() => env.SCOPED.whoAmI());
    out.props = await attempt(async () => String(await env.SCOPED.props));
    out.tool = env.TOOL ? await attempt(() => env.TOOL.add(2, 3)) : "none";
    out.revocable = env.REVOCABLE ? await attempt(() => env.REVOCABLE.add(4, 5)) : "none";
    out.secret = typeof env.SECRET_OF_THE_PARENT;
    out.fetch = await attempt(() => fetch("https://example.com/").then(() => "reached"));
    return Response.json(out);
  }
};`;

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const id = url.searchParams.get("id");
    const worker = env.LOADER.get(id, () => {
      callbacks.set(id, (callbacks.get(id) ?? 0) + 1);
      const grants = { SCOPED: ctx.exports.Scoped({ props: { owner: "tenant a" } }) };
      if (env.TOOL) grants.TOOL = env.TOOL;
      if (env.REVOCABLE) grants.REVOCABLE = env.REVOCABLE;
      return { compatibilityDate: "2025-06-01", mainModule: "main.js", modules: { "main.js": CHILD },
               env: grants, globalOutbound: null };
    });
    if (url.pathname === "/held") {
      // A stub on an RpcTarget the child returned, held across more than the child's idle time.
      const counter = await worker.getEntrypoint("Api").counter();
      const first = await counter.next();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const later = await counter.next();
      return Response.json({ first, later, callbacks: callbacks.get(id) ?? 0 });
    }
    const child = worker.getEntrypoint();
    const body = await (await child.fetch(`http://child/${url.search}`)).json();
    // A second call right behind the first, in the same request: the worker is still live.
    const second = url.searchParams.has("twice") ? await (await child.fetch(`http://child/${url.search}`)).json() : undefined;
    return Response.json({ ...body, second, callbacks: callbacks.get(id) ?? 0 });
  },
};
