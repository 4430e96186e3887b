// URLPattern's component canonicalization, as the current URL Pattern Standard defines it
// (https://urlpattern.spec.whatwg.org/#canon) and workerd implements it (through ada-url):
// each step runs the prelude's own basic URL parser with a state override on a dummy URL, so
// URLPattern and URL agree on every host and port. build.mjs makes urlpattern-polyfill 10.1.0
// call these instead of its own versions, which predate the spec's move to the URL parser
// (they refused a hostname containing "/", "?", "#", "\" or a tab instead of cutting or
// stripping it, and accepted only a port of digits).
import { basicParse, newRecord, defaultPort, HOSTNAME, PORT } from './url.js';

// "create a dummy URL": the basic URL parser on "https://dummy.invalid/".
function dummyURL() {
  return basicParse('https://dummy.invalid/');
}

/**
 * "canonicalize a hostname": the hostname state of the basic URL parser, as the URL hostname
 * setter runs it. Tab and newline are removed, the host ends at "/", "?", "#" or (the dummy URL
 * being special) "\", and the host parser (IDNA, IPv4, IPv6, forbidden code points) decides
 * what is left. Failure is a TypeError (the setter would ignore it silently).
 */
export function canonicalizeHostname(value) {
  if (value === '') return value;
  const url = dummyURL();
  if (basicParse(value, null, url, HOSTNAME) === null) throw new TypeError(`Invalid hostname '${value}'.`);
  return url.host ?? '';
}

/**
 * "canonicalize a port", given a protocol when the caller has one: the port state of the basic
 * URL parser, as the URL port setter runs it. Tab and newline are removed, the leading digits
 * are the port and whatever follows is ignored ("80x" is 80), no digit at all or a number over
 * 65535 is a TypeError, and the protocol's default port is the empty string.
 *
 * Without a protocol no port is a default one: the spec's dummy URL is https, but taken
 * literally that would turn the pattern {port: "443*"} into "*"; ada-url (workerd) and WPT
 * ("443*" matches "4430") use a scheme without a default port, and so does this.
 */
export function canonicalizePort(value, protocol = '') {
  if (value === '') return value;
  const url = newRecord();
  url.scheme = protocol;
  url.host = 'dummy.invalid';
  if (basicParse(value, null, url, PORT) === null) throw new TypeError(`Invalid port '${value}'.`);
  return url.port === null ? '' : `${url.port}`;
}

/** The default port of a special scheme, as a string; '' for any other protocol. */
export function defaultPortString(protocol) {
  const port = defaultPort(protocol);
  return port === null ? '' : `${port}`;
}

/**
 * The code point of `s` at code unit `index`, as a string (two code units for a code point
 * outside the BMP); undefined past the end. The pattern tokenizer works on code points, so a
 * group name such as ":a\u{10450}b" is one name, not a name cut at a surrogate.
 */
export function codePointAt(s, index) {
  const c = s.codePointAt(index);
  return c === undefined ? undefined : String.fromCodePoint(c);
}
