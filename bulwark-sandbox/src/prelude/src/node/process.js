// node:process: what a serverless isolate can honestly say about its "process". env holds the
// worker's text bindings when Workers would populate it (Compatibility.processEnvPopulated).
import EventEmitter from 'events';
import { G, nodeError } from './internals.js';

/** Node coerces what is stored in process.env to strings. */
function envObject(initial) {
  const target = Object.create(null);
  // Text bindings as they are; a JSON var as its JSON text.
  for (const [k, v] of Object.entries(initial)) target[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return new Proxy(target, {
    set(t, key, value) { t[key] = typeof key === 'symbol' ? value : `${value}`; return true; },
    defineProperty(t, key, desc) {
      if ('value' in desc && typeof key !== 'symbol') desc = { ...desc, value: `${desc.value}` };
      return Reflect.defineProperty(t, key, desc);
    },
  });
}

export function makeProcess(env, getBuiltinModule) {
  const process = new EventEmitter();
  const start = G.performance.now();
  const hrtime = (previous = undefined) => {
    const ns = BigInt(Math.round(G.performance.now() * 1e6));
    let s = Number(ns / 1000000000n), n = Number(ns % 1000000000n);
    if (previous !== undefined) {
      s -= previous[0]; n -= previous[1];
      if (n < 0) { s -= 1; n += 1e9; }
    }
    return [s, n];
  };
  hrtime.bigint = () => BigInt(Math.round(G.performance.now() * 1e6));
  Object.assign(process, {
    title: 'workerd',
    version: 'v22.14.0',
    versions: Object.freeze({ node: '22.14.0' }),
    release: Object.freeze({ name: 'node' }),
    platform: 'linux',
    arch: 'x64',
    pid: 1,
    ppid: 0,
    argv: [],
    argv0: 'workerd',
    execArgv: [],
    execPath: '',
    exitCode: undefined,
    features: Object.freeze({ inspector: false, ipv6: true, tls: true, typescript: false }),
    env: envObject(env),
    cwd: () => '/bundle',
    chdir: () => { throw nodeError(Error, 'ERR_METHOD_NOT_IMPLEMENTED', 'The chdir() method is not implemented'); },
    umask: () => 0o22,
    uptime: () => (G.performance.now() - start) / 1000,
    hrtime,
    memoryUsage: Object.assign(() => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }), { rss: () => 0 }),
    cpuUsage: () => ({ user: 0, system: 0 }),
    nextTick: (callback, ...args) => {
      if (typeof callback !== 'function') throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "callback" argument must be of type function.');
      G.queueMicrotask(() => callback(...args));
    },
    emitWarning: (warning, type = 'Warning') => {
      const message = typeof warning === 'string' ? warning : warning && warning.message;
      G.console.warn(`(${typeof type === 'string' ? type : 'Warning'}) ${message}`);
    },
    exit: (code = 0) => {
      throw nodeError(Error, 'ERR_METHOD_NOT_IMPLEMENTED', `process.exit(${code}) is not supported in a worker`);
    },
    abort: () => { throw nodeError(Error, 'ERR_METHOD_NOT_IMPLEMENTED', 'process.abort() is not supported in a worker'); },
    getBuiltinModule,
  });
  Object.defineProperty(process, Symbol.toStringTag, { value: 'process', configurable: true });
  return process;
}
