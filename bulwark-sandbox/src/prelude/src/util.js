// Internal helpers shared by the prelude modules. Nothing here is reachable from user code.

export const ReflectApply = Reflect.apply;
export const ObjectDefineProperty = Object.defineProperty;
export const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
export const ObjectGetPrototypeOf = Object.getPrototypeOf;
export const ReflectOwnKeys = Reflect.ownKeys;
export const ObjectCreate = Object.create;
export const ArrayIsArray = Array.isArray;
export const StringFromCharCode = String.fromCharCode;
export const MathMin = Math.min;
export const MathMax = Math.max;
/** workerd's words for I/O (fetch(), connect(), waitUntil) attempted outside any handler. */
export const GLOBAL_SCOPE_IO = 'Disallowed operation called within global scope. Asynchronous I/O (ex: fetch() or '
  + 'connect()), setting a timeout, and generating random values are not allowed within global scope. '
  + 'To fix this error, perform this operation within a handler. '
  + 'https://developers.cloudflare.com/workers/runtime-apis/handlers/';
export const MathFloor = Math.floor;
export const NumberIsFinite = Number.isFinite;
export const PromiseCtor = Promise;
export const PromiseResolve = Promise.resolve.bind(Promise);
export const PromiseReject = Promise.reject.bind(Promise);
const promiseThen = Promise.prototype.then;
export const PromiseThen = (p, onOk, onErr) => ReflectApply(promiseThen, p, [onOk, onErr]);

const getterOf = (proto, name) => ObjectGetOwnPropertyDescriptor(proto, name).get;
const abByteLength = getterOf(ArrayBuffer.prototype, 'byteLength');
const TypedArrayProto = ObjectGetPrototypeOf(Uint8Array.prototype);
const taTag = getterOf(TypedArrayProto, Symbol.toStringTag);
const taBuffer = getterOf(TypedArrayProto, 'buffer');
const taByteOffset = getterOf(TypedArrayProto, 'byteOffset');
const taByteLength = getterOf(TypedArrayProto, 'byteLength');
const dvBuffer = getterOf(DataView.prototype, 'buffer');
const dvByteOffset = getterOf(DataView.prototype, 'byteOffset');
const dvByteLength = getterOf(DataView.prototype, 'byteLength');
// SharedArrayBuffer: the startup snapshot is made in a context that has none, so its
// byteLength getter is taken when the prelude is installed into a worker's isolate (before any
// worker code runs, so the worker cannot substitute its own).
let sabByteLength = null;
export function captureSharedArrayBuffer() {
  try {
    if (typeof SharedArrayBuffer === 'function') sabByteLength = getterOf(SharedArrayBuffer.prototype, 'byteLength');
  } catch {
    sabByteLength = null;
  }
}
captureSharedArrayBuffer();

export function isArrayBuffer(v) {
  if (typeof v !== 'object' || v === null) return false;
  try { ReflectApply(abByteLength, v, []); return true; } catch { return false; }
}
// ES2024; absent in older engines (Node 20, the prelude's test host), where nothing reads as detached.
const abDetached = ObjectGetOwnPropertyDescriptor(ArrayBuffer.prototype, 'detached')?.get;
/** True when a BufferSource's (non-shared) buffer is detached: WebIDL reads it as no bytes. */
export function isDetachedBufferSource(v) {
  let buffer = v;
  if (typedArrayName(v) !== undefined) buffer = ReflectApply(taBuffer, v, []);
  else if (isDataView(v)) buffer = ReflectApply(dvBuffer, v, []);
  return abDetached !== undefined && isArrayBuffer(buffer) && ReflectApply(abDetached, buffer, []) === true;
}
/** The buffer of a typed array, read with the intrinsic getter. */
export function viewBuffer(view) {
  return ReflectApply(taBuffer, view, []);
}
export function isSharedArrayBuffer(v) {
  if (sabByteLength === null || typeof v !== 'object' || v === null) return false;
  try { ReflectApply(sabByteLength, v, []); return true; } catch { return false; }
}
/** Name of the typed array class ("Uint8Array", ...) or undefined. */
export function typedArrayName(v) {
  return ReflectApply(taTag, v, []);
}
export function isDataView(v) {
  if (typeof v !== 'object' || v === null) return false;
  try { ReflectApply(dvBuffer, v, []); return true; } catch { return false; }
}
export function isArrayBufferView(v) {
  return typedArrayName(v) !== undefined || isDataView(v);
}
export function isUint8Array(v) {
  return typedArrayName(v) === 'Uint8Array';
}
/** A Uint8Array view over the bytes of an ArrayBuffer or ArrayBufferView (no copy). */
export function viewBytes(v) {
  if (typedArrayName(v) !== undefined) {
    return new Uint8Array(ReflectApply(taBuffer, v, []), ReflectApply(taByteOffset, v, []), ReflectApply(taByteLength, v, []));
  }
  if (isDataView(v)) {
    return new Uint8Array(ReflectApply(dvBuffer, v, []), ReflectApply(dvByteOffset, v, []), ReflectApply(dvByteLength, v, []));
  }
  if (isArrayBuffer(v) || isSharedArrayBuffer(v)) return new Uint8Array(v);
  return null;
}
/**
 * Puts `replacement` where `holder[name]` (a native function) was, with the native's shape: its
 * own properties (name, length, statics such as ArrayBuffer.isView or WebAssembly.Module.exports),
 * and, for a constructor, its non-writable prototype, whose constructor becomes the replacement.
 * The native's instances keep their prototype, so instanceof and brand checks hold.
 */
export function replaceNative(holder, name, replacement) {
  const native = holder[name];
  for (const key of ReflectOwnKeys(native)) {
    if (key !== 'prototype') ObjectDefineProperty(replacement, key, ObjectGetOwnPropertyDescriptor(native, key));
  }
  if (native.prototype !== undefined) {
    ObjectDefineProperty(replacement, 'prototype', { value: native.prototype, writable: false, enumerable: false, configurable: false });
    ObjectDefineProperty(native.prototype, 'constructor', { value: replacement, writable: true, enumerable: false, configurable: true });
  }
  ObjectDefineProperty(holder, name, { value: replacement, writable: true, enumerable: false, configurable: true });
}

/** Copy of the bytes of a BufferSource, or throw TypeError. */
export function copyBufferSource(v, what = 'argument') {
  const view = viewBytes(v);
  if (view === null) throw new TypeError(`Failed to convert ${what}: not an ArrayBuffer or ArrayBufferView`);
  return view.slice();
}
export function bytesToArrayBuffer(u8) {
  if (u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength) return u8.buffer;
  return u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.byteLength);
}
export function concatBytes(chunks, total) {
  if (total === undefined) { total = 0; for (let i = 0; i < chunks.length; i++) total += chunks[i].byteLength; }
  const out = new Uint8Array(total);
  let off = 0;
  for (let i = 0; i < chunks.length; i++) { out.set(chunks[i], off); off += chunks[i].byteLength; }
  return out;
}

/** WebIDL USVString conversion. */
export function toUSVString(v) {
  const s = typeof v === 'string' ? v : `${v}`;
  return s.isWellFormed() ? s : s.toWellFormed();
}
/** WebIDL DOMString conversion (throws on Symbol like String() in template). */
export function toDOMString(v) {
  return typeof v === 'string' ? v : `${v}`;
}
/** WebIDL ByteString conversion. */
export function toByteString(v, what) {
  const s = toDOMString(v);
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 255) throw new TypeError(`${what}: Cannot convert string to ByteString because the character at index ${i} has a value of ${s.charCodeAt(i)} which is greater than 255.`);
  }
  return s;
}

/** WebIDL dictionary access: undefined/null → empty, objects as-is, others TypeError. */
export function toDictionary(v, what) {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' && typeof v !== 'function') throw new TypeError(`${what}: The provided value is not of type 'object'.`);
  return v;
}

export function illegalConstructor() {
  throw new TypeError('Illegal constructor');
}

/** Set Symbol.toStringTag and make prototype members enumerable (as WebIDL does). */
export function webidlClass(cls, name = cls.name) {
  const proto = cls.prototype;
  for (const key of Reflect.ownKeys(proto)) {
    if (key === 'constructor' || typeof key === 'symbol') continue;
    const d = ObjectGetOwnPropertyDescriptor(proto, key);
    d.enumerable = true;
    ObjectDefineProperty(proto, key, d);
  }
  ObjectDefineProperty(proto, Symbol.toStringTag, { value: name, configurable: true, writable: false, enumerable: false });
  return cls;
}

/** Define non-enumerable, writable, configurable global properties. */
export function defineGlobals(obj) {
  for (const key of Reflect.ownKeys(obj)) {
    ObjectDefineProperty(globalThis, key, { value: obj[key], writable: true, configurable: true, enumerable: false });
  }
}

/** Iterator prototype helper used by pair iterators (Headers, URLSearchParams, FormData). */
const IteratorPrototype = ObjectGetPrototypeOf(ObjectGetPrototypeOf([][Symbol.iterator]()));
export function makeIteratorClass(name) {
  const proto = Object.create(IteratorPrototype);
  ObjectDefineProperty(proto, Symbol.toStringTag, { value: `${name} Iterator`, configurable: true });
  return proto;
}
/**
 * Create an iterator over `getPairs()` (re-read each step, so it is live) with kind
 * "key" | "value" | "key+value".
 */
export function createPairIterator(proto, getPairs, kind) {
  let index = 0;
  const it = Object.create(proto);
  ObjectDefineProperty(it, 'next', {
    value: function next() {
      const pairs = getPairs();
      if (index >= pairs.length) return { value: undefined, done: true };
      const pair = pairs[index++];
      const value = kind === 'key' ? pair[0] : kind === 'value' ? pair[1] : [pair[0], pair[1]];
      return { value, done: false };
    },
    writable: true, configurable: true, enumerable: true,
  });
  return it;
}

/**
 * Whether {@code proto} is {@code start} or on its prototype chain. A walk, not instanceof: no
 * Symbol.hasInstance of the program runs.
 */
export function protoChainHas(start, proto) {
  for (let p = start; p !== null && p !== undefined; p = ObjectGetPrototypeOf(p)) if (p === proto) return true;
  return false;
}

/** arr.push(v) without [[Set]]: a setter a worker put on Array.prototype[i] never runs. */
export function append(arr, v) {
  ObjectDefineProperty(arr, arr.length, { value: v, writable: true, enumerable: true, configurable: true });
}
export const isObjectLike = (v) => (typeof v === 'object' && v !== null) || typeof v === 'function';

/** HTTP whitespace / ASCII helpers. */
export function isHTTPWhitespace(c) { return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; }
export function trimHTTPWhitespace(s) {
  let a = 0, b = s.length;
  while (a < b && isHTTPWhitespace(s.charCodeAt(a))) a++;
  while (b > a && isHTTPWhitespace(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}
export function asciiLower(s) {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}
const tokenRe = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
export function isToken(s) { return tokenRe.test(s); }
