// JS RPC, both sides. The caller's stubs (durable object stubs, dynamic worker entrypoints)
// answer any member name with an RPC property that can be called (`stub.method(...args)`) or
// awaited (`await stub.prop`); arguments and results cross as structured-serialized bytes.
// The callee's side looks the member up on the receiver's class, never on Object.prototype or
// the runtime's base classes, and answers with the value or the error thrown.
//
// Functions, RpcTarget instances, stubs, byte streams (ReadableStream, WritableStream) and
// AbortSignals cross by reference (caps.js); Request and Response by value with their bodies
// (serialize.js). Not yet: promise pipelining's saved round trip.
import { H, safeLog } from './host.js';
import { PromiseCtor, PromiseResolve, PromiseReject, PromiseThen, ReflectApply, ObjectGetPrototypeOf, ObjectGetOwnPropertyDescriptor, protoChainHas } from './util.js';
import { requestInternals } from './request.js';
import { responseInternals } from './response.js';
import { headerLines } from './headers.js';
import { INLINE_BODY_BYTES } from './body.js';
import { serialize, deserialize } from './serialize.js';
import { DurableObject, WorkerEntrypoint, RpcTarget } from './runtime-classes.js';
import { encodePayload, encodeParams, decodePayload, disposeReceived, moved, bindRpc, exportedCall, exportContext, localStub, isStub, methodOf, isPath, memberAt, pathName, MAX_PATH } from './caps.js';
import { startCallUpload, endUpload } from './egress.js';
import { thrownForCaller, remoteError, decodeThrown } from './remote-errors.js';
import { requestOwner, crossRequestError } from './async-context.js';

const ObjectHasOwn = Object.hasOwn;

// Names a stub never forwards: the HTTP and lifecycle members, and those that would make a stub
// look like a promise or an iterator to the language.
const RESERVED = new Set(['constructor', 'fetch', 'connect', 'alarm', 'webSocketMessage', 'webSocketClose',
  'webSocketError', 'then', 'dup']);

/**
 * One call ({@code isCall}: args is the argument array) or property read through {@code send}.
 * Stubs passed on are moved to the receiver once the call is sent, or stay the caller's under
 * rpc_params_dup_stubs (caps.js' encodeParams); a call the node refused for a
 * capability reason, or whose callee was canceled as hung, rejects with an Error of its message
 * (as workerd's). {@code send.thrown}, if
 * set, is told of the error a call threw (a durable object stub breaks on a reset error).
 */
async function invoke(send, name, args, isCall) {
  if (send.local !== undefined) return send.local(name, args, isCall);
  const payload = isCall ? await encodeParams(args) : { bytes: null, sent: [] };
  let result;
  try {
    result = await send(name, payload.bytes);
  } catch (err) {
    // A callee canceled as hung rejects with workerd's Error too.
    if (err && (err.code === 'capability' || err.code === 'worker_hung')) throw new Error(err.message);
    throw err;
  } finally {
    moved(payload.sent);
  }
  const value = decodePayload(result.value, send.thrown);
  if (result.threw) {
    const err = remoteError(value, invoke);
    if (typeof send.thrown === 'function') send.thrown(err);
    throw err;
  }
  return value;
}

// What cloudflare:workers' RpcProperty and RpcPromise answer instanceof for.
const properties = new WeakSet();
const promises = new WeakSet();
const SymbolToStringTag = Symbol.toStringTag;

/** Whether {@code v} is an RPC property or promise: not serializable, not walked by a path (caps.js). */
function isRpcThenable(v) {
  return properties.has(v) || promises.has(v);
}

/**
 * A member of a stub: call it for a method call, await it for a property read; its own members
 * are members of the member (`stub.a.b.c()`), named to the callee by their path (caps.js).
 */
export function rpcProperty(send, name) {
  return property(send, [name]);
}

/**
 * then/catch/finally of a promise made on demand by {@code promiseOf}, as RPC properties and
 * promises answer them (each read makes its promise then); undefined for another name.
 */
function promiseMember(prop, promiseOf) {
  if (prop === 'then') return (onOk, onErr) => PromiseThen(promiseOf(), onOk, onErr);
  if (prop === 'catch') return (onErr) => PromiseThen(promiseOf(), undefined, onErr);
  if (prop === 'finally') return (f) => ReflectApply(PromiseFinally, promiseOf(), [f]);
  return undefined;
}

function property(send, names) {
  const method = methodOf(names);
  const call = (...args) => pipelined(PromiseThen(invoke(send, method, args, true), box), requestOwner(), false);
  const read = () => invoke(send, method, null, false);
  const member = new Proxy(call, {
    get(_, prop) {
      const settle = promiseMember(prop, read);
      if (settle !== undefined) return settle;
      if (typeof prop === 'symbol') return prop === SymbolToStringTag ? 'RpcProperty' : undefined;
      if (names.length >= MAX_PATH) throw new TypeError(`An RPC property path is too deep: at most ${MAX_PATH} names.`);
      return property(send, [...names, prop]);
    },
  });
  properties.add(member);
  return member;
}
bindRpc(rpcProperty, property, stubFetch, isRpcThenable);

const PromiseFinally = Promise.prototype.finally;
const box = (v) => ({ v });
const unbox = (b) => b.v;

/**
 * The result of an RPC call, as workerd's RpcPromise: a thenable whose members can be used before
 * it settles (`stub.make(5).get()`, `await stub.getObject().field`). Bulwark sends the next call
 * once the first result is in (the API of promise pipelining, not its saving of a round trip).
 * Values travel boxed between steps so that a member that is itself thenable (an RPC property) is
 * not read before it is used.
 */
function pipelined(boxed, owner, member) {
  // As workerd's: the request that made the call may pipeline on it alone; another may await the
  // call's own promise (a plain JS promise), not a member of it nor a call through it.
  const foreign = () => { const here = requestOwner(); return owner !== 0 && here !== 0 && here !== owner; };
  const promise = new Proxy(function () {}, {
    get(_, prop) {
      const settle = promiseMember(prop, () => (member && foreign()
        ? PromiseReject(crossRequestError('Pipeline')) : PromiseThen(boxed, unbox)));
      if (settle !== undefined) return settle;
      if (typeof prop === 'symbol') return prop === SymbolToStringTag ? 'RpcPromise' : undefined;
      return pipelined(PromiseThen(boxed, (b) => {
        if (b.v === null || b.v === undefined) throw new TypeError(`Cannot read properties of ${b.v} (reading '${prop}')`);
        return box(b.v[prop]);
      }), owner, true);
    },
    apply(_, thisArg, args) {
      if (foreign()) return PromiseReject(crossRequestError('JsRpcPromise'));
      return pipelined(PromiseThen(boxed, (b) => {
        if (typeof b.v !== 'function') throw new TypeError('The RPC result is not a function.');
        // What a call answers (a stub's call answers a promise) is awaited, as a call's result is.
        return PromiseThen(PromiseResolve(ReflectApply(b.v, undefined, args)), box);
      }), owner, false);
    },
  });
  promises.add(promise);
  return promise;
}

// cloudflare:workers' RpcStub, RpcProperty, RpcPromise: new RpcStub(value) makes a stub on a
// value of this isolate; the other two only answer instanceof (the runtime makes them).
export class RpcStub {
  constructor(value) { return localStub(value); }
  static [Symbol.hasInstance](v) { return isStub(v); }
}
export class RpcProperty {
  constructor() { throw new TypeError('Illegal constructor'); }
  static [Symbol.hasInstance](v) { return properties.has(v); }
}
export class RpcPromise {
  constructor() { throw new TypeError('Illegal constructor'); }
  static [Symbol.hasInstance](v) { return promises.has(v); }
}


/**
 * A stub's {@code fetch(input, init)} (durable objects, service bindings, dynamic worker
 * entrypoints): hands {@code send(method, url, headerLines, body)} the request, where body is
 * null, the bytes in hand, or the token of a streamed body (a number; see startCallUpload);
 * {@code send} returns the host's promise of the response's parts, whose body may be a stream the
 * host feeds as the callee writes it. A {@code send} that throws (the subrequest limit, sizes:
 * refused before it left) rejects the fetch.
 */
export function stubFetch(input, init, send) {
  return new PromiseCtor((resolve, reject) => {
    // The request as new Request(input, init) would make it; its headers serialized now, as that
    // copy would have taken them now.
    const { method, url, headers, body } = requestInternals.forCall(input, init);
    const lines = headerLines(headers);
    let stream = null;
    if (body !== null) {
      const bytes = body.peekBytes();
      if (bytes === null && body.stream !== null) {
        if (body.unusable) {
          reject(new TypeError('Body has already been used. It can only be used once. Use tee() first if you need to read it twice.'));
          return;
        }
        stream = body.stream;
      } else if (bytes !== null && bytes.byteLength > INLINE_BODY_BYTES) {
        stream = body.getStream();
      }
    }
    let token = 0;
    const go = (bodyArg) => {
      let pending;
      try {
        pending = send(method, url, lines, bodyArg);
      } catch (err) {
        if (token !== 0) endUpload(token);
        reject(err);
        return;
      }
      PromiseThen(pending, (result) => {
        // Answered whole: the callee will pull no more of the body.
        if (token !== 0 && typeof result.stream !== 'number') endUpload(token);
        try {
          resolve(responseInternals.fromHost(result, url));
        } catch (err) {
          reject(err);
        }
      }, (err) => {
        if (token !== 0) endUpload(token);
        reject(fetchFailure(err));
      });
    };
    if (stream !== null) {
      let invocation = 0;
      try { invocation = Number(H.currentInvocation() || 0); } catch { /* outside a request: refused by send */ }
      token = startCallUpload(stream, invocation);
      go(token);
      return;
    }
    // No body: the call leaves now, as a streamed one does (no turn of the microtask queue first).
    if (body === null) go(null);
    else PromiseThen(body.consume(), go, reject);
  });
}

/**
 * The error a stub's fetch() rejects with: what the callee threw (the host hands its bytes over as
 * the `thrown` of its failure; remote-errors.js), else the host's own failure.
 */
function fetchFailure(err) {
  if (err === null || typeof err !== 'object') return err;
  const thrown = ObjectGetOwnPropertyDescriptor(err, 'thrown');
  if (thrown === undefined) return err;
  delete err.thrown;
  const decoded = thrown.value instanceof Uint8Array ? decodeThrown(thrown.value) : undefined; // no frames: as workerd's
  return decoded === undefined ? err : decoded;
}

/**
 * A Proxy handler for a stub whose own members are {@code own} (read from the target) and whose
 * every other string member is an RPC property sent through {@code sendOf(target)}.
 */
export function stubHandler(own, sendOf) {
  return {
    get(target, prop) {
      // What the program set on the stub is an ordinary property of it, as on workerd's stubs.
      if (typeof prop === 'string' && ObjectHasOwn(target, prop)) return target[prop];
      if (typeof prop === 'symbol' || own.has(prop)) {
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      }
      if (prop === 'then') return undefined;
      return rpcProperty(sendOf(target), prop);
    },
  };
}

// ---------------------------------------------------------------------------------------
// The callee's side.

const BASES = new Set([Object.prototype, DurableObject.prototype, WorkerEntrypoint.prototype, RpcTarget.prototype]);

function notImplemented(name) {
  return new TypeError(`The RPC receiver does not implement the method "${name}".`);
}

/** The receiver's member {@code name} from its class's prototype chain, below the base classes. */
function lookup(receiver, name) {
  if (RESERVED.has(name) || typeof name !== 'string') throw notImplemented(name);
  if (receiver instanceof HandlerObject) return receiver.member(name);
  for (let o = ObjectGetPrototypeOf(receiver); o !== null && !BASES.has(o); o = ObjectGetPrototypeOf(o)) {
    if (ObjectGetOwnPropertyDescriptor(o, name) !== undefined) return Reflect.get(o, name, receiver);
  }
  throw notImplemented(name);
}

/** Runs one RPC event on {@code receiver} and reports through rpcReturn; never throws. */
export async function answerRpc(receiverPromise, rpc, invocationId, abortedReason = undefined, objectId = undefined, race = undefined) {
  await answer(async () => {
    const receiver = await receiverPromise;
    if (objectId !== undefined && !protoChainHas(ObjectGetPrototypeOf(receiver), DurableObject.prototype)) {
      throw new TypeError('The receiving Durable Object does not support RPC, because its class was not declared '
        + 'with `extends DurableObject`. In order to enable RPC, make sure your class extends the special class '
        + '`DurableObject`, which can be imported from the module "cloudflare:workers".');
    }
    return memberAt(receiver, rpc.method, lookup);
  }, rpc, invocationId, abortedReason, objectId, race);
}

/** Runs a call on something this isolate exported ({export, method, args}); never throws. */
export async function answerCap(cap, invocationId) {
  // What a durable object's events exported runs in the object's context: it fails with the
  // object's reset (caps.js' endContext).
  const ctx = exportContext(cap, invocationId);
  if (ctx === undefined) {
    await answer(async () => exportedCall(cap), cap, invocationId);
    return;
  }
  await answer(async () => {
    const reason = ctx.reason();
    if (reason !== undefined) throw reason;
    return exportedCall(cap);
  }, cap, invocationId, ctx.reason, undefined, ctx.race);
}

/**
 * {@code abortedReason(receiver)}: the reason the call's object (or context) was reset, if it
 * was; {@code race(promise, receiver)}: the call's promise, rejected by such a reset while it is pending.
 */
async function answer(resolve, rpc, invocationId, abortedReason = undefined, objectId = undefined, race = undefined) {
  let value, threw = false, receiver, args;
  try {
    let member;
    [receiver, member] = await resolve();
    if (rpc.args === null || rpc.args === undefined) {
      // A method named alone is to be called; a function reached by a path is passed as a stub,
      // an RPC promise or property is awaited.
      if (typeof member === 'function' && rpc.method !== '' && !isPath(rpc.method) && !isRpcThenable(member)) {
        throw new TypeError(`"${rpc.method}" is a method: call it.`);
      }
      value = await (race === undefined ? member : race(member, receiver));
    } else {
      if (typeof member !== 'function') throw new TypeError(`"${pathName(rpc.method)}" is not a function.`);
      args = decodePayload(rpc.args);
      value = ReflectApply(member, receiver, args);
      value = await (race === undefined ? value : race(value, receiver));
    }
    // The object was aborted (ctx.abort) while this call ran: the call fails with its reason.
    const aborted = abortedReason === undefined ? undefined : abortedReason(receiver);
    if (aborted !== undefined) throw aborted;
  } catch (err) {
    // An object reset while the call ran (ctx.abort, a rejected blockConcurrencyWhile): its callers
    // see the reset's error, not what the call threw on its way out.
    const aborted = abortedReason === undefined || (receiver === undefined && race === undefined) ? undefined : abortedReason(receiver);
    value = thrownForCaller(aborted !== undefined ? aborted : err, objectId);
    threw = true;
  }
  let payload;
  try {
    payload = await encodePayload(value, threw);
  } catch (err) {
    payload = { bytes: serialize(err instanceof Error ? err : new TypeError(`${err}`), { richErrors: true }), sent: [] };
    threw = true;
  }
  let ends = payload.ends;
  // The stubs the call received are disposed now that it returned, as in workerd (the callee
  // keeps one only by dup()ing it), before the result leaves, so that the caller's disposers have
  // run when the caller sees it; one moved in the result itself goes once the result has left.
  if (args !== undefined) disposeReceived(args, payload.sent);
  try {
    H.rpcReturn(invocationId, payload.bytes, threw, ends !== undefined);
    moved(payload.sent);
  } catch (err) {
    ends = undefined;
    // The host refused a capability in the result (a stub of another request): say so instead.
    H.rpcReturn(invocationId, serialize(err instanceof Error ? new Error(err.message) : new TypeError(`${err}`), { richErrors: true }), true);
  }
  // And the rest: decodePayload gave the arguments their disposer.
  const dispose = args === undefined ? undefined : args[DisposeSymbol];
  if (typeof dispose === 'function') ReflectApply(dispose, args, []);
  // A stream in the result is read after the call returned, through what the call set up (a
  // pull() awaiting its timers): the call goes on until each such stream ended (read to its end,
  // canceled, or dropped by its receiver), as workerd keeps a callee's context until its returned
  // stream is drained. The host ends it quietly at its wall-clock deadline (Invocation.streaming).
  if (ends !== undefined) for (let i = 0; i < ends.length; i++) await ends[i];
}
const DisposeSymbol = Symbol.dispose;

/**
 * Runs an object's alarm handler, looked up on the instance now (an SDK may install it as an own
 * property). While it runs getAlarm() answers null unless it sets a new alarm.
 */
export async function answerAlarm(receiverPromise, target, invocationId, abortWithoutRetry = undefined) {
  let value, threw = false;
  try {
    const receiver = await receiverPromise;
    const handler = receiver.alarm;
    if (typeof handler !== 'function') throw new TypeError('The durable object has an alarm set but no alarm() handler.');
    H.storageOp(target.storage, 'alarmStarted');
    const { scheduledTime, retryCount, isRetry } = target.alarm;
    await ReflectApply(handler, receiver, [{ scheduledTime, retryCount, isRetry }]);
  } catch (err) {
    value = err;
    threw = true;
    safeLog('error', `Uncaught exception in alarm(): ${err && err.stack ? err.stack : err}`);
    // ctx.abort(reason, {retryAlarm: false}) in the handler: the alarm is over, not retried.
    if (abortWithoutRetry !== undefined && abortWithoutRetry(err)) threw = false;
  }
  H.rpcReturn(invocationId, serialize(threw ? `${value}` : undefined), threw);
}

/**
 * An exported handler object ({@code export default { fetch, ... }}, {@code export const x = {...}})
 * as the receiver of an RPC: its own functions are handlers called as handler(arg, env, ctx), with
 * exactly one argument from the caller, as workerd's.
 */
class HandlerObject {
  #handler;
  #env;
  #ctx;
  constructor(handler, env, ctx) {
    this.#handler = handler;
    this.#env = env;
    this.#ctx = ctx;
  }
  member(name) {
    // Its own functions only: other values of a handler object are its configuration, not RPC.
    const handler = this.#handler;
    const fn = ReflectApply(ObjectHasOwn, null, [handler, name]) ? handler[name] : undefined;
    if (typeof fn !== 'function') throw notImplemented(name);
    const env = this.#env, ctx = this.#ctx;
    return (...args) => {
      if (fn.length > 3) {
        throw new TypeError(`Cannot call handler function "${name}" over RPC because it has the wrong number of `
          + 'arguments. A simple function handler can only be called over RPC if it has exactly the arguments '
          + '(arg, env, ctx), where only the first argument comes from the client. To support multi-argument '
          + 'RPC functions, use class-based syntax (extending WorkerEntrypoint) instead.');
      }
      if (args.length !== 1) {
        throw new TypeError(`Attempted to call RPC function "${name}" with the wrong number of arguments. When `
          + 'calling a top-level handler function that is not declared as part of a class, you must always send '
          + 'exactly one argument. In order to support variable numbers of arguments, the server must use '
          + 'class-based syntax (extending WorkerEntrypoint) instead.');
      }
      return ReflectApply(fn, handler, [args[0], env, ctx]);
    };
  }
}

/**
 * The receiver of an RPC to a worker's entrypoint: a new instance of its WorkerEntrypoint class,
 * or its handler object.
 */
export function entrypointReceiver(target, env, ctx) {
  const name = target.entrypoint ?? 'default';
  const cls = target.exports[name];
  if (cls !== null && typeof cls === 'object') return new HandlerObject(cls, env, ctx);
  if (typeof cls !== 'function') {
    throw new TypeError(`The entrypoint '${name}' does not support RPC: export a class that extends WorkerEntrypoint.`);
  }
  return new cls(ctx, env);
}
