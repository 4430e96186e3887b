// structuredClone (HTML StructuredSerialize + StructuredDeserialize, in one pass).
import { DOMException, isDOMException } from './dom-exception.js';
import { ObjectGetOwnPropertyDescriptor, ObjectDefineProperty, ReflectApply, ArrayIsArray, isArrayBuffer, isSharedArrayBuffer, typedArrayName, isDataView, isObjectLike, toDictionary } from './util.js';
import { Blob, File, isBlob, isFile, blobBytes } from './blob.js';
import { Headers, isHeaders } from './headers.js';
import { compat, ENHANCED_ERRORS } from './compat.js';

/**
 * Whether this worker serializes errors as workerd's enhanced_error_serialization does (on from
 * 2026-04-21): errors are cloned and serialized with their own properties and without their stack
 * (serialize.js' richErrors when its caller does not say).
 */
export function enhancedErrorSerialization() { return compat(ENHANCED_ERRORS); }

const ReflectOwnKeys = Reflect.ownKeys;
const ObjectKeys = Object.keys;
const ObjectHasOwnProperty = Object.prototype.hasOwnProperty;

const getter = (proto, name) => ObjectGetOwnPropertyDescriptor(proto, name).get;
const mapSize = getter(Map.prototype, 'size');
const setSize = getter(Set.prototype, 'size');
const regexpGlobal = getter(RegExp.prototype, 'global');
const regexpSource = getter(RegExp.prototype, 'source');
const regexpFlags = getter(RegExp.prototype, 'flags');
const dateGetTime = Date.prototype.getTime;
const mapForEach = Map.prototype.forEach;
const setForEach = Set.prototype.forEach;
const numberValueOf = Number.prototype.valueOf;
const stringValueOf = String.prototype.valueOf;
const booleanValueOf = Boolean.prototype.valueOf;
const bigintValueOf = BigInt.prototype.valueOf;
const symbolValueOf = Symbol.prototype.valueOf;
const weakMapHas = WeakMap.prototype.has;
const weakSetHas = WeakSet.prototype.has;
const weakRefDeref = WeakRef.prototype.deref;
const arrayBufferSlice = ArrayBuffer.prototype.slice;
const abTransfer = ArrayBuffer.prototype.transfer;
const abDetachedDesc = ObjectGetOwnPropertyDescriptor(ArrayBuffer.prototype, 'detached');
const abDetached = abDetachedDesc === undefined ? null : abDetachedDesc.get;
const isDetached = (b) => abDetached !== null && ReflectApply(abDetached, b, []) === true;
const TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype);
const taBuffer = getter(TypedArrayProto, 'buffer');
const taByteOffset = getter(TypedArrayProto, 'byteOffset');
const taLength = getter(TypedArrayProto, 'length');
const dvBuffer = getter(DataView.prototype, 'buffer');
const dvByteOffset = getter(DataView.prototype, 'byteOffset');
const dvByteLength = getter(DataView.prototype, 'byteLength');
const isErrorNative = typeof Error.isError === 'function' ? Error.isError : null;
const typedArrayCtors = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
};
if (typeof Float16Array === 'function') typedArrayCtors.Float16Array = Float16Array;
const errorCtors = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };

function is(fn, v, ...args) {
  try { ReflectApply(fn, v, args); return true; } catch { return false; }
}
function cloneError(what) {
  return new DOMException(`${what} could not be cloned.`, 'DataCloneError');
}
function describe(v) {
  if (typeof v === 'function') return v.name ? `function ${v.name}()` : 'function';
  if (typeof v === 'symbol') return v.toString();
  try { return Object.prototype.toString.call(v).replace(/^\[object (.*)\]$/, '#<$1>'); } catch { return 'value'; }
}

function isErrorObject(v) {
  if (isErrorNative !== null) return isErrorNative(v);
  return v instanceof Error || Object.prototype.toString.call(v) === '[object Error]';
}

export function structuredClone(value, options = undefined) {
  if (arguments.length < 1) throw new TypeError("Failed to execute 'structuredClone': 1 argument required, but only 0 present.");
  const opts = toDictionary(options, "Failed to execute 'structuredClone'");
  const memory = new Map();
  if (opts.transfer !== undefined) {
    const list = Array.from(opts.transfer);
    for (const t of list) {
      if (!isArrayBuffer(t)) throw new DOMException('Value not transferable', 'DataCloneError');
      if (memory.has(t)) throw new DOMException('ArrayBuffer at index 0 is a duplicate of an earlier ArrayBuffer.', 'DataCloneError');
      if (isDetached(t)) throw new DOMException('An ArrayBuffer is detached and could not be cloned.', 'DataCloneError');
      memory.set(t, null);
    }
    // As StructuredSerializeWithTransfer: the whole value is serialized first and the transferred
    // buffers are detached after. Detaching first would make every view on a transferred buffer
    // (a Uint8Array inside the value) read as offset 0, length 0 while it is cloned.
    for (const t of list) memory.set(t, ReflectApply(arrayBufferSlice, t, []));
    const out = clone(value, memory);
    if (typeof abTransfer === 'function') {
      for (const t of list) ReflectApply(abTransfer, t, []);
    }
    return out;
  }
  return clone(value, memory);
}

function clone(value, memory) {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
    if (typeof value === 'symbol') throw cloneError(describe(value));
    return value;
  }
  if (memory.has(value)) return memory.get(value);
  if (typeof value === 'function') throw cloneError(describe(value));

  let out;
  if (is(booleanValueOf, value)) out = Object(ReflectApply(booleanValueOf, value, []));
  else if (is(numberValueOf, value)) out = Object(ReflectApply(numberValueOf, value, []));
  else if (is(bigintValueOf, value)) out = Object(ReflectApply(bigintValueOf, value, []));
  else if (is(stringValueOf, value)) out = Object(ReflectApply(stringValueOf, value, []));
  else if (is(symbolValueOf, value)) throw cloneError('Symbol object');
  else if (is(dateGetTime, value)) out = new Date(ReflectApply(dateGetTime, value, []));
  else if (is(regexpGlobal, value) && value !== RegExp.prototype) {
    out = new RegExp(ReflectApply(regexpSource, value, []), ReflectApply(regexpFlags, value, []));
  } else if (isArrayBuffer(value)) {
    if (isDetached(value)) throw new DOMException('An ArrayBuffer is detached and could not be cloned.', 'DataCloneError');
    out = ReflectApply(arrayBufferSlice, value, []);
  } else if (isSharedArrayBuffer(value)) {
    throw cloneError('SharedArrayBuffer');
  } else if (typedArrayName(value) !== undefined) {
    const name = typedArrayName(value);
    const buffer = clone(ReflectApply(taBuffer, value, []), memory);
    out = new typedArrayCtors[name](buffer, ReflectApply(taByteOffset, value, []), ReflectApply(taLength, value, []));
  } else if (isDataView(value)) {
    const buffer = clone(ReflectApply(dvBuffer, value, []), memory);
    out = new DataView(buffer, ReflectApply(dvByteOffset, value, []), ReflectApply(dvByteLength, value, []));
  } else if (is(mapSize, value)) {
    out = new Map();
    memory.set(value, out);
    const entries = [];
    ReflectApply(mapForEach, value, [(v, k) => { entries.push([k, v]); }]);
    for (const [k, v] of entries) out.set(clone(k, memory), clone(v, memory));
    return out;
  } else if (is(setSize, value)) {
    out = new Set();
    memory.set(value, out);
    const entries = [];
    ReflectApply(setForEach, value, [(v) => { entries.push(v); }]);
    for (const v of entries) out.add(clone(v, memory));
    return out;
  } else if (isDOMException(value)) {
    out = new DOMException(value.message, value.name);
    try { const s = value.stack; if (typeof s === 'string') Object.defineProperty(out, 'stack', { value: s, writable: true, configurable: true }); } catch { /* ignore */ }
  } else if (isFile(value)) {
    out = new File([value], value.name, { type: value.type, lastModified: value.lastModified });
  } else if (isBlob(value)) {
    out = new Blob([value], { type: value.type });
  } else if (isErrorObject(value)) {
    return enhancedErrorSerialization() ? cloneErrorEnhanced(value, memory) : cloneErrorLegacy(value, memory);
  } else if (ArrayIsArray(value)) {
    out = new Array(value.length);
    memory.set(value, out);
    for (const key of Object.keys(value)) out[key] = clone(value[key], memory);
    return out;
  } else if (is(weakMapHas, value, {}) || is(weakSetHas, value, {}) || is(weakRefDeref, value) || value instanceof Promise) {
    throw cloneError(describe(value));
  } else if (isHeaders(value)) {
    out = new Headers(value);
  } else if (isPlatformObject(value)) {
    throw notSerializable(value);
  } else {
    out = {};
    memory.set(value, out);
    for (const key of Object.keys(value)) out[key] = clone(value[key], memory);
    return out;
  }
  memory.set(value, out);
  return out;
}

/**
 * An error as V8 serializes it (no enhanced_error_serialization): one of seven classes by its
 * name (else Error), its own message, its stack, its cause; no other property.
 */
function cloneErrorLegacy(value, memory) {
  let name = value.name;
  name = Object.prototype.hasOwnProperty.call(errorCtors, name) ? name : 'Error';
  const msgDesc = ObjectGetOwnPropertyDescriptor(value, 'message');
  const out = msgDesc !== undefined && 'value' in msgDesc ? new errorCtors[name](`${msgDesc.value}`) : new errorCtors[name]();
  memory.set(value, out);
  let stack;
  try { stack = value.stack; } catch { /* ignore */ }
  if (typeof stack === 'string') ObjectDefineProperty(out, 'stack', { value: stack, writable: true, configurable: true, enumerable: false });
  const causeDesc = ObjectGetOwnPropertyDescriptor(value, 'cause');
  if (causeDesc !== undefined && 'value' in causeDesc) {
    ObjectDefineProperty(out, 'cause', { value: clone(causeDesc.value, memory), writable: true, configurable: true, enumerable: false });
  }
  return out;
}

// enhanced_error_serialization's classes, by the error's name (workerd's ErrorTag); another name
// makes an Error that keeps the name as an own property.
const enhancedCtors = { Error, TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError, AggregateError };
if (typeof SuppressedError === 'function') enhancedCtors.SuppressedError = SuppressedError;

/**
 * An error as workerd's enhanced_error_serialization clones it: its class by name, its message
 * (inherited too; it must be a string), and its own string-keyed properties but name, message and
 * indices, copied as workerd does through a plain object with ordinary assignment (a setter on
 * Object.prototype sees them) and defined on the copy (one on Error.prototype never runs). The
 * stack is not kept: the copy has its own.
 */
function cloneErrorEnhanced(value, memory) {
  const name = `${value.name}`;
  const message = value.message;
  const own = ReflectOwnKeys(value);
  const props = {};
  for (let i = 0; i < own.length; i++) {
    const key = own[i];
    if (typeof key !== 'string' || key === 'name' || key === 'message' || isIndexKey(key)) continue;
    props[key] = value[key];
  }
  if (typeof message !== 'string') {
    throw new DOMException('Deserialization failed: error message is not a string', 'DataCloneError');
  }
  const known = ReflectApply(ObjectHasOwnProperty, enhancedCtors, [name]);
  const ctor = known ? enhancedCtors[name] : Error;
  const out = ctor === AggregateError ? new ctor([], message) : new ctor(message);
  if (ctor === AggregateError) delete out.errors; // defined again below if the error had its own
  if (!known) ObjectDefineProperty(out, 'name', { value: name, writable: true, enumerable: true, configurable: true });
  memory.set(value, out);
  const keys = ObjectKeys(props);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const v = clone(props[key], memory);
    if (key === 'stack') continue; // read and copied, then not restored (workerd's preserveStackInErrors)
    ObjectDefineProperty(out, key, { value: v, writable: true, enumerable: true, configurable: true });
  }
  return out;
}

function isIndexKey(key) {
  const n = +key;
  return key !== '' && Number.isInteger(n) && n >= 0 && n < 4294967295 && `${n}` === key;
}

let platformChecks = [];
/** Register brand checks for platform objects that are not serializable. */
export function registerNonSerializable(check) { platformChecks.push(check); }
function isPlatformObject(v) {
  for (const check of platformChecks) if (check(v)) return true;
  return false;
}
const ObjectPrototypeToString = Object.prototype.toString;

/** workerd's error for a platform object that cannot be serialized (serialize.js's too). */
export function notSerializable(v) {
  let type = 'Object';
  try { type = ReflectApply(ObjectPrototypeToString, v, []).slice(8, -1); } catch { /* a revoked proxy */ }
  return new DOMException(`Could not serialize object of type "${type}". This type does not support serialization.`,
    'DataCloneError');
}

/** True for platform objects that no serializer may copy (used by serialize.js too). */
export function isNonSerializable(v) { return isPlatformObject(v); }
