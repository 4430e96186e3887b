// Durable Object facets (issue 14): `this.ctx.facets` of a durable object, as Cloudflare's.
// `get(name, callback)` returns a stub at once; the callback ({class, id?}) runs when the facet is
// not running (first use, after abort, after its code was evicted). A facet is an instance of a
// class a dynamic worker exports, run in the tenant's sandbox for generated code with its own
// SQLite database (keyed by the parent's id and the name, so a new code version sees the old
// data). Every call goes through the node, which checks that the calling object is the facet's
// parent (whatever this sandbox claims) and keeps the facet's records. A deployed worker's object
// may also start facets of its worker's own classes (ctx.exports.X of a class with no namespace,
// the Agents SDK's sub-agents): objects of that worker, run beside it, keyed by the same derived id.
import { H } from './host.js';
import { PromiseCtor, PromiseResolve, PromiseThen } from './util.js';
import { stubHandler, stubFetch } from './rpc.js';
import { resolveDurableObjectClass, forgetDurableObjectClass } from './loader.js';
import { registerAddressStub } from './caps.js';
import { DOMException } from './dom-exception.js';
import { registerNonSerializable } from './structured-clone.js';

/** Every facet stub made: structuredClone() refuses them too (RPC refuses them as address stubs). */
const FACET_STUBS = new WeakSet();
registerNonSerializable((v) => FACET_STUBS.has(v));

const INTERNAL = Symbol('internal');
const MAX_NAME_CHARS = 128;
const MAX_DEPTH = 4;
const DYNAMIC_PREFIX = 'dyn-';

function checkName(name, what) {
  if (typeof name !== 'string' || name === '') throw new TypeError(`${what}: a facet name must be a non-empty string.`);
  if (name.length > MAX_NAME_CHARS) throw new TypeError(`${what}: a facet name can be at most ${MAX_NAME_CHARS} characters long.`);
  // NUL is allowed: the Agents SDK names a sub-agent's facet `${className}\0${name}` (a name is
  // never a file name here: a facet's file is named by a hash).
  // eslint-disable-next-line no-control-regex
  if (/[\u0001-\u001f\u007f-\u009f]/.test(name)) throw new TypeError(`${what}: a facet name cannot contain control characters.`);
  if (name.includes('/')) throw new TypeError(`${what}: a facet name cannot contain '/'.`);
}

function depthOf(object) {
  if (!object.workerId.startsWith(DYNAMIC_PREFIX)) return 1;
  let d = 2;
  for (const c of object.name ?? '') if (c === '/') d++;
  return d;
}

/**
 * The name of the facet's ctx.id, from the callback's {@code id} (as workerd's: the facet's ctx.id
 * is that id; without one, the parent's): a DurableObjectId's name, null for an id without one (a
 * string, a unique id). Only a facet of a deployed worker's own class uses it (see FacetHost).
 */
function idNameOf(id, parentName) {
  if (id === undefined || id === null) return parentName ?? null;
  if (typeof id === 'object' && typeof id.name === 'string') return id.name;
  if (typeof id === 'object' || typeof id === 'string') return null;
  throw new TypeError("The facet callback's 'id' must be a DurableObjectId or a string.");
}

function reasonError(reason, fallback) {
  if (reason instanceof Error) return reason;
  return new Error(reason === undefined ? fallback : `${reason}`);
}

/**
 * One start of one facet: what its callback gave, resolved to the dynamic worker and class. A
 * stub is bound to the start it was made under: after abort or delete it throws the reason, and
 * a new get() makes a new start.
 */
class Start {
  constructor(callback, parentName) {
    this.callback = callback;
    this.parentName = parentName;
    this.resolved = null; // Promise<{workerId, className, cls}>
    this.aborted = undefined;
    this.waiters = new Set(); // reject functions of calls in flight
  }
  target() {
    if (this.resolved !== null) return this.resolved;
    const p = (async () => {
      const options = await this.callback();
      if (options === null || typeof options !== 'object') {
        throw new TypeError('The facet callback must return an object {class, id?}.');
      }
      const cls = options.class;
      const resolving = resolveDurableObjectClass(cls);
      if (resolving === null) {
        throw new TypeError("The facet callback's 'class' must be a DurableObjectClass (from a WorkerStub's getDurableObjectClass()).");
      }
      const { workerId, className } = await resolving;
      return { workerId, className, cls, idName: idNameOf(options.id, this.parentName) };
    })();
    this.resolved = p;
    // A callback that failed is run again on the next call (it did not start the facet).
    PromiseThen(p, undefined, () => { if (this.resolved === p) this.resolved = null; });
    return p;
  }
  abort(err) {
    if (this.aborted !== undefined) return;
    this.aborted = err;
    for (const reject of this.waiters) reject(err);
    this.waiters.clear();
  }
  /** Runs {@code op(workerId, className, idName)}; fails at once with the abort reason if the facet is aborted meanwhile. */
  send(op) {
    if (this.aborted !== undefined) return Promise.reject(this.aborted);
    return new PromiseCtor((resolve, reject) => {
      this.waiters.add(reject);
      const attempt = (retried) => PromiseThen(this.target(), (t) => PromiseThen(op(t.workerId, t.className, t.idName), undefined, (err) => {
        // The dynamic worker was evicted meanwhile: load it again once.
        if (retried || !err || err.code !== 'not_found' || this.aborted !== undefined) throw err;
        forgetDurableObjectClass(t.cls, t.workerId);
        if (this.resolved !== null) this.resolved = null;
        return attempt(true);
      }));
      PromiseThen(attempt(false), (v) => { this.waiters.delete(reject); resolve(v); },
        (err) => { this.waiters.delete(reject); reject(err); });
    });
  }
}

class FacetStub {
  #parent;
  #name;
  #start;
  constructor(token, parent, name, start) {
    if (token !== INTERNAL) throw new TypeError('Illegal constructor');
    this.#parent = parent;
    this.#name = name;
    this.#start = start;
  }
  fetch(input, init = undefined) {
    const p = this.#parent, name = this.#name, start = this.#start;
    return stubFetch(input, init, (method, url, headerLines, bytes) => start.send((workerId, className, idName) =>
      H.facetCall(p.workerId, p.className, p.id, p.name, name, workerId, className, idName, method, url, headerLines, bytes)));
  }
  connect() {
    throw new TypeError('connect() to a facet is not supported');
  }
  static sender(stub) {
    const p = stub.#parent, name = stub.#name, start = stub.#start;
    return (method, args) => start.send((workerId, className, idName) =>
      H.facetRpc(p.workerId, p.className, p.id, p.name, name, workerId, className, idName, method, args));
  }
}
Object.defineProperty(FacetStub.prototype, Symbol.toStringTag, { value: 'Fetcher', configurable: true });

const facetStubHandler = stubHandler(new Set(['fetch', 'connect']), (stub) => FacetStub.sender(stub));

export class DurableObjectFacets {
  #parent; // {workerId, className, id, name}: the object these facets belong to
  #starts = new Map(); // name -> Start
  #waitUntil; // the calling event's waitUntil: an abort outlives the event's response
  constructor(token, parent, waitUntil) {
    if (token !== INTERNAL) throw new TypeError('Illegal constructor');
    this.#parent = parent;
    this.#waitUntil = waitUntil;
  }
  /**
   * A stub on the facet {@code name}; {@code callback} ({@code () => ({class, id?})}, may be async)
   * runs when the facet is not running, on the stub's first use.
   */
  get(name, callback) {
    checkName(name, 'facets.get()');
    if (typeof callback !== 'function') throw new TypeError('facets.get(): parameter 2 must be a function returning {class}.');
    if (depthOf(this.#parent) + 1 > MAX_DEPTH) {
      throw new RangeError(`facets.get(): facets can be nested at most ${MAX_DEPTH} deep, counting the root object.`);
    }
    let start = this.#starts.get(name);
    if (start === undefined) {
      start = new Start(callback, this.#parent.name);
      this.#starts.set(name, start);
    }
    const stub = new Proxy(new FacetStub(INTERNAL, this.#parent, name, start), facetStubHandler);
    // A facet stub cannot be passed on (in RPC, in a dynamic worker's env): only its parent reaches it.
    registerAddressStub(stub, () => { throw new DOMException('A facet stub could not be cloned: facet stubs are not serializable.', 'DataCloneError'); });
    FACET_STUBS.add(stub);
    return stub;
  }
  /**
   * Stops the facet: its open stubs throw {@code reason}, its running events fail, its storage is
   * kept; the next get() runs its callback again (a new code version sees the old data).
   */
  abort(name, reason = undefined) {
    checkName(name, 'facets.abort()');
    // As Cloudflare's, abort() returns nothing; the next get() waits until the node finished it.
    PromiseThen(this.#reset(name, reasonError(reason, 'The facet was aborted.'), 'abort'), undefined, () => undefined);
  }
  /** Aborts the facet and deletes its database. */
  delete(name) {
    checkName(name, 'facets.delete()');
    return this.#reset(name, new Error('The facet was deleted.'), 'delete');
  }
  #reset(name, err, op) {
    const start = this.#starts.get(name);
    this.#starts.delete(name);
    if (start !== undefined) start.abort(err);
    const p = this.#parent;
    // Sent now: the node takes the facet's calls sent after it only once it is done.
    let done;
    try {
      done = H.facetControl(p.workerId, p.className, p.id, p.name, name, op);
    } catch (e) {
      done = Promise.reject(e);
    }
    // The node's answer must reach this isolate: the event that aborted stays until it has.
    this.#waitUntil(PromiseThen(done, () => undefined, () => undefined));
    return PromiseThen(done, () => undefined);
  }
}
Object.defineProperty(DurableObjectFacets.prototype, Symbol.toStringTag, { value: 'DurableObjectFacets', configurable: true });

export function makeFacets(parent, waitUntil) {
  return new DurableObjectFacets(INTERNAL, parent, waitUntil);
}
