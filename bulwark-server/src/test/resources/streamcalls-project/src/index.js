// The object (and the dynamic worker) streams; the worker in front passes its response on
// (`return stub.fetch(request)`) or reads it itself.
import { DurableObject } from "cloudflare:workers";

const enc = new TextEncoder();
const CHUNK = 64 * 1024;

// The test pattern (the client checks every byte): byte i is BASE[(i & 0xffff) + shift(i >>> 16)],
// so a 64 KiB piece is one copy out of BASE (cheap on CPU, whatever the size).
const BASE = new Uint8Array(131072);
for (let x = 0; x < BASE.length; x++) BASE[x] = (x * 7 + (x >>> 8)) & 0xff;
const shift = (j) => (j * 13) & 0xffff;

/** The pattern's n bytes at a 64 KiB-aligned offset. */
function patternChunk(offset, n) {
  const s = shift(offset / 65536);
  return BASE.slice(s, s + n);
}

// What a streaming handler shares between its requests (one per object, or the dynamic worker's isolate).
function newState() {
  let release;
  const released = new Promise((r) => { release = r; });
  return { release, released, canceled: null, pulls: 0, foreverBytes: 0 };
}

/** The handlers of a streaming thing: the object and the dynamic worker run the same. */
async function handle(request, states) {
  const url = new URL(request.url);
  // Each test has its own channel (?ch=), so tests sharing the dynamic worker do not meet.
  const ch = url.searchParams.get("ch") || "default";
  let state = states.get(ch);
  if (state === undefined) states.set(ch, state = newState());
  switch (url.pathname) {
    case "/sse": {
      // Server-Sent Events: the first at once, the last only when the test releases it.
      const stream = new ReadableStream({
        async start(c) {
          c.enqueue(enc.encode("data: first\n\n"));
          await state.released;
          c.enqueue(enc.encode("data: last\n\n"));
          c.close();
        },
        cancel(reason) {
          state.canceled = `${reason && reason.name ? reason.name : reason}`;
        },
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream" } });
    }
    case "/sse-quiet": {
      // Nothing until the test releases it: the head must reach the client on its own first.
      const stream = new ReadableStream({
        async start(c) {
          await state.released;
          c.enqueue(enc.encode("data: last\n\n"));
          c.close();
        },
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream" } });
    }
    case "/sse-heartbeat": {
      // As SSE servers do: a comment every 100 ms keeps the stream alive (and finds a client gone).
      let timer;
      const stream = new ReadableStream({
        start(c) {
          c.enqueue(enc.encode("data: first\n\n"));
          const beat = () => {
            try { c.enqueue(enc.encode(": ping\n\n")); } catch { return; }
            timer = setTimeout(beat, 100);
          };
          timer = setTimeout(beat, 100);
        },
        cancel(reason) {
          clearTimeout(timer);
          state.canceled = `${reason && reason.name ? reason.name : reason}`;
        },
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream" } });
    }
    case "/release":
      state.release();
      return new Response("released");
    case "/state":
      return Response.json({ canceled: state.canceled, pulls: state.pulls, foreverBytes: state.foreverBytes });
    case "/big": {
      // A pattern body of `mb` MiB from a pull source: made only as fast as it is read.
      const total = Number(url.searchParams.get("mb")) * 1024 * 1024;
      let offset = 0;
      return new Response(new ReadableStream({
        pull(c) {
          if (offset >= total) { c.close(); return; }
          const n = Math.min(CHUNK, total - offset);
          c.enqueue(patternChunk(offset, n));
          offset += n;
        },
      }, { highWaterMark: 0 }));
    }
    case "/forever": {
      // Produces for as long as anyone reads: a slow reader must hold it back.
      const piece = new Uint8Array(CHUNK).fill(120);
      return new Response(new ReadableStream({
        pull(c) {
          state.pulls++;
          state.foreverBytes += CHUNK;
          c.enqueue(piece.slice());
        },
        cancel(reason) { state.canceled = `${reason && reason.name ? reason.name : reason}`; },
      }, { highWaterMark: 0 }));
    }
    case "/upload": {
      // Reads the request body as it comes: its length, its pieces, its SHA-256 (hashed natively).
      let length = 0, pieces = 0;
      const digest = new crypto.DigestStream("SHA-256");
      const writer = digest.getWriter();
      const reader = request.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        pieces++;
        length += value.length;
        await writer.write(value);
      }
      await writer.close();
      const hex = [...new Uint8Array(await digest.digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
      return Response.json({ length, pieces, sha256: hex });
    }
    case "/echo":
      // Streams the request body back as it reads it.
      return new Response(request.body);
    case "/length":
      return new Response(String((await request.arrayBuffer()).byteLength));
    default:
      return new Response("ok " + url.pathname);
  }
}

export class Streamer extends DurableObject {
  #states = new Map();
  async fetch(request) {
    return handle(request, this.#states);
  }
}

// The same handlers as a dynamic worker (it runs in the tenant's sandbox for generated code, so its
// calls always go through the node).
const DYNAMIC = `
const enc = new TextEncoder();
const CHUNK = 64 * 1024;
const BASE = new Uint8Array(131072);
for (let x = 0; x < BASE.length; x++) BASE[x] = (x * 7 + (x >>> 8)) & 0xff;
const shift = ${shift.toString()};
${patternChunk.toString()}
${newState.toString()}
${handle.toString()}
const states = new Map();
export default { fetch(request) { return handle(request, states); } };
`;

function dynamic(env) {
  return env.LOADER.get("streamer", () => ({
    compatibilityDate: "2025-06-01", mainModule: "main.js", modules: { "main.js": DYNAMIC }, globalOutbound: null,
  })).getEntrypoint();
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/bundle") {
      // A dynamic worker of exactly `bytes` bytes of code (Workers' limit: 64 MiB).
      const total = Number(url.searchParams.get("bytes"));
      const main = `import big from "./big.bin"; export default { fetch() { return new Response(String(new Uint8Array(big).length)); } };`;
      try {
        const worker = env.LOADER.load({ compatibilityDate: "2025-06-01", mainModule: "main.js", globalOutbound: null,
          modules: { "main.js": main, "big.bin": { data: new Uint8Array(total - main.length).buffer } } });
        const r = await worker.getEntrypoint().fetch("http://dyn/");
        return new Response(`loaded ${main.length + Number(await r.text())}`);
      } catch (e) {
        return new Response(`${e.name}: ${e.message}`, { status: 400 });
      }
    }
    if (url.pathname === "/fanout") {
      // n calls at once, each with a body of kib KiB, each the first event of its own object (so
      // the node places it and relays the call) or, with ?dyn, to the dynamic worker.
      const n = Number(url.searchParams.get("n")), kib = Number(url.searchParams.get("kib"));
      const run = url.searchParams.get("run");
      const body = new Uint8Array(kib * 1024);
      const lengths = await Promise.all(Array.from({ length: n }, async (_, i) => {
        const stub = url.searchParams.has("dyn") ? dynamic(env) : env.STREAMER.getByName(`fan-${run}-${i}`);
        const r = await stub.fetch("https://streamer/length", { method: "POST", body });
        return Number(await r.text());
      }));
      return new Response(`${lengths.filter((l) => l === body.length).length} of ${n}`);
    }
    // /do/<name>/<rest> and /dyn/<rest>: passed on whole (`return stub.fetch(request)`).
    // /read/do/<name>/<rest>: the worker reads the body itself and passes on each chunk upper-cased.
    const parts = url.pathname.split("/").filter(Boolean);
    let reads = false;
    if (parts[0] === "read") { reads = true; parts.shift(); }
    let stub, rest;
    if (parts[0] === "do") {
      stub = env.STREAMER.getByName(parts[1]);
      rest = parts.slice(2);
    } else if (parts[0] === "dyn") {
      stub = dynamic(env);
      rest = parts.slice(1);
    } else {
      return new Response("no such route", { status: 404 });
    }
    const inner = new Request(`https://streamer/${rest.join("/")}${url.search}`, request);
    const res = await stub.fetch(inner);
    if (!reads) return res;
    const reader = res.body.getReader();
    return new Response(new ReadableStream({
      async pull(c) {
        const { done, value } = await reader.read();
        if (done) { c.close(); return; }
        const out = new Uint8Array(value.length);
        for (let k = 0; k < value.length; k++) out[k] = value[k] >= 97 && value[k] <= 122 ? value[k] - 32 : value[k];
        c.enqueue(out);
      },
      cancel(reason) { return reader.cancel(reason); },
    }, { highWaterMark: 0 }), { headers: res.headers });
  },
};
