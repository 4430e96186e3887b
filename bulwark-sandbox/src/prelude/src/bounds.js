// Bounds on V8 builtins that run to the end of their input without looking at TerminateExecution
// (measured on V8 14.7, see Isolate.ABANDON_AFTER_NANOS): the CPU limit could not stop them, and an
// isolate stuck in one is written off. These wrappers keep each native step short, so the limit
// stops the work between steps, with the same results as the builtins.
import { ReflectApply, ObjectDefineProperty, ObjectGetOwnPropertyDescriptor, ObjectGetPrototypeOf, ArrayIsArray } from './util.js';

const TypedArrayProto = ObjectGetPrototypeOf(Uint8Array.prototype);
const getter = (o, name) => ObjectGetOwnPropertyDescriptor(o, name).get;
const taLength = getter(TypedArrayProto, 'length');
const taTag = getter(TypedArrayProto, Symbol.toStringTag);
const taSort = TypedArrayProto.sort;
const taSubarray = TypedArrayProto.subarray;
const taSet = TypedArrayProto.set;
const constructors = { __proto__: null };
for (const name of ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array',
  'Uint32Array', 'Float16Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array']) {
  if (typeof globalThis[name] === 'function') constructors[name] = globalThis[name];
}

const method = (proto, name, fn) => ObjectDefineProperty(proto, name, { value: fn, writable: true, enumerable: false, configurable: true });

// ---- %TypedArray%.prototype.sort / toSorted without a comparator: std::sort, not interruptible
// (50 million floats: 2 s). Sorted natively in runs of TYPED_RUN elements, then merged in JS.
const TYPED_RUN = 1 << 19;
// The default order: numeric, -0 before +0, NaN last (BigInts compare numerically).
const before = (a, b) => a < b || (b !== b && a === a) || (a === 0 && b === 0 && 1 / a < 0 && 1 / b > 0);

function mergeRuns(ta, n) {
  const Ctor = constructors[ReflectApply(taTag, ta, [])];
  let src = ta, dst = new Ctor(n);
  for (let width = TYPED_RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
      let i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        const x = src[i], y = src[j];
        if (before(y, x)) { dst[k++] = y; j++; } else { dst[k++] = x; i++; }
      }
      if (i < mid) ReflectApply(taSet, dst, [ReflectApply(taSubarray, src, [i, mid]), k]);
      else if (j < hi) ReflectApply(taSet, dst, [ReflectApply(taSubarray, src, [j, hi]), k]);
    }
    const t = src; src = dst; dst = t;
  }
  if (src !== ta) ReflectApply(taSet, ta, [src, 0]);
}

function sortTyped(ta, n) {
  for (let lo = 0; lo < n; lo += TYPED_RUN) {
    ReflectApply(taSort, ReflectApply(taSubarray, ta, [lo, lo + TYPED_RUN < n ? lo + TYPED_RUN : n]), []);
  }
  mergeRuns(ta, n);
  return ta;
}

method(TypedArrayProto, 'sort', { sort(comparefn) {
  if (comparefn !== undefined) return ReflectApply(taSort, this, [comparefn]);
  const n = ReflectApply(taLength, this, []);
  return n <= TYPED_RUN ? ReflectApply(taSort, this, []) : sortTyped(this, n);
} }.sort);

const taToSorted = TypedArrayProto.toSorted;
if (typeof taToSorted === 'function') {
  method(TypedArrayProto, 'toSorted', { toSorted(comparefn) {
    if (comparefn !== undefined) return ReflectApply(taToSorted, this, [comparefn]);
    const n = ReflectApply(taLength, this, []);
    if (n <= TYPED_RUN) return ReflectApply(taToSorted, this, []);
    const copy = new constructors[ReflectApply(taTag, this, [])](n);
    ReflectApply(taSet, copy, [this, 0]);
    return sortTyped(copy, n);
  } }.toSorted);
}

// ---- Array.prototype.sort / toSorted without a comparator compare as strings in Torque, not
// interruptible (3 million numbers: 17 s). Past ARRAY_NATIVE_MAX elements the same order is
// given by a comparator, whose calls the CPU limit can stop. Undefined and holes are handled by
// sort itself, as with the default order.
const ARRAY_NATIVE_MAX = 1 << 12;
const arraySort = Array.prototype.sort;
const arrayToSorted = Array.prototype.toSorted;
const byString = (x, y) => {
  const a = `${x}`, b = `${y}`;
  return a < b ? -1 : a > b ? 1 : 0;
};
method(Array.prototype, 'sort', { sort(comparefn) {
  if (comparefn === undefined && ArrayIsArray(this) && this.length > ARRAY_NATIVE_MAX) {
    return ReflectApply(arraySort, this, [byString]);
  }
  return ReflectApply(arraySort, this, [comparefn]);
} }.sort);
if (typeof arrayToSorted === 'function') {
  method(Array.prototype, 'toSorted', { toSorted(comparefn) {
    if (comparefn === undefined && ArrayIsArray(this) && this.length > ARRAY_NATIVE_MAX) {
      return ReflectApply(arrayToSorted, this, [byString]);
    }
    return ReflectApply(arrayToSorted, this, [comparefn]);
  } }.toSorted);
}

// ---- JSON.parse builds nested values without looking at termination; time and memory grow with
// depth (5 million nested arrays: 33 s, and the heap limit was raised three times). Nesting deeper
// than MAX_JSON_DEPTH is a SyntaxError. Only texts long enough to be that deep are looked at:
// strings and everything but brackets are dropped natively, the brackets left are counted in JS.
const MAX_JSON_DEPTH = 100_000;
const jsonParse = JSON.parse;
const stringReplace = String.prototype.replace;
const charCodeAt = String.prototype.charCodeAt;
const NOT_BRACKETS = /"(?:[^"\\]|\\[^])*(?:"|$)|[^[\]{}"]+/g;

function tooDeep(text) {
  const skeleton = ReflectApply(stringReplace, text, [NOT_BRACKETS, '']);
  if (skeleton.length <= MAX_JSON_DEPTH) return false;
  let depth = 0;
  for (let i = 0; i < skeleton.length; i++) {
    const c = ReflectApply(charCodeAt, skeleton, [i]);
    if (c === 0x5b || c === 0x7b) { if (++depth > MAX_JSON_DEPTH) return true; } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

method(JSON, 'parse', { parse(text, reviver) {
  const s = `${text}`;
  if (s.length > MAX_JSON_DEPTH && tooDeep(s)) {
    throw new SyntaxError(`JSON.parse: nesting deeper than ${MAX_JSON_DEPTH} levels`);
  }
  return ReflectApply(jsonParse, JSON, [s, reviver]);
} }.parse);
