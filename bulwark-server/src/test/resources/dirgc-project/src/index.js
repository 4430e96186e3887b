import { DurableObject } from "cloudflare:workers";

// Each construction of an object counts itself in the object's own database and remembers its
// number. An instance that finds a later number stored while it lives has a twin: two live
// instances of one id, which must never be.
export class Gen extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS g (k INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
    sql.exec("INSERT OR IGNORE INTO g (k, n) VALUES (1, 0)");
    sql.exec("UPDATE g SET n = n + 1 WHERE k = 1");
    this.gen = sql.exec("SELECT n FROM g WHERE k = 1").one().n;
  }

  async fetch() {
    const stored = this.ctx.storage.sql.exec("SELECT n FROM g WHERE k = 1").one().n;
    return Response.json({ gen: this.gen, stored });
  }
}

export default {
  async fetch(request, env) {
    const name = new URL(request.url).pathname.split("/")[2];
    // From the worker's isolate: a local call when the object is placed in this sandbox, else via the node.
    return env.GEN.get(env.GEN.idFromName(name)).fetch("http://do/");
  },
};
