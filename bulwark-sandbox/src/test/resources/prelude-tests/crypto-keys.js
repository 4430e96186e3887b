// WebCrypto keys: generateKey for every family, CryptoKey attributes, import/export round trips in
// raw, jwk, pkcs8 and spki, JWK checks, and the error names (more operations: crypto-ops.js).
const enc = (s) => new TextEncoder().encode(s);
const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
async function assertRejects(promise, name, what) {
  try { await promise; } catch (e) {
    if (e.name !== name) throw new Error(`${what}: rejected with ${e && e.name} (${e && e.message}) instead of ${name}`);
    if (!e.message) throw new Error(`${what}: ${name} without a message`);
    return;
  }
  throw new Error(`${what}: did not reject`);
}
const s = crypto.subtle;

async function generated() {
  const aes = await s.generateKey({ name: 'AES-GCM', length: 256 }, true, ['decrypt', 'encrypt', 'encrypt']);
  assertEq(`${aes.type} ${aes.extractable} ${aes.algorithm.name} ${aes.algorithm.length}`, 'secret true AES-GCM 256', 'AES key attributes');
  assertEq(aes.usages.join(','), 'encrypt,decrypt', 'usages de-duplicated, in canonical order');
  assertEq(aes.algorithm, aes.algorithm, 'algorithm is the same object each time');
  assertEq((await s.exportKey('raw', aes)).byteLength, 32, 'AES-256 raw length');
  await assertRejects(s.generateKey({ name: 'AES-CBC', length: 100 }, true, ['encrypt']), 'OperationError', 'AES length 100');
  await assertRejects(s.generateKey({ name: 'AES-CBC' }, true, ['encrypt']), 'TypeError', 'AES without length');
  await assertRejects(s.generateKey({ name: 'AES-KW', length: 128 }, true, ['encrypt']), 'SyntaxError', 'AES-KW cannot encrypt');
  await assertRejects(s.generateKey({ name: 'AES-CTR', length: 128 }, true, []), 'SyntaxError', 'no usages');
  const hmac = await s.generateKey({ name: 'HMAC', hash: 'SHA-256', length: 100 }, true, ['sign']);
  const hraw = new Uint8Array(await s.exportKey('raw', hmac));
  assertEq(`${hmac.algorithm.length} ${hraw.length} ${hraw[12] & 0x0f}`, '100 13 0', 'HMAC 100-bit key: 13 bytes, trailing bits zero');

  const rsa = await s.generateKey({ name: 'RSA-PSS', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, false, ['sign', 'verify']);
  assertEq(`${rsa.publicKey.type} ${rsa.publicKey.extractable} ${rsa.publicKey.usages}`, 'public true verify', 'RSA public key');
  assertEq(`${rsa.privateKey.type} ${rsa.privateKey.extractable} ${rsa.privateKey.usages}`, 'private false sign', 'RSA private key');
  assertEq(`${rsa.privateKey.algorithm.modulusLength} ${hex(rsa.privateKey.algorithm.publicExponent)} ${rsa.privateKey.algorithm.hash.name}`, '1024 010001 SHA-256', 'RSA algorithm');
  const sig = await s.sign({ name: 'RSA-PSS', saltLength: 32 }, rsa.privateKey, enc('m'));
  assertEq(await s.verify({ name: 'RSA-PSS', saltLength: 32 }, rsa.publicKey, sig, enc('m')), true, 'generated RSA-PSS pair');
  await assertRejects(s.generateKey({ name: 'RSA-OAEP', modulusLength: 2048, publicExponent: new Uint8Array([3, 0, 0]), hash: 'SHA-256' }, true, ['encrypt', 'decrypt']), 'OperationError', 'RSA exponent other than 3 or 65537');
  await assertRejects(s.generateKey({ name: 'RSA-OAEP', modulusLength: 8192, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['encrypt', 'decrypt']), 'OperationError', 'RSA generation above 4096 bits (Bulwark\'s cap)');
  await assertRejects(s.generateKey({ name: 'RSA-OAEP', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['encrypt']), 'SyntaxError', 'a pair whose private key has no usage');
  // The algorithm (its hash included) is normalized before the usages are checked: an unknown
  // hash is NotSupportedError even with usages the algorithm cannot have (WebCrypto, workerd).
  await assertRejects(s.generateKey({ name: 'RSA-PSS', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA' }, true, ['decrypt']), 'NotSupportedError', 'RSA with an unknown hash and bad usages');
  await assertRejects(s.generateKey({ name: 'HMAC', hash: 'SHA-3' }, true, ['encrypt']), 'NotSupportedError', 'HMAC with an unknown hash and bad usages');
  await assertRejects(s.generateKey({ name: 'RSA-PSS', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['decrypt']), 'SyntaxError', 'RSA with a known hash and bad usages');

  for (const curve of ['P-256', 'P-384', 'P-521']) {
    const pair = await s.generateKey({ name: 'ECDSA', namedCurve: curve }, true, ['sign', 'verify']);
    assertEq(pair.privateKey.algorithm.namedCurve, curve, `${curve} namedCurve`);
    const sg = await s.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, enc('m'));
    assertEq(await s.verify({ name: 'ECDSA', hash: 'SHA-256' }, pair.publicKey, sg, enc('m')), true, `${curve} generated pair`);
    const a = await s.generateKey({ name: 'ECDH', namedCurve: curve }, false, ['deriveBits']);
    const b = await s.generateKey({ name: 'ECDH', namedCurve: curve }, false, ['deriveBits']);
    assertEq(a.publicKey.usages.length, 0, 'ECDH public key has no usages');
    assertEq(hex(await s.deriveBits({ name: 'ECDH', public: b.publicKey }, a.privateKey, null)),
      hex(await s.deriveBits({ name: 'ECDH', public: a.publicKey }, b.privateKey, null)), `${curve} ECDH agrees`);
  }
  const ed = await s.generateKey('Ed25519', true, ['sign', 'verify']);
  assertEq(ed.privateKey.algorithm.name, 'Ed25519', 'Ed25519 name');
  assertEq(await s.verify('Ed25519', ed.publicKey, await s.sign('Ed25519', ed.privateKey, enc('m')), enc('m')), true, 'Ed25519 generated pair');
  const node = await s.generateKey({ name: 'NODE-ED25519', namedCurve: 'NODE-ED25519' }, true, ['sign', 'verify']);
  assertEq(await s.verify({ name: 'NODE-ED25519' }, node.publicKey, await s.sign({ name: 'NODE-ED25519' }, node.privateKey, enc('m')), enc('m')), true, 'NODE-ED25519 generated pair');
  const x1 = await s.generateKey('X25519', true, ['deriveKey']);
  const x2 = await s.generateKey({ name: 'X25519' }, true, ['deriveBits']);
  const k1 = await s.deriveKey({ name: 'X25519', public: x2.publicKey }, x1.privateKey, { name: 'HMAC', hash: 'SHA-256', length: 256 }, true, ['sign']);
  assertEq(hex(await s.exportKey('raw', k1)), hex(await s.deriveBits({ name: 'X25519', public: x1.publicKey }, x2.privateKey, 256)), 'X25519 deriveKey = deriveBits');
  await assertRejects(s.deriveBits({ name: 'X25519', public: x2.publicKey }, x1.privateKey, 256), 'InvalidAccessError', 'deriveBits needs the deriveBits usage');
  await assertRejects(s.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['encrypt']), 'SyntaxError', 'ECDSA cannot encrypt');
}

async function roundTrips() {
  const check = async (what, alg, format, key, usages) => {
    const exported = await s.exportKey(format, key);
    const again = await s.importKey(format, exported, alg, true, usages);
    assertEq(JSON.stringify(await s.exportKey(format === 'raw' || format === 'spki' || format === 'pkcs8' ? 'jwk' : format, again)),
      JSON.stringify(await s.exportKey(format === 'raw' || format === 'spki' || format === 'pkcs8' ? 'jwk' : format, key)), `${what} ${format} round trip`);
  };
  const families = [
    [{ name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-512' }, ['sign'], ['verify']],
    [{ name: 'RSA-OAEP', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-1' }, ['decrypt'], ['encrypt']],
    [{ name: 'ECDSA', namedCurve: 'P-384' }, ['sign'], ['verify']],
    [{ name: 'ECDH', namedCurve: 'P-521' }, ['deriveBits'], []],
    [{ name: 'Ed25519' }, ['sign'], ['verify']],
    [{ name: 'X25519' }, ['deriveKey'], []],
  ];
  for (const [alg, privUsages, pubUsages] of families) {
    const pair = await s.generateKey(alg, true, [...privUsages, ...pubUsages]);
    await check(alg.name, alg, 'pkcs8', pair.privateKey, privUsages);
    await check(alg.name, alg, 'jwk', pair.privateKey, privUsages);
    await check(alg.name, alg, 'spki', pair.publicKey, pubUsages);
    await check(alg.name, alg, 'jwk', pair.publicKey, pubUsages);
    if (!alg.name.startsWith('RSA')) await check(alg.name, alg, 'raw', pair.publicKey, pubUsages);
    await assertRejects(s.exportKey('spki', pair.privateKey), 'InvalidAccessError', `${alg.name}: spki export of a private key`);
    await assertRejects(s.exportKey('pkcs8', pair.publicKey), 'InvalidAccessError', `${alg.name}: pkcs8 export of a public key`);
    const jwk = await s.exportKey('jwk', pair.privateKey);
    assertEq(`${jwk.ext} ${jwk.key_ops}`, `true ${privUsages}`, `${alg.name}: JWK ext and key_ops`);
    // An imported public key keeps the extractable argument ("set the [[extractable]] internal
    // slot of result to extractable"), as in workerd; only generateKey's public key is always extractable.
    const publicFormats = alg.name.startsWith('RSA') ? ['spki', 'jwk'] : ['spki', 'jwk', 'raw'];
    for (const format of publicFormats) {
      const data = await s.exportKey(format, pair.publicKey);
      const locked = await s.importKey(format, data, alg, false, pubUsages);
      assertEq(`${locked.type} ${locked.extractable}`, 'public false', `${alg.name}: public key imported from ${format} as non-extractable`);
      await assertRejects(s.exportKey(format, locked), 'InvalidAccessError', `${alg.name}: export of a non-extractable public key (${format})`);
      assertEq((await s.importKey(format, data, alg, true, pubUsages)).extractable, true, `${alg.name}: public key imported from ${format} as extractable`);
    }
  }
  for (const [alg, usages, jwkAlg] of [[{ name: 'AES-CTR', length: 128 }, ['encrypt'], 'A128CTR'], [{ name: 'AES-CBC', length: 192 }, ['decrypt'], 'A192CBC'],
    [{ name: 'AES-GCM', length: 256 }, ['wrapKey'], 'A256GCM'], [{ name: 'AES-KW', length: 128 }, ['unwrapKey'], 'A128KW'], [{ name: 'HMAC', hash: 'SHA-384' }, ['verify'], 'HS384']]) {
    const key = await s.generateKey(alg, true, usages);
    await check(alg.name, alg, 'raw', key, usages);
    await check(alg.name, alg, 'jwk', key, usages);
    assertEq((await s.exportKey('jwk', key)).alg, jwkAlg, `${alg.name} JWK alg`);
    await assertRejects(s.exportKey('spki', key), 'NotSupportedError', `${alg.name}: spki export of a secret key`);
  }
  const aes = { name: 'AES-GCM' };
  await assertRejects(s.importKey('jwk', { kty: 'oct', k: 'AAAAAAAAAAAAAAAAAAAAAA', alg: 'A256GCM' }, aes, true, ['encrypt']), 'DataError', 'JWK alg of another length');
  await assertRejects(s.importKey('jwk', { kty: 'oct', k: 'AAAAAAAAAAAAAAAAAAAAAA', use: 'sig' }, aes, true, ['encrypt']), 'DataError', 'JWK use "sig" for AES');
  await assertRejects(s.importKey('jwk', { kty: 'oct', k: 'AAAAAAAAAAAAAAAAAAAAAA', key_ops: ['decrypt'] }, aes, true, ['encrypt']), 'DataError', 'JWK key_ops without the usage');
  await assertRejects(s.importKey('jwk', { kty: 'oct', k: 'AAAAAAAAAAAAAAAAAAAAAA', ext: false }, aes, true, ['encrypt']), 'DataError', 'JWK ext false, extractable requested');
  await assertRejects(s.importKey('jwk', { kty: 'RSA', k: 'AAAAAAAAAAAAAAAAAAAAAA' }, aes, true, ['encrypt']), 'DataError', 'JWK kty RSA for AES');
  await assertRejects(s.importKey('jwk', { kty: 'oct', k: 'A*AA' }, aes, true, ['encrypt']), 'DataError', 'JWK k not base64url');
  await assertRejects(s.importKey('raw', new Uint8Array(20), aes, true, ['encrypt']), 'DataError', 'AES raw of 20 bytes');
  await assertRejects(s.importKey('spki', new Uint8Array(16), aes, true, ['encrypt']), 'NotSupportedError', 'AES in spki format');
  await assertRejects(s.importKey('pem', new Uint8Array(16), aes, true, ['encrypt']), 'TypeError', 'unknown format');
  await assertRejects(s.importKey('raw', new Uint8Array(16), aes, true, ['frobnicate']), 'TypeError', 'unknown usage');
  await assertRejects(s.importKey('spki', enc('not DER'), { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']), 'DataError', 'garbage spki');
  await assertRejects(s.importKey('pkcs8', enc('not DER'), { name: 'RSA-PSS', hash: 'SHA-256' }, true, ['sign']), 'DataError', 'garbage pkcs8');
  await assertRejects(s.importKey('raw', new Uint8Array(65), { name: 'RSA-PSS', hash: 'SHA-256' }, true, ['verify']), 'NotSupportedError', 'RSA in raw format');
  await assertRejects(s.importKey('spki', new Uint8Array(16), { name: 'RSA-PSS' }, true, ['verify']), 'TypeError', 'RSA without hash');
}

export default {
  async fetch() {
    await generated();
    await roundTrips();
    return new Response('ok');
  },
};
