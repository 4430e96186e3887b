// WHATWG URL Standard conformance: parsing (cases in the style of WPT urltestdata, expected
// values per the current standard), setters, origins, hosts (IPv4/IPv6/IDNA), API surface.
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
function assertThrows(fn, type, what) {
  try { fn(); } catch (e) { if (!(e instanceof type)) throw new Error(`${what}: threw ${e && e.name} instead of ${type.name}`); return; }
  throw new Error(`${what}: did not throw`);
}

function run() {
// [input, base, href | null (failure), origin, host, pathname, search, hash]
const parsing = [
  ["http://example\t.\norg", "http://example.org/foo/bar", "http://example.org/", "http://example.org", "example.org", "/", "", ""],
  ["http://user:pass@foo:21/bar;par?b#c", "http://example.org/foo/bar", "http://user:pass@foo:21/bar;par?b#c", "http://foo:21", "foo:21", "/bar;par", "?b", "#c"],
  ["https://test:@test", null, "https://test@test/", "https://test", "test", "/", "", ""],
  ["non-special://test:@test/x", null, "non-special://test@test/x", "null", "test", "/x", "", ""],
  ["http:foo.com", "http://example.org/foo/bar", "http://example.org/foo/foo.com", "http://example.org", "example.org", "/foo/foo.com", "", ""],
  ["\t   :foo.com   \n", "http://example.org/foo/bar", "http://example.org/foo/:foo.com", "http://example.org", "example.org", "/foo/:foo.com", "", ""],
  ["a:\t foo.com", "http://example.org/foo/bar", "a: foo.com", "null", "", " foo.com", "", ""],
  ["http://f:21/ b ? d # e ", "http://example.org/foo/bar", "http://f:21/%20b%20?%20d%20#%20e", "http://f:21", "f:21", "/%20b%20", "?%20d%20", "#%20e"],
  ["lolscheme:x x#x x", null, "lolscheme:x x#x%20x", "null", "", "x x", "", "#x%20x"],
  ["http://f:/c", "http://example.org/foo/bar", "http://f/c", "http://f", "f", "/c", "", ""],
  ["http://f:00000000000000000000080/c", "http://example.org/foo/bar", "http://f/c", "http://f", "f", "/c", "", ""],
  ["http://f:b/c", "http://example.org/foo/bar", null],
  ["http://f:999999/c", "http://example.org/foo/bar", null],
  ["", "http://example.org/foo/bar", "http://example.org/foo/bar", "http://example.org", "example.org", "/foo/bar", "", ""],
  [":foo.com\\", "http://example.org/foo/bar", "http://example.org/foo/:foo.com/", "http://example.org", "example.org", "/foo/:foo.com/", "", ""],
  ["#;?", "http://example.org/foo/bar", "http://example.org/foo/bar#;?", "http://example.org", "example.org", "/foo/bar", "", "#;?"],
  ["\\\\x\\hello", "http://example.org/foo/bar", "http://x/hello", "http://x", "x", "/hello", "", ""],
  ["foo://", "http://example.org/foo/bar", "foo://", "null", "", "", "", ""],
  ["http::@c:29", "http://example.org/foo/bar", "http://example.org/foo/:@c:29", "http://example.org", "example.org", "/foo/:@c:29", "", ""],
  ["http://&a:foo(b]c@d:2/", "http://example.org/foo/bar", "http://&a:foo(b%5Dc@d:2/", "http://d:2", "d:2", "/", "", ""],
  ["http://::@c@d:2", "http://example.org/foo/bar", "http://:%3A%40c@d:2/", "http://d:2", "d:2", "/", "", ""],
  ["http://foo.com/\\@", "http://example.org/foo/bar", "http://foo.com//@", "http://foo.com", "foo.com", "//@", "", ""],
  ["http:\\\\a\\b:c\\d@foo.com\\", "http://example.org/foo/bar", "http://a/b:c/d@foo.com/", "http://a", "a", "/b:c/d@foo.com/", "", ""],
  ["foo:////://///", "http://example.org/foo/bar", "foo:////://///", "null", "", "//://///", "", ""],
  ["c:/foo", "http://example.org/foo/bar", "c:/foo", "null", "", "/foo", "", ""],
  ["//foo/bar", "http://example.org/foo/bar", "http://foo/bar", "http://foo", "foo", "/bar", "", ""],
  ["http://foo/path;a??e#f#g", "http://example.org/foo/bar", "http://foo/path;a??e#f#g", "http://foo", "foo", "/path;a", "??e", "#f#g"],
  ["[61:24:74]:98", "http://example.org/foo/bar", "http://example.org/foo/[61:24:74]:98", "http://example.org", "example.org", "/foo/[61:24:74]:98", "", ""],
  ["http://[1::2]:3:4", "http://example.org/foo/bar", null],
  ["http://2001::1", "http://example.org/foo/bar", null],
  ["http://[::127.0.0.1]", "http://example.org/foo/bar", "http://[::7f00:1]/", "http://[::7f00:1]", "[::7f00:1]", "/", "", ""],
  ["http://[0:0:0:0:0:0:13.1.68.3]", "http://example.org/foo/bar", "http://[::d01:4403]/", "http://[::d01:4403]", "[::d01:4403]", "/", "", ""],
  ["http:/example.com/", "http://example.org/foo/bar", "http://example.org/example.com/", "http://example.org", "example.org", "/example.com/", "", ""],
  ["madeupscheme:/example.com/", "http://example.org/foo/bar", "madeupscheme:/example.com/", "null", "", "/example.com/", "", ""],
  ["file:/example.com/", "http://example.org/foo/bar", "file:///example.com/", "null", "", "/example.com/", "", ""],
  ["http:example.com/", "http://example.org/foo/bar", "http://example.org/foo/example.com/", "http://example.org", "example.org", "/foo/example.com/", "", ""],
  ["madeupscheme:example.com/", "http://example.org/foo/bar", "madeupscheme:example.com/", "null", "", "example.com/", "", ""],
  ["/a/ /c", "http://example.org/foo/bar", "http://example.org/a/%20/c", "http://example.org", "example.org", "/a/%20/c", "", ""],
  ["/a/%2f/c", "http://example.org/foo/bar", "http://example.org/a/%2f/c", "http://example.org", "example.org", "/a/%2f/c", "", ""],
  ["#\u03b2", "http://example.org/foo/bar", "http://example.org/foo/bar#%CE%B2", "http://example.org", "example.org", "/foo/bar", "", "#%CE%B2"],
  ["data:text/html,test#test", "http://example.org/foo/bar", "data:text/html,test#test", "null", "", "text/html,test", "", "#test"],
  ["file:c:\\foo\\bar.html", "file:///tmp/mock/path", "file:///c:/foo/bar.html", "null", "", "/c:/foo/bar.html", "", ""],
  ["  File:c|////foo\\bar.html", "file:///tmp/mock/path", "file:///c:////foo/bar.html", "null", "", "/c:////foo/bar.html", "", ""],
  ["C|/foo/bar", "file:///tmp/mock/path", "file:///C:/foo/bar", "null", "", "/C:/foo/bar", "", ""],
  ["\\\\server\\file", "file:///tmp/mock/path", "file://server/file", "null", "server", "/file", "", ""],
  ["file:///foo/bar.txt", "file:///tmp/mock/path", "file:///foo/bar.txt", "null", "", "/foo/bar.txt", "", ""],
  ["///test", "file:///tmp/mock/path", "file:///test", "null", "", "/test", "", ""],
  ["file://localhost/test", "file:///tmp/mock/path", "file:///test", "null", "", "/test", "", ""],
  ["test", "file:///tmp/mock/path", "file:///tmp/mock/test", "null", "", "/tmp/mock/test", "", ""],
  ["http://example.com/foo/bar/../ton/../../a", null, "http://example.com/a", "http://example.com", "example.com", "/a", "", ""],
  ["http://example.com/foo/%2e%2", null, "http://example.com/foo/%2e%2", "http://example.com", "example.com", "/foo/%2e%2", "", ""],
  ["http://example.com/foo/%2e./%2e%2e/.%2e/%2e.bar", null, "http://example.com/%2e.bar", "http://example.com", "example.com", "/%2e.bar", "", ""],
  ["http://example.com////../..", null, "http://example.com//", "http://example.com", "example.com", "//", "", ""],
  ["http://example.com/foo%2\u00c2\u00a9zbar", null, "http://example.com/foo%2%C3%82%C2%A9zbar", "http://example.com", "example.com", "/foo%2%C3%82%C2%A9zbar", "", ""],
  ["http://example.com/foo\t\u0091%91", null, "http://example.com/foo%C2%91%91", "http://example.com", "example.com", "/foo%C2%91%91", "", ""],
  ["http://example.com/\u4f60\u597d\u4f60\u597d", null, "http://example.com/%E4%BD%A0%E5%A5%BD%E4%BD%A0%E5%A5%BD", "http://example.com", "example.com", "/%E4%BD%A0%E5%A5%BD%E4%BD%A0%E5%A5%BD", "", ""],
  ["http://example.com/\ufeff/foo", null, "http://example.com/%EF%BB%BF/foo", "http://example.com", "example.com", "/%EF%BB%BF/foo", "", ""],
  ["http://www.google.com/foo?bar=baz# \u00bb", null, "http://www.google.com/foo?bar=baz#%20%C2%BB", "http://www.google.com", "www.google.com", "/foo", "?bar=baz", "#%20%C2%BB"],
  ["http://192.0x00A80001", null, "http://192.168.0.1/", "http://192.168.0.1", "192.168.0.1", "/", "", ""],
  ["http://user:pass@/", null, null],
  ["http://%25DOMAIN:foobar@foodomain.com/", null, "http://%25DOMAIN:foobar@foodomain.com/", "http://foodomain.com", "foodomain.com", "/", "", ""],
  ["http://foo:-80/", null, null],
  ["https://foo:443/", null, "https://foo/", "https://foo", "foo", "/", "", ""],
  ["wss://foo:443/", null, "wss://foo/", "wss://foo", "foo", "/", "", ""],
  ["ws://foo:815/", null, "ws://foo:815/", "ws://foo:815", "foo:815", "/", "", ""],
  ["http:/:@/www.example.com", null, null],
  ["http://@:www.example.com", null, null],
  ["http://www.@pple.com", null, "http://www.@pple.com/", "http://pple.com", "pple.com", "/", "", ""],
  ["http://example example.com", null, null],
  ["http://Goo%20 goo%7C|.com", null, null],
  ["http://[]", null, null],
  ["http://GOO\u00a0\u3000goo.com", null, null],
  ["http://GOO\u200b\u2060\ufeffgoo.com", null, "http://googoo.com/", "http://googoo.com", "googoo.com", "/", "", ""],
  ["http://www.foo\u3002bar.com", null, "http://www.foo.bar.com/", "http://www.foo.bar.com", "www.foo.bar.com", "/", "", ""],
  ["http://\uff27\uff4f.com", null, "http://go.com/", "http://go.com", "go.com", "/", "", ""],
  ["http://\uff05\uff14\uff11.com", null, null],
  ["http://%30%78%63%30%2e%30%32%35%30.01", null, "http://192.168.0.1/", "http://192.168.0.1", "192.168.0.1", "/", "", ""],
  ["http://192.168.0.257", null, null],
  ["http://192.168.0.1 hello", null, null],
  ["http://./", null, "http://./", "http://.", ".", "/", "", ""],
  ["http://../", null, "http://../", "http://..", "..", "/", "", ""],
  ["http://[www.google.com]/", null, null],
  ["http://host/?'", null, "http://host/?%27", "http://host", "host", "/", "?%27", ""],
  ["notspecial://host/?'", null, "notspecial://host/?'", "null", "host", "/", "?'", ""],
  ["sc::a@example.net", null, "sc::a@example.net", "null", "", ":a@example.net", "", ""],
  ["sc://\u00f1.test/", null, "sc://%C3%B1.test/", "null", "%C3%B1.test", "/", "", ""],
  ["sc://\u001f!\"$&'()*+,-.;=_`{}~/", null, "sc://%1F!\"$&'()*+,-.;=_`{}~/", "null", "%1F!\"$&'()*+,-.;=_`{}~", "/", "", ""],
  ["sc://%/", null, "sc://%/", "null", "%", "/", "", ""],
  ["sc://[/", null, null],
  ["sc://\\/", null, null],
  ["ftp://example.com%80/", null, null],
  ["https://%e2%98%83", null, "https://xn--n3h/", "https://xn--n3h", "xn--n3h", "/", "", ""],
  ["h\tt\nt\rp://h\to\ns\rt:9\t0\n0\r0/p\ta\nt\rh?q\tu\ne\rry#f\tr\na\rg", null, "http://host:9000/path?query#frag", "http://host:9000", "host:9000", "/path", "?query", "#frag"],
  ["file://example:1/", null, null],
  ["http://0..0x300/", null, null],
  ["http://1.2.3.08", null, null],
  ["http://09.2.3.4", null, null],
  ["http://0x100.2.3.4", null, null],
  ["http://foo.0x4", null, null],
  ["http://0999999999999999999/", null, null],
  ["http://foo.0XFfFfFfFfFfFfFfFfFfAcE123", null, null],
  ["http://[::1.2.3.4x]", null, null],
  ["http://[0:0::0:0:8]", null, "http://[::8]/", "http://[::8]", "[::8]", "/", "", ""],
  ["http://[1:0:0:2::3:0]", null, "http://[1::2:0:0:3:0]/", "http://[1::2:0:0:3:0]", "[1::2:0:0:3:0]", "/", "", ""],
  ["http://[1::0:0:0]", null, "http://[1::]/", "http://[1::]", "[1::]", "/", "", ""],
  ["blob:https://example.com:443/", null, "blob:https://example.com:443/", "https://example.com", "", "https://example.com:443/", "", ""],
  ["blob:d3958f5c-0777-0845-9dcf-2cb28783acaf", null, "blob:d3958f5c-0777-0845-9dcf-2cb28783acaf", "null", "", "d3958f5c-0777-0845-9dcf-2cb28783acaf", "", ""],
  ["non-spec:/.//", null, "non-spec:/.//", "null", "", "//", "", ""],
  ["non-spec:/a/..//path", null, "non-spec:/.//path", "null", "", "//path", "", ""],
  ["file:///C%3A/", null, "file:///C%3A/", "null", "", "/C%3A/", "", ""],
  ["file://C|/", null, "file:///C:/", "null", "", "/C:/", "", ""],
  ["file://localhost//a//../..//", null, "file://///", "null", "", "///", "", ""],
  ["\\\\\\.\\Y:", "file:///", "file:///Y:", "null", "", "/Y:", "", ""],
  ["/../C:/", "file:///", "file:///C:/", "null", "", "/C:/", "", ""],
  ["C|\n/", "file://host/dir/file", "file://host/C:/", "null", "host", "/C:/", "", ""],
  ["http://example.org/test?\u2323", null, "http://example.org/test?%E2%8C%A3", "http://example.org", "example.org", "/test", "?%E2%8C%A3", ""],
  ["http://example.org/test?a#%GH", null, "http://example.org/test?a#%GH", "http://example.org", "example.org", "/test", "?a", "#%GH"],
  ["non-spec:/test?a#b\u0000c", null, "non-spec:/test?a#b%00c", "null", "", "/test", "?a", "#b%00c"],
  ["a1234567890-+.:foo/bar", "http://example.org/foo/bar", "a1234567890-+.:foo/bar", "null", "", "foo/bar", "", ""],
  ["http://ex%0D%0Aample.com/", null, null],
  ["https://x/\u0000y", null, "https://x/%00y", "https://x", "x", "/%00y", "", ""],
  ["http://B\u00fccher.example/", null, "http://xn--bcher-kva.example/", "http://xn--bcher-kva.example", "xn--bcher-kva.example", "/", "", ""],
  ["http://xn--zca.com", null, "http://xn--zca.com/", "http://xn--zca.com", "xn--zca.com", "/", "", ""],
  ["https://fa\u00df.ExAmPlE/", null, "https://xn--fa-hia.example/", "https://xn--fa-hia.example", "xn--fa-hia.example", "/", "", ""],
  ["http://a..b", null, "http://a..b/", "http://a..b", "a..b", "/", "", ""],
  ["http://xn--ls8h.la/", null, "http://xn--ls8h.la/", "http://xn--ls8h.la", "xn--ls8h.la", "/", "", ""],
  ["http://xn--/", null, null],
  ["http://xn--a.com", null, null],
  ["https://%C2%AD/", null, null],
  ["http://[::%31]", null, null],
  ["mailto:user@example.com", null, "mailto:user@example.com", "null", "", "user@example.com", "", ""],
  ["urn:isbn:0451450523", null, "urn:isbn:0451450523", "null", "", "isbn:0451450523", "", ""],
  // Current-standard behaviour: U+005E (^) is in the path percent-encode set; a space before
  // ? or # in an opaque path is encoded; an opaque-path base only accepts fragments.
  ["http://example.com/foo/^", null, "http://example.com/foo/%5E", "http://example.com", "example.com", "/foo/%5E", "", ""],
  ["non-special:opaque  ?hi", null, "non-special:opaque %20?hi", "null", "", "opaque %20", "?hi", ""],
  ["non-special:opaque  x?hi", null, "non-special:opaque  x?hi", "null", "", "opaque  x", "?hi", ""],
  ["non-special:opaque  #hi", null, "non-special:opaque %20#hi", "null", "", "opaque %20", "", "#hi"],
  [":#", "about:blank", null],
  ["#x", "about:blank", "about:blank#x", "null", "", "blank", "", "#x"],
  ["sc://h/p", "about:blank", "sc://h/p", "null", "h", "/p", "", ""],
];

let n = 0;
for (const [input, base, href, origin, host, pathname, search, hash] of parsing) {
  n++;
  const what = `new URL(${JSON.stringify(input)}${base === null ? '' : `, ${JSON.stringify(base)}`})`;
  if (href === null) {
    assertThrows(() => (base === null ? new URL(input) : new URL(input, base)), TypeError, what);
    assertEq(URL.canParse(input, base ?? undefined), false, `URL.canParse for ${what}`);
    assertEq(URL.parse(input, base ?? undefined), null, `URL.parse for ${what}`);
    continue;
  }
  const u = base === null ? new URL(input) : new URL(input, base);
  assertEq(u.href, href, `${what}.href`);
  assertEq(u.origin, origin, `${what}.origin`);
  assertEq(u.host, host, `${what}.host`);
  assertEq(u.pathname, pathname, `${what}.pathname`);
  assertEq(u.search, search, `${what}.search`);
  assertEq(u.hash, hash, `${what}.hash`);
  assertEq(new URL(u.href).href, href, `${what} re-parses to itself`);
  assertEq(URL.canParse(input, base ?? undefined), true, `URL.canParse for ${what}`);
  assertEq(URL.parse(input, base ?? undefined).href, href, `URL.parse for ${what}`);
}

// Components of a full URL.
const full = new URL('https://user:p%40ss@sub.EXAMPLE.com:8443/a/./b/../c?x=1&y=%20#frag');
assertEq(full.protocol, 'https:', 'protocol');
assertEq(full.username, 'user', 'username');
assertEq(full.password, 'p%40ss', 'password');
assertEq(full.hostname, 'sub.example.com', 'hostname');
assertEq(full.port, '8443', 'port');
assertEq(full.pathname, '/a/c', 'pathname');
assertEq(full.searchParams.get('y'), ' ', 'searchParams decoding');
assertEq(full.toString(), full.href, 'toString');
assertEq(full.toJSON(), full.href, 'toJSON');
assertEq(JSON.stringify({ u: full }), `{"u":"${full.href}"}`, 'JSON.stringify');
assertEq(Object.prototype.toString.call(full), '[object URL]', 'toStringTag');
assertEq(new URL('HTTP://EXAMPLE.COM:80/').href, 'http://example.com/', 'default port dropped, lower-cased');
assertEq(new URL('http://[2001:DB8:0:0:0:0:0:1]:8080/').host, '[2001:db8::1]:8080', 'IPv6 compression');
assertEq(new URL('http://[1:0:0:2:0:0:0:3]/').hostname, '[1:0:0:2::3]', 'IPv6 compresses the longest zero run');
assertEq(new URL('http://0x7f.1/').hostname, '127.0.0.1', 'IPv4 hex and short forms');
assertEq(new URL('http://4294967295/').hostname, '255.255.255.255', 'IPv4 single number');
assertThrows(() => new URL('http://4294967296/'), TypeError, 'IPv4 out of range');
assertThrows(() => new URL('/relative'), TypeError, 'relative without base');
assertThrows(() => new URL('http://example.com', 'not a base'), TypeError, 'invalid base');
assertThrows(() => new URL(), TypeError, 'missing argument');
assertEq(new URL('https://example.com/\uD800').pathname, '/%EF%BF%BD', 'lone surrogate becomes U+FFFD');
assertEq(new URL('https://example.com/a', new URL('https://base.test/x')).href, 'https://example.com/a', 'URL object as base');

// Setters (spec examples and edge cases).
const setter = (href, prop, value, expected) => {
  const u = new URL(href);
  u[prop] = value;
  assertEq(u.href, expected, `new URL(${JSON.stringify(href)}).${prop} = ${JSON.stringify(value)}`);
};
setter('http://example.com/', 'protocol', 'https', 'https://example.com/');
setter('http://example.com/', 'protocol', 'HTTPS:', 'https://example.com/');
setter('http://example.com/', 'protocol', 'sc', 'http://example.com/');
setter('sc://x/', 'protocol', 'http', 'sc://x/');
setter('https://example.com:80/', 'protocol', 'http', 'http://example.com/');
setter('file:///x', 'protocol', 'http', 'file:///x');
setter('http://example.com/', 'protocol', 'a b', 'http://example.com/');
setter('http://example.com/', 'username', 'us er@', 'http://us%20er%40@example.com/');
setter('http://example.com/', 'password', 'p:w', 'http://:p%3Aw@example.com/');
setter('file:///x', 'username', 'me', 'file:///x');
setter('http://example.com/', 'host', 'example.org:81', 'http://example.org:81/');
setter('http://example.com:81/', 'host', 'example.org', 'http://example.org:81/');
setter('http://example.com/', 'host', '', 'http://example.com/');
setter('sc://x/', 'host', '', 'sc:///');
setter('http://example.com/', 'host', 'a:b', 'http://a/');
setter('http://example.com/', 'host', 'x y', 'http://example.com/');
setter('http://example.com/', 'hostname', 'example.org:81', 'http://example.com/');
setter('http://example.com/', 'hostname', '[::1]', 'http://[::1]/');
setter('mailto:me@x', 'host', 'example.org', 'mailto:me@x');
setter('http://example.com/', 'port', '8080', 'http://example.com:8080/');
setter('http://example.com:8080/', 'port', '', 'http://example.com/');
setter('http://example.com/', 'port', '80', 'http://example.com/');
setter('http://example.com/', 'port', '8080stuff', 'http://example.com:8080/');
setter('http://example.com/', 'port', 'abc', 'http://example.com/');
setter('http://example.com/', 'port', '65536', 'http://example.com/');
setter('http://example.com/', 'pathname', '/a b/c', 'http://example.com/a%20b/c');
setter('http://example.com/', 'pathname', 'x/../y', 'http://example.com/y');
setter('http://example.com/', 'pathname', '?#', 'http://example.com/%3F%23');
setter('sc://h/p', 'pathname', '/..', 'sc://h/');
setter('http://example.com/?a=1', 'search', 'b=2 3', 'http://example.com/?b=2%203');
setter('http://example.com/?a=1', 'search', '', 'http://example.com/');
setter('http://example.com/', 'search', '??x', 'http://example.com/??x');
setter('http://example.com/', 'hash', 'a b', 'http://example.com/#a%20b');
setter('http://example.com/#x', 'hash', '', 'http://example.com/');
setter('http://example.com/', 'hash', '##', 'http://example.com/##');
setter('sc:opaque   #frag', 'hash', '', 'sc:opaque  %20');
setter('http://example.com/', 'href', 'https://other.test/p?q', 'https://other.test/p?q');
assertThrows(() => { new URL('http://example.com/').href = 'not a url'; }, TypeError, 'href setter failure');

// searchParams is live in both directions.
const live = new URL('https://example.com/?a=1&b=2');
live.searchParams.append('c', '3 4');
assertEq(live.href, 'https://example.com/?a=1&b=2&c=3+4', 'searchParams.append updates href');
live.search = '?z=9';
assertEq(live.searchParams.get('z'), '9', 'search setter updates searchParams');
assertEq(live.searchParams.has('a'), false, 'search setter replaces params');
live.searchParams.delete('z');
assertEq(live.href, 'https://example.com/', 'emptied searchParams removes the ?');
const opaque = new URL('data:space    ?query');
opaque.searchParams.delete('query');
assertEq(opaque.href, 'data:space   %20', 'spaces stay encoded when the query is removed');

// Origins.
assertEq(new URL('blob:https://example.com:443/uuid').origin, 'https://example.com', 'blob: origin');
assertEq(new URL('blob:ftp://example.com/').origin, 'null', 'blob:ftp origin');
assertEq(new URL('file:///etc/hosts').origin, 'null', 'file origin');
assertEq(new URL('ws://example.com:80/').origin, 'ws://example.com', 'ws origin');

// Punycode / IDNA basics.
assertEq(new URL('https://\u00FC.example/').hostname, 'xn--tda.example', 'IDNA encoding');
assertEq(new URL('https://XN--TDA.example/').hostname, 'xn--tda.example', 'xn-- labels are lower-cased');
assertEq(new URL('https://\u0130stanbul.example/').hostname, 'xn--istanbul-o0e.example', 'dotted capital I maps to i + U+0307');
assertEq(new URL('https://\uFF21\uFF22\uFF23.example/').hostname, 'abc.example', 'full-width letters');
assertEq(new URL('https://a\u00ADb.example/').hostname, 'ab.example', 'soft hyphen is ignored');
assertThrows(() => new URL('https://xn--ab\u00FC/'), TypeError, 'non-ASCII in an xn-- label');
// UTS #46 validity (ICU on the host): Bidi and CONTEXTJ rules, disallowed code points.
assertEq(new URL('https://\u0628\u0627.example/').hostname, 'xn--mgbb.example', 'an RTL label passes the Bidi rule');
assertThrows(() => new URL('https://a\u200Cb.example/'), TypeError, 'ZWNJ outside a joining context (CONTEXTJ)');
assertThrows(() => new URL('https://\u05D0a1.example/'), TypeError, 'an RTL label ending in a Latin letter (Bidi rule)');
assertThrows(() => new URL('https://a\uFFFFb.example/'), TypeError, 'a noncharacter is disallowed');
// A hostile host: far past any real one, refused before ICU copies it.
assertThrows(() => new URL('https://' + '\u00FC'.repeat(70000) + '.example/'), TypeError, 'a 70,000-character host');
assertEq(new URL('https://' + '\u00FC'.repeat(60) + '.example/').hostname.startsWith('xn--'), true, 'a long label still encodes (VerifyDnsLength off)');

  return n;
}

export default {
  async fetch() {
    const n = run();
    if (n < 120) throw new Error(`only ${n} parsing cases ran`);
    return new Response('ok');
  },
};
