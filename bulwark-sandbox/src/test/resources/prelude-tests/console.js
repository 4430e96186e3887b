// console: every method accepts any value without throwing (cycles, symbols, BigInt, proxies,
// throwing getters, huge structures), format directives are accepted, navigator.userAgent.
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

function run() {
  const cyclic = { name: 'cycle', list: [1, 2] };
  cyclic.self = cyclic;
  cyclic.list.push(cyclic.list);
  const m = new Map([['k', cyclic]]);
  m.set('m', m);
  const withGetter = { get boom() { throw new Error('getter must not be invoked'); } };
  const nullProto = Object.create(null);
  nullProto.x = 1;
  const revocable = Proxy.revocable({}, {});
  revocable.revoke();
  class Custom { constructor() { this.field = 'v'; } }
  const err = new TypeError('an error', { cause: new Error('the cause') });
  err.code = 'E_CODE';
  const deep = { a: { b: { c: { d: { e: { f: 'deep' } } } } } };
  const big = Array.from({ length: 150 }, (_, i) => i);
  const values = [
    'string', '', 42, -0, NaN, Infinity, 10n, true, null, undefined, Symbol('sym'), Symbol(),
    cyclic, m, new Set([cyclic, 1]), withGetter, nullProto, revocable.proxy, new Proxy({ a: 1 }, {}),
    new Custom(), err, new DOMException('dom', 'AbortError'), deep, big, new Array(5), [1, , 3],
    new Uint8Array([1, 2, 3]), new ArrayBuffer(4), new DataView(new ArrayBuffer(2)), new Date(0), new Date(NaN), /re/g,
    () => {}, function named() {}, async function asyncFn() {}, function* gen() {}, class K {}, class L extends Custom {},
    Promise.resolve(1), new WeakMap(), new WeakSet(), Object(1), Object('str'), Object(Symbol('boxed')),
    new Headers({ a: '1' }), new Request('https://example.com/'), new Response('x'), new URL('https://example.com/?q'),
    new URLSearchParams('a=1'), new Blob(['x']), new FormData(), new AbortController().signal, new Event('e'),
    new ReadableStream(), crypto, globalThis.navigator, { [Symbol('key')]: 'symbol-keyed', 'needs quotes': 1, 'x\n': '\u0001' },
    'x'.repeat(2000),
  ];
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir', 'table', 'dirxml']) {
    for (const v of values) {
      const r = console[method](v);
      if (r !== undefined) throw new Error(`console.${method} returned a value`);
    }
    console[method](...values.slice(0, 20));
  }
  console.log('%s is %d years and %i days; %f; %j; %o; %O; %c styled; 100%% %x', 'Bob', 42.5, 3.9, '1.5', { j: [1] }, { o: 1 }, { O: 2 }, 'color: red');
  console.log('%s %d %j', 1n, Symbol('s'), cyclic);
  console.log('%s', cyclic, 'extra', 1);
  console.log('%d');
  console.assert(true, 'not printed');
  console.assert(false, 'printed: %s', 'assertion');
  console.assert(false);
  console.count();
  console.count('label');
  console.countReset('label');
  console.group('group');
  console.log('inside group');
  console.groupCollapsed();
  console.groupEnd();
  console.groupEnd();
  console.groupEnd();
  console.time('t');
  console.timeLog('t', 'extra');
  console.timeEnd('t');
  console.timeEnd('no-such-label');
  console.log();
  assertEq(typeof console.log, 'function', 'console.log');
  assertEq(navigator.userAgent, 'Cloudflare-Workers', 'navigator.userAgent');
  assertEq(self, globalThis, 'self');
}

export default {
  async fetch() {
    run();
    return new Response('ok');
  },
};
