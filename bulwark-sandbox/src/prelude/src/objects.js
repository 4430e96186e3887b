// Durable objects inside an isolate: ids, namespace bindings and their stubs (the caller's side),
// and the live objects of this isolate with their state (the callee's side). Objects of one
// class share the class's isolate, as in workerd; what is per object is its instance, its
// storage and its gate.
import { H } from './host.js';
import { PromiseResolve, PromiseReject, PromiseThen, ReflectApply, PromiseCtor, ObjectDefineProperty } from './util.js';
import { setTimeout, clearTimeout } from './timers.js';
import { currentFrame, runInFrame, frameWith, valueIn } from './async-context.js';
import { createStorage, discardWrites, closeStorage } from './storage.js';
import { stubHandler, stubFetch } from './rpc.js';
import { registerAddressStub, objectRef, bindObjectIds, enterContext, endContext, raceContext, contextOf } from './caps.js';
import { ctxExports } from './services.js';
import { resetError, isReset } from './remote-errors.js';
import { makeFacets } from './facets.js';
import { fetcherConnect } from './sockets.js';
import { WebSocket, WebSocketRequestResponsePair, socketInternals, deliverToObject, deliverToListeners, setOutboundOwner } from './websocket.js';

// Constructors below refuse callers that do not hold this: user code can name the classes
// (ctx.id.constructor) but never make one, so it can never forge an id or a stub.
const INTERNAL = Symbol('internal');


export class DurableObjectId {
  #hex;
  #name;
  #namespace; // "<worker>\n<class>": ids are comparable across isolates, never across namespaces
  constructor(token, hex, name, namespace) {
    if (token !== INTERNAL) throw new TypeError('Illegal constructor');
    this.#hex = hex;
    this.#name = name;
    this.#namespace = namespace;
  }
  toString() { return this.#hex; }
  get name() { return this.#name; }
  equals(other) {
    return other instanceof DurableObjectId && other.#hex === this.#hex;
  }
  static namespaceOf(id) { return id.#namespace; }
}
Object.defineProperty(DurableObjectId.prototype, Symbol.toStringTag, { value: 'DurableObjectId', configurable: true });
const namespaceOf = DurableObjectId.namespaceOf;
delete DurableObjectId.namespaceOf;
// The id of a durable object stub passed on to this isolate: comparable, never usable with a
// namespace binding of this worker (its namespace is none of them).
bindObjectIds((hex, name) => new DurableObjectId(INTERNAL, hex, name ?? undefined, '\npassed'));

// idFromName's ids by name, per namespace: a keyed hash of the namespace and the name, the same
// for the isolate's whole life, so the host is asked once per name instead of once per call. At
// most this many names (of at most NAMED_ID_CHARS) are kept; the table is emptied when full. Its
// Map methods are captured: a worker that replaces them cannot pair a name with another's id.
const MAX_NAMED_IDS = 256, NAMED_ID_CHARS = 1024;
const SafeMap = Map, mapGet = Map.prototype.get, mapSet = Map.prototype.set, mapClear = Map.prototype.clear;
const mapSize = Object.getOwnPropertyDescriptor(Map.prototype, 'size').get;

export class DurableObjectNamespace {
  #binding; // the index of this binding in the worker's bindings (the host resolves it)
  #namespace;
  #named = new SafeMap(); // name -> hex
  constructor(token, binding, namespace) {
    if (token !== INTERNAL) throw new TypeError('Illegal constructor');
    this.#binding = binding;
    this.#namespace = namespace;
  }
  idFromName(name) {
    if (arguments.length < 1) throw new TypeError("Failed to execute 'idFromName' on 'DurableObjectNamespace': parameter 1 is not of type 'string'.");
    name = `${name}`;
    const named = this.#named;
    let hex = ReflectApply(mapGet, named, [name]);
    if (hex === undefined) {
      hex = H.objectId(this.#binding, 'name', name);
      if (name.length <= NAMED_ID_CHARS) {
        if (ReflectApply(mapSize, named, []) >= MAX_NAMED_IDS) ReflectApply(mapClear, named, []);
        ReflectApply(mapSet, named, [name, hex]);
      }
    }
    return new DurableObjectId(INTERNAL, hex, name, this.#namespace);
  }
  newUniqueId(options = undefined) {
    // A nullish jurisdiction is none, as in workerd.
    if (options !== undefined && options !== null && options.jurisdiction !== undefined && options.jurisdiction !== null) {
      throw new TypeError('Bulwark runs on one node: jurisdictions are not supported');
    }
    return new DurableObjectId(INTERNAL, H.objectId(this.#binding, 'unique', ''), undefined, this.#namespace);
  }
  idFromString(id) {
    id = `${id}`;
    if (!H.objectId(this.#binding, 'check', id)) {
      throw new TypeError(/^[0-9a-f]{64}$/.test(id)
        ? 'Invalid Durable Object ID: the ID is not for this namespace.'
        : 'Invalid Durable Object ID: must be 64 hex digits');
    }
    return new DurableObjectId(INTERNAL, id, undefined, this.#namespace);
  }
  get(id, options = undefined) {
    if (!(id instanceof DurableObjectId)) throw new TypeError("Failed to execute 'get' on 'DurableObjectNamespace': parameter 1 is not of type 'DurableObjectId'.");
    if (namespaceOf(id) !== this.#namespace) throw new TypeError('ID is not for this namespace.');
    return makeStub(this.#binding, id);
  }
  getByName(name, options = undefined) {
    return this.get(this.idFromName(name), options);
  }
  jurisdiction(name) {
    if (name === undefined || name === null) return this;
    throw new TypeError('Bulwark runs on one node: jurisdictions are not supported');
  }
}
Object.defineProperty(DurableObjectNamespace.prototype, Symbol.toStringTag, { value: 'DurableObjectNamespace', configurable: true });

export function makeNamespace(binding, workerId, className) {
  return new DurableObjectNamespace(INTERNAL, binding, `${workerId}\n${className}`);
}

export class DurableObjectStub {
  #binding;
  #id;
  #broken; // the reset error a call through this stub met: every later call fails with it (as in workerd)
  constructor(token, binding, id) {
    if (token !== INTERNAL) throw new TypeError('Illegal constructor');
    this.#binding = binding;
    this.#id = id;
    // Own enumerable properties, as workerd's stubs have them (Object.keys(stub) is ['id', 'name']);
    // calls go by #id, whatever the program writes over these.
    ObjectDefineProperty(this, 'id', { value: id, enumerable: true, writable: true, configurable: true });
    ObjectDefineProperty(this, 'name', { value: id.name, enumerable: true, writable: true, configurable: true });
  }
  fetch(input, init = undefined) {
    if (this.#broken !== undefined) return PromiseReject(this.#broken);
    const binding = this.#binding, id = this.#id;
    const response = stubFetch(input, init, (method, url, headerLines, bytes) =>
      H.callObject(binding, id.toString(), id.name ?? null, method, url, headerLines, bytes));
    PromiseThen(response, undefined, (err) => { if (isReset(err)) this.#broken = err; });
    return response;
  }
  /** A socket to the object's connect(socket) handler (sockets.js). */
  connect(address, options = undefined) {
    if (this.#broken !== undefined) throw this.#broken;
    const binding = this.#binding, id = this.#id;
    return fetcherConnect((method, url, headerLines, token) =>
      H.callObject(binding, id.toString(), id.name ?? null, method, url, headerLines, token), address, options);
  }
  /** How RPC calls on this stub reach its object. */
  static sender(stub) {
    const binding = stub.#binding, id = stub.#id;
    const send = (method, args) => {
      if (stub.#broken !== undefined) throw stub.#broken;
      return H.rpcObject(binding, id.toString(), id.name ?? null, method, args);
    };
    send.thrown = (err) => { if (isReset(err)) stub.#broken = err; };
    return send;
  }
}
Object.defineProperty(DurableObjectStub.prototype, Symbol.toStringTag, { value: 'DurableObjectStub', configurable: true });

// Any other member of a stub is an RPC property of the object.
const objectStubHandler = stubHandler(new Set(['fetch', 'connect']),
  (stub) => DurableObjectStub.sender(stub));

function makeStub(binding, id) {
  const stub = new Proxy(new DurableObjectStub(INTERNAL, binding, id), objectStubHandler);
  // Passed in RPC arguments, results or a dynamic worker's env, it crosses by address.
  registerAddressStub(stub, () => objectRef(binding, id.toString(), id.name ?? null));
  return stub;
}

// ---------------------------------------------------------------------------------------
// The callee's side: this isolate's live objects.

class DurableObjectState {
  #id;
  #storage;
  #entry;
  constructor(token, id, storage, entry) {
    if (token !== INTERNAL) throw new TypeError('Illegal constructor');
    this.#id = id;
    this.#storage = storage;
    this.#entry = entry;
  }
  get id() { return this.#id; }
  get storage() { return this.#storage; }
  waitUntil(promise) {
    const add = waitUntilOf(H.currentInvocation());
    if (add !== undefined) add(promise);
  }
  /**
   * Runs fn with the object's input gate closed: no other event is delivered to this object until
   * the promise fn returns settles. If it rejects, the object is reset, as in Workers.
   */
  blockConcurrencyWhile(fn) {
    const entry = this.#entry;
    // How deeply calls are nested: a call made inside a callback (its async context) is one deeper.
    const frame = currentFrame();
    const depth = (valueIn(frame, BLOCK_DEPTH) ?? 0) + 1;
    if (depth > MAX_BLOCK_DEPTH) throw new Error('blockConcurrencyWhile() calls are nested too deeply.');
    let result;
    try {
      result = PromiseResolve(runInFrame(frameWith(frame, BLOCK_DEPTH, depth), fn, undefined, []));
    } catch (err) {
      result = Promise.reject(err);
    }
    shutGate(entry, result);
    // A rejected callback resets the object: the events running or waiting fail with its error,
    // marked durableObjectReset (as in workerd, also when the object catches the rejection).
    PromiseThen(result, undefined, (err) => { abortEntry(entry, err, true, resetError(err, false)); });
    return result;
  }
  /**
   * Resets the object, as Workers' ctx.abort(reason): the error is thrown here, every event of this
   * instance still queued behind its gates or still running fails with it, and the next event
   * constructs the object again (its committed storage is kept; what it wrote since its last
   * commit is dropped, as workerd cancels unflushed writes). {retryAlarm: false}: an alarm handler that
   * aborts is not retried.
   */
  abort(reason = undefined, options = undefined) {
    const err = reason instanceof Error ? reason : new Error(reason === undefined ? 'Durable object aborted' : `${reason}`);
    const retryAlarm = !(options !== undefined && options !== null && options.retryAlarm === false);
    discardWrites(this.#storage);
    abortEntry(this.#entry, err, retryAlarm, resetError(reason, true));
    throw err;
  }
  /** Loopback stubs to the worker's own entrypoints and durable object classes. */
  get exports() { return ctxExports(); }
  /** The facets of this object (issue 14): child objects of dynamic workers' classes, each with its own database. */
  get facets() {
    const entry = this.#entry;
    if (entry.facets === undefined) entry.facets = makeFacets(entry.object, (p) => this.waitUntil(p));
    return entry.facets;
  }
  // ---- the WebSocket Hibernation API: the node keeps these sockets while the object is gone.
  acceptWebSocket(ws, tags = undefined) {
    if (!socketInternals.isSocket(ws)) throw new TypeError("Failed to execute 'acceptWebSocket': parameter 1 is not of type 'WebSocket'.");
    const list = tags === undefined || tags === null ? [] : Array.from(tags, (t) => `${t}`);
    if (list.length > MAX_TAGS) throw new RangeError(`A WebSocket can have at most ${MAX_TAGS} tags; got ${list.length}.`);
    for (const t of list) {
      if (t.length > MAX_TAG_CHARS) throw new RangeError(`A WebSocket tag can be at most ${MAX_TAG_CHARS} characters long.`);
      if (t.includes('\n')) throw new TypeError('A WebSocket tag cannot contain a newline.');
    }
    const entry = this.#entry;
    if (hibernatableOf(entry).length >= MAX_HIBERNATABLE) {
      throw new RangeError(`too many WebSockets: a durable object can hold at most ${MAX_HIBERNATABLE} hibernatable WebSockets.`);
    }
    socketInternals.acceptHibernatable(ws, entry, entry.object, list);
    entry.pendingSockets.add(ws);
  }
  getWebSockets(tag = undefined) {
    const all = hibernatableOf(this.#entry);
    if (tag === undefined || tag === null) return all;
    tag = `${tag}`;
    return all.filter((ws) => socketInternals.hibernation(ws).tags.includes(tag));
  }
  getTags(ws) {
    const h = socketInternals.isSocket(ws) ? socketInternals.hibernation(ws) : null;
    if (h === null || h.entry !== this.#entry) throw new TypeError('getTags(): the WebSocket was not accepted with this object\'s acceptWebSocket().');
    return h.tags.slice();
  }
  setWebSocketAutoResponse(pair = undefined) {
    const entry = this.#entry;
    if (pair === undefined || pair === null) {
      entry.autoResponse = null;
      H.socketAutoResponse(entry.object.workerId, entry.object.className, entry.object.id, entry.object.name, null, null);
      return;
    }
    if (!(pair instanceof WebSocketRequestResponsePair)) {
      throw new TypeError("Failed to execute 'setWebSocketAutoResponse': parameter 1 is not of type 'WebSocketRequestResponsePair'.");
    }
    if (pair.request.length > 2048 || pair.response.length > 2048) {
      throw new RangeError('setWebSocketAutoResponse: request and response can be at most 2048 characters each.');
    }
    entry.autoResponse = pair;
    H.socketAutoResponse(entry.object.workerId, entry.object.className, entry.object.id, entry.object.name,
      pair.request, pair.response);
  }
  getWebSocketAutoResponse() { return this.#entry.autoResponse; }
  getWebSocketAutoResponseTimestamp(ws) { return null; }
  setHibernatableWebSocketEventTimeout(ms = undefined) {
    const entry = this.#entry;
    if (ms === undefined || ms === null) entry.eventTimeout = null;
    else {
      ms = Number(ms);
      if (!Number.isFinite(ms) || ms < 0 || ms > 604_800_000) throw new RangeError('The event timeout must be between 0 and 604800000 ms.');
      entry.eventTimeout = Math.trunc(ms);
    }
    H.socketEventTimeout(entry.object.className, entry.object.id, entry.eventTimeout ?? 0);
  }
  getHibernatableWebSocketEventTimeout() { return this.#entry.eventTimeout; }
}
Object.defineProperty(DurableObjectState.prototype, Symbol.toStringTag, { value: 'DurableObjectState', configurable: true });

const live = new Map(); // "<class>\n<id>" -> entry
// The async context key of blockConcurrencyWhile's nesting depth, and workerd's limit on it.
const BLOCK_DEPTH = Symbol('blockConcurrencyWhile depth');
const MAX_BLOCK_DEPTH = 64;
const gateDeadlines = new WeakMap(); // a blockConcurrencyWhile gate -> when the object is reset if it is still shut
let gateTimeout;
// Cloudflare's own words (what code and the Agents SDK's users match on).
const GATE_TIMEOUT_MESSAGE = 'A call to blockConcurrencyWhile() in a Durable Object waited for too long. '
  + 'The call was canceled and the Durable Object was reset.';
/** Workers' 30 s for a blockConcurrencyWhile callback (the sandbox's bulwark.objects.gateTimeoutMs). */
function gateTimeoutMs() {
  if (gateTimeout === undefined) gateTimeout = Number(H.gateTimeoutMs());
  return gateTimeout;
}

/**
 * Shuts the object's input gate until {@code promise} settles (blockConcurrencyWhile, and
 * storage.transaction() as workerd runs it inside one): no new event is delivered meanwhile.
 */
function shutGate(entry, promise) {
  const gate = PromiseThen(promise, () => undefined, () => undefined);
  gateDeadlines.set(gate, H.now() + gateTimeoutMs());
  entry.gates.push(gate);
  PromiseThen(gate, () => {
    const i = entry.gates.indexOf(gate);
    if (i >= 0) entry.gates.splice(i, 1);
  });
}

/**
 * storage.transaction()'s critical section: the gate, and Workers' 30 s for it (it runs in a
 * blockConcurrencyWhile there). The deadline is the transaction's event's own timer, since the
 * tasks of the object's other events wait while it is open: past it, what the transaction wrote
 * is dropped and the object is reset, as when a gate is shut too long; its storage is closed
 * under the old instance, whose closure may still run (the next event opens it again).
 */
function transactionGate(entry, storage, promise) {
  shutGate(entry, promise);
  const timer = setTimeout(() => {
    closeStorage(storage);
    abortEntry(entry, new Error(GATE_TIMEOUT_MESSAGE), true);
  }, gateTimeoutMs());
  PromiseThen(promise, () => clearTimeout(timer));
}

/**
 * Waits until the object's input gates are open. A gate shut past its deadline resets the object,
 * as Workers do after 30 s ("To help mitigate deadlocks there is a 30 second timeout applied when
 * executing the callback"): the instance is dropped, this event and every other one waiting fail
 * with the reason, the next event constructs the object again. The timer is the waiting event's own:
 * the blocking invocation may be gone (its wall-clock limit ended it, and its timers with it).
 */
async function gatesOpen(entry) {
  while (entry.gates.length > 0) {
    const gate = entry.gates[0];
    const left = gateDeadlines.get(gate) - H.now();
    let timer;
    const expired = left <= 0 || await new PromiseCtor((resolve) => {
      timer = setTimeout(() => resolve(true), left);
      PromiseThen(gate, () => resolve(false));
    });
    if (timer !== undefined) clearTimeout(timer);
    if (expired && entry.gates[0] === gate) {
      abortEntry(entry, new Error(GATE_TIMEOUT_MESSAGE), true);
      entry.gates.length = 0;
    }
  }
}
const entryOfInstance = new WeakMap(); // instance -> entry

// An object's outbound WebSockets (client ends its events accepted) are the object's, as in
// workerd, where they belong to the actor's one IoContext: they outlive the request that opened
// them and close when the object goes.
setOutboundOwner({
  claimed(ws, invocationId) {
    const entry = contextOf(invocationId);
    if (entry === undefined || entry === null || entry.outbound === undefined) return undefined;
    for (const old of entry.outbound) if (old.readyState === 3) entry.outbound.delete(old); // closed ones go
    entry.outbound.add(ws);
    return entry;
  },
  connecting(handshake) {
    const invocationId = Number(H.currentInvocation());
    const entry = contextOf(invocationId);
    const waitUntil = waitUntilOf(invocationId);
    if (entry !== undefined && entry !== null && entry.outbound !== undefined && waitUntil !== undefined) waitUntil(handshake);
  },
  current() {
    const entry = contextOf(Number(H.currentInvocation()));
    return entry !== undefined && entry !== null && entry.outbound !== undefined ? entry : undefined;
  },
});

/** The object is gone: its outbound WebSockets close (their servers hear 1001), silently. */
function dropOutbound(entry, reason) {
  for (const ws of entry.outbound) socketInternals.abandon(ws, reason);
  entry.outbound.clear();
}
const noAlarmRetry = new WeakSet(); // abort errors thrown with {retryAlarm: false}

function abortEntry(entry, err, retryAlarm, forCallers = err) {
  // The callee's own code sees err; events that fail because of it (and so their callers through
  // stubs) see forCallers (remote-errors.js' resetError).
  if (entry.aborted === undefined) { entry.aborted = err; entry.abortedForCallers = forCallers; }
  entry.broken = true;
  // What its events exported dies with it (calls on it fail with the reason; caps.js).
  endContext(entry, entry.abortedForCallers);
  dropOutbound(entry, 'the durable object was reset');
  if (!retryAlarm && typeof err === 'object' && err !== null) { noAlarmRetry.add(err); noAlarmRetry.add(forCallers); }
  const key = `${entry.object.className}\n${entry.object.id}`;
  if (live.get(key) === entry) live.delete(key);
}

/** The reason an event on {@code instance} must fail with because the object was aborted meanwhile, or undefined. */
export function abortedReason(instance) {
  const entry = instance === null || typeof instance !== 'object' ? undefined : entryOfInstance.get(instance);
  return entry === undefined ? undefined : entry.abortedForCallers;
}

/**
 * What an event on {@code instance} awaits ({@code promise}), rejected by the object's reset if that
 * comes first: workerd aborts the events still running with the actor's IoContext. (rpc.js' race.)
 */
export function raceReset(promise, instance) {
  const entry = instance === null || typeof instance !== 'object' ? undefined : entryOfInstance.get(instance);
  return entry === undefined ? promise : raceContext(entry, promise);
}

/** Whether an alarm handler's error is an abort that asked for no retry. */
export function abortWithoutRetry(err) {
  return typeof err === 'object' && err !== null && noAlarmRetry.has(err);
}
const MAX_TAGS = 10, MAX_TAG_CHARS = 256, MAX_HIBERNATABLE = 32768;

/** The object's hibernatable sockets that are still open: accepted ones first, then the bound ones. */
function hibernatableOf(entry) {
  const out = [];
  for (const ws of entry.pendingSockets) {
    if (socketInternals.id(ws) === null && ws.readyState !== 3) out.push(ws);
  }
  for (const ws of entry.socketsById.values()) if (ws.readyState !== 3) out.push(ws);
  return out;
}
const invocationWaitUntil = new Map(); // invocationId -> waitUntil(promise)

export function registerWaitUntil(invocationId, fn) { invocationWaitUntil.set(invocationId, fn); }
export function forgetWaitUntil(invocationId) { invocationWaitUntil.delete(invocationId); }
export function waitUntilOf(invocationId) { return invocationWaitUntil.get(Number(invocationId)); }

/**
 * The live object for an address, made (its constructor run) on its first event; an object whose
 * constructor threw or whose blockConcurrencyWhile callback failed is made again next time.
 */
function objectEntry(exportsNs, env, workerId, className, hex, name, storageHandle) {
  const key = `${className}\n${hex}`;
  let entry = live.get(key);
  if (entry !== undefined && !entry.broken) return entry;
  const cls = exportsNs[className];
  if (typeof cls !== 'function') throw new TypeError(`The worker does not export a durable object class named '${className}'.`);
  entry = { instance: null, gates: [], broken: false, pendingSockets: new Set(), socketsById: new Map(), outbound: new Set(),
    object: { workerId, className, id: hex, name: name === null ? null : name }, autoResponse: null, eventTimeout: null };
  // The hibernatable sockets the node kept for this object come back before its constructor runs.
  const kept = H.socketList(className, hex);
  for (let i = 0; i + 2 < kept.length; i += 3) {
    const tags = kept[i + 1] === '' ? [] : kept[i + 1].split('\n');
    entry.socketsById.set(kept[i], socketInternals.restored(kept[i], tags, kept[i + 2], entry, entry.object));
  }
  const id = new DurableObjectId(INTERNAL, hex, name === null ? undefined : name, `${workerId}\n${className}`);
  const storage = createStorage(storageHandle, (promise) => transactionGate(entry, storage, promise));
  const state = new DurableObjectState(INTERNAL, id, storage, entry);
  live.set(key, entry);
  try {
    entry.instance = new cls(state, env);
    if (entry.instance !== null && typeof entry.instance === 'object') entryOfInstance.set(entry.instance, entry);
  } catch (err) {
    live.delete(key);
    throw err;
  }
  return entry;
}

/**
 * A facet was aborted or deleted by its supervisor (through the node): its instance is dropped,
 * every event of it still running fails with the reason, the next event constructs it again.
 */
export function resetObject(className, hex, reason) {
  const entry = live.get(`${className}\n${hex}`);
  if (entry !== undefined) abortEntry(entry, new Error(reason === null || reason === undefined ? 'The facet was aborted.' : `${reason}`), true);
}

/** The host evicted an idle object: drop its instance; its next event constructs it again. */
export function evictObject(className, hex) {
  const key = `${className}\n${hex}`;
  const entry = live.get(key);
  if (entry !== undefined) dropOutbound(entry, 'the durable object was evicted');
  live.delete(key);
}

/** The object an event ({@code invocationId}) is for, once its gates are open. */
export async function objectReceiver(target, env, invocationId) {
  const entry = objectEntry(target.exports, env, target.workerId, target.className, target.id, target.name,
    target.storage);
  enterContext(invocationId, entry); // what the event exports is the object's
  if (entry.gates.length > 0) await gatesOpen(entry); // no turn given up when no gate is shut
  if (entry.aborted !== undefined) throw entry.abortedForCallers;
  if (entry.broken) throw new Error('The durable object was reset because its initialization failed.');
  return entry.instance;
}

/** Delivers a fetch event to an object once its gates are open; resolves to its Response. */
export async function objectFetch(target, env, request, invocationId) {
  const instance = await objectReceiver(target, env, invocationId);
  if (instance === null || typeof instance.fetch !== 'function') {
    throw new TypeError('Handler does not export a fetch() function.');
  }
  let response;
  try {
    response = await raceReset(instance.fetch(request), instance);
  } catch (err) {
    const aborted = abortedReason(instance);
    throw aborted !== undefined ? aborted : err;
  }
  const aborted = abortedReason(instance);
  if (aborted !== undefined) throw aborted;
  return response;
}

/**
 * A connect event for an object (a stub's connect()): the object's connect(socket), as workerd's
 * actors have it, run as its fetch() is (its gates, its reset); throws workerd's error without one.
 */
export async function objectConnect(target, env, invocationId) {
  const instance = await objectReceiver(target, env, invocationId);
  if (instance === null || typeof instance.connect !== 'function') {
    throw new Error('Handler does not export a connect() function.');
  }
  return async (socket) => {
    try {
      await raceReset(instance.connect(socket), instance);
    } catch (err) {
      const aborted = abortedReason(instance);
      throw aborted !== undefined ? aborted : err;
    }
  };
}

/** Delivers a WebSocket event to an object once its gates are open. */
export async function objectSocketEvent(target, env, invocationId) {
  const entry = objectEntry(target.exports, env, target.workerId, target.className, target.id, target.name,
    target.storage);
  enterContext(invocationId, entry);
  if (entry.gates.length > 0) await gatesOpen(entry); // no turn given up when no gate is shut
  if (entry.aborted !== undefined) throw entry.aborted;
  if (entry.broken) throw new Error('The durable object was reset because its initialization failed.');
  const ev = target.socket;
  const ws = entry.socketsById.get(ev.id);
  if (ws !== undefined) {
    await deliverToObject(entry.instance, ws, ev);
    return null;
  }
  return deliverToListeners(ev);
}
