import { DurableObject } from 'cloudflare:workers';

// Work a durable object leaves for later with setTimeout, not awaited and without waitUntil.
export class Later extends DurableObject {
  async fetch(request) {
    const op = new URL(request.url).pathname.split('/')[3];
    if (op === 'set') {
      setTimeout(() => {
        this.inMemory = 'fired';
        this.ctx.storage.put('stored', 'fired');
        // A timeout its callback sets runs too.
        setTimeout(() => { this.second = 'fired'; }, 100);
      }, 300);
      return new Response('set');
    }
    if (op === 'cleared') {
      const t = setTimeout(() => { this.inMemory = 'must not fire'; }, 300);
      clearTimeout(t);
      return new Response('cleared');
    }
    if (op === 'born') return new Response(this.born ??= crypto.randomUUID());
    if (op === 'read') {
      return Response.json({
        inMemory: this.inMemory ?? null,
        second: this.second ?? null,
        stored: (await this.ctx.storage.get('stored')) ?? null,
        rpc: this.rpc ?? 0,
      });
    }
    return new Response('not found', { status: 404 });
  }

  // What the agents SDK's Agent.destroy() does: the object ends itself once the call returned.
  destroyLater() {
    setTimeout(() => this.ctx.abort('destroyed'), 0);
    return 'destroying';
  }

  // The same from an RPC method.
  bumpLater() {
    setTimeout(() => { this.rpc = (this.rpc ?? 0) + 1; }, 300);
    return 'bumped';
  }
}

let plainFired = 0;
let isolate; // which isolate answered (random values only inside a request)

export default {
  async fetch(request, env) {
    isolate ??= crypto.randomUUID();
    const url = new URL(request.url);
    if (url.pathname.startsWith('/do/')) {
      const stub = env.LATER.getByName(url.pathname.split('/')[2]);
      if (url.pathname.endsWith('/rpc')) return new Response(await stub.bumpLater());
      if (url.pathname.endsWith('/destroy')) return new Response(await stub.destroyLater());
      return stub.fetch(request);
    }
    // A plain request's context ends with its response: a timeout nobody waits for never runs.
    if (url.pathname === '/plain/set') {
      setTimeout(() => { plainFired++; }, 100);
      return new Response(`set ${isolate}`);
    }
    if (url.pathname === '/plain/read') return new Response(`${plainFired} ${isolate}`);
    // A request that hands a WebSocket over keeps its context while the socket is open: its
    // timeouts run (here, a deadline that closes a client that never says hello).
    if (url.pathname === '/ws/deadline') {
      const [client, server] = Object.values(new WebSocketPair());
      server.accept();
      let greeted = false;
      server.addEventListener('message', (e) => { greeted = true; server.send(`hello, ${e.data}`); });
      setTimeout(() => server.send('first, from the request'), 100);
      setTimeout(() => { if (!greeted) server.close(4000, 'no hello within 600 ms'); }, 600);
      return new Response(null, { status: 101, webSocket: client });
    }
    return new Response('not found', { status: 404 });
  },
};
