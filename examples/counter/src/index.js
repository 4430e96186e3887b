// One Counter durable object per name. The count lives in the object's own SQLite database;
// a history of increments lives in its key-value storage.
import { DurableObject } from "cloudflare:workers";

export class Counter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
  }

  async fetch(request) {
    const url = new URL(request.url);
    const action = url.pathname.split("/")[3] || "get";
    switch (action) {
      case "increment": {
        const { n } = this.sql
          .exec("INSERT INTO counter (id, n) VALUES (1, 1) ON CONFLICT(id) DO UPDATE SET n = n + 1 RETURNING n")
          .one();
        await this.ctx.storage.put(`at:${String(n).padStart(8, "0")}`, { n, at: Date.now() });
        return Response.json({ name: this.ctx.id.name, count: n });
      }
      case "get": {
        const row = this.sql.exec("SELECT n FROM counter WHERE id = 1").toArray()[0];
        return Response.json({ name: this.ctx.id.name, count: row ? row.n : 0 });
      }
      case "history": {
        const entries = await this.ctx.storage.list({ prefix: "at:", reverse: true, limit: 5 });
        return Response.json([...entries.values()].map((e) => e.n));
      }
      default:
        return new Response("unknown action\n", { status: 404 });
    }
  }
}

export default {
  async fetch(request, env) {
    const [, kind, name] = new URL(request.url).pathname.split("/");
    if (kind !== "counter" || !name) {
      return new Response("try /counter/<name>/increment, /counter/<name>, /counter/<name>/history\n", { status: 404 });
    }
    return env.COUNTER.getByName(name).fetch(request);
  },
};
