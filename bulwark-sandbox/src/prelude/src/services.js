// Service bindings (env.SERVICE), ctx.exports (loopback stubs to the worker's own entrypoints and
// durable object classes) and a dynamic worker's globalOutbound fetcher: all are Fetchers with
// fetch() and JS RPC to a worker's entrypoint, routed through the node.
//
// A stub holds a descriptor only this module can read (a WeakMap, never a property): the index
// of a service binding in the worker's bindings, or, for ctx.exports, the entrypoint name and the
// props the granter fixed (serialized). The host resolves a binding index against the bindings of
// the worker loaded in this isolate, so JS can name nothing it was not given, and the props of a
// binding never reach this isolate at all: they travel with the call to the callee, which alone
// sees them as ctx.props.
import { H } from './host.js';
import { isObjectLike, protoChainHas } from './util.js';
import { rpcProperty, stubFetch } from './rpc.js';
import { WorkerEntrypoint, DurableObject } from './runtime-classes.js';
import { registerAddressStub, serviceRef, encodeProps, propsForCall } from './caps.js';
import { DOMException } from './dom-exception.js';
import { ownDurableObjectClass } from './loader.js';
import { fetcherConnect } from './sockets.js';

const DESCRIPTORS = new WeakMap(); // stub -> { index, entrypoint, props }
const SELF = -1; // index of a ctx.exports stub: the worker's own entrypoint
const LOOPBACK_NOT_SERIALIZABLE = () => new DOMException('Could not serialize object of type "LoopbackServiceStub". '
  + 'This type does not support serialization.', 'DataCloneError');

function send(d) {
  return (method, args) => H.serviceRpc(d.index, d.entrypoint, propsForCall(d.props), method, args);
}

/** connect(address, options): a socket to the entrypoint's connect handler (sockets.js). */
function serviceConnect(d, address, options) {
  return fetcherConnect((method, url, headerLines, token) =>
    H.serviceCall(d.index, d.entrypoint, propsForCall(d.props), method, url, headerLines, token), address, options);
}

function serviceFetch(d, input, init) {
  return stubFetch(input, init, (method, url, headerLines, bytes) =>
    H.serviceCall(d.index, d.entrypoint, propsForCall(d.props), method, url, headerLines, bytes));
}

// The stub's own members; every other string member is an RPC property of the entrypoint.
const OWN = new Set(['fetch', 'connect']);

function memberOf(d, prop) {
  if (prop === 'fetch') return (input, init = undefined) => serviceFetch(d, input, init);
  if (prop === 'connect') return (address, options = undefined) => serviceConnect(d, address, options);
  return undefined;
}

function makeHandler(d, specializable) {
  return {
    get(target, prop) {
      if (typeof prop === 'symbol') {
        if (prop === Symbol.toStringTag) return 'Fetcher';
        return undefined;
      }
      if (OWN.has(prop)) return memberOf(d, prop);
      // Not forwarded: a stub is not a thenable, and JSON.stringify must not make an RPC call.
      if (prop === 'then' || prop === 'toJSON') return undefined;
      return rpcProperty(send(d), prop);
    },
    has(target, prop) { return OWN.has(prop); },
    ownKeys() { return []; },
    getOwnPropertyDescriptor() { return undefined; },
    defineProperty() { return false; },
    set() { return false; },
    deleteProperty() { return false; },
    getPrototypeOf() { return FetcherProto; },
    setPrototypeOf() { return false; },
    apply(target, thisArg, args) {
      if (!specializable) throw new TypeError('A service binding is not a function.');
      return specialize(d, args[0]);
    },
    construct() { throw new TypeError('Illegal constructor'); },
  };
}

// What `stub instanceof Fetcher`-style checks see; the class itself cannot make stubs.
class Fetcher {
  constructor() { throw new TypeError('Illegal constructor'); }
}
const FetcherProto = Fetcher.prototype;
Object.defineProperty(FetcherProto, Symbol.toStringTag, { value: 'Fetcher', configurable: true });

function makeStub(d, specializable) {
  // A function target so that a ctx.exports entrypoint can be called to specialize it (an arrow:
  // no non-configurable `prototype`, so the proxy may show no own keys at all).
  const stub = new Proxy(() => {}, makeHandler(d, specializable));
  DESCRIPTORS.set(stub, d);
  // Passed in RPC arguments, results or a dynamic worker's env, it crosses by its address and
  // grant, which the host resolves from the descriptor (JS never learns them). ctx.exports.X itself
  // does not cross (workerd's LoopbackServiceStub): only what calling it makes, ctx.exports.X({props}).
  registerAddressStub(stub, specializable ? () => { throw LOOPBACK_NOT_SERIALIZABLE(); } : () => serviceRef(d));
  return stub;
}

/** ctx.exports.Name({props}): the same entrypoint with props the callee will see as ctx.props. */
function specialize(d, options) {
  if (options !== undefined && options !== null && !isObjectLike(options)) {
    throw new TypeError('ctx.exports entrypoints take one argument: an options object {props}');
  }
  const props = options === undefined || options === null || options.props === undefined
    ? null : encodeProps(options.props);
  return makeStub({ index: d.index, entrypoint: d.entrypoint, props }, false);
}

/** env.NAME for service binding {@code index}. */
export function makeService(index) {
  return makeStub({ index, entrypoint: null, props: null }, false);
}

/** cloudflare:workers' ServiceStub: what a service binding or ctx.exports entrypoint is an instance of. */
export class ServiceStub {
  constructor() { throw new TypeError('Illegal constructor'); }
  static [Symbol.hasInstance](v) { return serviceDescriptor(v) !== undefined; }
}

/** The descriptor of a service or ctx.exports stub (for globalOutbound and tails), or undefined. */
export function serviceDescriptor(value) {
  return isObjectLike(value) ? DESCRIPTORS.get(value) : undefined;
}

function isSubclassOf(cls, base) {
  return typeof cls === 'function' && protoChainHas(cls.prototype, base.prototype);
}

let selfExports = Object.freeze({});

/**
 * Fills the worker's loopback exports (ctx.exports, and `exports` of cloudflare:workers) once its
 * main module has been evaluated: every WorkerEntrypoint class and every handler object it
 * exports, the default too, as a stub to itself; every durable object class that has a
 * namespace ({@code namespaces}: class name -> DurableObjectNamespace) as that namespace.
 */
export function linkExports(namespace, loopback, namespaces, workerId) {
  for (const name of Object.keys(namespace)) {
    let value;
    try { value = namespace[name]; } catch { continue; }
    if (isSubclassOf(value, DurableObject)) {
      if (namespaces[name] !== undefined) loopback[name] = namespaces[name];
      // A class with no namespace (as workerd with enable_ctx_exports): a DurableObjectClass, usable
      // only as a facet's class. A dynamic worker's facets run it in the sandbox for generated
      // code; a deployed worker's run where their parent runs (a sub-agent of the Agents SDK).
      else if (typeof workerId === 'string') loopback[name] = ownDurableObjectClass(workerId, name);
    } else if (isSubclassOf(value, WorkerEntrypoint) || (isObjectLike(value) && typeof value !== 'function')) {
      // Any object is a handler, as workerd's: RPC reaches its own functions (rpc.js's HandlerObject).
      loopback[name] = makeStub({ index: SELF, entrypoint: name === 'default' ? null : name, props: null }, true);
    }
  }
  Object.freeze(loopback);
  selfExports = loopback;
}

/**
 * For the startup snapshot only (runtime.js's warmRequestPath): linkExports run once for a
 * throwaway handler, so its code and a stub's are compiled in the snapshot, not by every load;
 * ctx.exports is then what it was. The stub made is reachable from nothing.
 */
export function warmLinkExports() {
  const before = selfExports;
  linkExports({ default: { fetch() {} } }, {}, {}, undefined);
  selfExports = before;
}

/** ctx.exports of this isolate's worker. */
export function ctxExports() {
  return selfExports;
}

let outbound = null;

/** The worker's globalOutbound is a fetcher (binding {@code index}): fetch() goes to it. */
export function setGlobalOutbound(index) {
  outbound = { index, entrypoint: null, props: null };
}

/** fetch() through the globalOutbound fetcher, or null when the worker has none. */
export function outboundFetch(input, init) {
  return outbound === null ? null : serviceFetch(outbound, input, init);
}

/** connect() of cloudflare:sockets through the globalOutbound fetcher (the worker has one). */
export function outboundConnect(address, options) {
  return serviceConnect(outbound, address, options);
}

/** Whether the worker's fetch() goes to a globalOutbound fetcher. */
export function hasGlobalOutbound() {
  return outbound !== null;
}
