// Structured serialization to bytes (HTML StructuredSerialize semantics, a compact versioned
// format of our own). Used for durable-object KV values and, across processes, for RPC.
//
//   serialize(value, hooks?)   -> Uint8Array
//   deserialize(bytes, hooks?) -> value
//
// hooks (all optional):
//   encode(value) -> integer slot >= 0 (or {slot, tag}, tag a byte), or undefined to serialize normally. Called for every
//     object and function before anything else, so the caller can pass host objects (capability
//     stubs, RpcTarget instances, functions) by reference: it keeps them in its own table and
//     returns their slot number.
//   decode(slot, tag) -> the value to put where that slot was written.
//   maxBytes: the serialized size limit (default 32 MiB); past it, RangeError.
//   rpc: the platform values workerd's RPC carries cross too: Blob and File (type, name,
//     lastModified, bytes), Headers (its pairs, in order), and Request and Response (url, method,
//     headers, redirect, cf; status, statusText, headers, cf; and the body: its bytes when in hand
//     and small, else its stream, which hooks.encode passes by reference).
//   richErrors: errors cross as workerd's RPC sends them (not as structured clone does): the
//     class found on the prototype chain (AggregateError too), message, a name that is not the
//     class's own, and every own string-keyed property but message and stack (getters read,
//     functions left out); no stack (the caller's error gets its own, as in workerd). When not
//     given, the worker's enhanced_error_serialization switch decides (structured-clone.js);
//     without it errors cross as V8 writes them: one of seven classes, message, stack, cause.
//
// Format (version 1): the bytes 0xB7 0x01, then one value. A value is a tag byte followed by its
// payload; numbers in payloads are unsigned LEB128 varints unless noted. Every object (and
// hooked slot) gets the next id when first written; a later occurrence is written as REF id, so
// shared references and cycles survive. Deserializing checks every length against the bytes that
// are left and every id and offset, and rejects malformed input with a DataCloneError.
import { DOMException, isDOMException } from './dom-exception.js';
import { ReflectApply, ObjectGetOwnPropertyDescriptor, ObjectDefineProperty, ArrayIsArray, isArrayBuffer, isSharedArrayBuffer, typedArrayName, isDataView } from './util.js';
import { utf8Encode, utf8DecodeReplace } from './encoding.js';
import { Blob, File, isBlob, isFile, blobBytes } from './blob.js';
import { Headers, isHeaders, headersToPairs } from './headers.js';
import { isNonSerializable, notSerializable, enhancedErrorSerialization } from './structured-clone.js';
import { Request, isRequest, requestInternals } from './request.js';
import { Response, isResponse, responseInternals } from './response.js';
import { rpcBody } from './body.js';
import { isReadableStream } from './streams-core.js';

const MAGIC = 0xb7;
const VERSION = 1;
const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;
const MAX_DEPTH = 1000;

const T = {
  UNDEFINED: 0x00, NULL: 0x01, TRUE: 0x02, FALSE: 0x03, INT: 0x04, DOUBLE: 0x05, BIGINT: 0x06,
  STRING: 0x07, STRING16: 0x08, HOLE: 0x0f,
  REF: 0x10, OBJECT: 0x11, ARRAY: 0x12, SPARSE_ARRAY: 0x13, DATE: 0x14, REGEXP: 0x15, MAP: 0x16,
  SET: 0x17, ARRAY_BUFFER: 0x18, VIEW: 0x19, ERROR: 0x1a, NUMBER_OBJECT: 0x1b, STRING_OBJECT: 0x1c,
  BOOLEAN_OBJECT: 0x1d, BIGINT_OBJECT: 0x1e, DOM_EXCEPTION: 0x1f, SLOT: 0x20, RICH_ERROR: 0x21, BLOB: 0x22, FILE: 0x23, HEADERS: 0x24,
  REQUEST: 0x25, RESPONSE: 0x26,
};

// Captured at load so user code replacing globals or prototypes cannot change the format.
const getter = (proto, name) => ObjectGetOwnPropertyDescriptor(proto, name).get;
const mapSize = getter(Map.prototype, 'size');
const setSize = getter(Set.prototype, 'size');
const mapForEach = Map.prototype.forEach;
const setForEach = Set.prototype.forEach;
const mapSet = Map.prototype.set;
const setAdd = Set.prototype.add;
const mapGet = Map.prototype.get;
const mapHas = Map.prototype.has;
const regexpSource = getter(RegExp.prototype, 'source');
const regexpFlags = getter(RegExp.prototype, 'flags');
const regexpGlobal = getter(RegExp.prototype, 'global');
const dateGetTime = Date.prototype.getTime;
const numberValueOf = Number.prototype.valueOf;
const stringValueOf = String.prototype.valueOf;
const booleanValueOf = Boolean.prototype.valueOf;
const bigintValueOf = BigInt.prototype.valueOf;
const symbolValueOf = Symbol.prototype.valueOf;
const weakMapHas = WeakMap.prototype.has;
const weakSetHas = WeakSet.prototype.has;
const weakRefDeref = WeakRef.prototype.deref;
const PromiseCtor = Promise;
const abByteLength = getter(ArrayBuffer.prototype, 'byteLength');
const TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype);
const taBuffer = getter(TypedArrayProto, 'buffer');
const taByteOffset = getter(TypedArrayProto, 'byteOffset');
const taLength = getter(TypedArrayProto, 'length');
const dvBuffer = getter(DataView.prototype, 'buffer');
const dvByteOffset = getter(DataView.prototype, 'byteOffset');
const dvByteLength = getter(DataView.prototype, 'byteLength');
const ObjectKeys = Object.keys;
const ObjectPrototype = Object.prototype;
const hasOwn = Object.prototype.hasOwnProperty;
const isErrorNative = typeof Error.isError === 'function' ? Error.isError : null;
const isWellFormed = String.prototype.isWellFormed;
const StringFromCharCode = String.fromCharCode;
const NumberIsInteger = Number.isInteger;
const ObjectIs = Object.is;
const BigIntCtor = BigInt;
const U8 = Uint8Array;

// View kinds, in a fixed order (the index is the wire value).
const VIEW_KINDS = ['DataView', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
  'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'Float16Array'];
const viewCtors = {
  DataView, Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
  Float16Array: typeof Float16Array === 'function' ? Float16Array : undefined,
};
const ERROR_NAMES = ['Error', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError'];
const errorCtors = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };
// richErrors' classes, by index; their prototypes captured at load (user code may replace globals).
const RICH_CTORS = [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, AggregateError];
const RICH_PROTOS = RICH_CTORS.map((c) => c.prototype);
const RICH_NAMES = RICH_CTORS.map((c) => c.name);
const ReflectOwnKeys = Reflect.ownKeys;
const ObjectGetPrototypeOf = Object.getPrototypeOf;
const ArrayIndexOf = Array.prototype.indexOf;

function cloneError(what) {
  return new DOMException(`${what} could not be cloned.`, 'DataCloneError');
}
function invalid(why) {
  return new DOMException(`Unable to deserialize cloned data: ${why}.`, 'DataCloneError');
}
function brand(fn, v, ...args) {
  try { ReflectApply(fn, v, args); return true; } catch { return false; }
}
function describe(v) {
  if (typeof v === 'function') return v.name ? `function ${v.name}()` : 'function';
  if (typeof v === 'symbol') return 'Symbol()';
  try { return ReflectApply(ObjectPrototype.toString, v, []).replace(/^\[object (.*)\]$/, '#<$1>'); } catch { return 'value'; }
}
function isErrorObject(v) {
  if (isErrorNative !== null) return isErrorNative(v);
  return ReflectApply(ObjectPrototype.toString, v, []) === '[object Error]';
}
function defineData(obj, key, value, enumerable = true) {
  ObjectDefineProperty(obj, key, { value, writable: true, enumerable, configurable: true });
}

// ---- writing ----

class Writer {
  constructor(max) { this.max = max; this.buf = new U8(256); this.len = 0; this.dv = new DataView(this.buf.buffer); }
  ensure(n) {
    const need = this.len + n;
    if (need > this.max) throw new RangeError(`The serialized value is larger than the limit of ${this.max} bytes.`);
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    // Past 1 MiB, grow by a quarter at least rather than doubling: a 33 MiB payload (an RPC one may
    // reach 32 MiB) must not hold 64 MiB.
    if (need > 1 << 20 && cap > need + (need >> 2)) cap = need + (need >> 2);
    if (cap > this.max) cap = this.max;
    const next = new U8(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }
  byte(b) { this.ensure(1); this.buf[this.len++] = b; }
  varint(n) {
    // n: a non-negative integer <= 2^53.
    this.ensure(8);
    while (n >= 0x80) { this.buf[this.len++] = (n % 0x80) | 0x80; n = Math.floor(n / 0x80); }
    this.buf[this.len++] = n;
  }
  double(d) { this.ensure(8); this.dv.setFloat64(this.len, d, true); this.len += 8; }
  bytes(u8) { this.ensure(u8.length); this.buf.set(u8, this.len); this.len += u8.length; }
  result() { return this.buf.slice(0, this.len); }
}

function writeString(w, s) {
  if (ReflectApply(isWellFormed, s, [])) {
    const u8 = utf8Encode(s);
    w.byte(T.STRING); w.varint(u8.length); w.bytes(u8);
  } else {
    // Lone surrogates survive only as UTF-16 code units.
    w.byte(T.STRING16); w.varint(s.length);
    w.ensure(s.length * 2);
    for (let i = 0; i < s.length; i++) { const c = s.charCodeAt(i); w.buf[w.len++] = c & 0xff; w.buf[w.len++] = c >> 8; }
  }
}

function writeNumber(w, n) {
  if (NumberIsInteger(n) && n >= -0x80000000 && n <= 0x7fffffff && !ObjectIs(n, -0)) {
    w.byte(T.INT); w.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  } else {
    w.byte(T.DOUBLE); w.double(n);
  }
}

function writeBigIntPayload(w, b) {
  const negative = b < 0n;
  let m = negative ? -b : b;
  const bytes = [];
  while (m > 0n) { bytes.push(Number(m & 0xffn)); m >>= 8n; }
  w.byte(negative ? 1 : 0); w.varint(bytes.length); w.bytes(new U8(bytes));
}

class Serializer {
  constructor(hooks) {
    this.w = new Writer(hooks && hooks.maxBytes !== undefined ? hooks.maxBytes : DEFAULT_MAX_BYTES);
    this.encode = hooks && typeof hooks.encode === 'function' ? hooks.encode : null;
    this.richErrors = hooks && hooks.richErrors !== undefined ? !!hooks.richErrors : enhancedErrorSerialization();
    this.rpc = !!(hooks && hooks.rpc);
    this.ids = new Map();
    this.depth = 0;
  }

  remember(v) { ReflectApply(mapSet, this.ids, [v, ReflectApply(mapSize, this.ids, [])]); }

  value(v) {
    const w = this.w;
    switch (typeof v) {
      case 'undefined': w.byte(T.UNDEFINED); return;
      case 'boolean': w.byte(v ? T.TRUE : T.FALSE); return;
      case 'number': writeNumber(w, v); return;
      case 'bigint': w.byte(T.BIGINT); writeBigIntPayload(w, v); return;
      case 'string': writeString(w, v); return;
      case 'symbol': throw cloneError(describe(v));
      default: break;
    }
    if (v === null) { w.byte(T.NULL); return; }
    if (ReflectApply(mapHas, this.ids, [v])) { w.byte(T.REF); w.varint(ReflectApply(mapGet, this.ids, [v])); return; }
    if (this.encode !== null) {
      const encoded = this.encode(v);
      if (encoded !== undefined) {
        // A slot, or {slot, tag}: the tag (a byte) tells decode what kind of host object it is.
        const slot = typeof encoded === 'object' && encoded !== null ? encoded.slot : encoded;
        const tag = typeof encoded === 'object' && encoded !== null ? encoded.tag : 0;
        if (!NumberIsInteger(slot) || slot < 0) throw new TypeError('hooks.encode must return a non-negative integer slot or undefined');
        if (!NumberIsInteger(tag) || tag < 0 || tag > 255) throw new TypeError('hooks.encode: a slot tag is a byte');
        this.remember(v);
        w.byte(T.SLOT); w.varint(slot); w.byte(tag);
        return;
      }
    }
    if (typeof v === 'function') throw cloneError(describe(v));
    if (++this.depth > MAX_DEPTH) throw cloneError('A value nested this deeply');
    try {
      this.object(v);
    } finally {
      this.depth--;
    }
  }

  object(v) {
    const w = this.w;
    if (brand(booleanValueOf, v)) { this.remember(v); w.byte(T.BOOLEAN_OBJECT); w.byte(ReflectApply(booleanValueOf, v, []) ? 1 : 0); return; }
    if (brand(numberValueOf, v)) { this.remember(v); w.byte(T.NUMBER_OBJECT); w.double(ReflectApply(numberValueOf, v, [])); return; }
    if (brand(bigintValueOf, v)) { this.remember(v); w.byte(T.BIGINT_OBJECT); writeBigIntPayload(w, ReflectApply(bigintValueOf, v, [])); return; }
    if (brand(stringValueOf, v)) { this.remember(v); w.byte(T.STRING_OBJECT); writeString(w, ReflectApply(stringValueOf, v, [])); return; }
    if (brand(symbolValueOf, v)) throw cloneError('Symbol object');
    if (brand(dateGetTime, v)) { this.remember(v); w.byte(T.DATE); w.double(ReflectApply(dateGetTime, v, [])); return; }
    if (brand(regexpGlobal, v) && v !== RegExp.prototype) {
      this.remember(v); w.byte(T.REGEXP);
      writeString(w, ReflectApply(regexpSource, v, [])); writeString(w, ReflectApply(regexpFlags, v, []));
      return;
    }
    if (isArrayBuffer(v)) {
      this.remember(v);
      const n = ReflectApply(abByteLength, v, []);
      w.byte(T.ARRAY_BUFFER); w.varint(n); w.bytes(new U8(v, 0, n));
      return;
    }
    if (isSharedArrayBuffer(v)) throw cloneError('SharedArrayBuffer');
    const taName = typedArrayName(v);
    if (taName !== undefined || isDataView(v)) {
      const kind = taName === undefined ? 'DataView' : taName;
      const index = VIEW_KINDS.indexOf(kind);
      if (index < 0) throw cloneError(kind);
      const buffer = taName === undefined ? ReflectApply(dvBuffer, v, []) : ReflectApply(taBuffer, v, []);
      const offset = taName === undefined ? ReflectApply(dvByteOffset, v, []) : ReflectApply(taByteOffset, v, []);
      const length = taName === undefined ? ReflectApply(dvByteLength, v, []) : ReflectApply(taLength, v, []);
      this.remember(v);
      w.byte(T.VIEW); w.byte(index);
      this.value(buffer); // shared with other views on the same buffer
      w.varint(offset); w.varint(length);
      return;
    }
    if (brand(mapSize, v)) {
      this.remember(v);
      const entries = [];
      ReflectApply(mapForEach, v, [(val, key) => { entries.push(key, val); }]);
      w.byte(T.MAP); w.varint(entries.length / 2);
      for (let i = 0; i < entries.length; i++) this.value(entries[i]);
      return;
    }
    if (brand(setSize, v)) {
      this.remember(v);
      const entries = [];
      ReflectApply(setForEach, v, [(val) => { entries.push(val); }]);
      w.byte(T.SET); w.varint(entries.length);
      for (let i = 0; i < entries.length; i++) this.value(entries[i]);
      return;
    }
    if (isDOMException(v)) {
      this.remember(v);
      w.byte(T.DOM_EXCEPTION);
      writeString(w, `${v.name}`); writeString(w, `${v.message}`);
      let stack; try { stack = v.stack; } catch { /* no stack */ }
      // richErrors: no stack, as for other errors.
      if (typeof stack === 'string' && !this.richErrors) { w.byte(1); writeString(w, stack); } else w.byte(0);
      return;
    }
    if (isErrorObject(v)) { if (this.richErrors) this.richError(v); else this.error(v); return; }
    if (ArrayIsArray(v)) { this.array(v); return; }
    if (this.rpc && isHeaders(v)) {
      this.remember(v);
      const pairs = headersToPairs(v);
      w.byte(T.HEADERS); w.varint(pairs.length);
      for (let i = 0; i < pairs.length; i++) { writeString(w, pairs[i][0]); writeString(w, pairs[i][1]); }
      return;
    }
    if (this.rpc && isRequest(v)) {
      this.remember(v);
      const body = rpcBody(requestInternals.body(v));
      w.byte(T.REQUEST);
      writeString(w, requestInternals.url(v)); writeString(w, requestInternals.method(v));
      this.value(requestInternals.headers(v)); writeString(w, v.redirect); this.value(v.cf); this.value(body);
      return;
    }
    if (this.rpc && isResponse(v)) {
      const parts = responseInternals.parts(v);
      // A WebSocket's Response, or Response.error(), has no Response a receiver could make.
      if (parts.webSocket !== null || parts.status < 200 || parts.status > 599) throw cloneError(describe(v));
      this.remember(v);
      const body = rpcBody(parts.body);
      w.byte(T.RESPONSE); w.varint(parts.status); writeString(w, parts.statusText);
      this.value(parts.headers); this.value(v.cf); this.value(body);
      return;
    }
    if (this.rpc && isBlob(v)) {
      this.remember(v);
      const file = isFile(v);
      w.byte(file ? T.FILE : T.BLOB);
      if (file) { writeString(w, `${v.name}`); w.double(+v.lastModified); }
      writeString(w, `${v.type}`);
      const bytes = blobBytes(v);
      w.varint(bytes.byteLength); w.bytes(bytes);
      return;
    }
    if (brand(weakMapHas, v, {}) || brand(weakSetHas, v, {}) || brand(weakRefDeref, v)
        // instanceof, not a call to then(): that would chain onto a rejected promise and report it
        || v instanceof PromiseCtor
        || isBlob(v)) {
      throw cloneError(describe(v));
    }
    if (isNonSerializable(v)) throw notSerializable(v);
    this.remember(v);
    const keys = ObjectKeys(v);
    w.byte(T.OBJECT); w.varint(keys.length);
    for (let i = 0; i < keys.length; i++) { writeString(w, keys[i]); this.value(v[keys[i]]); }
  }

  error(v) {
    const w = this.w;
    this.remember(v);
    let name;
    try { name = v.name; } catch { name = 'Error'; }
    const nameIndex = ERROR_NAMES.indexOf(name);
    const msg = ObjectGetOwnPropertyDescriptor(v, 'message');
    let stack; try { stack = v.stack; } catch { /* no stack */ }
    const cause = ObjectGetOwnPropertyDescriptor(v, 'cause');
    const hasMessage = msg !== undefined && 'value' in msg;
    const hasStack = typeof stack === 'string';
    const hasCause = cause !== undefined && 'value' in cause;
    w.byte(T.ERROR); w.byte(nameIndex < 0 ? 0 : nameIndex);
    w.byte((hasMessage ? 1 : 0) | (hasStack ? 2 : 0) | (hasCause ? 4 : 0));
    if (hasMessage) writeString(w, `${msg.value}`);
    if (hasStack) writeString(w, stack);
    if (hasCause) this.value(cause.value);
  }

  richError(v) {
    const w = this.w;
    this.remember(v);
    let index = 0;
    for (let o = ObjectGetPrototypeOf(v); o !== null; o = ObjectGetPrototypeOf(o)) {
      const i = ReflectApply(ArrayIndexOf, RICH_PROTOS, [o]);
      if (i >= 0) { index = i; break; }
    }
    let name;
    try { name = v.name; } catch { name = undefined; }
    const msg = ObjectGetOwnPropertyDescriptor(v, 'message');
    const hasName = name !== undefined && `${name}` !== RICH_NAMES[index];
    let keys = [];
    const values = [];
    const own = ReflectOwnKeys(v);
    for (let i = 0; i < own.length; i++) {
      const k = own[i];
      if (typeof k !== 'string' || k === 'message' || k === 'stack' || k === 'name') continue;
      const value = v[k];
      // A function among them: none of the own properties cross (as workerd, which falls back to
      // the bare error when they cannot be serialized).
      if (typeof value === 'function') { keys = []; break; }
      keys.push(k); values.push(value);
    }
    // The message always crosses, '' when the error has none of its own (as in workerd).
    w.byte(T.RICH_ERROR); w.byte(index); w.byte(1 | (hasName ? 2 : 0));
    writeString(w, msg !== undefined && 'value' in msg ? `${msg.value}` : '');
    if (hasName) writeString(w, `${name}`);
    w.varint(keys.length);
    for (let i = 0; i < keys.length; i++) { writeString(w, keys[i]); this.value(values[i]); }
  }

  array(v) {
    const w = this.w;
    this.remember(v);
    const length = v.length;
    const keys = ObjectKeys(v);
    let indexCount = 0;
    for (let i = 0; i < keys.length; i++) if (isIndex(keys[i], length)) indexCount++;
    const extras = keys.filter((k) => !isIndex(k, length));
    if (indexCount * 2 >= length) {
      w.byte(T.ARRAY); w.varint(length);
      for (let i = 0; i < length; i++) {
        if (ReflectApply(hasOwn, v, [i])) this.value(v[i]); else w.byte(T.HOLE);
      }
    } else {
      w.byte(T.SPARSE_ARRAY); w.varint(length); w.varint(indexCount);
      for (let i = 0; i < keys.length; i++) {
        if (!isIndex(keys[i], length)) continue;
        w.varint(+keys[i]); this.value(v[keys[i]]);
      }
    }
    w.varint(extras.length);
    for (let i = 0; i < extras.length; i++) { writeString(w, extras[i]); this.value(v[extras[i]]); }
  }
}

function isIndex(key, length) {
  // A canonical array index below length ("01" or "1.0" are ordinary properties).
  if (key.length === 0 || key.length > 10) return false;
  const n = +key;
  return NumberIsInteger(n) && n >= 0 && n < length && `${n}` === key;
}

export function serialize(value, hooks = undefined) {
  const s = new Serializer(hooks);
  s.w.byte(MAGIC); s.w.byte(VERSION);
  try {
    s.value(value);
  } catch (e) {
    throw stackOverflow(e) ? cloneError('A value nested this deeply') : e;
  }
  return s.w.result();
}

// The depth limit normally stops first; a small engine stack may not, and then the engine's
// RangeError is reported as the DataCloneError it stands for.
function stackOverflow(e) {
  return e instanceof RangeError && typeof e.message === 'string' && e.message.includes('call stack');
}

// ---- reading ----

class Deserializer {
  constructor(bytes, hooks) {
    if (!(bytes instanceof U8)) throw new TypeError('deserialize expects a Uint8Array');
    this.b = bytes;
    this.p = 0;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.decode = hooks && typeof hooks.decode === 'function' ? hooks.decode : null;
    this.objects = [];
    this.depth = 0;
  }
  left() { return this.b.length - this.p; }
  byte() { if (this.p >= this.b.length) throw invalid('unexpected end'); return this.b[this.p++]; }
  varint() {
    let n = 0, scale = 1;
    for (let i = 0; i < 8; i++) {
      const c = this.byte();
      n += (c & 0x7f) * scale;
      if (c < 0x80) return n;
      scale *= 0x80;
    }
    throw invalid('malformed length');
  }
  /** A count of items that each take at least one byte: never more than the bytes left. */
  count() { const n = this.varint(); if (n > this.left()) throw invalid('count past the end'); return n; }
  double() { if (this.left() < 8) throw invalid('unexpected end'); const d = this.dv.getFloat64(this.p, true); this.p += 8; return d; }
  take(n) { if (n > this.left()) throw invalid('length past the end'); const out = this.b.subarray(this.p, this.p + n); this.p += n; return out; }

  string(tag = this.byte()) {
    if (tag === T.STRING) return utf8DecodeReplace(this.take(this.varint()));
    if (tag === T.STRING16) {
      const n = this.varint();
      const u8 = this.take(n * 2);
      let s = '';
      for (let i = 0; i < n; i += 4096) {
        const units = [];
        for (let j = i; j < n && j < i + 4096; j++) units.push(u8[2 * j] | (u8[2 * j + 1] << 8));
        s += ReflectApply(StringFromCharCode, null, units);
      }
      return s;
    }
    throw invalid('expected a string');
  }
  bigint() {
    const sign = this.byte();
    const bytes = this.take(this.varint());
    let m = 0n;
    for (let i = bytes.length - 1; i >= 0; i--) m = (m << 8n) | BigIntCtor(bytes[i]);
    return sign === 1 ? -m : m;
  }
  keep(obj) { this.objects.push(obj); return obj; }

  value() {
    const tag = this.byte();
    switch (tag) {
      case T.UNDEFINED: return undefined;
      case T.NULL: return null;
      case T.TRUE: return true;
      case T.FALSE: return false;
      case T.INT: { const z = this.varint(); return z % 2 === 0 ? z / 2 : -(z + 1) / 2; }
      case T.DOUBLE: return this.double();
      case T.BIGINT: return this.bigint();
      case T.STRING: case T.STRING16: return this.string(tag);
      case T.REF: {
        const id = this.varint();
        if (id >= this.objects.length) throw invalid('reference to an unknown object');
        return this.objects[id];
      }
      case T.SLOT: {
        const slot = this.varint();
        const tag = this.byte();
        if (this.decode === null) throw invalid('a host object slot without hooks.decode');
        return this.keep(this.decode(slot, tag));
      }
      default: break;
    }
    if (++this.depth > MAX_DEPTH) throw invalid('nested too deeply');
    try {
      return this.object(tag);
    } finally {
      this.depth--;
    }
  }

  object(tag) {
    switch (tag) {
      case T.BOOLEAN_OBJECT: return this.keep(Object(this.byte() === 1));
      case T.NUMBER_OBJECT: return this.keep(Object(this.double()));
      case T.BIGINT_OBJECT: return this.keep(Object(this.bigint()));
      case T.STRING_OBJECT: return this.keep(Object(this.string()));
      case T.DATE: return this.keep(new Date(this.double()));
      case T.REGEXP: {
        const source = this.string();
        const flags = this.string();
        let re;
        try { re = new RegExp(source, flags); } catch { throw invalid('bad regular expression'); }
        return this.keep(re);
      }
      case T.ARRAY_BUFFER: {
        const n = this.varint();
        const src = this.take(n);
        const ab = new ArrayBuffer(n);
        new U8(ab).set(src);
        return this.keep(ab);
      }
      case T.VIEW: {
        const kind = VIEW_KINDS[this.byte()];
        const ctor = kind === undefined ? undefined : viewCtors[kind];
        if (ctor === undefined) throw invalid('unknown view type');
        const id = this.objects.length;
        this.objects.push(undefined); // the view's id comes before its buffer's
        const buffer = this.value();
        if (!isArrayBuffer(buffer)) throw invalid('a view without an ArrayBuffer');
        const offset = this.varint();
        const length = this.varint();
        let view;
        try { view = new ctor(buffer, offset, length); } catch { throw invalid('view out of range'); }
        this.objects[id] = view;
        return view;
      }
      case T.HEADERS: {
        const n = this.count();
        const pairs = [];
        for (let i = 0; i < n; i++) pairs[i] = [this.string(), this.string()];
        try { return this.keep(new Headers(pairs)); } catch { throw invalid('bad header'); }
      }
      case T.REQUEST: case T.RESPONSE: {
        // The id comes first, as written; a value inside cannot refer back to the message itself.
        const id = this.objects.length;
        this.objects.push(undefined);
        let message;
        if (tag === T.REQUEST) {
          const url = this.string();
          const method = this.string();
          const headers = this.value();
          const redirect = this.string();
          const cf = this.value();
          const body = this.value();
          checkMessage(headers, body);
          try { message = new Request(url, { method, headers, redirect, cf, body }); } catch { throw invalid('bad Request'); }
        } else {
          const status = this.varint();
          const statusText = this.string();
          const headers = this.value();
          const cf = this.value();
          const body = this.value();
          checkMessage(headers, body);
          try { message = new Response(body, { status, statusText, headers, cf }); } catch { throw invalid('bad Response'); }
        }
        this.objects[id] = message;
        return message;
      }
      case T.BLOB:
      case T.FILE: {
        const file = tag === T.FILE;
        const name = file ? this.string() : undefined;
        const lastModified = file ? this.double() : undefined;
        const type = this.string();
        const bytes = this.take(this.varint());
        return this.keep(file ? new File([bytes], name, { type, lastModified }) : new Blob([bytes], { type }));
      }
      case T.MAP: {
        const m = this.keep(new Map());
        const n = this.count();
        for (let i = 0; i < n; i++) { const k = this.value(); ReflectApply(mapSet, m, [k, this.value()]); }
        return m;
      }
      case T.SET: {
        const s = this.keep(new Set());
        const n = this.count();
        for (let i = 0; i < n; i++) ReflectApply(setAdd, s, [this.value()]);
        return s;
      }
      case T.DOM_EXCEPTION: {
        const id = this.objects.length;
        this.objects.push(undefined);
        const name = this.string();
        const message = this.string();
        const e = new DOMException(message, name);
        if (this.byte() === 1) defineData(e, 'stack', this.string(), false);
        this.objects[id] = e;
        return e;
      }
      case T.ERROR: {
        const ctor = errorCtors[ERROR_NAMES[this.byte()]];
        if (ctor === undefined) throw invalid('unknown error type');
        const flags = this.byte();
        const e = this.keep(new ctor());
        if (flags & 1) defineData(e, 'message', this.string(), false);
        if (flags & 2) defineData(e, 'stack', this.string(), false);
        if (flags & 4) defineData(e, 'cause', this.value(), false);
        return e;
      }
      case T.RICH_ERROR: {
        const ctor = RICH_CTORS[this.byte()];
        if (ctor === undefined) throw invalid('unknown error type');
        const flags = this.byte();
        const e = this.keep(ctor === AggregateError ? new ctor([]) : new ctor());
        if (ctor === AggregateError) delete e.errors; // defined again below, after message (workerd's order)
        if (flags & 1) defineData(e, 'message', this.string(), false);
        if (flags & 2) defineData(e, 'name', this.string());
        const n = this.count();
        for (let i = 0; i < n; i++) { const k = this.string(); defineData(e, k, this.value()); }
        return e;
      }
      case T.OBJECT: {
        const o = this.keep({});
        const n = this.count();
        // defineProperty, not assignment: a key "__proto__" stays an own property.
        for (let i = 0; i < n; i++) { const k = this.string(); defineData(o, k, this.value()); }
        return o;
      }
      case T.ARRAY: case T.SPARSE_ARRAY: {
        const length = this.varint();
        if (length > 0xffffffff) throw invalid('array too long');
        if (tag === T.ARRAY && length > this.left()) throw invalid('array past the end');
        const a = this.keep(new Array(length));
        if (tag === T.ARRAY) {
          for (let i = 0; i < length; i++) {
            if (this.b[this.p] === T.HOLE) { this.p++; continue; }
            defineData(a, i, this.value());
          }
        } else {
          const n = this.count();
          for (let i = 0; i < n; i++) {
            const index = this.varint();
            if (index >= length) throw invalid('array index out of range');
            defineData(a, index, this.value());
          }
        }
        const extras = this.count();
        for (let i = 0; i < extras; i++) {
          const k = this.string();
          if (k === 'length') throw invalid('array length as a property');
          defineData(a, k, this.value());
        }
        return a;
      }
      default:
        throw invalid(`unknown tag 0x${tag.toString(16)}`);
    }
  }
}

/** A Request's or Response's parts as read: Headers, and a body that is null, bytes or a stream. */
function checkMessage(headers, body) {
  if (!isHeaders(headers)) throw invalid('a message without Headers');
  if (body !== null && !(body instanceof U8) && !isReadableStream(body)) throw invalid('a message body that is not bytes or a stream');
}

export function deserialize(bytes, hooks = undefined) {
  const d = new Deserializer(bytes, hooks);
  if (d.byte() !== MAGIC) throw invalid('not serialized data');
  const version = d.byte();
  if (version !== VERSION) throw invalid(`unsupported version ${version}`);
  let v;
  try {
    v = d.value();
  } catch (e) {
    throw stackOverflow(e) ? invalid('nested too deeply') : e;
  }
  if (d.p !== bytes.length) throw invalid('trailing bytes');
  return v;
}
