import { DurableObject } from 'cloudflare:workers';

// /<supervisor>/<op>/<app>/<rest...>
export default {
  async fetch(request, env) {
    const sup = new URL(request.url).pathname.split('/')[1];
    // The benchmark's comparisons (FacetRttBench): the same counter as a plain object, and
    // behind the built-in supervisor (/_platform/_apps/x, /_platform/x/hit).
    if (sup === '_direct') return env.DIRECT.getByName('d').fetch(request);
    if (sup === '_platform') {
      const url = new URL(request.url);
      url.pathname = url.pathname.slice('/_platform'.length);
      return env.PLATFORM.getByName('bench').fetch(new Request(url, request));
    }
    return env.SUP.getByName(sup).fetch(request);
  }
};

function failure(err) {
  return Response.json({ name: err && err.name, message: err && err.message, code: (err && err.code) ?? null }, { status: 502 });
}

/** The counter of the benchmark's app, as a plain durable object. */
export class Direct extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS counter (n INTEGER)');
  }
  fetch() {
    const sql = this.ctx.storage.sql;
    sql.exec('INSERT INTO counter VALUES (1)');
    return new Response('direct ' + sql.exec('SELECT count(*) AS n FROM counter').one().n);
  }
}

/** A class with no namespace: usable only as a facet's class (ctx.exports.Note), run beside its parent. */
export class Note extends DurableObject {
  calls = 0; // of this instance: an abort starts a new one
  fetch() {
    const n = (this.ctx.storage.kv.get('n') ?? 0) + 1;
    this.ctx.storage.kv.put('n', n);
    return new Response(`${this.ctx.id.name} ${n} calls ${++this.calls}`);
  }
  count() { return this.ctx.storage.kv.get('n'); }
}

export class Supervisor extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.callbacks = 0;
    ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS secrets (v TEXT)');
    ctx.storage.sql.exec("INSERT INTO secrets VALUES ('supervisor-secret')");
  }

  facet(app) {
    return this.ctx.facets.get(app, async () => {
      this.callbacks++;
      const code = await this.ctx.storage.get('code:' + app);
      const version = (await this.ctx.storage.get('ver:' + app)) ?? 0;
      if (code === undefined) throw new Error('no code for ' + app);
      // Uploaded with ?env=1: the app's env has a plain value and a capability (a function).
      const env = (await this.ctx.storage.get('env:' + app)) ? { PLAIN: 'plain', CAP: () => 'cap' } : undefined;
      const worker = this.env.LOADER.get(this.ctx.id + ':' + app + ':' + version, () => ({
        compatibilityDate: '2025-09-01', mainModule: 'app.js', modules: { 'app.js': code }, env }));
      return { class: worker.getDurableObjectClass('App') };
    });
  }

  async fetch(request) {
    const url = new URL(request.url);
    const [, , op, app, ...rest] = url.pathname.split('/');
    try {
      switch (op) {
        case 'code': {
          const version = ((await this.ctx.storage.get('ver:' + app)) ?? 0) + 1;
          await this.ctx.storage.put({ ['code:' + app]: await request.text(), ['ver:' + app]: version,
            ['env:' + app]: url.searchParams.get('env') === '1' });
          this.ctx.facets.abort(app, 'new code for ' + app);
          return new Response('version ' + version);
        }
        case 'app': {
          const res = await this.facet(app).fetch('http://facet/' + rest.join('/') + url.search, { method: request.method });
          return new Response(await res.text(), { status: res.status });
        }
        case 'rpc': {
          const args = url.searchParams.getAll('arg');
          const value = await this.facet(app)[rest[0]](...args);
          return Response.json({ value });
        }
        case 'named': {
          // Names that look like paths are names like any other: the database is named by a hash.
          const name = url.searchParams.get('name');
          await this.ctx.storage.put({ ['code:' + name]: await request.text(), ['ver:' + name]: 1 });
          const res = await this.facet(name).fetch('http://facet/hit');
          return new Response(await res.text(), { status: res.status });
        }
        case 'ws': {
          // The upgrade goes to the facet as Cloudflare's supervisors forward a request: the facet's
          // 101 and its WebSocket are this supervisor's response.
          const target = new URL(request.url);
          target.pathname = '/' + rest.join('/');
          return await this.facet(app).fetch(new Request(target, request));
        }
        case 'note': {
          // A facet of this worker's own class (ctx.exports.Note: no namespace), with the id the
          // callback gives (its ctx.id; ?id=none: none, so the parent's name).
          const idName = url.searchParams.get('id');
          const note = this.ctx.facets.get(app, () => ({ class: this.ctx.exports.Note,
            id: idName === 'none' ? undefined : this.env.SUP.idFromName(idName ?? 'given') }));
          return new Response(await (await note.fetch('http://facet/')).text() + ' / ' + await note.count());
        }
        case 'id': return new Response(this.ctx.id.toString());
        case 'callbacks': return new Response(String(this.callbacks));
        case 'abort': this.ctx.facets.abort(app, url.searchParams.get('reason') ?? undefined); return new Response('aborted');
        case 'delete': await this.ctx.facets.delete(app); return new Response('deleted');
        case 'inflight': {
          const stub = this.facet(app);
          const slow = stub.fetch('http://facet/slow');
          await new Promise((r) => setTimeout(r, 300));
          this.ctx.facets.abort(app, 'swap during a request');
          const outcomes = [];
          try { await slow; outcomes.push('slow answered'); } catch (e) { outcomes.push('slow: ' + e.message); }
          try { await stub.fetch('http://facet/hit'); outcomes.push('old stub answered'); } catch (e) { outcomes.push('old stub: ' + e.message); }
          const fresh = await this.facet(app).fetch('http://facet/hit');
          outcomes.push('new stub: ' + await fresh.text());
          return Response.json(outcomes);
        }
        case 'names': {
          const out = [];
          const cb = () => ({ class: null });
          for (const name of ['', 'a/b', '../x', 'x\u0001y', 'x'.repeat(129), 42]) {
            try { this.ctx.facets.get(name, cb); out.push('accepted'); } catch (e) { out.push(e.name + ': ' + e.message); }
          }
          try { this.ctx.facets.get('x'.repeat(128), cb); out.push('128 accepted'); } catch (e) { out.push(e.message); }
          // NUL is not refused: the Agents SDK names sub-agents' facets "<class>\0<name>".
          try { this.ctx.facets.get('Searcher\u0000main', cb); out.push('NUL accepted'); } catch (e) { out.push(e.message); }
          return Response.json(out);
        }
        case 'badclass': {
          try { await this.ctx.facets.get('bad', () => ({ class: 'App' })).fetch('http://facet/'); return new Response('accepted'); }
          catch (e) { return new Response(e.name + ': ' + e.message); }
        }
        case 'clone': {
          try { structuredClone(this.facet(app)); return new Response('cloned'); }
          catch (e) { return new Response(e.name + ': ' + e.message); }
        }
        case 'pass': {
          try { await this.env.SUP.getByName('other').take(this.facet(app)); return new Response('passed'); }
          catch (e) { return new Response(e.name + ': ' + e.message); }
        }
        case 'own': {
          return Response.json(this.ctx.storage.sql.exec('SELECT v FROM secrets').toArray().map((r) => r.v));
        }
        default: return new Response('no such op', { status: 404 });
      }
    } catch (err) {
      return failure(err);
    }
  }

  take(stub) { return 'took'; }
}
