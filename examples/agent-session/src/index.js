// The tools of the agent-session example, as a worker entrypoint the node calls (JS RPC) once a
// session's call has been decided, audited and entered in the ledger. Each effect is a row in the
// Desk durable object, so GET /effects shows how many times each one really happened.
import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";

export class Desk extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS effects (id INTEGER PRIMARY KEY, kind TEXT, detail TEXT, idem TEXT)");
  }

  record(kind, detail, idem) {
    const { id } = this.sql
      .exec("INSERT INTO effects (kind, detail, idem) VALUES (?, ?, ?) RETURNING id", kind, JSON.stringify(detail), idem)
      .one();
    return id;
  }

  effects() {
    return this.sql.exec("SELECT kind, detail, idem FROM effects ORDER BY id").toArray();
  }
}

export class Tools extends WorkerEntrypoint {
  // tickets.open (controlled mutation)
  async openTicket(args, call) {
    const id = await this.env.DESK.getByName("desk").record("ticket", args, call.idempotencyKey);
    return { ticket: `T-${id}`, title: args.title };
  }

  // payments.refund (privileged: runs only after an approver said yes)
  async refund(args, call) {
    const id = await this.env.DESK.getByName("desk").record("refund", args, call.idempotencyKey);
    return { refund: `R-${id}`, order: args.order, amount: args.amount, approvedFor: call.actor };
  }
}

export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname === "/effects") {
      return Response.json(await env.DESK.getByName("desk").effects());
    }
    return new Response("agent-session example: see README.md\n");
  },
};
