// A generated app: a durable object class with its own counter table. Its alarm writes a row
// a moment after /alarm is called.
import { DurableObject } from 'cloudflare:workers';

const VERSION = 'v1';

export class App extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS counter (at INTEGER)');
  }
  async fetch(request) {
    const path = new URL(request.url).pathname;
    const sql = this.ctx.storage.sql;
    if (path === '/alarm') { await this.ctx.storage.setAlarm(Date.now() + 200); return new Response('alarm set'); }
    if (path === '/alarmed') return new Response(String((await this.ctx.storage.get('alarms')) ?? 0));
    if (path === '/tables') {
      const names = sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").toArray().map((r) => r.name);
      return Response.json(names.filter((n) => !n.startsWith('_bw_')));
    }
    sql.exec('INSERT INTO counter VALUES (?)', Date.now());
    return new Response(`${VERSION} ${sql.exec('SELECT count(*) AS n FROM counter').one().n}`);
  }
  async alarm() {
    await this.ctx.storage.put('alarms', ((await this.ctx.storage.get('alarms')) ?? 0) + 1);
  }
}
