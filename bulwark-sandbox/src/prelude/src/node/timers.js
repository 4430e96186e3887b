// node:timers and node:timers/promises. Node's timers return Timeout objects (code calls
// .unref() on them); underneath are the platform's timers, which carry the async context.
import { G, ReflectApply } from './internals.js';

// A Timeout whose refresh() replaced its platform timer, by its first id: the number code holds
// (+timeout) must keep clearing it. Entries leave when the timer is cleared or fires.
const refreshed = new Map();

export class Timeout {
  #id; // the first platform timer's id: +timeout, for the Timeout's whole life
  #timer; // the platform timer scheduled now
  #fn;
  #delay;
  #args;
  #repeat;
  #ref = true;
  constructor(fn, delay, args, repeat) {
    this.#fn = fn; this.#delay = delay; this.#args = args; this.#repeat = repeat;
    this.#id = this.#timer = repeat ? G.setInterval(fn, delay, ...args) : G.setTimeout(fn, delay, ...args);
  }
  static is(v) { return v !== null && typeof v === 'object' && #id in v; }
  // ref() and unref() change only what hasRef() answers: a worker's event does not wait for its
  // timers, so there is no event loop to hold (as workerd).
  ref() { this.#ref = true; return this; }
  unref() { this.#ref = false; return this; }
  hasRef() { return this.#ref; }
  // Starts the timer again, one delay from now, with the same callback and arguments; a timeout
  // that already fired is scheduled again (Node's refresh()).
  refresh() {
    this.#cancel();
    if (this.#repeat) {
      this.#timer = G.setInterval(this.#fn, this.#delay, ...this.#args);
    } else {
      const fn = this.#fn;
      this.#timer = G.setTimeout((...args) => {
        refreshed.delete(this.#id);
        return ReflectApply(fn, this, args);
      }, this.#delay, ...this.#args);
    }
    refreshed.set(this.#id, this);
    return this;
  }
  close() {
    this.#cancel();
    refreshed.delete(this.#id);
    return this;
  }
  #cancel() { (this.#repeat ? G.clearInterval : G.clearTimeout)(this.#timer); }
  [Symbol.toPrimitive]() { return this.#id; }
  [Symbol.dispose]() { this.close(); }
}
class Immediate {
  #id;
  #ref = true;
  constructor(id) { this.#id = id; }
  ref() { this.#ref = true; return this; }
  unref() { this.#ref = false; return this; }
  hasRef() { return this.#ref; }
  [Symbol.toPrimitive]() { return this.#id; }
  [Symbol.dispose]() { G.clearTimeout(this.#id); }
}

const idOf = (t) => (t !== null && typeof t === 'object' ? t[Symbol.toPrimitive]() : t);
/** Clears a Timeout (the object or its number) through the Timeout when refresh() moved its timer. */
function clearTimer(t, clear) {
  const timeout = Timeout.is(t) ? t : refreshed.get(idOf(t));
  if (timeout !== undefined) timeout.close();
  else clear(idOf(t));
}

export const setTimeout = (fn, delay, ...args) => new Timeout(fn, delay, args, false);
export const setInterval = (fn, delay, ...args) => new Timeout(fn, delay, args, true);
export const setImmediate = (fn, ...args) => new Immediate(G.setTimeout(fn, 0, ...args));
export const clearTimeout = (t) => clearTimer(t, G.clearTimeout);
export const clearInterval = (t) => clearTimer(t, G.clearInterval);
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
