// SubtleCrypto's implementation: argument handling, key checks and the operations of every
// algorithm. A lazy part of the prelude (build.mjs `parts`, src/parts/subtle.js): kept out of the
// startup snapshot and compiled into an isolate by its first crypto.subtle call (subtle.js, the
// class on the global, calls these with its own arguments).
import { bytesToArrayBuffer, PromiseResolve, PromiseReject, isObjectLike } from './util.js';
import { utf8Encode } from './encoding.js';
import { keyRecord } from './crypto-key.js';
import { U8, len, copy, JSONStringify, utf8ToString, parseJsonObject } from './crypto-intrinsics.js';
import {
  host, invalidAccess, dataError, operationError, normalize, hashMember, required, unsigned,
  bytesArg, viewArg, digestBytes, hmacBytes, truncateBits, parseUsages, has, MAX_INPUT,
} from './crypto-common.js';
import { importKey, exportKey, generateKey, parseFormat } from './crypto-keys.js';

const KEY_CAP = 64 * 1024;

/** WebCrypto never throws synchronously: every failure becomes a rejected promise. */
function promised(fn) {
  try {
    return PromiseResolve(fn());
  } catch (err) {
    return PromiseReject(err);
  }
}

function needArgs(n, count, method) {
  if (count < n) throw new TypeError(`Failed to execute '${method}' on 'SubtleCrypto': ${n} arguments required, but only ${count} present.`);
}

/** The record of `key` if it is a CryptoKey for `name` allowing `usage`. */
function useKey(key, name, usage, what = 'key') {
  const k = keyRecord(key);
  if (k === null) throw new TypeError(`${what} is not of type 'CryptoKey'.`);
  if (k.name !== name) throw invalidAccess(`The requested algorithm "${name}" does not match the key's algorithm "${k.name}".`);
  if (!has(k.usages, usage)) throw invalidAccess(`The key does not allow the "${usage}" operation.`);
  return k;
}

function requireType(k, type, op) {
  if (k.type !== type) throw invalidAccess(`${op} requires a ${type} key, not a ${k.type} key.`);
}

// ---------------------------------------------------------------------------------------
// Operations on records (shared by the public methods, deriveKey, wrapKey and unwrapKey)

function sign(alg, k, view) {
  const { name, p } = alg;
  if (name === 'HMAC') return hmacBytes(k.hash, k.raw, view);
  requireType(k, 'private', 'Signing');
  const data = bytesArg(view, 'data');
  switch (name) {
    case 'RSASSA-PKCS1-v1_5': return host('sign', 'RSA', name, k.hash, 0, k.der, data);
    case 'RSA-PSS': return host('sign', 'RSA', name, k.hash, unsigned(required(p, 'saltLength', name), 'saltLength'), k.der, data);
    case 'ECDSA': return host('sign', k.kind, 'ECDSA', hashMember(p, 'ECDSA'), 0, k.der, data);
    default: return host('sign', 'Ed25519', 'Ed25519', undefined, 0, k.der, data);
  }
}

function verify(alg, k, signature, view) {
  const { name, p } = alg;
  if (name === 'HMAC') {
    const mac = hmacBytes(k.hash, k.raw, view);
    if (len(mac) !== len(signature)) return false;
    let diff = 0;
    for (let i = 0; i < len(mac); i++) diff |= mac[i] ^ signature[i];
    return diff === 0;
  }
  requireType(k, 'public', 'Verification');
  const data = bytesArg(view, 'data');
  switch (name) {
    case 'RSASSA-PKCS1-v1_5': return host('verify', 'RSA', name, k.hash, 0, k.spki, signature, data);
    case 'RSA-PSS': return host('verify', 'RSA', name, k.hash, unsigned(required(p, 'saltLength', name), 'saltLength'), k.spki, signature, data);
    case 'ECDSA': return host('verify', k.kind, 'ECDSA', hashMember(p, 'ECDSA'), 0, k.spki, signature, data);
    default: return host('verify', 'Ed25519', 'Ed25519', undefined, 0, k.spki, signature, data);
  }
}

function crypt(encrypt, alg, k, data) {
  const { name, p } = alg;
  switch (name) {
    case 'RSA-OAEP': {
      requireType(k, encrypt ? 'public' : 'private', encrypt ? 'RSA-OAEP encryption' : 'RSA-OAEP decryption');
      const label = p.label === undefined ? new U8(0) : bytesArg(p.label, 'label', KEY_CAP);
      return host('oaep', encrypt, k.hash, encrypt ? k.spki : k.der, label, data);
    }
    case 'AES-CBC':
      return host('aesCbc', encrypt, k.raw, bytesArg(required(p, 'iv', name), 'iv', KEY_CAP), data);
    case 'AES-CTR': {
      const counter = bytesArg(required(p, 'counter', name), 'counter', KEY_CAP);
      return host('aesCtr', k.raw, counter, unsigned(required(p, 'length', name), 'length', 255), data);
    }
    case 'AES-GCM': {
      const iv = bytesArg(required(p, 'iv', name), 'iv', KEY_CAP);
      const aad = p.additionalData === undefined ? new U8(0) : bytesArg(p.additionalData, 'additionalData');
      const tag = p.tagLength === undefined ? 128 : unsigned(p.tagLength, 'tagLength', 255);
      return host('aesGcm', encrypt, k.raw, iv, aad, tag, data);
    }
    default: // AES-KW
      return host('aesKw', encrypt, k.raw, data);
  }
}

function deriveBits(alg, k, length) {
  const { name, p } = alg;
  switch (name) {
    case 'ECDH': case 'X25519': {
      const peer = keyRecord(required(p, 'public', name));
      if (peer === null) throw new TypeError(`${name}: "public" is not a CryptoKey`);
      if (peer.type !== 'public') throw invalidAccess(`${name}: "public" must be a public key`);
      if (peer.name !== k.name) throw invalidAccess(`${name}: the public key is a ${peer.name} key`);
      if (peer.kind !== k.kind) throw invalidAccess(`${name}: the public key is on ${peer.kind}, the private key on ${k.kind}`);
      requireType(k, 'private', name);
      const secret = host('agree', k.kind, k.der, peer.spki);
      if (length === null) return secret;
      if (length > len(secret) * 8) throw operationError(`${name} can derive at most ${len(secret) * 8} bits`);
      return truncateBits(secret, length);
    }
    case 'HKDF': {
      const hash = hashMember(p, 'HKDF');
      const salt = bytesArg(required(p, 'salt', name), 'salt', KEY_CAP);
      const info = bytesArg(required(p, 'info', name), 'info', KEY_CAP);
      if (length === null || length % 8 !== 0) throw operationError('HKDF length must be a multiple of 8');
      return host('hkdf', hash, k.raw, salt, info, length / 8);
    }
    default: { // PBKDF2
      const hash = hashMember(p, 'PBKDF2');
      const salt = bytesArg(required(p, 'salt', name), 'salt', KEY_CAP);
      const iterations = unsigned(required(p, 'iterations', name), 'iterations');
      if (length === null || length % 8 !== 0) throw operationError('PBKDF2 length must be a multiple of 8');
      if (iterations === 0) throw operationError('PBKDF2 requires a positive iteration count');
      return host('pbkdf2', hash, k.raw, salt, iterations, length / 8);
    }
  }
}

/** WebCrypto's "get key length" of deriveKey's derivedKeyType (null: take what the KDF gives). */
function keyLength(alg) {
  const { name, p } = alg;
  if (name === 'HMAC') {
    if (p.length === undefined) return { 'MD5': 512, 'SHA-1': 512, 'SHA-256': 512, 'SHA-384': 1024, 'SHA-512': 1024 }[hashMember(p, 'HMAC', true)];
    const n = unsigned(p.length, 'HMAC length');
    if (n === 0) throw new TypeError('HMAC key length must not be zero');
    return n;
  }
  if (name === 'HKDF' || name === 'PBKDF2') return null;
  const n = unsigned(required(p, 'length', name), 'AES length', 0xffff);
  if (n !== 128 && n !== 192 && n !== 256) throw operationError('Derived AES key must be 128, 192 or 256 bits');
  return n;
}

function lengthArg(v) {
  return v === undefined || v === null ? null : unsigned(v, 'length');
}

// ---------------------------------------------------------------------------------------
// SubtleCrypto's methods but timingSafeEqual, called with the arguments the class's got.

export const impl = {
  digest(algorithm, data) {
    return promised(() => {
      needArgs(2, arguments.length, 'digest');
      const { name } = normalize('digest', algorithm);
      return bytesToArrayBuffer(digestBytes(name, viewArg(data, 'data')));
    });
  },
  generateKey(algorithm, extractable, keyUsages) {
    return promised(() => {
      needArgs(3, arguments.length, 'generateKey');
      const alg = normalize('generateKey', algorithm);
      return generateKey(alg, !!extractable, parseUsages(keyUsages));
    });
  },
  importKey(format, keyData, algorithm, extractable, keyUsages) {
    return promised(() => {
      needArgs(5, arguments.length, 'importKey');
      const fmt = parseFormat(format);
      const alg = normalize('importKey', algorithm);
      return importKey(fmt, keyData, alg, !!extractable, parseUsages(keyUsages));
    });
  },
  exportKey(format, key) {
    return promised(() => {
      needArgs(2, arguments.length, 'exportKey');
      const fmt = parseFormat(format);
      const k = keyRecord(key);
      if (k === null) throw new TypeError("parameter 2 is not of type 'CryptoKey'.");
      return exportKey(fmt, k);
    });
  },
  sign(algorithm, key, data) {
    return promised(() => {
      needArgs(3, arguments.length, 'sign');
      const alg = normalize('sign', algorithm);
      const view = alg.name === 'HMAC' ? viewArg(data, 'data') : bytesArg(data, 'data');
      const k = useKey(key, alg.name, 'sign');
      return bytesToArrayBuffer(sign(alg, k, view));
    });
  },
  verify(algorithm, key, signature, data) {
    return promised(() => {
      needArgs(4, arguments.length, 'verify');
      const alg = normalize('sign', algorithm);
      const sig = bytesArg(signature, 'signature', KEY_CAP);
      const view = alg.name === 'HMAC' ? viewArg(data, 'data') : bytesArg(data, 'data');
      const k = useKey(key, alg.name, 'verify');
      return verify(alg, k, sig, view);
    });
  },
  encrypt(algorithm, key, data) {
    return promised(() => {
      needArgs(3, arguments.length, 'encrypt');
      const alg = normalize('encrypt', algorithm);
      const bytes = bytesArg(data, 'data');
      return bytesToArrayBuffer(crypt(true, alg, useKey(key, alg.name, 'encrypt'), bytes));
    });
  },
  decrypt(algorithm, key, data) {
    return promised(() => {
      needArgs(3, arguments.length, 'decrypt');
      const alg = normalize('encrypt', algorithm);
      const bytes = bytesArg(data, 'data');
      return bytesToArrayBuffer(crypt(false, alg, useKey(key, alg.name, 'decrypt'), bytes));
    });
  },
  deriveBits(algorithm, baseKey, length = null) {
    return promised(() => {
      needArgs(2, arguments.length, 'deriveBits');
      const alg = normalize('deriveBits', algorithm);
      const n = lengthArg(length);
      return bytesToArrayBuffer(deriveBits(alg, useKey(baseKey, alg.name, 'deriveBits', 'baseKey'), n));
    });
  },
  deriveKey(algorithm, baseKey, derivedKeyType, extractable, keyUsages) {
    return promised(() => {
      needArgs(5, arguments.length, 'deriveKey');
      const alg = normalize('deriveBits', algorithm);
      const importAlg = normalize('importKey', derivedKeyType);
      const lengthAlg = normalize('getKeyLength', derivedKeyType);
      const usages = parseUsages(keyUsages);
      const k = useKey(baseKey, alg.name, 'deriveKey', 'baseKey');
      const bits = deriveBits(alg, k, keyLength(lengthAlg));
      return importKey('raw', bits, importAlg, !!extractable, usages, true);
    });
  },
  wrapKey(format, key, wrappingKey, wrapAlgorithm) {
    return promised(() => {
      needArgs(4, arguments.length, 'wrapKey');
      const fmt = parseFormat(format);
      const alg = normalize('wrapKey', wrapAlgorithm);
      const wk = useKey(wrappingKey, alg.name, 'wrapKey', 'wrappingKey');
      const k = keyRecord(key);
      if (k === null) throw new TypeError("parameter 2 is not of type 'CryptoKey'.");
      const exported = exportKey(fmt, k);
      const bytes = fmt === 'jwk' ? utf8Encode(JSONStringify(exported)) : new U8(exported);
      if (len(bytes) > MAX_INPUT) throw operationError('The key is too large to wrap');
      return bytesToArrayBuffer(crypt(true, alg, wk, bytes));
    });
  },
  unwrapKey(format, wrappedKey, unwrappingKey, unwrapAlgorithm, unwrappedKeyAlgorithm, extractable, keyUsages) {
    return promised(() => {
      needArgs(7, arguments.length, 'unwrapKey');
      const fmt = parseFormat(format);
      const alg = normalize('wrapKey', unwrapAlgorithm);
      const importAlg = normalize('importKey', unwrappedKeyAlgorithm);
      const usages = parseUsages(keyUsages);
      const wrapped = bytesArg(wrappedKey, 'wrappedKey');
      const uk = useKey(unwrappingKey, alg.name, 'unwrapKey', 'unwrappingKey');
      const bytes = crypt(false, alg, uk, wrapped);
      let data = bytes;
      if (fmt === 'jwk') {
        try {
          data = parseJsonObject(utf8ToString(bytes));
        } catch {
          throw dataError('The unwrapped key is not valid JSON');
        }
        if (!isObjectLike(data)) throw dataError('The unwrapped key is not a JSON object');
      }
      return importKey(fmt, data, importAlg, !!extractable, usages, true);
    });
  }
};
