// WebCrypto plumbing shared by the algorithm modules: the host call, errors, algorithm
// normalization, usages, byte arguments and their caps.
import { H } from './host.js';
import { DOMException } from './dom-exception.js';
import { viewBytes, isObjectLike, toDOMString } from './util.js';
import { U8, append, len, copy, sub, slice, isU8, exactBuffer, bufferOf, offsetOf, arrayBufferLength } from './crypto-intrinsics.js';

/** Largest data argument of one operation (a message, a plaintext); the host enforces it too. */
export const MAX_INPUT = 16 * 1024 * 1024;
/**
 * Digests and HMACs go to the host in pieces of this size, as views the host reads in place (no
 * copy on either side), so they have no cap of their own.
 */
export const CHUNK = 1024 * 1024;

export const dom = (name, message) => new DOMException(message, name);
export const notSupported = (message) => dom('NotSupportedError', message);
export const invalidAccess = (message) => dom('InvalidAccessError', message);
export const dataError = (message) => dom('DataError', message);
export const operationError = (message) => dom('OperationError', message);
export const syntaxError = (message) => dom('SyntaxError', message);

/** Call the host; a failure comes back as "Name\nmessage". Arguments are passed without spread. */
export function host(op, a, b, c, d, e, f, g, h, i) {
  const r = H.crypto(op, x(a), x(b), x(c), x(d), x(e), x(f), x(g), x(h), x(i));
  if (typeof r === 'string') {
    const nl = r.indexOf('\n');
    const name = r.slice(0, nl), message = r.slice(nl + 1);
    throw name === 'TypeError' ? new TypeError(message) : dom(name, message);
  }
  // Bytes come back as an ArrayBuffer made natively (see CryptoHost.bytes): wrap it here.
  return typeof r === 'object' && r !== null && arrayBufferLength(r) >= 0 ? new U8(r) : r;
}

/**
 * A host result holding several byte strings (4-byte big-endian length, bytes; repeated), as a
 * null-prototype list {0, 1, ..., length}: no Array.prototype setter sees the parts.
 */
export function unframe(bytes) {
  const out = { __proto__: null, length: 0 };
  const n = len(bytes);
  for (let p = 0; p < n;) {
    const l = ((bytes[p] << 24) | (bytes[p + 1] << 16) | (bytes[p + 2] << 8) | bytes[p + 3]) >>> 0;
    out[out.length++] = slice(bytes, p + 4, p + 4 + l);
    p += 4 + l;
  }
  return out;
}

const x = (v) => (typeof v === 'object' && v !== null && isU8(v) ? exactBuffer(v) : v);

/** (buffer, offset, length) of a view for the host to read in place (copied if shared). */
function inPlace(view) {
  const b = bufferOf(view);
  if (arrayBufferLength(b) < 0) return [bufferOf(copy(view)), 0, len(view)];
  return [b, offsetOf(view), len(view)];
}

// ---------------------------------------------------------------------------------------
// Algorithm names and normalization

const NAMES = ['RSASSA-PKCS1-v1_5', 'RSA-PSS', 'RSA-OAEP', 'ECDSA', 'ECDH', 'AES-CTR', 'AES-CBC', 'AES-GCM', 'AES-KW',
  'HMAC', 'SHA-1', 'SHA-256', 'SHA-384', 'SHA-512', 'MD5', 'HKDF', 'PBKDF2', 'Ed25519', 'X25519', 'NODE-ED25519'];
const canonical = { __proto__: null };
for (const n of NAMES) canonical[n.toUpperCase()] = n;

const set = (list) => { const s = { __proto__: null }; for (const n of list) s[n] = true; return s; };
const RSA = ['RSASSA-PKCS1-v1_5', 'RSA-PSS', 'RSA-OAEP'];
const AES = ['AES-CTR', 'AES-CBC', 'AES-GCM', 'AES-KW'];
const ED = ['Ed25519', 'NODE-ED25519'];
const OPS = {
  __proto__: null,
  digest: set(['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512', 'MD5']),
  generateKey: set([...RSA, 'ECDSA', 'ECDH', ...AES, 'HMAC', ...ED, 'X25519']),
  importKey: set([...RSA, 'ECDSA', 'ECDH', ...AES, 'HMAC', 'HKDF', 'PBKDF2', ...ED, 'X25519']),
  sign: set(['RSASSA-PKCS1-v1_5', 'RSA-PSS', 'ECDSA', 'HMAC', ...ED]),
  encrypt: set(['RSA-OAEP', 'AES-CTR', 'AES-CBC', 'AES-GCM']),
  deriveBits: set(['ECDH', 'X25519', 'HKDF', 'PBKDF2']),
  wrapKey: set(['RSA-OAEP', ...AES]),
  getKeyLength: set([...AES, 'HMAC', 'HKDF', 'PBKDF2']),
};

/**
 * WebCrypto's "normalize an algorithm": a string or a dictionary with a name, matched
 * case-insensitively against what `op` supports. Returns { name, p } (p: the dictionary).
 */
export function normalize(op, alg) {
  let p, rawName;
  if (typeof alg === 'string') {
    p = {};
    rawName = alg;
  } else if (isObjectLike(alg)) {
    p = alg;
    if (alg.name === undefined) throw new TypeError("Algorithm: name: Missing or not a string");
    rawName = toDOMString(alg.name);
  } else {
    throw new TypeError('Algorithm: Not an object or a string');
  }
  const name = canonical[rawName.toUpperCase()];
  if (name === undefined || OPS[op][name] !== true) throw notSupported(`Unrecognized or unsupported algorithm for ${op}: ${rawName}`);
  return { name, p };
}

/** A required hash member (string or {name}), normalized. */
export function hashMember(p, what, allowMd5 = false) {
  if (p.hash === undefined) throw new TypeError(`${what}: Missing field "hash" in "algorithm".`);
  const name = normalize('digest', p.hash).name;
  if (name === 'MD5' && !allowMd5) throw notSupported(`${what} does not support MD5`);
  return name;
}

export function required(p, member, what) {
  const v = p[member];
  if (v === undefined) throw new TypeError(`${what}: Missing field "${member}" in "algorithm".`);
  return v;
}

/** WebIDL [EnforceRange] unsigned long / octet. */
export function unsigned(v, what, max = 0xffffffff) {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > max) throw new TypeError(`${what} must be an integer between 0 and ${max}`);
  return Math.trunc(n);
}

// ---------------------------------------------------------------------------------------
// Bytes

/** A private copy of a BufferSource argument (the operation must not see later changes). */
export function bytesArg(v, what, cap = MAX_INPUT) {
  const view = isObjectLike(v) ? viewBytes(v) : null;
  if (view === null) throw new TypeError(`${what} is not of type '(ArrayBuffer or ArrayBufferView)'.`);
  if (len(view) > cap) throw operationError(`${what} of ${len(view)} bytes exceeds Bulwark's limit of ${cap} bytes for one operation`);
  return copy(view);
}

/** A view (no copy) of a BufferSource, for inputs fed to the host in chunks right away. */
export function viewArg(v, what) {
  const view = isObjectLike(v) ? viewBytes(v) : null;
  if (view === null) throw new TypeError(`${what} is not of type '(ArrayBuffer or ArrayBufferView)'.`);
  return view;
}

/** Feed `view` to an incremental host digest/HMAC in CHUNK pieces; returns its length. */
export function feed(handle, view) {
  const n = len(view);
  for (let off = 0; off < n; off += CHUNK) {
    const [b, o, l] = inPlace(sub(view, off, Math.min(n, off + CHUNK)));
    host('hashUpdate', handle, b, o, l);
  }
  return n;
}

/** Feed `view` to an incremental host digest/HMAC and finish it. */
export function hashChunks(handle, view) {
  try {
    feed(handle, view);
  } catch (e) {
    host('hashDrop', handle);
    throw e;
  }
  return host('hashFinish', handle);
}

export function digestBytes(name, view) {
  if (len(view) <= CHUNK) { const [b, o, l] = inPlace(view); return host('digest', name, b, o, l); }
  return hashChunks(host('hashInit', name), view);
}

export function hmacBytes(hash, keyRaw, view) {
  if (len(view) <= CHUNK) { const [b, o, l] = inPlace(view); return host('hmac', hash, keyRaw, b, o, l); }
  return hashChunks(host('hmacInit', hash, keyRaw), view);
}

/** The first `bits` bits of `bytes` (a fresh array; trailing bits of the last byte zeroed). */
export function truncateBits(bytes, bits) {
  const n = Math.ceil(bits / 8);
  const out = new U8(n);
  for (let i = 0; i < n; i++) out[i] = bytes[i];
  if (bits % 8 !== 0) out[n - 1] &= (0xff << (8 - (bits % 8))) & 0xff;
  return out;
}

/** Key bytes from the host's SecureRandom (not H.randomBytes, whose Uint8Array a worker could intercept). */
export function randomKeyBytes(n) {
  const out = host('random', n);
  if (len(out) !== n) throw operationError('The host returned invalid random bytes');
  return out;
}

// ---------------------------------------------------------------------------------------
// Usages

export const USAGE_ORDER = ['encrypt', 'decrypt', 'sign', 'verify', 'deriveKey', 'deriveBits', 'wrapKey', 'unwrapKey'];
const validUsage = set(USAGE_ORDER);

/** sequence<KeyUsage> → a de-duplicated list in canonical order; TypeError for non-usages. */
export function parseUsages(v) {
  if (!isObjectLike(v) || typeof v[Symbol.iterator] !== 'function') throw new TypeError('keyUsages is not a sequence');
  const seen = { __proto__: null };
  for (const u of v) {
    const s = toDOMString(u);
    if (validUsage[s] !== true) throw new TypeError(`'${s}' is not a valid KeyUsage`);
    seen[s] = true;
  }
  const out = [];
  for (let i = 0; i < USAGE_ORDER.length; i++) if (seen[USAGE_ORDER[i]] === true) append(out, USAGE_ORDER[i]);
  return out;
}

/** Every usage must be in `allowed`, else SyntaxError (as WebCrypto specifies). */
export function checkUsages(usages, allowed, name) {
  for (let i = 0; i < usages.length; i++) {
    if (!has(allowed, usages[i])) throw syntaxError(`Cannot create a ${name} key with usage '${usages[i]}'`);
  }
  return usages;
}
/** Whether a list holds a value (a loop: prototype methods may have been replaced). */
export function has(list, v) {
  for (let i = 0; i < list.length; i++) if (list[i] === v) return true;
  return false;
}
/** The usages of `usages` that are in `allowed`, in order. */
export function only(usages, allowed) {
  const out = [];
  for (let i = 0; i < usages.length; i++) if (has(allowed, usages[i])) append(out, usages[i]);
  return out;
}
