// URLPattern (urlpattern-polyfill bundled, over the prelude's own URL parser), as Workers code uses it.
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
function assertThrows(fn, type, what) {
  try { fn(); } catch (e) { if (!(e instanceof type)) throw new Error(`${what}: threw ${e && e.name} instead of ${type.name}`); return; }
  throw new Error(`${what}: did not throw`);
}

async function run() {
  // Routing on the pathname.
  const books = new URLPattern({ pathname: '/books/:id' });
  assertEq(books.test('https://example.com/books/123'), true, 'test matches');
  assertEq(books.test('https://example.com/books/123/reviews'), false, 'test does not match a longer path');
  assertEq(books.test('https://example.com/books/'), false, 'an empty segment is no match');
  const m = books.exec('https://example.com/books/123?x=1#top');
  assertEq(m.pathname.input, '/books/123', 'exec pathname input');
  assertEq(m.pathname.groups.id, '123', 'named group');
  assertEq(m.search.input, 'x=1', 'search input');
  assertEq(m.hostname.groups['0'], 'example.com', 'wildcard group of an unspecified component');
  assertEq(books.exec('https://example.com/authors/1'), null, 'exec returns null on no match');
  assertEq(books.pathname, '/books/:id', 'pathname getter');
  assertEq(books.protocol, '*', 'unspecified components are wildcards');

  // A pattern string, with a base URL, and a Request's URL.
  const api = new URLPattern('/api/:version/users/:user{/}?', 'https://example.com');
  const r = api.exec(new Request('https://example.com/api/v2/users/alice/').url);
  assertEq(`${r.pathname.groups.version}|${r.pathname.groups.user}`, 'v2|alice', 'pattern string with base URL');
  assertEq(api.test('https://other.example/api/v2/users/alice'), false, 'the base URL fixes the host');
  assertEq(api.hostname, 'example.com', 'hostname from the base URL');

  // Regular expression groups, wildcards, optional and repeated parts.
  const digits = new URLPattern({ pathname: '/item/(\\d+)' });
  assertEq(digits.test('https://a.test/item/42'), true, 'regexp group matches digits');
  assertEq(digits.test('https://a.test/item/abc'), false, 'regexp group refuses letters');
  assertEq(digits.exec('https://a.test/item/42').pathname.groups['0'], '42', 'unnamed group is numbered');
  const files = new URLPattern({ pathname: '/static/*' });
  assertEq(files.exec('https://a.test/static/css/site.css').pathname.groups['0'], 'css/site.css', 'wildcard');
  const repeated = new URLPattern({ pathname: '/tags/:tag+' });
  assertEq(repeated.exec('https://a.test/tags/a/b/c').pathname.groups.tag, 'a/b/c', 'one-or-more modifier');
  const optional = new URLPattern({ pathname: '/docs/:page?' });
  assertEq(optional.test('https://a.test/docs'), true, 'optional segment absent');
  assertEq(optional.exec('https://a.test/docs/intro').pathname.groups.page, 'intro', 'optional segment present');

  // Hosts and protocols.
  const sub = new URLPattern({ protocol: 'http{s}?', hostname: ':sub.example.com' });
  assertEq(sub.exec('http://api.example.com/').hostname.groups.sub, 'api', 'hostname group');
  assertEq(sub.test('ftp://api.example.com/'), false, 'protocol pattern');
  assertEq(new URLPattern({ hostname: '*.example.com' }).test('https://a.b.example.com/x'), true, 'hostname wildcard');
  // Inputs are canonicalized by the URL parser: case, default port, dot segments, percent-encoding.
  const canon = new URLPattern({ hostname: 'example.com', port: '', pathname: '/a/b' });
  assertEq(canon.test('https://EXAMPLE.com:443/a/./c/../b'), true, 'canonicalized input');
  assertEq(new URLPattern({ pathname: '/caf\u00e9' }).pathname, '/caf%C3%A9', 'pattern pathname percent-encoded');
  assertEq(new URLPattern({ pathname: '/caf\u00e9' }).test('https://a.test/caf%C3%A9'), true, 'encoded match');

  assertEq(new URLPattern({ pathname: '/:caf\u00e9' }).exec('https://a.test/x').pathname.groups['caf\u00e9'], 'x', 'a non-ASCII group name');

  // Options and init dictionaries.
  const ci = new URLPattern({ pathname: '/Hello' }, { ignoreCase: true });
  assertEq(ci.test('https://a.test/hello'), true, 'ignoreCase');
  assertEq(new URLPattern({ pathname: '/Hello' }).test('https://a.test/hello'), false, 'case-sensitive by default');
  assertEq(books.test({ pathname: '/books/7' }), true, 'test with an init dictionary');
  assertEq(books.test('/books/7', 'https://example.com'), true, 'test with a base URL');
  assertEq(books.test('not a url'), false, 'an unparsable input does not match');

  // Errors.
  assertThrows(() => new URLPattern({ pathname: '/(' }), TypeError, 'unbalanced group');
  assertThrows(() => new URLPattern('/relative'), TypeError, 'a relative pattern string without a base URL');
  assertThrows(() => new URLPattern({ pathname: '/:id/:id' }), TypeError, 'duplicate group name');
  assertEq(typeof URLPattern, 'function', 'URLPattern is a global');
  let cloneError = null;
  try { structuredClone(books); } catch (e) { cloneError = e.name; }
  assertEq(cloneError, 'DataCloneError', 'a URLPattern cannot be cloned');
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
