// node:test, as Workers has it: only the MockTracker (`mock`: fn, method, getter, setter, reset,
// restoreAll), which Cloudflare documents; no test runner.
import { ObjectDefineProperty } from './internals.js';

const ReflectApply = Reflect.apply;
const ReflectConstruct = Reflect.construct;
const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
const ObjectGetPrototypeOf = Object.getPrototypeOf;

function invalidArg(name, expected, value) {
  const err = new TypeError(`The "${name}" argument must be ${expected}. Received ${value === null ? 'null' : typeof value}`);
  err.code = 'ERR_INVALID_ARG_TYPE';
  return err;
}

function timesOf(options) {
  if (options === undefined || options === null) return Infinity;
  if (typeof options !== 'object') throw invalidArg('options', 'of type object', options);
  const times = options.times === undefined ? Infinity : options.times;
  if (times !== Infinity && (!Number.isInteger(times) || times < 1)) {
    const err = new RangeError(`The value of "options.times" is out of range. It must be >= 1. Received ${times}`);
    err.code = 'ERR_OUT_OF_RANGE';
    throw err;
  }
  return times;
}

/** What a mock function records and how it answers (its `mock` property). */
class MockFunctionContext {
  #calls = [];
  #original;
  #implementation;
  #times;
  #once = new Map(); // call index -> implementation for that call only
  #restore;

  constructor(original, implementation, times, restore) {
    this.#original = original;
    this.#implementation = implementation;
    this.#times = times;
    this.#restore = restore;
  }

  get calls() { return this.#calls.slice(); }
  callCount() { return this.#calls.length; }
  mockImplementation(implementation) {
    if (typeof implementation !== 'function') throw invalidArg('implementation', 'of type function', implementation);
    this.#implementation = implementation;
  }
  mockImplementationOnce(implementation, onCall = undefined) {
    if (typeof implementation !== 'function') throw invalidArg('implementation', 'of type function', implementation);
    const call = onCall === undefined ? this.#calls.length : onCall;
    if (!Number.isInteger(call) || call < 0) throw invalidArg('onCall', 'a non-negative integer', call);
    this.#once.set(call, implementation);
  }
  resetCalls() { this.#calls = []; }
  restore() {
    this.#implementation = this.#original;
    this.#times = Infinity;
    this.#once.clear();
    if (this.#restore !== null) this.#restore();
  }

  /** The implementation the next call runs. */
  next() {
    const index = this.#calls.length;
    const once = this.#once.get(index);
    if (once !== undefined) {
      this.#once.delete(index);
      return once;
    }
    if (index >= this.#times) return this.#original;
    return this.#implementation;
  }

  record(call) { this.#calls.push(call); }
}

function makeMock(original, implementation, times, restore) {
  const ctx = new MockFunctionContext(original, implementation, times, restore);
  function mocked(...args) {
    const impl = ctx.next();
    const call = { arguments: args, error: undefined, result: undefined, stack: new Error(), target: new.target, this: this };
    try {
      call.result = new.target !== undefined ? ReflectConstruct(impl, args, new.target) : ReflectApply(impl, this, args);
      return call.result;
    } catch (err) {
      call.error = err;
      throw err;
    } finally {
      ctx.record(call);
    }
  }
  ObjectDefineProperty(mocked, 'mock', { value: ctx, enumerable: false, configurable: false, writable: false });
  ObjectDefineProperty(mocked, 'name', { value: typeof original === 'function' ? original.name : '', configurable: true });
  ObjectDefineProperty(mocked, 'length', { value: typeof original === 'function' ? original.length : 0, configurable: true });
  return mocked;
}

/** Where `name` is defined on `object` or its prototypes, or undefined. */
function descriptorOf(object, name) {
  for (let o = object; o !== null; o = ObjectGetPrototypeOf(o)) {
    const d = ObjectGetOwnPropertyDescriptor(o, name);
    if (d !== undefined) return d;
  }
  return undefined;
}

class MockTracker {
  #mocks = [];

  fn(original = function () {}, implementation = original, options = undefined) {
    if (original !== null && typeof original === 'object') {
      options = original;
      original = function () {};
      implementation = original;
    } else if (implementation !== null && typeof implementation === 'object') {
      options = implementation;
      implementation = original;
    }
    if (typeof original !== 'function') throw invalidArg('original', 'of type function', original);
    if (typeof implementation !== 'function') throw invalidArg('implementation', 'of type function', implementation);
    const mocked = makeMock(original, implementation, timesOf(options), null);
    this.#mocks.push(mocked.mock);
    return mocked;
  }

  method(object, methodName, implementation = undefined, options = undefined) {
    if (object === null || (typeof object !== 'object' && typeof object !== 'function')) throw invalidArg('object', 'of type object', object);
    if (implementation !== null && typeof implementation === 'object') {
      options = implementation;
      implementation = undefined;
    }
    const getter = !!options?.getter, setter = !!options?.setter;
    if (getter && setter) throw new TypeError('The property "options.setter" cannot be used with "options.getter"');
    const descriptor = descriptorOf(object, methodName);
    const kind = getter ? 'get' : setter ? 'set' : 'value';
    const original = descriptor?.[kind];
    if (typeof original !== 'function') {
      throw invalidArg('methodName', getter ? 'a getter' : setter ? 'a setter' : 'a method', original);
    }
    const own = ObjectGetOwnPropertyDescriptor(object, methodName);
    const restore = () => {
      if (own === undefined) delete object[methodName];
      else ObjectDefineProperty(object, methodName, own);
    };
    const mocked = makeMock(original, implementation ?? original, timesOf(options), restore);
    const replaced = { ...descriptor, configurable: true };
    replaced[kind] = mocked;
    ObjectDefineProperty(object, methodName, replaced);
    this.#mocks.push(mocked.mock);
    return mocked;
  }

  getter(object, methodName, implementation = undefined, options = undefined) {
    if (implementation !== null && typeof implementation === 'object') {
      options = implementation;
      implementation = undefined;
    }
    return this.method(object, methodName, implementation, { ...options, getter: true });
  }

  setter(object, methodName, implementation = undefined, options = undefined) {
    if (implementation !== null && typeof implementation === 'object') {
      options = implementation;
      implementation = undefined;
    }
    return this.method(object, methodName, implementation, { ...options, setter: true });
  }

  /** Restores every mock's original and forgets them. */
  reset() {
    this.restoreAll();
    this.#mocks = [];
  }

  restoreAll() {
    for (const ctx of this.#mocks) ctx.restore();
  }
}

export function testModule() {
  const mock = new MockTracker();
  return { default: { mock }, mock };
}
