// node:url: the WHATWG URL classes, file URL helpers, and the legacy parse/format/resolve.
import { G, nodeError } from './internals.js';

function fileURLToPath(url) {
  const u = typeof url === 'string' ? new G.URL(url) : url;
  if (!(u instanceof G.URL)) throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "path" argument must be of type string or an instance of URL.');
  if (u.protocol !== 'file:') throw nodeError(TypeError, 'ERR_INVALID_URL_SCHEME', 'The URL must be of scheme file');
  if (u.hostname !== '') throw nodeError(TypeError, 'ERR_INVALID_FILE_URL_HOST', 'File URL host must be "localhost" or empty on linux');
  const path = u.pathname;
  if (/%2f/i.test(path)) throw nodeError(TypeError, 'ERR_INVALID_FILE_URL_PATH', 'File URL path must not include encoded / characters');
  return decodeURIComponent(path);
}

function pathToFileURL(path) {
  let p = `${path}`;
  if (!p.startsWith('/')) p = '/bundle/' + p; // the worker's "current directory", as process.cwd()
  const u = new G.URL('file://');
  u.pathname = p.replace(/%/g, '%25').replace(/\\/g, '%5C').replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/\t/g, '%09');
  return u;
}

function urlToHttpOptions(url) {
  const options = {
    protocol: url.protocol, hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    hash: url.hash, search: url.search, pathname: url.pathname, path: `${url.pathname || ''}${url.search || ''}`, href: url.href,
  };
  if (url.port !== '') options.port = Number(url.port);
  if (url.username || url.password) options.auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return options;
}

/** Legacy url.parse, on the WHATWG parser: the common fields of Node's Url object. */
function parse(input, parseQueryString = false) {
  const s = `${input}`;
  let u;
  let relative = false;
  try {
    u = new G.URL(s);
  } catch {
    u = new G.URL(s, 'http://relative.invalid');
    relative = true;
  }
  const query = u.search.length > 1 ? u.search.slice(1) : (parseQueryString ? '' : null);
  const auth = u.username || u.password ? `${decodeURIComponent(u.username)}${u.password ? ':' + decodeURIComponent(u.password) : ''}` : null;
  return {
    protocol: relative ? null : u.protocol,
    slashes: relative ? null : /^[a-z][a-z0-9+.-]*:\/\//i.test(s),
    auth: relative ? null : auth,
    host: relative ? null : (u.host || null),
    port: relative ? null : (u.port || null),
    hostname: relative ? null : (u.hostname || null),
    hash: u.hash || null,
    search: u.search || (parseQueryString ? '' : null),
    query: parseQueryString ? Object.fromEntries(new G.URLSearchParams(query ?? '')) : query,
    pathname: u.pathname || null,
    path: `${u.pathname}${u.search}` || null,
    href: relative ? s : u.href,
  };
}

function format(obj) {
  if (typeof obj === 'string') return obj;
  if (obj instanceof G.URL) return obj.href;
  let out = '';
  if (obj.protocol) out += obj.protocol.endsWith(':') ? obj.protocol : obj.protocol + ':';
  if (obj.slashes || obj.host || obj.hostname || /^(https?|ftp|file|wss?):?$/.test(obj.protocol ?? '')) out += '//';
  if (obj.auth) out += encodeURIComponent(obj.auth).replace(/%3A/i, ':') + '@';
  if (obj.host) out += obj.host;
  else if (obj.hostname) out += obj.hostname + (obj.port ? ':' + obj.port : '');
  if (obj.pathname) out += obj.pathname.startsWith('/') || out === '' ? obj.pathname : '/' + obj.pathname;
  if (obj.search) out += obj.search.startsWith('?') ? obj.search : '?' + obj.search;
  else if (obj.query && typeof obj.query === 'object') {
    // querystring's encoding, as Node's legacy format: spaces as %20, arrays as repeated keys.
    const q = Object.entries(obj.query).flatMap(([k, v]) => (Array.isArray(v) ? v : [v])
      .map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(x === null || x === undefined ? '' : `${x}`)}`)).join('&');
    if (q) out += '?' + q;
  } else if (typeof obj.query === 'string' && obj.query) out += '?' + obj.query;
  if (obj.hash) out += obj.hash.startsWith('#') ? obj.hash : '#' + obj.hash;
  return out;
}

function resolve(from, to) {
  const base = new G.URL(from, 'resolve://');
  const out = new G.URL(to, base);
  if (out.protocol === 'resolve:') return out.pathname + out.search + out.hash;
  return out.href;
}

function domainToASCII(domain) {
  try { return new G.URL(`http://${domain}`).hostname; } catch { return ''; }
}

export function urlModule() {
  const m = {
    URL: G.URL, URLSearchParams: G.URLSearchParams, fileURLToPath, pathToFileURL, urlToHttpOptions,
    parse, format, resolve, domainToASCII, domainToUnicode: (d) => `${d}`,
  };
  return { default: m, ...m };
}
