// node:diagnostics_channel: named channels with subscribers, and tracing channels.
import { G, nodeError } from './internals.js';

const channels = new Map();

export class Channel {
  #subscribers = [];
  #stores = new Map(); // AsyncLocalStorage -> transform
  constructor(name) { this.name = name; }
  get hasSubscribers() { return this.#subscribers.length > 0 || this.#stores.size > 0; }
  subscribe(fn) {
    if (typeof fn !== 'function') throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "subscription" argument must be of type function.');
    this.#subscribers = [...this.#subscribers, fn];
  }
  unsubscribe(fn) {
    const i = this.#subscribers.indexOf(fn);
    if (i < 0) return false;
    this.#subscribers = this.#subscribers.filter((_, k) => k !== i);
    return true;
  }
  publish(message) {
    for (const fn of this.#subscribers) {
      // As in Node: a throwing subscriber does not stop the others; its error is reported as uncaught.
      try { fn(message, this.name); } catch (err) { G.queueMicrotask(() => { throw err; }); }
    }
  }
  bindStore(store, transform = undefined) { this.#stores.set(store, transform); }
  unbindStore(store) { return this.#stores.delete(store); }
  runStores(data, fn, thisArg, ...args) {
    let run = () => { this.publish(data); return Reflect.apply(fn, thisArg, args); };
    for (const [store, transform] of this.#stores) {
      const inner = run;
      run = () => store.run(transform === undefined ? data : transform(data), inner);
    }
    return run();
  }
}

function channel(name) {
  if (typeof name !== 'string' && typeof name !== 'symbol') {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "channel" argument must be one of type string or symbol.');
  }
  let c = channels.get(name);
  if (c === undefined) { c = new Channel(name); channels.set(name, c); }
  return c;
}

class TracingChannel {
  constructor(nameOrChannels) {
    for (const event of ['start', 'end', 'asyncStart', 'asyncEnd', 'error']) {
      this[event] = typeof nameOrChannels === 'string' ? channel(`tracing:${nameOrChannels}:${event}`) : nameOrChannels[event];
    }
  }
  get hasSubscribers() {
    return this.start.hasSubscribers || this.end.hasSubscribers || this.asyncStart.hasSubscribers
      || this.asyncEnd.hasSubscribers || this.error.hasSubscribers;
  }
  subscribe(handlers) {
    for (const k of ['start', 'end', 'asyncStart', 'asyncEnd', 'error']) if (handlers[k]) this[k].subscribe(handlers[k]);
  }
  unsubscribe(handlers) {
    let all = true;
    for (const k of ['start', 'end', 'asyncStart', 'asyncEnd', 'error']) if (handlers[k] && !this[k].unsubscribe(handlers[k])) all = false;
    return all;
  }
  traceSync(fn, context = {}, thisArg = undefined, ...args) {
    return this.start.runStores(context, () => {
      try {
        context.result = Reflect.apply(fn, thisArg, args);
        return context.result;
      } catch (err) {
        context.error = err;
        this.error.publish(context);
        throw err;
      } finally {
        this.end.publish(context);
      }
    });
  }
  tracePromise(fn, context = {}, thisArg = undefined, ...args) {
    return this.start.runStores(context, () => {
      try {
        const p = Promise.resolve(Reflect.apply(fn, thisArg, args));
        return p.then((result) => {
          context.result = result;
          this.asyncStart.publish(context);
          this.asyncEnd.publish(context);
          return result;
        }, (err) => {
          context.error = err;
          this.error.publish(context);
          this.asyncStart.publish(context);
          this.asyncEnd.publish(context);
          throw err;
        });
      } catch (err) {
        context.error = err;
        this.error.publish(context);
        throw err;
      } finally {
        this.end.publish(context);
      }
    });
  }
  traceCallback(fn, position = -1, context = {}, thisArg = undefined, ...args) {
    const at = position < 0 ? args.length + position : position;
    const callback = args[at];
    if (typeof callback !== 'function') throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "callback" argument must be of type function.');
    const self = this;
    args[at] = function wrapped(err, ...rest) {
      if (err) { context.error = err; self.error.publish(context); } else { context.result = rest[0]; }
      return self.asyncStart.runStores(context, () => {
        try { return Reflect.apply(callback, this, [err, ...rest]); } finally { self.asyncEnd.publish(context); }
      });
    };
    return this.traceSync(fn, context, thisArg, ...args);
  }
}

export function diagnosticsChannelModule() {
  const m = {
    channel,
    hasSubscribers: (name) => channels.has(name) && channels.get(name).hasSubscribers,
    subscribe: (name, fn) => channel(name).subscribe(fn),
    unsubscribe: (name, fn) => channel(name).unsubscribe(fn),
    tracingChannel: (nameOrChannels) => new TracingChannel(nameOrChannels),
    Channel,
  };
  return { default: m, ...m };
}
