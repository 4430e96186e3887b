// node:timers and node:timers/promises. Node's timers return Timeout objects (code calls
// .unref() on them); underneath are the platform's timers, which carry the async context.
import { G } from './internals.js';

export class Timeout {
  #id;
  #repeat;
  constructor(id, repeat) { this.#id = id; this.#repeat = repeat; }
  ref() { return this; }
  unref() { return this; }
  hasRef() { return true; }
  refresh() { return this; }
  close() { (this.#repeat ? G.clearInterval : G.clearTimeout)(this.#id); return this; }
  [Symbol.toPrimitive]() { return this.#id; }
  [Symbol.dispose]() { this.close(); }
}
class Immediate {
  #id;
  constructor(id) { this.#id = id; }
  ref() { return this; }
  unref() { return this; }
  hasRef() { return true; }
  [Symbol.toPrimitive]() { return this.#id; }
  [Symbol.dispose]() { G.clearTimeout(this.#id); }
}

const idOf = (t) => (t !== null && typeof t === 'object' ? t[Symbol.toPrimitive]() : t);

export const setTimeout = (fn, delay, ...args) => new Timeout(G.setTimeout(fn, delay, ...args), false);
export const setInterval = (fn, delay, ...args) => new Timeout(G.setInterval(fn, delay, ...args), true);
export const setImmediate = (fn, ...args) => new Immediate(G.setTimeout(fn, 0, ...args));
export const clearTimeout = (t) => G.clearTimeout(idOf(t));
export const clearInterval = (t) => G.clearInterval(idOf(t));
export const clearImmediate = (t) => G.clearTimeout(idOf(t));

function abortError(signal) {
  const e = new Error('The operation was aborted', { cause: signal.reason });
  e.name = 'AbortError';
  e.code = 'ABORT_ERR';
  return e;
}

function delayed(delay, value, options) {
  const signal = options !== undefined && options !== null ? options.signal : undefined;
  return new Promise((resolve, reject) => {
    if (signal !== undefined && signal !== null && signal.aborted) { reject(abortError(signal)); return; }
    const id = G.setTimeout(() => resolve(value), delay);
    if (signal !== undefined && signal !== null) {
      signal.addEventListener('abort', () => { G.clearTimeout(id); reject(abortError(signal)); }, { once: true });
    }
  });
}

export function timersModule() {
  const m = { setTimeout, setInterval, setImmediate, clearTimeout, clearInterval, clearImmediate, promises: timersPromisesModule() };
  return { default: m, ...m };
}

export function timersPromisesModule() {
  const m = {
    setTimeout: (delay = 1, value = undefined, options = undefined) => delayed(delay, value, options),
    setImmediate: (value = undefined, options = undefined) => delayed(0, value, options),
    async *setInterval(delay = 1, value = undefined, options = undefined) {
      for (;;) yield await delayed(delay, value, options);
    },
    scheduler: Object.freeze({
      wait: (delay, options = undefined) => delayed(delay, undefined, options),
      yield: () => delayed(0, undefined, undefined),
    }),
  };
  return { default: m, ...m };
}
