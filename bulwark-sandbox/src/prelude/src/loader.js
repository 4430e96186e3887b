// The Worker Loader binding (env.LOADER): get(id, getCode) and load(code) return a WorkerStub
// at once; the code is shaped and checked here, loaded by the node into the tenant's sandbox for
// generated code on the first call, and cached by id per parent worker. A dynamic worker the
// node evicted is loaded again from getCode on the next call: eviction costs time, nothing else.
import { H } from './host.js';
import { PromiseResolve, PromiseReject, PromiseThen, ArrayIsArray, isArrayBuffer, isArrayBufferView, viewBytes, append } from './util.js';
import { utf8Encode } from './encoding.js';
import { stubHandler, stubFetch } from './rpc.js';
import { registerAddressStub, workerRef, isCapValue, encodeEnvCaps, encodeProps, propsForCall, propsPassedOn, objectStubOf } from './caps.js';
import { serviceDescriptor } from './services.js';
import { currentInvocation } from './timers.js';
import { fetcherConnect } from './sockets.js';

const INTERNAL = Symbol('internal');
// As WorkerCode.MAX_CODE_BYTES (Workers' 64 MiB): the code travels to the node in chunks.
const MAX_CODE_BYTES = 64 * 1024 * 1024;
const MAX_ENV_BYTES = 1024 * 1024;
const MODULE_KINDS = ['js', 'cjs', 'text', 'data', 'json', 'wasm', 'py'];


function codeError(message) {
  return new TypeError(`Invalid WorkerCode: ${message}`);
}

// workerd's words (and plain Error) for code or env over the limits: its loader tests match them.
function codeSizeError(bytes) {
  return new Error(`Dynamic Worker code size (${bytes} bytes) exceeds the maximum allowed size of ${MAX_CODE_BYTES} bytes.`);
}
function envSizeError(bytes) {
  return new Error(`Dynamic Worker env size (${bytes} bytes) exceeds the maximum allowed size of ${MAX_ENV_BYTES} bytes.`);
}
const TYPESCRIPT = /\.(ts|tsx|mts|cts|jsx)$/;

function checkDate(date) {
  if (typeof date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(date)) {
    throw codeError(`compatibilityDate must be a date of the form YYYY-MM-DD, got ${JSON.stringify(date)}`);
  }
  const d = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== date) {
    throw codeError(`compatibilityDate ${date} is not a valid date`);
  }
  if (d.getTime() > Date.now() + 86400000) throw codeError(`compatibilityDate ${date} is in the future`);
}

function moduleBytes(value) {
  if (isArrayBuffer(value)) return new Uint8Array(value.slice(0));
  if (isArrayBufferView(value)) return viewBytes(value).slice();
  return null;
}

/** WorkerCode → what the host takes: {mainModule, names, types, contents, env, network, cpuMs?, subRequests?}. */
function shape(code) {
  if (code === null || typeof code !== 'object') throw codeError('the code callback must return a WorkerCode object');
  checkDate(code.compatibilityDate);
  // The flags switch on what they do for a deployed worker (nodejs_compat, ...): the host checks their count and length.
  const flags = [];
  if (code.compatibilityFlags !== undefined && code.compatibilityFlags !== null) {
    if (!ArrayIsArray(code.compatibilityFlags)) throw codeError('compatibilityFlags must be an array of strings');
    for (const f of code.compatibilityFlags) {
      if (typeof f !== 'string') throw codeError('compatibilityFlags must be an array of strings');
      append(flags, f);
    }
  }
  if (typeof code.mainModule !== 'string' || code.mainModule === '') throw codeError('mainModule is required');
  const modules = code.modules;
  if (modules === null || typeof modules !== 'object') throw codeError('modules is required');
  if (!Object.prototype.hasOwnProperty.call(modules, code.mainModule)) {
    throw codeError(`mainModule '${code.mainModule}' is not among the modules`);
  }
  const names = [], types = [], contents = [];
  let total = 0;
  for (const name of Object.keys(modules)) {
    const value = modules[name];
    let type, content;
    if (typeof value === 'string') {
      if (name.endsWith('.js') || name.endsWith('.mjs')) type = 'js';
      else if (name.endsWith('.py')) type = 'py';
      else {
        throw new TypeError("Module name must end with '.js' or '.py' (or the content must be an object indicating the type " +
          `explicitly). Got: ${name}.` + (TYPESCRIPT.test(name) ? " If you're trying to load TypeScript, bundle it first with " +
          "'@cloudflare/worker-bundler' and pass the generated JavaScript modules." : ''));
      }
      content = value;
    } else if (value !== null && typeof value === 'object') {
      const kinds = MODULE_KINDS.filter((k) => value[k] !== undefined);
      if (kinds.length !== 1) throw codeError(`module '${name}' must have exactly one of ${MODULE_KINDS.map((k) => `{${k}}`).join(', ')}`);
      type = kinds[0];
      content = value[type];
      if (type === 'json') {
        content = JSON.stringify(content);
        if (content === undefined) throw codeError(`module '${name}': the json value is not serializable`);
      } else if (type === 'data' || type === 'wasm') {
        content = moduleBytes(content);
        if (content === null) throw codeError(`module '${name}': {${type}} must be an ArrayBuffer`);
      } else if (typeof content !== 'string') {
        throw codeError(`module '${name}': {${type}} must be a string`);
      }
    } else {
      throw codeError(`module '${name}' must be a string or an object`);
    }
    if (type === 'py') {
      if (!code.mainModule.endsWith('.py')) throw new TypeError(`Module "${name}" is a Python module, but the main module isn't a Python module.`);
      throw codeError(`module '${name}': Python modules are not supported by Bulwark yet`);
    }
    if (typeof content === 'string') {
      // Not encoded when its UTF-16 length alone is over (the size then named is a lower bound).
      if (content.length > MAX_CODE_BYTES) throw codeSizeError(total + content.length);
      content = utf8Encode(content);
    }
    total += content.byteLength;
    if (total > MAX_CODE_BYTES) throw codeSizeError(total);
    names.push(name);
    types.push(type);
    contents.push(content);
  }
  let env = null;
  let envCaps = null;
  if (code.env !== undefined && code.env !== null) {
    // Stubs, RpcTargets and functions in env cross by reference (top-level entries only); the
    // rest is data.
    const plain = {}, caps = {};
    let hasCaps = false;
    if (typeof code.env === 'object') {
      for (const k of Object.keys(code.env)) {
        const v = code.env[k];
        if (isCapValue(v)) { caps[k] = v; hasCaps = true; } else plain[k] = v;
      }
    }
    if (hasCaps) envCaps = caps;
    try {
      env = JSON.stringify(hasCaps ? plain : code.env);
    } catch (err) {
      throw codeError(`env is not serializable: ${err && err.message}`);
    }
    if (env === undefined || env[0] !== '{') throw codeError('env must be an object');
    if (env.length > MAX_ENV_BYTES) throw envSizeError(env.length); // a lower bound: not encoded
    const envBytes = utf8Encode(env).byteLength;
    if (envBytes > MAX_ENV_BYTES) throw envSizeError(envBytes);
  }
  let network = true, outbound = null;
  if (code.globalOutbound === null) network = false;
  else if (code.globalOutbound !== undefined) {
    // A fetcher: a service binding or a ctx.exports entrypoint (with its props), never read here.
    outbound = serviceDescriptor(code.globalOutbound);
    if (outbound === undefined) {
      throw codeError('globalOutbound must be null or a Fetcher: a service binding or a ctx.exports entrypoint');
    }
    propsPassedOn(outbound.props);
    network = false;
  }
  let tails = null;
  if (code.tails !== undefined && code.tails !== null) {
    if (!ArrayIsArray(code.tails)) throw codeError('tails must be an array of Fetchers');
    tails = [];
    for (const t of code.tails) {
      const d = serviceDescriptor(t);
      if (d !== undefined) {
        propsPassedOn(d.props);
        tails.push(d);
        continue;
      }
      // A durable object stub: the object's tail(events) method gets the events (as in workerd).
      const o = objectStubOf(t);
      if (o === undefined) {
        throw codeError('each of tails must be a Fetcher (a service binding or a ctx.exports entrypoint) or a durable object stub');
      }
      tails.push({ object: o.binding, id: o.id, name: o.name });
    }
  }
  const shaped = { compatibilityDate: code.compatibilityDate, compatibilityFlags: flags, mainModule: code.mainModule, names, types, contents, env, network, envCaps };
  if (outbound !== null) shaped.outbound = outbound;
  if (tails !== null) shaped.tails = tails;
  if (code.limits !== undefined && code.limits !== null) {
    if (code.limits.cpuMs !== undefined) shaped.cpuMs = Number(code.limits.cpuMs);
    if (code.limits.subRequests !== undefined) shaped.subRequests = Number(code.limits.subRequests);
  }
  return shaped;
}

/**
 * One get() id, anonymous get() or load() of one loader binding: where its code comes from, where
 * it is loaded. {@code getShaped} answers the code shaped (or a promise of it), afresh each time.
 */
class Loadable {
  constructor(binding, id, getShaped) {
    this.binding = binding;
    this.id = id;           // null for load() and get(null): always fresh
    this.getShaped = getShaped;
    this.workerId = null;   // once loaded
    // Promise<workerId> per invocation while it loads. Not shared across invocations: a promise
    // settles in the task of the invocation whose host answer it waited for, and the reactions of
    // another request's awaits would run in that task, so their calls would be made (and answered)
    // as that invocation's, and hang once it ended. Each request asks the node itself; the node
    // joins concurrent loads of one id into one.
    this.loading = new Map();
  }
  /**
   * Loaded (the worker's id), loading it if need be. {@code first(pending)}, when given and this
   * call starts a load with code, runs right after the load is sent, in the same task: it may send
   * the first call at once, naming the load (the node holds it until the load is answered).
   */
  ensure(first = undefined) {
    if (this.workerId !== null) return PromiseResolve(this.workerId);
    const invocation = currentInvocation();
    const loading = this.loading.get(invocation);
    if (loading !== undefined) return loading;
    const started = (async () => {
      try {
        if (this.id !== null) {
          const known = await H.loadDynamic(this.binding, this.id, null);
          if (known !== null) return (this.workerId = known);
        }
        // A copy: the envCaps of code shaped once (load()) are encoded again if it is loaded again.
        const code = { ...(await this.getShaped()) };
        let sent = [];
        if (code.envCaps !== null) {
          const payload = await encodeEnvCaps(code.envCaps);
          code.envCaps = payload.bytes;
          sent = payload.sent;
        } else {
          delete code.envCaps;
        }
        // Stubs in env are not moved: the parent keeps its own (they were granted anew to the child).
        void sent;
        const sending = H.loadDynamic(this.binding, this.id, code);
        if (first !== undefined && typeof sending.pending === 'string') first(sending.pending);
        return (this.workerId = await sending);
      } finally {
        this.loading.delete(invocation);
      }
    })();
    this.loading.set(invocation, started);
    return started;
  }
  /** The node no longer has it (evicted): load it again next time. */
  forget(workerId) {
    if (this.workerId === workerId) this.workerId = null;
  }
}

class Fetcher {
  #loadable;
  #entrypoint;
  #grant; // [props (encodeProps) | null, cpuMs | null, subRequests | null]: getEntrypoint's options
  constructor(token, loadable, entrypoint, grant) {
    if (token !== INTERNAL) throw new TypeError('Illegal constructor');
    this.#loadable = loadable;
    this.#entrypoint = entrypoint;
    this.#grant = grant;
  }
  fetch(input, init = undefined) {
    const loadable = this.#loadable, entrypoint = this.#entrypoint, grant = this.#grant;
    return stubFetch(input, init, (method, url, headerLines, bytes) => {
      // Loaded first, and loaded again once if it was evicted meanwhile. A call that starts the
      // load goes right behind it (null when the host would not send it so: then after it).
      const attempt = (retried) => {
        // Loaded already (a cached worker): the call leaves now, not after a turn for ensure()'s promise.
        const known = retried ? null : loadable.workerId;
        if (known !== null) {
          return PromiseThen(H.callWorker(known, entrypoint, propsForCall(grant[0]), grant[1], grant[2], method, url, headerLines, bytes),
            undefined, (err) => {
              if (!err || err.code !== 'not_found') throw err;
              loadable.forget(known);
              return attempt(true);
            });
        }
        let sent = null;
        const loaded = loadable.ensure(retried ? undefined : (pending) => {
          try {
            sent = H.callWorker(pending, entrypoint, propsForCall(grant[0]), grant[1], grant[2], method, url, headerLines, bytes);
          } catch (err) {
            // Refused before it was sent (a limit): the call's outcome once the load is answered, as before.
            sent = PromiseReject(err);
          }
          if (sent !== null) PromiseThen(sent, undefined, () => {}); // read once the load is answered
        });
        return PromiseThen(loaded, (workerId) => PromiseThen(
          sent !== null ? sent : H.callWorker(workerId, entrypoint, propsForCall(grant[0]), grant[1], grant[2], method, url, headerLines, bytes),
          undefined, (err) => {
            if (retried || !err || err.code !== 'not_found') throw err;
            loadable.forget(workerId);
            return attempt(true);
          }), (err) => {
          // The load's own error is the call's rejection (the call sent behind it failed with it).
          throw err;
        });
      };
      return attempt(false);
    });
  }
  /** A socket to the entrypoint's connect handler (sockets.js), sent once the worker is loaded. */
  connect(address, options = undefined) {
    const loadable = this.#loadable, entrypoint = this.#entrypoint, grant = this.#grant;
    return fetcherConnect((method, url, headerLines, token) => {
      const send = (workerId) => H.callWorker(workerId, entrypoint, propsForCall(grant[0]), grant[1], grant[2], method, url, headerLines, token);
      const known = loadable.workerId;
      return known !== null ? send(known) : PromiseThen(loadable.ensure(), send);
    }, address, options);
  }
  /** How RPC calls on this entrypoint reach it: loaded first, loaded again once if it was evicted. */
  static sender(fetcher) {
    const loadable = fetcher.#loadable, entrypoint = fetcher.#entrypoint, grant = fetcher.#grant;
    const send = async (method, args, retried) => {
      const workerId = await loadable.ensure();
      try {
        return await H.rpcWorker(workerId, entrypoint, propsForCall(grant[0]), grant[1], grant[2], method, args);
      } catch (err) {
        if (retried || !err || err.code !== 'not_found') throw err;
        loadable.forget(workerId);
        return send(method, args, true);
      }
    };
    return (method, args) => send(method, args, false);
  }
}
Object.defineProperty(Fetcher.prototype, Symbol.toStringTag, { value: 'Fetcher', configurable: true });

// Any other member of an entrypoint is an RPC property of it.
const fetcherHandler = stubHandler(new Set(['fetch', 'connect']), (fetcher) => Fetcher.sender(fetcher));

class WorkerStub {
  #loadable;
  constructor(token, loadable) {
    if (token !== INTERNAL) throw new TypeError('Illegal constructor');
    this.#loadable = loadable;
  }
  /**
   * A fetcher and RPC stub for the entrypoint {@code name} (the default export when absent). Its
   * {@code props} are serialized now and travel with each call to the callee's ctx.props; its
   * {@code limits} ({cpuMs, subRequests}) lower the WorkerCode's for calls through this stub.
   */
  getEntrypoint(name = undefined, options = undefined) {
    if (name !== undefined && name !== null && typeof name !== 'string') throw new TypeError('getEntrypoint(name): name must be a string');
    let grant = [null, null, null];
    if (options !== undefined && options !== null) {
      if (typeof options !== 'object') throw new TypeError('getEntrypoint(name, options): options must be an object');
      // Stubs, functions and RpcTargets in them cross by reference, to each call's callee alone.
      const props = options.props === undefined ? null : encodeProps(options.props);
      let cpuMs = null, subRequests = null;
      const limits = options.limits;
      if (limits !== undefined && limits !== null) {
        if (limits.cpuMs !== undefined) cpuMs = limitNumber(limits.cpuMs, 'cpuMs');
        if (limits.subRequests !== undefined) subRequests = limitNumber(limits.subRequests, 'subRequests');
      }
      grant = [props, cpuMs, subRequests];
    }
    const loadable = this.#loadable;
    const stub = new Proxy(new Fetcher(INTERNAL, loadable, name ?? null, grant), fetcherHandler);
    // Passed on by address, with its grant: the receiver calls it with the same props and limits.
    registerAddressStub(stub, () => workerRef(loadable, name ?? null, grant));
    return stub;
  }
  /**
   * The durable object class {@code name} that this dynamic worker exports, as a value durable
   * object code can consume (ctx.facets.get(name, () => ({class}))): an opaque handle that the
   * runtime resolves to (the loaded dynamic worker, the class name); see resolveDurableObjectClass.
   */
  getDurableObjectClass(name, options = undefined) {
    if (typeof name !== 'string' || name === '') throw new TypeError('getDurableObjectClass(name): name must be a non-empty string');
    return new DurableObjectClass(INTERNAL, this.#loadable, name);
  }
}

function limitNumber(v, what) {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new TypeError(`getEntrypoint: limits.${what} must be a non-negative number`);
  return Math.floor(n);
}

/** What getDurableObjectClass returns: names a class of a dynamic worker, reveals nothing else. */
class DurableObjectClass {
  #loadable;
  #className;
  constructor(token, loadable, className) {
    if (token !== INTERNAL) throw new TypeError('Illegal constructor');
    this.#loadable = loadable;
    this.#className = className;
  }
  static resolve(value) {
    if (!(value instanceof DurableObjectClass)) return null;
    const loadable = value.#loadable, className = value.#className;
    return PromiseThen(loadable.ensure(), (workerId) => ({ workerId, className }));
  }
  static forget(value, workerId) {
    if (value instanceof DurableObjectClass) value.#loadable.forget(workerId);
  }
}
Object.defineProperty(DurableObjectClass.prototype, Symbol.toStringTag, { value: 'DurableObjectClass', configurable: true });
const resolveClass = DurableObjectClass.resolve;
const forgetClass = DurableObjectClass.forget;
delete DurableObjectClass.resolve;
delete DurableObjectClass.forget;

/**
 * ctx.exports.SomeClass of a dynamic worker, for a durable object class it exports (it has no
 * namespace): a class of this very worker, usable as a facet's class (a facet starting a child of
 * its own code, as Cloudflare's `this.ctx.exports.SomeClass`).
 */
export function ownDurableObjectClass(workerId, className) {
  return new DurableObjectClass(INTERNAL, { ensure: () => PromiseResolve(workerId), forget() {} }, className);
}

/** For facets: the node no longer has the dynamic worker a class was resolved to (evicted): load it again next time. */
export function forgetDurableObjectClass(value, workerId) {
  forgetClass(value, workerId);
}

/**
 * For the facets issue: the dynamic worker (loaded now if it is not) and the class a value of
 * getDurableObjectClass() names, as a promise of {workerId, className}; null for any other value.
 * A facet of that class is then Address.DurableObject(workerId, className, ...) in the tenant's
 * sandbox for generated code.
 */
export function resolveDurableObjectClass(value) {
  return resolveClass(value);
}
Object.defineProperty(WorkerStub.prototype, Symbol.toStringTag, { value: 'WorkerStub', configurable: true });

// How many ids a loader remembers (the most recently asked for are kept). An id it forgot costs one
// question to the node on its next get(): the node still knows what is loaded, so the callback
// runs only if the id is not loaded, and it is then the callback of that latest get(), as in
// workerd. Without a bound, a parent asked for 10,000 ids kept 10,000 callbacks (and whatever
// code they close over) for the isolate's whole life.
const MAX_REMEMBERED_IDS = 1024;

class WorkerLoader {
  #binding;
  #cache = new Map(); // id -> Loadable: per parent worker (this binding lives in one worker's env), in order of use
  constructor(token, binding) {
    if (token !== INTERNAL) throw new TypeError('Illegal constructor');
    this.#binding = binding;
  }
  get(id, getCode) {
    if (id !== null && id !== undefined && typeof id !== 'string') {
      throw new TypeError("Failed to execute 'get' on 'WorkerLoader': parameter 1 is not of type 'string'.");
    }
    if (typeof getCode !== 'function') throw new TypeError("Failed to execute 'get' on 'WorkerLoader': parameter 2 is not a function.");
    if (id === null || id === undefined) return new WorkerStub(INTERNAL, anonymous(this.#binding, getCode));
    const cache = this.#cache;
    let loadable = cache.get(id);
    if (loadable === undefined) {
      loadable = new Loadable(this.#binding, id, async () => shape(await getCode()));
      if (cache.size >= MAX_REMEMBERED_IDS) forgetOldest(cache);
    } else {
      cache.delete(id); // moved to the most recently used end
    }
    cache.set(id, loadable);
    return new WorkerStub(INTERNAL, loadable);
  }
  load(code) {
    // Shaped now, as workerd copies the modules' bytes in load(): a buffer the caller resizes or
    // fills afterwards does not change the code. What shape() refuses is the first call's rejection.
    let shaped, refused = null;
    try {
      shaped = shape(code);
    } catch (err) {
      refused = err;
    }
    return new WorkerStub(INTERNAL, new Loadable(this.#binding, null, () => {
      if (refused !== null) throw refused;
      return shaped;
    }));
  }
}
Object.defineProperty(WorkerLoader.prototype, Symbol.toStringTag, { value: 'WorkerLoader', configurable: true });

/**
 * get(null | undefined, getCode): a worker of its own, never cached. As in workerd, getCode runs
 * soon (in a microtask), not at the first call: the load itself still waits for that call.
 */
function anonymous(binding, getCode) {
  const soon = () => PromiseThen(PromiseResolve(), async () => shape(await getCode()));
  const invocation = currentInvocation();
  const early = soon();
  PromiseThen(early, undefined, () => {}); // a callback that throws fails the calls, if any are made
  // A promise of another invocation is not awaited by this one (see Loadable's loading): called again there.
  return new Loadable(binding, null, () => (currentInvocation() === invocation ? early : soon()));
}

/** Drops the least recently used id that is not loading now (a load in flight keeps its entry, so it is never started twice). */
function forgetOldest(cache) {
  for (const [id, loadable] of cache) {
    if (loadable.loading.size === 0) {
      cache.delete(id);
      return;
    }
  }
}

export function makeLoader(binding) {
  return new WorkerLoader(INTERNAL, binding);
}
