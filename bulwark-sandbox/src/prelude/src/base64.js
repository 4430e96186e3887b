// atob / btoa (HTML forgiving-base64) and internal base64 helpers.
import { DOMException } from './dom-exception.js';
import { toDOMString, StringFromCharCode, ReflectApply } from './util.js';

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const alphabetUrl = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const decodeTable = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) decodeTable[alphabet.charCodeAt(i)] = i;
const decodeTableUrl = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) decodeTableUrl[alphabetUrl.charCodeAt(i)] = i;

export function base64Encode(bytes, url = false) {
  const abc = url ? alphabetUrl : alphabet;
  let out = '';
  const len = bytes.length;
  let i = 0;
  for (; i + 2 < len; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += abc[n >> 18] + abc[(n >> 12) & 63] + abc[(n >> 6) & 63] + abc[n & 63];
  }
  if (i < len) {
    const n = (bytes[i] << 16) | ((i + 1 < len ? bytes[i + 1] : 0) << 8);
    out += abc[n >> 18] + abc[(n >> 12) & 63];
    out += i + 1 < len ? abc[(n >> 6) & 63] : (url ? '' : '=');
    out += url ? '' : '=';
  }
  return out;
}

/** Forgiving-base64 decode; returns Uint8Array or null on failure. */
export function base64Decode(str, url = false) {
  str = str.replace(/[\t\n\f\r ]+/g, '');
  if (!url && str.length % 4 === 0) {
    if (str.endsWith('==')) str = str.slice(0, -2);
    else if (str.endsWith('=')) str = str.slice(0, -1);
  }
  if (str.length % 4 === 1) return null;
  const table = url ? decodeTableUrl : decodeTable;
  const out = new Uint8Array(Math.floor((str.length * 3) / 4));
  let buffer = 0, bits = 0, p = 0;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    const v = c < 256 ? table[c] : -1;
    if (v < 0) return null;
    buffer = (buffer << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[p++] = (buffer >> bits) & 0xff;
    }
  }
  return p === out.length ? out : out.slice(0, p);
}

export function btoa(data) {
  if (arguments.length === 0) throw new TypeError("Failed to execute 'btoa': 1 argument required, but only 0 present.");
  const s = toDOMString(data);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) throw new DOMException("Failed to execute 'btoa': The string to be encoded contains characters outside of the Latin1 range.", 'InvalidCharacterError');
    bytes[i] = c;
  }
  return base64Encode(bytes);
}

export function atob(data) {
  if (arguments.length === 0) throw new TypeError("Failed to execute 'atob': 1 argument required, but only 0 present.");
  const bytes = base64Decode(toDOMString(data));
  if (bytes === null) throw new DOMException("Failed to execute 'atob': The string to be decoded is not correctly encoded.", 'InvalidCharacterError');
  let out = '';
  for (let i = 0; i < bytes.length; i += 4096) out += ReflectApply(StringFromCharCode, null, bytes.subarray(i, i + 4096));
  return out;
}
