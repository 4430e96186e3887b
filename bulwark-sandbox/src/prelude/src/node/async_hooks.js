// node:async_hooks: AsyncLocalStorage and AsyncResource on the async context frame the prelude
// keeps in V8's continuation-preserved embedder data (see ../async-context.js): each instance is a
// key of the frame, its store the key's value.
import { I, nodeError } from './internals.js';

function checkFunction(fn, name) {
  if (typeof fn !== 'function') {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" argument must be of type function. Received ${fn === null ? 'null' : typeof fn}`);
  }
}

export class AsyncLocalStorage {
  #name;
  constructor(options = undefined) {
    this.#name = options !== undefined && options !== null && options.name !== undefined ? `${options.name}` : '';
  }
  get name() { return this.#name; }

  run(store, callback, ...args) {
    checkFunction(callback, 'callback');
    return I.runInFrame(I.frameWith(I.currentFrame(), this, store), callback, undefined, args);
  }
  exit(callback, ...args) {
    checkFunction(callback, 'callback');
    return I.runInFrame(I.frameWithout(I.currentFrame(), this), callback, undefined, args);
  }
  getStore() {
    return I.valueIn(I.currentFrame(), this);
  }

  /** fn bound to the async context current now. */
  static bind(fn) {
    checkFunction(fn, 'fn');
    const frame = I.currentFrame();
    return function bound(...args) { return I.runInFrame(I.frameHere(frame), fn, this, args); };
  }
  /** A function that runs any function in the async context current now. */
  static snapshot() {
    const frame = I.currentFrame();
    return (fn, ...args) => {
      checkFunction(fn, 'fn');
      return I.runInFrame(I.frameHere(frame), fn, undefined, args);
    };
  }
}
Object.defineProperty(AsyncLocalStorage.prototype, Symbol.toStringTag, { value: 'AsyncLocalStorage', configurable: true });

let nextAsyncId = 1;

export class AsyncResource {
  #frame;
  #type;
  #asyncId;
  #triggerAsyncId;
  constructor(type, options = undefined) {
    if (typeof type !== 'string') throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "type" argument must be of type string.');
    this.#type = type;
    this.#frame = I.currentFrame();
    this.#asyncId = nextAsyncId++;
    this.#triggerAsyncId = typeof options === 'number' ? options
      : (options !== undefined && options !== null && typeof options.triggerAsyncId === 'number' ? options.triggerAsyncId : 0);
  }
  get type() { return this.#type; }
  runInAsyncScope(fn, thisArg, ...args) {
    checkFunction(fn, 'fn');
    return I.runInFrame(I.frameHere(this.#frame), fn, thisArg, args);
  }
  bind(fn, thisArg = undefined) {
    checkFunction(fn, 'fn');
    const resource = this;
    const bound = thisArg === undefined
      ? function (...args) { return resource.runInAsyncScope(fn, this, ...args); }
      : (...args) => resource.runInAsyncScope(fn, thisArg, ...args);
    Object.defineProperty(bound, 'length', { value: fn.length, configurable: true });
    Object.defineProperty(bound, 'asyncResource', { value: this, configurable: true, enumerable: true, writable: true });
    return bound;
  }
  emitDestroy() { return this; }
  asyncId() { return this.#asyncId; }
  triggerAsyncId() { return this.#triggerAsyncId; }
  static bind(fn, type = undefined, thisArg = undefined) {
    checkFunction(fn, 'fn');
    return new AsyncResource(type === undefined ? (fn.name || 'bound-anonymous-fn') : type).bind(fn, thisArg);
  }
}

export function asyncHooksModule() {
  return { AsyncLocalStorage, AsyncResource };
}
