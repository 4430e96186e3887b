import { Agent, routeAgentRequest, callable, getAgentByName } from "agents";

export class Counter extends Agent {
  initialState = { count: 0, ticks: 0 };

  onStart() {
    this.sql`CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY AUTOINCREMENT, msg TEXT)`;
    // One row per start of this instance: a start after an eviction shows as a second row.
    this.sql`CREATE TABLE IF NOT EXISTS starts (at INTEGER)`;
    this.sql`INSERT INTO starts VALUES (${Date.now()})`;
  }

  async onRequest(request) {
    const path = new URL(request.url).pathname;
    if (path.endsWith("/inc")) {
      this.setState({ ...this.state, count: this.state.count + 1 });
      this.sql`INSERT INTO log (msg) VALUES (${"inc"})`;
      return Response.json(this.state);
    }
    if (path.endsWith("/schedule")) {
      const s = await this.schedule(1, "tick", { n: 1 });
      return Response.json({ id: s.id, type: s.type });
    }
    if (path.endsWith("/queue")) {
      const id = await this.queue("tick", { n: 2 });
      return Response.json({ queued: typeof id });
    }
    if (path.endsWith("/log")) return Response.json(this.sql`SELECT * FROM log ORDER BY id`);
    return Response.json({ name: this.name, state: this.state, schedules: this.getSchedules().length });
  }

  async tick(payload) {
    this.setState({ ...this.state, ticks: this.state.ticks + payload.n });
    this.sql`INSERT INTO log (msg) VALUES (${"tick"})`;
  }

  @callable()
  add(n) {
    this.setState({ ...this.state, count: this.state.count + n });
    return this.state.count;
  }

  onConnect(connection) {
    connection.send(JSON.stringify({ hello: this.name }));
  }

  onMessage(connection, message) {
    if (typeof message === "string" && message.startsWith("{")) return; // RPC frames handled by Agent
    const count = this.state.count + 1;
    this.setState({ ...this.state, count });
    const [{ n: starts }] = this.sql`SELECT count(*) AS n FROM starts`;
    connection.send(JSON.stringify({ echo: message, count, starts }));
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/rpc/")) {
      const agent = await getAgentByName(env.Counter, url.pathname.slice(5));
      return Response.json({ count: await agent.add(3) });
    }
    return (await routeAgentRequest(request, env)) ?? new Response("not found", { status: 404 });
  },
};
