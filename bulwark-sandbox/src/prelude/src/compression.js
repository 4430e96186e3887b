// CompressionStream and DecompressionStream (Compression Streams standard) for "gzip", "deflate"
// and "deflate-raw". zlib runs in the host (WebApisHost.java); this side is a writable/readable
// pair with exact back-pressure: the host produces at most 64 KiB of output per call, and only
// when the readable side is read, so a small compressed input that expands enormously (a zip
// bomb) costs memory only as fast as the reader takes it.
import { H } from './host.js';
import { ReadableStream, WritableStream } from './streams-core.js';
import { viewBytes, isObjectLike, webidlClass, toDOMString, PromiseCtor } from './util.js';

const MAX_INPUT = 1 << 20; // the host's limit per call; bigger chunks are sliced
const FORMATS = ['deflate', 'deflate-raw', 'gzip'];

function toFormat(format, what) {
  const f = toDOMString(format);
  if (!FORMATS.includes(f)) {
    throw new TypeError(`Failed to construct '${what}': Unsupported compression format: '${f}'. Expected one of 'deflate', 'deflate-raw', 'gzip'.`);
  }
  return f;
}

function slices(bytes) {
  const out = [];
  for (let i = 0; i < bytes.length; i += MAX_INPUT) out.push(bytes.slice(i, i + MAX_INPUT));
  return out;
}

/** Builds the readable/writable pair of one (de)compression stream. */
function zlibPair(format, compress) {
  let handle = 0;
  let pending = null; // { parts, index, finish, resolve, reject }: the write (or close) being worked on
  let wake = null; // resolves a read waiting for input
  let readableController, writableController;
  let failed = false;

  const release = () => {
    if (handle !== 0) {
      const h = handle;
      handle = 0;
      try { H.zlibClose(h); } catch { /* already gone */ }
    }
  };
  const step = (input, finish) => {
    if (handle === 0) {
      const h = H.zlibOpen(format, compress);
      if (typeof h === 'string') throw new TypeError(h);
      handle = h;
    }
    const out = H.zlibPush(handle, input, finish);
    if (typeof out === 'string') { handle = 0; throw new TypeError(out); }
    return out;
  };
  const fail = (err) => {
    if (failed) return;
    failed = true;
    release();
    try { readableController.error(err); } catch { /* already errored */ }
    try { writableController.error(err); } catch { /* already errored */ }
    if (pending !== null) { const p = pending; pending = null; p.reject(err); }
    if (wake !== null) { const w = wake; wake = null; w(); }
  };
  const submit = (parts, finish) => new PromiseCtor((resolve, reject) => {
    pending = { parts, index: 0, finish, resolve, reject };
    if (wake !== null) { const w = wake; wake = null; w(); }
  });

  const readable = new ReadableStream({
    start(c) { readableController = c; },
    async pull(c) {
      for (;;) {
        if (failed) return;
        if (pending === null) {
          await new PromiseCtor((resolve) => { wake = resolve; });
          continue;
        }
        const p = pending;
        const input = p.index < p.parts.length ? p.parts[p.index++] : null;
        let out;
        try {
          out = step(input, p.finish && p.index >= p.parts.length);
        } catch (err) {
          fail(err);
          return;
        }
        if (out.length > 0) { c.enqueue(out); return; }
        if (p.index < p.parts.length) continue;
        pending = null;
        if (p.finish) {
          release();
          c.close();
          p.resolve();
          return;
        }
        p.resolve();
      }
    },
    cancel(reason) { fail(reason); },
  }, { highWaterMark: 0 });

  const writable = new WritableStream({
    start(c) { writableController = c; },
    write(chunk) {
      const view = isObjectLike(chunk) ? viewBytes(chunk) : null;
      if (view === null) {
        const err = new TypeError('The chunk written to a compression stream must be an ArrayBuffer or ArrayBufferView.');
        fail(err);
        throw err;
      }
      if (view.length === 0) return undefined;
      return submit(slices(view), false);
    },
    close() { return submit([], true); },
    abort(reason) { fail(reason); },
  }, { highWaterMark: 1 });

  return { readable, writable };
}

export class CompressionStream {
  #pair;
  constructor(format) {
    if (arguments.length < 1) throw new TypeError("Failed to construct 'CompressionStream': 1 argument required, but only 0 present.");
    this.#pair = zlibPair(toFormat(format, 'CompressionStream'), true);
  }
  get readable() { return this.#pair.readable; }
  get writable() { return this.#pair.writable; }
}
webidlClass(CompressionStream);

export class DecompressionStream {
  #pair;
  constructor(format) {
    if (arguments.length < 1) throw new TypeError("Failed to construct 'DecompressionStream': 1 argument required, but only 0 present.");
    this.#pair = zlibPair(toFormat(format, 'DecompressionStream'), false);
  }
  get readable() { return this.#pair.readable; }
  get writable() { return this.#pair.writable; }
}
webidlClass(DecompressionStream);
