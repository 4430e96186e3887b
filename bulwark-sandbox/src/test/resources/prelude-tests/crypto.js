// Web Crypto basics: getRandomValues, randomUUID, subtle.digest (FIPS 180 vectors),
// HMAC importKey/sign/verify/exportKey/generateKey (RFC 4231 vectors), error behaviour.
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
async function assertRejects(promise, name, what) {
  try { await promise; } catch (e) { if (e.name !== name) throw new Error(`${what}: rejected with ${e && e.name} (${e && e.message}) instead of ${name}`); return; }
  throw new Error(`${what}: did not reject`);
}
function assertThrowsName(fn, name, what) {
  try { fn(); } catch (e) { if (e.name !== name) throw new Error(`${what}: threw ${e && e.name} instead of ${name}`); return; }
  throw new Error(`${what}: did not throw`);
}
const enc = (s) => new TextEncoder().encode(s);
const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
const unhex = (h) => new Uint8Array(h.match(/../g).map((x) => parseInt(x, 16)));

async function run() {
  // getRandomValues
  const a = new Uint8Array(32);
  assertEq(crypto.getRandomValues(a), a, 'returns its argument');
  assertEq(a.some((b) => b !== 0), true, 'filled');
  for (const T of [Int8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array]) {
    crypto.getRandomValues(new T(4));
  }
  crypto.getRandomValues(new Uint8Array(65536));
  crypto.getRandomValues(new Uint8Array(0));
  assertThrowsName(() => crypto.getRandomValues(new Uint8Array(65537)), 'QuotaExceededError', 'over 65536 bytes');
  assertThrowsName(() => crypto.getRandomValues(new Uint32Array(16385)), 'QuotaExceededError', 'byte length counts');
  assertThrowsName(() => crypto.getRandomValues(new Float32Array(4)), 'TypeMismatchError', 'float arrays rejected');
  assertThrowsName(() => crypto.getRandomValues(new Float64Array(4)), 'TypeMismatchError', 'Float64Array rejected');
  assertThrowsName(() => crypto.getRandomValues(new DataView(new ArrayBuffer(4))), 'TypeMismatchError', 'DataView rejected');
  const view = new Uint8Array(new ArrayBuffer(16), 4, 8);
  crypto.getRandomValues(view);
  assertEq(new Uint8Array(view.buffer, 0, 4).every((b) => b === 0), true, 'only the view is filled');

  // randomUUID
  const uuids = new Set();
  for (let i = 0; i < 50; i++) {
    const u = crypto.randomUUID();
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(u)) throw new Error(`bad UUID ${u}`);
    uuids.add(u);
  }
  assertEq(uuids.size, 50, 'UUIDs are unique');

  // digest: FIPS 180-2 examples.
  const d = async (alg, data) => hex(await crypto.subtle.digest(alg, data));
  assertEq(await d('SHA-1', enc('abc')), 'a9993e364706816aba3e25717850c26c9cd0d89d', 'SHA-1 abc');
  assertEq(await d('SHA-256', enc('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'SHA-256 abc');
  assertEq(await d('SHA-384', enc('abc')), 'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7', 'SHA-384 abc');
  assertEq(await d('SHA-512', enc('abc')), 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f', 'SHA-512 abc');
  const two = enc('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq');
  assertEq(await d('SHA-1', two), '84983e441c3bd26ebaae4aa1f95129e5e54670f1', 'SHA-1 448-bit message');
  assertEq(await d({ name: 'sha-256' }, two), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1', 'SHA-256 448-bit message, dictionary + case-insensitive name');
  assertEq(await d('SHA-256', new ArrayBuffer(0)), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'SHA-256 of nothing');
  assertEq(await d('SHA-256', new DataView(enc('xabcx').buffer, 1, 3)), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'digest of a view honours offset');
  assertEq((await crypto.subtle.digest('SHA-256', enc('x'))) instanceof ArrayBuffer, true, 'digest resolves to ArrayBuffer');
  await assertRejects(crypto.subtle.digest('MD4', enc('x')), 'NotSupportedError', 'unknown digest');
  await assertRejects(crypto.subtle.digest('SHA-256', 'not a buffer'), 'TypeError', 'digest of a string');

  // HMAC: RFC 4231 test cases 1, 2 and 6.
  const mac = async (hash, key, data) => {
    const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash }, false, ['sign', 'verify']);
    return hex(await crypto.subtle.sign('HMAC', k, data));
  };
  const key1 = new Uint8Array(20).fill(0x0b);
  assertEq(await mac('SHA-256', key1, enc('Hi There')), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7', 'RFC 4231 #1 SHA-256');
  assertEq(await mac('SHA-384', key1, enc('Hi There')), 'afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6', 'RFC 4231 #1 SHA-384');
  assertEq(await mac('SHA-512', key1, enc('Hi There')), '87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854', 'RFC 4231 #1 SHA-512');
  assertEq(await mac({ name: 'SHA-256' }, enc('Jefe'), enc('what do ya want for nothing?')), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843', 'RFC 4231 #2 SHA-256');
  assertEq(await mac('SHA-512', enc('Jefe'), enc('what do ya want for nothing?')), '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737', 'RFC 4231 #2 SHA-512');
  assertEq(await mac('SHA-256', new Uint8Array(131).fill(0xaa), enc('Test Using Larger Than Block-Size Key - Hash Key First')), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54', 'RFC 4231 #6 SHA-256');
  assertEq(await mac('SHA-1', enc('key'), enc('The quick brown fox jumps over the lazy dog')), 'de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9', 'HMAC-SHA-1');

  // Key objects, verify, export.
  const key = await crypto.subtle.importKey('raw', enc('Jefe'), { name: 'HMAC', hash: 'SHA-256' }, true, ['sign', 'verify', 'sign']);
  assertEq(key instanceof CryptoKey, true, 'CryptoKey');
  assertEq(key.type, 'secret', 'type');
  assertEq(key.extractable, true, 'extractable');
  assertEq(key.algorithm.name, 'HMAC', 'algorithm name');
  assertEq(key.algorithm.hash.name, 'SHA-256', 'algorithm hash');
  assertEq(key.algorithm.length, 32, 'algorithm length in bits');
  assertEq(key.usages.join(','), 'sign,verify', 'usages de-duplicated');
  const sig = unhex('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  const msg = enc('what do ya want for nothing?');
  assertEq(await crypto.subtle.verify('HMAC', key, sig, msg), true, 'verify good signature');
  const bad = sig.slice(); bad[31] ^= 1;
  assertEq(await crypto.subtle.verify({ name: 'HMAC' }, key, bad, msg), false, 'verify altered signature');
  assertEq(await crypto.subtle.verify('HMAC', key, sig.slice(0, 16), msg), false, 'verify truncated signature');
  assertEq(hex(await crypto.subtle.exportKey('raw', key)), hex(enc('Jefe')), 'export raw');
  const jwk = await crypto.subtle.exportKey('jwk', key);
  assertEq(`${jwk.kty} ${jwk.k} ${jwk.alg}`, 'oct SmVmZQ HS256', 'export jwk');
  const fromJwk = await crypto.subtle.importKey('jwk', { kty: 'oct', k: 'SmVmZQ', alg: 'HS256' }, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  assertEq(hex(await crypto.subtle.sign('HMAC', fromJwk, msg)), hex(sig), 'jwk import signs the same');
  const gen = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-512' }, true, ['sign']);
  assertEq(gen.algorithm.length, 1024, 'generated key defaults to the block size');
  assertEq((await crypto.subtle.exportKey('raw', gen)).byteLength, 128, 'generated key bytes');

  // Errors.
  const signOnly = await crypto.subtle.importKey('raw', enc('k'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  await assertRejects(crypto.subtle.verify('HMAC', signOnly, sig, msg), 'InvalidAccessError', 'verify without the usage');
  await assertRejects(crypto.subtle.exportKey('raw', signOnly), 'InvalidAccessError', 'export of a non-extractable key');
  await assertRejects(crypto.subtle.importKey('raw', enc('k'), { name: 'HMAC', hash: 'SHA-256' }, false, ['encrypt']), 'SyntaxError', 'invalid usage');
  await assertRejects(crypto.subtle.importKey('raw', enc('k'), { name: 'HMAC', hash: 'SHA-256' }, false, []), 'SyntaxError', 'empty usages');
  await assertRejects(crypto.subtle.importKey('raw', new Uint8Array(0), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']), 'DataError', 'empty key');
  await assertRejects(crypto.subtle.importKey('raw', enc('k'), { name: 'HMAC', hash: 'SHA-999' }, false, ['sign']), 'NotSupportedError', 'unknown hash');
  await assertRejects(crypto.subtle.importKey('raw', enc('k'), { name: 'AES-XTS' }, false, ['encrypt']), 'NotSupportedError', 'unsupported algorithm');
  await assertRejects(crypto.subtle.sign('HMAC', {}, msg), 'TypeError', 'sign with a non-key');
  assertThrowsName(() => new CryptoKey(), 'TypeError', 'CryptoKey is not constructible');
  assertThrowsName(() => new SubtleCrypto(), 'TypeError', 'SubtleCrypto is not constructible');
  assertEq(crypto.subtle.timingSafeEqual(enc('abc'), enc('abc')), true, 'timingSafeEqual (Workers extension)');
  assertEq(Object.prototype.toString.call(crypto), '[object Crypto]', 'crypto toStringTag');
}

export default {
  async fetch() {
    await run();
    return new Response('ok');
  },
};
