// A module worker, written for the Workers API: it runs unchanged on Bulwark and on workerd.
import { greet } from "./greet.js";

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/hello") return new Response("Hello World");
    if (url.pathname === "/json") {
      return Response.json({ method: request.method, path: url.pathname, query: Object.fromEntries(url.searchParams) });
    }
    if (url.pathname === "/echo" && request.method === "POST") {
      return new Response(request.body, { headers: { "content-type": request.headers.get("content-type") ?? "application/octet-stream" } });
    }
    if (url.pathname === "/sha256") {
      const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(url.searchParams.get("s") ?? ""));
      return new Response([...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join(""));
    }
    console.log("greeting", url.searchParams.get("name") ?? "world");
    return new Response(greet(env.GREETING, url.searchParams.get("name") ?? "world") + "\n");
  },
};
