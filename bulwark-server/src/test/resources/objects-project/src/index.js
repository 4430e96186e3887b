import { DurableObject } from "cloudflare:workers";

async function attempt(fn) {
  try {
    const v = await fn();
    return { ok: true, value: v };
  } catch (e) {
    return { ok: false, error: `${e.name}: ${e.message}` };
  }
}

export class Counter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.secret = "instance fields are not reachable over RPC";
  }

  // RPC methods.
  async add(by) {
    const n = ((await this.ctx.storage.get("n")) ?? 0) + by;
    await this.ctx.storage.put("n", n);
    return n;
  }
  get label() {
    return `counter ${this.ctx.id.name}`;
  }
  echo(value) {
    return value;
  }
  fail(message) {
    throw new RangeError(message);
  }

  async fetch(request) {
    const url = new URL(request.url);
    const op = url.pathname.split("/")[3];
    const storage = this.ctx.storage;
    const sql = storage.sql;
    switch (op) {
      case "increment": {
        // Read-modify-write with awaits between: atomic because of the input gate.
        const n = ((await storage.get("n")) ?? 0) + 1;
        await storage.put("n", n);
        return new Response(String(n));
      }
      case "count":
        return new Response(String((await storage.get("n")) ?? 0));
      case "transaction-await": {
        // A transaction() whose closure awaits a timer: its savepoint stays open across the await.
        storage.put("before", 1);
        let error = null;
        try {
          await storage.transaction(async () => {
            storage.put("inside", 1);
            await new Promise((resolve) => setTimeout(resolve, 5));
            storage.put("after", 1);
          });
        } catch (e) {
          error = `${e.name}: ${e.message}`;
        }
        const [before, inside, after] = [await storage.get("before"), await storage.get("inside"), await storage.get("after")];
        return Response.json({ error, before, inside: inside ?? null, after: after ?? null });
      }
      case "abort-after-put":
        // Not kept: the object aborts before its task ends and commits (as workerd's sql-test).
        await storage.put("n", 888);
        this.ctx.abort("aborted after a put");
        return new Response("not reached");
      case "egress": {
        // An outbound request of this invocation: the node's egress policy must know whose it is.
        try {
          await fetch("http://10.1.2.3/");
          return new Response("fetched");
        } catch (e) {
          return new Response(`${e.name}: ${e.message}`);
        }
      }
      case "logged": {
        // One task: a ledger row and the running total, committed together or not at all.
        sql.exec("CREATE TABLE IF NOT EXISTS ledger (n INTEGER PRIMARY KEY)");
        sql.exec("CREATE TABLE IF NOT EXISTS total (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
        const n = (sql.exec("SELECT n FROM total WHERE id = 1").toArray()[0]?.n ?? 0) + 1;
        sql.exec("INSERT INTO ledger (n) VALUES (?)", n);
        sql.exec("INSERT INTO total (id, n) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET n = excluded.n", n);
        return new Response(String(n));
      }
      case "audit": {
        sql.exec("CREATE TABLE IF NOT EXISTS ledger (n INTEGER PRIMARY KEY)");
        sql.exec("CREATE TABLE IF NOT EXISTS total (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
        const ledger = sql.exec("SELECT count(*) AS c, coalesce(max(n), 0) AS m FROM ledger").one();
        const total = sql.exec("SELECT n FROM total WHERE id = 1").toArray()[0]?.n ?? 0;
        return Response.json({ total, rows: ledger.c, max: ledger.m });
      }
      case "id":
        return Response.json({
          id: this.ctx.id.toString(),
          name: this.ctx.id.name ?? null,
          equalsOwnName: this.ctx.id.equals(this.env.COUNTER.idFromName(this.ctx.id.name ?? "")),
        });
      case "kv": {
        await storage.put({ "b": 2, "a": { deep: [1, 2] }, "c": "three", "ab": true });
        const some = await storage.get(["a", "c", "missing"]);
        const listed = await storage.list({ start: "a", end: "c" });
        const reversed = await storage.list({ reverse: true, limit: 2 });
        const prefixed = await storage.list({ prefix: "a" });
        const deleted = await storage.delete(["a", "missing"]);
        return Response.json({
          some: [...some.entries()],
          listed: [...listed.keys()],
          reversed: [...reversed.keys()],
          prefixed: [...prefixed.keys()],
          deleted,
          afterDelete: (await storage.get("a")) ?? null,
          sync: storage.kv.get("c"),
        });
      }
      case "sql": {
        sql.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT, b BLOB)");
        const ins = sql.exec("INSERT INTO t (v, b) VALUES (?, ?), (?, ?)", "x", new Uint8Array([1, 2]), "y", null);
        const cursor = sql.exec("SELECT id, v FROM t ORDER BY id");
        const columns = cursor.columnNames;
        const rows = cursor.toArray();
        const raw = sql.exec("SELECT v FROM t ORDER BY id").raw().toArray();
        const none = await attempt(() => sql.exec("SELECT * FROM t WHERE id = -1").one());
        const many = await attempt(() => sql.exec("SELECT * FROM t").one());
        const blob = sql.exec("SELECT b FROM t WHERE v = 'x'").one().b;
        const bad = await attempt(() => sql.exec("SELEC nonsense"));
        const read = sql.exec("SELECT id FROM t");
        const readRows = [...read].length;
        // More bindings than travel as arguments go as one array.
        const ones = Array.from({ length: 1500 }, (_, i) => i + 1);
        const manyBindings = sql.exec(`SELECT count(*) AS n, sum(column1) AS s FROM (VALUES ${ones.map(() => "(?)").join(",")})`, ...ones).one();
        // More values than one push carries back.
        const big = sql.exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000) SELECT x, x * 0.5 AS h, NULL AS z FROM c");
        const bigColumns = big.columnNames;
        const bigFirst = big.next().value;
        const bigRest = big.raw().toArray();
        const wrongCount = await attempt(() => sql.exec("SELECT ?", 1, 2));
        return Response.json({
          read: [readRows, read.rowsRead, read.rowsWritten],
          manyBindings, bigColumns, bigFirst, bigCount: bigRest.length + 1, bigLast: bigRest[bigRest.length - 1],
          wrongCount,
          written: ins.rowsWritten, columns, rows, raw, none, many,
          blob: [blob instanceof ArrayBuffer, [...new Uint8Array(blob)]],
          bad: bad.ok ? "accepted" : "refused",
          size: sql.databaseSize > 0,
        });
      }
      case "sql-values": {
        // Every kind of value comes back exactly, whichever way the result crosses (JSON text for
        // nulls, numbers and strings; an array when a blob or a non-finite number is among them).
        const text = "q\"uote\\back\u0001ctl\u2028\u00e9\ud83d\ude00";
        const q = "SELECT ? AS s, 9007199254740993 AS big, -9007199254740991 AS small, 0.1 AS tenth, 1e300 AS huge, 5e-324 AS tiny, NULL AS n, 42 AS i";
        const check = (r) => [r.s === text, r.big === 9007199254740992, r.small === -9007199254740991, r.tenth === 0.1,
          r.huge === 1e300, r.tiny === 5e-324, r.n === null, r.i === 42];
        const plain = sql.exec(q, text).one();
        const withBlob = sql.exec(q + ", x'01' AS b", text).one();
        const withInf = sql.exec(q + ", 9e999 AS inf", text).one();
        const noRows = sql.exec("SELECT 1 AS one WHERE 0");
        return Response.json({
          plain: check(plain), keys: Object.keys(plain),
          withBlob: [...check(withBlob), withBlob.b instanceof ArrayBuffer],
          withInf: [...check(withInf), withInf.inf === Infinity],
          noRows: [noRows.columnNames, noRows.toArray().length, noRows.rowsRead, noRows.rowsWritten],
        });
      }
      case "sql-exchange": {
        // Each call three times: the first sends the SQL text and the bindings as arguments; once
        // the text has a number, null, number and short string bindings travel in the buffer the
        // prelude shares with the host, and results without columns come back through it.
        sql.exec("CREATE TABLE IF NOT EXISTS x (id INTEGER PRIMARY KEY, v UNIQUE)");
        const thrice = (f) => [f(), f(), f()];
        const values = [null, undefined, true, false, 0, -0, 1.5, -7, 2 ** 53 + 2, 2n ** 40n, "", "plain",
          "\u00e9\u00ff", "\u2028 \ud83d\ude00", "a\ud800b", "z".repeat(256), "\u0100".repeat(257)];
        const bound = values.map((v) => thrice(() => {
          const r = sql.exec("SELECT ? AS v, typeof(?) AS t, hex(?) AS h", v, v, v).one();
          return [r.v, r.t, r.h];
        }));
        const ones = (n) => Array.from({ length: n }, () => 1);
        const sums = [64, 65].map((n) => thrice(() => sql.exec(`SELECT ${ones(n).map(() => "?").join("+")} AS s`, ...ones(n)).one().s));
        sql.exec("INSERT INTO x (v) VALUES ('dup')");
        const errors = thrice(() => {
          try {
            sql.exec("INSERT INTO x (v) VALUES (?)", "dup");
            return "no error";
          } catch (e) {
            return `${e.name}: ${e.message}`;
          }
        });
        const tooBig = thrice(() => {
          try {
            sql.exec("SELECT ?", 2n ** 70n);
            return "no error";
          } catch (e) {
            return `${e.name}: ${e.message}`;
          }
        });
        const reserved = thrice(() => {
          try {
            sql.exec("SELECT * FROM _cf_KV WHERE key = ?", "k");
            return "no error";
          } catch (e) {
            return `${e.name}: ${e.message}`;
          }
        });
        // The prelude does not use what worker code can replace.
        const realCharCodeAt = String.prototype.charCodeAt;
        let patched;
        String.prototype.charCodeAt = function () { return 65; };
        try {
          patched = thrice(() => sql.exec("SELECT ? AS v", "xyz\u0100").one().v);
        } finally {
          String.prototype.charCodeAt = realCharCodeAt;
        }
        // Cursors of INSERTs read after later calls still report their own counts.
        const later = ["later1", "later2", "later3"].map((v) => sql.exec("INSERT INTO x (v) VALUES (?)", v));
        const none = thrice(() => sql.exec("UPDATE x SET v = v WHERE v = ?", "absent"));
        const deleted = sql.exec("DELETE FROM x WHERE v LIKE ?", "later%");
        const counts = (c) => [c.rowsRead, c.rowsWritten, c.columnNames, c.toArray()];
        const multi = thrice(() => counts(sql.exec("SELECT * FROM x; DELETE FROM x WHERE v = 'nothing'; INSERT INTO x (v) VALUES (NULL)")));
        // Results of one row or none with small values come back through the buffer too; the
        // same row as the first of two (which crosses as before) must read the same.
        const shape = (c) => [c.columnNames, c.toArray().map((r) => Object.entries(r).map(([k, v]) =>
          [k, typeof v, Object.is(v, -0) ? "-0" : v instanceof ArrayBuffer ? `bytes ${v.byteLength}` : String(v)]))];
        const exprs = [
          "4611686018427387905 AS big, -0.0 AS nz, 9e999 AS inf, -9e999 AS ninf, NULL AS nul, 'x' AS \"\u00e9\u20ac\", 1.5 AS r, 7 AS i",
          "1 AS a, 2 AS a",
          `'${"\u0100".repeat(256)}' AS s256, '${"z".repeat(256)}' AS z256, 'a\u2028\ud83d\ude00' AS astral, '' AS empty`,
          `'${"z".repeat(257)}' AS z257`,
          "x'00ff' AS b, 1 AS n",
          Array.from({ length: 32 }, (_, i) => `${i} AS c${i}`).join(", "),
          Array.from({ length: 33 }, (_, i) => `${i} AS c${i}`).join(", "),
        ];
        const small = exprs.map((e) => [...thrice(() => shape(sql.exec(`SELECT ${e}`))),
          (([cols, rows]) => [cols, [rows[0]]])(shape(sql.exec(`SELECT ${e} UNION ALL SELECT ${e}`)))]);
        const empty = thrice(() => counts(sql.exec("SELECT v, id FROM x WHERE 0")));
        sql.exec("CREATE TABLE IF NOT EXISTS cnt (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
        const upsert = "INSERT INTO cnt (id, n) VALUES (1, 1) ON CONFLICT(id) DO UPDATE SET n = n + 1 RETURNING n";
        // With a blob column the same upsert's answer crosses as before: its counts must match.
        const upserts = [...thrice(() => counts(sql.exec(upsert))), counts(sql.exec(upsert + ", x'' AS b"))]
          .map(([read, written, cols, rows]) => [read, written, cols, rows.map((r) => r.n)]);
        const realFromCharCode = String.fromCharCode;
        let patchedResult;
        String.fromCharCode = function () { return "Q"; };
        try {
          patchedResult = thrice(() => sql.exec("SELECT 'abc\u0100' AS s").one().s);
        } finally {
          String.fromCharCode = realFromCharCode;
        }
        return Response.json({
          bound, sums, errors, tooBig, reserved, patched,
          later: later.map(counts), none: none.map(counts), deleted: counts(deleted), multi,
          small, empty, upserts, patchedResult,
        });
      }
      case "hostile": {
        return Response.json({
          attach: await attempt(() => sql.exec("ATTACH DATABASE '/tmp/other.sqlite' AS other")),
          reserved: await attempt(() => sql.exec("SELECT * FROM _cf_KV")),
          pragma: await attempt(() => sql.exec("PRAGMA journal_mode = DELETE")),
        });
      }
      case "txn": {
        sql.exec("CREATE TABLE IF NOT EXISTS tx (v INTEGER)");
        const thrown = await attempt(() => storage.transactionSync(() => {
          sql.exec("INSERT INTO tx VALUES (1)");
          throw new Error("undo");
        }));
        storage.transactionSync(() => sql.exec("INSERT INTO tx VALUES (2)"));
        return Response.json({ thrown, rows: sql.exec("SELECT v FROM tx").toArray() });
      }
      default:
        return new Response("no such op", { status: 404 });
    }
  }
}

// Its first construction keeps the input gate shut forever (a hostile or buggy constructor); the
// node resets it after the gate timeout, and the next construction goes through.
export class Stuck extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.boots = ((await ctx.storage.get("boots")) ?? 0) + 1;
      await ctx.storage.put("boots", this.boots);
      if (this.boots === 1) await new Promise(() => {});
    });
  }
  fetch() {
    return new Response(String(this.boots));
  }
}

export class Gated extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.ready = false;
    ctx.blockConcurrencyWhile(async () => {
      await new Promise((r) => setTimeout(r, 100));
      this.ready = true;
    });
  }
  fetch() {
    return new Response(String(this.ready));
  }
}

export class Alarmed extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    const op = url.pathname.split("/")[3];
    const storage = this.ctx.storage;
    switch (op) {
      case "set": {
        await storage.put("fail", Number(url.searchParams.get("fail") ?? 0));
        await storage.setAlarm(Date.now() + Number(url.searchParams.get("ms")));
        return Response.json(await storage.getAlarm() !== null);
      }
      case "flood": {
        // An object that floods its alarm: many committed changes (an await between each), then
        // many more in one synchronous burst. One alarm per object: the last one set is the alarm.
        const n = Number(url.searchParams.get("n"));
        for (let i = 0; i < n; i++) await storage.setAlarm(Date.now() + 60_000 + i);
        for (let i = 0; i < 10_000; i++) storage.setAlarm(Date.now() + 120_000 + i);
        await storage.setAlarm(Date.now() + Number(url.searchParams.get("ms")));
        return Response.json(await storage.getAlarm() !== null);
      }
      case "wipe": // deleteAll(): the alarm stays at this project's compatibility date (before 2026-02-24)
        await storage.deleteAll();
        return Response.json(await storage.getAlarm());
      case "undo": {
        // A change to the alarm rolled back with its transactionSync(): the alarm is as before.
        const ms = url.searchParams.get("ms");
        try {
          storage.transactionSync(() => {
            if (ms === null) storage.deleteAlarm();
            else storage.setAlarm(Date.now() + Number(ms));
            throw new Error("undo");
          });
        } catch {
          // rolled back
        }
        return Response.json(await storage.getAlarm());
      }
      case "log":
        return Response.json((await storage.get("log")) ?? []);
      case "alarm":
        return Response.json(await storage.getAlarm());
      default:
        return new Response("no such op", { status: 404 });
    }
  }

  async alarm(info) {
    const log = (await this.ctx.storage.get("log")) ?? [];
    log.push({ scheduledTime: info.scheduledTime, retryCount: info.retryCount, isRetry: info.isRetry,
      during: await this.ctx.storage.getAlarm(), name: this.ctx.id.name ?? null });
    await this.ctx.storage.put("log", log);
    if (log.length <= ((await this.ctx.storage.get("fail")) ?? 0)) throw new Error(`planned failure ${log.length}`);
  }
}

export class Evictable extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.constructions = (ctx.storage.kv.get("constructions") ?? 0) + 1;
    ctx.storage.kv.put("constructions", this.constructions);
  }
  fetch() {
    return Response.json(this.constructions);
  }
}

export class Other extends DurableObject {
  fetch() {
    return new Response("other");
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, kind, name] = url.pathname.split("/");
    switch (kind) {
      case "do":
        return env.COUNTER.getByName(name).fetch(request);
      case "evictable":
        return env.EVICTABLE.getByName(name).fetch(request);
      case "alarm":
        return env.ALARMED.getByName(name).fetch(request);
      case "names": {
        // Names that look like paths, reserved prefixes or control characters: each is just a name.
        const out = [];
        for (const n of JSON.parse(url.searchParams.get("names"))) {
          const stub = env.COUNTER.getByName(n);
          out.push({ id: env.COUNTER.idFromName(n).toString(), first: await stub.add(1), second: await stub.add(1),
            label: await stub.label });
        }
        return Response.json(out);
      }
      case "stuck":
        try {
          return await env.STUCK.get(env.STUCK.idFromName(name)).fetch(request);
        } catch (e) {
          return new Response(`${e.name}: ${e.message}`, { status: 503 });
        }
      case "gated":
        return env.GATED.get(env.GATED.idFromName(name)).fetch(request);
      case "ids": {
        const a = env.COUNTER.idFromName("alice");
        const unique = env.COUNTER.newUniqueId();
        return Response.json({
          deterministic: a.toString() === env.COUNTER.idFromName("alice").toString(),
          hex: /^[0-9a-f]{64}$/.test(a.toString()),
          roundTrip: env.COUNTER.idFromString(a.toString()).equals(a),
          uniqueName: unique.name ?? null,
          malformed: await attempt(() => env.COUNTER.idFromString("not-an-id")),
          foreign: await attempt(() => env.COUNTER.idFromString(env.OTHER.idFromName("alice").toString())),
          wrongNamespace: await attempt(() => env.OTHER.get(a)),
          rpc: await attempt(() => env.COUNTER.get(a).noSuchMethod()),
          forged: await attempt(() => new a.constructor("x".repeat(64))),
        });
      }
      case "rpc": {
        const stub = env.COUNTER.getByName(name);
        const first = await stub.add(2);
        const second = await stub.add(3);
        const echoed = await stub.echo({ when: new Date(0), tags: new Set(["a"]), map: new Map([[1, "one"]]), bytes: new Uint8Array([7]) });
        return Response.json({
          first, second,
          label: await stub.label,
          echoed: [echoed.when instanceof Date && echoed.when.getTime(), [...echoed.tags], [...echoed.map], [...echoed.bytes]],
          thrown: await attempt(() => stub.fail("too far")),
          missing: await attempt(() => stub.nope()),
          field: await attempt(() => stub.secret),
          ctor: await attempt(() => stub.constructor()),
          // A function crosses by reference: the object gets a stub, echoes it back, and calling it calls this one.
          fn: await attempt(async () => { const f = await stub.echo(() => 1); return await f(); }),
          viaFetch: await (await stub.fetch("http://do/do/x/count")).text(),
        });
      }
      default:
        return new Response("not found", { status: 404 });
    }
  },
};
