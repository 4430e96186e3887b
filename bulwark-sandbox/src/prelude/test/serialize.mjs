// Tests of src/serialize.js (run by `npm run test:serialize`, and by `npm test`). The module is
// imported from source: it is not in the bundle until the durable-object glue imports it.
import assert from 'node:assert/strict';
import { serialize, deserialize } from '../src/serialize.js';
import { registerNonSerializable } from '../src/structured-clone.js';
import { DOMException } from '../src/dom-exception.js';
import { Blob, File } from '../src/blob.js';
import { Headers } from '../src/headers.js';
import { Request, requestInternals } from '../src/request.js';
import { Response, responseInternals } from '../src/response.js';

let passed = 0, failed = 0;
function test(name, fn) {
  try { fn(); passed++; console.log(`PASS serialize: ${name}`); } catch (e) { failed++; console.log(`FAIL serialize: ${name}\n       ${e && e.stack}`); }
}
const rt = (v, hooks) => deserialize(serialize(v, hooks), hooks);
const throwsDataClone = (fn, message) => assert.throws(fn, (e) => e instanceof DOMException && e.name === 'DataCloneError'
  && (message === undefined || e.message === message));

test('primitives, including -0, NaN, big and small numbers', () => {
  for (const v of [undefined, null, true, false, 0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 53 + 2, 1.5, -1e-300,
    Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE]) assert.ok(Object.is(rt(v), v), String(v));
  assert.ok(Object.is(rt(-0), -0));
  assert.ok(Number.isNaN(rt(NaN)));
});
test('BigInt of any size and sign', () => {
  for (const v of [0n, 1n, -1n, 255n, 256n, -(2n ** 64n), 2n ** 200n + 7n]) assert.equal(rt(v), v);
});
test('strings: empty, non-ASCII, astral, and lone surrogates kept exactly', () => {
  for (const v of ['', 'abc', 'é€', '😀', '\u0000', '\uFEFFbom', 'a\uD800b', '\uDC00', 'x'.repeat(100000)]) assert.equal(rt(v), v);
});
test('boxed primitives stay objects', () => {
  const [n, s, b, bi] = rt([Object(-0), Object('s'), Object(false), Object(5n)]);
  assert.equal(typeof n, 'object'); assert.ok(Object.is(n.valueOf(), -0));
  assert.equal(typeof s, 'object'); assert.equal(s.valueOf(), 's');
  assert.equal(typeof b, 'object'); assert.equal(b.valueOf(), false);
  assert.equal(typeof bi, 'object'); assert.equal(bi.valueOf(), 5n);
});
test('Date, including an invalid one', () => {
  const d = rt(new Date(1700000000123));
  assert.ok(d instanceof Date); assert.equal(d.getTime(), 1700000000123);
  assert.ok(Number.isNaN(rt(new Date(NaN)).getTime()));
});
test('RegExp keeps source and flags, not lastIndex', () => {
  const r = /a[b-c]+\//gimsuy; r.lastIndex = 3;
  const c = rt(r);
  assert.ok(c instanceof RegExp); assert.equal(c.source, r.source); assert.equal(c.flags, r.flags); assert.equal(c.lastIndex, 0);
});
test('Map and Set keep order, object keys and identity within the value', () => {
  const k = { k: 1 };
  const [m, s, k2] = rt([new Map([[k, 'a'], ['b', k]]), new Set([3, 1, k]), k]);
  assert.deepEqual([...m.keys()].map((x) => (typeof x === 'object' ? 'obj' : x)), ['obj', 'b']);
  assert.equal([...m.keys()][0], k2); assert.equal(m.get('b'), k2);
  assert.deepEqual([...s].slice(0, 2), [3, 1]); assert.equal([...s][2], k2);
});
test('arrays: holes, extra properties, huge sparse arrays stay small', () => {
  const a = [1, , 3]; a.extra = 'x'; a[10] = 'ten';
  const c = rt(a);
  assert.equal(c.length, 11); assert.ok(!(1 in c)); assert.ok(!(5 in c)); assert.equal(c[10], 'ten'); assert.equal(c.extra, 'x');
  assert.ok(Array.isArray(c));
  const sparse = []; sparse[1e9] = 'far'; sparse[3] = 'near';
  const bytes = serialize(sparse);
  assert.ok(bytes.length < 64, `sparse array took ${bytes.length} bytes`);
  const s = deserialize(bytes);
  assert.equal(s.length, 1e9 + 1); assert.equal(s[1e9], 'far'); assert.equal(s[3], 'near'); assert.equal(Object.keys(s).length, 2);
});
test('plain objects: own enumerable string keys in order; prototypes and symbols dropped', () => {
  class Point { constructor() { this.x = 1; this.y = 2; } get z() { return 3; } }
  const sym = Symbol('s');
  const o = { b: 1, a: new Point(), [sym]: 1 };
  Object.defineProperty(o, 'hidden', { value: 1, enumerable: false });
  const c = rt(o);
  assert.deepEqual(Object.keys(c), ['b', 'a']);
  assert.equal(Object.getPrototypeOf(c.a), Object.prototype); assert.deepEqual(c.a, { x: 1, y: 2 });
  assert.equal(Object.getOwnPropertySymbols(c).length, 0);
});
test('a key named __proto__ stays an own property and does not set the prototype', () => {
  const o = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}');
  const c = rt(o);
  assert.equal(Object.getPrototypeOf(c), Object.prototype);
  assert.ok(Object.prototype.hasOwnProperty.call(c, '__proto__'));
  assert.equal(c.polluted, undefined); assert.equal({}.polluted, undefined);
});
test('ArrayBuffer, every typed array and DataView, with offsets', () => {
  const ab = new ArrayBuffer(64);
  new Uint8Array(ab).forEach((_, i, a) => { a[i] = i; });
  const kinds = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
    Float32Array, Float64Array, BigInt64Array, BigUint64Array];
  if (typeof Float16Array === 'function') kinds.push(Float16Array);
  for (const K of kinds) {
    const v = new K(ab, 8, 2);
    const c = rt(v);
    assert.ok(c instanceof K, K.name); assert.equal(c.byteOffset, 8); assert.equal(c.length, 2);
    assert.deepEqual([...new Uint8Array(c.buffer)], [...new Uint8Array(ab)]);
  }
  const dv = rt(new DataView(ab, 4, 10));
  assert.ok(dv instanceof DataView); assert.equal(dv.byteOffset, 4); assert.equal(dv.byteLength, 10); assert.equal(dv.getUint8(0), 4);
  const b = rt(ab); assert.ok(b instanceof ArrayBuffer); assert.equal(b.byteLength, 64);
});
test('views on one buffer still share one buffer', () => {
  const ab = new ArrayBuffer(8);
  const [x, y, buf] = rt([new Uint8Array(ab, 0, 4), new Uint16Array(ab, 4, 2), ab]);
  assert.equal(x.buffer, y.buffer); assert.equal(x.buffer, buf);
  x[0] = 9; assert.equal(new Uint8Array(buf)[0], 9);
});
test('errors keep type, message, stack and cause (also cyclic)', () => {
  for (const E of [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError]) {
    const e = new E('msg');
    const c = rt(e);
    assert.ok(c instanceof E); assert.equal(c.name, E.name); assert.equal(c.message, 'msg'); assert.equal(c.stack, e.stack);
  }
  const e = new Error('outer', { cause: { code: 42 } });
  e.cause.back = e;
  const c = rt(e);
  assert.equal(c.cause.code, 42); assert.equal(c.cause.back, c);
  class MyError extends Error { constructor() { super('mine'); this.name = 'MyError'; } }
  const m = rt(new MyError());
  assert.equal(Object.getPrototypeOf(m), Error.prototype); assert.equal(m.message, 'mine');
  assert.ok(!Object.prototype.hasOwnProperty.call(rt(new Error()), 'message'));
  const d = rt(new DOMException('nope', 'NotFoundError'));
  assert.ok(d instanceof DOMException); assert.equal(d.name, 'NotFoundError'); assert.equal(d.code, 8); assert.equal(d.message, 'nope');
});
test('richErrors: errors cross as workerd\'s RPC sends them (class, message, foreign name, own properties, no stack)', () => {
  const R = { richErrors: true };
  for (const E of [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError]) {
    const madeInThrower = (function thrower() { return new E('msg'); })();
    const c = rt(madeInThrower, R);
    assert.equal(Object.getPrototypeOf(c), E.prototype); assert.equal(c.message, 'msg');
    assert.deepEqual(Object.getOwnPropertyNames(c).filter((k) => k !== 'stack'), ['message']);
    assert.ok(madeInThrower.stack.includes('thrower') && !c.stack.includes('thrower'), 'the thrower\'s stack does not cross');
  }
  class MyError extends TypeError { constructor(m) { super(m); this.name = 'MyError'; } }
  const e = new MyError('mine');
  e.code = 'E_X'; e.detail = { x: [1, 2] }; e.inner = new RangeError('in');
  Object.defineProperty(e, 'hidden', { value: 9, enumerable: false });
  Object.defineProperty(e, 'computed', { get() { return 5; } });
  const c = rt(e, R);
  // The class is the first intrinsic on the prototype chain; a name of its own crosses as an own property.
  assert.equal(Object.getPrototypeOf(c), TypeError.prototype); assert.equal(c.name, 'MyError');
  assert.deepEqual(Object.keys(c), ['name', 'code', 'detail', 'inner', 'hidden', 'computed']);
  assert.deepEqual(c.detail, { x: [1, 2] }); assert.ok(c.inner instanceof RangeError); assert.equal(c.inner.message, 'in');
  assert.equal(c.hidden, 9); assert.equal(c.computed, 5);
  assert.ok(!Object.getOwnPropertyDescriptor(c, 'message').enumerable);
  // A function among the own properties: none of them cross (as workerd).
  const f = new Error('fn'); f.code = 1; f.fn = () => 1;
  assert.deepEqual(Object.keys(rt(f, R)), []);
  // AggregateError keeps its errors, after the message; an error without a message gets ''.
  const a = rt(new AggregateError([new Error('a')], 'agg'), R);
  assert.ok(a instanceof AggregateError); assert.deepEqual(Object.getOwnPropertyNames(a).filter((k) => k !== 'stack'), ['message', 'errors']);
  assert.equal(a.errors[0].message, 'a');
  assert.equal(Object.getOwnPropertyDescriptor(rt(new Error(), R), 'message').value, '');
  const d = rt(new DOMException('nope', 'NotFoundError'), R);
  assert.ok(d instanceof DOMException); assert.equal(d.code, 8);
  // Without the option, structured clone's rules are unchanged (see the test above).
  assert.equal(Object.getPrototypeOf(rt(new MyError('x'))), Error.prototype);
});
test('cycles and shared references', () => {
  const shared = { s: 1 };
  const o = { a: shared, b: shared, list: [] };
  o.list.push(o, o.list);
  const c = rt(o);
  assert.equal(c.a, c.b); assert.equal(c.list[0], c); assert.equal(c.list[1], c.list);
});
test('functions, symbols, weak collections, promises, blobs and platform objects are DataCloneErrors', () => {
  throwsDataClone(() => serialize(function f() {}), 'function f() could not be cloned.');
  throwsDataClone(() => serialize(() => 1));
  throwsDataClone(() => serialize({ s: Symbol('x') }), 'Symbol() could not be cloned.');
  throwsDataClone(() => serialize(Object(Symbol('x'))));
  throwsDataClone(() => serialize(new WeakMap()));
  throwsDataClone(() => serialize(new WeakSet()));
  throwsDataClone(() => serialize(Promise.resolve(1)));
  throwsDataClone(() => serialize(new Blob(['x'])));
  class Platform {}
  registerNonSerializable((v) => v instanceof Platform);
  throwsDataClone(() => serialize({ p: new Platform() }));
});
test('rpc: Blob, File and Headers cross with their type, name, lastModified, bytes and pairs (RPC only)', () => {
  const [b, f, again] = (() => {
    const blob = new Blob(['hello ', 'world'], { type: 'text/plain' });
    return rt([blob, new File(['x'], 'a.txt', { type: 'text/x', lastModified: 42 }), blob], { rpc: true });
  })();
  assert.ok(b instanceof Blob); assert.equal(b.type, 'text/plain'); assert.equal(b.size, 11);
  assert.equal(again, b);
  assert.ok(f instanceof File); assert.equal(f.name, 'a.txt'); assert.equal(f.type, 'text/x'); assert.equal(f.lastModified, 42);
  throwsDataClone(() => serialize(new Blob(['x'])));
  const h = new Headers([['b', '2'], ['Set-Cookie', 'x'], ['set-cookie', 'y'], ['a', '1']]);
  assert.deepEqual([...rt(h, { rpc: true })], [['a', '1'], ['b', '2'], ['set-cookie', 'x'], ['set-cookie', 'y']]);
});
test('rpc: Request and Response cross with their parts; a small body in hand as its bytes, used once sent', () => {
  const text = (body) => new TextDecoder().decode(body.peekBytes());
  const req = new Request('http://my-url.com', { method: 'PUT', headers: { Foo: 'Bar' }, redirect: 'manual', body: 'hi', cf: { a: 1 } });
  const r = rt(req, { rpc: true });
  assert.ok(r instanceof Request); assert.equal(r.url, 'http://my-url.com/'); assert.equal(r.method, 'PUT');
  assert.equal(r.headers.get('foo'), 'Bar'); assert.equal(r.redirect, 'manual'); assert.deepEqual(r.cf, { a: 1 });
  assert.equal(text(requestInternals.body(r)), 'hi');
  assert.equal(req.bodyUsed, true);
  assert.throws(() => serialize(req, { rpc: true }), TypeError);
  const res = rt(new Response('body!', { status: 404, statusText: 'Not Found', headers: { 'Content-Type': 'abc' }, cf: { b: 2 } }), { rpc: true });
  assert.ok(res instanceof Response); assert.equal(res.status, 404); assert.equal(res.statusText, 'Not Found');
  assert.equal(res.headers.get('content-type'), 'abc'); assert.deepEqual(res.cf, { b: 2 });
  assert.equal(text(responseInternals.body(res)), 'body!');
  assert.equal(rt(new Response(null, { status: 204 }), { rpc: true }).body, null);
  throwsDataClone(() => serialize(Response.error(), { rpc: true }));
  // A message whose headers are not Headers is refused whole.
  const bytes = serialize(new Response('x'), { rpc: true });
  const at = bytes.indexOf(0x24);
  throwsDataClone(() => deserialize(Uint8Array.of(...bytes.subarray(0, at), 0x01, ...bytes.subarray(at + 1)), { rpc: true }));
});
test('hooks pass host objects by numbered slots both ways, keeping identity', () => {
  class RpcTarget {}
  const stub = new RpcTarget();
  const fn = () => 1;
  const table = [];
  const hooks = {
    encode: (v) => (v instanceof RpcTarget || typeof v === 'function' ? table.push(v) - 1 : undefined),
    decode: (slot) => ({ slot, original: table[slot] }),
  };
  const bytes = serialize({ a: stub, b: stub, f: fn, plain: { x: 1 } }, hooks);
  assert.equal(table.length, 2);
  const c = deserialize(bytes, hooks);
  assert.equal(c.a.original, stub); assert.equal(c.a, c.b); assert.equal(c.f.original, fn); assert.deepEqual(c.plain, { x: 1 });
  throwsDataClone(() => deserialize(bytes));
  assert.throws(() => serialize(stub, { encode: () => -1 }), TypeError);
});
test('the output is size-limited before it is built', () => {
  assert.throws(() => serialize('x'.repeat(2000), { maxBytes: 1000 }), (e) => e instanceof RangeError
    && e.message === 'The serialized value is larger than the limit of 1000 bytes.');
  assert.throws(() => serialize(new Uint8Array(33 * 1024 * 1024)), RangeError);
  assert.equal(deserialize(serialize('x'.repeat(990), { maxBytes: 1000 })).length, 990);
});
test('the format is versioned and stable (a golden encoding of version 1)', () => {
  assert.deepEqual([...serialize({ a: [1, 'x'], n: null })],
    [0xb7, 0x01, 0x11, 0x02, 0x07, 0x01, 0x61, 0x12, 0x02, 0x04, 0x02, 0x07, 0x01, 0x78, 0x00, 0x07, 0x01, 0x6e, 0x01]);
  throwsDataClone(() => deserialize(new Uint8Array([0xb7, 0x02, 0x01])), 'Unable to deserialize cloned data: unsupported version 2.');
  throwsDataClone(() => deserialize(new Uint8Array([0x00, 0x01, 0x01])));
  throwsDataClone(() => deserialize(new Uint8Array([0xb7, 0x01, 0x01, 0x01])), 'Unable to deserialize cloned data: trailing bytes.');
});
test('deep nesting is refused cleanly both ways', () => {
  let deep = [];
  for (let i = 0; i < 5000; i++) deep = [deep];
  throwsDataClone(() => serialize(deep));
  const bytes = new Uint8Array(2 + 3 * 5000 + 2);
  bytes[0] = 0xb7; bytes[1] = 1;
  for (let i = 0; i < 5000; i++) { bytes[2 + 3 * i] = 0x12; bytes[3 + 3 * i] = 1; }
  throwsDataClone(() => deserialize(bytes));
});
test('hostile bytes: lengths past the end, bad refs, bad views are DataCloneErrors', () => {
  const cases = [
    [0xb7, 1, 0x07, 0xff, 0xff, 0xff, 0x7f], // string longer than the input
    [0xb7, 1, 0x12, 0xff, 0xff, 0xff, 0xff, 0x0f], // dense array longer than the input
    [0xb7, 1, 0x10, 0x05], // reference to an object never seen
    [0xb7, 1, 0x19, 0x02, 0x18, 0x02, 0x00, 0x00, 0x05, 0x05], // view past its buffer
    [0xb7, 1, 0x19, 0x40, 0x18, 0x00, 0x00, 0x00], // unknown view kind
    [0xb7, 1, 0x19, 0x02, 0x01, 0x00, 0x00], // view on null
    [0xb7, 1, 0x16, 0x7f], // map count past the end
    [0xb7, 1, 0x15, 0x07, 0x01, 0x28, 0x07, 0x00], // RegExp "("
    [0xb7, 1, 0x13, 0x02, 0x01, 0x05, 0x01, 0x00], // sparse index past its length
    [0xb7, 1, 0x12, 0x00, 0x01, 0x07, 0x06, 0x6c, 0x65, 0x6e, 0x67, 0x74, 0x68, 0x01], // array "length" property
    [0xb7, 1, 0x04, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // endless varint
    [0xb7, 1, 0x1a, 0x09, 0x00], // unknown error type
    [0xb7, 1, 0x99],
  ];
  for (const c of cases) throwsDataClone(() => deserialize(new Uint8Array(c)));
});
test('fuzz: mutated encodings decode or fail with DataCloneError, nothing else', () => {
  const ab = new ArrayBuffer(16);
  const samples = [{ a: [1, , 'x', 2n, -0, new Date(5)], m: new Map([[1, new Set([2])]]), v: new Uint16Array(ab, 2, 3), d: new DataView(ab),
    e: new TypeError('t', { cause: 1 }), r: /x/g, s: 'é\uD800', b: Object('s'), big: 2n ** 70n }];
  samples[0].self = samples[0];
  let seed = 12345;
  const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  for (const sample of samples) {
    const good = serialize(sample);
    for (let i = 0; i < 20000; i++) {
      const bad = good.slice(0, rand(good.length + 1) + 1);
      for (let k = rand(4); k >= 0; k--) bad[2 + rand(bad.length - 2)] = rand(256);
      try { deserialize(bad); } catch (e) {
        if (!(e instanceof DOMException && e.name === 'DataCloneError')) throw new Error(`bytes ${[...bad]} threw ${e && e.stack}`);
      }
    }
  }
});

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
