// Headers (Fetch Standard §5.2) as in Workers.
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
function assertThrows(fn, type, what) {
  try { fn(); } catch (e) { if (!(e instanceof type)) throw new Error(`${what}: threw ${e && e.name} instead of ${type.name}`); return; }
  throw new Error(`${what}: did not throw`);
}

function run() {
  const h = new Headers({ 'Content-Type': 'text/plain', 'X-B': ' padded \t' });
  assertEq(h.get('content-type'), 'text/plain', 'case-insensitive get');
  assertEq(h.get('CONTENT-TYPE'), 'text/plain', 'case-insensitive get (upper)');
  assertEq(h.get('x-b'), 'padded', 'values are trimmed of HTTP whitespace');
  assertEq(h.has('X-b'), true, 'has');
  assertEq(h.get('missing'), null, 'missing header');
  h.append('Accept', 'a');
  h.append('accept', 'b');
  assertEq(h.get('Accept'), 'a, b', 'values combined with ", "');
  h.set('ACCEPT', 'c');
  assertEq(h.get('accept'), 'c', 'set replaces all');
  h.delete('Accept');
  assertEq(h.has('accept'), false, 'delete');

  // Iteration: lower-cased, sorted, combined, set-cookie kept apart.
  const s = new Headers([['b', '2'], ['A', '1'], ['set-cookie', 'x=1'], ['c', '3'], ['Set-Cookie', 'y=2'], ['a', '0']]);
  assertEq(JSON.stringify([...s]), '[["a","1, 0"],["b","2"],["c","3"],["set-cookie","x=1"],["set-cookie","y=2"]]', 'sorted and combined iteration');
  assertEq(JSON.stringify([...s.keys()]), '["a","b","c","set-cookie","set-cookie"]', 'keys');
  assertEq(JSON.stringify(s.getSetCookie()), '["x=1","y=2"]', 'getSetCookie');
  assertEq(s.get('set-cookie'), 'x=1, y=2', 'get(set-cookie) combines');
  assertEq(JSON.stringify(new Headers().getSetCookie()), '[]', 'getSetCookie empty');
  const order = [];
  s.forEach((v, k, obj) => { order.push(k); if (obj !== s) throw new Error('forEach third argument'); });
  assertEq(order.join(','), 'a,b,c,set-cookie,set-cookie', 'forEach order');

  // Iterators see later mutations.
  const live = new Headers({ a: '1', c: '3' });
  const it = live[Symbol.iterator]();
  assertEq(it.next().value[0], 'a', 'first');
  live.append('b', '2');
  assertEq(it.next().value[0], 'b', 'index-based live iteration: the new b sorts at index 1');
  assertEq(it.next().value[0], 'c', 'then c');
  assertEq(it.next().done, true, 'done');

  // Copy constructors.
  const copy = new Headers(s);
  copy.append('d', '4');
  assertEq(s.has('d'), false, 'copy is independent');
  assertEq(JSON.stringify(new Headers(copy).getSetCookie()), '["x=1","y=2"]', 'copy keeps set-cookie entries');

  // Validation.
  assertThrows(() => new Headers({ 'bad name': 'x' }), TypeError, 'space in name');
  assertThrows(() => new Headers({ 'x': 'a\nb' }), TypeError, 'LF in value');
  assertThrows(() => new Headers({ 'x': 'a\rb' }), TypeError, 'CR in value');
  assertThrows(() => new Headers({ 'x': 'a\0b' }), TypeError, 'NUL in value');
  assertThrows(() => new Headers({ 'x': '\u0100' }), TypeError, 'non-ByteString value');
  assertThrows(() => new Headers({ '\u00e9': 'x' }), TypeError, 'non-token name');
  assertThrows(() => new Headers([['a']]), TypeError, 'pair with one item');
  assertThrows(() => new Headers([['a', 'b', 'c']]), TypeError, 'pair with three items');
  assertThrows(() => new Headers('a: b'), TypeError, 'string init');
  assertThrows(() => h.get('bad name'), TypeError, 'invalid name in get');
  // Which error a bad name or value gets: the ByteString check comes first, and its message names
  // the index in the value as given (before trimming).
  const message = (fn) => { try { fn(); } catch (e) { return e.message; } return 'no error'; };
  assertEq(message(() => new Headers().append('a\u0100b', 'x')).includes('character at index 1 has a value of 256'), true, 'ByteString name message');
  assertEq(message(() => new Headers().append('a b\u0100', 'x')).includes('ByteString'), true, 'ByteString before token check');
  assertEq(message(() => new Headers().append('a b', 'x')), "Failed to execute 'append' on 'Headers': Invalid name", 'invalid name message');
  assertEq(message(() => new Headers().append('x', ' a\u0100 ')).includes('character at index 2 has a value of 256'), true, 'ByteString index before trim');
  assertEq(message(() => new Headers().append('x', 'a\n\u0100')).includes('ByteString'), true, 'ByteString before LF check');
  assertEq(message(() => new Headers().set('x', 'a\nb')), "Failed to execute 'set' on 'Headers': Invalid value", 'invalid value message');
  assertEq(new Headers({ x: ' \t\r\nv\r\n' }).get('x'), 'v', 'CR and LF at the ends are trimmed, not refused');
  assertEq(new Headers({ x: '\u00e9' }).get('x'), '\u00e9', 'Latin-1 values are allowed');
  assertEq(new Headers({ x: '' }).get('x'), '', 'empty value');
  assertEq(new Headers({ 'Cookie': 'a=b', 'Host': 'example.com' }).get('host'), 'example.com', 'no forbidden headers in Workers');

  // Immutable headers.
  const r = Response.redirect('https://example.com/', 301);
  assertThrows(() => r.headers.set('x', 'y'), TypeError, 'Response.redirect headers are immutable');
  assertThrows(() => r.headers.append('x', 'y'), TypeError, 'immutable append');
  assertThrows(() => r.headers.delete('location'), TypeError, 'immutable delete');
  assertEq(r.headers.get('location'), 'https://example.com/', 'location');

  assertEq(Object.prototype.toString.call(h), '[object Headers]', 'toStringTag');
  assertEq(Object.prototype.toString.call(h.entries()), '[object Headers Iterator]', 'iterator toStringTag');
}

export default {
  async fetch() {
    run();
    return new Response('ok');
  },
};
