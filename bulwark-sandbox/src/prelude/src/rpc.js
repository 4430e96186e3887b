// JS RPC, both sides. The caller's stubs (durable object stubs, dynamic worker entrypoints)
// answer any member name with an RPC property that can be called (`stub.method(...args)`) or
// awaited (`await stub.prop`); arguments and results cross as structured-serialized bytes.
// The callee's side looks the member up on the receiver's class, never on Object.prototype or
// the runtime's base classes, and answers with the value or the error thrown.
//
// Not yet (see docs): functions, RpcTarget instances and stubs passed by reference, streams,
// promise pipelining. Serializing one of them fails with a DataCloneError.
import { H, safeLog } from './host.js';
import { PromiseResolve, PromiseThen, ReflectApply, ObjectGetPrototypeOf, ObjectGetOwnPropertyDescriptor } from './util.js';
import { serialize, deserialize } from './serialize.js';
import { DurableObject, WorkerEntrypoint, RpcTarget } from './runtime-classes.js';

// Names a stub never forwards: the HTTP and lifecycle members, and those that would make a stub
// look like a promise or an iterator to the language.
const RESERVED = new Set(['constructor', 'fetch', 'connect', 'alarm', 'webSocketMessage', 'webSocketClose',
  'webSocketError', 'then', 'dup']);

async function invoke(send, name, args) {
  const result = await send(name, args);
  const value = deserialize(result.value);
  if (result.threw) throw value;
  return value;
}

/** A member of a stub: call it for a method call, await it for a property read. */
export function rpcProperty(send, name) {
  const call = (...args) => invoke(send, name, serialize(args));
  Object.defineProperty(call, 'then', {
    value: (onOk, onErr) => PromiseThen(invoke(send, name, null), onOk, onErr),
  });
  return call;
}

/**
 * A Proxy handler for a stub whose own members are {@code own} (read from the target) and whose
 * every other string member is an RPC property sent through {@code sendOf(target)}.
 */
export function stubHandler(own, sendOf) {
  return {
    get(target, prop) {
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
  for (let o = ObjectGetPrototypeOf(receiver); o !== null && !BASES.has(o); o = ObjectGetPrototypeOf(o)) {
    if (ObjectGetOwnPropertyDescriptor(o, name) !== undefined) return Reflect.get(o, name, receiver);
  }
  throw notImplemented(name);
}

/** Runs one RPC event on {@code receiver} and reports through rpcReturn; never throws. */
export async function answerRpc(receiverPromise, rpc, invocationId, abortedReason = undefined) {
  let value, threw = false;
  try {
    const receiver = await receiverPromise;
    const member = lookup(receiver, rpc.method);
    if (rpc.args === null || rpc.args === undefined) {
      if (typeof member === 'function') throw new TypeError(`"${rpc.method}" is a method: call it.`);
      value = await member;
    } else {
      if (typeof member !== 'function') throw new TypeError(`"${rpc.method}" is not a method.`);
      const args = deserialize(rpc.args);
      value = await ReflectApply(member, receiver, args);
    }
    // The object was aborted (ctx.abort) while this call ran: the call fails with its reason.
    const aborted = abortedReason === undefined ? undefined : abortedReason(receiver);
    if (aborted !== undefined) throw aborted;
  } catch (err) {
    value = err;
    threw = true;
  }
  let bytes;
  try {
    bytes = serialize(value);
  } catch (err) {
    bytes = serialize(err instanceof Error ? err : new TypeError(`${err}`));
    threw = true;
  }
  H.rpcReturn(invocationId, bytes, threw);
}

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
    await ReflectApply(handler, receiver, [{ retryCount: target.alarm.retryCount, isRetry: target.alarm.isRetry }]);
  } catch (err) {
    value = err;
    threw = true;
    safeLog('error', `Uncaught exception in alarm(): ${err && err.stack ? err.stack : err}`);
    // ctx.abort(reason, {retryAlarm: false}) in the handler: the alarm is over, not retried.
    if (abortWithoutRetry !== undefined && abortWithoutRetry(err)) threw = false;
  }
  H.rpcReturn(invocationId, serialize(threw ? `${value}` : undefined), threw);
}

/** The receiver of an RPC to a worker's entrypoint: a new instance of its WorkerEntrypoint class. */
export function entrypointReceiver(target, env, ctx) {
  const name = target.entrypoint ?? 'default';
  const cls = target.exports[name];
  if (typeof cls !== 'function') {
    throw new TypeError(`The entrypoint '${name}' does not support RPC: export a class that extends WorkerEntrypoint.`);
  }
  return new cls(ctx, env);
}
