// Compression Streams: CompressionStream / DecompressionStream for gzip, deflate and deflate-raw,
// with exact bytes (zlib at its default level, as Node and workerd produce them), streaming,
// back-pressure against a zip bomb, and the errors the standard requires.
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
async function assertRejects(promise, type, what) {
  try { await promise; } catch (e) {
    if (!(e instanceof type)) throw new Error(`${what}: rejected with ${e && e.name}: ${e && e.message} instead of ${type.name}`);
    return e;
  }
  throw new Error(`${what}: did not reject`);
}
function assertThrows(fn, type, what) {
  try { fn(); } catch (e) { if (!(e instanceof type)) throw new Error(`${what}: threw ${e && e.name} instead of ${type.name}`); return; }
  throw new Error(`${what}: did not throw`);
}
const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');
const unhex = (s) => new Uint8Array(s.match(/../g).map((h) => parseInt(h, 16)));
const text = (u8) => new TextDecoder().decode(u8);

async function collect(readable) {
  const chunks = [];
  let total = 0;
  for await (const c of readable) { chunks.push(c); total += c.length; }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}
/** Writes the chunks to a (de)compression stream and reads all it produces. */
async function through(stream, chunks) {
  const writer = stream.writable.getWriter();
  const reading = collect(stream.readable);
  for (const c of chunks) writer.write(c).catch(() => {});
  writer.close().catch(() => {});
  return reading;
}

const HELLO = {
  deflate: '789ccb48cdc9c95728cf2fca4901001a0b045d',
  gzip: '1f8b0800000000000003cb48cdc9c95728cf2fca49010085114a0d0b000000',
  'deflate-raw': 'cb48cdc9c95728cf2fca490100',
};

async function run() {
  const enc = new TextEncoder();
  // Exact output for each format.
  for (const [format, expected] of Object.entries(HELLO)) {
    assertEq(hex(await through(new CompressionStream(format), [enc.encode('hello world')])), expected, `${format} of "hello world"`);
    assertEq(text(await through(new DecompressionStream(format), [unhex(expected)])), 'hello world', `${format} decompressed`);
    // One byte at a time: headers, trailers and deflate data split anywhere.
    assertEq(text(await through(new DecompressionStream(format), Array.from(unhex(expected), (b) => new Uint8Array([b])))), 'hello world', `${format} byte by byte`);
  }
  // Input split over several writes compresses as one stream.
  assertEq(hex(await through(new CompressionStream('gzip'), [enc.encode('hello'), enc.encode(' '), enc.encode('world')])), HELLO.gzip, 'gzip of three writes');
  // Any BufferSource is accepted: ArrayBuffer, DataView, a view at an offset.
  const padded = new Uint8Array([0, 0, ...enc.encode('hello world'), 0]);
  assertEq(hex(await through(new CompressionStream('deflate-raw'), [new DataView(padded.buffer, 2, 11)])), HELLO['deflate-raw'], 'DataView input');
  assertEq(hex(await through(new CompressionStream('deflate-raw'), [enc.encode('hello world').buffer])), HELLO['deflate-raw'], 'ArrayBuffer input');
  // Empty input: a complete empty stream.
  assertEq(hex(await through(new CompressionStream('gzip'), [])), '1f8b080000000000000303000000000000000000', 'gzip of nothing');
  assertEq(hex(await through(new DecompressionStream('gzip'), [unhex('1f8b080000000000000303000000000000000000')])), '', 'gunzip of an empty stream');
  // gzip header fields that zlib skips: a file name.
  const named = unhex('1f8b0808000000000003' + hex(enc.encode('a.txt')) + '00' + HELLO['deflate-raw'] + '85114a0d0b000000');
  assertEq(text(await through(new DecompressionStream('gzip'), [named])), 'hello world', 'gzip header with FNAME');

  // A larger round trip, in uneven chunks, through pipeThrough.
  const big = enc.encode('The quick brown fox jumps over the lazy dog. '.repeat(20000)); // 900 kB
  for (const format of ['gzip', 'deflate', 'deflate-raw']) {
    const compressed = await through(new CompressionStream(format), [big.subarray(0, 1), big.subarray(1, 70000), big.subarray(70000)]);
    if (compressed.length > 10000) throw new Error(`${format}: ${compressed.length} bytes is not compressed`);
    const back = await collect(new Blob([compressed]).stream().pipeThrough(new DecompressionStream(format)));
    assertEq(back.length, big.length, `${format} round trip length`);
    assertEq(text(back) === text(big), true, `${format} round trip content`);
  }
  // Response bodies compose as Hono's compress() does.
  const res = new Response(new Response('hello world').body.pipeThrough(new CompressionStream('gzip')));
  assertEq(hex(new Uint8Array(await res.arrayBuffer())), HELLO.gzip, 'Response body through CompressionStream');
  assertEq(await new Response(new Blob([unhex(HELLO.gzip)]).stream().pipeThrough(new DecompressionStream('gzip'))).text(), 'hello world', 'Response.text of a DecompressionStream');

  // A zip bomb: 16 MiB of zeros compress to ~16 KiB; decompressing hands them out in pieces of at
  // most 64 KiB, produced only as the reader asks.
  const zero = new Uint8Array(1 << 20);
  const bomb = await through(new CompressionStream('gzip'), Array.from({ length: 16 }, () => zero));
  if (bomb.length > 32 << 10) throw new Error(`bomb is ${bomb.length} bytes`);
  const ds = new DecompressionStream('gzip');
  const w = ds.writable.getWriter();
  w.write(bomb).catch(() => {});
  w.close().catch(() => {});
  let total = 0, pieces = 0, largest = 0;
  const reader = ds.readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length; pieces++; largest = Math.max(largest, value.length);
  }
  assertEq(total, 16 << 20, 'bomb output length');
  assertEq(largest, 65536, 'largest piece');
  assertEq(pieces, 256, 'pieces');
  // A reader that stops early: cancelling releases the stream, the writer sees the reason.
  const ds2 = new DecompressionStream('gzip');
  const w2 = ds2.writable.getWriter();
  const written = w2.write(bomb);
  const r2 = ds2.readable.getReader();
  assertEq((await r2.read()).value.length, 65536, 'first piece of a cancelled bomb');
  await r2.cancel(new Error('enough'));
  const e2 = await assertRejects(written, Error, 'write after the reader cancelled');
  assertEq(e2.message, 'enough', 'the write fails with the cancel reason');

  // Errors as the standard says: corrupt data, trailing data, truncated data, a bad checksum.
  await assertRejects(through(new DecompressionStream('gzip'), [enc.encode('not gzip at all')]), TypeError, 'not gzip');
  await assertRejects(through(new DecompressionStream('deflate'), [unhex('789cff')]), TypeError, 'corrupt deflate');
  await assertRejects(through(new DecompressionStream('deflate'), [unhex(HELLO.deflate + '00')]), TypeError, 'trailing data after deflate');
  await assertRejects(through(new DecompressionStream('gzip'), [unhex(HELLO.gzip + '1f8b')]), TypeError, 'trailing data after gzip');
  await assertRejects(through(new DecompressionStream('deflate-raw'), [unhex(HELLO['deflate-raw']).subarray(0, 5)]), TypeError, 'truncated deflate-raw');
  await assertRejects(through(new DecompressionStream('gzip'), [unhex(HELLO.gzip).subarray(0, 25)]), TypeError, 'truncated gzip trailer');
  await assertRejects(through(new DecompressionStream('gzip'), [unhex(HELLO.gzip.replace('85114a0d', '85114a0e'))]), TypeError, 'bad gzip CRC');
  await assertRejects(through(new DecompressionStream('deflate'), [unhex(HELLO.deflate.replace('1a0b045d', '1a0b045e'))]), TypeError, 'bad Adler-32');
  await assertRejects(through(new CompressionStream('gzip'), ['a string']), TypeError, 'a string chunk');
  const failing = new DecompressionStream('gzip');
  const fw = failing.writable.getWriter();
  const reading = collect(failing.readable);
  fw.write(enc.encode('garbage')).catch(() => {});
  await assertRejects(reading, TypeError, 'the readable side errors');
  await assertRejects(fw.closed, TypeError, 'the writable side errors too');

  // Constructors.
  assertThrows(() => new CompressionStream('br'), TypeError, 'unsupported format');
  assertThrows(() => new DecompressionStream('GZIP'), TypeError, 'formats are case-sensitive');
  assertThrows(() => new CompressionStream(), TypeError, 'format is required');
  const cs = new CompressionStream('deflate');
  assertEq(cs.readable instanceof ReadableStream, true, 'readable');
  assertEq(cs.writable instanceof WritableStream, true, 'writable');
  assertEq(Object.prototype.toString.call(cs), '[object CompressionStream]', 'toStringTag');
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
