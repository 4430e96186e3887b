// SubtleCrypto: the class on the global (in the startup snapshot) with the shape it always had
// (the same methods, names, lengths and order). Its implementation (src/subtle-impl.js with
// crypto-keys.js, ~30 KB of source, ~100 KB of snapshot) is a lazy part (build.mjs `parts`,
// src/parts/subtle.js) compiled into the isolate by the first call of a method; each method hands
// its own arguments to the implementation's. Most workers never call crypto.subtle.
import { H } from './host.js';
import {
  webidlClass, illegalConstructor, bytesToArrayBuffer, PromiseResolve, PromiseReject, isObjectLike, toDOMString,
  ReflectApply,
} from './util.js';
import { utf8Encode } from './encoding.js';
import { base64Encode } from './base64.js';
import { keyRecord, newKey } from './crypto-key.js';
import {
  U8, len, copy, JSONStringify, utf8ToString, parseJsonObject, b64urlDecode, ObjectKeys, append,
} from './crypto-intrinsics.js';
import {
  host, unframe, notSupported, invalidAccess, dataError, operationError, syntaxError, normalize, hashMember, required,
  unsigned, bytesArg, viewArg, digestBytes, hmacBytes, truncateBits, randomKeyBytes, parseUsages, checkUsages, only,
  has, MAX_INPUT,
} from './crypto-common.js';

let impl = null;

// The prelude's own objects the part is built against (build.mjs maps its imports of these
// modules to this object): one copy of each class and helper, captured before any worker code ran.
function load() {
  if (impl === null) {
    impl = H.preludePart('subtle')({
      bytesToArrayBuffer, PromiseResolve, PromiseReject, isObjectLike, toDOMString, utf8Encode, base64Encode,
      keyRecord, newKey, U8, len, copy, JSONStringify, utf8ToString, parseJsonObject, b64urlDecode, ObjectKeys, append,
      host, unframe, notSupported, invalidAccess, dataError, operationError, syntaxError, normalize, hashMember,
      required, unsigned, bytesArg, viewArg, digestBytes, hmacBytes, truncateBits, randomKeyBytes, parseUsages,
      checkUsages, only, has, MAX_INPUT,
    });
  }
  return impl;
}

/** The implementation's method `name` with `args`; WebCrypto never throws synchronously. */
function call(name, args) {
  let fn;
  try {
    fn = load()[name];
  } catch (err) {
    return PromiseReject(err);
  }
  return ReflectApply(fn, undefined, args);
}

let constructing = false;

/* eslint-disable no-unused-vars */
export class SubtleCrypto {
  constructor() {
    if (!constructing) illegalConstructor();
  }
  digest(algorithm, data) { return call('digest', arguments); }
  generateKey(algorithm, extractable, keyUsages) { return call('generateKey', arguments); }
  importKey(format, keyData, algorithm, extractable, keyUsages) { return call('importKey', arguments); }
  exportKey(format, key) { return call('exportKey', arguments); }
  sign(algorithm, key, data) { return call('sign', arguments); }
  verify(algorithm, key, signature, data) { return call('verify', arguments); }
  encrypt(algorithm, key, data) { return call('encrypt', arguments); }
  decrypt(algorithm, key, data) { return call('decrypt', arguments); }
  deriveBits(algorithm, baseKey, length = null) { return call('deriveBits', arguments); }
  deriveKey(algorithm, baseKey, derivedKeyType, extractable, keyUsages) { return call('deriveKey', arguments); }
  wrapKey(format, key, wrappingKey, wrapAlgorithm) { return call('wrapKey', arguments); }
  unwrapKey(format, wrappedKey, unwrappingKey, unwrapAlgorithm, unwrappedKeyAlgorithm, extractable, keyUsages) {
    return call('unwrapKey', arguments);
  }
  /** Workers extension: constant-time comparison of two equal-length buffers. */
  timingSafeEqual(a, b) {
    const x = viewArg(a, 'a'), y = viewArg(b, 'b');
    if (len(x) !== len(y)) throw new TypeError('Input buffers must have the same byte length.');
    let diff = 0;
    for (let i = 0; i < len(x); i++) diff |= x[i] ^ y[i];
    return diff === 0;
  }
}
/* eslint-enable no-unused-vars */
webidlClass(SubtleCrypto);

export function newSubtle() {
  constructing = true;
  try { return new SubtleCrypto(); } finally { constructing = false; }
}
