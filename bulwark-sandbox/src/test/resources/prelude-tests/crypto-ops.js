// WebCrypto operations: deriveKey, wrapKey/unwrapKey, crypto.DigestStream, chunked HMAC,
// timingSafeEqual and the error names.
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

async function derivation() {
  const pw = await s.importKey('raw', enc('correct horse'), 'PBKDF2', false, ['deriveKey', 'deriveBits']);
  const params = { name: 'PBKDF2', hash: 'SHA-256', salt: enc('salt'), iterations: 1000 };
  const aes = await s.deriveKey(params, pw, { name: 'AES-GCM', length: 256 }, true, ['encrypt']);
  assertEq(hex(await s.exportKey('raw', aes)), hex(await s.deriveBits(params, pw, 256)), 'PBKDF2 deriveKey = deriveBits');
  const hk = await s.importKey('raw', enc('input key'), 'HKDF', false, ['deriveKey']);
  const hm = await s.deriveKey({ name: 'HKDF', hash: 'SHA-512', salt: enc('s'), info: enc('i') }, hk, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  assertEq(hm.algorithm.length, 512, 'HMAC derived with the default (block size) length');
  await assertRejects(s.deriveKey({ name: 'HKDF', hash: 'SHA-512', salt: enc('s'), info: enc('i') }, hk, { name: 'AES-GCM', length: 100 }, false, ['encrypt']), 'OperationError', 'derive a 100-bit AES key');
  await assertRejects(s.deriveKey({ name: 'HKDF', hash: 'SHA-512', salt: enc('s'), info: enc('i') }, hk, { name: 'HKDF' }, false, ['deriveBits']), 'OperationError', 'derive an HKDF key (no length)');
  await assertRejects(s.deriveKey({ name: 'HKDF', hash: 'SHA-512', salt: enc('s'), info: enc('i') }, hk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']), 'NotSupportedError', 'derive an ECDSA key');
  await assertRejects(s.deriveBits({ name: 'HKDF', hash: 'SHA-512', salt: enc('s'), info: enc('i') }, hk, 128), 'InvalidAccessError', 'deriveBits with a deriveKey-only key');
  await assertRejects(s.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: enc('s'), iterations: 1 }, hk, 128), 'InvalidAccessError', 'PBKDF2 with an HKDF key');
}

async function wrapping() {
  const kek = await s.generateKey({ name: 'AES-KW', length: 256 }, false, ['wrapKey', 'unwrapKey']);
  const gcm = await s.generateKey({ name: 'AES-GCM', length: 256 }, false, ['wrapKey', 'unwrapKey']);
  const ec = await s.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const iv = new Uint8Array(12);
  const w = await s.wrapKey('pkcs8', ec.privateKey, gcm, { name: 'AES-GCM', iv });
  const back = await s.unwrapKey('pkcs8', w, gcm, { name: 'AES-GCM', iv }, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']);
  assertEq(hex(await s.exportKey('pkcs8', back)), hex(await s.exportKey('pkcs8', ec.privateKey)), 'pkcs8 through AES-GCM wrap');
  const jw = await s.wrapKey('jwk', ec.privateKey, gcm, { name: 'AES-GCM', iv });
  const jback = await s.unwrapKey('jwk', jw, gcm, { name: 'AES-GCM', iv }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  assertEq(jback.extractable, false, 'unwrapped non-extractable');
  assertEq(await s.verify({ name: 'ECDSA', hash: 'SHA-256' }, ec.publicKey, await s.sign({ name: 'ECDSA', hash: 'SHA-256' }, jback, enc('m')), enc('m')), true, 'JWK-unwrapped private key signs');
  const hmac = await s.generateKey({ name: 'HMAC', hash: 'SHA-256' }, true, ['sign']);
  const kw = await s.wrapKey('raw', hmac, kek, 'AES-KW');
  const hback = await s.unwrapKey('raw', kw, kek, 'AES-KW', { name: 'HMAC', hash: 'SHA-256' }, true, ['sign']);
  assertEq(hex(await s.exportKey('raw', hback)), hex(await s.exportKey('raw', hmac)), 'HMAC key through AES-KW');
  const notExtractable = await s.generateKey({ name: 'AES-GCM', length: 128 }, false, ['encrypt']);
  await assertRejects(s.wrapKey('raw', notExtractable, kek, 'AES-KW'), 'InvalidAccessError', 'wrapping a non-extractable key');
  await assertRejects(s.wrapKey('raw', hmac, gcm, 'AES-KW'), 'InvalidAccessError', 'wrapping with a key of another algorithm');
  await assertRejects(s.unwrapKey('jwk', w, gcm, { name: 'AES-GCM', iv }, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']), 'DataError', 'unwrapping DER as JWK');
  await assertRejects(s.wrapKey('jwk', ec.privateKey, kek, 'AES-KW'), 'OperationError', 'AES-KW of a JWK whose length is not a multiple of 8');
}

async function digestStream() {
  const ds = new crypto.DigestStream('SHA-256');
  assertEq(ds instanceof WritableStream, true, 'DigestStream is a WritableStream');
  const w = ds.getWriter();
  await w.write(enc('ab'));
  await w.write('c');
  await w.write(new DataView(enc('xdefx').buffer, 1, 3));
  await w.close();
  assertEq(hex(await ds.digest), hex(await s.digest('SHA-256', enc('abcdef'))), 'DigestStream digest');
  assertEq(ds.bytesWritten, 6, 'bytesWritten');
  const md5 = new crypto.DigestStream({ name: 'MD5' });
  await new Response('abc').body.pipeTo(md5);
  assertEq(hex(await md5.digest), '900150983cd24fb0d6963f7d28e17f72', 'a body piped into an MD5 DigestStream');
  const big = new crypto.DigestStream('SHA-512');
  const chunk = new Uint8Array(3 * 1024 * 1024 + 5).fill(0x61);
  const bw = big.getWriter();
  await bw.write(chunk);
  await bw.close();
  assertEq(hex(await big.digest), hex(await s.digest('SHA-512', chunk)), 'DigestStream of a 3 MiB chunk');
  const aborted = new crypto.DigestStream('SHA-1');
  const aw = aborted.getWriter();
  await aw.abort(new Error('stop'));
  try { await aborted.digest; throw new Error('an aborted DigestStream resolved'); } catch (e) { assertEq(e.message, 'stop', 'aborted digest rejects with the reason'); }
  const bad = new crypto.DigestStream('SHA-1').getWriter();
  try { await bad.write(42); throw new Error('a number was digested'); } catch (e) { assertEq(e.name, 'TypeError', 'DigestStream refuses numbers'); }
  try { new crypto.DigestStream('SHA-3'); throw new Error('SHA-3 accepted'); } catch (e) { assertEq(e.name, 'NotSupportedError', 'DigestStream of an unknown hash'); }
  // Abandoned streams (never closed) do not exhaust the host: beyond 1024 open ones the oldest
  // is dropped, so a new stream still works, and the dropped one fails its next write.
  const first = new crypto.DigestStream('SHA-256').getWriter();
  for (let i = 0; i < 1030; i++) new crypto.DigestStream('SHA-256');
  const fresh = new crypto.DigestStream('SHA-256');
  const fw = fresh.getWriter();
  await fw.write(enc('abc'));
  await fw.close();
  assertEq(hex(await fresh.digest), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'a new stream after 1030 abandoned ones');
  try { await first.write(enc('x')); throw new Error('the oldest abandoned stream still worked'); } catch (e) { assertEq(e.name, 'OperationError', 'the dropped stream fails its next write'); }
}

async function misc() {
  assertEq(crypto.subtle.timingSafeEqual(enc('abc'), enc('abd')), false, 'timingSafeEqual different');
  assertEq(crypto.subtle.timingSafeEqual(new ArrayBuffer(0), new Uint8Array(0)), true, 'timingSafeEqual empty');
  try { crypto.subtle.timingSafeEqual(enc('a'), enc('ab')); throw new Error('lengths differ but no error'); } catch (e) { assertEq(e.name, 'TypeError', 'timingSafeEqual length mismatch is a TypeError (as workerd)'); }
  const big = new Uint8Array(5 * 1024 * 1024 + 3);
  for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
  const hk = await s.importKey('raw', enc('key'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  const mac = await s.sign('HMAC', hk, big);
  assertEq(await s.verify('HMAC', hk, mac, big), true, 'HMAC of 5 MiB (sent in chunks)');
  big[big.length - 1] ^= 1;
  assertEq(await s.verify('HMAC', hk, mac, big), false, 'HMAC of 5 MiB, last byte changed');
  await assertRejects(s.digest('SHA-256'), 'TypeError', 'digest with one argument');
  await assertRejects(s.encrypt({ name: 'AES-GCM', iv: new Uint8Array(12) }, hk, enc('x')), 'InvalidAccessError', 'AES-GCM with an HMAC key');
  await assertRejects(s.encrypt({ name: 'HMAC' }, hk, enc('x')), 'NotSupportedError', 'HMAC cannot encrypt');
  await assertRejects(s.sign({ name: 'AES-GCM' }, hk, enc('x')), 'NotSupportedError', 'AES-GCM cannot sign');
  await assertRejects(s.sign({}, hk, enc('x')), 'TypeError', 'algorithm without a name');
}

export default {
  async fetch() {
    await derivation();
    await wrapping();
    await digestStream();
    await misc();
    return new Response('ok');
  },
};
