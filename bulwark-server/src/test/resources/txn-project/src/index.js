import { DurableObject } from "cloudflare:workers";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function attempt(fn) {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, error: `${e.name}: ${e.message}` };
  }
}

// A body that arrives in three chunks, each after a timer: reading it spans several tasks.
function slowStream() {
  const chunks = ["a", "b", "c"];
  return new ReadableStream({
    async pull(controller) {
      await sleep(2);
      if (chunks.length === 0) controller.close();
      else controller.enqueue(new TextEncoder().encode(chunks.shift()));
    },
  });
}

export class Txn extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.inTxn = false;
  }

  async alarm() {
    await this.ctx.storage.put("alarmRan", true);
  }

  async values(keys) {
    const found = await this.ctx.storage.get(keys);
    return Object.fromEntries(keys.map((k) => [k, found.get(k) ?? null]));
  }

  async fetch(request) {
    const url = new URL(request.url);
    const [, , name, op] = url.pathname.split("/");
    const storage = this.ctx.storage;
    const sql = storage.sql;
    switch (op) {
      case "across-awaits": {
        // A timer, a stream read over several tasks and a fetch (through a stub) inside the closure.
        storage.put("before", 1);
        sql.exec("CREATE TABLE IF NOT EXISTS t (v TEXT)");
        const result = await storage.transaction(async (txn) => {
          await txn.put("inside", 1);
          await sleep(5);
          sql.exec("INSERT INTO t VALUES ('after a timer')");
          await txn.put("streamed", await new Response(slowStream()).text());
          const other = await this.env.MARKS.getByName(name).fetch("http://o/hello");
          await txn.put("fetched", await other.text());
          const seen = await txn.get(["before", "inside", "streamed", "fetched"]);
          return Object.fromEntries(seen);
        });
        return Response.json({ result, stored: await this.values(["before", "inside", "streamed", "fetched"]),
          rows: sql.exec("SELECT v FROM t").toArray() });
      }
      case "throw-after-await": {
        storage.put("kept", 1);
        sql.exec("CREATE TABLE IF NOT EXISTS u (v TEXT)");
        const thrown = new RangeError("boom");
        let caught;
        try {
          await storage.transaction(async () => {
            storage.put("x", 1);
            sql.exec("INSERT INTO u VALUES ('in the transaction')");
            await sleep(5);
            storage.put("y", 1);
            throw thrown;
          });
        } catch (e) {
          caught = e;
        }
        return Response.json({ same: caught === thrown, error: `${caught?.name}: ${caught?.message}`,
          stored: await this.values(["kept", "x", "y"]), rows: sql.exec("SELECT count(*) AS n FROM u").one().n });
      }
      case "throw-sync": {
        const r = await attempt(() => storage.transaction(() => {
          storage.put("s", 1);
          throw new TypeError("sync boom");
        }));
        return Response.json({ r, stored: await this.values(["s"]) });
      }
      case "rollback": {
        const result = await storage.transaction(async (txn) => {
          await txn.put("r", 1);
          await sleep(5);
          txn.rollback();
          txn.rollback(); // more than one call is allowed
          const after = await attempt(() => txn.put("r", 2));
          return { after, read: (await storage.get("r")) ?? null };
        });
        return Response.json({ result, stored: await this.values(["r"]) });
      }
      case "moved-txn": {
        let kept;
        await storage.transaction(async (txn) => { kept = txn; });
        const get = await attempt(() => kept.get("a"));
        const rollback = await attempt(() => kept.rollback());
        return Response.json({ get, rollback, tag: Object.prototype.toString.call(kept) });
      }
      case "nested": {
        const errors = {};
        await storage.transaction(async (txn) => {
          await txn.put("a", 1);
          await sleep(5);
          try {
            await storage.transaction(async (t2) => {
              await t2.put("b", 1);
              await sleep(5);
              throw new Error("inner");
            });
          } catch (e) {
            errors.inner = e.message;
          }
          storage.transactionSync(() => storage.kv.put("c", 1));
          await storage.transaction(async (t3) => {
            await t3.put("d", 1);
            await sleep(1);
          });
          try {
            storage.transactionSync(() => {
              storage.kv.put("e", 1);
              throw new Error("sync inner");
            });
          } catch (e) {
            errors.sync = e.message;
          }
          await sleep(1);
        });
        return Response.json({ errors, stored: await this.values(["a", "b", "c", "d", "e"]) });
      }
      case "nested-then-outer-rollback": {
        let seen;
        await storage.transaction(async (txn) => {
          await txn.put("o", 1);
          await storage.transaction(async () => {
            await storage.put("i", 1);
            await sleep(5);
          });
          seen = (await storage.get("i")) ?? null;
          txn.rollback();
        });
        return Response.json({ seen, ...(await this.values(["o", "i"])) });
      }
      case "concurrent": {
        // Two transactions of one event at once: as workerd's critical sections, one after the other.
        const log = [];
        await Promise.all([
          storage.transaction(async () => { log.push("1 start"); await sleep(20); log.push("1 end"); }),
          storage.transaction(async () => { log.push("2 start"); await sleep(1); log.push("2 end"); }),
        ]);
        return Response.json(log);
      }
      case "delete-all": {
        const r = await storage.transaction(async (txn) => {
          await sleep(1);
          return { txn: await attempt(() => txn.deleteAll()), storage: await attempt(() => storage.deleteAll()) };
        });
        return Response.json(r);
      }
      case "alarm": {
        // An alarm set after an await inside a transaction that commits, and one in a transaction
        // that throws: the first is scheduled, the second never was.
        const at = Date.now() + Number(url.searchParams.get("ms"));
        const fail = url.searchParams.get("fail") === "1";
        const r = await attempt(() => storage.transaction(async (txn) => {
          await sleep(5);
          await txn.setAlarm(at);
          if (fail) throw new Error("no alarm");
        }));
        return Response.json({ r, alarm: await storage.getAlarm() });
      }
      case "hold": {
        // Written before the transaction: committed when it begins.
        storage.put("beforeHold", 1);
        await storage.transaction(async (txn) => {
          this.inTxn = true;
          await txn.put("held", 1);
          await this.env.MARKS.getByName(name).fetch("http://o/mark");
          await sleep(Number(url.searchParams.get("ms")));
          await txn.put("released", 1);
          this.inTxn = false;
        });
        return Response.json({ done: true });
      }
      case "late": {
        // An event already running when a transaction begins: its timer fires while the
        // transaction is open, and it goes on only once that ended (workerd's input gate).
        await this.env.MARKS.getByName(url.searchParams.get("mark")).fetch("http://o/mark");
        await sleep(Number(url.searchParams.get("ms")));
        return Response.json({ inTxn: this.inTxn, ...(await this.values(["held", "released"])) });
      }
      case "probe":
        return Response.json({ inTxn: this.inTxn, ...(await this.values(["beforeHold", "held", "released"])) });
      case "read":
        return Response.json(await this.values(url.searchParams.get("keys").split(",")));
      default:
        return new Response("no such op", { status: 404 });
    }
  }
}

/** Says when a transaction of the Txn of the same name has begun (an object the test may ask meanwhile). */
export class Marks extends DurableObject {
  fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/mark") this.marked = true;
    if (path === "/marked") return new Response(String(this.marked === true));
    return new Response("hello");
  }
}

export default {
  async fetch(request, env) {
    const [, kind, name] = new URL(request.url).pathname.split("/");
    if (kind === "txn") {
      try {
        return await env.TXN.getByName(name).fetch(request);
      } catch (e) {
        return new Response(`${e.name}: ${e.message}`, { status: 503 });
      }
    }
    if (kind === "marked") return env.MARKS.getByName(name).fetch("http://o/marked");
    return new Response("not found", { status: 404 });
  }
};
