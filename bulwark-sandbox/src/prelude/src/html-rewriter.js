// HTMLRewriter as in Workers, over lol-html compiled to WebAssembly (the html-rewriter-wasm
// package, bundled). The 0.9 MB module is given by the host and compiled in the isolate the first
// time a rewriter transforms a response; every transform gets its own lol-html rewriter, fed the
// body chunk by chunk, with async handlers supported (asyncify). The package's JavaScript glue is a
// lazily loaded part (src/parts/html-rewriter-glue.js): not in the startup snapshot, compiled into
// the isolate with the module, when the first transform needs it.
import { H } from './host.js';
import { TextDecoder, TextEncoder } from './encoding.js';
import { TransformStream } from './streams-core.js';
import { Response, isResponse } from './response.js';
import { chunkToBytes } from './body.js';
import { webidlClass, isObjectLike } from './util.js';

const OUT_PIECE = 16 << 10;
let wasmModule = null;
let glue = null;
let ready = false;
let generation = 0; // which instance the rewriters of a transform live in

function ensureWasm() {
  if (ready) return;
  if (wasmModule === null) {
    const mod = H.htmlRewriterWasm(); // compiled by the host with the intrinsic WebAssembly.Module
    if (typeof mod === 'string') throw new TypeError(mod);
    wasmModule = mod;
  }
  if (glue === null) glue = H.preludePart('html-rewriter')({ TextDecoder, TextEncoder });
  glue.__init(wasmModule);
  generation++;
  ready = true;
}

/**
 * A trap inside lol-html (out of Wasm memory: a hostile document's endless tag) leaves its
 * instance unusable; the next transform gets a fresh instance of the same module. Errors thrown
 * by handlers come back through Rust as errors, not traps, and leave the instance as it was.
 */
function checkTrap(err) {
  if (err !== null && typeof err === 'object' && err.name === 'RuntimeError') ready = false;
}

export class HTMLRewriter {
  #element = [];
  #document = [];

  constructor() {}

  on(selector, handlers) {
    if (arguments.length < 2) throw new TypeError("Failed to execute 'on' on 'HTMLRewriter': 2 arguments required.");
    if (!isObjectLike(handlers)) throw new TypeError("Failed to execute 'on' on 'HTMLRewriter': handlers must be an object.");
    this.#element.push([`${selector}`, handlers]);
    return this;
  }

  onDocument(handlers) {
    if (!isObjectLike(handlers)) throw new TypeError("Failed to execute 'onDocument' on 'HTMLRewriter': handlers must be an object.");
    this.#document.push(handlers);
    return this;
  }

  transform(response) {
    if (!isResponse(response)) throw new TypeError("Failed to execute 'transform' on 'HTMLRewriter': parameter 1 is not of type 'Response'.");
    ensureWasm();
    const mine = generation;
    const alive = () => ready && generation === mine;
    let rewriter = null;
    const free = () => {
      if (rewriter !== null) {
        const r = rewriter;
        rewriter = null;
        if (alive()) try { r.free(); } catch { /* already freed */ }
      }
    };
    // lol-html hands out a piece per token; they are gathered into pieces of up to 16 KiB, so a
    // large document is not a queue of hundreds of thousands of tiny arrays.
    let out;
    let buf = new Uint8Array(OUT_PIECE), n = 0;
    const flushOut = () => {
      if (n > 0) { out.enqueue(buf.slice(0, n)); n = 0; }
    };
    rewriter = new glue.HTMLRewriter((chunk) => {
      if (n + chunk.length > buf.length) {
        flushOut();
        if (chunk.length > buf.length) { out.enqueue(chunk.slice()); return; }
      }
      buf.set(chunk, n);
      n += chunk.length;
    });
    try {
      for (const [selector, handlers] of this.#element) rewriter.on(selector, handlers);
      for (const handlers of this.#document) rewriter.onDocument(handlers);
    } catch (err) {
      free();
      throw new TypeError(err && err.message ? err.message : 'HTMLRewriter: invalid selector');
    }
    const { readable, writable } = new TransformStream({
      start(controller) { out = controller; },
      async transform(chunk) {
        if (!alive()) throw new TypeError('HTMLRewriter: the rewriter was reset after another document exhausted its memory.');
        try {
          await rewriter.write(chunkToBytes(chunk));
          flushOut();
        } catch (err) {
          checkTrap(err);
          free();
          throw err;
        }
      },
      async flush() {
        if (!alive()) throw new TypeError('HTMLRewriter: the rewriter was reset after another document exhausted its memory.');
        try {
          await rewriter.end();
          flushOut();
        } catch (err) {
          checkTrap(err);
          throw err;
        } finally {
          free();
        }
      },
    });
    const body = response.body;
    if (body === null) {
      const w = writable.getWriter();
      w.close().catch(() => {});
    } else {
      body.pipeTo(writable).catch(() => free());
    }
    const result = new Response(readable, response);
    result.headers.delete('Content-Length');
    return result;
  }
}
webidlClass(HTMLRewriter);
