// structuredClone (HTML §2.7): supported types, identity/cycles, errors.
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
function assertDataCloneError(fn, what) {
  try { fn(); } catch (e) {
    if (!(e instanceof DOMException) || e.name !== 'DataCloneError' || e.code !== 25) throw new Error(`${what}: threw ${e && e.name} instead of DataCloneError`);
    return;
  }
  throw new Error(`${what}: did not throw`);
}

function run() {
  // Primitives.
  for (const v of [undefined, null, true, 0, -0, NaN, 1.5, 'str', 10n]) {
    const c = structuredClone(v);
    if (!Object.is(c, v)) throw new Error(`primitive ${String(v)} not preserved`);
  }
  // Objects, arrays, cycles and shared references.
  const shared = { s: 1 };
  const obj = { a: [1, , 3], b: shared, c: shared, nested: { deep: { deeper: 'x' } } };
  obj.self = obj;
  obj.a.extra = 'prop';
  const c = structuredClone(obj);
  assertEq(c !== obj && c.self === c, true, 'cycle preserved');
  assertEq(c.b === c.c && c.b !== shared, true, 'shared reference preserved');
  assertEq(c.a.length, 3, 'array length');
  assertEq(1 in c.a, false, 'hole preserved');
  assertEq(c.a.extra, 'prop', 'array extra property');
  assertEq(c.nested.deep.deeper, 'x', 'deep copy');
  class Point { constructor() { this.x = 1; } get y() { return 2; } }
  const p = structuredClone(new Point());
  assertEq(Object.getPrototypeOf(p), Object.prototype, 'class instances become plain objects');
  assertEq(p.x, 1, 'own data properties kept');
  assertEq('y' in p, false, 'prototype getters not copied');
  const getter = structuredClone({ get g() { return 'got'; } });
  assertEq(Object.getOwnPropertyDescriptor(getter, 'g').value, 'got', 'getters are invoked');
  const sym = Symbol('k');
  assertEq(Object.getOwnPropertySymbols(structuredClone({ [sym]: 1, v: 2 })).length, 0, 'symbol keys dropped');

  // Built-in types.
  const date = new Date(Date.UTC(2020, 1, 29, 12));
  const cd = structuredClone(date);
  assertEq(cd instanceof Date && cd !== date && cd.getTime() === date.getTime(), true, 'Date');
  const re = /ab+c/gi;
  re.lastIndex = 3;
  const cre = structuredClone(re);
  assertEq(cre instanceof RegExp && cre.source === 'ab+c' && cre.flags === 'gi', true, 'RegExp');
  assertEq(cre.lastIndex, 0, 'RegExp lastIndex not preserved');
  const cmap = structuredClone(new Map([['x', { y: 1 }]]));
  assertEq(cmap instanceof Map && cmap.get('x').y === 1, true, 'Map');
  const m2 = new Map();
  m2.set('me', m2);
  const cm2 = structuredClone(m2);
  assertEq(cm2.get('me'), cm2, 'Map cycle');
  const cset = structuredClone(new Set(['a', 'b']));
  assertEq(cset instanceof Set && cset.has('b') && cset.size === 2, true, 'Set');
  for (const boxed of [Object(1), Object('s'), Object(false), Object(5n)]) {
    const cb = structuredClone(boxed);
    assertEq(typeof cb === 'object' && cb !== boxed && cb.valueOf() === boxed.valueOf(), true, `boxed ${typeof boxed.valueOf()}`);
  }

  // Binary data.
  const buf = new Uint8Array([1, 2, 3, 4]).buffer;
  const cbuf = structuredClone(buf);
  assertEq(cbuf instanceof ArrayBuffer && cbuf !== buf && new Uint8Array(cbuf)[3] === 4, true, 'ArrayBuffer');
  const u16 = new Uint16Array([1, 2, 3]);
  const view = new Uint8Array(u16.buffer, 2, 2);
  const cv = structuredClone({ u16, view });
  assertEq(cv.u16 instanceof Uint16Array && cv.u16[2] === 3, true, 'typed array');
  assertEq(cv.view.byteOffset === 2 && cv.view.length === 2, true, 'view offset and length');
  assertEq(cv.view.buffer, cv.u16.buffer, 'views of one buffer share the cloned buffer');
  const dv = structuredClone(new DataView(new ArrayBuffer(8), 2, 4));
  assertEq(dv instanceof DataView && dv.byteOffset === 2 && dv.byteLength === 4, true, 'DataView');
  for (const T of [Int8Array, Uint8ClampedArray, Int32Array, Float32Array, Float64Array, BigInt64Array]) {
    const t = structuredClone(new T(2));
    assertEq(t instanceof T, true, T.name);
  }
  const toTransfer = new Uint8Array([9, 8]).buffer;
  const transferred = structuredClone(toTransfer, { transfer: [toTransfer] });
  assertEq(new Uint8Array(transferred)[0], 9, 'ArrayBuffer transfer');

  // Errors.
  const err = new RangeError('out of range', { cause: 'why' });
  err.extra = 1;
  const ce = structuredClone(err);
  assertEq(ce instanceof RangeError && ce !== err, true, 'RangeError type');
  assertEq(ce.message, 'out of range', 'error message');
  assertEq(ce.name, 'RangeError', 'error name');
  assertEq(typeof ce.stack, 'string', 'error stack');
  assertEq(ce.cause, 'why', 'error cause');
  // This worker has no compatibility date: errors clone as V8 serializes them, without their other
  // own properties (enhanced_error_serialization, from 2026-04-21, keeps them: ErrorSerializationTest).
  assertEq(ce.extra, undefined, 'error own property');
  assertEq(ce.stack, err.stack, 'the stack is kept');
  let setterCalled = false;
  Object.defineProperty(Error.prototype, 'extra', { set() { setterCalled = true; }, get() { return undefined; }, configurable: true });
  try {
    assertEq(structuredClone(err).extra, undefined, 'error own property beside a prototype setter');
  } finally {
    delete Error.prototype.extra;
  }
  assertEq(setterCalled, false, 'the prototype setter is not called');
  for (const E of [Error, EvalError, ReferenceError, SyntaxError, TypeError, URIError]) {
    assertEq(structuredClone(new E('m')) instanceof E, true, E.name);
  }
  class CustomError extends Error { constructor(m) { super(m); this.name = 'CustomError'; } }
  const cc = structuredClone(new CustomError('custom'));
  assertEq(cc.constructor, Error, 'custom errors become Error');
  assertEq(cc.message, 'custom', 'custom error message');
  const de = structuredClone(new DOMException('gone', 'NotFoundError'));
  assertEq(de instanceof DOMException && de.name === 'NotFoundError' && de.message === 'gone' && de.code === 8, true, 'DOMException');
  const blob = structuredClone(new Blob(['x'], { type: 'text/plain' }));
  assertEq(blob instanceof Blob && blob.size === 1 && blob.type === 'text/plain', true, 'Blob');
  const file = structuredClone(new File(['xy'], 'f.txt', { lastModified: 42 }));
  assertEq(file instanceof File && file.name === 'f.txt' && file.lastModified === 42, true, 'File');
  // As in workerd (not in browsers): Headers are cloneable.
  const headers = structuredClone(new Headers([['a', '1'], ['set-cookie', 'x'], ['set-cookie', 'y']]));
  assertEq(headers instanceof Headers && headers.get('a') === '1' && headers.getSetCookie().length === 2, true, 'Headers');

  // Not cloneable.
  assertDataCloneError(() => structuredClone(() => {}), 'function');
  assertDataCloneError(() => structuredClone({ f() {} }), 'method');
  assertDataCloneError(() => structuredClone(Symbol('s')), 'symbol');
  assertDataCloneError(() => structuredClone({ s: Symbol('s') }), 'nested symbol');
  assertDataCloneError(() => structuredClone(new TextEncoder()), 'TextEncoder (a platform object)');
  assertDataCloneError(() => structuredClone(crypto), 'Crypto (a platform object)');
  assertDataCloneError(() => structuredClone(new WeakMap()), 'WeakMap');
  assertDataCloneError(() => structuredClone(new WeakSet()), 'WeakSet');
  assertDataCloneError(() => structuredClone(Promise.resolve()), 'Promise');
  assertDataCloneError(() => structuredClone(new TextEncoder()), 'TextEncoder');
  assertDataCloneError(() => structuredClone(new Request('https://example.com/')), 'Request');
  assertDataCloneError(() => structuredClone(new ReadableStream()), 'ReadableStream (not transferred)');
  assertDataCloneError(() => structuredClone(new AbortController().signal), 'AbortSignal');
  let threw = false;
  try { structuredClone(); } catch (e) { threw = e instanceof TypeError; }
  assertEq(threw, true, 'structuredClone() without arguments');
}

export default {
  async fetch() {
    run();
    return new Response('ok');
  },
};
