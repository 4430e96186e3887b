// Streams Standard: ReadableStream, WritableStream, TransformStream, pipes, tee, backpressure,
// byte streams, queuing strategies, async iteration.
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
async function collect(stream) {
  const out = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

async function readable() {
  const rs = new ReadableStream({
    start(c) { c.enqueue('a'); c.enqueue('b'); c.close(); },
  });
  assertEq(rs.locked, false, 'not locked');
  const reader = rs.getReader();
  assertEq(rs.locked, true, 'locked by reader');
  assertEq(JSON.stringify(await reader.read()), '{"value":"a","done":false}', 'first read');
  assertEq(JSON.stringify(await reader.read()), '{"value":"b","done":false}', 'second read');
  assertEq(JSON.stringify(await reader.read()), '{"done":true}', 'done');
  await reader.closed;
  reader.releaseLock();
  assertEq(rs.locked, false, 'released');

  // Pull-based source with cancel.
  let pulls = 0, cancelReason;
  const counter = new ReadableStream({
    pull(c) { c.enqueue(++pulls); },
    cancel(reason) { cancelReason = reason; },
  }, { highWaterMark: 0 });
  const r2 = counter.getReader();
  assertEq((await r2.read()).value, 1, 'pull on demand');
  assertEq((await r2.read()).value, 2, 'second pull');
  await r2.cancel('enough');
  assertEq(cancelReason, 'enough', 'cancel reason reaches the source');

  // Errors.
  const failing = new ReadableStream({ start(c) { c.error(new TypeError('bad source')); } });
  let caught;
  try { await failing.getReader().read(); } catch (e) { caught = e; }
  assertEq(caught instanceof TypeError && caught.message === 'bad source', true, 'errored stream rejects reads');

  // tee
  const [t1, t2] = new ReadableStream({ start(c) { c.enqueue(1); c.enqueue(2); c.close(); } }).tee();
  const [c1, c2] = await Promise.all([collect(t1), collect(t2)]);
  assertEq(`${c1}|${c2}`, '1,2|1,2', 'tee');

  // Async iteration with early exit cancels and releases.
  let cancelled = false;
  const infinite = new ReadableStream({ pull(c) { c.enqueue('x'); }, cancel() { cancelled = true; } });
  let n = 0;
  for await (const _ of infinite) { if (++n === 3) break; }
  assertEq(cancelled && !infinite.locked, true, 'break cancels the stream');
  const kept = new ReadableStream({ start(c) { c.enqueue(1); c.enqueue(2); c.close(); } });
  for await (const _ of kept.values({ preventCancel: true })) break;
  assertEq((await kept.getReader().read()).value, 2, 'preventCancel keeps the stream');

  // ReadableStream.from
  assertEq((await collect(ReadableStream.from([1, 2, 3]))).join(), '1,2,3', 'from(iterable)');
  assertEq((await collect(ReadableStream.from((async function* () { yield 'g'; yield 'h'; })()))).join(''), 'gh', 'from(async generator)');

  // Byte streams and BYOB readers.
  const bytes = new ReadableStream({
    type: 'bytes',
    start(c) { c.enqueue(new Uint8Array([1, 2, 3, 4, 5])); c.close(); },
  });
  const byob = bytes.getReader({ mode: 'byob' });
  const first = await byob.read(new Uint8Array(2));
  assertEq(`${first.value.length}:${first.value[0]},${first.value[1]}`, '2:1,2', 'BYOB read fills the view');
  const rest = await byob.read(new Uint8Array(10));
  assertEq(Array.from(rest.value).join(), '3,4,5', 'BYOB read of the rest');
  assertEq((await byob.read(new Uint8Array(1))).done, true, 'BYOB done');
  // A Response body is a byte stream.
  const bodyReader = new Response('hello').body.getReader({ mode: 'byob' });
  const part = await bodyReader.read(new Uint8Array(3));
  assertEq(new TextDecoder().decode(part.value), 'hel', 'BYOB read of a Response body');
}

async function writable() {
  const written = [];
  let closed = false;
  const ws = new WritableStream({
    write(chunk) { written.push(chunk); },
    close() { closed = true; },
  });
  const writer = ws.getWriter();
  await writer.write('x');
  await writer.write('y');
  await writer.close();
  assertEq(written.join('') + closed, 'xytrue', 'writes and close');

  // Backpressure: desiredSize and ready follow the queue.
  let release;
  const slow = new WritableStream({
    write() { return new Promise((resolve) => { release = resolve; }); },
  }, new CountQueuingStrategy({ highWaterMark: 2 }));
  const w = slow.getWriter();
  assertEq(w.desiredSize, 2, 'initial desiredSize');
  w.write('a');
  w.write('b');
  w.write('c');
  assertEq(w.desiredSize, -1, 'desiredSize goes negative under backpressure');
  let readyResolved = false;
  w.ready.then(() => { readyResolved = true; });
  await tick();
  assertEq(readyResolved, false, 'ready pending under backpressure');
  release(); await tick(); release(); await tick(); release(); await tick();
  assertEq(readyResolved, true, 'ready resolves when the queue drains');

  // abort
  let abortReason;
  const ab = new WritableStream({ abort(r) { abortReason = r; } });
  await ab.abort('stop');
  assertEq(abortReason, 'stop', 'abort reason');

  // ByteLengthQueuingStrategy
  const bl = new ByteLengthQueuingStrategy({ highWaterMark: 16 });
  assertEq(bl.highWaterMark, 16, 'ByteLengthQueuingStrategy.highWaterMark');
  assertEq(bl.size(new Uint8Array(5)), 5, 'ByteLengthQueuingStrategy.size');
  assertEq(new CountQueuingStrategy({ highWaterMark: 3 }).size(), 1, 'CountQueuingStrategy.size');
}

async function transforms() {
  const upper = new TransformStream({
    transform(chunk, c) { c.enqueue(chunk.toUpperCase()); },
    flush(c) { c.enqueue('!'); },
  });
  const out = await collect(new ReadableStream({ start(c) { c.enqueue('a'); c.enqueue('b'); c.close(); } }).pipeThrough(upper));
  assertEq(out.join(''), 'AB!', 'pipeThrough with flush');

  // Identity transform, pipeTo, and a chain.
  const { readable, writable } = new TransformStream();
  const sink = [];
  const done = readable.pipeTo(new WritableStream({ write(c) { sink.push(c); } }));
  const w = writable.getWriter();
  await w.write(1); await w.write(2); await w.close();
  await done;
  assertEq(sink.join(), '1,2', 'identity TransformStream + pipeTo');

  const chained = new ReadableStream({ start(c) { for (let i = 1; i <= 5; i++) c.enqueue(i); c.close(); } })
    .pipeThrough(new TransformStream({ transform(x, c) { if (x % 2) c.enqueue(x * 10); } }))
    .pipeThrough(new TransformStream({ transform(x, c) { c.enqueue(String(x)); } }));
  assertEq((await collect(chained)).join(' '), '10 30 50', 'chained transforms');

  // Errors propagate through pipes.
  const broken = new ReadableStream({ start(c) { c.enqueue(1); c.error(new RangeError('upstream')); } });
  let err;
  try { await collect(broken.pipeThrough(new TransformStream())); } catch (e) { err = e; }
  assertEq(err instanceof RangeError, true, 'error propagates through pipeThrough');
  const badTransform = new TransformStream({ transform() { throw new SyntaxError('transform failed'); } });
  let err2;
  try { await collect(new ReadableStream({ start(c) { c.enqueue(1); c.close(); } }).pipeThrough(badTransform)); } catch (e) { err2 = e; }
  assertEq(err2 instanceof SyntaxError, true, 'transform errors surface on the readable side');

  // pipeTo with an AbortSignal.
  const ac = new AbortController();
  const never = new ReadableStream({ pull() { return new Promise(() => {}); } });
  const piping = never.pipeTo(new WritableStream(), { signal: ac.signal });
  ac.abort(new Error('pipe aborted'));
  let pipeErr;
  try { await piping; } catch (e) { pipeErr = e; }
  assertEq(pipeErr && pipeErr.message, 'pipe aborted', 'pipeTo rejects with the abort reason');

  // Workers' IdentityTransformStream and FixedLengthStream.
  const id = new IdentityTransformStream();
  const idw = id.writable.getWriter();
  idw.write(new Uint8Array([1, 2]));
  idw.close();
  assertEq((await new Response(id.readable).arrayBuffer()).byteLength, 2, 'IdentityTransformStream');
  const fixed = new FixedLengthStream(3);
  const fw = fixed.writable.getWriter();
  fw.write(new Uint8Array([1, 2, 3]));
  fw.close();
  assertEq((await new Response(fixed.readable).bytes()).length, 3, 'FixedLengthStream');
}

export default {
  async fetch() {
    await readable();
    await writable();
    await transforms();
    return new Response('ok');
  },
};
