// WHATWG URL Standard: URL parser (all schemes), URL and URLSearchParams.
// IDNA: ASCII domains are handled exactly; non-ASCII domains get a simplified UTS #46
// mapping (ignored code points, full-width forms, lower-casing, NFC where available)
// followed by Punycode (RFC 3492). Full UTS #46 tables are not bundled to keep the prelude small.
import { toUSVString, toDOMString, webidlClass, makeIteratorClass, createPairIterator, isObjectLike, illegalConstructor, asciiLower } from './util.js';
import { utf8Encode, utf8DecodeReplace } from './encoding.js';
import { inspectCustom } from './console.js';
import { H } from './host.js';

// ---------------------------------------------------------------------------------------
// Percent-encoding

const C0 = 0, FRAGMENT = 1, QUERY = 2, SPECIAL_QUERY = 3, PATH = 4, USERINFO = 5, COMPONENT = 6, FORM = 7;
const encodeSets = [];
{
  const make = (base, extra) => { const s = new Uint8Array(128); if (base) s.set(base); for (const ch of extra) s[ch.charCodeAt(0)] = 1; return s; };
  const c0 = new Uint8Array(128);
  for (let i = 0; i < 0x20; i++) c0[i] = 1;
  c0[0x7f] = 1;
  encodeSets[C0] = c0;
  encodeSets[FRAGMENT] = make(c0, ' "<>`');
  encodeSets[QUERY] = make(c0, ' "#<>');
  encodeSets[SPECIAL_QUERY] = make(encodeSets[QUERY], "'");
  encodeSets[PATH] = make(encodeSets[QUERY], '?^`{}');
  encodeSets[USERINFO] = make(encodeSets[PATH], '/:;=@[\\]|');
  encodeSets[COMPONENT] = make(encodeSets[USERINFO], '$%&+,');
  encodeSets[FORM] = make(encodeSets[COMPONENT], "!'()~");
}
const hexUpper = '0123456789ABCDEF';
function pctByte(b) { return '%' + hexUpper[b >> 4] + hexUpper[b & 15]; }

/** UTF-8 percent-encode one code point (given as a string) using a percent-encode set. */
function encodeCodePoint(ch, set) {
  const c = ch.codePointAt(0);
  if (c < 0x80) return encodeSets[set][c] ? pctByte(c) : ch;
  const bytes = utf8Encode(ch);
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += pctByte(bytes[i]);
  return out;
}
/** UTF-8 percent-encode a whole string. */
function encodeString(s, set, spaceAsPlus = false) {
  let out = '';
  let plainStart = 0;
  const table = encodeSets[set];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80 && !table[c] && !(spaceAsPlus && c === 0x20)) continue;
    out += s.slice(plainStart, i);
    if (spaceAsPlus && c === 0x20) out += '+';
    else if (c < 0x80) out += pctByte(c);
    else {
      let end = i + 1;
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) end = i + 2;
      const bytes = utf8Encode(s.slice(i, end));
      for (let j = 0; j < bytes.length; j++) out += pctByte(bytes[j]);
      i = end - 1;
    }
    plainStart = i + 1;
  }
  return out + s.slice(plainStart);
}
function hexVal(c) {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}
/** Percent-decode bytes. */
function percentDecodeBytes(bytes) {
  const out = new Uint8Array(bytes.length);
  let p = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x25 && i + 2 < bytes.length) {
      const h = hexVal(bytes[i + 1]), l = hexVal(bytes[i + 2]);
      if (h >= 0 && l >= 0) { out[p++] = (h << 4) | l; i += 2; continue; }
    }
    out[p++] = b;
  }
  return out.subarray(0, p);
}
function percentDecodeString(s) {
  return percentDecodeBytes(utf8Encode(s));
}

// ---------------------------------------------------------------------------------------
// Punycode (RFC 3492)

const PC_BASE = 36, PC_TMIN = 1, PC_TMAX = 26, PC_SKEW = 38, PC_DAMP = 700, PC_BIAS = 72, PC_N = 128;
const MAXINT = 0x7fffffff;
function pcAdapt(delta, numPoints, firstTime) {
  delta = firstTime ? Math.floor(delta / PC_DAMP) : delta >> 1;
  delta += Math.floor(delta / numPoints);
  let k = 0;
  while (delta > ((PC_BASE - PC_TMIN) * PC_TMAX) >> 1) {
    delta = Math.floor(delta / (PC_BASE - PC_TMIN));
    k += PC_BASE;
  }
  return k + Math.floor(((PC_BASE - PC_TMIN + 1) * delta) / (delta + PC_SKEW));
}
function pcDigit(d) { return String.fromCharCode(d < 26 ? 97 + d : 22 + d); }
function pcThreshold(k, bias) { return k <= bias ? PC_TMIN : k >= bias + PC_TMAX ? PC_TMAX : k - bias; }

export function punycodeEncode(str) {
  const input = Array.from(str, (ch) => ch.codePointAt(0));
  let n = PC_N, delta = 0, bias = PC_BIAS;
  let output = '';
  for (const c of input) if (c < 0x80) output += String.fromCharCode(c);
  const b = output.length;
  let h = b;
  if (b > 0) output += '-';
  while (h < input.length) {
    let m = MAXINT;
    for (const c of input) if (c >= n && c < m) m = c;
    if (m - n > Math.floor((MAXINT - delta) / (h + 1))) return null;
    delta += (m - n) * (h + 1);
    n = m;
    for (const c of input) {
      if (c < n && ++delta > MAXINT) return null;
      if (c === n) {
        let q = delta;
        for (let k = PC_BASE; ; k += PC_BASE) {
          const t = pcThreshold(k, bias);
          if (q < t) break;
          output += pcDigit(t + ((q - t) % (PC_BASE - t)));
          q = Math.floor((q - t) / (PC_BASE - t));
        }
        output += pcDigit(q);
        bias = pcAdapt(delta, h + 1, h === b);
        delta = 0;
        h++;
      }
    }
    delta++;
    n++;
  }
  return output;
}

export function punycodeDecode(str) {
  const output = [];
  let n = PC_N, i = 0, bias = PC_BIAS;
  let basic = str.lastIndexOf('-');
  if (basic < 0) basic = 0;
  for (let j = 0; j < basic; j++) {
    const c = str.charCodeAt(j);
    if (c >= 0x80) return null;
    output.push(c);
  }
  for (let idx = basic > 0 ? basic + 1 : 0; idx < str.length;) {
    const oldi = i;
    let w = 1;
    for (let k = PC_BASE; ; k += PC_BASE) {
      if (idx >= str.length) return null;
      const c = str.charCodeAt(idx++);
      const digit = c >= 0x30 && c <= 0x39 ? c - 22 : c >= 0x41 && c <= 0x5a ? c - 0x41 : c >= 0x61 && c <= 0x7a ? c - 0x61 : PC_BASE;
      if (digit >= PC_BASE) return null;
      if (digit > Math.floor((MAXINT - i) / w)) return null;
      i += digit * w;
      const t = pcThreshold(k, bias);
      if (digit < t) break;
      if (w > Math.floor(MAXINT / (PC_BASE - t))) return null;
      w *= PC_BASE - t;
    }
    const out = output.length + 1;
    bias = pcAdapt(i - oldi, out, oldi === 0);
    if (Math.floor(i / out) > MAXINT - n) return null;
    n += Math.floor(i / out);
    i %= out;
    if (n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return null;
    output.splice(i, 0, n);
    i++;
  }
  return String.fromCodePoint(...output);
}

// ---------------------------------------------------------------------------------------
// Hosts

const forbiddenHost = new Uint8Array(128);
for (const ch of '\0\t\n\r #/:<>?@[\\]^|') forbiddenHost[ch.charCodeAt(0)] = 1;
const forbiddenDomain = new Uint8Array(128);
forbiddenDomain.set(forbiddenHost);
for (let i = 0; i < 0x20; i++) forbiddenDomain[i] = 1;
forbiddenDomain[0x25] = 1; // %
forbiddenDomain[0x7f] = 1;

function isIdnaIgnored(c) {
  return c === 0xad || c === 0x34f || (c >= 0x180b && c <= 0x180d) || c === 0x180f || c === 0x200b || c === 0x2060 ||
    c === 0x2064 || (c >= 0xfe00 && c <= 0xfe0f) || c === 0xfeff || (c >= 0x1bca0 && c <= 0x1bca3) || (c >= 0xe0100 && c <= 0xe01ef);
}
function isIdnaDisallowed(c) {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0xfffd || c === 0xfffc || (c >= 0xfff9 && c <= 0xfffb) ||
    (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || (c >= 0xe000 && c <= 0xf8ff) ||
    (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) === 0xfffe || c >= 0xf0000 ||
    c === 0x200e || c === 0x200f; // bidi marks
}
const normalizeNFC = (s) => { try { return s.normalize('NFC'); } catch { return s; } };
const normalizeNFKC = (s) => { try { return s.normalize('NFKC'); } catch { return s; } };

/** Approximation of the UTS #46 mapping step (NFKC_Casefold-like). */
// Compatibility mappings applied even when the engine has no ICU (String.prototype.normalize
// is then a no-op): spaces, full-width ASCII, common ligatures and superscripts.
const compatMap = new Map([[0xaa, 'a'], [0xb2, '2'], [0xb3, '3'], [0xb9, '1'], [0xba, 'o'], [0x2070, '0'], [0x2071, 'i'],
  [0x2074, '4'], [0x2075, '5'], [0x2076, '6'], [0x2077, '7'], [0x2078, '8'], [0x2079, '9'], [0x207f, 'n'],
  [0xfb00, 'ff'], [0xfb01, 'fi'], [0xfb02, 'fl'], [0xfb03, 'ffi'], [0xfb04, 'ffl'], [0xfb05, 'st'], [0xfb06, 'st'],
  [0x2024, '.'], [0x2122, 'tm'], [0x2100, 'a/c'], [0x2101, 'a/s'], [0x2103, '\u00b0c'], [0x2116, 'no']]);
function isCompatSpace(c) {
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x202f || c === 0x205f || c === 0x3000;
}
function idnaMap(domain) {
  let mapped = '';
  for (const ch of domain) {
    const c = ch.codePointAt(0);
    if (isIdnaIgnored(c)) continue;
    if (c === 0x3002 || c === 0xff0e || c === 0xff61) { mapped += '.'; continue; }
    if (c >= 0xff01 && c <= 0xff5e) { mapped += String.fromCharCode(c - 0xfee0); continue; }
    if (isCompatSpace(c)) { mapped += ' '; continue; }
    const m = compatMap.get(c);
    mapped += m === undefined ? ch : m;
  }
  return normalizeNFC(normalizeNFKC(mapped).toLowerCase());
}

const MAX_IDNA_INPUT = 1 << 16; // as Idna.MAX_INPUT on the host

/** UTS #46 ToASCII with the URL Standard's parameters (beStrict = false). */
function domainToASCII(domain) {
  let ascii = true;
  for (let i = 0; i < domain.length; i++) if (domain.charCodeAt(i) >= 0x80) { ascii = false; break; }
  let mapped;
  if (ascii) {
    mapped = asciiLower(domain);
    if (!mapped.includes('xn--')) return mapped === '' ? null : mapped;
  }
  // In an isolate: ICU's UTS #46 through the host (full mapping, Bidi and CONTEXTJ rules).
  // Without the host (the prelude's Node tests) the approximation below is used.
  if (H.installed) {
    if (domain.length > MAX_IDNA_INPUT) return null;
    return H.domainToAscii(domain);
  }
  if (!ascii) mapped = idnaMap(domain);
  const labels = mapped.split('.');
  for (let li = 0; li < labels.length; li++) {
    const label = labels[li];
    let labelAscii = true;
    for (let i = 0; i < label.length; i++) if (label.charCodeAt(i) >= 0x80) { labelAscii = false; break; }
    if (label.startsWith('xn--')) {
      if (!labelAscii) return null;
      const decoded = punycodeDecode(label.slice(4));
      if (decoded === null || decoded === '') return null;
      let decodedAscii = true;
      for (const ch of decoded) {
        const c = ch.codePointAt(0);
        if (c >= 0x80) decodedAscii = false;
        if (isIdnaDisallowed(c) || isIdnaIgnored(c) || (c < 0x80 && forbiddenDomain[c]) || c === 0x2e) return null;
      }
      if (decodedAscii) return null;
      if (decoded !== idnaMap(decoded)) return null;
      if (decoded.startsWith('xn--')) return null;
    } else if (!labelAscii) {
      for (const ch of label) if (isIdnaDisallowed(ch.codePointAt(0))) return null;
      const enc = punycodeEncode(label);
      if (enc === null) return null;
      labels[li] = 'xn--' + enc;
    }
  }
  const result = labels.join('.');
  return result === '' ? null : result;
}

function endsInANumber(host) {
  const parts = host.split('.');
  if (parts[parts.length - 1] === '') {
    if (parts.length === 1) return false;
    parts.pop();
  }
  const last = parts[parts.length - 1];
  if (last !== '' && /^[0-9]+$/.test(last)) return true;
  return /^0[xX][0-9A-Fa-f]*$/.test(last);
}

function parseIPv4Number(s) {
  if (s === '') return NaN;
  let radix = 10;
  if (s.length >= 2 && (s.startsWith('0x') || s.startsWith('0X'))) { radix = 16; s = s.slice(2); }
  else if (s.length >= 2 && s[0] === '0') { radix = 8; s = s.slice(1); }
  if (s === '') return 0;
  const re = radix === 10 ? /^[0-9]+$/ : radix === 16 ? /^[0-9A-Fa-f]+$/ : /^[0-7]+$/;
  if (!re.test(s)) return NaN;
  return parseInt(s, radix);
}

function parseIPv4(input) {
  const parts = input.split('.');
  if (parts[parts.length - 1] === '' && parts.length > 1) parts.pop();
  if (parts.length > 4) return null;
  const numbers = [];
  for (const part of parts) {
    const n = parseIPv4Number(part);
    if (Number.isNaN(n)) return null;
    numbers.push(n);
  }
  for (let i = 0; i < numbers.length - 1; i++) if (numbers[i] > 255) return null;
  if (numbers[numbers.length - 1] >= 256 ** (5 - numbers.length)) return null;
  let ipv4 = numbers[numbers.length - 1];
  for (let i = 0; i < numbers.length - 1; i++) ipv4 += numbers[i] * 256 ** (3 - i);
  return ipv4;
}
function serializeIPv4(n) {
  const out = [];
  for (let i = 0; i < 4; i++) { out.unshift(`${n % 256}`); n = Math.floor(n / 256); }
  return out.join('.');
}

function parseIPv6(input) {
  const address = [0, 0, 0, 0, 0, 0, 0, 0];
  let pieceIndex = 0;
  let compress = null;
  let pointer = 0;
  const cp = (i) => (i < input.length ? input.charCodeAt(i) : -1);
  const isHex = (c) => hexVal(c) >= 0;
  const isDigit = (c) => c >= 0x30 && c <= 0x39;
  if (cp(pointer) === 0x3a) {
    if (cp(pointer + 1) !== 0x3a) return null;
    pointer += 2;
    pieceIndex++;
    compress = pieceIndex;
  }
  while (cp(pointer) !== -1) {
    if (pieceIndex === 8) return null;
    if (cp(pointer) === 0x3a) {
      if (compress !== null) return null;
      pointer++;
      pieceIndex++;
      compress = pieceIndex;
      continue;
    }
    let value = 0, length = 0;
    while (length < 4 && isHex(cp(pointer))) {
      value = value * 0x10 + hexVal(cp(pointer));
      pointer++;
      length++;
    }
    if (cp(pointer) === 0x2e) {
      if (length === 0) return null;
      pointer -= length;
      if (pieceIndex > 6) return null;
      let numbersSeen = 0;
      while (cp(pointer) !== -1) {
        let ipv4Piece = null;
        if (numbersSeen > 0) {
          if (cp(pointer) === 0x2e && numbersSeen < 4) pointer++;
          else return null;
        }
        if (!isDigit(cp(pointer))) return null;
        while (isDigit(cp(pointer))) {
          const number = cp(pointer) - 0x30;
          if (ipv4Piece === null) ipv4Piece = number;
          else if (ipv4Piece === 0) return null;
          else ipv4Piece = ipv4Piece * 10 + number;
          if (ipv4Piece > 255) return null;
          pointer++;
        }
        address[pieceIndex] = address[pieceIndex] * 0x100 + ipv4Piece;
        numbersSeen++;
        if (numbersSeen === 2 || numbersSeen === 4) pieceIndex++;
      }
      if (numbersSeen !== 4) return null;
      break;
    } else if (cp(pointer) === 0x3a) {
      pointer++;
      if (cp(pointer) === -1) return null;
    } else if (cp(pointer) !== -1) {
      return null;
    }
    address[pieceIndex] = value;
    pieceIndex++;
  }
  if (compress !== null) {
    let swaps = pieceIndex - compress;
    pieceIndex = 7;
    while (pieceIndex !== 0 && swaps > 0) {
      const tmp = address[compress + swaps - 1];
      address[compress + swaps - 1] = address[pieceIndex];
      address[pieceIndex] = tmp;
      pieceIndex--;
      swaps--;
    }
  } else if (pieceIndex !== 8) {
    return null;
  }
  return address;
}
function serializeIPv6(address) {
  // Find the first longest run of two or more zero pieces.
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (address[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && address[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  let out = '';
  let ignore0 = false;
  for (let i = 0; i < 8; i++) {
    if (ignore0 && address[i] === 0) continue;
    ignore0 = false;
    if (best === i) {
      out += i === 0 ? '::' : ':';
      ignore0 = true;
      continue;
    }
    out += address[i].toString(16);
    if (i !== 7) out += ':';
  }
  return out;
}

/** Host parser; returns the serialized host or null on failure. */
function parseHost(input, isOpaque) {
  if (input.startsWith('[')) {
    if (!input.endsWith(']')) return null;
    const a = parseIPv6(input.slice(1, -1));
    return a === null ? null : `[${serializeIPv6(a)}]`;
  }
  if (isOpaque) {
    for (let i = 0; i < input.length; i++) {
      const c = input.charCodeAt(i);
      if (c < 0x80 && forbiddenHost[c]) return null;
    }
    return encodeString(input, C0);
  }
  const domain = utf8DecodeReplace(percentDecodeString(input));
  const asciiDomain = domainToASCII(domain);
  if (asciiDomain === null) return null;
  for (let i = 0; i < asciiDomain.length; i++) {
    const c = asciiDomain.charCodeAt(i);
    if (c < 0x80 && forbiddenDomain[c]) return null;
  }
  if (endsInANumber(asciiDomain)) {
    const v4 = parseIPv4(asciiDomain);
    return v4 === null ? null : serializeIPv4(v4);
  }
  return asciiDomain;
}

// ---------------------------------------------------------------------------------------
// URL records and the basic URL parser

const specialSchemes = { 'ftp': 21, 'file': null, 'http': 80, 'https': 443, 'ws': 80, 'wss': 443 };
const isSpecialScheme = (s) => Object.prototype.hasOwnProperty.call(specialSchemes, s);
const defaultPort = (s) => (isSpecialScheme(s) ? specialSchemes[s] : null);

function newRecord() {
  return { scheme: '', username: '', password: '', host: null, port: null, path: [], query: null, fragment: null };
}
const hasOpaquePath = (r) => typeof r.path === 'string';
const includesCredentials = (r) => r.username !== '' || r.password !== '';
const cannotHaveUsernamePasswordPort = (r) => r.host === null || r.host === '' || r.scheme === 'file';

const isAlpha = (c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isDigitCh = (c) => c >= '0' && c <= '9';
function isWindowsDriveLetter(s) { return s.length === 2 && isAlpha(s[0]) && (s[1] === ':' || s[1] === '|'); }
function isNormalizedWindowsDriveLetter(s) { return s.length === 2 && isAlpha(s[0]) && s[1] === ':'; }
function startsWithWindowsDriveLetter(cps, p) {
  if (cps.length - p < 2) return false;
  if (!isAlpha(cps[p]) || (cps[p + 1] !== ':' && cps[p + 1] !== '|')) return false;
  if (cps.length - p === 2) return true;
  const c = cps[p + 2];
  return c === '/' || c === '\\' || c === '?' || c === '#';
}
function shortenPath(r) {
  const path = r.path;
  if (r.scheme === 'file' && path.length === 1 && isNormalizedWindowsDriveLetter(path[0])) return;
  path.pop();
}
function isSingleDot(s) { return s === '.' || asciiLower(s) === '%2e'; }
function isDoubleDot(s) {
  switch (asciiLower(s)) { case '..': case '.%2e': case '%2e.': case '%2e%2e': return true; default: return false; }
}

const SCHEME_START = 1, SCHEME = 2, NO_SCHEME = 3, SPECIAL_RELATIVE_OR_AUTHORITY = 4, PATH_OR_AUTHORITY = 5,
  RELATIVE = 6, RELATIVE_SLASH = 7, SPECIAL_AUTHORITY_SLASHES = 8, SPECIAL_AUTHORITY_IGNORE_SLASHES = 9,
  AUTHORITY = 10, HOST = 11, HOSTNAME = 12, PORT = 13, FILE = 14, FILE_SLASH = 15, FILE_HOST = 16,
  PATH_START = 17, PATH_STATE = 18, OPAQUE_PATH = 19, QUERY_STATE = 20, FRAGMENT_STATE = 21;

const FAILURE = null;

/**
 * The basic URL parser. Without `url`, returns a new record or null (failure). With `url` and a
 * state override it modifies `url` in place and returns url (or null on failure).
 */
function basicParse(input, base = null, url = null, stateOverride = 0) {
  if (url === null) {
    url = newRecord();
    input = input.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '');
  }
  input = input.replace(/[\t\n\r]/g, '');
  let state = stateOverride || SCHEME_START;
  let buffer = '';
  let atSignSeen = false, insideBrackets = false, passwordTokenSeen = false;
  const cps = Array.from(input);
  const len = cps.length;
  const remainingStartsWith = (p, s) => cps[p + 1] === s;

  for (let pointer = 0; ; pointer++) {
    const c = pointer < len ? cps[pointer] : undefined; // undefined = EOF
    switch (state) {
      case SCHEME_START:
        if (c !== undefined && isAlpha(c)) { buffer += c.toLowerCase(); state = SCHEME; }
        else if (!stateOverride) { state = NO_SCHEME; pointer--; }
        else return FAILURE;
        break;

      case SCHEME:
        if (c !== undefined && (isAlpha(c) || isDigitCh(c) || c === '+' || c === '-' || c === '.')) {
          buffer += c.toLowerCase();
        } else if (c === ':') {
          if (stateOverride) {
            if (isSpecialScheme(url.scheme) !== isSpecialScheme(buffer)) return url;
            if ((includesCredentials(url) || url.port !== null) && buffer === 'file') return url;
            if (url.scheme === 'file' && url.host === '') return url;
          }
          url.scheme = buffer;
          if (stateOverride) {
            if (url.port === defaultPort(url.scheme)) url.port = null;
            return url;
          }
          buffer = '';
          if (url.scheme === 'file') {
            state = FILE;
          } else if (isSpecialScheme(url.scheme) && base !== null && base.scheme === url.scheme) {
            state = SPECIAL_RELATIVE_OR_AUTHORITY;
          } else if (isSpecialScheme(url.scheme)) {
            state = SPECIAL_AUTHORITY_SLASHES;
          } else if (remainingStartsWith(pointer, '/')) {
            state = PATH_OR_AUTHORITY;
            pointer++;
          } else {
            url.path = '';
            state = OPAQUE_PATH;
          }
        } else if (!stateOverride) {
          buffer = '';
          state = NO_SCHEME;
          pointer = -1;
        } else return FAILURE;
        break;

      case NO_SCHEME:
        if (base === null || (hasOpaquePath(base) && c !== '#')) return FAILURE;
        if (hasOpaquePath(base) && c === '#') {
          url.scheme = base.scheme;
          url.path = base.path;
          url.query = base.query;
          url.fragment = '';
          state = FRAGMENT_STATE;
        } else if (base.scheme !== 'file') {
          state = RELATIVE;
          pointer--;
        } else {
          state = FILE;
          pointer--;
        }
        break;

      case SPECIAL_RELATIVE_OR_AUTHORITY:
        if (c === '/' && remainingStartsWith(pointer, '/')) { state = SPECIAL_AUTHORITY_IGNORE_SLASHES; pointer++; }
        else { state = RELATIVE; pointer--; }
        break;

      case PATH_OR_AUTHORITY:
        if (c === '/') state = AUTHORITY;
        else { state = PATH_STATE; pointer--; }
        break;

      case RELATIVE:
        url.scheme = base.scheme;
        if (c === '/') state = RELATIVE_SLASH;
        else if (isSpecialScheme(url.scheme) && c === '\\') state = RELATIVE_SLASH;
        else {
          url.username = base.username; url.password = base.password; url.host = base.host; url.port = base.port;
          url.path = base.path.slice(); url.query = base.query;
          if (c === '?') { url.query = ''; state = QUERY_STATE; }
          else if (c === '#') { url.fragment = ''; state = FRAGMENT_STATE; }
          else if (c !== undefined) {
            url.query = null;
            shortenPath(url);
            state = PATH_STATE;
            pointer--;
          }
        }
        break;

      case RELATIVE_SLASH:
        if (isSpecialScheme(url.scheme) && (c === '/' || c === '\\')) state = SPECIAL_AUTHORITY_IGNORE_SLASHES;
        else if (c === '/') state = AUTHORITY;
        else {
          url.username = base.username; url.password = base.password; url.host = base.host; url.port = base.port;
          state = PATH_STATE;
          pointer--;
        }
        break;

      case SPECIAL_AUTHORITY_SLASHES:
        if (c === '/' && remainingStartsWith(pointer, '/')) { state = SPECIAL_AUTHORITY_IGNORE_SLASHES; pointer++; }
        else { state = SPECIAL_AUTHORITY_IGNORE_SLASHES; pointer--; }
        break;

      case SPECIAL_AUTHORITY_IGNORE_SLASHES:
        if (c !== '/' && c !== '\\') { state = AUTHORITY; pointer--; }
        break;

      case AUTHORITY:
        if (c === '@') {
          if (atSignSeen) buffer = '%40' + buffer;
          atSignSeen = true;
          for (const ch of buffer) {
            if (ch === ':' && !passwordTokenSeen) { passwordTokenSeen = true; continue; }
            const enc = encodeCodePoint(ch, USERINFO);
            if (passwordTokenSeen) url.password += enc;
            else url.username += enc;
          }
          buffer = '';
        } else if (c === undefined || c === '/' || c === '?' || c === '#' || (isSpecialScheme(url.scheme) && c === '\\')) {
          if (atSignSeen && buffer === '') return FAILURE;
          pointer -= Array.from(buffer).length + 1;
          buffer = '';
          state = HOST;
        } else {
          buffer += c;
        }
        break;

      case HOST:
      case HOSTNAME:
        if (stateOverride && url.scheme === 'file') {
          pointer--;
          state = FILE_HOST;
        } else if (c === ':' && !insideBrackets) {
          if (buffer === '') return FAILURE;
          if (stateOverride === HOSTNAME) return FAILURE;
          const host = parseHost(buffer, !isSpecialScheme(url.scheme));
          if (host === null) return FAILURE;
          url.host = host;
          buffer = '';
          state = PORT;
        } else if (c === undefined || c === '/' || c === '?' || c === '#' || (isSpecialScheme(url.scheme) && c === '\\')) {
          pointer--;
          if (isSpecialScheme(url.scheme) && buffer === '') return FAILURE;
          if (stateOverride && buffer === '' && (includesCredentials(url) || url.port !== null)) return FAILURE;
          const host = parseHost(buffer, !isSpecialScheme(url.scheme));
          if (host === null) return FAILURE;
          url.host = host;
          buffer = '';
          state = PATH_START;
          if (stateOverride) return url;
        } else {
          if (c === '[') insideBrackets = true;
          if (c === ']') insideBrackets = false;
          buffer += c;
        }
        break;

      case PORT:
        if (c !== undefined && isDigitCh(c)) {
          buffer += c;
        } else if (c === undefined || c === '/' || c === '?' || c === '#' || (isSpecialScheme(url.scheme) && c === '\\') || stateOverride) {
          if (buffer !== '') {
            const port = parseInt(buffer, 10);
            if (port > 65535) return FAILURE;
            url.port = port === defaultPort(url.scheme) ? null : port;
            buffer = '';
            if (stateOverride) return url;
          }
          if (stateOverride) return FAILURE;
          state = PATH_START;
          pointer--;
        } else return FAILURE;
        break;

      case FILE:
        url.scheme = 'file';
        url.host = '';
        if (c === '/' || c === '\\') state = FILE_SLASH;
        else if (base !== null && base.scheme === 'file') {
          url.host = base.host;
          url.path = base.path.slice();
          url.query = base.query;
          if (c === '?') { url.query = ''; state = QUERY_STATE; }
          else if (c === '#') { url.fragment = ''; state = FRAGMENT_STATE; }
          else if (c !== undefined) {
            url.query = null;
            if (!startsWithWindowsDriveLetter(cps, pointer)) shortenPath(url);
            else url.path = [];
            state = PATH_STATE;
            pointer--;
          }
        } else {
          state = PATH_STATE;
          pointer--;
        }
        break;

      case FILE_SLASH:
        if (c === '/' || c === '\\') state = FILE_HOST;
        else {
          if (base !== null && base.scheme === 'file') {
            url.host = base.host;
            if (!startsWithWindowsDriveLetter(cps, pointer) && base.path.length > 0 && isNormalizedWindowsDriveLetter(base.path[0])) {
              url.path.push(base.path[0]);
            }
          }
          state = PATH_STATE;
          pointer--;
        }
        break;

      case FILE_HOST:
        if (c === undefined || c === '/' || c === '\\' || c === '?' || c === '#') {
          pointer--;
          if (!stateOverride && isWindowsDriveLetter(buffer)) {
            state = PATH_STATE;
          } else if (buffer === '') {
            url.host = '';
            if (stateOverride) return url;
            state = PATH_START;
          } else {
            let host = parseHost(buffer, !isSpecialScheme(url.scheme));
            if (host === null) return FAILURE;
            if (host === 'localhost') host = '';
            url.host = host;
            if (stateOverride) return url;
            buffer = '';
            state = PATH_START;
          }
        } else {
          buffer += c;
        }
        break;

      case PATH_START:
        if (isSpecialScheme(url.scheme)) {
          state = PATH_STATE;
          if (c !== '/' && c !== '\\') pointer--;
        } else if (!stateOverride && c === '?') {
          url.query = '';
          state = QUERY_STATE;
        } else if (!stateOverride && c === '#') {
          url.fragment = '';
          state = FRAGMENT_STATE;
        } else if (c !== undefined) {
          state = PATH_STATE;
          if (c !== '/') pointer--;
        } else if (stateOverride && url.host === null) {
          url.path.push('');
        }
        break;

      case PATH_STATE: {
        const special = isSpecialScheme(url.scheme);
        if (c === undefined || c === '/' || (special && c === '\\') || (!stateOverride && (c === '?' || c === '#'))) {
          const slash = c === '/' || (special && c === '\\');
          if (isDoubleDot(buffer)) {
            shortenPath(url);
            if (!slash) url.path.push('');
          } else if (isSingleDot(buffer) && !slash) {
            url.path.push('');
          } else if (!isSingleDot(buffer)) {
            if (url.scheme === 'file' && url.path.length === 0 && isWindowsDriveLetter(buffer)) buffer = buffer[0] + ':';
            url.path.push(buffer);
          }
          buffer = '';
          if (c === '?') { url.query = ''; state = QUERY_STATE; }
          if (c === '#') { url.fragment = ''; state = FRAGMENT_STATE; }
        } else {
          buffer += encodeCodePoint(c, PATH);
        }
        break;
      }

      case OPAQUE_PATH:
        if (c === '?') { url.query = ''; state = QUERY_STATE; }
        else if (c === '#') { url.fragment = ''; state = FRAGMENT_STATE; }
        else if (c === ' ') {
          const next = cps[pointer + 1];
          url.path += next === '?' || next === '#' ? '%20' : ' ';
        } else if (c !== undefined) {
          url.path += encodeCodePoint(c, C0);
        }
        break;

      case QUERY_STATE:
        if ((!stateOverride && c === '#') || c === undefined) {
          url.query += encodeString(buffer, isSpecialScheme(url.scheme) ? SPECIAL_QUERY : QUERY);
          buffer = '';
          if (c === '#') { url.fragment = ''; state = FRAGMENT_STATE; }
        } else {
          buffer += c;
        }
        break;

      case FRAGMENT_STATE:
        if (c !== undefined) url.fragment += encodeCodePoint(c, FRAGMENT);
        break;
    }
    if (c === undefined && pointer >= len) break;
  }
  return url;
}

function serializePath(r) {
  if (hasOpaquePath(r)) return r.path;
  let out = '';
  for (const seg of r.path) out += '/' + seg;
  return out;
}
function serializeURL(r, excludeFragment = false) {
  let out = r.scheme + ':';
  if (r.host !== null) {
    out += '//';
    if (includesCredentials(r)) {
      out += r.username;
      if (r.password !== '') out += ':' + r.password;
      out += '@';
    }
    out += r.host;
    if (r.port !== null) out += ':' + r.port;
  } else if (!hasOpaquePath(r) && r.path.length > 1 && r.path[0] === '') {
    out += '/.';
  }
  out += serializePath(r);
  if (r.query !== null) out += '?' + r.query;
  if (!excludeFragment && r.fragment !== null) out += '#' + r.fragment;
  return out;
}
function serializeOrigin(r) {
  switch (r.scheme) {
    case 'blob': {
      const inner = basicParse(serializePath(r));
      if (inner !== null && (inner.scheme === 'http' || inner.scheme === 'https')) return serializeOrigin(inner);
      return 'null';
    }
    case 'ftp': case 'http': case 'https': case 'ws': case 'wss':
      return `${r.scheme}://${r.host}${r.port !== null ? ':' + r.port : ''}`;
    default:
      return 'null';
  }
}

/** Parse a URL string against an optional base string; returns a record or null. */
export function parseURL(input, base = undefined) {
  let baseRecord = null;
  if (base !== undefined) {
    baseRecord = basicParse(toUSVString(base));
    if (baseRecord === null) return null;
  }
  return basicParse(toUSVString(input), baseRecord);
}

// The request path parses the same few absolute URLs again and again (each incoming request's
// URL, the placeholder of requestInternals.incoming, a worker's `new Request(sameUrl)` and
// `new URL(request.url)`, a durable object's fetch parsing the same URL again): the spec's parser
// walks code points one by one and is the prelude's largest cost per request. Parsing is a pure
// function of the string, so the parsed record of recent strings is kept, with its canonical form
// once asked for. Bounded: short strings only, and the table is emptied when full.
const RECENT_MAX_CHARS = 2048;
const RECENT_MAX_ENTRIES = 256;
const recentParses = new Map(); // string -> { record, canonical } | null (not a URL)

/** The parse of an absolute URL string (no base), shared: its record must not be changed. */
function recentParse(input) {
  const key = typeof input === 'string' ? input : `${input}`;
  const hit = recentParses.get(key);
  if (hit !== undefined) return hit;
  const r = basicParse(toUSVString(key));
  const entry = r === null ? null : { record: r, canonical: undefined };
  if (key.length <= RECENT_MAX_CHARS) {
    if (recentParses.size >= RECENT_MAX_ENTRIES) recentParses.clear();
    recentParses.set(key, entry);
  }
  return entry;
}

/**
 * The parse of an absolute URL string (no base), as a frozen { href, credentials } or null when
 * the string is not a valid URL. Do not use where the parsed record itself is needed.
 */
export function canonicalURL(input) {
  const e = recentParse(input);
  if (e === null) return null;
  return e.canonical ??= Object.freeze({ href: serializeURL(e.record), credentials: includesCredentials(e.record) });
}

function copyRecord(r) {
  return { scheme: r.scheme, username: r.username, password: r.password, host: r.host, port: r.port,
    path: typeof r.path === 'string' ? r.path : r.path.slice(), query: r.query, fragment: r.fragment };
}

/** parseURL(input) with no base: a record of the caller's own (a URL's setters change it), or null. */
function parseAbsolute(input) {
  const e = recentParse(input);
  return e === null ? null : copyRecord(e.record);
}
export { serializeURL, serializeOrigin };
// For URLPattern's canonicalization (urlpattern-canon.js): the parser with a state override.
export { basicParse, newRecord, defaultPort, HOSTNAME, PORT };

// ---------------------------------------------------------------------------------------
// application/x-www-form-urlencoded

export function parseUrlencoded(input) {
  // input: string (already a USVString) → list of [name, value]
  const out = [];
  for (const seq of input.split('&')) {
    if (seq === '') continue;
    const eq = seq.indexOf('=');
    const name = eq >= 0 ? seq.slice(0, eq) : seq;
    const value = eq >= 0 ? seq.slice(eq + 1) : '';
    out.push([formDecode(name), formDecode(value)]);
  }
  return out;
}
/** One name or value of a form: '+' is a space, then percent-decoded as UTF-8 (bad sequences replaced). */
function formDecode(s) {
  if (s.indexOf('+') !== -1) s = s.replace(/\+/g, ' ');
  // Nothing to decode: what encoding then decoding the UTF-8 would give, without the bytes.
  if (s.indexOf('%') === -1) return toUSVString(s);
  return utf8DecodeReplace(percentDecodeString(s));
}
export function parseUrlencodedBytes(bytes) {
  return parseUrlencoded(utf8DecodeReplace(bytes));
}
export function serializeUrlencoded(list) {
  let out = '';
  for (let i = 0; i < list.length; i++) {
    if (i > 0) out += '&';
    out += encodeString(list[i][0], FORM, true) + '=' + encodeString(list[i][1], FORM, true);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// URLSearchParams

const URLSearchParamsIteratorPrototype = makeIteratorClass('URLSearchParams');
let setParamsURL, setParamsList, getParamsList, isURLSearchParams;

export class URLSearchParams {
  #list = [];
  #url = null; // associated URL object's internal updater

  constructor(init = '') {
    if (isObjectLike(init)) {
      const iter = init[Symbol.iterator];
      if (iter !== undefined && iter !== null) {
        if (typeof iter !== 'function') throw new TypeError("Failed to construct 'URLSearchParams': The provided value cannot be converted to a sequence.");
        for (const pair of { [Symbol.iterator]: () => iter.call(init) }) {
          if (!isObjectLike(pair) || typeof pair[Symbol.iterator] !== 'function') throw new TypeError("Failed to construct 'URLSearchParams': The provided value cannot be converted to a sequence.");
          const items = Array.from(pair);
          if (items.length !== 2) throw new TypeError("Failed to construct 'URLSearchParams': Sequence initializer must only contain pair elements");
          this.#list.push([toUSVString(items[0]), toUSVString(items[1])]);
        }
      } else {
        // record<USVString, USVString>: keys that become equal as USVStrings (lone surrogates
        // turn into U+FFFD) are one entry, at the first one's place, with the last one's value.
        const record = new Map();
        for (const key of Reflect.ownKeys(init)) {
          if (typeof key === 'symbol') continue;
          const d = Object.getOwnPropertyDescriptor(init, key);
          if (d === undefined || !d.enumerable) continue;
          record.set(toUSVString(key), toUSVString(init[key]));
        }
        for (const [k, v] of record) this.#list.push([k, v]);
      }
    } else {
      let s = toUSVString(init);
      if (s.startsWith('?')) s = s.slice(1);
      this.#list = parseUrlencoded(s);
    }
  }
  #update() {
    if (this.#url === null) return;
    const serialized = serializeUrlencoded(this.#list);
    this.#url(serialized === '' ? null : serialized);
  }
  get size() { return this.#list.length; }
  append(name, value) {
    if (arguments.length < 2) throw new TypeError(`Failed to execute 'append' on 'URLSearchParams': 2 arguments required, but only ${arguments.length} present.`);
    this.#list.push([toUSVString(name), toUSVString(value)]);
    this.#update();
  }
  delete(name, value = undefined) {
    if (arguments.length < 1) throw new TypeError("Failed to execute 'delete' on 'URLSearchParams': 1 argument required, but only 0 present.");
    name = toUSVString(name);
    if (value !== undefined) {
      value = toUSVString(value);
      this.#list = this.#list.filter((p) => !(p[0] === name && p[1] === value));
    } else {
      this.#list = this.#list.filter((p) => p[0] !== name);
    }
    this.#update();
  }
  get(name) {
    if (arguments.length < 1) throw new TypeError("Failed to execute 'get' on 'URLSearchParams': 1 argument required, but only 0 present.");
    name = toUSVString(name);
    for (const p of this.#list) if (p[0] === name) return p[1];
    return null;
  }
  getAll(name) {
    if (arguments.length < 1) throw new TypeError("Failed to execute 'getAll' on 'URLSearchParams': 1 argument required, but only 0 present.");
    name = toUSVString(name);
    return this.#list.filter((p) => p[0] === name).map((p) => p[1]);
  }
  has(name, value = undefined) {
    if (arguments.length < 1) throw new TypeError("Failed to execute 'has' on 'URLSearchParams': 1 argument required, but only 0 present.");
    name = toUSVString(name);
    if (value !== undefined) {
      value = toUSVString(value);
      return this.#list.some((p) => p[0] === name && p[1] === value);
    }
    return this.#list.some((p) => p[0] === name);
  }
  set(name, value) {
    if (arguments.length < 2) throw new TypeError(`Failed to execute 'set' on 'URLSearchParams': 2 arguments required, but only ${arguments.length} present.`);
    name = toUSVString(name);
    value = toUSVString(value);
    const i = this.#list.findIndex((p) => p[0] === name);
    if (i < 0) this.#list.push([name, value]);
    else {
      this.#list[i][1] = value;
      this.#list = this.#list.filter((p, j) => j <= i || p[0] !== name);
    }
    this.#update();
  }
  sort() {
    // Stable sort by UTF-16 code units of the names.
    const indexed = this.#list.map((p, i) => [p, i]);
    indexed.sort((a, b) => (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1]));
    this.#list = indexed.map((x) => x[0]);
    this.#update();
  }
  forEach(callback, thisArg = undefined) {
    if (typeof callback !== 'function') throw new TypeError("Failed to execute 'forEach' on 'URLSearchParams': The callback provided as parameter 1 is not a function.");
    for (let i = 0; i < this.#list.length; i++) {
      const p = this.#list[i];
      callback.call(thisArg, p[1], p[0], this);
    }
  }
  entries() { return createPairIterator(URLSearchParamsIteratorPrototype, () => this.#list, 'key+value'); }
  keys() { return createPairIterator(URLSearchParamsIteratorPrototype, () => this.#list, 'key'); }
  values() { return createPairIterator(URLSearchParamsIteratorPrototype, () => this.#list, 'value'); }
  toString() { return serializeUrlencoded(this.#list); }
  [inspectCustom]() {
    const obj = {};
    return { name: `URLSearchParams`, value: this.#list.map((p) => `${p[0]}=${p[1]}`).length ? Object.fromEntries(this.#list) : obj };
  }
  static {
    setParamsURL = (params, updater) => { params.#url = updater; };
    setParamsList = (params, list) => { params.#list = list; };
    getParamsList = (params) => params.#list;
    isURLSearchParams = (v) => isObjectLike(v) && #list in v;
  }
}
URLSearchParams.prototype[Symbol.iterator] = URLSearchParams.prototype.entries;
webidlClass(URLSearchParams);
Object.defineProperty(URLSearchParams.prototype, Symbol.iterator, { enumerable: false });
export { getParamsList, isURLSearchParams };

// ---------------------------------------------------------------------------------------
// URL

let isURL, urlRecordOf;
let pendingRecord = null;
/** Create a URL object from an already parsed record. */
export function urlFromRecord(r) {
  pendingRecord = r;
  try { return new URL(''); } finally { pendingRecord = null; }
}


export class URL {
  #r;
  #params;

  constructor(url, base = undefined) {
    if (arguments.length < 1) throw new TypeError("Failed to construct 'URL': 1 argument required, but only 0 present.");
    if (pendingRecord !== null) {
      const pending = pendingRecord;
      pendingRecord = null;
      this.#init(pending);
      return;
    }
    const r = base === undefined ? parseAbsolute(url) : parseURL(url, base);
    if (r === null) throw new TypeError(`Invalid URL: ${toUSVString(url)}${base !== undefined ? ` (base: ${toUSVString(base)})` : ''}`);
    this.#init(r);
  }
  #init(r) {
    this.#r = r;
    // The query itself, not a string init: the constructor would strip a leading "?" that
    // belongs to the query ("??a=b" has the query "?a=b", whose first name is "?a").
    this.#params = new URLSearchParams();
    setParamsList(this.#params, r.query === null ? [] : parseUrlencoded(r.query));
    setParamsURL(this.#params, (q) => { this.#r.query = q; });
  }
  static canParse(url, base = undefined) {
    if (arguments.length < 1) throw new TypeError("Failed to execute 'canParse' on 'URL': 1 argument required, but only 0 present.");
    return parseURL(url, base) !== null;
  }
  static parse(url, base = undefined) {
    if (arguments.length < 1) throw new TypeError("Failed to execute 'parse' on 'URL': 1 argument required, but only 0 present.");
    const r = parseURL(url, base);
    if (r === null) return null;
    return urlFromRecord(r);
  }
  get href() { return serializeURL(this.#r); }
  set href(v) {
    const r = parseURL(v);
    if (r === null) throw new TypeError(`Invalid URL: ${toUSVString(v)}`);
    this.#r = r;
    setParamsList(this.#params, r.query === null ? [] : parseUrlencoded(r.query));
  }
  get origin() { return serializeOrigin(this.#r); }
  get protocol() { return this.#r.scheme + ':'; }
  set protocol(v) { basicParse(toUSVString(v) + ':', null, this.#r, SCHEME_START); }
  get username() { return this.#r.username; }
  set username(v) {
    if (cannotHaveUsernamePasswordPort(this.#r)) return;
    this.#r.username = encodeString(toUSVString(v), USERINFO);
  }
  get password() { return this.#r.password; }
  set password(v) {
    if (cannotHaveUsernamePasswordPort(this.#r)) return;
    this.#r.password = encodeString(toUSVString(v), USERINFO);
  }
  get host() {
    const r = this.#r;
    if (r.host === null) return '';
    return r.port === null ? r.host : `${r.host}:${r.port}`;
  }
  set host(v) {
    if (hasOpaquePath(this.#r)) return;
    this.#modify(toUSVString(v), HOST);
  }
  get hostname() { return this.#r.host ?? ''; }
  set hostname(v) {
    if (hasOpaquePath(this.#r)) return;
    this.#modify(toUSVString(v), HOSTNAME);
  }
  get port() { return this.#r.port === null ? '' : `${this.#r.port}`; }
  set port(v) {
    if (cannotHaveUsernamePasswordPort(this.#r)) return;
    v = toUSVString(v);
    if (v === '') this.#r.port = null;
    else this.#modify(v, PORT);
  }
  get pathname() { return serializePath(this.#r); }
  set pathname(v) {
    if (hasOpaquePath(this.#r)) return;
    this.#r.path = [];
    basicParse(toUSVString(v), null, this.#r, PATH_START);
  }
  get search() { const q = this.#r.query; return q === null || q === '' ? '' : '?' + q; }
  set search(v) {
    v = toUSVString(v);
    const r = this.#r;
    if (v === '') {
      r.query = null;
      setParamsList(this.#params, []);
      return;
    }
    const input = v[0] === '?' ? v.slice(1) : v;
    r.query = '';
    basicParse(input, null, r, QUERY_STATE);
    setParamsList(this.#params, parseUrlencoded(input));
  }
  get searchParams() { return this.#params; }
  get hash() { const f = this.#r.fragment; return f === null || f === '' ? '' : '#' + f; }
  set hash(v) {
    v = toUSVString(v);
    const r = this.#r;
    if (v === '') {
      r.fragment = null;
      return;
    }
    const input = v[0] === '#' ? v.slice(1) : v;
    r.fragment = '';
    basicParse(input, null, r, FRAGMENT_STATE);
  }
  toString() { return serializeURL(this.#r); }
  toJSON() { return serializeURL(this.#r); }
  #modify(input, state) {
    // As the spec: parse into this URL in place; a failure leaves what was already set.
    basicParse(input, null, this.#r, state);
  }
  [inspectCustom]() {
    return { name: 'URL', value: { href: this.href, origin: this.origin, protocol: this.protocol, username: this.username,
      password: this.password, host: this.host, hostname: this.hostname, port: this.port, pathname: this.pathname,
      search: this.search, searchParams: this.#params, hash: this.hash } };
  }
  static {
    isURL = (v) => isObjectLike(v) && #r in v;
    urlRecordOf = (u) => u.#r;
  }
}
webidlClass(URL);
export { isURL, urlRecordOf };
