// A Node implementation of the Bulwark host contract, for loading prelude.js into a bare
// vm context (no Node or browser globals), as the Java isolate host does.
import vm from 'node:vm';
import { readFileSync } from 'node:fs';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { domainToASCII } from 'node:url';

const nodeHash = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

/**
 * Create a context with the prelude loaded and installed.
 * options.fetch(method, url, headers, body, invocationId) → Promise<{status,...}> (outer realm ok)
 */
export function createIsolate(preludePath, options = {}) {
  const context = vm.createContext({}, { codeGeneration: { strings: false, wasm: false }, name: 'bulwark-test' });
  const code = readFileSync(preludePath, 'utf8');
  // Before install nothing may be scheduled: the prelude runs at snapshot time.
  new vm.Script(code, { filename: 'prelude.js' }).runInContext(context);
  const U8 = vm.runInContext('Uint8Array', context);
  const CtxPromise = vm.runInContext('Promise', context);
  const CtxTypeError = vm.runInContext('TypeError', context);
  const CtxError = vm.runInContext('Error', context);
  const toCtxBytes = (buf) => { const u = new U8(buf.length); u.set(buf); return u; };

  const state = {
    logs: [],
    timers: new Map(),
    responses: new Map(), // invocationId -> { start, chunks, end, error }
    currentInvocation: 0,
    hostCalls: [],
    verbose: !!options.verbose,
  };
  const response = (id) => {
    let r = state.responses.get(id);
    if (!r) { r = { start: null, chunks: [], end: false, error: null, events: [] }; state.responses.set(id, r); }
    return r;
  };
  let runtime;
  const host = {
    log(level, message) {
      if (!['debug', 'info', 'log', 'warn', 'error'].includes(level)) throw new Error(`bad log level ${level}`);
      if (typeof message !== 'string') throw new Error('log message must be a string');
      state.logs.push([level, message]);
      if (state.verbose) process.stdout.write(`    [${level}] ${message}\n`);
    },
    randomBytes(n) { return toCtxBytes(randomBytes(n)); },
    digest(alg, data) {
      if (!nodeHash[alg]) throw new CtxTypeError(`bad hash ${alg}`);
      if (!(data instanceof U8)) throw new CtxTypeError('digest data must be a Uint8Array');
      return toCtxBytes(createHash(nodeHash[alg]).update(data).digest());
    },
    hmac(alg, key, data) {
      if (!nodeHash[alg]) throw new CtxTypeError(`bad hash ${alg}`);
      if (!(key instanceof U8) || !(data instanceof U8)) throw new CtxTypeError('hmac key/data must be Uint8Array');
      return toCtxBytes(createHmac(nodeHash[alg], key).update(data).digest());
    },
    setTimer(id, delay) {
      if (!Number.isInteger(id) || id <= 0) throw new Error(`bad timer id ${id}`);
      if (typeof delay !== 'number' || delay < 0) throw new Error(`bad delay ${delay}`);
      clearTimeout(state.timers.get(id));
      state.timers.set(id, setTimeout(() => { state.timers.delete(id); runtime.fireTimer(id); }, delay));
    },
    clearTimer(id) {
      clearTimeout(state.timers.get(id));
      state.timers.delete(id);
    },
    fetch(method, url, headers, body, invocationId) {
      state.hostCalls.push(['fetch', method, url]);
      if (body !== null && !(body instanceof U8)) throw new Error('fetch body must be Uint8Array or null');
      const impl = options.fetch;
      return new CtxPromise((resolve, reject) => {
        if (!impl) { reject(new CtxTypeError('fetch is not available in this host')); return; }
        Promise.resolve(impl(method, url, headers, body && Buffer.from(body), invocationId)).then((res) => {
          resolve({ status: res.status, statusText: res.statusText ?? '', headers: res.headers ?? [], body: res.body == null ? null : toCtxBytes(Buffer.from(res.body)), url: res.url ?? url });
        }, (err) => reject(new CtxTypeError(err && err.message ? err.message : String(err))));
      });
    },
    responseStart(id, status, statusText, headers) {
      const r = response(Number(id));
      if (r.start) throw new Error('responseStart called twice');
      if (typeof headers === 'string') {
        const parts = headers === '' ? [] : headers.split('\n');
        headers = [];
        for (let i = 0; i + 1 < parts.length; i += 2) headers.push([parts[i], parts[i + 1]]);
      }
      r.start = { status, statusText, headers };
      r.events.push('start');
    },
    responseChunk(id, chunk) {
      if (!(chunk instanceof U8)) throw new Error('chunk must be a Uint8Array of the isolate');
      const r = response(Number(id));
      if (!r.start) throw new Error('responseChunk before responseStart');
      r.chunks.push(Buffer.from(chunk));
      r.events.push('chunk');
    },
    responseEnd(id) { const r = response(Number(id)); r.end = true; r.events.push('end'); },
    // The whole response in one call (head, optional body, end), as the Java host's responseWhole.
    responseWhole(id, status, statusText, headers, body) {
      this.responseStart(id, status, statusText, headers);
      if (body !== null) this.responseChunk(id, body);
      this.responseEnd(id);
    },
    responseError(id, name, message, stack, passThrough) {
      const r = response(Number(id));
      r.error = { name, message, stack, passThrough };
      r.events.push('error');
    },
    requestBodyPull(id) { (state.pulls ??= []).push(Number(id)); },
    // zlib: a simple model of WebApisHost (input collected, output given out at most 64 KiB a
    // call; decompression of what arrived so far with a sync flush).
    zlibOpen(format, compress) {
      if (!['gzip', 'deflate', 'deflate-raw'].includes(format)) return 'Unsupported compression format.';
      const id = (state.zlibNext = (state.zlibNext ?? 0) + 1);
      (state.zlib ??= new Map()).set(id, { format, compress, input: [], produced: 0, out: Buffer.alloc(0), done: false });
      return id;
    },
    zlibPush(id, input, finish) {
      const z = state.zlib?.get(id);
      if (!z) return 'The compression stream is closed.';
      if (input !== null) z.input.push(Buffer.from(input));
      const all = Buffer.concat(z.input);
      try {
        if (z.out.length === 0 && !z.done) {
          let full;
          if (z.compress) {
            if (finish) { full = { deflate: zlib.deflateSync, gzip: zlib.gzipSync, 'deflate-raw': zlib.deflateRawSync }[z.format](all); z.done = true; }
          } else {
            const fn = { deflate: zlib.inflateSync, gzip: zlib.gunzipSync, 'deflate-raw': zlib.inflateRawSync }[z.format];
            if (finish) {
              const { buffer, engine } = fn(all, { info: true });
              if (engine.bytesWritten !== all.length) throw new Error('trailing data');
              full = buffer;
              z.done = true;
            } else {
              full = fn(all, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
            }
          }
          if (full) { z.out = full.subarray(z.produced); z.produced = full.length; }
        }
      } catch {
        state.zlib.delete(id);
        return finish ? 'The compressed data ended early.' : 'The compressed data is not valid.';
      }
      const piece = z.out.subarray(0, 65536);
      z.out = z.out.subarray(piece.length);
      return toCtxBytes(piece);
    },
    zlibClose(id) { state.zlib?.delete(id); },
    // A full collection (V8's low-memory notification in Java); Node's vm has none to ask for.
    collectGarbage() {},
    htmlRewriterWasm() {
      // Compiled in Node's own realm, as the Java host compiles it outside worker code: the
      // context itself may not generate code (wasm: false), as in Workers.
      return new WebAssembly.Module(readFileSync(new URL('../../main/resources/dev/bulwark/sandbox/prelude/html_rewriter_bg.wasm', import.meta.url)));
    },
    // A part of the prelude kept out of the snapshot (PreludeParts.java): compiled into the context.
    preludePart(name) {
      if (name !== 'html-rewriter' && name !== 'urlpattern' && name !== 'subtle') throw new Error(`no prelude part ${name}`);
      state.partsLoaded = [...(state.partsLoaded || []), name];
      const file = new URL(`parts/${name}.js`, new URL(`file://${preludePath.startsWith('/') ? '' : process.cwd() + '/'}${preludePath}`));
      return vm.runInContext(readFileSync(file, 'utf8'), context, { filename: `bulwark:prelude:${name}` });
    },
    // Legacy encodings through Node's own TextDecoder (ICU). The state number the prelude passes
    // back is, here, the id of a Node decoder kept while a stream is open.
    decodeLegacy(encoding, bytes, stream, fatal, st) {
      if (encoding === 'x-user-defined') return [String.fromCharCode(...Array.from(bytes, (b) => (b < 0x80 ? b : 0xf700 + b))), 0, 0];
      const decoders = (state.legacyDecoders ??= new Map());
      let d = decoders.get(st);
      if (!d) {
        d = new TextDecoder(encoding, { fatal });
        st = (state.legacyNext = (state.legacyNext ?? 0) + 1);
      }
      decoders.delete(st);
      let text;
      try { text = d.decode(Buffer.from(bytes), { stream }); } catch { return false; }
      if (!stream) return [text, 0, 0];
      decoders.set(st, d);
      return [text, 0, st];
    },
    // Javet hands a Java long over as a BigInt; options.bigintIds mimics that.
    objectId() { throw new Error('no durable objects in the contract host'); },
    callObject() { throw new Error('no durable objects in the contract host'); },
    callWorker() { throw new Error('no dynamic workers in the contract host'); },
    loadDynamic() { throw new Error('no dynamic workers in the contract host'); },
    rpcObject() { throw new Error('no RPC in the contract host'); },
    rpcWorker() { throw new Error('no RPC in the contract host'); },
    rpcReturn() { throw new Error('no RPC in the contract host'); },
    sqlExec() { throw new Error('no durable objects in the contract host'); },
    sqlText() { throw new Error('no durable objects in the contract host'); },
    sqlBuffer() { throw new Error('no durable objects in the contract host'); },
    serviceCall() { throw new Error('no service bindings in the contract host'); },
    serviceRpc() { throw new Error('no service bindings in the contract host'); },
    capCall() { throw new Error('no capabilities in the contract host'); },
    capFetch() { throw new Error('no capabilities in the contract host'); },
    capRelease() { throw new Error('no capabilities in the contract host'); },
    capRevoke() { throw new Error('no capabilities in the contract host'); },
    facetCall() { throw new Error('no facets in the contract host'); },
    facetRpc() { throw new Error('no facets in the contract host'); },
    facetControl() { throw new Error('no facets in the contract host'); },
    kvGet() { throw new Error('no durable objects in the contract host'); },
    kvPut() { throw new Error('no durable objects in the contract host'); },
    kvDelete() { throw new Error('no durable objects in the contract host'); },
    kvList() { throw new Error('no durable objects in the contract host'); },
    storageOp() { throw new Error('no durable objects in the contract host'); },
    // Streamed subrequest bodies (the contract host answers no fetch, so nothing to acknowledge).
    subrequestAck(id, bytes) { (state.subrequestAcks ??= []).push([Number(id), Number(bytes)]); },
    subrequestCancel(id) { (state.subrequestCancels ??= []).push(Number(id)); },
    subrequestBodyChunk() { throw new Error('no streamed uploads in the contract host'); },
    subrequestBodyEnd() { throw new Error('no streamed uploads in the contract host'); },
    subrequestStartTls() { throw new Error('no sockets in the contract host'); },
    socketOpen() { throw new Error('no WebSockets in the contract host'); },
    socketClaim() { throw new Error('no WebSockets in the contract host'); },
    socketSend() { throw new Error('no WebSockets in the contract host'); },
    socketClose() { throw new Error('no WebSockets in the contract host'); },
    socketAttachment() { throw new Error('no WebSockets in the contract host'); },
    socketAutoResponse() { throw new Error('no WebSockets in the contract host'); },
    socketEventTimeout() { throw new Error('no WebSockets in the contract host'); },
    socketList() { return []; },
    currentInvocation() { return options.bigintIds ? BigInt(state.currentInvocation) : state.currentInvocation; },
    nodeHash(alg, data) { return toCtxBytes(createHash(alg).update(data).digest()); },
    nodeHmac(alg, key, data) { return toCtxBytes(createHmac(alg, key).update(data).digest()); },
    // Node's vm has no V8 extras binding: a plain slot, so no propagation across await here
    // (the isolate tests cover that in V8 itself).
    asyncContextGet() { return state.asyncContext; },
    asyncContextSet(v) { state.asyncContext = v; },
    // The Java host uses ICU4J's UTS #46; Node's URL parser (ada) implements the same
    // "domain to ASCII" and answers '' where the standard says failure.
    // WebCrypto runs on the JDK (CryptoHost); the Java suite tests it in real isolates.
    crypto() { throw new Error('crypto.subtle is not available in the Node harness'); },
    domainToAscii(domain) { const a = domainToASCII(domain); return a === '' ? null : a; },
    now() { return Date.now(); },
    gateTimeoutMs() { return 30000; },
    // V8's promise state is not reachable from Node's vm: inspect shows <state unknown> here.
    promiseState() { return undefined; },
  };
  const install = vm.runInContext('globalThis.__bulwark_install', context);
  if (typeof install !== 'function') throw new Error('prelude did not define __bulwark_install');
  runtime = install(host);
  return { context, runtime, state, response, toCtxBytes, host, options };
}

/** Evaluate an ES module worker in the context; returns its default export. */
export async function loadWorker(iso, source, filename) {
  const workersModule = iso.runtime.workersModule;
  const mod = new vm.SourceTextModule(source, { context: iso.context, identifier: filename });
  await mod.link(async (specifier) => {
    if (specifier !== 'cloudflare:workers') throw new Error(`cannot import ${specifier}`);
    const names = Object.keys(workersModule);
    const synth = new vm.SyntheticModule(names, function () {
      for (const n of names) this.setExport(n, workersModule[n]);
    }, { context: iso.context, identifier: 'cloudflare:workers' });
    return synth;
  });
  await mod.evaluate();
  return mod.namespace.default;
}

/** Dispatch a request and collect the streamed response. */
export async function dispatch(iso, handler, req, invocationId, timeoutMs = 10000) {
  iso.state.currentInvocation = invocationId;
  const full = { method: 'GET', url: 'https://worker.test/', headers: [], body: null, ...req };
  if (full.body != null && !(full.body instanceof vm.runInContext('Uint8Array', iso.context))) full.body = iso.toCtxBytes(Buffer.from(full.body));
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`dispatchFetch did not settle within ${timeoutMs} ms`)), timeoutMs); });
  try {
    await Promise.race([iso.runtime.dispatchFetch(handler, full, {}, iso.options.bigintIds ? BigInt(invocationId) : invocationId), timeout]);
  } finally {
    clearTimeout(timer);
  }
  const r = iso.response(invocationId);
  return { ...r, body: Buffer.concat(r.chunks) };
}
