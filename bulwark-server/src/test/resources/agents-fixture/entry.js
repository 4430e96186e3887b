import { Agent, routeAgentRequest, callable, getAgentByName } from "agents";
import { McpAgent, createMcpHandler } from "agents/mcp";
import { McpServer } from "@modelcontextprotocol/server";
import { McpServer as McpServerV1 } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { AIChatAgent } from "@cloudflare/ai-chat";
import { streamText, convertToModelMessages } from "ai";
import { MockLanguageModelV3, simulateReadableStream } from "ai/test";

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
    if (path.endsWith("/sub")) {
      const searcher = await this.subAgent(Searcher, "main");
      return Response.json({ first: await searcher.search("a"), second: await searcher.search("b") });
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

export class Searcher extends Agent {
  onStart() { this.sql`CREATE TABLE IF NOT EXISTS q (text TEXT)`; }
  search(text) {
    this.sql`INSERT INTO q VALUES (${text})`;
    return { name: this.name, count: this.sql`SELECT count(*) AS n FROM q`[0].n };
  }
}

// An MCP server as a durable object (McpAgent keeps MCP SDK v1's McpServer).
export class Calc extends McpAgent {
  server = new McpServerV1({ name: "calc", version: "1.0.0" });
  initialState = { total: 0 };
  async init() {
    this.server.tool("add", { a: z.number(), b: z.number() }, async ({ a, b }) => {
      this.setState({ total: this.state.total + a + b });
      return { content: [{ type: "text", text: String(a + b) + " total " + this.state.total }] };
    });
  }
}

function statelessServer() {
  const server = new McpServer({ name: "stateless", version: "1.0.0" });
  server.registerTool("echo", { inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({ content: [{ type: "text", text }] }));
  return server;
}

// @cloudflare/ai-chat's chat agent (AIChatAgent).
// A chat agent whose model is the AI SDK's own mock: it streams "Hello, <last user text>!" in pieces.
export class Chat extends AIChatAgent {
  async onChatMessage(onFinish) {
    const last = this.messages.at(-1);
    const text = last?.parts?.find((p) => p.type === "text")?.text ?? "";
    const words = ["Hello", ", ", text, "!"];
    const model = new MockLanguageModelV3({
      doStream: async () => ({
        stream: simulateReadableStream({
          chunkDelayInMs: 5,
          chunks: [
            { type: "stream-start", warnings: [] },
            { type: "text-start", id: "t1" },
            ...words.map((delta) => ({ type: "text-delta", id: "t1", delta })),
            { type: "text-end", id: "t1" },
            { type: "finish", finishReason: { unified: "stop", raw: "stop" }, usage: { inputTokens: { total: 3 }, outputTokens: { total: 4 } } },
          ],
        }),
      }),
    });
    const result = streamText({ model, messages: await convertToModelMessages(this.messages), onFinish });
    return result.toUIMessageStreamResponse();
  }
}

// McpAgent over Streamable HTTP and over the legacy SSE transport; a stateless server beside them.
const mcp = Calc.serve("/mcp", { binding: "Calc" });
const sse = Calc.serveSSE("/sse", { binding: "Calc" });

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/mcp")) return mcp.fetch(request, env, ctx);
    if (url.pathname.startsWith("/sse")) return sse.fetch(request, env, ctx);
    if (url.pathname.startsWith("/stateless")) return createMcpHandler(statelessServer, { route: "/stateless" })(request, env, ctx);
    if (url.pathname.startsWith("/rpc/")) {
      const agent = await getAgentByName(env.Counter, url.pathname.slice(5));
      return Response.json({ count: await agent.add(3) });
    }
    return (await routeAgentRequest(request, env)) ?? new Response("not found", { status: 404 });
  },
};
