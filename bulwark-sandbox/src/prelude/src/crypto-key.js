// CryptoKey: a handle whose key material lives only in a private field. The material is
// canonical bytes (raw for secret keys; PKCS#8 + SPKI DER for private keys, SPKI for public
// keys) produced by the host; it is handed only to the host, never to code the worker can
// reach or replace (no prototype methods, no global lookups on it: see crypto-intrinsics.js).
import { isObjectLike, illegalConstructor, webidlClass } from './util.js';
import { inspectCustom } from './console.js';
import { U8, u8Slice, ReflectApply, ObjectFreeze, append } from './crypto-intrinsics.js';

let constructing = false;
let internals;

export class CryptoKey {
  #k;
  #algorithm;
  #usages;
  constructor() {
    if (!constructing) illegalConstructor();
  }
  get type() { return this.#k.type; }
  get extractable() { return this.#k.extractable; }
  get algorithm() {
    if (this.#algorithm === undefined) this.#algorithm = publicAlgorithm(this.#k);
    return this.#algorithm;
  }
  get usages() {
    if (this.#usages === undefined) {
      const u = [];
      for (let i = 0; i < this.#k.usages.length; i++) append(u, this.#k.usages[i]);
      this.#usages = u;
    }
    return this.#usages;
  }
  [inspectCustom]() { return { name: 'CryptoKey', value: { type: this.type, extractable: this.extractable, algorithm: this.algorithm, usages: this.usages } }; }
  static {
    internals = {
      create(record) {
        constructing = true;
        let key;
        try { key = new CryptoKey(); } finally { constructing = false; }
        key.#k = record;
        return key;
      },
      of: (v) => (isObjectLike(v) && #k in v ? v.#k : null),
    };
  }
}
webidlClass(CryptoKey);

/**
 * A key record (null prototype, so no inherited getter ever sees it):
 * { type, extractable, name, usages, hash?, length?, namedCurve?, modulusLength?,
 *   publicExponent?, raw? (secret), kind?, der?, spki? (asymmetric) }.
 */
export function newKey(record) {
  return internals.create(ObjectFreeze(record));
}
/** The record of a real CryptoKey, or null for anything else (forgeries, proxies). */
export function keyRecord(v) {
  return internals.of(v);
}

function publicAlgorithm(k) {
  const a = { name: k.name };
  switch (k.name) {
    case 'AES-CTR': case 'AES-CBC': case 'AES-GCM': case 'AES-KW':
      a.length = k.length; break;
    case 'HMAC':
      a.hash = { name: k.hash }; a.length = k.length; break;
    case 'RSASSA-PKCS1-v1_5': case 'RSA-PSS': case 'RSA-OAEP':
      a.modulusLength = k.modulusLength;
      a.publicExponent = ReflectApply(u8Slice, k.publicExponent, []);
      a.hash = { name: k.hash };
      break;
    case 'ECDSA': case 'ECDH':
      a.namedCurve = k.namedCurve; break;
    case 'NODE-ED25519':
      a.namedCurve = 'NODE-ED25519'; break;
    default: break;
  }
  return a;
}
// For type checks elsewhere without importing the class twice.
export const isCryptoKey = (v) => keyRecord(v) !== null;
export { U8 };
