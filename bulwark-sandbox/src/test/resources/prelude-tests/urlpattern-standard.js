// URLPattern as the current URL Pattern Standard (https://urlpattern.spec.whatwg.org/) and workerd
// define it, where urlpattern-polyfill 10.1.0 is older: hostname and port canonicalization run the
// URL parser with a state override, regexp groups compile with the `v` flag, and the tokenizer reads
// code points. See docs/notes/urlpattern.md.
function assertEq(actual, expected, what) {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}
function assertTypeError(fn, what) {
  try { fn(); } catch (e) { if (!(e instanceof TypeError)) throw new Error(`${what}: threw ${e && e.name} instead of TypeError`); return; }
  throw new Error(`${what}: did not throw`);
}

function canonicalizeAHostname() {
  // "Run the basic URL parser given value with a dummy URL and hostname state as state override":
  // the host ends at "/", "?", "#", and at "\" (the dummy URL, https, is special) ...
  assertEq(new URLPattern({ hostname: 'example.com/ignoredpath' }).hostname, 'example.com', 'the host ends at /');
  assertEq(new URLPattern({ hostname: 'example.com\\?ignored' }).hostname, 'example.com', 'the host ends at ? (escaped in the pattern)');
  assertEq(new URLPattern({ hostname: 'example.com#ignored' }).hostname, 'example.com', 'the host ends at #');
  assertEq(new URLPattern({ hostname: 'example.com\\\\ignored' }).hostname, 'example.com', 'the host ends at \\ (escaped in the pattern)');
  // ... ASCII tab and newline are removed before parsing ...
  assertEq(new URLPattern({ hostname: 'exa\tmp\nle.c\rom' }).hostname, 'example.com', 'tab and newline are removed');
  // ... and the host parser canonicalizes what is left (IDNA, IPv4) or fails, which is a TypeError.
  assertEq(new URLPattern({ hostname: 'B\u00dcCHER.de' }).hostname, 'xn--bcher-kva.de', 'domain to ASCII');
  assertEq(new URLPattern({ hostname: '0x7f.1' }).hostname, '127.0.0.1', 'an IPv4 address is serialized');
  assertTypeError(() => new URLPattern({ hostname: '1.2.3.256' }), 'an IPv4 address out of range fails to parse');
  assertTypeError(() => new URLPattern({ hostname: 'bad host' }), 'a forbidden host code point');
  // Input hostnames go through the same steps ("process hostname for init" with type "url").
  const host = new URLPattern({ hostname: 'example.com' });
  assertEq(host.test({ hostname: 'EXAMPLE.com/path' }), true, 'an input hostname is canonicalized and cut');
  assertEq(host.exec({ hostname: 'ex\tample.com' }).hostname.input, 'example.com', 'the canonical input is reported');
  assertEq(new URLPattern({ hostname: '*' }).test({ hostname: '1.2.3.256' }), false, 'an input host that fails to parse matches nothing');
  assertEq(new URLPattern({ hostname: '[\\:\\:1]' }).test({ hostname: '[0:0::1]' }), true, 'an input IPv6 address is serialized');
  // A pattern string: "{.com/}" belongs to the hostname, whose canonical form is ".com".
  const p = new URLPattern('https://{sub.}?example{.com/}foo');
  assertEq([p.hostname, p.pathname], ['{sub.}?example.com', '*'], 'constructor string with a hostname group');
  assertEq(p.test('https://example.com/foo'), true, 'constructor string with a hostname group matches');
}

function canonicalizeAPort() {
  // "Run the basic URL parser given portValue with port state as state override": the leading
  // digits are the port, what follows them is ignored, tab and newline are removed.
  const p = new URLPattern({ port: '80' });
  for (const input of ['80', '80x', '80?x', '80\\x', '8\t0', '080']) {
    assertEq(p.exec({ port: input }).port.input, '80', `input port ${JSON.stringify(input)}`);
  }
  assertEq(new URLPattern({ port: '8080x' }).port, '8080', 'a pattern port is canonicalized the same way');
  assertEq(new URLPattern({ port: '0080' }).port, '80', 'leading zeros are not part of the port');
  assertTypeError(() => new URLPattern({ port: 'x' }), 'a port without a digit');
  assertTypeError(() => new URLPattern({ port: '65536' }), 'a port over 65535');
  assertEq(new URLPattern({ port: '' }).test({ port: 'x' }), false, 'an input port without a digit matches nothing');
  // The protocol's default port is the empty string, for every special scheme (wss included) ...
  assertEq(new URLPattern({ protocol: 'wss', port: '443' }).port, '', 'the default port of wss');
  assertEq(new URLPattern({ protocol: 'ws', port: '80' }).port, '', 'the default port of ws');
  assertEq(new URLPattern({ protocol: 'wss', port: '' }).test({ protocol: 'wss', port: '443' }), true, 'an input default port is empty');
  assertEq(new URLPattern({ protocol: 'http', port: '80 ' }).port, '80', 'a pattern port is cut after its digits');
  assertEq(new URLPattern({ protocol: 'http', port: '80 ' }).test({ protocol: 'http', port: '80' }), false,
    'and it is not the default port any more: the input port 80 of http is empty');
  // ... and without a protocol no port is a default one.
  assertEq(new URLPattern({ port: '443' }).port, '443', 'no protocol, no default port');
  assertEq(new URLPattern({ protocol: 'https', port: '443*' }).exec({ protocol: 'https', port: '4430' }).port.groups['0'], '0',
    'a fixed 443 inside a port pattern stays');
}

function regexpGroupsUseTheVFlag() {
  // "If options's ignore case is true then set flags to "vi", otherwise "v"".
  const difference = new URLPattern({ pathname: '/([[a-z]--a])' });
  assertEq([difference.test({ pathname: '/z' }), difference.test({ pathname: '/a' })], [true, false], 'set difference');
  const intersection = new URLPattern({ pathname: '/([\\d&&[0-1]])' });
  assertEq([intersection.test({ pathname: '/0' }), intersection.test({ pathname: '/3' })], [true, false], 'set intersection');
  assertEq(new URLPattern({ pathname: '/([[a-z]--x])' }, { ignoreCase: true }).test({ pathname: '/Q' }), true, 'ignoreCase with v');
  assertTypeError(() => new URLPattern({ pathname: '/([a-z-])' }), 'an unescaped - in a class is a syntax error with v');
  assertEq(new URLPattern({ pathname: '/([a-z\\-])' }).test({ pathname: '/-' }), true, 'an escaped - is fine');
}

function namesAreCodePoints() {
  // The tokenizer reads code points: a name may hold characters outside the BMP.
  const p = new URLPattern({ pathname: '/:a\u{10450}b' });
  assertEq(p.pathname, '/:a\u{10450}b', 'the pattern string keeps the name');
  assertEq(p.exec({ pathname: '/x' }).pathname.groups, { ['a\u{10450}b']: 'x' }, 'a name with U+10450');
  assertEq(new URLPattern({ pathname: '/:\u{20000}' }).exec({ pathname: '/foo' }).pathname.groups, { '\u{20000}': 'foo' },
    'a name starting with U+20000 (ID_Start)');
  assertEq(new URLPattern({ pathname: ':a\u{E0100}b' }).pathname, ':a\u{E0100}b', 'U+E0100 (ID_Continue) inside a name');
  assertTypeError(() => new URLPattern({ pathname: '/:\u{1F600}' }), 'U+1F600 is no identifier character');
}

export default {
  async fetch() {
    try {
      canonicalizeAHostname();
      canonicalizeAPort();
      regexpGroupsUseTheVFlag();
      namesAreCodePoints();
      return new Response('ok');
    } catch (e) {
      return new Response(`FAIL: ${e && e.stack || e}`, { status: 500 });
    }
  },
};
