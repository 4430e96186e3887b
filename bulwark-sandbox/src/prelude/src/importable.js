// `env` and `exports` of cloudflare:workers: the worker's own, or, for the code withEnv() and
// withExports() run (and every continuation of it: the async context frame carries the override),
// what they were given. As workerd's: null or undefined gives an empty object; withExports() of a
// value that is not an object keeps the worker's own exports.
import { currentFrame, runInFrame, frameWith, valueIn } from './async-context.js';

// Frame keys of the prelude's own: user code never holds them.
const ENV = Object.freeze({}), EXPORTS = Object.freeze({});

const ReflectGet = Reflect.get, ReflectSet = Reflect.set, ReflectHas = Reflect.has,
  ReflectOwnKeys = Reflect.ownKeys, ReflectDeleteProperty = Reflect.deleteProperty,
  ReflectDefineProperty = Reflect.defineProperty, ReflectGetOwnPropertyDescriptor = Reflect.getOwnPropertyDescriptor,
  ReflectGetPrototypeOf = Reflect.getPrototypeOf, ProxyCtor = Proxy, ObjectFreeze = Object.freeze;

/**
 * An object that is, at each access, the value the current frame holds under key, or base. Its
 * target is an empty object and every trap asks the current one (a descriptor is reported
 * configurable: the target never has the property, and a proxy may not report otherwise). As in
 * workerd, env can be written to and exports cannot: a write to it is ignored (workerd's lands on
 * its proxy's empty target, where no read sees it), a defineProperty fails.
 */
function live(base, key, writable) {
  const current = () => {
    const o = valueIn(currentFrame(), key);
    return o === undefined ? base : o.value;
  };
  const handler = ObjectFreeze({
    __proto__: null,
    get: (_, k) => ReflectGet(current(), k),
    set: (_, k, v) => !writable || ReflectSet(current(), k, v),
    has: (_, k) => ReflectHas(current(), k),
    ownKeys: () => ReflectOwnKeys(current()),
    deleteProperty: (_, k) => !writable || ReflectDeleteProperty(current(), k),
    defineProperty: (_, k, d) => writable && ReflectDefineProperty(current(), k, d),
    getOwnPropertyDescriptor(_, k) {
      const d = ReflectGetOwnPropertyDescriptor(current(), k);
      if (d !== undefined) d.configurable = true;
      return d;
    },
    getPrototypeOf: () => ReflectGetPrototypeOf(current()),
  });
  return new ProxyCtor({}, handler);
}

function override(key, value, fallBack, fn, args) {
  if (typeof fn !== 'function') throw new TypeError('The callback must be a function');
  let o;
  if (value === null || value === undefined) o = { value: {} };
  else if (typeof value === 'object' || typeof value === 'function') o = { value };
  else o = fallBack;
  return runInFrame(frameWith(currentFrame(), key, o), fn, undefined, args);
}

/** cloudflare:workers' env, exports, withEnv and withExports for a worker whose own are env and exports. */
export function importables(env, exports) {
  return {
    env: live(env, ENV, true),
    exports: live(exports, EXPORTS, false),
    withEnv(newEnv, fn, ...args) { return override(ENV, newEnv, { value: env }, fn, args); },
    withExports(newExports, fn, ...args) { return override(EXPORTS, newExports, { value: exports }, fn, args); },
  };
}
