import { DurableObject } from "cloudflare:workers";

let instances = 0;

export class Dormant extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    // Which construction of this object answers: the same one while it stays in its isolate.
    this.instance = ++instances;
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS notes (n INTEGER PRIMARY KEY, text TEXT NOT NULL)");
  }

  async fetch(request) {
    const url = new URL(request.url);
    const op = url.pathname.split("/")[2];
    const q = url.searchParams;
    const storage = this.ctx.storage;
    try {
      switch (op) {
        case "put":
          await storage.put(q.get("k"), q.get("v"));
          return Response.json({ instance: this.instance, id: this.ctx.id.toString() });
        case "get":
          return Response.json({ instance: this.instance, value: (await storage.get(q.get("k"))) ?? null });
        case "note":
          storage.sql.exec("INSERT INTO notes (text) VALUES (?)", q.get("text"));
          return Response.json({ instance: this.instance });
        case "notes":
          return Response.json({ instance: this.instance,
            notes: storage.sql.exec("SELECT text FROM notes ORDER BY n").toArray().map((r) => r.text) });
        case "alarm":
          await storage.setAlarm(Date.now() + Number(q.get("ms")));
          return Response.json({ instance: this.instance });
        case "rang":
          return Response.json({ instance: this.instance, rang: (await storage.get("rang")) ?? null,
            alarm: await storage.getAlarm() });
        default:
          return new Response("no such op", { status: 404 });
      }
    } catch (e) {
      return Response.json({ instance: this.instance, error: `${e.name}: ${e.message}` }, { status: 500 });
    }
  }

  async alarm() {
    await this.ctx.storage.put("rang", { instance: this.instance });
  }
}

export default {
  fetch(request, env) {
    const name = new URL(request.url).pathname.split("/")[1];
    return env.DORMANT.get(env.DORMANT.idFromName(name)).fetch(request);
  },
};
