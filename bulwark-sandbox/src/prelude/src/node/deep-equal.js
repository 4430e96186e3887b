// Node's deep equality, used by assert.deepStrictEqual / deepEqual and util.isDeepStrictEqual.
// strict: Object.is on primitives, prototypes and [[Class]] must match; loose: == on primitives.
import { types } from './types.js';

const ownKeys = (o) => Reflect.ownKeys(o).filter((k) => Object.prototype.propertyIsEnumerable.call(o, k));

export function deepEqual(a, b, strict, memo = new Map()) {
  if (strict ? Object.is(a, b) : (a === b || (a == b && (typeof a !== 'object' || a === null) && (typeof b !== 'object' || b === null)))) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    if (!strict && (typeof a !== 'object' || a === null) && (typeof b !== 'object' || b === null)) return a == b || (Number.isNaN(a) && Number.isNaN(b));
    return false;
  }
  if (strict && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const tagA = Object.prototype.toString.call(a), tagB = Object.prototype.toString.call(b);
  if (tagA !== tagB) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  // Cycles: a pair already under comparison is taken as equal.
  let seen = memo.get(a);
  if (seen !== undefined && seen.has(b)) return true;
  if (seen === undefined) { seen = new Set(); memo.set(a, seen); }
  seen.add(b);

  if (types.isDate(a)) { if (a.getTime() !== b.getTime()) return false; }
  else if (types.isRegExp(a)) { if (a.source !== b.source || a.flags !== b.flags || a.lastIndex !== b.lastIndex) return false; }
  else if (types.isNativeError(a) || a instanceof Error) {
    if (a.message !== b.message || a.name !== b.name) return false;
  } else if (types.isBoxedPrimitive(a)) {
    if (!Object.is(a.valueOf(), b.valueOf())) return false;
  } else if (types.isArrayBufferView(a)) {
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength), y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    if (types.isTypedArray(a) && !strict && a.length === b.length && typeof a[0] === 'number') {
      for (let i = 0; i < a.length; i++) if (a[i] != b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
    } else {
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    }
  } else if (types.isAnyArrayBuffer(a)) {
    const x = new Uint8Array(a), y = new Uint8Array(b);
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  } else if (types.isMap(a)) {
    if (a.size !== b.size) return false;
    outer: for (const [k, v] of a) {
      if (b.has(k)) { if (!deepEqual(v, b.get(k), strict, memo)) return false; continue; }
      if (typeof k !== 'object' || k === null) return false;
      for (const [k2, v2] of b) if (deepEqual(k, k2, strict, memo) && deepEqual(v, v2, strict, memo)) continue outer;
      return false;
    }
  } else if (types.isSet(a)) {
    if (a.size !== b.size) return false;
    outer: for (const v of a) {
      if (b.has(v)) continue;
      if (typeof v !== 'object' || v === null) {
        if (strict) return false;
        for (const w of b) if (v == w) continue outer;
        return false;
      }
      for (const w of b) if (deepEqual(v, w, strict, memo)) continue outer;
      return false;
    }
  } else if (types.isWeakMap(a) || types.isWeakSet(a) || types.isPromise(a)) {
    return false; // only identical ones are equal, and a !== b here
  }
  const ka = ownKeys(a), kb = ownKeys(b);
  if (ka.length !== kb.length) return false;
  const setB = new Set(kb);
  for (const k of ka) {
    if (!setB.has(k)) return false;
    if (!deepEqual(a[k], b[k], strict, memo)) return false;
  }
  return true;
}
