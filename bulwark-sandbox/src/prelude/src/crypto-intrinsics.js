// Intrinsics captured when the prelude loads. Crypto code calls only these on key material:
// a worker can replace globals and prototype methods (Uint8Array.prototype.slice, JSON.parse,
// a getter on Array.prototype), and any of them called on a key's bytes would hand it the bytes.
export const U8 = Uint8Array;
const TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype);
export const u8Slice = TypedArrayProto.slice;
export const u8Subarray = TypedArrayProto.subarray;
export const u8Set = TypedArrayProto.set;
export const u8Length = Object.getOwnPropertyDescriptor(TypedArrayProto, 'length').get;
export const ReflectApply = Reflect.apply;
export const ObjectFreeze = Object.freeze;
export const ObjectKeys = Object.keys;
export { append } from './util.js';
export const JSONParse = JSON.parse;
export const JSONStringify = JSON.stringify;
export const ArrayIsArray = Array.isArray;

export const len = (u8) => ReflectApply(u8Length, u8, []);
export const slice = (u8, start, end) => ReflectApply(u8Slice, u8, end === undefined ? [start] : [start, end]);
export const copy = (u8) => ReflectApply(u8Slice, u8, []);
export const sub = (u8, start, end) => ReflectApply(u8Subarray, u8, [start, end]);

const charCodeAt = String.prototype.charCodeAt;
const fromCharCode = String.fromCharCode;
const code = (s, i) => ReflectApply(charCodeAt, s, [i]);

/** base64url (no padding, or with '=' padding) to bytes, or null; touches nothing replaceable. */
export function b64urlDecode(s) {
  let n = s.length;
  while (n > 0 && code(s, n - 1) === 0x3d) n--;
  if (n % 4 === 1) return null;
  const out = new U8(Math.floor((n * 3) / 4));
  let acc = 0, bits = 0, p = 0;
  for (let i = 0; i < n; i++) {
    const c = code(s, i);
    let v;
    if (c >= 0x41 && c <= 0x5a) v = c - 0x41;
    else if (c >= 0x61 && c <= 0x7a) v = c - 0x61 + 26;
    else if (c >= 0x30 && c <= 0x39) v = c - 0x30 + 52;
    else if (c === 0x2d) v = 62;
    else if (c === 0x5f) v = 63;
    else return null;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) { bits -= 8; out[p++] = (acc >> bits) & 0xff; }
  }
  return out;
}

/** UTF-8 bytes to a string (invalid sequences become U+FFFD); touches nothing replaceable. */
export function utf8ToString(bytes) {
  const n = len(bytes);
  let s = '';
  for (let i = 0; i < n;) {
    const b = bytes[i];
    let cp = 0xfffd, need = 0;
    if (b < 0x80) { cp = b; } else if (b >= 0xc2 && b < 0xe0) { need = 1; cp = b & 0x1f; } else if (b >= 0xe0 && b < 0xf0) { need = 2; cp = b & 0x0f; } else if (b >= 0xf0 && b < 0xf5) { need = 3; cp = b & 0x07; }
    i++;
    if (need > 0) {
      let ok = i + need <= n;
      for (let k = 0; ok && k < need; k++) ok = (bytes[i + k] & 0xc0) === 0x80;
      if (ok) {
        for (let k = 0; k < need; k++) cp = (cp << 6) | (bytes[i + k] & 0x3f);
        i += need;
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
      } else {
        cp = 0xfffd;
      }
    } else if (b >= 0x80) {
      cp = 0xfffd;
    }
    if (cp > 0xffff) { cp -= 0x10000; s += fromCharCode(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff)); } else s += fromCharCode(cp);
  }
  return s;
}

/** A JSON object from JSON text, copied into null-prototype objects (no inherited getters). */
export function parseJsonObject(text) {
  const v = JSONParse(text);
  return nullProto(v);
}
function nullProto(v) {
  if (typeof v !== 'object' || v === null || ArrayIsArray(v)) return v;
  const out = { __proto__: null };
  const keys = ObjectKeys(v);
  for (let i = 0; i < keys.length; i++) out[keys[i]] = nullProto(v[keys[i]]);
  return out;
}

const taTag = Object.getOwnPropertyDescriptor(TypedArrayProto, Symbol.toStringTag).get;
const taBuffer = Object.getOwnPropertyDescriptor(TypedArrayProto, 'buffer').get;
const taByteOffset = Object.getOwnPropertyDescriptor(TypedArrayProto, 'byteOffset').get;
const abByteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength').get;

export const isU8 = (v) => ReflectApply(taTag, v, []) === 'Uint8Array';
export const bufferOf = (u8) => ReflectApply(taBuffer, u8, []);
export const offsetOf = (u8) => ReflectApply(taByteOffset, u8, []);
/** The byte length of a plain (non-shared) ArrayBuffer, or -1 for anything else. */
export function arrayBufferLength(b) {
  try { return ReflectApply(abByteLength, b, []); } catch { return -1; }
}
/**
 * The bytes of a Uint8Array as an ArrayBuffer holding exactly them (its own, or a copy's): the
 * host takes ArrayBuffers, whose size it reads from V8 rather than from a redefinable property.
 */
export function exactBuffer(u8) {
  const b = bufferOf(u8);
  if (offsetOf(u8) === 0 && arrayBufferLength(b) === len(u8)) return b;
  return bufferOf(copy(u8));
}
