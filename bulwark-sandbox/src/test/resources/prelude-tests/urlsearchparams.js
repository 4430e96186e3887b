// URLSearchParams (URL Standard §6) and application/x-www-form-urlencoded.
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
function assertThrows(fn, type, what) {
  try { fn(); } catch (e) { if (!(e instanceof type)) throw new Error(`${what}: threw ${e && e.name} instead of ${type.name}`); return; }
  throw new Error(`${what}: did not throw`);
}
const pairs = (p) => JSON.stringify([...p]);

function run() {
  // Constructor forms.
  assertEq(new URLSearchParams('?a=1&b=2').toString(), 'a=1&b=2', 'leading ? stripped');
  assertEq(new URLSearchParams('??a=1').toString(), '%3Fa=1', 'only one ? stripped');
  assertEq(pairs(new URLSearchParams('a=b=c&&d&=e&f=')), '[["a","b=c"],["d",""],["","e"],["f",""]]', 'parsing edge cases');
  assertEq(pairs(new URLSearchParams('a+b=c+d&%41=%zz&%e2%82%ac=%FF')), '[["a b","c d"],["A","%zz"],["\u20ac","\ufffd"]]', 'decoding');
  assertEq(pairs(new URLSearchParams([['x', '1'], ['y', '2']])), '[["x","1"],["y","2"]]', 'sequence init');
  assertEq(pairs(new URLSearchParams({ k: 'v', n: 1 })), '[["k","v"],["n","1"]]', 'record init');
  assertEq(pairs(new URLSearchParams(new Map([['m', 'v']]))), '[["m","v"]]', 'iterable init');
  assertEq(pairs(new URLSearchParams(new URLSearchParams('c=d'))), '[["c","d"]]', 'URLSearchParams init');
  assertThrows(() => new URLSearchParams([['a', 'b', 'c']]), TypeError, 'pair with 3 items');
  assertThrows(() => new URLSearchParams([['a']]), TypeError, 'pair with 1 item');
  assertEq(new URLSearchParams({ '\uD835x': '\uDC00' }).toString(), '%EF%BF%BDx=%EF%BF%BD', 'lone surrogates become U+FFFD');
  assertEq(pairs(new URLSearchParams('x=\uD800&y+z=1&p=%2B+')), '[["x","\ufffd"],["y z","1"],["p","+ "]]', 'plain, plus and percent fields');

  // Methods.
  const p = new URLSearchParams('a=1&b=2&a=3');
  assertEq(p.size, 3, 'size');
  assertEq(p.get('a'), '1', 'get returns the first');
  assertEq(p.get('zz'), null, 'get missing');
  assertEq(JSON.stringify(p.getAll('a')), '["1","3"]', 'getAll');
  assertEq(p.has('b'), true, 'has');
  assertEq(p.has('a', '3'), true, 'has(name, value)');
  assertEq(p.has('a', '4'), false, 'has(name, value) false');
  p.set('a', 'x');
  assertEq(p.toString(), 'a=x&b=2', 'set replaces first and removes the rest');
  p.append('c', 'y z');
  p.delete('b');
  assertEq(p.toString(), 'a=x&c=y+z', 'append/delete');
  p.append('c', 'w');
  p.delete('c', 'y z');
  assertEq(p.toString(), 'a=x&c=w', 'delete(name, value)');
  const s = new URLSearchParams('z=1&a=2&z=0&b=3&a=1');
  s.sort();
  assertEq(s.toString(), 'a=2&a=1&b=3&z=1&z=0', 'stable sort by name');
  const u = new URLSearchParams('\uFFFD=x&\uD83C\uDF08=y&a=z');
  u.sort();
  assertEq([...u.keys()].join(','), 'a,\uD83C\uDF08,\uFFFD', 'sort compares code units');

  // Serialization: the application/x-www-form-urlencoded percent-encode set.
  const enc = new URLSearchParams();
  enc.append(' !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~', '\u00e9\u20ac\uD83D\uDE00\n');
  assertEq(enc.toString(), '+%21%22%23%24%25%26%27%28%29*%2B%2C-.%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E_%60%7B%7C%7D%7E=%C3%A9%E2%82%AC%F0%9F%98%80%0A', 'serializer');

  // Iteration is live and ordered.
  const it = new URLSearchParams('a=1&b=2');
  const seen = [];
  for (const [k, v] of it) { seen.push(k + v); if (k === 'a') it.append('c', '3'); }
  assertEq(seen.join(','), 'a1,b2,c3', 'live iteration');
  const fe = [];
  it.forEach(function (v, k, obj) { fe.push(`${k}=${v}`); if (obj !== it || this !== fe) throw new Error('forEach args'); }, fe);
  assertEq(fe.join('&'), 'a=1&b=2&c=3', 'forEach');
  assertEq(JSON.stringify([...it.values()]), '["1","2","3"]', 'values');
  assertEq(JSON.stringify([...it.entries()][0]), '["a","1"]', 'entries');
  assertEq(Object.prototype.toString.call(it), '[object URLSearchParams]', 'toStringTag');
  assertEq(Object.prototype.toString.call(it.keys()), '[object URLSearchParams Iterator]', 'iterator toStringTag');
  assertThrows(() => it.append('only one'), TypeError, 'append arity');
}

export default {
  async fetch() {
    run();
    return new Response('ok');
  },
};
