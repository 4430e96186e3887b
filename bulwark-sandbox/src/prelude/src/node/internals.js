// The prelude's internals (async context frame, inspect/format, host hashes), filled in by init()
// before any node:* module is handed out. Captured intrinsics live here too: node.js is evaluated
// before any code of the worker, so what it captures is the platform's own.
export const I = Object.create(null);

export const ReflectApply = Reflect.apply;
export const ObjectFreeze = Object.freeze;
export const ObjectDefineProperty = Object.defineProperty;
export const G = {
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  setInterval: globalThis.setInterval,
  clearInterval: globalThis.clearInterval,
  queueMicrotask: globalThis.queueMicrotask,
  crypto: globalThis.crypto,
  getRandomValues: globalThis.crypto.getRandomValues.bind(globalThis.crypto),
  randomUUID: globalThis.crypto.randomUUID.bind(globalThis.crypto),
  TextEncoder: globalThis.TextEncoder,
  TextDecoder: globalThis.TextDecoder,
  URL: globalThis.URL,
  URLSearchParams: globalThis.URLSearchParams,
  console: globalThis.console,
  AbortController: globalThis.AbortController,
  AbortSignal: globalThis.AbortSignal,
  EventTarget: globalThis.EventTarget,
  Event: globalThis.Event,
  Blob: globalThis.Blob,
  File: globalThis.File,
  atob: globalThis.atob,
  btoa: globalThis.btoa,
  DOMException: globalThis.DOMException,
  structuredClone: globalThis.structuredClone,
  performance: globalThis.performance,
};

/** A Node-style error with a code, e.g. nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', '...'). */
export function nodeError(Ctor, code, message) {
  const e = new Ctor(message);
  ObjectDefineProperty(e, 'code', { value: code, writable: true, configurable: true, enumerable: true });
  return e;
}
