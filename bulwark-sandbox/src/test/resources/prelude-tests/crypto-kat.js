// WebCrypto known-answer tests: published vectors (RFC 1321, FIPS 180 via crypto.js, RFC 4231 via
// crypto.js, NIST SP 800-38A, the GCM specification's test cases, RFC 3394, RFC 5869, RFC 6070,
// RFC 7914's PBKDF2-SHA256 vector, RFC 8032, RFC 7748).
const enc = (s) => new TextEncoder().encode(s);
const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
const unhex = (h) => new Uint8Array(h.match(/../g).map((x) => parseInt(x, 16)));
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
async function assertRejects(promise, name, what) {
  try { await promise; } catch (e) { if (e.name !== name) throw new Error(`${what}: rejected with ${e && e.name} (${e && e.message}) instead of ${name}`); return; }
  throw new Error(`${what}: did not reject`);
}
const s = crypto.subtle;

async function md5() {
  assertEq(hex(await s.digest('MD5', enc(''))), 'd41d8cd98f00b204e9800998ecf8427e', 'MD5 ""');
  assertEq(hex(await s.digest('md5', enc('abc'))), '900150983cd24fb0d6963f7d28e17f72', 'MD5 abc');
  assertEq(hex(await s.digest({ name: 'MD5' }, enc('message digest'))), 'f96b697d7cb7938d525a2f31aaf161d0', 'MD5 message digest');
}

async function aes() {
  const key128 = unhex('2b7e151628aed2a6abf7158809cf4f3c');
  const p = unhex('6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51');
  // SP 800-38A F.2.1 (CBC-AES128): WebCrypto adds one block of PKCS#7 padding after the two blocks.
  const cbcKey = await s.importKey('raw', key128, 'AES-CBC', false, ['encrypt', 'decrypt']);
  const iv = unhex('000102030405060708090a0b0c0d0e0f');
  const cbc = new Uint8Array(await s.encrypt({ name: 'AES-CBC', iv }, cbcKey, p));
  assertEq(cbc.length, 48, 'CBC pads to a third block');
  assertEq(hex(cbc.slice(0, 32)), '7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2', 'SP 800-38A F.2.1');
  assertEq(hex(await s.decrypt({ name: 'AES-CBC', iv }, cbcKey, cbc)), hex(p), 'CBC round trip');
  await assertRejects(s.decrypt({ name: 'AES-CBC', iv }, cbcKey, cbc.slice(0, 32)), 'OperationError', 'CBC bad padding');
  await assertRejects(s.encrypt({ name: 'AES-CBC', iv: new Uint8Array(8) }, cbcKey, p), 'OperationError', 'CBC iv of 8 bytes');

  // SP 800-38A F.5.1 (CTR-AES128).
  const ctrKey = await s.importKey('raw', key128, 'AES-CTR', false, ['encrypt', 'decrypt']);
  const counter = unhex('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff');
  const ctr = await s.encrypt({ name: 'AES-CTR', counter, length: 64 }, ctrKey, p);
  assertEq(hex(ctr), '874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff', 'SP 800-38A F.5.1');
  assertEq(hex(await s.decrypt({ name: 'AES-CTR', counter, length: 64 }, ctrKey, ctr)), hex(p), 'CTR round trip');
  // With an 8-bit counter, block 2 uses f0..fe00 (the low byte wraps, nothing carries); the
  // keystream for that block is block 1's of a run that starts at f0..fe00.
  const wrapped = new Uint8Array(await s.encrypt({ name: 'AES-CTR', counter, length: 8 }, ctrKey, p));
  const start = counter.slice(); start[15] = 0;
  const second = new Uint8Array(await s.encrypt({ name: 'AES-CTR', counter: start, length: 128 }, ctrKey, p.slice(16)));
  assertEq(hex(wrapped.slice(0, 16)), '874d6191b620e3261bef6864990db6ce', 'CTR length 8: first block');
  assertEq(hex(wrapped.slice(16)), hex(second.slice(0, 16)), 'CTR length 8: the counter wraps within its 8 bits');
  await assertRejects(s.encrypt({ name: 'AES-CTR', counter, length: 1 }, ctrKey, new Uint8Array(48)), 'OperationError', 'CTR: more blocks than the counter can count');
  await assertRejects(s.encrypt({ name: 'AES-CTR', counter, length: 0 }, ctrKey, p), 'OperationError', 'CTR length 0');

  // The GCM specification (McGrew & Viega), test cases 3 and 4.
  const gk = await s.importKey('raw', unhex('feffe9928665731c6d6a8f9467308308'), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
  const giv = unhex('cafebabefacedbaddecaf888');
  const gp = unhex('d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255');
  assertEq(hex(await s.encrypt({ name: 'AES-GCM', iv: giv }, gk, gp)),
    '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985' + '4d5c2af327cd64a62cf35abd2ba6fab4', 'GCM test case 3');
  const aad = unhex('feedfacedeadbeeffeedfacedeadbeefabaddad2');
  const c4 = await s.encrypt({ name: 'AES-GCM', iv: giv, additionalData: aad }, gk, gp.slice(0, 60));
  assertEq(hex(c4), '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091' + '5bc94fbc3221a5db94fae95ae7121a47', 'GCM test case 4');
  assertEq(hex(await s.decrypt({ name: 'AES-GCM', iv: giv, additionalData: aad }, gk, c4)), hex(gp.slice(0, 60)), 'GCM decrypt');
  await assertRejects(s.decrypt({ name: 'AES-GCM', iv: giv }, gk, c4), 'OperationError', 'GCM without the AAD');
  const t96 = await s.encrypt({ name: 'AES-GCM', iv: giv, additionalData: aad, tagLength: 96 }, gk, gp.slice(0, 60));
  assertEq(hex(t96), hex(c4).slice(0, 2 * (60 + 12)), 'GCM 96-bit tag is the prefix of the 128-bit one');
  // 32- and 64-bit tags: the JDK refuses them, Bulwark truncates and checks the prefix itself.
  const t32 = new Uint8Array(await s.encrypt({ name: 'AES-GCM', iv: giv, additionalData: aad, tagLength: 32 }, gk, gp.slice(0, 60)));
  assertEq(hex(t32), hex(c4).slice(0, 2 * (60 + 4)), 'GCM 32-bit tag');
  assertEq(hex(await s.decrypt({ name: 'AES-GCM', iv: giv, additionalData: aad, tagLength: 32 }, gk, t32)), hex(gp.slice(0, 60)), 'GCM 32-bit tag decrypt');
  t32[63] ^= 1;
  await assertRejects(s.decrypt({ name: 'AES-GCM', iv: giv, additionalData: aad, tagLength: 32 }, gk, t32), 'OperationError', 'GCM 32-bit tag altered');
  const t64 = await s.encrypt({ name: 'AES-GCM', iv: giv, tagLength: 64 }, gk, enc('short'));
  assertEq(hex(await s.decrypt({ name: 'AES-GCM', iv: giv, tagLength: 64 }, gk, t64)), hex(enc('short')), 'GCM 64-bit tag round trip');
  await assertRejects(s.encrypt({ name: 'AES-GCM', iv: giv, tagLength: 100 }, gk, gp), 'OperationError', 'GCM tag length 100');

  // RFC 3394 4.1 and 4.6: wrap a 128-bit key with a 128-bit KEK, a 256-bit key with a 256-bit KEK.
  const kek = await s.importKey('raw', unhex('000102030405060708090a0b0c0d0e0f'), 'AES-KW', false, ['wrapKey', 'unwrapKey']);
  const keyData = await s.importKey('raw', unhex('00112233445566778899aabbccddeeff'), 'AES-GCM', true, ['encrypt']);
  const wrapped1 = await s.wrapKey('raw', keyData, kek, 'AES-KW');
  assertEq(hex(wrapped1), '1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5', 'RFC 3394 4.1');
  const kek256 = await s.importKey('raw', unhex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'), 'AES-KW', false, ['wrapKey', 'unwrapKey']);
  const kd256 = await s.importKey('raw', unhex('00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f'), 'AES-CBC', true, ['encrypt']);
  assertEq(hex(await s.wrapKey('raw', kd256, kek256, 'AES-KW')), '28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43bfb988b9b7a02dd21', 'RFC 3394 4.6');
  const unwrapped = await s.unwrapKey('raw', wrapped1, kek, 'AES-KW', 'AES-GCM', true, ['encrypt']);
  assertEq(hex(await s.exportKey('raw', unwrapped)), '00112233445566778899aabbccddeeff', 'AES-KW unwrap');
  const tampered = new Uint8Array(wrapped1); tampered[0] ^= 1;
  await assertRejects(s.unwrapKey('raw', tampered, kek, 'AES-KW', 'AES-GCM', true, ['encrypt']), 'OperationError', 'AES-KW integrity check');
}

async function kdfs() {
  // RFC 5869 A.1 (SHA-256) and A.4 (SHA-1).
  const hkdf = async (hash, ikm, salt, info, bits) => {
    const k = await s.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
    return hex(await s.deriveBits({ name: 'HKDF', hash, salt, info }, k, bits));
  };
  assertEq(await hkdf('SHA-256', new Uint8Array(22).fill(0x0b), unhex('000102030405060708090a0b0c'), unhex('f0f1f2f3f4f5f6f7f8f9'), 42 * 8),
    '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865', 'RFC 5869 A.1');
  assertEq(await hkdf('SHA-1', new Uint8Array(11).fill(0x0b), unhex('000102030405060708090a0b0c'), unhex('f0f1f2f3f4f5f6f7f8f9'), 42 * 8),
    '085a01ea1b10f36933068b56efa5ad81a4f14b822f5b091568a9cdd4f155fda2c22e422478d305f3f896', 'RFC 5869 A.4');
  assertEq(await hkdf('SHA-256', new Uint8Array(22).fill(0x0b), new Uint8Array(0), new Uint8Array(0), 42 * 8),
    '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8', 'RFC 5869 A.3 (empty salt and info)');
  const hk = await s.importKey('raw', enc('k'), 'HKDF', false, ['deriveBits']);
  await assertRejects(s.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: new Uint8Array(0) }, hk, null), 'OperationError', 'HKDF without a length');
  await assertRejects(s.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: new Uint8Array(0) }, hk, 12), 'OperationError', 'HKDF length not a multiple of 8');
  await assertRejects(s.deriveBits({ name: 'HKDF', hash: 'SHA-256', info: new Uint8Array(0) }, hk, 128), 'TypeError', 'HKDF without a salt');
  await assertRejects(s.deriveBits({ name: 'HKDF', hash: 'SHA-1', salt: new Uint8Array(0), info: new Uint8Array(0) }, hk, 256 * 160), 'OperationError', 'HKDF beyond 255 blocks');

  // RFC 6070 (PBKDF2-HMAC-SHA1) and RFC 7914 section 11 (PBKDF2-HMAC-SHA256).
  const pbkdf2 = async (hash, password, salt, iterations, bits) => {
    const k = await s.importKey('raw', password, { name: 'PBKDF2' }, false, ['deriveBits']);
    return hex(await s.deriveBits({ name: 'PBKDF2', hash, salt, iterations }, k, bits));
  };
  assertEq(await pbkdf2('SHA-1', enc('password'), enc('salt'), 1, 160), '0c60c80f961f0e71f3a9b524af6012062fe037a6', 'RFC 6070 c=1');
  assertEq(await pbkdf2('SHA-1', enc('password'), enc('salt'), 2, 160), 'ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957', 'RFC 6070 c=2');
  assertEq(await pbkdf2('SHA-1', enc('password'), enc('salt'), 4096, 160), '4b007901b765489abead49d926f721d065a429c1', 'RFC 6070 c=4096');
  assertEq(await pbkdf2('SHA-1', enc('passwordPASSWORDpassword'), enc('saltSALTsaltSALTsaltSALTsaltSALTsalt'), 4096, 200),
    '3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038', 'RFC 6070 25-byte output');
  assertEq(await pbkdf2('SHA-1', enc('pass\0word'), enc('sa\0lt'), 4096, 128), '56fa6aa75548099dcc37d7f03425e0c3', 'RFC 6070 NUL bytes');
  assertEq(await pbkdf2('SHA-256', enc('passwd'), enc('salt'), 1, 512),
    '55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783', 'RFC 7914 section 11');
  const pk = await s.importKey('raw', enc('password'), 'PBKDF2', false, ['deriveBits']);
  await assertRejects(s.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: enc('s'), iterations: 0 }, pk, 256), 'OperationError', 'PBKDF2 zero iterations');
  await assertRejects(s.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: enc('s'), iterations: 100001 }, pk, 256), 'NotSupportedError', 'PBKDF2 above 100,000 iterations (Workers\' limit)');
  await assertRejects(s.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: enc('s'), iterations: 1 }, pk, null), 'OperationError', 'PBKDF2 without a length');
  await assertRejects(s.importKey('raw', enc('password'), 'PBKDF2', true, ['deriveBits']), 'SyntaxError', 'PBKDF2 keys cannot be extractable');
}

async function curves25519() {
  // RFC 8032 7.1 TEST 1 and TEST 2.
  const jwkPriv = (d, x) => ({ kty: 'OKP', crv: 'Ed25519', d: b64u(unhex(d)), x: b64u(unhex(x)) });
  const t1 = await s.importKey('jwk', jwkPriv('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'), 'Ed25519', true, ['sign']);
  assertEq(hex(await s.sign('Ed25519', t1, new Uint8Array(0))),
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b', 'RFC 8032 TEST 1');
  const pub2 = await s.importKey('raw', unhex('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c'), 'Ed25519', true, ['verify']);
  const sig2 = unhex('92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00');
  assertEq(await s.verify('Ed25519', pub2, sig2, unhex('72')), true, 'RFC 8032 TEST 2 verifies');
  assertEq(await s.verify('Ed25519', pub2, sig2, unhex('73')), false, 'RFC 8032 TEST 2, other message');
  assertEq(await s.verify('Ed25519', pub2, sig2.slice(0, 63), unhex('72')), false, 'short Ed25519 signature');
  // The private key's public half, derived by Bulwark on import, is RFC 8032's.
  assertEq((await s.exportKey('jwk', t1)).x, b64u(unhex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a')), 'Ed25519 x from d');
  await assertRejects(s.importKey('jwk', jwkPriv('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c'), 'Ed25519', true, ['sign']), 'DataError', 'Ed25519 JWK whose x is not d\'s');
  // Workers' legacy name.
  const legacy = await s.importKey('raw', unhex('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c'), { name: 'NODE-ED25519', namedCurve: 'NODE-ED25519' }, true, ['verify']);
  assertEq(legacy.algorithm.name, 'NODE-ED25519', 'NODE-ED25519 name');
  assertEq(legacy.algorithm.namedCurve, 'NODE-ED25519', 'NODE-ED25519 namedCurve');
  assertEq(await s.verify({ name: 'NODE-ED25519', namedCurve: 'NODE-ED25519' }, legacy, sig2, unhex('72')), true, 'NODE-ED25519 verifies');
  await assertRejects(s.verify('Ed25519', legacy, sig2, unhex('72')), 'InvalidAccessError', 'an NODE-ED25519 key is not an Ed25519 key');
  await assertRejects(s.importKey('raw', new Uint8Array(32), { name: 'NODE-ED25519', namedCurve: 'P-256' }, true, ['verify']), 'NotSupportedError', 'NODE-ED25519 with another curve');

  // RFC 7748 6.1.
  const alice = await s.importKey('jwk', { kty: 'OKP', crv: 'X25519', d: b64u(unhex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a')), x: b64u(unhex('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a')) }, 'X25519', true, ['deriveBits', 'deriveKey']);
  const bobPub = await s.importKey('raw', unhex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f'), 'X25519', true, []);
  assertEq(hex(await s.deriveBits({ name: 'X25519', public: bobPub }, alice, 256)), '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742', 'RFC 7748 6.1');
  assertEq(hex(await s.deriveBits({ name: 'X25519', public: bobPub }, alice, null)), '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742', 'X25519 full length');
  assertEq(hex(await s.deriveBits({ name: 'X25519', public: bobPub }, alice, 12)), '4a50', 'X25519 12 bits');
  await assertRejects(s.deriveBits({ name: 'X25519', public: bobPub }, alice, 264), 'OperationError', 'X25519 beyond 256 bits');
  const small = await s.importKey('raw', new Uint8Array(32), 'X25519', true, []);
  await assertRejects(s.deriveBits({ name: 'X25519', public: small }, alice, 256), 'OperationError', 'X25519 with a small-order point');
  await assertRejects(s.importKey('raw', new Uint8Array(32), 'X25519', true, ['deriveBits']), 'SyntaxError', 'X25519 public keys have no usages');
}
const b64u = (b) => btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

export default {
  async fetch() {
    await md5();
    await aes();
    await kdfs();
    await curves25519();
    return new Response('ok');
  },
};
