// File API (Blob, File) and XHR's FormData.
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
function assertThrows(fn, type, what) {
  try { fn(); } catch (e) { if (!(e instanceof type)) throw new Error(`${what}: threw ${e && e.name} instead of ${type.name}`); return; }
  throw new Error(`${what}: did not throw`);
}

async function blobs() {
  const b = new Blob(['ab', new Uint8Array([0x63]), new Blob(['d']), new Uint16Array([0x6665]).buffer, new DataView(new Uint8Array([0x67]).buffer)], { type: 'Text/Plain;Charset=UTF-8' });
  assertEq(b.size, 7, 'size');
  assertEq(b.type, 'text/plain;charset=utf-8', 'type is lower-cased');
  assertEq(await b.text(), 'abcdefg', 'text()');
  assertEq((await b.arrayBuffer()).byteLength, 7, 'arrayBuffer()');
  assertEq((await b.bytes())[0], 0x61, 'bytes()');
  assertEq(new Blob().size, 0, 'empty blob');
  assertEq(new Blob([], { type: 'a\u0001b' }).type, '', 'type with control characters is dropped');
  assertEq(new Blob(['\u00e9\uD800']).size, 5, 'strings are UTF-8 with U+FFFD for lone surrogates');
  assertEq(await new Blob(['a\r\nb\rc'], { endings: 'native' }).text(), 'a\nb\nc', 'native endings');
  assertEq(await new Blob(['a\r\nb']).text(), 'a\r\nb', 'transparent endings');
  assertEq(await new Blob([{ toString() { return 'o'; } }]).text(), 'o', 'objects are stringified');
  assertThrows(() => new Blob('not a sequence'), TypeError, 'string is not a sequence');
  assertThrows(() => new Blob([], { endings: 'weird' }), TypeError, 'invalid endings');

  // slice
  const s = new Blob(['0123456789']);
  assertEq(await s.slice(2, 5).text(), '234', 'slice(2, 5)');
  assertEq(await s.slice(-3).text(), '789', 'negative start');
  assertEq(await s.slice(1, -7).text(), '12', 'negative end');
  assertEq(await s.slice(5, 2).text(), '', 'end before start');
  assertEq(await s.slice(8, 100).text(), '89', 'end past size');
  assertEq(s.slice(0, 1, 'X/Y').type, 'x/y', 'slice content type');
  assertEq(s.slice().type, '', 'slice default type');

  // stream()
  const chunks = [];
  for await (const c of new Blob(['streamed']).stream()) chunks.push(new TextDecoder().decode(c));
  assertEq(chunks.join(''), 'streamed', 'stream()');

  // File
  const f = new File(['x'], 'name.txt', { type: 'text/plain', lastModified: 1234 });
  assertEq(f instanceof Blob, true, 'File extends Blob');
  assertEq(f.name, 'name.txt', 'name');
  assertEq(f.lastModified, 1234, 'lastModified');
  assertEq(f.type, 'text/plain', 'File type');
  const now = Date.now();
  const g = new File([], 'n');
  assertEq(Math.abs(g.lastModified - now) < 10000, true, 'default lastModified is now');
  assertThrows(() => new File(['x']), TypeError, 'File needs a name');
  assertEq(Object.prototype.toString.call(f), '[object File]', 'File toStringTag');
  assertEq(Object.prototype.toString.call(b), '[object Blob]', 'Blob toStringTag');
}

async function formData() {
  const fd = new FormData();
  fd.append('a', '1');
  fd.append('a', '2');
  fd.append('blob', new Blob(['b'], { type: 'text/x' }));
  fd.append('named', new Blob(['n']), 'custom.bin');
  fd.append('file', new File(['f'], 'orig.txt'), 'renamed.txt');
  fd.append('n', 5);
  assertEq(fd.get('a'), '1', 'get');
  assertEq(JSON.stringify(fd.getAll('a')), '["1","2"]', 'getAll');
  assertEq(fd.get('missing'), null, 'get missing');
  assertEq(fd.has('a'), true, 'has');
  assertEq(fd.get('n'), '5', 'values are stringified');
  const blob = fd.get('blob');
  assertEq(blob instanceof File && blob.name === 'blob' && blob.type === 'text/x', true, 'Blob becomes File named "blob"');
  assertEq(fd.get('named').name, 'custom.bin', 'filename argument');
  assertEq(fd.get('file').name, 'renamed.txt', 'File renamed by filename argument');
  assertThrows(() => fd.append('x', 'string', 'filename'), TypeError, 'filename requires a Blob');
  fd.set('a', '3');
  assertEq(JSON.stringify(fd.getAll('a')), '["3"]', 'set replaces');
  fd.delete('n');
  assertEq(fd.has('n'), false, 'delete');
  assertEq(JSON.stringify([...fd.keys()]), '["a","blob","named","file"]', 'keys keep order');
  const entries = [];
  fd.forEach((v, k) => entries.push(k));
  assertEq(entries.length, 4, 'forEach');
  assertEq(Object.prototype.toString.call(fd), '[object FormData]', 'toStringTag');
  assertThrows(() => new FormData({}), TypeError, 'FormData(form) is not supported');

  // Round trip through a body, including awkward names.
  const tricky = new FormData();
  tricky.append('quote"name', 'v1');
  tricky.append('new\nline', 'a\rb');
  tricky.append('\u00fcnicode', '\u20ac');
  tricky.append('empty', '');
  tricky.append('up', new File(['\u0000\u00ff'], 'bin.dat', { type: 'application/octet-stream' }));
  const res = new Response(tricky);
  const ct = res.headers.get('content-type');
  assertEq(/^multipart\/form-data; boundary=\S+$/.test(ct), true, 'multipart content type');
  const text = await res.clone().text();
  assertEq(text.includes('name="quote%22name"'), true, 'quote escaped in the name');
  assertEq(text.includes('name="new%0D%0Aline"'), true, 'newline normalized and escaped');
  assertEq(text.includes('\r\n\r\na\r\nb\r\n'), true, 'value newlines normalized to CRLF');
  const back = await res.formData();
  assertEq(back.get('quote"name'), 'v1', 'round trip quote');
  assertEq(back.get('new\r\nline'), 'a\r\nb', 'round trip newline');
  assertEq(back.get('\u00fcnicode'), '\u20ac', 'round trip UTF-8');
  assertEq(back.get('empty'), '', 'round trip empty');
  const up = back.get('up');
  assertEq(up.name, 'bin.dat', 'round trip file name');
  assertEq((await up.bytes()).join(), '0,195,191', 'round trip file bytes');
}

export default {
  async fetch() {
    await blobs();
    await formData();
    return new Response('ok');
  },
};
