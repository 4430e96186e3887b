// A Node implementation of the Bulwark host contract, for loading prelude.js into a bare
// vm context (no Node or browser globals), as the Java isolate host does.
import vm from 'node:vm';
import { readFileSync } from 'node:fs';
import { createHash, createHmac, randomBytes } from 'node:crypto';

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
    responseError(id, name, message, stack, passThrough) {
      const r = response(Number(id));
      r.error = { name, message, stack, passThrough };
      r.events.push('error');
    },
    requestBodyPull(id) { (state.pulls ??= []).push(Number(id)); },
    // Javet hands a Java long over as a BigInt; options.bigintIds mimics that.
    objectId() { throw new Error('no durable objects in the contract host'); },
    callObject() { throw new Error('no durable objects in the contract host'); },
    callWorker() { throw new Error('no dynamic workers in the contract host'); },
    loadDynamic() { throw new Error('no dynamic workers in the contract host'); },
    rpcObject() { throw new Error('no RPC in the contract host'); },
    rpcWorker() { throw new Error('no RPC in the contract host'); },
    rpcReturn() { throw new Error('no RPC in the contract host'); },
    sqlExec() { throw new Error('no durable objects in the contract host'); },
    kvGet() { throw new Error('no durable objects in the contract host'); },
    kvPut() { throw new Error('no durable objects in the contract host'); },
    kvDelete() { throw new Error('no durable objects in the contract host'); },
    kvList() { throw new Error('no durable objects in the contract host'); },
    storageOp() { throw new Error('no durable objects in the contract host'); },
    socketOpen() { throw new Error('no WebSockets in the contract host'); },
    socketSend() { throw new Error('no WebSockets in the contract host'); },
    socketClose() { throw new Error('no WebSockets in the contract host'); },
    socketAttachment() { throw new Error('no WebSockets in the contract host'); },
    socketAutoResponse() { throw new Error('no WebSockets in the contract host'); },
    socketEventTimeout() { throw new Error('no WebSockets in the contract host'); },
    socketList() { return []; },
    currentInvocation() { return options.bigintIds ? BigInt(state.currentInvocation) : state.currentInvocation; },
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
