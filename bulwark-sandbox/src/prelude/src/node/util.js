// node:util: format and inspect from the prelude's console, and Node's helpers around them.
import { I, G, ReflectApply, nodeError } from './internals.js';
import { types } from './types.js';
import { deepEqual } from './deep-equal.js';

const customInspect = Symbol.for('nodejs.util.inspect.custom');
const customPromisify = Symbol.for('nodejs.util.promisify.custom');

export function inspect(value, options = undefined) {
  if (value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value[customInspect] === 'function'
      && value[customInspect] !== inspect) {
    const opts = typeof options === 'object' && options !== null ? options : {};
    const out = value[customInspect](opts.depth ?? 2, { ...opts, stylize: (s) => s }, inspect);
    return typeof out === 'string' ? out : I.inspect(out, options);
  }
  return I.inspect(value, options);
}
inspect.custom = customInspect;
inspect.defaultOptions = { depth: 2, colors: false, showHidden: false, breakLength: 80 };

export function format(...args) {
  return I.format(...args);
}
function formatWithOptions(options, ...args) {
  return I.format(...args);
}

function checkFunction(fn, name) {
  if (typeof fn !== 'function') {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" argument must be of type function. Received ${fn === null ? 'null' : typeof fn}`);
  }
}

export function promisify(original) {
  checkFunction(original, 'original');
  if (typeof original[customPromisify] === 'function') {
    const fn = original[customPromisify];
    return Object.defineProperty(fn, customPromisify, { value: fn, configurable: true });
  }
  function promisified(...args) {
    return new Promise((resolve, reject) => {
      ReflectApply(original, this, [...args, (err, ...values) => {
        if (err) reject(err);
        else resolve(values.length > 1 ? values : values[0]);
      }]);
    });
  }
  Object.setPrototypeOf(promisified, Object.getPrototypeOf(original));
  Object.defineProperty(promisified, customPromisify, { value: promisified, configurable: true });
  return Object.defineProperties(promisified, Object.getOwnPropertyDescriptors(original));
}
promisify.custom = customPromisify;

function callbackify(original) {
  checkFunction(original, 'original');
  function callbackified(...args) {
    const cb = args.pop();
    checkFunction(cb, 'last argument');
    ReflectApply(original, this, args).then(
      (value) => G.queueMicrotask(() => cb(null, value)),
      (reason) => {
        if (!reason) {
          const e = nodeError(Error, 'ERR_FALSY_VALUE_REJECTION', 'Promise was rejected with falsy value');
          e.reason = reason;
          reason = e;
        }
        G.queueMicrotask(() => cb(reason));
      });
  }
  return callbackified;
}

function inherits(ctor, superCtor) {
  if (ctor === undefined || ctor === null) throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "ctor" argument must be of type function');
  if (superCtor === undefined || superCtor === null) throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "superCtor" argument must be of type function');
  if (superCtor.prototype === undefined) throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "superCtor.prototype" property must be of type object');
  Object.defineProperty(ctor, 'super_', { value: superCtor, writable: true, configurable: true });
  Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
}

function deprecate(fn, message, code = undefined) {
  let warned = false;
  return function deprecated(...args) {
    if (!warned) {
      warned = true;
      G.console.warn(`[${code ?? 'DEP'}] DeprecationWarning: ${message}`);
    }
    return new.target ? Reflect.construct(fn, args, new.target) : ReflectApply(fn, this, args);
  };
}

function debuglog() {
  const log = () => {};
  Object.defineProperty(log, 'enabled', { value: false });
  return log;
}

function isDeepStrictEqual(a, b) {
  return deepEqual(a, b, true);
}

function stripVTControlCharacters(s) {
  return `${s}`.replace(/[\u001B\u009B][[\]()#;?]*(?:(?:(?:;[-a-zA-Z\d/#&.:=?%@~_]+)*|[a-zA-Z\d]+(?:;[-a-zA-Z\d/#&.:=?%@~_]*)*)?\u0007|(?:\d{1,4}(?:;\d{0,4})*)?[\dA-PR-TZcf-ntqry=><~])/g, '');
}

function toUSVString(s) {
  return `${s}`.toWellFormed();
}

function aborted(signal, _resource) {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

export function utilModule() {
  const util = {
    format, formatWithOptions, inspect, promisify, callbackify, inherits, deprecate, debuglog, debug: debuglog,
    isDeepStrictEqual, stripVTControlCharacters, toUSVString, aborted, types,
    TextEncoder: G.TextEncoder, TextDecoder: G.TextDecoder,
    isArray: Array.isArray,
    isBoolean: (v) => typeof v === 'boolean', isNull: (v) => v === null,
    isNullOrUndefined: (v) => v === null || v === undefined, isNumber: (v) => typeof v === 'number',
    isString: (v) => typeof v === 'string', isSymbol: (v) => typeof v === 'symbol',
    isUndefined: (v) => v === undefined, isRegExp: types.isRegExp,
    isObject: (v) => v !== null && typeof v === 'object', isDate: types.isDate,
    isError: (v) => types.isNativeError(v) || v instanceof Error, isFunction: (v) => typeof v === 'function',
    isPrimitive: (v) => v === null || (typeof v !== 'object' && typeof v !== 'function'),
  };
  return { default: util, ...util };
}
