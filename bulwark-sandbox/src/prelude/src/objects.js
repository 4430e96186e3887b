// Durable objects inside an isolate: ids, namespace bindings and their stubs (the caller's side),
// and the live objects of this isolate with their state (the callee's side). Objects of one
// class share the class's isolate, as in workerd; what is per object is its instance, its
// storage and its gate.
import { H } from './host.js';
import { PromiseCtor, PromiseResolve, PromiseThen, ReflectApply } from './util.js';
import { Request, requestInternals } from './request.js';
import { responseInternals } from './response.js';
import { headersToPairs } from './headers.js';
import { createStorage } from './storage.js';
import { stubHandler } from './rpc.js';

// Constructors below refuse callers that do not hold this: user code can name the classes
// (ctx.id.constructor) but never make one, so it can never forge an id or a stub.
const INTERNAL = Symbol('internal');

function joinHeaderLines(pairs) {
  let out = '';
  for (let i = 0; i < pairs.length; i++) out += (i === 0 ? '' : '\n') + pairs[i][0] + '\n' + pairs[i][1];
  return out;
}

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

export class DurableObjectNamespace {
  #binding; // the index of this binding in the worker's bindings (the host resolves it)
  #namespace;
  constructor(token, binding, namespace) {
    if (token !== INTERNAL) throw new TypeError('Illegal constructor');
    this.#binding = binding;
    this.#namespace = namespace;
  }
  idFromName(name) {
    if (arguments.length < 1) throw new TypeError("Failed to execute 'idFromName' on 'DurableObjectNamespace': parameter 1 is not of type 'string'.");
    name = `${name}`;
    return new DurableObjectId(INTERNAL, H.objectId(this.#binding, 'name', name), name, this.#namespace);
  }
  newUniqueId(options = undefined) {
    if (options !== undefined && options !== null && options.jurisdiction !== undefined) {
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
  constructor(token, binding, id) {
    if (token !== INTERNAL) throw new TypeError('Illegal constructor');
    this.#binding = binding;
    this.#id = id;
  }
  get id() { return this.#id; }
  get name() { return this.#id.name; }
  fetch(input, init = undefined) {
    const binding = this.#binding, id = this.#id;
    return new PromiseCtor((resolve, reject) => {
      const request = new Request(input, init);
      const body = requestInternals.body(request);
      const url = requestInternals.url(request);
      PromiseThen(body === null ? PromiseResolve(null) : body.consume(), (bytes) => {
        const pending = H.callObject(binding, id.toString(), id.name ?? null, requestInternals.method(request), url,
          joinHeaderLines(headersToPairs(requestInternals.headers(request))), bytes);
        PromiseThen(pending, (result) => {
          try {
            resolve(responseInternals.fromHost(result, url));
          } catch (err) {
            reject(err);
          }
        }, reject);
      }, reject);
    });
  }
  connect() {
    throw new TypeError('connect() to a durable object is not supported');
  }
  /** How RPC calls on this stub reach its object. */
  static sender(stub) {
    const binding = stub.#binding, id = stub.#id;
    return (method, args) => H.rpcObject(binding, id.toString(), id.name ?? null, method, args);
  }
}
Object.defineProperty(DurableObjectStub.prototype, Symbol.toStringTag, { value: 'DurableObjectStub', configurable: true });

// Any other member of a stub is an RPC property of the object.
const objectStubHandler = stubHandler(new Set(['fetch', 'connect', 'id', 'name']),
  (stub) => DurableObjectStub.sender(stub));

function makeStub(binding, id) {
  return new Proxy(new DurableObjectStub(INTERNAL, binding, id), objectStubHandler);
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
    let result;
    try {
      result = PromiseResolve(fn());
    } catch (err) {
      result = Promise.reject(err);
    }
    const gate = PromiseThen(result, () => undefined, () => undefined);
    entry.gates.push(gate);
    PromiseThen(gate, () => {
      const i = entry.gates.indexOf(gate);
      if (i >= 0) entry.gates.splice(i, 1);
    });
    PromiseThen(result, undefined, () => { entry.broken = true; });
    return result;
  }
  abort(reason = undefined) {
    this.#entry.broken = true;
    throw reason instanceof Error ? reason : new Error(reason === undefined ? 'Durable object aborted' : `${reason}`);
  }
  acceptWebSocket() { throw new TypeError('WebSockets are not supported by Bulwark yet'); }
  getWebSockets() { return []; }
}
Object.defineProperty(DurableObjectState.prototype, Symbol.toStringTag, { value: 'DurableObjectState', configurable: true });

const live = new Map(); // "<class>\n<id>" -> entry
const invocationWaitUntil = new Map(); // invocationId -> waitUntil(promise)

export function registerWaitUntil(invocationId, fn) { invocationWaitUntil.set(invocationId, fn); }
export function forgetWaitUntil(invocationId) { invocationWaitUntil.delete(invocationId); }
function waitUntilOf(invocationId) { return invocationWaitUntil.get(Number(invocationId)); }

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
  entry = { instance: null, gates: [], broken: false };
  const id = new DurableObjectId(INTERNAL, hex, name === null ? undefined : name, `${workerId}\n${className}`);
  const state = new DurableObjectState(INTERNAL, id, createStorage(storageHandle), entry);
  live.set(key, entry);
  try {
    entry.instance = new cls(state, env);
  } catch (err) {
    live.delete(key);
    throw err;
  }
  return entry;
}

/** The host evicted an idle object: drop its instance; its next event constructs it again. */
export function evictObject(className, hex) {
  live.delete(`${className}\n${hex}`);
}

/** The object an event is for, once its gates are open. */
export async function objectReceiver(target, env) {
  const entry = objectEntry(target.exports, env, target.workerId, target.className, target.id, target.name,
    target.storage);
  while (entry.gates.length > 0) await entry.gates[0];
  if (entry.broken) throw new Error('The durable object was reset because its initialization failed.');
  return entry.instance;
}

/** Delivers a fetch event to an object once its gates are open; resolves to its Response. */
export async function objectFetch(target, env, request) {
  const instance = await objectReceiver(target, env);
  if (instance === null || typeof instance.fetch !== 'function') {
    throw new TypeError('Handler does not export a fetch() function.');
  }
  return await instance.fetch(request);
}
