// WebCrypto from the attacker's side: forged and proxied keys, every way to read a
// non-extractable key (export, wrap, JSON, clone, inspection, and replaced intrinsics that the
// prelude might call on key material) and hostile parameters. Huge inputs: ../crypto-huge.js.
const enc = (s) => new TextEncoder().encode(s);
const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
async function assertRejects(promise, name, what) {
  try { await promise; } catch (e) {
    if (e.name !== name) throw new Error(`${what}: rejected with ${e && e.name} (${e && e.message}) instead of ${name}`);
    if (!e.message) throw new Error(`${what}: ${name} without a message`);
    return e;
  }
  throw new Error(`${what}: did not reject`);
}
const s = crypto.subtle;

async function forgeries() {
  const real = await s.importKey('raw', new Uint8Array(16), 'AES-GCM', false, ['encrypt']);
  const params = { name: 'AES-GCM', iv: new Uint8Array(12) };
  const fakes = {
    'Object.create(CryptoKey.prototype)': Object.create(CryptoKey.prototype),
    'a Proxy of a real key': new Proxy(real, {}),
    'a look-alike object': { type: 'secret', extractable: true, algorithm: { name: 'AES-GCM', length: 128 }, usages: ['encrypt'] },
    'an object whose prototype is a real key': Object.create(real),
  };
  for (const [what, fake] of Object.entries(fakes)) {
    await assertRejects(s.encrypt(params, fake, enc('x')), 'TypeError', `encrypt with ${what}`);
    await assertRejects(s.exportKey('raw', fake), 'TypeError', `exportKey of ${what}`);
  }
  let threw = false;
  try { Object.getOwnPropertyDescriptor(CryptoKey.prototype, 'type').get.call({}); } catch (e) { threw = e instanceof TypeError; }
  assertEq(threw, true, 'CryptoKey getters refuse other objects');
  // A key's visible attributes are copies: changing them changes nothing.
  real.algorithm.name = 'HMAC';
  real.usages.push('decrypt');
  await assertRejects(s.decrypt(params, real, new Uint8Array(32)), 'InvalidAccessError', 'usages pushed onto key.usages do not count');
  assertEq((await s.encrypt(params, real, enc('x'))).byteLength, 17, 'the key still encrypts as AES-GCM');
  assertEq(Reflect.ownKeys(real).length, 0, 'a key has no own properties');
  assertEq(JSON.stringify(real), '{}', 'JSON of a key is empty');
  try { structuredClone(real); throw new Error('cloned'); } catch (e) { assertEq(e.name, 'DataCloneError', 'a key is not cloneable'); }
}

async function nonExtractable() {
  const secret = new Uint8Array(32);
  for (let i = 0; i < 32; i++) secret[i] = 0xa0 + i;
  const secretHex = hex(secret);
  const jwkSecret = { kty: 'oct', k: btoa(String.fromCharCode(...secret)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), alg: 'A256GCM' };
  // Keys made before any intrinsic is replaced.
  const hmac = await s.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  const kek = await s.importKey('raw', new Uint8Array(32).fill(1), 'AES-GCM', true, ['encrypt', 'wrapKey', 'unwrapKey']);
  const iv = new Uint8Array(12);
  const wrappedJwk = await s.encrypt({ name: 'AES-GCM', iv }, kek, enc(JSON.stringify(jwkSecret)));
  const wrappedRaw = await s.encrypt({ name: 'AES-GCM', iv }, kek, secret);
  const hkdfKey = await s.importKey('raw', enc('base'), 'HKDF', false, ['deriveKey', 'deriveBits']);
  const hkdfParams = { name: 'HKDF', hash: 'SHA-256', salt: enc('s'), info: enc('i') };
  const derivedHex = hex(await s.deriveBits(hkdfParams, hkdfKey, 256));
  const ed = await s.generateKey('Ed25519', false, ['sign', 'verify']);

  await assertRejects(s.exportKey('raw', hmac), 'InvalidAccessError', 'export raw');
  await assertRejects(s.exportKey('jwk', hmac), 'InvalidAccessError', 'export jwk');
  await assertRejects(s.exportKey('pkcs8', ed.privateKey), 'InvalidAccessError', 'export a generated private key');
  await assertRejects(s.wrapKey('raw', hmac, kek, { name: 'AES-GCM', iv }), 'InvalidAccessError', 'wrap a non-extractable key');
  assertEq(String(ed.privateKey.extractable), 'false', 'generated private key is not extractable');

  // Replace every intrinsic the prelude might call on key bytes and watch for the secret.
  const seen = [];
  let busy = false; // the spy's own calls go through the spied intrinsics too
  const look = (v) => {
    if (busy) return;
    busy = true;
    try {
      if (typeof v === 'string') seen.push(v);
      else if (v instanceof ArrayBuffer) seen.push(hex(new Uint8Array(v.slice(0))));
      else if (ArrayBuffer.isView(v)) seen.push(hex(new Uint8Array(v.buffer.slice(0))));
      else if (v && typeof v === 'object') seen.push(JSON.stringify(Object.keys(v)) + JSON.stringify(Object.values(v).map(String)));
    } catch { /* keep spying */ } finally { busy = false; }
  };
  const TA = Object.getPrototypeOf(Uint8Array.prototype);
  const saved = [];
  const spy = (obj, name) => {
    const d = Object.getOwnPropertyDescriptor(obj, name);
    saved.push([obj, name, d]);
    if (d && typeof d.value === 'function') {
      const orig = d.value;
      Object.defineProperty(obj, name, { ...d, value: function (...args) { look(this); args.forEach(look); return Reflect.apply(orig, this, args); } });
    } else if (d && d.get) {
      const orig = d.get;
      Object.defineProperty(obj, name, { ...d, get() { look(this); return Reflect.apply(orig, this, []); } });
    }
  };
  for (const m of ['slice', 'subarray', 'set', 'map', 'filter', 'fill', 'join', 'toString', 'length', 'byteLength', 'byteOffset', 'buffer']) spy(TA, m);
  for (const m of ['slice', 'byteLength']) spy(ArrayBuffer.prototype, m);
  for (const m of ['replace', 'slice', 'charCodeAt', 'endsWith', 'indexOf', 'split']) spy(String.prototype, m);
  for (const m of ['push', 'map', 'slice', 'includes', 'filter', 'indexOf', 'join']) spy(Array.prototype, m);
  spy(JSON, 'parse');
  spy(JSON, 'stringify');
  for (const k of ['raw', 'der', 'spki', 'k', 'd', 'kind', 'hash', 'then', '0', '1', '2', '3']) {
    Object.defineProperty(Object.prototype, k, { get() { look(this); return undefined; }, set(v) { look(v); look(this); }, configurable: true });
  }
  for (const k of ['0', '1', '2', '3', '4']) Object.defineProperty(Array.prototype, k, { get() { look(this); return undefined; }, set(v) { look(v); look(this); }, configurable: true });
  const RealU8 = Uint8Array;
  globalThis.Uint8Array = new Proxy(RealU8, { construct(t, args) { args.forEach(look); return Reflect.construct(t, args); } });
  let results;
  try {
    results = [
      hex(await s.sign('HMAC', hmac, enc('m'))),
      String(await s.verify('HMAC', hmac, new RealU8(32), enc('m'))),
      (await s.unwrapKey('jwk', wrappedJwk, kek, { name: 'AES-GCM', iv }, 'AES-GCM', false, ['encrypt'])).type,
      (await s.unwrapKey('raw', wrappedRaw, kek, { name: 'AES-GCM', iv }, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])).type,
      (await s.deriveKey(hkdfParams, hkdfKey, { name: 'AES-GCM', length: 256 }, false, ['encrypt'])).type,
      (await s.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])).type,
      hex(await s.sign('Ed25519', ed.privateKey, enc('m'))).length,
    ];
  } finally {
    globalThis.Uint8Array = RealU8;
    for (const k of ['raw', 'der', 'spki', 'k', 'd', 'kind', 'hash', 'then', '0', '1', '2', '3']) delete Object.prototype[k];
    for (const k of ['0', '1', '2', '3', '4']) delete Array.prototype[k];
    for (const [obj, name, d] of saved.reverse()) if (d) Object.defineProperty(obj, name, d);
  }
  assertEq(results.join(' '), `${results[0]} false secret secret secret secret 128`, 'operations still work with replaced intrinsics');
  const leaks = seen.filter((v) => v.includes(secretHex) || v.includes(jwkSecret.k) || v.includes(derivedHex));
  assertEq(leaks.length, 0, `no replaced intrinsic saw the secret (${seen.length} calls watched)`);
  assertEq(seen.length > 0, true, 'the spies were called at all');
}

// A worker that replaces the global Uint8Array with a constructor keeping every array it makes
// (Javet builds host-made typed arrays through that global) must not receive key bytes the host
// writes: generated keys and derived secrets are checked against everything it kept.
async function keptArrays() {
  const RealU8 = Uint8Array;
  const kept = [];
  const block = new RealU8(16).fill(0x42);
  const iv = new RealU8(12);
  let aes, hkdfKey, derived;
  globalThis.Uint8Array = function Uint8Array(...args) { const a = Reflect.construct(RealU8, args); kept.push(a); return a; };
  globalThis.Uint8Array.prototype = RealU8.prototype;
  try {
    aes = await s.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt']);
    hkdfKey = await s.importKey('raw', new RealU8([1, 2, 3]), 'HKDF', false, ['deriveKey']);
    derived = await s.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: new RealU8(1), info: new RealU8(1) }, hkdfKey, { name: 'AES-GCM', length: 256 }, false, ['encrypt']);
  } finally {
    globalThis.Uint8Array = RealU8;
  }
  const target = hex(await s.encrypt({ name: 'AES-GCM', iv }, aes, block));
  const target2 = hex(await s.encrypt({ name: 'AES-GCM', iv }, derived, block));
  for (const a of kept) {
    if (!(a instanceof RealU8) || a.length !== 32) continue;
    const k = await s.importKey('raw', a.slice(), 'AES-GCM', false, ['encrypt']);
    const c = hex(await s.encrypt({ name: 'AES-GCM', iv }, k, block));
    if (c === target || c === target2) throw new Error('a kept Uint8Array holds a non-extractable key');
  }
}

async function hostileParameters() {
  const pw = await s.importKey('raw', enc('pw'), 'PBKDF2', false, ['deriveBits']);
  await assertRejects(s.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: enc('s'), iterations: 100000 }, pw, 8 * 1024 * 1024), 'NotSupportedError', 'PBKDF2 work cap');
  await assertRejects(s.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: enc('s'), iterations: 1e12 }, pw, 256), 'TypeError', 'PBKDF2 10^12 iterations ([EnforceRange] unsigned long)');
  const hk = await s.importKey('raw', enc('k'), 'HKDF', false, ['deriveBits']);
  await assertRejects(s.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: enc('s'), info: enc('i') }, hk, 2 ** 31), 'OperationError', 'HKDF 2^31 bits');
  await assertRejects(s.generateKey({ name: 'HMAC', hash: 'SHA-256', length: 2 ** 31 }, false, ['sign']), 'OperationError', 'HMAC key of 2^31 bits');
  await assertRejects(s.generateKey({ name: 'RSA-PSS', modulusLength: 2 ** 40, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, false, ['sign']), 'TypeError', 'modulusLength beyond unsigned long');
  await assertRejects(s.generateKey({ name: 'RSA-PSS', modulusLength: 1004, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, false, ['sign']), 'OperationError', 'modulusLength not a multiple of 8');
  const aes = await s.importKey('raw', new Uint8Array(16), 'AES-CTR', false, ['encrypt']);
  await assertRejects(s.encrypt({ name: 'AES-CTR', counter: new Uint8Array(16), length: 129 }, aes, enc('x')), 'OperationError', 'CTR length 129');
  await assertRejects(s.encrypt({ name: 'AES-CTR', counter: new Uint8Array(15), length: 64 }, aes, enc('x')), 'OperationError', 'CTR counter of 15 bytes');
  await assertRejects(s.encrypt({ name: 'AES-GCM', iv: new Uint8Array(12) }, aes, enc('x')), 'InvalidAccessError', 'AES-GCM with an AES-CTR key');
  const rsa = await s.generateKey({ name: 'RSA-OAEP', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, false, ['encrypt', 'decrypt']);
  await assertRejects(s.decrypt({ name: 'RSA-OAEP' }, rsa.publicKey, new Uint8Array(128)), 'InvalidAccessError', 'decrypt with a public key');
  await assertRejects(s.encrypt({ name: 'RSA-OAEP' }, rsa.privateKey, enc('x')), 'InvalidAccessError', 'encrypt with a private key');
  await assertRejects(s.decrypt({ name: 'RSA-OAEP' }, rsa.privateKey, new Uint8Array(128)), 'OperationError', 'OAEP garbage ciphertext');
  // Getters in parameters run once, as the worker's own code; a throwing one rejects.
  await assertRejects(s.digest({ get name() { throw new RangeError('boom'); } }, enc('x')), 'RangeError', 'a throwing name getter');
  await assertRejects(s.importKey('raw', enc('k'), { name: 'HMAC', hash: 'SHA-256' }, false, { [Symbol.iterator]() { throw new EvalError('no'); } }), 'EvalError', 'a throwing usages iterator');
}

export default {
  async fetch() {
    await forgeries();
    await nonExtractable();
    await keptArrays();
    await hostileParameters();
    return new Response('ok');
  },
};
