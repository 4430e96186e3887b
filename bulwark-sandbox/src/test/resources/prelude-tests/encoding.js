// Encoding Standard: TextEncoder, TextDecoder (UTF-8 incl. fatal/ignoreBOM/stream, UTF-16, windows-1252),
// TextEncoderStream and TextDecoderStream.
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
function assertThrows(fn, type, what) {
  try { fn(); } catch (e) { if (!(e instanceof type)) throw new Error(`${what}: threw ${e && e.name} instead of ${type.name}`); return; }
  throw new Error(`${what}: did not throw`);
}
const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join(' ');

async function run() {
  const enc = new TextEncoder();
  assertEq(enc.encoding, 'utf-8', 'encoder encoding');
  assertEq(hex(enc.encode('')), '', 'empty');
  assertEq(hex(enc.encode()), '', 'undefined encodes as empty');
  assertEq(hex(enc.encode('A\u00e9\u20ac\uD83D\uDE00')), '41 c3 a9 e2 82 ac f0 9f 98 80', '1-4 byte sequences');
  assertEq(hex(enc.encode('\uD800')), 'ef bf bd', 'lone high surrogate');
  assertEq(hex(enc.encode('\uDC00x')), 'ef bf bd 78', 'lone low surrogate');
  assertEq(hex(enc.encode('\uDC00\uD800')), 'ef bf bd ef bf bd', 'reversed pair');
  assertEq(enc.encode('x') instanceof Uint8Array, true, 'returns Uint8Array');
  assertEq(hex(enc.encode(123)), '31 32 33', 'non-strings are converted');

  // encodeInto
  const dest = new Uint8Array(5);
  let res = enc.encodeInto('a\u20acb', dest);
  assertEq(`${res.read}/${res.written}`, '3/5', 'encodeInto fits');
  assertEq(hex(dest), '61 e2 82 ac 62', 'encodeInto bytes');
  res = enc.encodeInto('\uD83D\uDE00\uD83D\uDE00', new Uint8Array(6));
  assertEq(`${res.read}/${res.written}`, '2/4', 'encodeInto does not split a code point');
  res = enc.encodeInto('abc', new Uint8Array(new ArrayBuffer(10), 8, 2));
  assertEq(`${res.read}/${res.written}`, '2/2', 'encodeInto into a view');
  assertThrows(() => enc.encodeInto('a', new Uint16Array(2)), TypeError, 'encodeInto needs Uint8Array');

  // Decoding.
  const dec = new TextDecoder();
  assertEq(dec.encoding, 'utf-8', 'decoder encoding');
  assertEq(dec.fatal, false, 'fatal default');
  assertEq(dec.ignoreBOM, false, 'ignoreBOM default');
  assertEq(dec.decode(), '', 'decode()');
  assertEq(dec.decode(new Uint8Array([0xf0, 0x9f, 0x98, 0x80, 0x41])), '\uD83D\uDE00A', '4-byte sequence');
  assertEq(dec.decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])), 'A', 'BOM stripped');
  assertEq(new TextDecoder('utf-8', { ignoreBOM: true }).decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])), '\uFEFFA', 'ignoreBOM keeps it');
  assertEq(dec.decode(new Uint8Array([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf])), '\uFEFF', 'only the first BOM is stripped');
  assertEq(dec.decode(new Uint8Array([0x41, 0x42]).buffer), 'AB', 'ArrayBuffer input');
  assertEq(dec.decode(new DataView(new Uint8Array([0x41, 0x42, 0x43]).buffer, 1)), 'BC', 'DataView input');
  // Replacement per the Encoding Standard (maximal subparts).
  const cases = [
    [[0x80], '\uFFFD'], [[0xc0, 0x80], '\uFFFD\uFFFD'], [[0xe0, 0x80, 0x80], '\uFFFD\uFFFD\uFFFD'],
    [[0xed, 0xa0, 0x80], '\uFFFD\uFFFD\uFFFD'], [[0xf4, 0x90, 0x80, 0x80], '\uFFFD\uFFFD\uFFFD\uFFFD'],
    [[0xe2, 0x82], '\uFFFD'], [[0xe2, 0x82, 0x41], '\uFFFDA'], [[0xf0, 0x9f, 0x98], '\uFFFD'], [[0xff, 0xfe], '\uFFFD\uFFFD'],
    [[0xc3], '\uFFFD'], [[0x61, 0xf1, 0x80, 0x80, 0xe1, 0x80, 0xc2, 0x62], 'a\uFFFD\uFFFD\uFFFDb'],
  ];
  for (const [bytes, expected] of cases) assertEq(dec.decode(new Uint8Array(bytes)), expected, `decode ${hex(bytes)}`);
  const fatal = new TextDecoder('utf-8', { fatal: true });
  assertEq(fatal.fatal, true, 'fatal flag');
  assertThrows(() => fatal.decode(new Uint8Array([0xff])), TypeError, 'fatal invalid byte');
  assertThrows(() => fatal.decode(new Uint8Array([0xe2, 0x82])), TypeError, 'fatal truncated sequence');
  assertEq(fatal.decode(new Uint8Array([0x6f, 0x6b])), 'ok', 'fatal decoder recovers after an error');

  // Streaming.
  const sd = new TextDecoder();
  const euro = [0xe2, 0x82, 0xac];
  let out = '';
  for (const b of [0xef, 0xbb, 0xbf, ...euro, 0xf0, 0x9f, 0x98, 0x80]) out += sd.decode(new Uint8Array([b]), { stream: true });
  out += sd.decode();
  assertEq(out, '\u20ac\uD83D\uDE00', 'byte-by-byte streaming with BOM');
  assertEq(sd.decode(new Uint8Array([0xe2, 0x82]), { stream: true }), '', 'incomplete sequence held back');
  assertEq(sd.decode(), '\uFFFD', 'flush replaces the incomplete sequence');
  const fsd = new TextDecoder('utf-8', { fatal: true });
  fsd.decode(new Uint8Array([0xe2]), { stream: true });
  assertThrows(() => fsd.decode(), TypeError, 'fatal flush of an incomplete sequence');

  // Labels and other encodings.
  assertEq(new TextDecoder(' UTF8 ').encoding, 'utf-8', 'label trimming and case');
  assertEq(new TextDecoder('unicode-1-1-utf-8').encoding, 'utf-8', 'legacy label');
  assertThrows(() => new TextDecoder('utf-7'), RangeError, 'unsupported label');
  assertThrows(() => new TextDecoder('replacement'), RangeError, 'replacement label');
  const le = new TextDecoder('utf-16le');
  assertEq(le.encoding, 'utf-16le', 'utf-16le encoding');
  assertEq(le.decode(new Uint8Array([0xff, 0xfe, 0x41, 0x00, 0x3d, 0xd8, 0x00, 0xde])), 'A\uD83D\uDE00', 'UTF-16LE with BOM and a pair');
  assertEq(new TextDecoder('utf-16be').decode(new Uint8Array([0x00, 0x41, 0xd8, 0x00])), 'A\uFFFD', 'UTF-16BE lone surrogate');
  assertEq(new TextDecoder('utf-16').decode(new Uint8Array([0x41])), '\uFFFD', 'odd byte count');
  const latin = new TextDecoder('latin1');
  assertEq(latin.encoding, 'windows-1252', 'latin1 is windows-1252');
  assertEq(latin.decode(new Uint8Array([0x41, 0x80, 0xe9, 0x9f])), 'A\u20ac\u00e9\u0178', 'windows-1252 mapping');

  // Streams.
  const chunks = [];
  const encoded = new ReadableStream({
    start(c) { c.enqueue('a\uD83D'); c.enqueue('\uDE00b'); c.enqueue(''); c.enqueue('\uD800'); c.close(); },
  }).pipeThrough(new TextEncoderStream());
  for await (const chunk of encoded) chunks.push(hex(chunk));
  assertEq(chunks.join(' | '), '61 | f0 9f 98 80 62 | ef bf bd', 'TextEncoderStream joins surrogate pairs across chunks');
  const tes = new TextEncoderStream();
  assertEq(tes.encoding, 'utf-8', 'TextEncoderStream.encoding');
  assertEq(tes.readable instanceof ReadableStream && tes.writable instanceof WritableStream, true, 'TextEncoderStream ends');

  const decodedParts = [];
  const decoded = new ReadableStream({
    start(c) { c.enqueue(new Uint8Array([0xef, 0xbb])); c.enqueue(new Uint8Array([0xbf, 0xe2, 0x82])); c.enqueue(new Uint8Array([0xac, 0x21])); c.enqueue(new Uint8Array([0xe2])); c.close(); },
  }).pipeThrough(new TextDecoderStream());
  for await (const chunk of decoded) decodedParts.push(chunk);
  assertEq(decodedParts.join('|'), '\u20ac!|\uFFFD', 'TextDecoderStream');
  const tds = new TextDecoderStream('utf-16le', { fatal: true });
  assertEq(`${tds.encoding} ${tds.fatal} ${tds.ignoreBOM}`, 'utf-16le true false', 'TextDecoderStream attributes');
  let failed = false;
  try {
    const s = new ReadableStream({ start(c) { c.enqueue('not bytes'); c.close(); } }).pipeThrough(new TextDecoderStream());
    for await (const _ of s) { /* drain */ }
  } catch (e) { failed = e instanceof TypeError; }
  assertEq(failed, true, 'TextDecoderStream rejects non-BufferSource chunks');
}

export default {
  async fetch() {
    await run();
    return new Response('ok');
  },
};
