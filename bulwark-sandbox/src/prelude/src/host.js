// The host bindings. `__bulwark_install` (runtime.js) captures the host object and fills
// these in; they are module-scoped so user code can never reach them.
import { ReflectApply } from './util.js';
import { frameInvocation } from './async-context.js';

const StringPrototypeSplit = String.prototype.split;
const ArrayPrototypeIndexOf = Array.prototype.indexOf;
const FunctionPrototypeBind = Function.prototype.bind;

const notInstalled = () => { throw new Error('The Bulwark runtime is not installed yet'); };

export const H = {
  installed: false,
  log: notInstalled,
  randomBytes: notInstalled,
  crypto: notInstalled,
  setTimer: notInstalled,
  clearTimer: notInstalled,
  fetch: notInstalled,
  responseStart: notInstalled,
  responseChunk: notInstalled,
  responseEnd: notInstalled,
  responseWhole: notInstalled,
  responseError: notInstalled,
  requestBodyPull: notInstalled,
  subrequestAck: notInstalled,
  subrequestCancel: notInstalled,
  subrequestBodyChunk: notInstalled,
  subrequestBodyEnd: notInstalled,
  subrequestStartTls: notInstalled,
  currentInvocation: () => 0,
  objectId: notInstalled,
  callObject: notInstalled,
  callWorker: notInstalled,
  loadDynamic: notInstalled,
  rpcObject: notInstalled,
  rpcWorker: notInstalled,
  serviceCall: notInstalled,
  serviceRpc: notInstalled,
  rpcReturn: notInstalled,
  capCall: notInstalled,
  capFetch: notInstalled,
  capRelease: notInstalled,
  capRevoke: notInstalled,
  sqlExec: notInstalled,
  // sqlExec() without arguments (its SqlExchange buffer call), through its own function when the
  // host has one: the hot path of sql.exec then crosses with no argument to convert.
  sqlRun: notInstalled,
  sqlText: notInstalled,
  sqlBuffer: notInstalled,
  kvGet: notInstalled,
  kvPut: notInstalled,
  kvDelete: notInstalled,
  kvList: notInstalled,
  storageOp: notInstalled,
  // Web APIs backed by the JDK (WebApisHost.java).
  zlibOpen: notInstalled,
  zlibPush: notInstalled,
  zlibClose: notInstalled,
  decodeLegacy: notInstalled,
  htmlRewriterWasm: notInstalled,
  collectGarbage: notInstalled,
  preludePart: notInstalled,
  nodeHash: notInstalled,
  nodeHmac: notInstalled,
  domainToAscii: notInstalled,
  now: notInstalled,
  gateTimeoutMs: notInstalled,
  promiseState: notInstalled,
  socketOpen: notInstalled,
  socketClaim: notInstalled,
  socketSend: notInstalled,
  socketClose: notInstalled,
  socketAttachment: notInstalled,
  socketAutoResponse: notInstalled,
  socketEventTimeout: notInstalled,
  socketList: notInstalled,
  facetCall: notInstalled,
  facetRpc: notInstalled,
  facetControl: notInstalled,
};
Object.setPrototypeOf(H, null);

export function bindHost(host) {
  if (H.installed) throw new Error('already installed');
  const names = ['log', 'randomBytes', 'crypto', 'setTimer', 'clearTimer', 'fetch',
    'responseStart', 'responseChunk', 'responseEnd', 'responseWhole', 'responseError', 'requestBodyPull', 'currentInvocation',
    'objectId', 'callObject', 'callWorker', 'loadDynamic', 'rpcObject', 'rpcWorker', 'serviceCall', 'serviceRpc', 'rpcReturn', 'capCall', 'capFetch', 'capRelease', 'capRevoke', 'sqlExec', 'sqlText', 'sqlBuffer', 'kvGet', 'kvPut', 'kvDelete', 'kvList', 'storageOp',
    'zlibOpen', 'zlibPush', 'zlibClose', 'decodeLegacy', 'htmlRewriterWasm', 'collectGarbage', 'preludePart',
    'nodeHash', 'nodeHmac', 'domainToAscii', 'now', 'gateTimeoutMs', 'promiseState',
    'subrequestAck', 'subrequestCancel', 'subrequestBodyChunk', 'subrequestBodyEnd', 'subrequestStartTls',
    'socketOpen', 'socketClaim', 'socketSend', 'socketClose', 'socketAttachment', 'socketAutoResponse', 'socketEventTimeout', 'socketList',
    'facetCall', 'facetRpc', 'facetControl'];
  const call = host.hostCall;
  if (typeof call === 'function') {
    // The Java host (Isolate.java): one V8 function for all host functions, called with the
    // function's index first (its place in host.hostNames). One JNI function object per isolate
    // instead of ~60 is cheaper to make and to close; each H[name] is that function bound to its
    // index, so a call costs no wrapper and no argument array.
    const table = ReflectApply(StringPrototypeSplit, `${host.hostNames}`, [',']);
    // The functions that act for the current invocation (host.hostOwned) take the invocation of
    // the running continuation's frame first (async-context.js): the host acts for that one when
    // it differs from the invocation whose task runs.
    const owned = host.hostOwned === undefined ? [] : ReflectApply(StringPrototypeSplit, `${host.hostOwned}`, [',']);
    for (const name of names) {
      const index = ReflectApply(ArrayPrototypeIndexOf, table, [name]);
      if (index < 0) throw new TypeError(`host.${name} is not a function`);
      H[name] = ReflectApply(ArrayPrototypeIndexOf, owned, [name]) < 0
        ? ReflectApply(FunctionPrototypeBind, call, [undefined, index])
        : ownedCall(call, index);
    }
    // Isolate.java's own function for it: through hostCall the index would be an argument,
    // which Javet converts with an up-call into Java and an argument array.
    H.sqlRun = typeof host.sqlRun === 'function' ? host.sqlRun : H.sqlExec;
  } else {
    for (const name of names) {
      const fn = host[name];
      if (typeof fn !== 'function') throw new TypeError(`host.${name} is not a function`);
      // Keep the receiver (host) but never expose it.
      H[name] = (...args) => ReflectApply(fn, host, args);
    }
    H.sqlRun = H.sqlExec;
  }
  H.installed = true;
}

// A host function that takes the frame's invocation before its arguments. The arguments are
// passed on without array spreading or [[Set]] on a new array, which a worker could hook through
// Array.prototype (an iterator, an index setter) to see them.
function ownedCall(call, index) {
  return (...args) => {
    const inv = frameInvocation();
    switch (args.length) {
      case 0: return call(index, inv);
      case 1: return call(index, inv, args[0]);
      case 2: return call(index, inv, args[0], args[1]);
      case 3: return call(index, inv, args[0], args[1], args[2]);
      case 4: return call(index, inv, args[0], args[1], args[2], args[3]);
      case 5: return call(index, inv, args[0], args[1], args[2], args[3], args[4]);
      default: return ReflectApply(ReflectApply(FunctionPrototypeBind, call, [undefined, index, inv]), undefined, args);
    }
  };
}

/**
 * For the startup snapshot only: bindHost run once with a host of functions that do nothing, so
 * its code is compiled in the snapshot, then H back to "not installed".
 */
export function warmBindHost() {
  const nothing = () => undefined;
  const names = Object.keys(H).filter((n) => n !== 'installed');
  bindHost({ hostCall: nothing, hostNames: names.join(',') });
  for (const name of names) H[name] = name === 'currentInvocation' ? () => 0 : notInstalled;
  H.installed = false;
}

/**
 * For the startup snapshot only (runtime.js's warmRequestPath): H's functions replaced by `stubs`
 * (a name missing there does nothing), until the returned function puts "not installed" back.
 */
export function stubHost(stubs) {
  if (H.installed) throw new Error('already installed');
  const names = Object.keys(H).filter((n) => n !== 'installed');
  for (const name of names) H[name] = stubs[name] || (() => undefined);
  return () => {
    for (const name of names) H[name] = name === 'currentInvocation' ? () => 0 : notInstalled;
  };
}

/** Log through the host if installed, otherwise drop. Never throws. */
export function safeLog(level, message) {
  try {
    if (H.installed) H.log(level, message);
  } catch {
    // ignore
  }
}
