// Capabilities passed by reference over JS RPC, as workerd's: a function or an RpcTarget in RPC
// arguments or results (at any depth) crosses as a stub that calls back into this isolate; a stub
// received can be passed on; durable object stubs and dynamic worker entrypoints cross as stubs
// too. A stub holds only an index into this isolate's import table (kept by the host, which maps
// it to the node's capability id); what this isolate exported is kept here, by export id, until
// the node says no one holds it any more (then its [Symbol.dispose]() runs).
//
// Payload: serialize.js's bytes, or, when capabilities are in them, 0xCA, count, the refs, then
// the bytes (host-object slot n = ref n). See CapPayload.java.
import { H, safeLog } from './host.js';
import { ReflectApply, ObjectGetPrototypeOf, ObjectGetOwnPropertyDescriptor, ObjectDefineProperty, PromiseResolve, PromiseReject, PromiseThen } from './util.js';
import { serialize, deserialize } from './serialize.js';
import { notSerializable } from './structured-clone.js';
import { utf8Encode, utf8DecodeReplace } from './encoding.js';
import { DOMException } from './dom-exception.js';
import { RpcTarget, DurableObject, WorkerEntrypoint } from './runtime-classes.js';
import { ReadableStream, WritableStream, isReadableStream, isStreamLocked, isStreamDisturbed, getReader, readerReadChunk, readerCancelWith,
  isWritableStream, isWritableLocked, getWriter, writerWriteChunk, writerCloseStream, writerAbortWith } from './streams-core.js';
import { isArrayBuffer, isArrayBufferView, isUint8Array, viewBytes, isObjectLike, PromiseCtor } from './util.js';
import { isAbortSignal, newSignal, addAbortAlgorithm, signalAbort, signalAborted } from './events.js';
import { frameInvocation } from './async-context.js';
import { compat, ABORT_SIGNAL_RPC, RPC_PARAMS_DUP_STUBS } from './compat.js';

const MAGIC = 0xca;
const EXPORT = 1, IMPORT = 2, OBJECT_STUB = 4, ADDRESS_WORKER = 5;
// Shaped imports (the host tells what a stub passed on was: a durable object, a fetcher), a
// service binding or ctx.exports stub by its descriptor, an entrypoint with its grant.
const IMPORT_SHAPED = 22, SERVICE = 23, ADDRESS_WORKER_GRANT = 24;
const SHAPE_PLAIN = 0, SHAPE_OBJECT = 1, SHAPE_FETCHER = 2;
const MAX_REFS = 1024;
// Slot tags (serialize.js): what a host-object slot stands for on the receiving side.
const TAG_STUB = 0, TAG_STREAM = 1, TAG_WRITABLE = 2, TAG_SIGNAL = 3;
// A byte stream crosses as a stub on a StreamSource (a WritableStream on a StreamSink); each
// read() returns, and each write() carries, at most this much.
const STREAM_CHUNK = 1 << 20;

const RpcTargetProto = RpcTarget.prototype;
const hasOwn = Object.prototype.hasOwnProperty;
const DisposeSymbol = typeof Symbol.dispose === 'symbol' ? Symbol.dispose : Symbol.for('Symbol.dispose');

const ENDED = 'This RPC callback cannot be called any more: the request that passed it has ended '
  + '(references die with the invocation that created them).';

export function disposedError() {
  return new Error('RPC stub used after being disposed.');
}

// ---- what this isolate exported: export id -> value; value -> its live export ids. As in
// workerd, each time a function or RpcTarget itself is passed it is a target of its own, whose
// disposer runs when that one is dropped; a stub on a value of this isolate (new RpcStub(v)) is
// one target however often it is passed, disposed once its last holder here and there is gone.

const exported = new Map();
const exportIdsOf = new Map();
const viaStub = new Set(); // the export ids made by passing a local stub
const stubExportsOf = new Map(); // value -> how many of its live exports were made through local stubs
let nextExportId = 1;

function isRpcTarget(v) {
  for (let o = ObjectGetPrototypeOf(v); o !== null; o = ObjectGetPrototypeOf(o)) {
    if (o === RpcTargetProto) return true;
  }
  return false;
}

function exportValue(value, throughStub = false) {
  const id = nextExportId++;
  exported.set(id, value);
  let ids = exportIdsOf.get(value);
  if (ids === undefined) exportIdsOf.set(value, (ids = new Set()));
  ids.add(id);
  if (throughStub) {
    viaStub.add(id);
    stubExportsOf.set(value, (stubExportsOf.get(value) ?? 0) + 1);
  }
  if (invocationContexts.size !== 0) {
    const ctx = invocationContexts.get(frameInvocation());
    if (ctx !== undefined) {
      exportContexts.set(id, ctx);
      contextState(ctx).ids.add(id);
    }
  }
  return id;
}

// ---- contexts: what a durable object's events exported dies with the object (workerd: an
// actor's IoContext). A context is objects.js' entry of one instance of an object; when it is
// reset (ctx.abort(), a rejected blockConcurrencyWhile), calls on its exports that are running
// reject with the reset's reason, calls already on their way fail with it too, and the node
// refuses every later one ("no longer running", as workerd once the context is gone).

const invocationContexts = new Map(); // invocation id -> the context its exports belong to
const exportContexts = new Map(); // export id -> its context
const contextStates = new WeakMap(); // context -> {ids: its live export ids, reason, waiting: rejecters}

function contextState(ctx) {
  let st = contextStates.get(ctx);
  if (st === undefined) contextStates.set(ctx, (st = { ids: new Set(), reason: undefined, waiting: new Set() }));
  return st;
}

/** What invocation {@code invocationId} exports belongs to {@code ctx} (an object's event, a call on its export). */
export function enterContext(invocationId, ctx) {
  invocationContexts.set(invocationId, ctx);
}

/** The context invocation {@code invocationId} belongs to (an object's entry), or undefined. */
export function contextOf(invocationId) {
  return invocationContexts.get(invocationId);
}

/** The invocation ended. */
export function leaveContext(invocationId) {
  invocationContexts.delete(invocationId);
}

/**
 * The context was reset with {@code reason} (the error its callers see): calls on its exports
 * running now reject with it, and the node refuses every call on them it has not handed on yet.
 */
export function endContext(ctx, reason) {
  // Kept even when nothing was exported yet: an event still running may export later, and calls
  // on that fail with the reason too.
  const st = contextState(ctx);
  if (st.reason !== undefined) return;
  st.reason = reason;
  for (const reject of st.waiting) reject(reason);
  st.waiting.clear();
  if (st.ids.size > 0) {
    // A stream it returned will not be read any more: the call that returned it may end.
    for (const id of st.ids) sourceEnded(exported.get(id));
    try { H.capRevoke(Array.from(st.ids), true); } catch { /* the isolate is going */ }
  }
}

/**
 * The node says no one holds export {@code id} any more: drop it and run the value's disposer,
 * unless it was passed through a local stub that is still held (here or by another export).
 */
export function dropExport(id) {
  id = Number(id);
  const value = exported.get(id);
  if (value === undefined) return;
  exported.delete(id);
  const ctx = exportContexts.get(id);
  if (ctx !== undefined) {
    exportContexts.delete(id);
    contextState(ctx).ids.delete(id);
  }
  const ids = exportIdsOf.get(value);
  if (ids !== undefined) {
    ids.delete(id);
    if (ids.size === 0) exportIdsOf.delete(value);
  }
  if (!viaStub.delete(id)) {
    disposeValue(value);
    return;
  }
  const n = stubExportsOf.get(value) - 1;
  if (n > 0) { stubExportsOf.set(value, n); return; }
  stubExportsOf.delete(value);
  if (!localHolders.has(value)) disposeValue(value);
}

function disposeValue(value) {
  try {
    const dispose = value[DisposeSymbol];
    if (typeof dispose === 'function') ReflectApply(dispose, value, []);
  } catch (err) {
    safeLog('error', `Uncaught exception in [Symbol.dispose](): ${err && err.stack ? err.stack : err}`);
  }
}

/**
 * Bulwark's revocation (module 'bulwark:rpc'): every stub anyone holds on {@code value} (a
 * function or RpcTarget this isolate passed by reference) fails from now on, in every process.
 */
export function revoke(value) {
  const ids = exportIdsOf.get(value);
  if (ids === undefined) return false;
  H.capRevoke(Array.from(ids));
  return true;
}

// ---- stubs: index into the host's import table

const stubs = new WeakMap(); // stub -> state
const addressStubs = new WeakMap(); // durable object / entrypoint stub -> () => ref

/** objects.js and loader.js register their stubs so they can cross by address. */
export function registerAddressStub(stub, describe) {
  addressStubs.set(stub, describe);
}

function release(state) {
  if (state.disposed) return;
  state.disposed = true;
  if (--state.shared.count !== 0) return;
  const local = state.shared.local;
  if (local === undefined) {
    try { H.capRelease(state.shared.index); } catch { /* the isolate is going */ }
    return;
  }
  // A stub on a value of this isolate: the last one disposes the value (after this turn, as
  // workerd's), unless a stub in another isolate still holds it.
  const n = localHolders.get(local.value) - 1;
  if (n > 0) { localHolders.set(local.value, n); return; }
  localHolders.delete(local.value);
  if (!stubExportsOf.has(local.value)) PromiseThen(PromiseResolve(), () => disposeValue(local.value));
}

function sendOf(state) {
  const local = state.shared.local;
  if (local !== undefined) {
    const send = () => { throw new TypeError('a local stub sends nothing'); };
    send.local = (name, args, isCall) => localCall(state, name, args, isCall);
    return send;
  }
  const send = (method, payload) => {
    if (state.disposed) throw disposedError();
    return H.capCall(state.shared.index, method, payload);
  };
  if (state.shared.thrown !== undefined) send.thrown = state.shared.thrown;
  return send;
}

// ---- stubs on values of this isolate (new RpcStub(value), workerd's loopback stubs)

const localHolders = new Map(); // value -> how many sets of local stubs hold it

/**
 * new RpcStub(value): a stub on a function, an RpcTarget or a plain object of this isolate. Calls
 * reach the value as a call from another isolate would (the same member lookup; arguments and
 * result copied, functions and RpcTargets in them passed as stubs); passed over RPC, the value
 * is exported. A stub given is duplicated.
 */
export function localStub(value) {
  const state = stubs.get(value);
  if (state !== undefined) {
    if (state.disposed) throw disposedError();
    return newStub(state.shared);
  }
  if (addressStubs.has(value)) return value;
  if (typeof value !== 'function' && (typeof value !== 'object' || value === null)) {
    throw new TypeError('RpcStub takes a function, an RpcTarget or an object.');
  }
  localHolders.set(value, (localHolders.get(value) ?? 0) + 1);
  return newStub({ index: 0, count: 0, shape: null, local: { value } });
}

async function localCall(state, name, args, isCall) {
  if (state.disposed) throw disposedError();
  const [receiver, member] = exportedCall({ export: 0, method: name }, state.shared.local.value);
  if (!isCall) return copied(await member);
  if (typeof member !== 'function') throw new TypeError(`"${pathName(name)}" is not a function.`);
  return copied(await ReflectApply(member, receiver, copied(args)));
}

/** A copy of a value, as a call to another isolate would make it: its capabilities as local stubs. */
function copied(value) {
  const refs = [];
  const bytes = serializeWithRefs(value, (ref, v) => refs.push([ref, v]));
  if (refs.length === 0) return deserialize(bytes);
  return deserialize(bytes, {
    decode(slot, tag) {
      const [ref, v] = refs[slot];
      if (ref.kind === EXPORT) return fromSlot(localStub(ref.value), tag);
      if (ref.kind === IMPORT) return tag === TAG_STUB ? localStub(v) : fromSlot(newStub(ref.state.shared), tag);
      return v; // an address (a durable object, a service): the same stub
    },
  });
}

let rpcPropertyOf = null; // rpc.js's rpcProperty (set by rpc.js: avoids an import cycle)
let rpcPathOf = null;
let stubFetchOf = null;
let isRpcThenableOf = () => false;
export function bindRpc(rpcProperty, rpcPath, stubFetch, isRpcThenable) {
  rpcPropertyOf = rpcProperty; rpcPathOf = rpcPath; stubFetchOf = stubFetch; isRpcThenableOf = isRpcThenable;
}
let connectOf = null; // sockets.js' fetcherConnect: connect() on a fetcher passed on
export function bindConnect(fetcherConnect) { connectOf = fetcherConnect; }
let objectIdOf = null; // objects.js: (hex, name) -> a DurableObjectId of an object passed on
export function bindObjectIds(make) { objectIdOf = make; }

/**
 * The members a shaped stub has beyond RPC: a durable object stub or a fetcher passed on keeps
 * fetch() (through the node, to the address only the node knows), and an object its id and name.
 */
function shapedMember(state, prop) {
  const shape = state.shared.shape;
  if (shape === null) return undefined;
  if (prop === 'fetch') {
    return (input, init = undefined) => stubFetchOf(input, init, (method, url, headerLines, bytes) => {
      if (state.disposed) throw disposedError();
      return H.capFetch(state.shared.index, method, url, headerLines, bytes);
    });
  }
  if (prop === 'connect') {
    return (address, options = undefined) => connectOf((method, url, headerLines, token) => {
      if (state.disposed) throw disposedError();
      return H.capFetch(state.shared.index, method, url, headerLines, token);
    }, address, options);
  }
  if (shape.kind === SHAPE_OBJECT) {
    if (prop === 'id') return shape.idObject ??= objectIdOf(shape.id, shape.name);
    if (prop === 'name') return shape.name;
  }
  return undefined;
}

function newStub(shared) {
  const state = { shared, disposed: false };
  shared.count++;
  const target = function () {};
  const stub = new Proxy(target, {
    get(_, prop) {
      if (prop === DisposeSymbol) return () => release(state);
      if (prop === Symbol.toStringTag && shared.shape !== null) {
        return shared.shape.kind === SHAPE_OBJECT ? 'DurableObjectStub' : 'Fetcher';
      }
      if (typeof prop === 'symbol' || prop === 'then') return undefined;
      if (prop === 'dup') {
        return () => {
          if (state.disposed) throw disposedError();
          return newStub(shared);
        };
      }
      if (shared.shape !== null && (prop === 'fetch' || prop === 'connect' || prop === 'id' || prop === 'name')) {
        const member = shapedMember(state, prop);
        if (member !== undefined || shared.shape.kind === SHAPE_OBJECT) return member;
      }
      return rpcPropertyOf(sendOf(state), prop);
    },
    apply(_, thisArg, args) { return ReflectApply(rpcPropertyOf(sendOf(state), ''), undefined, args); },
    set() { return false; },
    defineProperty() { return false; },
    deleteProperty() { return false; },
    setPrototypeOf() { return false; },
  });
  stubs.set(stub, state);
  return stub;
}

/**
 * A stub on the import table entry {@code index} (negative: a capability binding of env);
 * {@code kind} (SHAPE_OBJECT with the object's {@code id} and {@code name}, or SHAPE_FETCHER)
 * gives it fetch() and an object's id, as the stub that was passed on had.
 */
export function makeCapStub(index, kind = SHAPE_PLAIN, id = null, name = null) {
  const shape = kind === SHAPE_PLAIN || kind === undefined ? null
    : { kind, id, name: name ?? undefined, idObject: undefined };
  return newStub({ index: Number(index), count: 0, shape });
}

/** Whether {@code v} is a stub (RpcStub's instanceof). */
export function isStub(v) {
  return (typeof v === 'function' || (typeof v === 'object' && v !== null)) && stubs.has(v);
}

export function isCapValue(v) {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return false;
  return stubs.has(v) || addressStubs.has(v) || typeof v === 'function' || isRpcTarget(v);
}

// ---- payloads

class HeaderWriter {
  constructor() { this.out = []; }
  byte(b) { this.out.push(b); }
  varint(n) { while (n >= 0x80) { this.out.push((n % 0x80) | 0x80); n = Math.floor(n / 0x80); } this.out.push(n); }
  str(s) { const b = utf8Encode(s); this.varint(b.length); for (let i = 0; i < b.length; i++) this.out.push(b[i]); }
  optStr(s) { if (s === null || s === undefined) this.byte(0); else { this.byte(1); this.str(s); } }
  optBytes(b) {
    if (b === null || b === undefined) { this.byte(0); return; }
    this.byte(1); this.varint(b.length); for (let i = 0; i < b.length; i++) this.out.push(b[i]);
  }
}

/**
 * Serializes {@code value} with its capabilities: {bytes, sent}, or a promise of it while a
 * dynamic worker passed in it is loaded. {@code sent} are the stubs it passed on, which the
 * caller disposes once the message has left (a stub passed on is moved, as in workerd). Exports
 * are made only once serializing succeeded. Answered at once when it can, so that calls made one
 * after another leave in that order whatever they carry (workerd's e-order). {@code thrown}: the
 * value a call threw (its errors always cross as workerd's RPC tunnels them: remote-errors.js).
 */
export function encodePayload(value, thrown = false) {
  const refs = [];
  const bytes = serializeWithRefs(value, (ref) => refs.push(ref), false, thrown);
  if (refs.length === 0) return { bytes, sent: [] };
  return withHeader(refs, bytes);
}

/**
 * A call's arguments, as {@link encodePayload}, under the worker's ownership rule: with
 * rpc_params_dup_stubs the stubs in them stay the caller's ({@code sent} is empty) and an
 * RpcTarget or a function that has a dup() method crosses as what dup() answered (workerd's
 * DUPLICATE); else they move to the callee (TRANSFER).
 */
export function encodeParams(args) {
  // The calling worker's rpc_params_dup_stubs (workerd's rpcParamsDupStubs): whether the stubs in
  // a call's arguments stay the caller's (duplicated, and an RpcTarget or a function with a dup()
  // method sent as what dup() answers) rather than moving to the callee. workerd reads it in the
  // caller's isolate when it serializes the arguments, so the caller's date and flags decide; a
  // result always moves what it holds.
  if (!compat(RPC_PARAMS_DUP_STUBS)) return encodePayload(args);
  const refs = [];
  try {
    const bytes = serializeWithRefs(args, (ref) => refs.push(ref), true);
    if (refs.length === 0) return { bytes, sent: [] };
    return withHeader(refs, bytes, true);
  } catch (err) {
    // The dups made for a message that never left are nobody's: disposed, as workerd drops the
    // targets it wrapped them in.
    for (let i = 0; i < refs.length; i++) if (refs[i].dupped === true) disposeValue(refs[i].value);
    throw err;
  }
}

/**
 * {@code value} serialized as RPC sends it, each capability in it given to {@code add(ref, value)}
 * (which answers the count of refs so far) and written as its slot.
 */
function serializeWithRefs(value, add, dup = false, thrown = false) {
  return serialize(value, {
    // A thrown value as workerd's RPC sends it (remote-errors.js: own properties, no stack);
    // errors inside a value as the worker's enhanced_error_serialization switch says.
    richErrors: thrown ? true : undefined,
    rpc: true, // Blob, File, Headers
    // The host refuses a payload over 32 MiB with workerd's error and its whole size (workerd too
    // checks after serializing); the isolate's memory limit bounds the work.
    maxBytes: 1 << 30,
    encode(v) {
      const ref = classify(v, dup);
      if (ref === undefined) return undefined;
      const slot = add(ref, v) - 1;
      return ref.tag === undefined ? slot : { slot, tag: ref.tag };
    },
  });
}

/**
 * The ref a value crosses as, or undefined when it is plain data; {@code dup}: a call's arguments
 * under rpc_params_dup_stubs (a function or RpcTarget with a dup() method crosses as its dup).
 */
function classify(v, dup = false) {
  const state = stubs.get(v);
  if (state !== undefined) {
    if (state.disposed) throw disposedError();
    // A stub on a value of this isolate crosses as that value, exported; it is moved all the same.
    if (state.shared.local !== undefined) return { kind: EXPORT, value: state.shared.local.value, state };
    return { kind: IMPORT, state };
  }
  const describe = addressStubs.get(v);
  if (describe !== undefined) return describe();
  // An RPC promise or property inside a value is not sent (awaited whole, one is the value).
  if (isRpcThenableOf(v)) throw notSerializable(v);
  if (isReadableStream(v)) return streamRef(v, TAG_STREAM);
  if (isWritableStream(v)) return streamRef(v, TAG_WRITABLE);
  if (isAbortSignal(v)) {
    // workerd carries an AbortSignal only under its experimental enable_abortsignal_rpc flag.
    if (!compat(ABORT_SIGNAL_RPC)) throw notSerializable(v);
    return { kind: EXPORT, value: new SignalSource(v), tag: TAG_SIGNAL };
  }
  const isFunction = typeof v === 'function';
  if (!isFunction && (typeof v !== 'object' || v === null || !isRpcTarget(v))) return undefined;
  if (!dup) return { kind: EXPORT, value: v };
  const value = duplicated(v, isFunction);
  return { kind: EXPORT, value, dupped: value !== v };
}

/**
 * What a function or RpcTarget passed in a call's arguments crosses as when the caller keeps what
 * it passed (rpc_params_dup_stubs): the value its dup() method answers, which the callee then owns
 * (its disposer runs when the callee is done with it), as a Cap'n Web stub is duplicated. One
 * without a dup() method crosses itself, and is the callee's to dispose (workerd's choice: its
 * disposer still runs). A dup() that answers something else is refused with workerd's error.
 */
function duplicated(v, isFunction) {
  const dup = v.dup; // read as workerd reads it: inherited, or through a Proxy's trap
  if (typeof dup !== 'function') return v;
  const copy = ReflectApply(dup, v, []);
  if (isFunction ? typeof copy === 'function' : (typeof copy === 'object' && copy !== null && isRpcTarget(copy))) return copy;
  throw new DOMException(isFunction
    ? 'Couldn\'t create a stub for the function because it has a dup() method which did not return another '
      + 'function. Either remove the dup() method or make sure it returns a function.'
    : 'Couldn\'t create a stub for the RcpTarget because it has a dup() method which did not return another '
      + 'RpcTarget. Either remove the dup() method or make sure it returns an RpcTarget.', 'DataCloneError');
}

/**
 * A dynamic worker's env entries that are capabilities: the refs, then the UTF-8 JSON of their
 * names in the same order (the node grants each to the loaded worker as a binding).
 */
export async function encodeEnvCaps(entries) {
  const names = Object.keys(entries);
  const refs = names.map((n) => classify(entries[n]));
  return withHeader(refs, utf8Encode(JSON.stringify(names)));
}

/** A durable object stub of one of this worker's namespaces as {binding, id, name}; else undefined. */
export function objectStubOf(v) {
  const describe = isObjectLike(v) ? addressStubs.get(v) : undefined;
  if (describe === undefined) return undefined;
  const ref = describe();
  return ref.kind === OBJECT_STUB ? { binding: ref.binding, id: ref.id, name: ref.name } : undefined;
}

export function objectRef(binding, id, name) {
  return { kind: OBJECT_STUB, binding, id, name };
}

/** A dynamic worker's entrypoint; {@code grant}: [props bytes | null, cpuMs | null, subRequests | null]. */
export function workerRef(loadable, entrypoint, grant = null) {
  if (grant !== null) propsPassedOn(grant[0]);
  const granted = grant !== null && (grant[0] !== null || grant[1] !== null || grant[2] !== null);
  return { kind: granted ? ADDRESS_WORKER_GRANT : ADDRESS_WORKER, loadable, entrypoint, grant };
}

/** A service binding or ctx.exports stub: its descriptor ({index, entrypoint, props}); the host resolves it. */
export function serviceRef(d) {
  return { kind: SERVICE, index: d.index, entrypoint: d.entrypoint, props: propsPassedOn(d.props) };
}

/** {@code keep}: the stubs in {@code refs} stay the sender's (none is reported as sent). */
function withHeader(refs, bytes, keep = false) {
  if (refs.length > MAX_REFS) throw new RangeError(`An RPC message can pass at most ${MAX_REFS} stubs, functions and RpcTargets.`);
  // A plain loop: no Array.prototype method a worker could have replaced sees the refs.
  let unloaded = false;
  for (let i = 0; i < refs.length; i++) unloaded ||= notYetLoaded(refs[i]);
  if (!unloaded) return writeHeader(refs, bytes, keep);
  return (async () => {
    for (let i = 0; i < refs.length; i++) {
      if (notYetLoaded(refs[i])) refs[i].workerId = await refs[i].loadable.ensure();
    }
    return writeHeader(refs, bytes, keep);
  })();
}

/** Whether {@code ref} names a dynamic worker's entrypoint. */
function isWorkerAddress(ref) {
  return ref.kind === ADDRESS_WORKER || ref.kind === ADDRESS_WORKER_GRANT;
}

/** A dynamic worker's entrypoint whose worker id is not known yet (it is loaded before the message leaves). */
function notYetLoaded(ref) {
  return isWorkerAddress(ref) && ref.workerId === undefined;
}

/** The payload of {@code refs} (dynamic workers' ids known) and the serialized {@code bytes}: {bytes, sent}. */
function writeHeader(refs, bytes, keep = false) {
  const w = new HeaderWriter();
  w.byte(MAGIC);
  w.varint(refs.length);
  const sent = [];
  let ends; // the streams it exports: when each one ends (see rpc.js's answer)
  for (const r of refs) {
    w.byte(r.kind);
    switch (r.kind) {
      case EXPORT: {
        w.varint(exportValue(r.value, r.state !== undefined));
        if (r.state !== undefined && !keep) sent.push(r.state);
        const end = streamEnds.get(r.value);
        if (end !== undefined) (ends ??= []).push(end.promise);
        break;
      }
      case IMPORT: { const i = r.state.shared.index; w.varint(i >= 0 ? 2 * i : -2 * i - 1); if (!keep) sent.push(r.state); break; }
      case OBJECT_STUB: w.varint(r.binding); w.str(r.id); w.optStr(r.name); break;
      case ADDRESS_WORKER: w.str(r.workerId); w.optStr(r.entrypoint); break;
      case ADDRESS_WORKER_GRANT:
        w.str(r.workerId); w.optStr(r.entrypoint); w.optBytes(r.grant[0]);
        w.varint(r.grant[1] === null ? 0 : r.grant[1] + 1); w.varint(r.grant[2] === null ? 0 : r.grant[2] + 1);
        break;
      case SERVICE: w.varint(r.index >= 0 ? 2 * r.index : -2 * r.index - 1); w.optStr(r.entrypoint); w.optBytes(r.props); break;
      default: throw new TypeError('unknown capability kind');
    }
  }
  const out = new Uint8Array(w.out.length + bytes.length);
  out.set(w.out, 0);
  out.set(bytes, w.out.length);
  return { bytes: out, sent, ends };
}

// ---- props: what a granter fixed for an entrypoint (getEntrypoint's, ctx.exports.X({props}))

function propsRefused(message) {
  return new DOMException(message, 'DataCloneError');
}

/**
 * The props a granter fixed, serialized now (a copy, as workerd's): their bytes, or, when stubs,
 * functions or RpcTargets are in them, {bytes, refs}, whose capabilities are named afresh for each
 * call ({@link propsForCall}): the callee holds them for its invocation only. Entrypoints of dynamic
 * workers are refused, as workerd refuses them, and so are entrypoints whose own props hold stubs
 * (their refs would outlive the call that named them).
 */
export function encodeProps(value) {
  const refs = [];
  const bytes = serializeWithRefs(value, (ref) => {
    if (isWorkerAddress(ref)) {
      throw propsRefused('Entrypoints to dynamically-loaded workers cannot be transferred to other Workers, '
        + 'because the system does not know how to reload this Worker from scratch. Instead, have the parent '
        + 'Worker expose an entrypoint which constructs the dynamic worker and forwards to it.');
    }
    return refs.push(ref);
  });
  if (refs.length > MAX_REFS) throw new RangeError(`Props can hold at most ${MAX_REFS} stubs, functions and RpcTargets.`);
  return refs.length === 0 ? bytes : { bytes, refs };
}

const PASSED_ON = 'An entrypoint whose props hold stubs, functions or RpcTargets cannot be passed on: '
  + 'those are granted to each of its calls, not to whoever holds the entrypoint.';

/** Whether props from {@link encodeProps} hold capabilities. */
export function propsHoldCaps(props) {
  return props !== null && props !== undefined && !isArrayBufferView(props);
}

/** The bytes of props from {@link encodeProps} for one call (null stays null); stubs in them are not moved. */
export function propsForCall(props) {
  if (!propsHoldCaps(props)) return props;
  // A stub in them that the granter disposed since: as a disposed stub's own call.
  for (const r of props.refs) if (r.state !== undefined && r.state.disposed) throw disposedError();
  return writeHeader(props.refs, props.bytes).bytes;
}

/** Throws when props from {@link encodeProps} hold capabilities: the entrypoint they belong to cannot be passed on. */
export function propsPassedOn(props) {
  if (propsHoldCaps(props)) throw propsRefused(PASSED_ON);
  return props;
}

/** Disposes the stubs a sent payload moved to its receiver. */
export function moved(sent) {
  for (const s of sent) {
    // A stub of env is not moved: it stays usable by every request of this worker.
    if (s.shared.index > 0 || s.shared.local !== undefined) release(s);
  }
}

const receivedStubs = new WeakMap(); // a decoded value -> the stubs decodePayload made for it

/**
 * Disposes the stubs decoded with {@code value} (a call's arguments, now that it returned) but
 * those whose state is in {@code keep} (moved in the call's result: they go once it has left).
 * Run before the result is sent, as workerd disposes the parameters once the result is built, so
 * that the caller's disposers have run by the time it sees the result.
 */
export function disposeReceived(value, keep) {
  const made = receivedStubs.get(value);
  if (made === undefined) return;
  // Plain loops: no Array.prototype method a worker could have replaced is used.
  next: for (let i = 0; i < made.length; i++) {
    const state = stubs.get(made[i]);
    for (let j = 0; j < keep.length; j++) if (keep[j] === state) continue next;
    release(state);
  }
}

/**
 * Deserializes a payload from the host; stubs become stubs of this isolate. When the value is an
 * object that holds stubs, it gets a [Symbol.dispose]() that disposes them all (as in workerd).
 */
export function decodePayload(bytes, thrown = undefined) {
  if (bytes.length === 0 || bytes[0] !== MAGIC) return deserialize(bytes);
  let p = 1;
  const byte = () => { if (p >= bytes.length) throw new TypeError('malformed RPC payload'); return bytes[p++]; };
  const varint = () => {
    let n = 0, scale = 1;
    for (let i = 0; i < 8; i++) { const c = byte(); n += (c & 0x7f) * scale; if (c < 0x80) return n; scale *= 0x80; }
    throw new TypeError('malformed RPC payload');
  };
  const n = varint();
  if (n > MAX_REFS) throw new TypeError('malformed RPC payload');
  const str = () => {
    const len = varint();
    if (p + len > bytes.length) throw new TypeError('malformed RPC payload');
    const out = utf8DecodeReplace(bytes.subarray(p, p + len));
    p += len;
    return out;
  };
  const indexes = [];
  for (let i = 0; i < n; i++) {
    const kind = byte();
    if (kind !== IMPORT && kind !== IMPORT_SHAPED) throw new TypeError('malformed RPC payload');
    const z = varint();
    const index = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    if (kind === IMPORT) { indexes.push([index, SHAPE_PLAIN, null, null]); continue; }
    const shape = byte();
    if (shape === SHAPE_OBJECT) {
      const id = str();
      indexes.push([index, shape, id, byte() === 0 ? null : str()]);
    } else if (shape === SHAPE_FETCHER || shape === SHAPE_PLAIN) {
      indexes.push([index, shape, null, null]);
    } else {
      throw new TypeError('malformed RPC payload');
    }
  }
  const made = [];
  const value = deserialize(bytes.subarray(p), {
    decode(slot, tag) {
      if (slot >= indexes.length) throw new TypeError('malformed RPC payload');
      const [index, kind, id, name] = indexes[slot];
      const stub = makeCapStub(index, kind, id, name);
      // A stub a durable object returned is part of its connection: a reset error a call on it
      // meets breaks the object's stub too (workerd's stubs share the actor's channel).
      if (thrown !== undefined) stubs.get(stub).shared.thrown = thrown;
      made.push(stub);
      return fromSlot(stub, tag);
    },
  });
  if (made.length > 0 && value !== null && typeof value === 'object' && !stubs.has(value)) {
    receivedStubs.set(value, made);
    try {
      ObjectDefineProperty(value, DisposeSymbol, {
        value() { for (const s of made) s[DisposeSymbol](); },
        writable: true, configurable: true, enumerable: false,
      });
    } catch { /* a frozen value keeps no disposer */ }
  }
  return value;
}

// ---- byte streams: a ReadableStream crosses as a stub on a StreamSource, read one chunk per call

/**
 * The sending side of a ReadableStream passed over RPC: the receiver pulls it one chunk (at most
 * STREAM_CHUNK bytes) per call, so the sender never reads ahead of the receiver (back-pressure),
 * and no message is larger than a chunk. Passing a stream locks it, as in workerd.
 */
class StreamSource extends RpcTarget {
  #reader;
  #pending = null;
  constructor(stream) {
    super();
    if (isStreamLocked(stream)) throw new TypeError('The ReadableStream has been locked to a reader.');
    this.#reader = getReader(stream);
    let ended;
    streamEnds.set(this, { promise: new PromiseCtor((resolve) => { ended = resolve; }), ended });
  }
  async read() {
    if (this.#pending === null) {
      let next;
      try {
        next = await readerReadChunk(this.#reader);
      } catch {
        sourceEnded(this);
        // As workerd's: the reason the stream errored with does not cross.
        throw new Error('ReadableStream received over RPC disconnected prematurely.');
      }
      const { done, value } = next;
      if (done) { sourceEnded(this); return { done: true }; }
      let bytes;
      if (isArrayBuffer(value)) bytes = new Uint8Array(value);
      else if (isArrayBufferView(value)) bytes = viewBytes(value);
      else throw new TypeError('Only byte streams (chunks of ArrayBuffer or ArrayBufferView) can be passed over RPC.');
      this.#pending = bytes;
    }
    const out = this.#pending.subarray(0, STREAM_CHUNK);
    this.#pending = this.#pending.length > STREAM_CHUNK ? this.#pending.subarray(STREAM_CHUNK) : null;
    return { done: false, value: out.slice() };
  }
  cancel(reason) {
    sourceEnded(this);
    return readerCancelWith(this.#reader, reason);
  }
  [DisposeSymbol]() {
    sourceEnded(this);
    try { PromiseCatch(readerCancelWith(this.#reader, undefined)); } catch { /* closed */ }
  }
}

// A StreamSource -> {promise, ended}: the promise resolves once the stream was read to its end,
// errored, was canceled or dropped by its receiver (kept out of the class: its members are RPC).
const streamEnds = new WeakMap();

function sourceEnded(source) {
  const e = streamEnds.get(source);
  if (e !== undefined) e.ended();
}

function PromiseCatch(p) { if (p && typeof p.then === 'function') p.then(undefined, () => {}); }

/** The receiving side: a ReadableStream that pulls from the sender only when it is read. */
function remoteStream(stub) {
  let finished = false;
  const finish = () => { if (!finished) { finished = true; stub[DisposeSymbol](); } };
  const stream = new ReadableStream({
    async pull(controller) {
      let r;
      try {
        r = await stub.read();
      } catch (err) {
        finish();
        throw err;
      }
      if (r.done) {
        finish();
        controller.close();
      } else {
        controller.enqueue(r.value);
      }
    },
    async cancel(reason) {
      try { await stub.cancel(reason === undefined ? undefined : `${reason}`); } catch { /* gone */ }
      finish();
    },
  }, { highWaterMark: 0 });
  remoteStreams.set(stream, stub);
  return stream;
}

// A stream received over RPC -> the stub it reads or writes through: passed on, it crosses as that
// stub (moved), not as a new source on top of it that would die with this call's arguments.
const remoteStreams = new WeakMap();

/** The ref a ReadableStream ({@code tag} TAG_STREAM) or WritableStream (TAG_WRITABLE) crosses as. */
function streamRef(stream, tag) {
  const readable = tag === TAG_STREAM;
  const stub = remoteStreams.get(stream);
  const state = stub === undefined ? undefined : stubs.get(stub);
  if (state !== undefined && !state.disposed && !(readable ? isStreamLocked(stream) || isStreamDisturbed(stream) : isWritableLocked(stream))) {
    // Locked here for good: what is left of it is the receiver's.
    if (readable) getReader(stream); else getWriter(stream);
    return { kind: IMPORT, state, tag };
  }
  return { kind: EXPORT, value: readable ? new StreamSource(stream) : new StreamSink(stream), tag };
}

/** What a host-object slot of {@code tag} stands for, given the stub it was sent as. */
function fromSlot(stub, tag) {
  switch (tag) {
    case TAG_STUB: return stub;
    case TAG_STREAM: return remoteStream(stub);
    case TAG_WRITABLE: return remoteWritable(stub);
    case TAG_SIGNAL: return remoteSignal(stub);
    default: throw new TypeError('malformed RPC payload');
  }
}

// At most this many bytes, and calls, of a WritableStream received over RPC are on their way to
// its owner at once. A write resolves once it is sent within that window, not when the owner took
// it (as workerd's flow control): an owner whose sink waits for its own reader (an identity
// transform it reads only after the writer closed) must not stall the writer. The window bounds
// what waits between the two.
const WRITE_WINDOW_BYTES = 1 << 20, WRITE_WINDOW_CALLS = 16;

const DISCONNECTED = 'WritableStream received over RPC was disconnected because the remote execution context has ended.';

/**
 * The owning side of a WritableStream passed over RPC: the receiver writes one chunk (at most
 * STREAM_CHUNK bytes) per call, and a call answers once this stream took the chunk, so no more
 * than the window is ever on its way to the owner's sink (back-pressure). Passing a stream locks it, as
 * in workerd. Dropped by the receiver (its call ended) before it closed the stream: the stream is
 * aborted, as workerd's is when the receiver's execution context ends.
 */
class StreamSink extends RpcTarget {
  #writer;
  #done = false;
  #pending = 0; // writes taken and not yet written, and their bytes: the receiver's window, kept here too
  #pendingBytes = 0;
  constructor(stream) {
    super();
    if (isWritableLocked(stream)) throw new TypeError('The WritableStream has been locked to a writer.');
    this.#writer = getWriter(stream);
  }
  write(bytes) {
    if (this.#done) throw new TypeError('This WritableStream has been closed.');
    if (!isUint8Array(bytes)) throw new TypeError('This WritableStream only supports writing byte types.');
    // A receiver that keeps to the window never sees this; one that does not (its isolate
    // escaped) must not make this stream buffer without bound.
    if (this.#pending >= WRITE_WINDOW_CALLS || this.#pendingBytes + bytes.length > WRITE_WINDOW_BYTES) {
      throw new RangeError('Too many writes on their way to a WritableStream passed over RPC.');
    }
    const n = bytes.length;
    this.#pending++;
    this.#pendingBytes += n;
    const settled = () => { this.#pending--; this.#pendingBytes -= n; };
    const written = writerWriteChunk(this.#writer, bytes);
    PromiseThen(written, settled, settled);
    return written;
  }
  close() {
    // Queued behind the chunks written before it; answered at once, not when the owner's sink
    // closed: a sink waiting for its own reader must not hold the writer.
    this.#done = true;
    PromiseCatch(writerCloseStream(this.#writer));
  }
  abort() {
    // As workerd's: the receiver's reason does not cross; the owner's sink sees the disconnection.
    this.#done = true;
    return writerAbortWith(this.#writer, new Error(DISCONNECTED));
  }
  [DisposeSymbol]() {
    if (this.#done) return;
    this.#done = true;
    try { PromiseCatch(writerAbortWith(this.#writer, new Error(DISCONNECTED))); } catch { /* closed */ }
  }
}

/**
 * The receiving side of a WritableStream: each write is a call to the owner's StreamSink, sent in
 * order; the first that fails errors this stream with the owner's error.
 */
function remoteWritable(stub) {
  let finished = false;
  const finish = () => { if (!finished) { finished = true; stub[DisposeSymbol](); } };
  let failure = null;
  let bytesOut = 0;
  const out = new Set(); // the write calls not answered yet, oldest first
  const send = (piece) => {
    const done = () => { bytesOut -= piece.length; out.delete(call); };
    const call = PromiseThen(PromiseResolve(stub.write(piece)), done, (err) => {
      done();
      if (failure === null) failure = err;
    });
    bytesOut += piece.length;
    out.add(call);
  };
  const stream = new WritableStream({
    async write(chunk) {
      let bytes;
      if (isArrayBuffer(chunk)) bytes = new Uint8Array(chunk);
      else if (isArrayBufferView(chunk)) bytes = viewBytes(chunk);
      else throw new TypeError('This WritableStream only supports writing byte types.');
      let at = 0;
      do {
        const piece = bytes.slice(at, at + STREAM_CHUNK);
        while (out.size > 0 && (out.size >= WRITE_WINDOW_CALLS || bytesOut + piece.length > WRITE_WINDOW_BYTES)) {
          await out.values().next().value;
        }
        if (failure !== null) { finish(); throw failure; }
        send(piece);
        at += STREAM_CHUNK;
      } while (at < bytes.length);
    },
    async close() {
      if (failure !== null) { finish(); throw failure; }
      // Answered once the owner queued the close (behind every chunk): then the stub may go.
      try { await stub.close(); } finally { finish(); }
    },
    abort() {
      PromiseThen(PromiseResolve(stub.abort()), finish, finish);
    },
  }, { highWaterMark: 1 });
  remoteStreams.set(stream, stub);
  return stream;
}

/**
 * The sending side of an AbortSignal passed over RPC (workerd's enable_abortsignal_rpc): the
 * receiver asks once, with wait(), which answers when the signal aborts, with its reason. Dropped
 * by the receiver (its call ended), the wait answers that the signal never aborted.
 */
class SignalSource extends RpcTarget {
  #signal;
  #answer = null;
  #waiting = null;
  constructor(signal) {
    super();
    this.#signal = signal;
  }
  wait() {
    if (this.#waiting === null) {
      this.#waiting = new PromiseCtor((resolve) => { this.#answer = resolve; });
      const signal = this.#signal;
      if (signalAborted(signal)) this.#answer({ aborted: true, reason: signal.reason });
      else addAbortAlgorithm(signal, () => this.#answer({ aborted: true, reason: signal.reason }));
    }
    return this.#waiting;
  }
  [DisposeSymbol]() {
    if (this.#answer !== null) this.#answer({ aborted: false });
  }
}

/** The receiving side of an AbortSignal: a signal that aborts, with the sender's reason, when the sender's does. */
function remoteSignal(stub) {
  const signal = newSignal();
  PromiseThen(PromiseResolve(stub.wait()), (r) => {
    if (r !== null && typeof r === 'object' && r.aborted === true) signalAbort(signal, r.reason);
  }, () => { /* the sender is gone: the signal never aborts */ });
  return signal;
}

// ---- the exporter's side of a call

function notImplemented(name) {
  return new TypeError(`The RPC receiver does not implement the method "${name}".`);
}

const TARGET_BASES = new Set([Object.prototype, RpcTargetProto, DurableObject.prototype, WorkerEntrypoint.prototype, Function.prototype]);
const TARGET_RESERVED = new Set(['constructor', 'then', 'dup']);

/** The member {@code name} of an exported value: a class member of an RpcTarget, an own property of a function. */
function exportedMember(value, name) {
  if (typeof name !== 'string' || TARGET_RESERVED.has(name)) throw notImplemented(name);
  // A function, or a plain object a stub was made on (new RpcStub({...})): its own members; an
  // RpcTarget (a callable Proxy may say it is one) its class members.
  if (!isRpcTarget(value) && (typeof value === 'function' || ObjectGetPrototypeOf(value) === Object.prototype)) {
    if (ReflectApply(hasOwn, value, [name])) return value[name];
    throw notImplemented(name);
  }
  // Read through the value itself, so that a Proxy of an RpcTarget answers with its get trap.
  for (let o = ObjectGetPrototypeOf(value); o !== null && !TARGET_BASES.has(o); o = ObjectGetPrototypeOf(o)) {
    if (ObjectGetOwnPropertyDescriptor(o, name) !== undefined) return Reflect.get(value, name, value);
  }
  throw notImplemented(name);
}

// A member of a member (`stub.a.b.c()`) is named to the callee by its path: the names, each after
// PATH_MARK. The callee walks it as workerd does: through plain objects, functions (their own
// members) and RpcTargets (their class members), and nothing else.
const PATH_MARK = '\u0000';
export const MAX_PATH = 64;
const StringPrototypeSplit = String.prototype.split;
const ArrayPrototypeJoin = Array.prototype.join;
const ArrayPrototypeSlice = Array.prototype.slice;

/** The method name of a path of member names. */
export function methodOf(names) {
  return names.length === 1 ? names[0] : PATH_MARK + ReflectApply(ArrayPrototypeJoin, names, [PATH_MARK]);
}

export function isPath(method) {
  return typeof method === 'string' && method.length > 0 && method[0] === PATH_MARK;
}

function namesOf(method) {
  if (!isPath(method)) return [method];
  const names = ReflectApply(ArrayPrototypeSlice, ReflectApply(StringPrototypeSplit, method, [PATH_MARK]), [1]);
  if (names.length > MAX_PATH) throw new TypeError(`An RPC property path is too deep: at most ${MAX_PATH} names.`);
  return names;
}

/** How a method (a name or a path) reads in an error: a.b.c. */
export function pathName(method) {
  return ReflectApply(ArrayPrototypeJoin, namesOf(method), ['.']);
}

function traversable(v) {
  if (isRpcThenableOf(v)) return false;
  if (typeof v === 'function') return true;
  if (typeof v !== 'object' || v === null) return false;
  return ObjectGetPrototypeOf(v) === Object.prototype || isRpcTarget(v);
}

/**
 * [receiver, member] of {@code method} (a name or a path) on {@code value}: the first name looked
 * up by {@code first(value, name)}, the rest each on the member before it.
 */
export function memberAt(value, method, first) {
  const names = namesOf(method);
  let receiver = value;
  let member = first(value, names[0]);
  for (let i = 1; i < names.length; i++) {
    // A stub on the way: the rest of the path is a member of what it stands for.
    const state = stubs.get(member);
    if (state !== undefined) return [undefined, rpcPathOf(sendOf(state), ReflectApply(ArrayPrototypeSlice, names, [i]))];
    if (!traversable(member)) throw notImplemented(names[i - 1]);
    receiver = member;
    member = exportedMember(member, names[i]);
  }
  return [receiver, member];
}

/**
 * A call on export {@code cap.export}, whose context (if it has one) is {@code invocationId}'s too:
 * {reason(): the reason its context was reset, or undefined; race(promise): the promise, or the
 * reset's rejection if that comes first}; undefined when the export has no context.
 */
export function exportContext(cap, invocationId) {
  const ctx = exportContexts.get(Number(cap.export));
  if (ctx === undefined) return undefined;
  enterContext(invocationId, ctx);
  const st = contextState(ctx);
  return { reason: () => st.reason, race: (promise) => raceContext(ctx, promise) };
}

/** {@code promise}, or the rejection of {@code ctx}'s reset if that comes first. */
export function raceContext(ctx, promise) {
  const st = contextState(ctx);
  if (st.reason !== undefined) return PromiseReject(st.reason);
  if (promise === null || (typeof promise !== 'object' && typeof promise !== 'function')) return promise; // settled
  return new PromiseCtor((resolve, reject) => {
    st.waiting.add(reject);
    const off = () => st.waiting.delete(reject);
    PromiseThen(PromiseResolve(promise), (v) => { off(); resolve(v); }, (e) => { off(); reject(e); });
  });
}

/** Resolves the receiver and member of a call on export {@code cap.export}: [receiver, member]. */
export function exportedCall(cap, value = exported.get(Number(cap.export))) {
  if (value === undefined) throw disposedError();
  // Passed as an argument or in an env by a request that has ended: references die with it.
  if (cap.ended === true) throw new Error(ENDED);
  if (cap.method === '') {
    if (typeof value !== 'function') throw new TypeError('The RPC stub is not a function.');
    return [undefined, value];
  }
  return memberAt(value, cap.method, exportedMember);
}

export { utf8DecodeReplace };
