// Request and Response (Fetch Standard §5.3-5.5): bodies, clone/tee, bodyUsed, status checks.
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
function assertThrows(fn, type, what) {
  try { fn(); } catch (e) { if (!(e instanceof type)) throw new Error(`${what}: threw ${e && e.name} (${e && e.message}) instead of ${type.name}`); return; }
  throw new Error(`${what}: did not throw`);
}
async function assertRejects(promise, type, what) {
  try { await promise; } catch (e) { if (!(e instanceof type)) throw new Error(`${what}: rejected with ${e && e.name} instead of ${type.name}`); return; }
  throw new Error(`${what}: did not reject`);
}

async function responses() {
  // Defaults.
  const r = new Response();
  assertEq(r.status, 200, 'default status');
  assertEq(r.statusText, '', 'default statusText');
  assertEq(r.ok, true, 'ok');
  assertEq(r.body, null, 'null body');
  assertEq(r.bodyUsed, false, 'bodyUsed');
  assertEq(r.type, 'default', 'type');
  assertEq(r.url, '', 'url');
  assertEq(r.redirected, false, 'redirected');
  assertEq(await r.text(), '', 'empty text');

  // Body types and Content-Type.
  const ct = (body) => new Response(body).headers.get('content-type');
  assertEq(ct('x'), 'text/plain;charset=UTF-8', 'string body content type');
  assertEq(ct(new Uint8Array([1])), null, 'bytes: no content type');
  assertEq(ct(new ArrayBuffer(2)), null, 'ArrayBuffer: no content type');
  assertEq(ct(new Blob(['x'], { type: 'Image/PNG' })), 'image/png', 'Blob type');
  assertEq(ct(new Blob(['x'])), null, 'untyped Blob');
  assertEq(ct(new URLSearchParams('a=1')), 'application/x-www-form-urlencoded;charset=UTF-8', 'URLSearchParams');
  assertEq(ct(new FormData()).startsWith('multipart/form-data; boundary='), true, 'FormData');
  assertEq(new Response('x', { headers: { 'content-type': 'text/html' } }).headers.get('content-type'), 'text/html', 'explicit content type wins');
  assertEq(await new Response(new Uint16Array([0x6968])).text(), 'hi', 'typed array body');
  assertEq(await new Response(new DataView(new Uint8Array([0x21, 0x6f, 0x6b, 0x21]).buffer, 1, 2)).text(), 'ok', 'DataView body honours offset/length');
  assertEq(await new Response({ toString() { return 'obj'; } }).text(), 'obj', 'other objects are stringified');
  assertEq(await new Response(new URLSearchParams({ a: 'b c' })).text(), 'a=b+c', 'URLSearchParams body');

  // The body bytes are copied at construction.
  const src = new Uint8Array([0x61]);
  const copied = new Response(src);
  src[0] = 0x62;
  assertEq(await copied.text(), 'a', 'buffer source copied');

  // Readers.
  assertEq((await new Response('\u00e9').arrayBuffer()).byteLength, 2, 'arrayBuffer');
  const bytes = await new Response('ab').bytes();
  assertEq(bytes instanceof Uint8Array && bytes.length === 2 && bytes[1] === 0x62, true, 'bytes()');
  assertEq((await new Response('{"a":[1,2]}').json()).a[1], 2, 'json');
  await assertRejects(new Response('{bad').json(), SyntaxError, 'invalid JSON');
  const blob = await new Response('xyz', { headers: { 'content-type': 'text/x-test' } }).blob();
  assertEq(blob.size, 3, 'blob size');
  assertEq(blob.type, 'text/x-test', 'blob type from Content-Type');
  assertEq(await new Response('\uFEFFbom').text(), 'bom', 'text() strips a UTF-8 BOM');
  assertEq(await new Response(new Uint8Array([0xff, 0x61])).text(), '\uFFFDa', 'text() replaces invalid UTF-8');

  // bodyUsed and double reads.
  const once = new Response('once');
  await once.text();
  assertEq(once.bodyUsed, true, 'bodyUsed after text()');
  await assertRejects(once.text(), TypeError, 'second read');
  assertThrows(() => once.clone(), TypeError, 'clone after use');

  // Streams as bodies.
  const streamed = new Response(new ReadableStream({
    start(c) { c.enqueue(new TextEncoder().encode('he')); c.enqueue(new TextEncoder().encode('llo')); c.close(); },
  }));
  assertEq(streamed.headers.get('content-type'), null, 'stream: no content type');
  assertEq(await streamed.text(), 'hello', 'stream body');
  const locked = new ReadableStream();
  locked.getReader();
  assertThrows(() => new Response(locked), TypeError, 'locked stream');
  const viaBody = new Response('chunky');
  const reader = viaBody.body.getReader();
  assertEq(viaBody.bodyUsed, false, 'getReader alone does not use the body');
  let text = '';
  for (;;) { const { done, value } = await reader.read(); if (done) break; text += new TextDecoder().decode(value); }
  assertEq(text, 'chunky', 'read through body.getReader()');
  assertEq(viaBody.bodyUsed, true, 'bodyUsed after reading');
  assertEq(new Response('x').body instanceof ReadableStream, true, 'body is a ReadableStream');
  assertEq(new Response('x').body === new Response('x').body, false, 'distinct streams');
  const same = new Response('x');
  assertEq(same.body, same.body, 'body getter returns the same stream');

  // clone() tees.
  const orig = new Response('cloned', { status: 201, statusText: 'Created', headers: { a: '1' } });
  const cl = orig.clone();
  assertEq(cl.status, 201, 'clone status');
  assertEq(cl.statusText, 'Created', 'clone statusText');
  assertEq(cl.headers.get('a'), '1', 'clone headers');
  cl.headers.set('a', '2');
  assertEq(orig.headers.get('a'), '1', 'clone headers independent');
  assertEq(await orig.text(), 'cloned', 'original readable after clone');
  assertEq(await cl.text(), 'cloned', 'clone readable');
  const streamClone = new Response(new ReadableStream({ start(c) { c.enqueue(new Uint8Array([0x6f, 0x6b])); c.close(); } }));
  const sc2 = streamClone.clone();
  const [t1, t2] = await Promise.all([streamClone.text(), sc2.text()]);
  assertEq(t1 + t2, 'okok', 'stream clone');
  const [b1, b2] = new Response('tee').body.tee();
  assertEq(await new Response(b1).text() + await new Response(b2).text(), 'teetee', 'body.tee()');

  // Status checks.
  assertThrows(() => new Response('', { status: 199 }), RangeError, 'status 199');
  assertThrows(() => new Response('', { status: 600 }), RangeError, 'status 600');
  assertThrows(() => new Response(null, { status: 101 }), RangeError, 'status 101 without a WebSocket');
  assertEq(new Response(null, { status: 599 }).status, 599, 'status 599');
  for (const s of [204, 205, 304]) {
    assertThrows(() => new Response('body', { status: s }), TypeError, `null body status ${s}`);
    assertEq(new Response(null, { status: s }).status, s, `null body status ${s} without body`);
    assertEq(new Response('', { status: 200 }).ok, true, 'ok');
  }
  assertThrows(() => new Response('', { statusText: 'bad\nline' }), TypeError, 'statusText with LF');
  assertEq(new Response('', { status: 404, statusText: 'Not Found' }).ok, false, 'ok false');

  // Static constructors.
  const j = Response.json({ a: 1 }, { status: 202, headers: { 'x-j': '1' } });
  assertEq(j.status, 202, 'json status');
  assertEq(j.headers.get('content-type'), 'application/json', 'json content type');
  assertEq(j.headers.get('x-j'), '1', 'json headers');
  assertEq(await j.text(), '{"a":1}', 'json body');
  assertEq(Response.json('x', { headers: { 'content-type': 'text/json' } }).headers.get('content-type'), 'text/json', 'json keeps explicit type');
  assertThrows(() => Response.json(undefined), TypeError, 'json(undefined)');
  assertThrows(() => Response.json(1n), TypeError, 'json(BigInt)');
  assertThrows(() => Response.json(null, { status: 204 }), TypeError, 'json with null body status');
  const red = Response.redirect('https://example.com/a b', 307);
  assertEq(red.status, 307, 'redirect status');
  assertEq(red.headers.get('location'), 'https://example.com/a%20b', 'redirect location is serialized');
  assertEq(Response.redirect('https://example.com/').status, 302, 'redirect default status');
  assertThrows(() => Response.redirect('https://example.com/', 200), RangeError, 'redirect status 200');
  assertThrows(() => Response.redirect('/relative'), TypeError, 'redirect to a relative URL');
  const err = Response.error();
  assertEq(err.type, 'error', 'error type');
  assertEq(err.status, 0, 'error status');
  assertThrows(() => err.headers.set('a', 'b'), TypeError, 'error headers immutable');
}

async function requests() {
  const r = new Request('https://example.com/a/../b?x#frag');
  assertEq(r.url, 'https://example.com/b?x#frag', 'url is parsed and serialized');
  assertEq(r.method, 'GET', 'default method');
  assertEq(r.body, null, 'no body');
  assertEq(r.redirect, 'follow', 'redirect default');
  assertEq(r.signal instanceof AbortSignal, true, 'signal');
  assertEq(r.signal.aborted, false, 'not aborted');
  assertThrows(() => new Request('/relative'), TypeError, 'relative URL without base');
  assertThrows(() => new Request('https://user:pass@example.com/'), TypeError, 'credentials in URL');
  assertThrows(() => new Request('https://example.com/', { body: 'x' }), TypeError, 'GET with body');
  assertThrows(() => new Request('https://example.com/', { method: 'HEAD', body: 'x' }), TypeError, 'HEAD with body');
  assertThrows(() => new Request('https://example.com/', { method: 'CONNECT' }), TypeError, 'forbidden method');
  assertThrows(() => new Request('https://example.com/', { method: 'bad method' }), TypeError, 'invalid method token');
  assertThrows(() => new Request('https://example.com/', { redirect: 'bogus' }), TypeError, 'invalid redirect mode');
  assertEq(new Request('https://example.com/', { method: 'post' }).method, 'POST', 'method normalized');
  assertEq(new Request('https://example.com/', { method: 'patch' }).method, 'patch', 'patch is not normalized');
  assertEq(new Request('https://example.com/', { method: 'Delete' }).method, 'DELETE', 'delete normalized');
  assertEq(new Request('https://example.com/', { method: 'GET', body: null }).body, null, 'GET with null body is fine');

  const post = new Request('https://example.com/', { method: 'POST', body: 'hello', headers: { 'X-Y': 'z' } });
  assertEq(post.headers.get('content-type'), 'text/plain;charset=UTF-8', 'request content type');
  assertEq(post.headers.get('x-y'), 'z', 'request headers');
  const pc = post.clone();
  assertEq(await post.text(), 'hello', 'request body');
  assertEq(await pc.text(), 'hello', 'request clone body');
  assertEq(post.bodyUsed, true, 'request bodyUsed');
  assertThrows(() => new Request(post), TypeError, 'Request from a used Request');

  // new Request(request, init) copies and moves the body.
  const base = new Request('https://example.com/x', { method: 'PUT', body: 'moved', headers: { a: '1' }, redirect: 'manual' });
  const derived = new Request(base, { headers: { b: '2' } });
  assertEq(derived.method, 'PUT', 'method copied');
  assertEq(derived.redirect, 'manual', 'redirect copied');
  assertEq(derived.headers.has('a'), false, 'init headers replace');
  assertEq(derived.headers.get('b'), '2', 'init headers');
  assertEq(base.bodyUsed, true, 'source body is used after being moved');
  assertEq(await derived.text(), 'moved', 'moved body');
  const overridden = new Request(new Request('https://example.com/', { method: 'POST', body: 'a' }), { body: 'b' });
  assertEq(await overridden.text(), 'b', 'init body overrides');
  assertThrows(() => new Request(new Request('https://example.com/', { method: 'POST', body: 'a' }), { method: 'GET' }), TypeError, 'GET with inherited body');

  // formData round trips.
  const fd = new FormData();
  fd.append('name', 'value\nline');
  fd.append('file', new Blob(['file-content'], { type: 'text/x-custom' }), 'f"i\nle.txt');
  fd.append('file2', new File(['\u00e9'], 'e.txt'));
  const mp = new Request('https://example.com/', { method: 'POST', body: fd });
  const parsed = await mp.formData();
  assertEq(parsed.get('name'), 'value\r\nline', 'multipart string (newlines normalized to CRLF)');
  const file = parsed.get('file');
  assertEq(file instanceof File, true, 'multipart file');
  assertEq(file.name, 'f"i\nle.txt', 'multipart filename escaping round trip');
  assertEq(file.type, 'text/x-custom', 'multipart file type');
  assertEq(await file.text(), 'file-content', 'multipart file content');
  assertEq(parsed.get('file2').type, 'application/octet-stream', 'untyped file');
  assertEq(await parsed.get('file2').text(), '\u00e9', 'UTF-8 file content');
  const ue = await new Response('a=1&b=x+y&a=%F0%9F%98%80', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }).formData();
  assertEq(JSON.stringify(ue.getAll('a')), '["1","\uD83D\uDE00"]', 'urlencoded formData');
  assertEq(ue.get('b'), 'x y', 'urlencoded plus');
  await assertRejects(new Response('x', { headers: { 'content-type': 'text/plain' } }).formData(), TypeError, 'formData with wrong type');
  const manual = '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XyZ\r\nContent-Disposition: form-data; name="up"; filename="u.bin"\r\nContent-Type: application/x-bin\r\n\r\n\x00\x01\r\n--XyZ--\r\n';
  const mf = await new Response(manual, { headers: { 'content-type': 'multipart/form-data; boundary="XyZ"' } }).formData();
  assertEq(mf.get('a'), '1', 'hand-written multipart field');
  assertEq((await mf.get('up').bytes()).length, 2, 'hand-written multipart file');
  await assertRejects(new Response('garbage', { headers: { 'content-type': 'multipart/form-data; boundary=q' } }).formData(), TypeError, 'malformed multipart');

  // Signals.
  const ac = new AbortController();
  const withSignal = new Request('https://example.com/', { signal: ac.signal });
  const cloneSignal = withSignal.clone();
  ac.abort('why');
  assertEq(withSignal.signal.aborted, true, 'request signal follows');
  assertEq(withSignal.signal.reason, 'why', 'reason propagates');
  assertEq(cloneSignal.signal.aborted, true, 'cloned request signal follows');

  assertEq(Object.prototype.toString.call(r), '[object Request]', 'Request toStringTag');
  assertEq(Object.prototype.toString.call(new Response()), '[object Response]', 'Response toStringTag');
}

export default {
  async fetch(request) {
    await responses();
    await requests();
    // The incoming request is a Request with immutable headers.
    assertEq(request instanceof Request, true, 'incoming request');
    assertEq(request.method, 'GET', 'incoming method');
    return new Response('ok');
  },
};
