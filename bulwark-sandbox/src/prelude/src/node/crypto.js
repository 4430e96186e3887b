// node:crypto: hashes and HMACs (computed by the host: md5, sha1, sha224, sha256, sha384, sha512),
// random values, timingSafeEqual, and the Web Crypto objects.
import { Buffer } from 'buffer';
import { I, G, nodeError } from './internals.js';

const HASHES = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'];
/** Node accepts OpenSSL's spellings: "SHA256", "sha-256", "RSA-SHA256". */
function hashName(algorithm) {
  if (typeof algorithm !== 'string') throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "algorithm" argument must be of type string');
  let n = algorithm.toLowerCase();
  if (n.startsWith('rsa-')) n = n.slice(4);
  if (n.startsWith('sha-')) n = 'sha' + n.slice(4);
  if (!HASHES.includes(n)) throw new Error('Digest method not supported');
  return n;
}

function toBytes(data, encoding, name) {
  if (typeof data === 'string') return Buffer.from(data, encoding === undefined ? 'utf8' : encoding);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE',
    `The "${name}" argument must be of type string or an instance of Buffer, TypedArray, or DataView.`);
}

/** Chunks are kept and hashed at digest(): one host call, whatever the number of updates. */
class Digester {
  #chunks = [];
  #length = 0;
  #done = false;
  #compute;
  constructor(compute) { this.#compute = compute; }
  update(data, encoding) {
    if (this.#done) throw nodeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
    const bytes = toBytes(data, encoding, 'data');
    this.#chunks.push(Uint8Array.from(bytes));
    this.#length += bytes.byteLength;
    return this;
  }
  digest(encoding) {
    if (this.#done) throw nodeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
    this.#done = true;
    const all = new Uint8Array(this.#length);
    let at = 0;
    for (const c of this.#chunks) { all.set(c, at); at += c.byteLength; }
    this.#chunks = [];
    const out = Buffer.from(this.#compute(all));
    return encoding === undefined || encoding === 'buffer' ? out : out.toString(encoding);
  }
  copyState() {
    if (this.#done) throw nodeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
    return this.#chunks.map((c) => c);
  }
}

export class Hash extends Digester {
  #algorithm;
  constructor(algorithm) {
    const name = hashName(algorithm);
    super((bytes) => I.hash(name, bytes));
    this.#algorithm = name;
  }
  copy() {
    const h = new Hash(this.#algorithm);
    for (const c of this.copyState()) h.update(c);
    return h;
  }
}

export class Hmac extends Digester {
  constructor(algorithm, key) {
    const name = hashName(algorithm);
    let keyBytes;
    if (key !== null && typeof key === 'object' && key.type === 'secret' && typeof key.export === 'function') keyBytes = key.export();
    else keyBytes = Uint8Array.from(toBytes(key, undefined, 'key'));
    super((bytes) => I.hmac(name, keyBytes, bytes));
  }
}

function createHash(algorithm) { return new Hash(algorithm); }
function createHmac(algorithm, key) { return new Hmac(algorithm, key); }
function hash(algorithm, data, outputEncoding = 'hex') {
  return new Hash(algorithm).update(data).digest(outputEncoding);
}

const MAX_RANDOM = 2 ** 31 - 1;
function randomFill(target) {
  for (let at = 0; at < target.byteLength; at += 65536) {
    const n = Math.min(65536, target.byteLength - at);
    target.set(I.randomBytes(n), at);
  }
  return target;
}
function randomBytes(size, callback) {
  if (typeof size !== 'number' || !(size >= 0) || size > MAX_RANDOM || size % 1 !== 0) {
    throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "size" is out of range. It must be >= 0 && <= ${MAX_RANDOM}. Received ${size}`);
  }
  const buf = randomFill(Buffer.alloc(size));
  if (typeof callback === 'function') { G.queueMicrotask(() => callback(null, buf)); return undefined; }
  return buf;
}
function randomFillSync(buf, offset = 0, size = undefined) {
  const view = new Uint8Array(buf.buffer ?? buf, (buf.byteOffset ?? 0) + offset, size ?? ((buf.byteLength ?? 0) - offset));
  randomFill(view);
  return buf;
}
function randomInt(min, max = undefined, callback = undefined) {
  if (typeof max === 'function' || max === undefined) { callback = max; max = min; min = 0; }
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max <= min) {
    throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "max" is out of range. It must be greater than the value of "min" (${min}). Received ${max}`);
  }
  const range = max - min;
  // Rejection sampling over 48 random bits, so every value is equally likely.
  const limit = 2 ** 48 - (2 ** 48 % range);
  let x;
  do {
    const b = I.randomBytes(6);
    x = b[0] * 2 ** 40 + b[1] * 2 ** 32 + b[2] * 2 ** 24 + b[3] * 2 ** 16 + b[4] * 2 ** 8 + b[5];
  } while (x >= limit);
  const value = min + (x % range);
  if (typeof callback === 'function') { G.queueMicrotask(() => callback(null, value)); return undefined; }
  return value;
}
function timingSafeEqual(a, b) {
  const x = toBytes(a, undefined, 'buf1'), y = toBytes(b, undefined, 'buf2');
  if (x.byteLength !== y.byteLength) throw nodeError(RangeError, 'ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH', 'Input buffers must have the same byte length');
  let diff = 0;
  for (let i = 0; i < x.byteLength; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

export function cryptoModule() {
  const webcrypto = G.crypto;
  const m = {
    createHash, createHmac, hash, Hash, Hmac, randomBytes, randomFillSync, randomInt, timingSafeEqual,
    randomFill: (buf, ...rest) => { const cb = rest.pop(); randomFillSync(buf, ...rest); G.queueMicrotask(() => cb(null, buf)); },
    pseudoRandomBytes: randomBytes,
    randomUUID: () => G.randomUUID(),
    getRandomValues: (array) => G.getRandomValues(array),
    getHashes: () => [...HASHES],
    webcrypto, subtle: webcrypto.subtle,
    constants: Object.freeze({}),
  };
  return { default: m, ...m };
}
