import { DurableObject } from 'cloudflare:workers';

// One object per name; each answers what it holds and which instance of it answers.
export class Store extends DurableObject {
  // As /fill, over RPC.
  fill() {
    try {
      for (let i = 0; i < 50; i++) this.ctx.storage.sql.exec('INSERT INTO t VALUES (zeroblob(60000))');
    } catch (e) {
      return `caught ${e.message}`;
    }
    return 'never full';
  }

  constructor(ctx, env) {
    super(ctx, env);
    this.instance = crypto.randomUUID();
    ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS t (v BLOB)');
  }

  async fetch(request) {
    const url = new URL(request.url);
    const sql = this.ctx.storage.sql;
    const n = Number(url.searchParams.get('n') ?? 0);
    switch (url.pathname) {
      case '/state':
        return Response.json({
          rows: sql.exec('SELECT count(*) AS n FROM t').one().n,
          kv: (await this.ctx.storage.get('k'))?.length ?? null,
          instance: this.instance,
        });
      case '/add': // one row of n bytes, committed at the end of the event
        sql.exec('INSERT INTO t VALUES (zeroblob(?))', n);
        return new Response('added');
      case '/fill': {
        // Rows of 60 kB with no await between them, past the database's limit. The error is
        // caught and the object answers as if all was well: the failed commit must not let
        // that answer leave.
        try {
          for (let i = 0; i < 50; i++) sql.exec('INSERT INTO t VALUES (zeroblob(60000))');
        } catch (e) {
          return new Response(`caught ${e.message}`);
        }
        return new Response('never full');
      }
      case '/fill-calling': { // as /fill, after starting a call to another object that must never start
        const peer = this.env.STORE.getByName(url.searchParams.get('peer'));
        peer.fetch('http://o/add?n=1000').catch(() => {});
        try {
          for (let i = 0; i < 50; i++) sql.exec('INSERT INTO t VALUES (zeroblob(60000))');
        } catch (e) {
          return new Response(`caught ${e.message}`);
        }
        return new Response('never full');
      }
      case '/fill-uncaught': // the same, the error left to fail the event
        for (let i = 0; i < 50; i++) sql.exec('INSERT INTO t VALUES (zeroblob(60000))');
        return new Response('never full');
      case '/put': // a KV value of n characters
        try {
          await this.ctx.storage.put('k', 'x'.repeat(n));
          return new Response('stored');
        } catch (e) {
          return new Response(`${e.name}: ${e.message}`, { status: 400 });
        }
      default:
        return new Response('not found', { status: 404 });
    }
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const name = url.searchParams.get('o') ?? 'a';
    try {
      if (url.pathname === '/rpc-fill') return new Response(await env.STORE.getByName(name).fill());
      return await env.STORE.getByName(name).fetch(request);
    } catch (e) {
      // A caller through a stub: the object's failure, as its stub reports it.
      return new Response(`stub threw: ${e.message}`, { status: 502 });
    }
  },
};
