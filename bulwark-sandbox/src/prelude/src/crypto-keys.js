// importKey / exportKey / generateKey for every WebCrypto key family.
import { isObjectLike, toDOMString, bytesToArrayBuffer } from './util.js';
import { base64Encode } from './base64.js';
import { newKey } from './crypto-key.js';
import { U8, len, copy, b64urlDecode, ObjectKeys, append } from './crypto-intrinsics.js';
import {
  host, unframe, notSupported, invalidAccess, dataError, operationError, syntaxError, hashMember, required, unsigned,
  bytesArg, randomKeyBytes, checkUsages, only, has,
} from './crypto-common.js';

const KEY_CAP = 64 * 1024;
const FORMATS = ['raw', 'spki', 'pkcs8', 'jwk'];

export function parseFormat(v) {
  const f = toDOMString(v);
  if (!has(FORMATS, f)) throw new TypeError(`'${f}' is not a valid KeyFormat`);
  return f;
}

// ---------------------------------------------------------------------------------------
// Families

const HASH_BLOCK_BITS = { 'MD5': 512, 'SHA-1': 512, 'SHA-256': 512, 'SHA-384': 1024, 'SHA-512': 1024 };
const HMAC_JWK = { 'SHA-1': 'HS1', 'SHA-256': 'HS256', 'SHA-384': 'HS384', 'SHA-512': 'HS512' };
const RSA_JWK = {
  'RSASSA-PKCS1-v1_5': { 'SHA-1': 'RS1', 'SHA-256': 'RS256', 'SHA-384': 'RS384', 'SHA-512': 'RS512' },
  'RSA-PSS': { 'SHA-1': 'PS1', 'SHA-256': 'PS256', 'SHA-384': 'PS384', 'SHA-512': 'PS512' },
  'RSA-OAEP': { 'SHA-1': 'RSA-OAEP', 'SHA-256': 'RSA-OAEP-256', 'SHA-384': 'RSA-OAEP-384', 'SHA-512': 'RSA-OAEP-512' },
};
const EC_JWK = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };
const AES_JWK = { 'AES-CTR': 'CTR', 'AES-CBC': 'CBC', 'AES-GCM': 'GCM', 'AES-KW': 'KW' };
const CURVES = ['P-256', 'P-384', 'P-521'];

/** What a family's keys may be used for: [secret-or-private usages, public usages]. */
function usagesFor(name) {
  switch (name) {
    case 'AES-KW': return [['wrapKey', 'unwrapKey'], []];
    case 'AES-CTR': case 'AES-CBC': case 'AES-GCM': return [['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'], []];
    case 'HMAC': return [['sign', 'verify'], []];
    case 'HKDF': case 'PBKDF2': return [['deriveKey', 'deriveBits'], []];
    case 'RSASSA-PKCS1-v1_5': case 'RSA-PSS': case 'ECDSA': case 'Ed25519': case 'NODE-ED25519': return [['sign'], ['verify']];
    case 'RSA-OAEP': return [['decrypt', 'unwrapKey'], ['encrypt', 'wrapKey']];
    case 'ECDH': case 'X25519': return [['deriveKey', 'deriveBits'], []];
    default: throw notSupported(name);
  }
}
const isSecretFamily = (name) => name === 'HMAC' || name === 'HKDF' || name === 'PBKDF2' || AES_JWK[name] !== undefined;

/** The host's key kind for an asymmetric family. */
function kindOf(name, p) {
  switch (name) {
    case 'RSASSA-PKCS1-v1_5': case 'RSA-PSS': case 'RSA-OAEP': return 'RSA';
    case 'ECDSA': case 'ECDH': {
      const curve = toDOMString(required(p, 'namedCurve', name));
      if (!has(CURVES, curve)) throw notSupported(`Unsupported namedCurve: ${curve}`);
      return curve;
    }
    case 'NODE-ED25519': {
      const curve = toDOMString(required(p, 'namedCurve', name));
      if (curve !== 'NODE-ED25519') throw notSupported(`EDDSA curve "${curve}" isn't supported.`);
      return 'Ed25519';
    }
    case 'Ed25519': return 'Ed25519';
    case 'X25519': return 'X25519';
    default: throw notSupported(name);
  }
}

const u32 = (b) => ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;

function record(type, extractable, name, usages, extra) {
  const r = { __proto__: null, type, extractable: !!extractable, name, usages };
  const keys = ObjectKeys(extra);
  for (let i = 0; i < keys.length; i++) r[keys[i]] = extra[keys[i]];
  return r;
}

// ---------------------------------------------------------------------------------------
// JWK helpers

function b64(bytes) { return base64Encode(bytes, true); }
function unb64(jwk, member) {
  const v = jwk[member];
  if (typeof v !== 'string') throw dataError(`The JWK member "${member}" is missing or not a string`);
  if (v.length > KEY_CAP * 2) throw dataError(`The JWK member "${member}" is too long`);
  const out = b64urlDecode(v);
  if (out === null) throw dataError(`The JWK member "${member}" is not valid base64url`);
  return out;
}
/** The checks every JWK import makes: use, key_ops, ext. */
function checkJwk(jwk, extractable, usages, use) {
  if (jwk.use !== undefined && usages.length > 0 && jwk.use !== use) throw dataError(`The JWK "use" member must be "${use}"`);
  if (jwk.key_ops !== undefined) {
    if (!Array.isArray(jwk.key_ops)) throw dataError('The JWK "key_ops" member must be an array');
    const ops = [];
    for (const o of jwk.key_ops) {
      const s = toDOMString(o);
      if (has(ops, s)) throw dataError(`The JWK "key_ops" member repeats "${s}"`);
      append(ops, s);
    }
    for (let i = 0; i < usages.length; i++) {
      if (!has(ops, usages[i])) throw dataError(`The JWK "key_ops" member does not allow "${usages[i]}"`);
    }
  }
  if (jwk.ext === false && extractable) throw dataError('The JWK "ext" member is false but an extractable key was requested');
}
function jwkOut(kty, members, usages, extractable) {
  const j = { kty };
  for (const k in members) if (members[k] !== undefined) j[k] = members[k];
  j.key_ops = usages.slice();
  j.ext = extractable;
  return j;
}

// ---------------------------------------------------------------------------------------
// Import

/**
 * importKey after normalization. `keyData` is the caller's value, unless `trusted`: then it is
 * bytes (or a null-prototype JWK) made inside the prelude (deriveKey, unwrapKey), which may be
 * a non-extractable key's material and so is used as it is, never passed through user-reachable code.
 */
export function importKey(format, keyData, alg, extractable, usages, trusted = false) {
  const { name, p } = alg;
  let data;
  if (format === 'jwk') {
    if (!isObjectLike(keyData)) throw new TypeError('A "jwk" import takes a JsonWebKey object');
    data = keyData;
  } else if (trusted) {
    if (len(keyData) > KEY_CAP) throw dataError('The key data is too large');
    data = keyData;
  } else {
    data = bytesArg(keyData, 'keyData', KEY_CAP);
  }
  const k = isSecretFamily(name) ? importSecret(format, data, name, p, extractable, usages) : importAsymmetric(format, data, name, p, extractable, usages);
  if ((k.type === 'secret' || k.type === 'private') && k.usages.length === 0) throw syntaxError('Usages cannot be empty when creating a key.');
  return newKey(k);
}

function importSecret(format, data, name, p, extractable, usages) {
  checkUsages(usages, usagesFor(name)[0], name);
  if (name === 'HKDF' || name === 'PBKDF2') {
    if (format !== 'raw') throw notSupported(`${name} keys can only be imported in raw format`);
    if (extractable) throw syntaxError(`${name} keys cannot be extractable`);
    return record('secret', false, name, usages, { __proto__: null, raw: data });
  }
  const hash = name === 'HMAC' ? hashMember(p, 'HMAC', true) : undefined;
  let raw;
  if (format === 'raw') {
    raw = data;
  } else if (format === 'jwk') {
    if (data.kty !== 'oct') throw dataError('The JWK "kty" member must be "oct"');
    raw = unb64(data, 'k');
    checkJwk(data, extractable, usages, name === 'HMAC' ? 'sig' : 'enc');
    if (data.alg !== undefined) {
      const expected = name === 'HMAC' ? HMAC_JWK[hash] : `A${len(raw) * 8}${AES_JWK[name]}`;
      if (data.alg !== expected) throw dataError(`The JWK "alg" member must be "${expected}"`);
    }
  } else {
    throw notSupported(`${name} keys cannot be imported in ${format} format`);
  }
  const bits = len(raw) * 8;
  if (name === 'HMAC') {
    if (bits === 0) throw dataError('HMAC key data must not be empty');
    let length = bits;
    if (p.length !== undefined) {
      length = unsigned(p.length, 'HMAC length');
      if (length > bits || length <= bits - 8) throw dataError('The HMAC length does not match the key data');
    }
    return record('secret', extractable, name, usages, { __proto__: null, raw, hash, length });
  }
  if (bits !== 128 && bits !== 192 && bits !== 256) throw dataError(`AES key data must be 128, 192 or 256 bits, got ${bits}`);
  return record('secret', extractable, name, usages, { __proto__: null, raw, length: bits });
}

function importAsymmetric(format, data, name, p, extractable, usages) {
  const kind = kindOf(name, p);
  const hash = kind === 'RSA' ? hashMember(p, name) : undefined;
  const [privateUsages, publicUsages] = usagesFor(name);
  let res, type;
  if (format === 'spki' || format === 'raw') {
    if (format === 'raw' && kind === 'RSA') throw notSupported('RSA keys cannot be imported in raw format');
    checkUsages(usages, publicUsages, name);
    res = unframe(host('import', kind, format, data));
    type = 'public';
  } else if (format === 'pkcs8') {
    checkUsages(usages, privateUsages, name);
    res = unframe(host('import', kind, format, data));
    type = 'private';
  } else {
    type = data.d !== undefined ? 'private' : 'public';
    checkUsages(usages, type === 'private' ? privateUsages : publicUsages, name);
    res = unframe(importJwk(kind, name, data, type, hash, extractable, usages));
  }
  const extra = { __proto__: null, kind, der: res[0], spki: res[1] };
  if (kind === 'RSA') {
    extra.hash = hash;
    extra.modulusLength = u32(res[2]);
    extra.publicExponent = res.length > 3 ? res[3] : new U8(0);
  } else if (name === 'ECDSA' || name === 'ECDH') {
    extra.namedCurve = kind;
  }
  return record(type, extractable, name, usages, extra);
}

function importJwk(kind, name, jwk, type, hash, extractable, usages) {
  const priv = type === 'private';
  if (kind === 'RSA') {
    if (jwk.kty !== 'RSA') throw dataError('The JWK "kty" member must be "RSA"');
    checkJwk(jwk, extractable, usages, name === 'RSA-OAEP' ? 'enc' : 'sig');
    if (jwk.alg !== undefined && jwk.alg !== RSA_JWK[name][hash]) throw dataError(`The JWK "alg" member must be "${RSA_JWK[name][hash]}"`);
    if (!priv) return host('importJwk', 'RSA', unb64(jwk, 'n'), unb64(jwk, 'e'));
    if (jwk.oth !== undefined) throw notSupported('RSA keys with more than two primes are not supported');
    const m = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'].map((k) => unb64(jwk, k));
    return host('importJwk', 'RSA', m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]);
  }
  if (kind === 'Ed25519' || kind === 'X25519') {
    if (jwk.kty !== 'OKP') throw dataError('The JWK "kty" member must be "OKP"');
    if (jwk.crv !== kind) throw dataError(`The JWK "crv" member must be "${kind}"`);
    checkJwk(jwk, extractable, usages, kind === 'Ed25519' ? 'sig' : 'enc');
    if (kind === 'Ed25519' && jwk.alg !== undefined && jwk.alg !== 'EdDSA' && jwk.alg !== 'Ed25519') throw dataError('The JWK "alg" member must be "EdDSA"');
    return priv ? host('importJwk', kind, unb64(jwk, 'x'), unb64(jwk, 'd')) : host('importJwk', kind, unb64(jwk, 'x'));
  }
  if (jwk.kty !== 'EC') throw dataError('The JWK "kty" member must be "EC"');
  if (jwk.crv !== kind) throw dataError(`The JWK "crv" member must be "${kind}"`);
  checkJwk(jwk, extractable, usages, name === 'ECDSA' ? 'sig' : 'enc');
  if (name === 'ECDSA' && jwk.alg !== undefined && jwk.alg !== EC_JWK[kind]) throw dataError(`The JWK "alg" member must be "${EC_JWK[kind]}"`);
  return priv ? host('importJwk', kind, unb64(jwk, 'x'), unb64(jwk, 'y'), unb64(jwk, 'd')) : host('importJwk', kind, unb64(jwk, 'x'), unb64(jwk, 'y'));
}

// ---------------------------------------------------------------------------------------
// Export

export function exportKey(format, k) {
  if (!k.extractable) throw invalidAccess('The key is not extractable');
  if (k.type === 'secret') {
    if (format === 'raw') return bytesToArrayBuffer(copy(k.raw));
    if (format !== 'jwk') throw notSupported(`${k.name} keys cannot be exported in ${format} format`);
    const alg = k.name === 'HMAC' ? HMAC_JWK[k.hash] : `A${k.length}${AES_JWK[k.name]}`;
    return jwkOut('oct', { k: b64(k.raw), alg }, k.usages, k.extractable);
  }
  switch (format) {
    case 'spki':
      if (k.type !== 'public') throw invalidAccess('Only public keys can be exported in spki format');
      return bytesToArrayBuffer(copy(k.spki));
    case 'pkcs8':
      if (k.type !== 'private') throw invalidAccess('Only private keys can be exported in pkcs8 format');
      return bytesToArrayBuffer(copy(k.der));
    case 'raw':
      if (k.kind === 'RSA') throw notSupported('RSA keys cannot be exported in raw format');
      if (k.type !== 'public') throw invalidAccess('Only public keys can be exported in raw format');
      return bytesToArrayBuffer(host('exportRaw', k.kind, k.spki));
    default: {
      const priv = k.type === 'private';
      const m = unframe(host('exportJwk', k.kind, k.spki, priv ? k.der : undefined));
      if (k.kind === 'RSA') {
        const members = { alg: RSA_JWK[k.name][k.hash], n: b64(m[0]), e: b64(m[1]) };
        if (priv) {
          members.d = b64(m[2]); members.p = b64(m[3]); members.q = b64(m[4]);
          members.dp = b64(m[5]); members.dq = b64(m[6]); members.qi = b64(m[7]);
        }
        return jwkOut('RSA', members, k.usages, k.extractable);
      }
      if (k.kind === 'Ed25519' || k.kind === 'X25519') {
        return jwkOut('OKP', { crv: k.kind, alg: k.name === 'Ed25519' ? 'EdDSA' : undefined, x: b64(m[0]), d: priv ? b64(m[1]) : undefined }, k.usages, k.extractable);
      }
      return jwkOut('EC', { crv: k.kind, x: b64(m[0]), y: b64(m[1]), d: priv ? b64(m[2]) : undefined }, k.usages, k.extractable);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Generate

export function generateKey(alg, extractable, usages) {
  const { name, p } = alg;
  const [privateUsages, publicUsages] = usagesFor(name);
  if (isSecretFamily(name)) {
    // The algorithm's members (HMAC's hash) are normalized before the usages are checked, as in
    // WebCrypto's normalize-then-generate order and workerd's generateHmac/generateRsa: a hash
    // that does not exist is a NotSupportedError even when the usages are wrong too.
    const hash = name === 'HMAC' ? hashMember(p, 'HMAC', true) : undefined;
    checkUsages(usages, privateUsages, name);
    let k;
    if (name === 'HMAC') {
      let length = HASH_BLOCK_BITS[hash];
      if (p.length !== undefined) {
        length = unsigned(p.length, 'HMAC length');
        if (length === 0) throw operationError('HMAC key length must not be zero');
        if (length > 8 * KEY_CAP) throw operationError(`HMAC key length above ${8 * KEY_CAP} bits is not supported`);
      }
      const raw = randomKeyBytes(Math.ceil(length / 8));
      if (length % 8 !== 0) raw[len(raw) - 1] &= 0xff << (8 - (length % 8));
      k = record('secret', extractable, name, usages, { __proto__: null, raw, hash, length });
    } else {
      const length = unsigned(required(p, 'length', name), 'AES length', 0xffff);
      if (length !== 128 && length !== 192 && length !== 256) throw operationError('AES key length must be 128, 192 or 256 bits');
      k = record('secret', extractable, name, usages, { __proto__: null, raw: randomKeyBytes(length / 8), length });
    }
    if (usages.length === 0) throw syntaxError('Usages cannot be empty when creating a key.');
    return newKey(k);
  }
  const kind = kindOf(name, p);
  let hash, modulusLength, exponent, res;
  if (kind === 'RSA') {
    modulusLength = unsigned(required(p, 'modulusLength', name), 'modulusLength');
    exponent = bytesArg(required(p, 'publicExponent', name), 'publicExponent', 64);
    hash = hashMember(p, name);
  }
  checkUsages(usages, [...privateUsages, ...publicUsages], name);
  if (only(usages, privateUsages).length === 0) throw syntaxError('Usages cannot be empty when creating a key.');
  if (kind === 'RSA') {
    res = unframe(host('generate', 'RSA', modulusLength, exponent));
  } else {
    res = unframe(host('generate', kind, 0, new U8(0)));
  }
  const extra = (der) => {
    const e = { __proto__: null, kind, der, spki: res[1] };
    if (kind === 'RSA') { e.hash = hash; e.modulusLength = u32(res[2]); e.publicExponent = res.length > 3 ? res[3] : new U8(0); }
    if (name === 'ECDSA' || name === 'ECDH') e.namedCurve = kind;
    return e;
  };
  const priv = record('private', extractable, name, only(usages, privateUsages), extra(res[0]));
  const pub = record('public', true, name, only(usages, publicUsages), extra(res[1]));
  if (priv.usages.length === 0) throw syntaxError('Usages cannot be empty when creating a key.');
  return { publicKey: newKey(pub), privateKey: newKey(priv) };
}
