// UTF-8 (and UTF-16 / windows-1252) encoding and decoding, TextEncoder, TextDecoder. The other
// legacy encodings of the Encoding Standard are decoded by the host (LegacyDecoder.java).
import { H } from './host.js';
import { compat, REPLACE_SURROGATES } from './compat.js';
import { toUSVString, toDOMString, toDictionary, viewBytes, webidlClass, StringFromCharCode, ReflectApply, asciiLower, typedArrayName } from './util.js';

/** UTF-8 encode a string (lone surrogates become U+FFFD). */
export function utf8Encode(str) {
  const len = str.length;
  // Fast path: pure ASCII.
  let i = 0;
  const out = new Uint8Array(len * 3);
  for (; i < len; i++) {
    const c = str.charCodeAt(i);
    if (c >= 0x80) break;
    out[i] = c;
  }
  if (i === len) return len === out.length ? out : out.slice(0, len);
  let p = i;
  for (; i < len; i++) {
    let c = str.charCodeAt(i);
    if (c < 0x80) { out[p++] = c; continue; }
    if (c < 0x800) { out[p++] = 0xc0 | (c >> 6); out[p++] = 0x80 | (c & 63); continue; }
    if (c >= 0xd800 && c <= 0xdfff) {
      if (c <= 0xdbff && i + 1 < len) {
        const d = str.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          i++;
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          out[p++] = 0xf0 | (c >> 18); out[p++] = 0x80 | ((c >> 12) & 63);
          out[p++] = 0x80 | ((c >> 6) & 63); out[p++] = 0x80 | (c & 63);
          continue;
        }
      }
      c = 0xfffd;
    }
    out[p++] = 0xe0 | (c >> 12); out[p++] = 0x80 | ((c >> 6) & 63); out[p++] = 0x80 | (c & 63);
  }
  return out.slice(0, p);
}

/** Turns arrays of UTF-16 code units into a string efficiently. */
class StringBuilder {
  constructor() { this.buf = new Uint16Array(4096); this.n = 0; this.parts = ''; }
  push(u) {
    if (this.n === 4096) this.flush();
    this.buf[this.n++] = u;
  }
  pushCodePoint(cp) {
    if (cp < 0x10000) this.push(cp);
    else { cp -= 0x10000; this.push(0xd800 + (cp >> 10)); this.push(0xdc00 + (cp & 0x3ff)); }
  }
  flush() {
    if (this.n > 0) {
      this.parts += ReflectApply(StringFromCharCode, null, this.n === 4096 ? this.buf : this.buf.subarray(0, this.n));
      this.n = 0;
    }
  }
  toString() { this.flush(); return this.parts; }
}

function decodeError() {
  return new TypeError('The encoded data was not valid.');
}

/** Streaming UTF-8 decoder implementing the WHATWG algorithm (maximal-subpart replacement). */
export class Utf8Decoder {
  constructor(fatal) { this.fatal = fatal; this.reset(); }
  reset() { this.cp = 0; this.needed = 0; this.seen = 0; this.lower = 0x80; this.upper = 0xbf; }
  decode(bytes, stream) {
    const sb = new StringBuilder();
    const len = bytes.length;
    let i = 0;
    while (i < len) {
      const b = bytes[i];
      if (this.needed === 0) {
        if (b < 0x80) {
          // ASCII run.
          sb.push(b);
          i++;
          continue;
        }
        if (b >= 0xc2 && b <= 0xdf) { this.needed = 1; this.cp = b & 0x1f; }
        else if (b >= 0xe0 && b <= 0xef) {
          if (b === 0xe0) this.lower = 0xa0;
          if (b === 0xed) this.upper = 0x9f;
          this.needed = 2; this.cp = b & 0xf;
        } else if (b >= 0xf0 && b <= 0xf4) {
          if (b === 0xf0) this.lower = 0x90;
          if (b === 0xf4) this.upper = 0x8f;
          this.needed = 3; this.cp = b & 0x7;
        } else {
          if (this.fatal) { this.reset(); throw decodeError(); }
          sb.push(0xfffd);
        }
        i++;
        continue;
      }
      if (b < this.lower || b > this.upper) {
        // Do not consume b: it is re-processed as the start of a new sequence.
        this.reset();
        if (this.fatal) throw decodeError();
        sb.push(0xfffd);
        continue;
      }
      this.lower = 0x80; this.upper = 0xbf;
      this.cp = (this.cp << 6) | (b & 0x3f);
      this.seen++;
      i++;
      if (this.seen === this.needed) {
        sb.pushCodePoint(this.cp);
        this.cp = 0; this.needed = 0; this.seen = 0;
      }
    }
    if (!stream && this.needed !== 0) {
      this.reset();
      if (this.fatal) throw decodeError();
      sb.push(0xfffd);
    }
    return sb.toString();
  }
}

/** UTF-8 decode without BOM handling, replacing errors (used by URL, bodies, etc). */
export function utf8DecodeReplace(bytes) {
  // Fast path for ASCII.
  const len = bytes.length;
  if (len < 1024) {
    let ascii = true;
    for (let i = 0; i < len; i++) if (bytes[i] >= 0x80) { ascii = false; break; }
    if (ascii) return ReflectApply(StringFromCharCode, null, bytes);
  }
  return new Utf8Decoder(false).decode(bytes, false);
}
/** UTF-8 decode (strips a leading BOM), as the Encoding spec's "UTF-8 decode". */
export function utf8Decode(bytes) {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  return utf8DecodeReplace(bytes);
}

class Utf16Decoder {
  constructor(fatal, bigEndian) { this.fatal = fatal; this.be = bigEndian; this.reset(); }
  reset() { this.lead = -1; this.leadSurrogate = -1; }
  decode(bytes, stream) {
    const sb = new StringBuilder();
    // Before text_decoder_replace_surrogates (2026-02-24) workerd's UTF-16LE decoder passed lone
    // surrogates through unchanged, fatal or not (its UTF-16BE one always replaced them).
    const passSurrogates = !this.be && !compat(REPLACE_SURROGATES);
    for (let i = 0; i < bytes.length; i++) {
      if (this.lead === -1) { this.lead = bytes[i]; continue; }
      const unit = this.be ? (this.lead << 8) | bytes[i] : (bytes[i] << 8) | this.lead;
      this.lead = -1;
      if (this.leadSurrogate !== -1) {
        const ls = this.leadSurrogate;
        this.leadSurrogate = -1;
        if (unit >= 0xdc00 && unit <= 0xdfff) { sb.push(ls); sb.push(unit); continue; }
        if (passSurrogates) sb.push(ls);
        else {
          if (this.fatal) { this.reset(); throw decodeError(); }
          sb.push(0xfffd);
        }
      }
      if (unit >= 0xd800 && unit <= 0xdbff) { this.leadSurrogate = unit; continue; }
      if (unit >= 0xdc00 && unit <= 0xdfff && !passSurrogates) {
        if (this.fatal) { this.reset(); throw decodeError(); }
        sb.push(0xfffd);
        continue;
      }
      sb.push(unit);
    }
    if (!stream && passSurrogates && this.leadSurrogate !== -1) {
      sb.push(this.leadSurrogate);
      this.leadSurrogate = -1;
    }
    if (!stream && (this.lead !== -1 || this.leadSurrogate !== -1)) {
      this.reset();
      if (this.fatal) throw decodeError();
      sb.push(0xfffd);
    }
    return sb.toString();
  }
}

const win1252 = [0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178];
class Windows1252Decoder {
  reset() {}
  decode(bytes) {
    const sb = new StringBuilder();
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      sb.push(b >= 0x80 && b <= 0x9f ? win1252[b - 0x80] : b);
    }
    return sb.toString();
  }
}

const labels = new Map();
for (const l of ['unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'utf-8', 'utf8', 'x-unicode20utf8']) labels.set(l, 'utf-8');
for (const l of ['csunicode', 'iso-10646-ucs-2', 'ucs-2', 'unicode', 'unicodefeff', 'utf-16', 'utf-16le']) labels.set(l, 'utf-16le');
for (const l of ['unicodefffe', 'utf-16be']) labels.set(l, 'utf-16be');
for (const l of ['ansi_x3.4-1968', 'ascii', 'cp1252', 'cp819', 'csisolatin1', 'ibm819', 'iso-8859-1', 'iso-ir-100', 'iso8859-1',
  'iso88591', 'iso_8859-1', 'iso_8859-1:1987', 'l1', 'latin1', 'us-ascii', 'windows-1252', 'x-cp1252']) labels.set(l, 'windows-1252');

// The legacy encodings the host decodes: name -> its labels (Encoding Standard, encodings.json).
const legacy = {
  'ibm866': '866 cp866 csibm866 ibm866',
  'iso-8859-2': 'csisolatin2 iso-8859-2 iso-ir-101 iso8859-2 iso88592 iso_8859-2 iso_8859-2:1987 l2 latin2',
  'iso-8859-3': 'csisolatin3 iso-8859-3 iso-ir-109 iso8859-3 iso88593 iso_8859-3 iso_8859-3:1988 l3 latin3',
  'iso-8859-4': 'csisolatin4 iso-8859-4 iso-ir-110 iso8859-4 iso88594 iso_8859-4 iso_8859-4:1988 l4 latin4',
  'iso-8859-5': 'csisolatincyrillic cyrillic iso-8859-5 iso-ir-144 iso8859-5 iso88595 iso_8859-5 iso_8859-5:1988',
  'iso-8859-6': 'arabic asmo-708 csiso88596e csiso88596i csisolatinarabic ecma-114 iso-8859-6 iso-8859-6-e iso-8859-6-i iso-ir-127 iso8859-6 iso88596 iso_8859-6 iso_8859-6:1987',
  'iso-8859-7': 'csisolatingreek ecma-118 elot_928 greek greek8 iso-8859-7 iso-ir-126 iso8859-7 iso88597 iso_8859-7 iso_8859-7:1987 sun_eu_greek',
  'iso-8859-8': 'csiso88598e csisolatinhebrew hebrew iso-8859-8 iso-8859-8-e iso-ir-138 iso8859-8 iso88598 iso_8859-8 iso_8859-8:1988 visual',
  'iso-8859-8-i': 'csiso88598i iso-8859-8-i logical',
  'iso-8859-10': 'csisolatin6 iso-8859-10 iso-ir-157 iso8859-10 iso885910 l6 latin6',
  'iso-8859-13': 'iso-8859-13 iso8859-13 iso885913',
  'iso-8859-14': 'iso-8859-14 iso8859-14 iso885914',
  'iso-8859-15': 'csisolatin9 iso-8859-15 iso8859-15 iso885915 iso_8859-15 l9',
  'iso-8859-16': 'iso-8859-16',
  'koi8-r': 'cskoi8r koi koi8 koi8-r koi8_r',
  'koi8-u': 'koi8-ru koi8-u',
  'macintosh': 'csmacintosh mac macintosh x-mac-roman',
  'windows-874': 'dos-874 iso-8859-11 iso8859-11 iso885911 tis-620 windows-874',
  'windows-1250': 'cp1250 windows-1250 x-cp1250',
  'windows-1251': 'cp1251 windows-1251 x-cp1251',
  'windows-1253': 'cp1253 windows-1253 x-cp1253',
  'windows-1254': 'cp1254 csisolatin5 iso-8859-9 iso-ir-148 iso8859-9 iso88599 iso_8859-9 iso_8859-9:1989 l5 latin5 windows-1254 x-cp1254',
  'windows-1255': 'cp1255 windows-1255 x-cp1255',
  'windows-1256': 'cp1256 windows-1256 x-cp1256',
  'windows-1257': 'cp1257 windows-1257 x-cp1257',
  'windows-1258': 'cp1258 windows-1258 x-cp1258',
  'x-mac-cyrillic': 'x-mac-cyrillic x-mac-ukrainian',
  'gbk': 'chinese csgb2312 csiso58gb231280 gb2312 gb_2312 gb_2312-80 gbk iso-ir-58 x-gbk',
  'gb18030': 'gb18030',
  'big5': 'big5 big5-hkscs cn-big5 csbig5 x-x-big5',
  'euc-jp': 'cseucpkdfmtjapanese euc-jp x-euc-jp',
  'iso-2022-jp': 'csiso2022jp iso-2022-jp',
  'shift_jis': 'csshiftjis ms932 ms_kanji shift-jis shift_jis sjis windows-31j x-sjis',
  'euc-kr': 'cseuckr csksc56011987 euc-kr iso-ir-149 korean ks_c_5601-1987 ks_c_5601-1989 ksc5601 ksc_5601 windows-949',
  'x-user-defined': 'x-user-defined',
};
for (const name of Object.keys(legacy)) for (const l of legacy[name].split(' ')) labels.set(l, name);

const HOST_MAX_INPUT = 1 << 20;

/**
 * A legacy encoding decoded by the host. Stateless host calls: bytes of a sequence cut by the end
 * of a streaming call come back as "unconsumed" and are given again in front of the next input;
 * ISO-2022-JP's mode travels as a number.
 */
class HostDecoder {
  constructor(encoding, fatal) { this.encoding = encoding; this.fatal = fatal; this.reset(); }
  reset() { this.pending = null; this.state = 0; }
  decode(bytes, stream) {
    let input = bytes;
    if (this.pending !== null) {
      input = new Uint8Array(this.pending.length + bytes.length);
      input.set(this.pending, 0);
      input.set(bytes, this.pending.length);
      this.pending = null;
    }
    let text = '';
    let offset = 0;
    do {
      const end = Math.min(input.length, offset + HOST_MAX_INPUT);
      const last = end === input.length;
      const r = H.decodeLegacy(this.encoding, input.slice(offset, end), !last || stream, this.fatal, this.state);
      if (r === false) { this.reset(); throw decodeError(); }
      if (typeof r === 'string') { this.reset(); throw new TypeError(r); }
      text += r[0];
      this.state = r[2];
      const unconsumed = r[1];
      if (unconsumed > 0) {
        if (last) { this.pending = input.slice(end - unconsumed, end); break; }
        offset = end - unconsumed;
      } else {
        offset = end;
      }
    } while (offset < input.length);
    if (!stream) this.reset();
    return text;
  }
}

/** Encoding spec "get an encoding": returns the canonical name or null. */
export function getEncoding(label) {
  const key = asciiLower(label.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, ''));
  return labels.get(key) ?? null;
}

export class TextEncoder {
  constructor() {}
  get encoding() { return 'utf-8'; }
  encode(input = '') {
    return utf8Encode(toUSVString(input));
  }
  encodeInto(source, destination) {
    const src = toUSVString(source);
    if (typedArrayName(destination) !== 'Uint8Array') {
      throw new TypeError("Failed to execute 'encodeInto' on 'TextEncoder': parameter 2 is not of type 'Uint8Array'.");
    }
    const dest = destination;
    const cap = dest.length;
    let read = 0, written = 0;
    for (let i = 0; i < src.length; i++) {
      let c = src.charCodeAt(i);
      let units = 1;
      if (c >= 0xd800 && c <= 0xdbff) { // well-formed: always a pair
        c = 0x10000 + ((c - 0xd800) << 10) + (src.charCodeAt(i + 1) - 0xdc00);
        units = 2;
      }
      const n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      if (written + n > cap) break;
      if (n === 1) dest[written] = c;
      else if (n === 2) { dest[written] = 0xc0 | (c >> 6); dest[written + 1] = 0x80 | (c & 63); }
      else if (n === 3) { dest[written] = 0xe0 | (c >> 12); dest[written + 1] = 0x80 | ((c >> 6) & 63); dest[written + 2] = 0x80 | (c & 63); }
      else { dest[written] = 0xf0 | (c >> 18); dest[written + 1] = 0x80 | ((c >> 12) & 63); dest[written + 2] = 0x80 | ((c >> 6) & 63); dest[written + 3] = 0x80 | (c & 63); }
      written += n;
      read += units;
      i += units - 1;
    }
    return { read, written };
  }
}
webidlClass(TextEncoder);

export class TextDecoder {
  #encoding;
  #fatal;
  #ignoreBOM;
  #decoder;
  #bomSeen = false;
  constructor(label = 'utf-8', options = undefined) {
    const enc = getEncoding(toDOMString(label));
    if (enc === null) throw new RangeError(`Failed to construct 'TextDecoder': The encoding label provided ('${label}') is invalid.`);
    const opts = toDictionary(options, "Failed to construct 'TextDecoder'");
    this.#encoding = enc;
    this.#fatal = !!opts.fatal;
    this.#ignoreBOM = !!opts.ignoreBOM;
    this.#decoder = enc === 'utf-8' ? new Utf8Decoder(this.#fatal)
      : enc === 'windows-1252' ? new Windows1252Decoder()
      : enc === 'utf-16le' || enc === 'utf-16be' ? new Utf16Decoder(this.#fatal, enc === 'utf-16be')
      : new HostDecoder(enc, this.#fatal);
  }
  get encoding() { return this.#encoding; }
  get fatal() { return this.#fatal; }
  get ignoreBOM() { return this.#ignoreBOM; }
  decode(input = undefined, options = undefined) {
    const opts = toDictionary(options, "Failed to execute 'decode' on 'TextDecoder'");
    const stream = !!opts.stream;
    let bytes;
    if (input === undefined) bytes = new Uint8Array(0);
    else {
      bytes = viewBytes(input);
      if (bytes === null) throw new TypeError("Failed to execute 'decode' on 'TextDecoder': The provided value is not of type '(ArrayBuffer or ArrayBufferView)'.");
    }
    let out;
    try {
      out = this.#decoder.decode(bytes, stream);
    } catch (err) {
      this.#bomSeen = false;
      throw err;
    }
    // Only UTF-8 and UTF-16 have a BOM to strip.
    const unicode = this.#encoding === 'utf-8' || this.#encoding === 'utf-16le' || this.#encoding === 'utf-16be';
    if (unicode && !this.#ignoreBOM && !this.#bomSeen && out.length > 0) {
      this.#bomSeen = true;
      if (out.charCodeAt(0) === 0xfeff) out = out.slice(1);
    }
    if (!stream) this.#bomSeen = false;
    return out;
  }
}
webidlClass(TextDecoder);
