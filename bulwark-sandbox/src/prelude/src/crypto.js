// crypto.getRandomValues, randomUUID, and a SubtleCrypto subset (digest, HMAC) backed by the host.
import { H } from './host.js';
import { randomBytes } from './random.js';
import { DOMException } from './dom-exception.js';
import { typedArrayName, viewBytes, isObjectLike, toDOMString, webidlClass, illegalConstructor, bytesToArrayBuffer, PromiseResolve, PromiseReject } from './util.js';
import { base64Encode, base64Decode } from './base64.js';
import { inspectCustom } from './console.js';

const integerArrays = new Set(['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array']);
let constructing = false;

function getRandomValuesImpl(array) {
  const name = typedArrayName(array);
  if (name === undefined || !integerArrays.has(name)) {
    throw new DOMException("Failed to execute 'getRandomValues' on 'Crypto': The provided ArrayBufferView is of type '" + (name ?? typeof array) + "', which is not an integer array type.", 'TypeMismatchError');
  }
  const view = viewBytes(array);
  if (view.byteLength > 65536) {
    throw new DOMException(`Failed to execute 'getRandomValues' on 'Crypto': The ArrayBufferView's byte length (${view.byteLength}) exceeds the number of bytes of entropy available via this API (65536).`, 'QuotaExceededError');
  }
  if (view.byteLength > 0) view.set(randomBytes(view.byteLength));
  return array;
}

function randomUUIDImpl() {
  const b = randomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  let h = '';
  for (let i = 0; i < 16; i++) h += b[i].toString(16).padStart(2, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// ---------------------------------------------------------------------------------------
// Algorithms

const hashes = { 'SHA-1': 512, 'SHA-256': 512, 'SHA-384': 1024, 'SHA-512': 1024 }; // block sizes (bits)
const hashOutBits = { 'SHA-1': 160, 'SHA-256': 256, 'SHA-384': 384, 'SHA-512': 512 };

function notSupported(what) {
  return new DOMException(`Unrecognized or unsupported algorithm: ${what}`, 'NotSupportedError');
}
function algorithmName(alg) {
  if (typeof alg === 'string') return alg;
  if (isObjectLike(alg)) {
    if (alg.name === undefined) throw new TypeError("Failed to execute on 'SubtleCrypto': Algorithm: name: Missing or not a string");
    return toDOMString(alg.name);
  }
  throw new TypeError("Failed to execute on 'SubtleCrypto': Algorithm: Not an object");
}
function normalizeHash(alg) {
  const name = algorithmName(alg).toUpperCase();
  if (!Object.prototype.hasOwnProperty.call(hashes, name)) throw notSupported(algorithmName(alg));
  return name;
}
function bufferSource(v, what) {
  const view = isObjectLike(v) ? viewBytes(v) : null;
  if (view === null) throw new TypeError(`Failed to execute on 'SubtleCrypto': ${what} is not of type '(ArrayBuffer or ArrayBufferView)'.`);
  return view.slice();
}
function callHost(fn) {
  const out = fn();
  if (!(out instanceof Uint8Array)) throw new DOMException('The host returned an invalid result', 'OperationError');
  return out;
}

// ---------------------------------------------------------------------------------------

let keyInternals;

export class CryptoKey {
  #type;
  #extractable;
  #algorithm;
  #usages;
  #raw;
  constructor() {
    if (!constructing) illegalConstructor();
  }
  get type() { return this.#type; }
  get extractable() { return this.#extractable; }
  get algorithm() { return this.#algorithm; }
  get usages() { return this.#usages; }
  [inspectCustom]() { return { name: 'CryptoKey', value: { type: this.#type, extractable: this.#extractable, algorithm: this.#algorithm, usages: this.#usages } }; }
  static {
    keyInternals = {
      create(type, extractable, algorithm, usages, raw) {
        constructing = true;
        let k;
        try { k = new CryptoKey(); } finally { constructing = false; }
        k.#type = type;
        k.#extractable = extractable;
        k.#algorithm = algorithm;
        k.#usages = usages;
        k.#raw = raw;
        return k;
      },
      raw: (k) => k.#raw,
      is: (k) => isObjectLike(k) && #raw in k,
      algorithm: (k) => k.#algorithm,
      usages: (k) => k.#usages,
      extractable: (k) => k.#extractable,
    };
  }
}
webidlClass(CryptoKey);

const hmacUsages = new Set(['sign', 'verify']);
function checkUsages(usages, allowed) {
  const list = [];
  for (const u of usages) {
    const s = toDOMString(u);
    if (!allowed.has(s)) throw new DOMException(`Cannot create a key using the specified key usages: ${s}`, 'SyntaxError');
    if (!list.includes(s)) list.push(s);
  }
  return list;
}
function freezeAlgorithm(hash, lengthBits) {
  return Object.freeze({ name: 'HMAC', hash: Object.freeze({ name: hash }), length: lengthBits });
}

function importHmac(format, keyData, alg, extractable, keyUsages) {
  if (!isObjectLike(alg)) throw new TypeError('HMAC import requires an algorithm object with a hash');
  if (alg.hash === undefined) throw new TypeError("Failed to execute 'importKey' on 'SubtleCrypto': HmacImportParams: hash: Missing");
  let hash = normalizeHash(alg.hash);
  const usages = checkUsages(keyUsages, hmacUsages);
  if (usages.length === 0) throw new DOMException('Usages cannot be empty when creating a key.', 'SyntaxError');
  let raw;
  if (format === 'raw') {
    raw = bufferSource(keyData, 'keyData');
  } else if (format === 'jwk') {
    if (!isObjectLike(keyData)) throw new TypeError('JWK import requires a JsonWebKey object');
    if (keyData.kty !== 'oct') throw new DOMException("The JWK 'kty' member was not 'oct'", 'DataError');
    if (typeof keyData.k !== 'string') throw new DOMException("The JWK 'k' member is missing", 'DataError');
    raw = base64Decode(keyData.k, true);
    if (raw === null) throw new DOMException("The JWK 'k' member is not valid base64url", 'DataError');
    if (keyData.alg !== undefined) {
      const expected = { 'SHA-1': 'HS1', 'SHA-256': 'HS256', 'SHA-384': 'HS384', 'SHA-512': 'HS512' }[hash];
      if (keyData.alg !== expected) throw new DOMException("The JWK 'alg' member does not match the hash", 'DataError');
    }
    if (keyData.use !== undefined && keyData.use !== 'sig') throw new DOMException("The JWK 'use' member was not 'sig'", 'DataError');
    if (keyData.ext === false && extractable) throw new DOMException("The JWK 'ext' member was false but extractable was requested", 'DataError');
  } else {
    throw new DOMException(`Unsupported key format for HMAC: ${format}`, 'NotSupportedError');
  }
  const bits = raw.byteLength * 8;
  if (bits === 0) throw new DOMException('HMAC key data must not be empty', 'DataError');
  let length = bits;
  if (alg.length !== undefined) {
    length = Number(alg.length);
    if (!(length <= bits && length > bits - 8)) throw new DOMException('The key length does not match the key data', 'DataError');
  }
  return keyInternals.create('secret', !!extractable, freezeAlgorithm(hash, length), usages, raw);
}

function checkKey(key, algName, usage) {
  if (!keyInternals.is(key)) throw new TypeError("Failed to execute on 'SubtleCrypto': parameter 2 is not of type 'CryptoKey'.");
  const a = keyInternals.algorithm(key);
  if (a.name.toUpperCase() !== algName.toUpperCase()) throw new DOMException('The requested operation is not valid for the provided key', 'InvalidAccessError');
  if (usage !== null && !keyInternals.usages(key).includes(usage)) throw new DOMException(`The key does not support the '${usage}' operation`, 'InvalidAccessError');
  return a;
}

function timingSafeEqualBytes(a, b) {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Run `fn` and turn its result/exception into a promise (WebCrypto never throws synchronously). */
function promised(fn) {
  try {
    return PromiseResolve(fn());
  } catch (err) {
    return PromiseReject(err);
  }
}

export class SubtleCrypto {
  constructor() {
    if (!constructing) illegalConstructor();
  }
  digest(algorithm, data) {
    return promised(() => {
      const name = normalizeHash(algorithm);
      const bytes = bufferSource(data, 'data');
      return bytesToArrayBuffer(callHost(() => H.digest(name, bytes)).slice());
    });
  }
  importKey(format, keyData, algorithm, extractable, keyUsages) {
    return promised(() => {
      const fmt = toDOMString(format);
      const name = algorithmName(algorithm).toUpperCase();
      if (name === 'HMAC') return importHmac(fmt, keyData, algorithm, extractable, keyUsages);
      throw notSupported(algorithmName(algorithm));
    });
  }
  exportKey(format, key) {
    return promised(() => {
      const fmt = toDOMString(format);
      if (!keyInternals.is(key)) throw new TypeError("Failed to execute 'exportKey' on 'SubtleCrypto': parameter 2 is not of type 'CryptoKey'.");
      if (!keyInternals.extractable(key)) throw new DOMException('key is not extractable', 'InvalidAccessError');
      const raw = keyInternals.raw(key);
      const alg = keyInternals.algorithm(key);
      if (fmt === 'raw') return bytesToArrayBuffer(raw.slice());
      if (fmt === 'jwk') {
        const jwkAlg = { 'SHA-1': 'HS1', 'SHA-256': 'HS256', 'SHA-384': 'HS384', 'SHA-512': 'HS512' }[alg.hash.name];
        return { kty: 'oct', k: base64Encode(raw, true), alg: jwkAlg, key_ops: keyInternals.usages(key).slice(), ext: true };
      }
      throw new DOMException(`Unsupported export format: ${fmt}`, 'NotSupportedError');
    });
  }
  generateKey(algorithm, extractable, keyUsages) {
    return promised(() => {
      const name = algorithmName(algorithm).toUpperCase();
      if (name !== 'HMAC') throw notSupported(algorithmName(algorithm));
      const hash = normalizeHash(algorithm.hash);
      const usages = checkUsages(keyUsages, hmacUsages);
      if (usages.length === 0) throw new DOMException('Usages cannot be empty when creating a key.', 'SyntaxError');
      let length = algorithm.length === undefined ? hashes[hash] : Number(algorithm.length);
      if (!(length > 0)) throw new DOMException('Invalid HMAC key length', 'OperationError');
      const raw = randomBytes(Math.ceil(length / 8));
      if (length % 8 !== 0) raw[raw.length - 1] &= 0xff << (8 - (length % 8));
      return keyInternals.create('secret', !!extractable, freezeAlgorithm(hash, length), usages, raw);
    });
  }
  sign(algorithm, key, data) {
    return promised(() => {
      const name = algorithmName(algorithm);
      if (name.toUpperCase() !== 'HMAC') throw notSupported(name);
      const a = checkKey(key, 'HMAC', 'sign');
      const bytes = bufferSource(data, 'data');
      return bytesToArrayBuffer(callHost(() => H.hmac(a.hash.name, keyInternals.raw(key), bytes)).slice());
    });
  }
  verify(algorithm, key, signature, data) {
    return promised(() => {
      const name = algorithmName(algorithm);
      if (name.toUpperCase() !== 'HMAC') throw notSupported(name);
      const a = checkKey(key, 'HMAC', 'verify');
      const sig = bufferSource(signature, 'signature');
      const bytes = bufferSource(data, 'data');
      const mac = callHost(() => H.hmac(a.hash.name, keyInternals.raw(key), bytes));
      return timingSafeEqualBytes(mac, sig);
    });
  }
  encrypt() { return PromiseReject(notSupported('encrypt')); }
  decrypt() { return PromiseReject(notSupported('decrypt')); }
  deriveBits() { return PromiseReject(notSupported('deriveBits')); }
  deriveKey() { return PromiseReject(notSupported('deriveKey')); }
  wrapKey() { return PromiseReject(notSupported('wrapKey')); }
  unwrapKey() { return PromiseReject(notSupported('unwrapKey')); }
  /** Workers extension: constant-time comparison of two equal-length buffers. */
  timingSafeEqual(a, b) {
    const x = viewBytes(a), y = viewBytes(b);
    if (x === null || y === null) throw new TypeError('timingSafeEqual: arguments must be ArrayBuffer or ArrayBufferView');
    if (x.byteLength !== y.byteLength) throw new RangeError('Input buffers must have the same byte length');
    return timingSafeEqualBytes(x, y);
  }
}
webidlClass(SubtleCrypto);

export class Crypto {
  #subtle;
  constructor() {
    if (!constructing) illegalConstructor();
    this.#subtle = newSubtle();
  }
  get subtle() { return this.#subtle; }
  getRandomValues(array) {
    if (arguments.length < 1) throw new TypeError("Failed to execute 'getRandomValues' on 'Crypto': 1 argument required, but only 0 present.");
    return getRandomValuesImpl(array);
  }
  randomUUID() { return randomUUIDImpl(); }
}
webidlClass(Crypto);

function newSubtle() {
  constructing = true;
  try { return new SubtleCrypto(); } finally { constructing = false; }
}
export function createCrypto() {
  constructing = true;
  try { return new Crypto(); } finally { constructing = false; }
}
