// WebCrypto with huge inputs (run by CryptoLimitsTest): a digest or HMAC of any size goes to the
// host in 1 MiB views it reads in place; one-shot operations refuse more than 16 MiB with a
// catchable OperationError before anything is copied.
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
const SHA256_96MIB_LAST_ONE = '281b2bc8c9716f9a053a4060759b52673e3b05cb7c49cb616e5008a6d54111af'; // computed with Node (OpenSSL)

// The test runtime's isolates have a 64 MiB heap, so a task may grow the process by 128 MiB:
// 96 MiB is the largest buffer that fits with room to spare (at the default 128 MiB heap, 200 MiB
// fits the same way). Each path is its own request, so each has its own memory budget.
async function digestHuge() {
  const big = new Uint8Array(96 * 1024 * 1024);
  big[big.length - 1] = 1;
  assertEq(hex(await s.digest('SHA-256', big)), SHA256_96MIB_LAST_ONE, 'SHA-256 of 96 MiB');
  const hk = await s.importKey('raw', enc('k'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  const mac = await s.sign('HMAC', hk, big);
  big[0] = 1;
  assertEq(await s.verify('HMAC', hk, mac, big), false, 'HMAC of 96 MiB sees a change in its first byte');
  big[0] = 0;
  assertEq(await s.verify('HMAC', hk, mac, big), true, 'HMAC of 96 MiB');
}

async function oneShotCaps() {
  const big = new Uint8Array(16 * 1024 * 1024 + 1);
  const aes = await s.importKey('raw', new Uint8Array(16), 'AES-GCM', false, ['encrypt', 'decrypt']);
  const e = await assertRejects(s.encrypt({ name: 'AES-GCM', iv: new Uint8Array(12) }, aes, big), 'OperationError', 'AES-GCM of 16 MiB + 1');
  assertEq(e.message.includes('16777216'), true, 'the error names the cap');
  const ec = await s.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  await assertRejects(s.sign({ name: 'ECDSA', hash: 'SHA-256' }, ec.privateKey, big), 'OperationError', 'ECDSA over 16 MiB + 1');
  await assertRejects(s.encrypt({ name: 'AES-GCM', iv: new Uint8Array(100 * 1024) }, aes, enc('x')), 'OperationError', 'an IV of 100 KiB');
  await assertRejects(s.importKey('raw', big.subarray(0, 1024 * 1024), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']), 'OperationError', 'a 1 MiB HMAC key');
  const exact = big.subarray(0, 16 * 1024 * 1024);
  assertEq((await s.encrypt({ name: 'AES-GCM', iv: new Uint8Array(12) }, aes, exact)).byteLength, 16 * 1024 * 1024 + 16, 'AES-GCM of exactly 16 MiB');
}

export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === '/digest') await digestHuge();
    else if (path === '/caps') await oneShotCaps();
    else return new Response('unknown path', { status: 404 });
    return new Response('ok');
  },
};
