import { DurableObject, RpcTarget, WorkerEntrypoint } from 'cloudflare:workers';

// What a durable object hands out: its calls run in the object's context.
class Target extends RpcTarget {
  constructor(ctx, holder) {
    super();
    this.ctx = ctx;
    this.holder = holder;
  }
  ping() { return 'pong'; }
  hang() { return new Promise(() => {}); }
  wait(ms) { return scheduler.wait(ms).then(() => 'waited'); }
  abort(reason) { this.ctx.abort(reason); }
  async failGate() {
    await this.ctx.blockConcurrencyWhile(() => { throw new Error('gate broke'); });
  }
  // A target made by a call on this one: the object's too.
  child() { return new Target(this.ctx, this.holder); }
  count() { return this.holder.n; }
}

export class Holder extends DurableObject {
  n = 0;
  increment() { return ++this.n; }
  hangHere() { return new Promise(() => {}); }
  makeTarget() { return new Target(this.ctx, this); }
}

// Records what happened elsewhere, for the test to poll.
export class Log extends DurableObject {
  async add(line) { await this.ctx.storage.put(`${Date.now()}-${Math.random()}`, line); }
  async lines() { return [...(await this.ctx.storage.list()).values()]; }
}

export class Streams extends WorkerEntrypoint {
  // A stream whose pull() awaits a timer of this call: read after the call returned.
  slow(chunks, ms, tag) {
    const log = tag ? this.env.LOG.getByName(tag) : null;
    let sent = 0;
    return new ReadableStream({
      async pull(controller) {
        if (sent >= chunks) { controller.close(); return; }
        await scheduler.wait(ms);
        controller.enqueue(new TextEncoder().encode(`c${sent++};`));
      },
      async cancel() {
        if (log) await log.add('canceled');
      },
    });
  }
}

/** How a promise settled: {value} or {error: {name, message}}; {hung: true} if not within ms. */
async function outcome(p, ms = 5000) {
  let timer;
  const hung = new Promise((resolve) => { timer = setTimeout(() => resolve({ hung: true }), ms); });
  try {
    return await Promise.race([Promise.resolve(p).then((value) => ({ value }), (e) => ({ error: { name: e?.name, message: e?.message } })), hung]);
  } finally {
    clearTimeout(timer);
  }
}

async function afterReset(env, breakIt) {
  const id = env.HOLDER.newUniqueId();
  const holder = env.HOLDER.get(id);
  const t = await holder.makeTarget();
  await holder.increment();
  const grandchild = t.child();
  const out = {};
  out.count = await outcome(t.count());
  const hang = t.hang();
  const waiting = t.wait(20_000);
  const ownHang = holder.hangHere();
  out.ping = await outcome(t.ping());
  const breaking = breakIt(t);
  const pingAfter = t.ping();
  out.breaking = await outcome(breaking);
  out.pingAfter = await outcome(pingAfter);
  out.hang = await outcome(hang);
  out.waiting = await outcome(waiting);
  out.ownHang = await outcome(ownHang);
  out.child = await outcome(grandchild.ping());
  // A caller that keeps calling: refused at once every time, never a hang.
  out.later = [];
  for (let i = 0; i < 5; i++) out.later.push(await outcome(t.ping(), 3000));
  out.objectStub = await outcome(holder.increment());
  // A new stub reaches a new instance (its state starts over).
  out.newStub = await outcome(env.HOLDER.get(id).increment());
  return out;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const json = (v) => new Response(JSON.stringify(v), { headers: { 'content-type': 'application/json' } });
    if (url.pathname === '/abort') return json(await afterReset(env, (t) => t.abort('stop here')));
    if (url.pathname === '/gate') return json(await afterReset(env, (t) => t.failGate()));
    if (url.pathname === '/stream') {
      const started = Date.now();
      const stream = await env.STREAMS.slow(3, 150);
      const text = await new Response(stream).text();
      return json({ text, ms: Date.now() - started });
    }
    if (url.pathname === '/stream-dropped') {
      // Reads one chunk and returns without canceling: dropping the stream ends the callee's wait.
      const tag = url.searchParams.get('tag');
      const stream = await env.STREAMS.slow(1000, 50, tag);
      const reader = stream.getReader();
      const first = await reader.read();
      return json({ first: new TextDecoder().decode(first.value) });
    }
    if (url.pathname === '/log') return json(await env.LOG.getByName(url.searchParams.get('tag')).lines());
    return new Response('not found', { status: 404 });
  },
};
