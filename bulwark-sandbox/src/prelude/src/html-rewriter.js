// HTMLRewriter as in Workers, over lol-html compiled to WebAssembly (the html-rewriter-wasm
// package, bundled). The 0.9 MB module is given by the host and compiled in the isolate the first
// time a rewriter transforms a response; every transform gets its own lol-html rewriter, fed the
// body chunk by chunk, with async handlers supported (asyncify).
import * as glue from 'html-rewriter-wasm';
import { H } from './host.js';
import { TransformStream } from './streams-core.js';
import { Response, isResponse } from './response.js';
import { chunkToBytes } from './body.js';
import { webidlClass, isObjectLike } from './util.js';

let ready = false;

function ensureWasm() {
  if (ready) return;
  const mod = H.htmlRewriterWasm(); // compiled by the host with the intrinsic WebAssembly.Module
  if (typeof mod === 'string') throw new TypeError(mod);
  glue.__init(mod);
  ready = true;
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
    let rewriter = null;
    const free = () => {
      if (rewriter !== null) {
        const r = rewriter;
        rewriter = null;
        try { r.free(); } catch { /* already freed */ }
      }
    };
    let out;
    rewriter = new glue.HTMLRewriter((chunk) => {
      if (chunk.length > 0) out.enqueue(chunk.slice());
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
        try {
          await rewriter.write(chunkToBytes(chunk));
        } catch (err) {
          free();
          throw err;
        }
      },
      async flush() {
        try {
          await rewriter.end();
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
