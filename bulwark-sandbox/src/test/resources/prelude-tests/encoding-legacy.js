// TextDecoder for the Encoding Standard's legacy encodings (decoded by the host): labels, names,
// decoding, errors, fatal, streaming across calls (partial sequences kept), large inputs.
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
function assertThrows(fn, type, what) {
  try { fn(); } catch (e) { if (!(e instanceof type)) throw new Error(`${what}: threw ${e && e.name} instead of ${type.name}`); return; }
  throw new Error(`${what}: did not throw`);
}
const bytes = (hex) => new Uint8Array(hex.replace(/ /g, '').match(/../g).map((h) => parseInt(h, 16)));

async function run() {
  // Labels map to the standard's names.
  const names = {
    'sjis': 'shift_jis', 'ms932': 'shift_jis', 'windows-31j': 'shift_jis', 'x-euc-jp': 'euc-jp', 'csiso2022jp': 'iso-2022-jp',
    'gb2312': 'gbk', 'chinese': 'gbk', 'gb18030': 'gb18030', 'big5-hkscs': 'big5', 'korean': 'euc-kr', 'windows-949': 'euc-kr',
    'latin2': 'iso-8859-2', 'iso-8859-9': 'windows-1254', 'tis-620': 'windows-874', 'koi': 'koi8-r', 'mac': 'macintosh',
    'x-mac-ukrainian': 'x-mac-cyrillic', 'logical': 'iso-8859-8-i', 'cp866': 'ibm866', 'x-user-defined': 'x-user-defined',
    ' Shift_JIS\n': 'shift_jis', 'latin1': 'windows-1252', 'ascii': 'windows-1252',
  };
  for (const [label, name] of Object.entries(names)) assertEq(new TextDecoder(label).encoding, name, `label ${JSON.stringify(label)}`);
  for (const bad of ['iso-2022-kr', 'hz-gb-2312', 'replacement', 'utf-7', 'x-mac-roman2', 'euc-tw']) {
    assertThrows(() => new TextDecoder(bad), RangeError, `label ${bad}`);
  }

  // Decoding.
  const cases = [
    ['shift_jis', '93fa967b8cea 82a0 a1', '日本語あ｡'],
    ['euc-jp', 'c6fccbdcb8ec a4a2 8eb1', '日本語あｱ'],
    ['iso-2022-jp', '1b2442 467c 4b5c 1b2842 41', '日本A'],
    ['gbk', 'c4e3bac3 80', '你好€'],
    ['gb18030', 'c4e3bac3 90308130', '你好\u{10000}'],
    ['big5', 'a440 a448', '一人'],
    ['euc-kr', 'c7d1 b1b9', '한국'],
    ['windows-1251', 'cff0e8e2e5f2', 'Привет'],
    ['koi8-r', 'f0d2c9d7c5d4', 'Привет'],
    ['iso-8859-7', 'e1e2e3', 'αβγ'],
    ['iso-8859-2', 'b1e6ea', 'ąćę'],
    ['windows-1253', '81', '\u0081'],
    ['x-user-defined', '41 80 ff', 'A\uF780\uF7FF'],
  ];
  for (const [enc, hex, text] of cases) assertEq(new TextDecoder(enc).decode(bytes(hex)), text, `${enc} ${hex}`);
  // Errors become U+FFFD; an ASCII byte after a bad lead is kept.
  assertEq(new TextDecoder('shift_jis').decode(bytes('8120 41 a0')), '\uFFFD A\uFFFD', 'shift_jis errors');
  assertEq(new TextDecoder('iso-8859-3').decode(bytes('a5')), '\uFFFD', 'an unmapped single byte');
  // fatal throws TypeError, and the decoder is usable again.
  const fatal = new TextDecoder('euc-kr', { fatal: true });
  assertEq(fatal.fatal, true, 'fatal flag');
  assertThrows(() => fatal.decode(bytes('c7')), TypeError, 'fatal: truncated');
  assertThrows(() => fatal.decode(bytes('ff')), TypeError, 'fatal: invalid byte');
  assertEq(fatal.decode(bytes('c7d1')), '한', 'fatal decoder recovers');
  // No BOM handling for legacy encodings: U+FEFF is not special in them, and ignoreBOM changes nothing.
  assertEq(new TextDecoder('gb18030').decode(bytes('84319533')), '\uFEFF', 'gb18030 U+FEFF kept');
  assertEq(new TextDecoder('gb18030', { ignoreBOM: true }).ignoreBOM, true, 'ignoreBOM flag');

  // Streaming: byte by byte, the partial sequences are kept between calls.
  for (const [enc, hex, text] of cases) {
    const d = new TextDecoder(enc);
    let out = '';
    for (const b of bytes(hex)) out += d.decode(new Uint8Array([b]), { stream: true });
    out += d.decode();
    assertEq(out, text, `${enc} streamed byte by byte`);
  }
  const s = new TextDecoder('shift_jis');
  assertEq(s.decode(bytes('93'), { stream: true }), '', 'lead byte held back');
  assertEq(s.decode(), '\uFFFD', 'flush of a lone lead byte');
  assertEq(s.decode(bytes('41')), 'A', 'decoder reset after flush');
  // ISO-2022-JP keeps its mode across calls.
  const j = new TextDecoder('iso-2022-jp');
  assertEq(j.decode(bytes('1b2442 467c'), { stream: true }), '日', 'iso-2022-jp first call');
  assertEq(j.decode(bytes('4b5c'), { stream: true }), '本', 'iso-2022-jp stays in JIS X 0208');
  assertEq(j.decode(bytes('1b2842 41')), 'A', 'iso-2022-jp back to ASCII');
  assertEq(j.decode(bytes('41')), 'A', 'iso-2022-jp starts in ASCII again');
  // TextDecoderStream with a legacy encoding.
  const tds = new TextDecoderStream('shift_jis');
  const w = tds.writable.getWriter();
  w.write(bytes('93fa96')); w.write(bytes('7b')); w.close();
  let streamed = '';
  for await (const chunk of tds.readable) streamed += chunk;
  assertEq(streamed, '日本', 'TextDecoderStream(shift_jis)');

  // Large input (over the host's 1 MiB per call), with a character across the slice boundary.
  const big = new Uint8Array((1 << 20) + 3);
  big.fill(0x41);
  big.set(bytes('93fa'), (1 << 20) - 1);
  const decoded = new TextDecoder('shift_jis').decode(big);
  assertEq(decoded.length, (1 << 20) + 2, 'large input length');
  assertEq(decoded.slice((1 << 20) - 2, (1 << 20) + 1), 'A日A', 'character across the slice boundary');
  return 'ok';
}

export default {
  async fetch() {
    try {
      return new Response(await run());
    } catch (e) {
      return new Response(`FAIL: ${e && e.stack || e}`, { status: 500 });
    }
  },
};
