// atob / btoa (HTML "forgiving-base64").
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
function assertDOMException(fn, name, what) {
  try { fn(); } catch (e) {
    if (!(e instanceof DOMException) || e.name !== name) throw new Error(`${what}: threw ${e && e.name} instead of DOMException ${name}`);
    if (name === 'InvalidCharacterError' && e.code !== 5) throw new Error(`${what}: legacy code ${e.code}`);
    return;
  }
  throw new Error(`${what}: did not throw`);
}

function run() {
  // RFC 4648 test vectors.
  const vectors = [['', ''], ['f', 'Zg=='], ['fo', 'Zm8='], ['foo', 'Zm9v'], ['foob', 'Zm9vYg=='], ['fooba', 'Zm9vYmE='], ['foobar', 'Zm9vYmFy']];
  for (const [plain, b64] of vectors) {
    assertEq(btoa(plain), b64, `btoa(${JSON.stringify(plain)})`);
    assertEq(atob(b64), plain, `atob(${JSON.stringify(b64)})`);
  }
  let all = '';
  for (let i = 0; i < 256; i++) all += String.fromCharCode(i);
  assertEq(atob(btoa(all)), all, 'all Latin-1 code units round trip');
  assertEq(btoa('\u00ff\u00fe'), '//4=', 'Latin-1 high bytes');
  assertDOMException(() => btoa('\u0100'), 'InvalidCharacterError', 'btoa outside Latin-1');
  assertDOMException(() => btoa('\u20ac'), 'InvalidCharacterError', 'btoa euro sign');
  assertEq(btoa(null), 'bnVsbA==', 'btoa(null) encodes "null"');
  assertEq(btoa(12), 'MTI=', 'btoa(number)');

  // Forgiving decode.
  assertEq(atob(' Z m 9\tv\nY\fm\rF y '), 'foobar', 'ASCII whitespace ignored');
  assertEq(atob('Zg'), 'f', 'missing padding accepted');
  assertEq(atob('Zm8'), 'fo', 'missing padding accepted (2)');
  assertEq(atob('Zh=='), 'f', 'non-zero trailing bits are discarded');
  assertDOMException(() => atob('Zg='), 'InvalidCharacterError', 'wrong padding length');
  assertDOMException(() => atob('Z'), 'InvalidCharacterError', 'length % 4 == 1');
  assertDOMException(() => atob('Zm9v='), 'InvalidCharacterError', 'padding after a full quantum');
  assertDOMException(() => atob('Zg==='), 'InvalidCharacterError', 'too much padding');
  assertDOMException(() => atob('Z=g='), 'InvalidCharacterError', 'padding in the middle');
  assertDOMException(() => atob('Zm9v-_'), 'InvalidCharacterError', 'base64url alphabet is not accepted');
  assertDOMException(() => atob('\u00e9AAA'), 'InvalidCharacterError', 'non-ASCII');
  assertDOMException(() => atob(undefined), 'InvalidCharacterError', 'atob(undefined) decodes "undefined"');
  assertEq(atob(null), '\u009e\u00e9e', 'atob(null) decodes "null"');
  assertEq(atob(''), '', 'empty');
  let threw = false;
  try { atob(); } catch (e) { threw = e instanceof TypeError; }
  assertEq(threw, true, 'atob() without arguments is a TypeError');
}

export default {
  async fetch() {
    run();
    return new Response('ok');
  },
};
