// __bulwark_install(host) → runtime { fireTimer, dispatchFetch, requestBodyChunk, requestBodyEnd,
// workersModule, consoleFormat }.
import { H, bindHost, safeLog, stubHost, warmBindHost } from './host.js';
import { defineGlobals, isObjectLike, PromiseResolve, PromiseThen, PromiseCtor, ReflectApply, captureSharedArrayBuffer, GLOBAL_SCOPE_IO } from './util.js';
import { installWasmAccount } from './wasm-memories.js';
import { installSharedBufferAccount } from './resizable-buffers.js';
import { fireTimer, cancelInvocationTimers, timeoutsSettled, hasTimeouts } from './timers.js';
import { format, inspect } from './console.js';
import { requestInternals } from './request.js';
import { setCompatibility, compat, WEAK_REF, GLOBAL_MESSAGE_CHANNEL, NAVIGATOR_LANGUAGE } from './compat.js';
import { navigator } from './platform.js';
import { Response, isResponse, responseInternals } from './response.js';
import { headerLines } from './headers.js';
import { Body, chunkToBytes } from './body.js';
import { getReader, readerReadChunk, ReadableStream } from './streams-core.js';
import { canonicalURL } from './url.js';
import { normalizeMethod } from './request.js';
import { subrequestChunk, subrequestEnd, subrequestDrop, subrequestBodyPull, endUpload, endUploadsOf, uploadPeerDone } from './egress.js';
import { makeNamespace, objectFetch, objectConnect, objectReceiver, evictObject, resetObject, objectSocketEvent, registerWaitUntil, forgetWaitUntil, waitUntilOf, abortedReason, abortWithoutRetry, raceReset } from './objects.js';
import { socketInternals, deliverToListeners } from './websocket.js';
import { answerRpc, answerCap, answerAlarm, entrypointReceiver } from './rpc.js';
import { dropExport, makeCapStub, revoke, decodePayload, leaveContext } from './caps.js';
import { makeLoader } from './loader.js';
import { makeService, linkExports, ctxExports, setGlobalOutbound, warmLinkExports } from './services.js';
import { serialize, deserialize } from './serialize.js';
import { encodeThrown } from './remote-errors.js';
import { utf8DecodeReplace } from './encoding.js';
import { installAsyncContext, invocationFrame, runInFrame } from './async-context.js';
import { nodeInternals } from './node-internals.js';
import { EmailMessage } from './email.js';
import { cjsModule } from './cjs.js';
import { importer } from './dynimport.js';
import { importables } from './importable.js';
import { DOMException } from './dom-exception.js';
import { reportRejection } from './report.js';
import { promiseRejected, promiseHandled, reportRejections, forgetRejections } from './global-scope.js';

// ---------------------------------------------------------------------------------------
// cloudflare:workers

import { DurableObject, WorkerEntrypoint, WorkflowEntrypoint, RpcTarget } from './runtime-classes.js';
import { RpcStub, RpcProperty, RpcPromise } from './rpc.js';
import { ServiceStub } from './services.js';
import { connect, socketTlsStarted, acceptSocket } from './sockets.js';
export { DurableObject, WorkerEntrypoint, WorkflowEntrypoint, RpcTarget };

/** waitUntil of cloudflare:workers: the current event's ctx.waitUntil. */
function waitUntil(promise) {
  const add = waitUntilOf(H.currentInvocation());
  if (add === undefined) {
    throw new Error(GLOBAL_SCOPE_IO);
  }
  add(promise);
}

// cloudflare:workers' classes (env and exports are per worker).
const WORKERS_CLASSES = Object.freeze({ DurableObject, WorkerEntrypoint, RpcTarget, WorkflowEntrypoint,
  RpcStub, RpcProperty, RpcPromise, ServiceStub, waitUntil });


// ---------------------------------------------------------------------------------------
// ExecutionContext

let creatingContext = false;
class ExecutionContext {
  #waitUntil;
  #passThrough;
  constructor(waitUntil, passThrough) {
    if (!creatingContext) throw new TypeError('Illegal constructor');
    this.#waitUntil = waitUntil;
    this.#passThrough = passThrough;
    this.props = {};
  }
  waitUntil(promise) {
    if (arguments.length < 1) throw new TypeError("Failed to execute 'waitUntil' on 'ExecutionContext': 1 argument required, but only 0 present.");
    this.#waitUntil(promise);
  }
  passThroughOnException() { this.#passThrough(); }
  /** Loopback stubs to this worker's own entrypoints and durable object classes. */
  get exports() { return ctxExports(); }
}
Object.defineProperty(ExecutionContext.prototype, Symbol.toStringTag, { value: 'ExecutionContext', configurable: true });

function newExecutionContext(waitUntil, passThrough) {
  creatingContext = true;
  try { return new ExecutionContext(waitUntil, passThrough); } finally { creatingContext = false; }
}

// ---------------------------------------------------------------------------------------

function errorParts(err) {
  let name = 'Error', message = '', stack = '';
  try {
    if (isObjectLike(err) && typeof err.message === 'string') {
      name = typeof err.name === 'string' ? err.name : 'Error';
      message = err.message;
      stack = typeof err.stack === 'string' ? err.stack : '';
    } else {
      message = typeof err === 'string' ? err : inspect(err);
      stack = '';
    }
  } catch {
    message = 'Uncaught exception (could not be described)';
  }
  return [name, message, stack];
}

function hostBytes(b) {
  // Hand the host a Uint8Array that exactly covers its own buffer.
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : b.slice();
}

// Streamed request bodies: the node holds the client's body and sends a chunk only when the
// stream asks for one (host.requestBodyPull), so a worker that does not read its body never
// buffers it, and one that reads slowly slows the client down.
const pendingPulls = new Map(); // invocationId -> { controller, resolve }

function streamedBody(invocationId) {
  return new ReadableStream({
    pull(controller) {
      return new PromiseCtor((resolve) => {
        pendingPulls.set(invocationId, { controller, resolve });
        H.requestBodyPull(invocationId);
      });
    },
    cancel() {
      pendingPulls.delete(invocationId);
    },
  }, { highWaterMark: 0 });
}

function requestBodyChunk(invocationId, bytes) {
  const p = pendingPulls.get(invocationId);
  if (p === undefined) return;
  pendingPulls.delete(invocationId);
  p.controller.enqueue(bytes);
  p.resolve();
}

function requestBodyEnd(invocationId, error) {
  const p = pendingPulls.get(invocationId);
  if (p === undefined) return;
  pendingPulls.delete(invocationId);
  endPull(p, error);
}

function endPull(p, error) {
  const failure = error === null || error === undefined ? null : new TypeError(`${error}`);
  if (failure === null) p.controller.close();
  else p.controller.error(failure);
  p.resolve();
  if (p.ended !== undefined) p.ended(failure);
}

/**
 * A connect event's streams (sockets.js' acceptSocket): the caller's writes are this invocation's
 * request body, pulled as the handler reads (a byte stream); its writes are the response body,
 * under the node's window; the response's end is the caller's end of stream.
 */
function connectIo(invocationId) {
  let reading = true;
  return {
    readable(ended, onCancel) {
      return new ReadableStream({
        type: 'bytes',
        pull(controller) {
          if (!reading) {
            controller.close();
            return undefined;
          }
          return new PromiseCtor((resolve) => {
            pendingPulls.set(invocationId, { controller, resolve, ended });
            H.requestBodyPull(invocationId);
          });
        },
        cancel(reason) {
          reading = false;
          pendingPulls.delete(invocationId);
          onCancel(reason);
        },
      }, { highWaterMark: 0 });
    },
    write(bytes) { return writeResponseBytes(invocationId, bytes); },
    end() { H.responseEnd(invocationId); },
    stopReading(error) {
      reading = false;
      const p = pendingPulls.get(invocationId);
      if (p === undefined) return;
      pendingPulls.delete(invocationId);
      endPull(p, error);
    },
  };
}

const noConnectHandler = () => new Error('Handler does not export a connect() function.');

/**
 * A connect event (a stub's connect(), sockets.js' fetcherConnect): the handler's connect(socket,
 * env, ctx), or an entrypoint class's connect(socket), gets the accepted socket. As workerd's: the
 * connection is accepted (the caller's `opened`) only when there is a handler, and ends when the
 * handler's promise settles; what the handler throws is logged here and does not reach the caller.
 */
async function answerConnect(handler, req, env, ctx, invocationId, target) {
  let call;
  if (target !== null && target !== undefined && target.className !== undefined) {
    call = await objectConnect(target, env, invocationId);
  } else if (typeof handler === 'function') {
    const instance = new handler(ctx, env);
    if (!isObjectLike(instance) || typeof instance.connect !== 'function') throw noConnectHandler();
    call = (socket) => instance.connect(socket);
  } else if (isObjectLike(handler) && typeof handler.connect === 'function') {
    call = (socket) => handler.connect(socket, env, ctx);
  } else {
    throw noConnectHandler();
  }
  H.responseStart(invocationId, 200, 'OK', '');
  const [socket, over] = acceptSocket(connectIo(invocationId), `${req.url}`);
  try {
    await call(socket);
  } catch (err) {
    safeLog('error', `Uncaught exception in connect(): ${err && err.stack ? err.stack : err}`);
  } finally {
    over();
  }
}

// Headers cross the host boundary as one string, "name\nvalue\nname\nvalue": one call instead of
// several per header. HTTP forbids CR and LF in names and values, so the separator is safe.
// Captured before any worker code runs: a worker may replace JSON.parse.
const JSONParse = JSON.parse;
// The node sends request.cf as one internal header (see the node's ClientHeaders); it never reaches the worker.
const REQUEST_CF_HEADER = 'cf-bulwark-request-cf';

// Returns request.cf's JSON (the last such header), or undefined; the Request parses it when the
// worker first reads request.cf (most never do).
function takeRequestCf(pairs) {
  let cf;
  for (let i = pairs.length - 1; i >= 0; i--) {
    if (pairs[i][0] === REQUEST_CF_HEADER) {
      if (cf === undefined) cf = pairs[i][1];
      pairs.splice(i, 1);
    }
  }
  return cf;
}

function splitHeaderLines(s) {
  if (s === '') return [];
  const parts = s.split('\n');
  const pairs = [];
  for (let i = 0; i + 1 < parts.length; i += 2) pairs.push([parts[i], parts[i + 1]]);
  return pairs;
}


// Response back-pressure: invocations waiting for the node to send what it already has.
const drainWaiters = new Map(); // invocationId -> resolve

function responseDrained(invocationId) {
  const resolve = drainWaiters.get(invocationId);
  if (resolve === undefined) return;
  drainWaiters.delete(invocationId);
  resolve();
}

function makeIncomingRequest(req, invocationId) {
  const method = normalizeMethod(`${req.method}`);
  const raw = `${req.url}`;
  const canonical = canonicalURL(raw);
  const url = canonical === null ? raw : canonical.href;
  let body = null;
  if (req.bodyStream === true) body = new Body(null, streamedBody(invocationId));
  else if (req.body !== null && req.body !== undefined) body = new Body(req.body, null);
  const headers = typeof req.headers === 'string' ? splitHeaderLines(req.headers) : (req.headers || []);
  const cfJson = takeRequestCf(headers);
  return requestInternals.incoming(method, url, headers, body, cfJson);
}

/** A tail worker's handler receives the trace items: tail(events, env, ctx), or an entrypoint's tail(events). */
async function answerTail(handler, eventsJson, env, ctx) {
  const events = JSONParse(eventsJson);
  if (typeof handler === 'function') {
    const instance = new handler(ctx, env);
    if (!isObjectLike(instance) || typeof instance.tail !== 'function') throw new TypeError('Handler does not export a tail() function.');
    return await instance.tail(events);
  }
  if (isObjectLike(handler) && typeof handler.tail === 'function') return await handler.tail(events, env, ctx);
  throw new TypeError('Handler does not export a tail() function.');
}

async function callHandler(handler, request, env, ctx) {
  if (typeof handler === 'function') {
    const instance = new handler(ctx, env);
    if (!isObjectLike(instance) || typeof instance.fetch !== 'function') throw new TypeError('Handler does not export a fetch() function.');
    return await instance.fetch(request);
  }
  if (isObjectLike(handler) && typeof handler.fetch === 'function') {
    return await handler.fetch(request, env, ctx);
  }
  throw new TypeError('Handler does not export a fetch() function.');
}

// A chunk crosses to the host in pieces of at most this size, and the node may hold at most its
// window of unsent bytes: one huge enqueue() is never held whole for a client that does not read.
const RESPONSE_PIECE = 64 * 1024;
const MAX_RESPONSE_HEADER_CHARS = 256 * 1024;

async function writeResponseBytes(invocationId, b) {
  for (let off = 0; off < b.byteLength; off += RESPONSE_PIECE) {
    const piece = b.subarray(off, Math.min(b.byteLength, off + RESPONSE_PIECE));
    // false: the node has more of this response unsent than it allows; wait until it drains.
    if (H.responseChunk(invocationId, hostBytes(piece)) === false) {
      await new PromiseCtor((resolve) => drainWaiters.set(invocationId, resolve));
    }
  }
}

/** A named entrypoint of the worker (a WorkerEntrypoint class, or an object with fetch). */
function entrypointOf(target) {
  const handler = target.exports[target.entrypoint];
  if (handler === undefined) throw new TypeError(`The worker has no entrypoint named '${target.entrypoint}'.`);
  return handler;
}

// The readers of response bodies being streamed, by invocation: canceled when the client goes away.
const responseReaders = new Map();

/** The node canceled the invocation (its client left): the body it was streaming is canceled. */
function responseCanceled(invocationId, reason) {
  const reader = responseReaders.get(invocationId);
  if (reader === undefined) return;
  responseReaders.delete(invocationId);
  try {
    PromiseThen(reader.cancel(new DOMException(`${reason}`, 'AbortError')), undefined, () => {});
  } catch { /* already closed */ }
}

/** Sends the handler's response; true when it handed a WebSocket over (a 101). */
async function sendResponse(result, invocationId) {
  if (!isResponse(result)) throw new TypeError("Incorrect type for Promise: the Promise did not resolve to 'Response'.");
  // Internal slots, not the (overridable) public getters.
  const { type, status, statusText, headers, body, webSocket } = responseInternals.parts(result);
  if (type === 'error') throw new TypeError('The fetch handler returned Response.error().');
  if (body !== null && body.unusable) throw new TypeError('The body of the returned Response has already been used.');
  const handsSocket = webSocket !== null && webSocket !== undefined;
  if (handsSocket) {
    if (status !== 101) throw new TypeError('A Response with a WebSocket must have status 101.');
    socketInternals.bind(webSocket, invocationId);
  }
  const lines = headerLines(headers);
  // Checked before anything is copied out of V8 (the host refuses larger values too).
  if (lines.length > MAX_RESPONSE_HEADER_CHARS) throw new TypeError(`The response headers are larger than ${MAX_RESPONSE_HEADER_CHARS} characters.`);
  if (statusText.length > 1024) throw new TypeError('The response status text is longer than 1024 characters.');
  const bytes = body === null ? null : body.takeBytesSync();
  if (body === null || (bytes !== null && bytes.byteLength <= RESPONSE_PIECE)) {
    // The whole response is known: head, body and end cross to the host in one call.
    H.responseWhole(invocationId, status, statusText, lines,
      bytes === null || bytes.byteLength === 0 ? null : hostBytes(bytes));
    return handsSocket;
  }
  H.responseStart(invocationId, status, statusText, lines);
  if (body !== null) {
    if (bytes !== null) {
      await writeResponseBytes(invocationId, bytes);
    } else {
      const reader = getReader(body.stream);
      // If the client goes away, the stream is canceled (its source's cancel() runs), as in Workers.
      responseReaders.set(invocationId, reader);
      try {
        for (;;) {
          const { done, value } = await readerReadChunk(reader);
          if (done) break;
          await writeResponseBytes(invocationId, chunkToBytes(value));
        }
      } finally {
        responseReaders.delete(invocationId);
      }
    }
  }
  H.responseEnd(invocationId);
  return handsSocket;
}

/** Settles when a socket event's listeners' promises have (however), and then its timeouts. */
async function listenersDone(pending, invocationId) {
  for (let i = 0; i < pending.length; i++) {
    try { await pending[i]; } catch { /* reported through its own waitUntil */ }
  }
  await timeoutsSettled(invocationId);
}

// target: null for the worker's default export, or the durable object the event is for
// ({exports, workerId, className, id, name, storage}).
async function dispatchFetch(handler, req, env, invocationId, target) {
  invocationId = Number(invocationId); // a Java long arrives as a BigInt
  const waitUntilPromises = [];
  let passThrough = false;
  let keepTimeouts = false;
  let done = false;
  const ctx = newExecutionContext(
    (promise) => {
      const p = PromiseThen(PromiseResolve(promise), undefined, reportRejection);
      if (!done) waitUntilPromises.push(p);
    },
    () => { passThrough = true; },
  );
  registerWaitUntil(invocationId, (promise) => ctx.waitUntil(promise));
  // The props the granter of the stub this call came through fixed: the callee's alone.
  if (target !== null && target !== undefined && target.props !== undefined && target.props !== null) {
    try {
      // Serialized by the granter's stub (magic byte 0xB7; 0xCA when stubs in them crossed by
      // reference, held by this invocation alone), or JSON text from a service binding's configuration.
      const first = target.props[0];
      ctx.props = first === 0xb7 ? deserialize(target.props)
        : first === 0xca ? decodePayload(target.props) : JSONParse(utf8DecodeReplace(target.props));
    } catch (err) {
      safeLog('error', `ctx.props could not be read: ${err}`);
    }
  }
  if (target !== null && target !== undefined && target.socket !== undefined) {
    try {
      const pending = target.className !== undefined ? await objectSocketEvent(target, env, invocationId)
        : deliverToListeners(target.socket);
      if (pending !== null && (pending.length > 0 || hasTimeouts(invocationId))) {
        // The listeners' work goes on in this invocation (workerd's socket keeps its context
        // alive): the promises async ones returned, then the timeouts set on the way. The socket's
        // next event may come now (answered: delivered), as workerd delivers each message as it arrives.
        for (let i = 0; i < pending.length; i++) ctx.waitUntil(pending[i]);
        ctx.waitUntil(listenersDone(pending, invocationId));
        H.rpcReturn(invocationId, serialize(undefined), false);
      }
    } catch (err) {
      safeLog('error', `Uncaught exception in a WebSocket handler: ${err && err.stack ? err.stack : err}`);
    }
  } else if (target !== null && target !== undefined && target.tail !== undefined) {
    let threw = false;
    try {
      await answerTail(target.entrypoint === undefined || target.entrypoint === 'default' ? handler : entrypointOf(target),
        target.tail, env, ctx);
    } catch (err) {
      threw = true;
      safeLog('error', `Uncaught exception in tail(): ${err && err.stack ? err.stack : err}`);
    }
    // A tail event answers like an RPC (no response): the node only logs a failure.
    H.rpcReturn(invocationId, serialize(undefined), threw);
  } else if (target !== null && target !== undefined && target.alarm !== undefined) {
    await answerAlarm(objectReceiver(target, env, invocationId), target, invocationId, abortWithoutRetry);
  } else if (target !== null && target !== undefined && target.cap !== undefined) {
    await answerCap(target.cap, invocationId);
  } else if (target !== null && target !== undefined && target.rpc !== undefined) {
    const receiver = target.className !== undefined
      ? objectReceiver(target, env, invocationId)
      : new PromiseCtor((resolve) => resolve(entrypointReceiver(target, env, ctx)));
    await answerRpc(receiver, target.rpc, invocationId, target.className !== undefined ? abortedReason : undefined,
      target.className !== undefined ? target.id : undefined, target.className !== undefined ? raceReset : undefined);
  } else try {
    if (req.method === 'CONNECT') {
      // Only a stub's connect() makes one: the front door refuses CONNECT, and Request refuses the method.
      const receiver = target === null || target === undefined ? handler
        : target.entrypoint !== undefined ? entrypointOf(target) : null;
      await answerConnect(receiver, req, env, ctx, invocationId, target);
    } else {
      const request = makeIncomingRequest(req, invocationId);
      let result;
      if (target === null || target === undefined) result = await callHandler(handler, request, env, ctx);
      else if (target.entrypoint !== undefined) result = await callHandler(entrypointOf(target), request, env, ctx);
      else result = await objectFetch(target, env, request, invocationId);
      // A response that hands a WebSocket over keeps its request's context in workerd while the
      // socket is open: the timeouts the request set (an auth deadline, a first message) still run.
      keepTimeouts = await sendResponse(result, invocationId);
    }
  } catch (err) {
    const [name, message, stack] = errorParts(err);
    try {
      // What was thrown, for a caller through a stub (remote-errors.js); the front door ignores it.
      H.responseError(invocationId, name, message, stack, passThrough, encodeThrown(err));
    } catch (hostErr) {
      safeLog('error', `responseError failed: ${inspect(hostErr)}`);
    }
  }
  // Every event of a durable object runs in the object's one context in workerd ("waitUntil is not
  // necessary" there): the timeouts an event set still run after its answer, bounded as waitUntil
  // is. Intervals end with the event (docs/compatibility.md).
  if (keepTimeouts || (target !== null && target !== undefined && target.className !== undefined)) {
    if (hasTimeouts(invocationId)) ctx.waitUntil(timeoutsSettled(invocationId));
  }
  // Wait for every waitUntil() promise, including ones registered while waiting.
  for (let i = 0; i < waitUntilPromises.length; i++) {
    await waitUntilPromises[i];
  }
  done = true;
  forgetWaitUntil(invocationId);
  leaveContext(invocationId);
  pendingPulls.delete(invocationId);
  drainWaiters.delete(invocationId);
  endUploadsOf(invocationId);
  cancelInvocationTimers(invocationId);
}

/**
 * Serves one request while the startup snapshot is made (IsolatePool.snapshot), through host
 * functions that do nothing: the functions of the request path are then compiled in the snapshot
 * instead of by every isolate's first request. Leaves nothing behind: the invocation ends and is
 * forgotten like any other, and H is "not installed" again once the returned promise settles.
 */
export function warmRequestPath() {
  // install()'s own step, so its code is compiled in the snapshot too: bindHost (then undone).
  warmBindHost();
  // And the account's: the snapshot's context has no WebAssembly yet, so this compiles the
  // function and returns (compiled at each isolate's install instead, it cost ~200 µs of CPU).
  installWasmAccount();
  // A load's steps: the env is parsed with the global JSON.parse (the prelude's, with its
  // nesting check), linkExports fills ctx.exports (undone).
  JSON.parse('{"a":[1]}');
  warmLinkExports();
  const restore = stubHost({ currentInvocation: () => 1, responseChunk: () => true, now: () => 0 });
  const handler = {
    async fetch(request, env, ctx) {
      ctx.waitUntil(PromiseResolve());
      request.headers.get('accept');
      return new Response('warm', { headers: { 'content-type': 'text/plain' } });
    },
  };
  const req = { method: 'GET', url: 'http://warm.up/', headers: 'accept\n*/*\nuser-agent\nwarm-up', body: null, bodyStream: false };
  // Through the dispatcher the host uses, so its closure is compiled here too; fails if the request did.
  const dispatch = makeDispatcher((id, ok, err) => { restore(); if (!ok) throw err; });
  return dispatch(handler, req, {}, 1, undefined);
}

// The dispatcher Isolate.java calls for every event: dispatchFetch, whose settling reaches the
// host's done(id, ok, error). Made in the snapshot (with the intrinsic then, captured before any
// worker code exists), so a worker that replaces Promise.prototype.then cannot keep its
// invocations open; the isolate makes only the closure over its done function.
function makeDispatcher(done) {
  return (handler, req, env, id, target, method, url, headers, body, bodyStream,
    exports, workerId, className, objectId, name, storage) => {
    // Every event starts in a frame of its own: no AsyncLocalStorage store leaks into it, and what
    // it awaits continues as its invocation (or, for a call on a callback, as the invocation that
    // passed the callback: EventDispatch's "inside"). Put back after the synchronous part, so no
    // frame is left over for the host's next call into JavaScript.
    const cap = className === undefined && target !== null && target !== undefined ? target.cap : undefined;
    const owner = cap !== undefined && cap.host !== undefined ? cap.host : Number(id);
    const event = method === undefined ? req : { method, url, headers, body, bodyStream };
    const to = className === undefined ? target : { exports, workerId, className, id: objectId, name, storage };
    // A durable object's events (and calls on what an object exported) share the object's I/O.
    const shared = (to !== null && to !== undefined && to.className !== undefined) || (cap !== undefined && cap.object === true);
    return PromiseThen(runInFrame(invocationFrame(owner, shared), dispatchFetch, undefined, [handler, event, env, id, to]),
      () => done(id, true), (e) => done(id, false, e));
  };
}

const StringPrototypeSplit = String.prototype.split;

// A call's answer {status, statusText, headers: [[name, value]...], body, url} made in one call
// from Java (the headers as "name\nvalue\n..." lines): building it from Java took a JNI
// crossing per property and three per header.
function hostResult(status, statusText, lines, body, url) {
  const headers = [];
  if (lines !== '') {
    const parts = ReflectApply(StringPrototypeSplit, lines, ['\n']);
    for (let i = 0; i + 1 < parts.length; i += 2) headers[headers.length] = [parts[i], parts[i + 1]];
  }
  return { status, statusText, headers, body, url };
}

// The globals a worker's compatibility date is too old for: workerd does not install them. Run
// once, at the link, before any of the worker's code.
function withdrawGlobals() {
  if (!compat(WEAK_REF)) { // enable_weak_ref, 2025-05-05
    delete globalThis.WeakRef;
    delete globalThis.FinalizationRegistry;
  }
  if (!compat(GLOBAL_MESSAGE_CHANNEL)) { // expose_global_message_channel, 2025-08-15
    delete globalThis.MessageChannel;
    delete globalThis.MessagePort;
  }
  if (!compat(NAVIGATOR_LANGUAGE)) { // enable_navigator_language, 2025-05-19
    delete navigator.language;
    delete navigator.languages;
  }
}

// What install() gives the host. Made once, in the snapshot: it holds only prelude functions.
const RUNTIME = Object.freeze({
  fireTimer(id) { fireTimer(id); },
  // V8's promise rejection events (Isolate.java), and their report after the microtask checkpoint.
  promiseRejected(promise, reason) { promiseRejected(promise, reason); },
  promiseHandled(promise) { promiseHandled(promise); },
  reportRejections() { return reportRejections(); },
  forgetRejections() { forgetRejections(); },
  dispatchFetch(handler, req, env, invocationId, target) { return dispatchFetch(handler, req, env, invocationId, target); },
  makeNamespace(binding, workerId, className) { return makeNamespace(binding, workerId, className); },
  makeLoader(binding) { return makeLoader(binding); },
  makeCapStub(index, kind, id, name) { return makeCapStub(index, kind, id, name); },
  dropExport(id) { dropExport(id); },
  rpcModule: Object.freeze({ revoke }),
  makeService(binding) { return makeService(binding); },
  linkExports(namespace, loopback, namespaces, workerId) { linkExports(namespace, loopback, namespaces, workerId); },
  setGlobalOutbound(binding) { setGlobalOutbound(binding); },
  // The worker's compatibility switches, all in one int (compat.js).
  setCompatibility(bits) {
    setCompatibility(bits);
    withdrawGlobals();
  },
  // enable_nodejs_global_timers (nodejs_compat from 2026-02-10): node:timers' functions become the
  // global ones (NodeModules.java), as workerd's internal_timers_global_override does.
  installNodeGlobalTimers(timers) {
    defineGlobals({ setTimeout: timers.setTimeout, setInterval: timers.setInterval,
      clearTimeout: timers.clearTimeout, clearInterval: timers.clearInterval });
  },
  evictObject(className, id) { evictObject(className, id); },
  resetObject(className, id, reason) { resetObject(className, id, reason); },
  requestBodyChunk(invocationId, bytes) { requestBodyChunk(Number(invocationId), bytes); },
  requestBodyEnd(invocationId, error) { requestBodyEnd(Number(invocationId), error); },
  responseDrained(invocationId) { responseDrained(Number(invocationId)); },
  subrequestChunk(id, bytes) { subrequestChunk(Number(id), bytes); },
  subrequestTlsStarted(id) { socketTlsStarted(Number(id)); },
  subrequestEnd(id, error) { subrequestEnd(Number(id), error); },
  subrequestDrop(id) { subrequestDrop(Number(id)); endUpload(Number(id)); },
  subrequestBodyPull(id) { subrequestBodyPull(Number(id)); },
  // Calls (a stub's fetch()): their response bodies use the subrequest streams; their request
  // bodies are uploads under a token (rpc.js's stubFetch).
  callBodyPull(id, token) { subrequestBodyPull(Number(id), Number(token)); },
  callUploadEnd(token) { endUpload(Number(token)); },
  callPeerDone(token) { uploadPeerDone(Number(token)); },
  callDrop(id, token) { subrequestDrop(Number(id)); if (Number(token) !== 0) endUpload(Number(token)); },
  responseCanceled(invocationId, reason) { responseCanceled(Number(invocationId), reason); },
  workersModule: WORKERS_CLASSES,
  // cloudflare:workers' exports for one worker, made in one call (from Java it took a crossing per key):
  // env and exports as withEnv()/withExports() may replace them.
  workersExports(env, exports) { return { ...WORKERS_CLASSES, ...importables(env, exports) }; },
  socketsModule: Object.freeze({ connect }),
  consoleFormat(...args) { return format(...args); },
  // What the node:* modules (node.js, loaded only under nodejs_compat) build on.
  nodeInternals,
  emailModule: Object.freeze({ EmailMessage }),
  // A CommonJS module of the bundle: the object ModuleLinker makes a synthetic module of.
  cjsModule(name, body, host, exportDefault, importHost) { return cjsModule(name, body, host, exportDefault, importHost); },
  // A module's import() (dynimport.js): what a module whose import( calls ModuleLinker renamed imports.
  importer(referrer, host) { return importer(referrer, host); },
  makeDispatcher,
  hostResult,
});

export function install(host) {
  bindHost(host);
  installAsyncContext(host.asyncContextGet, host.asyncContextSet);
  delete globalThis.__bulwark_install;
  delete globalThis.__bulwark_warm; // gone already when the snapshot was made as IsolatePool makes it
  captureSharedArrayBuffer();
  installWasmAccount();
  installSharedBufferAccount();
  return RUNTIME;
}
