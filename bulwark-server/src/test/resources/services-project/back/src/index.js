import { WorkerEntrypoint } from 'cloudflare:workers';

export class Admin extends WorkerEntrypoint {
  greet(name) { return `hello ${name} from back`; }
  whoami() { return this.ctx.props; }
  // Members of members are reached by their path (stub.tools.add(2, 3)).
  get tools() { return { add: (a, b) => a + b, deep: { n: 7 }, box: new Map() }; }
  async fetch(request) { return new Response(`admin fetch ${new URL(request.url).pathname}`); }
  // Waits on nothing that can ever settle: canceled as hung (ServicesTest).
  neverReturn() { return new Promise(() => {}); }
  async slowly(ms) { await scheduler.wait(ms); return `slowly ${ms}`; }
}

export default {
  // A handler object's function answers RPC as handler(arg, env, ctx), one argument from the caller.
  double(x, env, ctx) { return typeof ctx.waitUntil === 'function' ? 2 * x : 'no ctx'; },
  async fetch(request, env, ctx) {
    const slow = new URL(request.url).searchParams.get('wait');
    if (slow !== null) await scheduler.wait(Number(slow));
    return new Response(`back saw ${request.method} ${new URL(request.url).pathname} props=${JSON.stringify(ctx.props)}`);
  },
};
