// Minimal MIME type parsing (MIME Sniffing Standard "parse a MIME type", simplified).
import { trimHTTPWhitespace, asciiLower, isToken } from './util.js';

/** Returns { essence, params: Map } or null. */
export function parseMimeType(input) {
  input = trimHTTPWhitespace(input);
  const semi = input.indexOf(';');
  const full = (semi >= 0 ? input.slice(0, semi) : input);
  const slash = full.indexOf('/');
  if (slash <= 0) return null;
  const type = full.slice(0, slash);
  const subtype = trimHTTPWhitespace(full.slice(slash + 1));
  if (!isToken(type) || subtype === '' || !isToken(subtype)) return null;
  const params = new Map();
  let pos = semi >= 0 ? semi + 1 : input.length;
  while (pos < input.length) {
    while (pos < input.length && ' \t\n\r'.includes(input[pos])) pos++;
    let nameEnd = pos;
    while (nameEnd < input.length && input[nameEnd] !== ';' && input[nameEnd] !== '=') nameEnd++;
    const name = asciiLower(input.slice(pos, nameEnd));
    pos = nameEnd;
    if (pos < input.length && input[pos] === ';') { pos++; continue; }
    if (pos >= input.length) break;
    pos++; // '='
    let value;
    if (input[pos] === '"') {
      value = '';
      pos++;
      while (pos < input.length && input[pos] !== '"') {
        if (input[pos] === '\\' && pos + 1 < input.length) pos++;
        value += input[pos++];
      }
      while (pos < input.length && input[pos] !== ';') pos++;
    } else {
      let end = input.indexOf(';', pos);
      if (end < 0) end = input.length;
      value = trimHTTPWhitespace(input.slice(pos, end));
      pos = end;
      if (value === '') { pos++; continue; }
    }
    pos++;
    if (name !== '' && isToken(name) && !params.has(name)) params.set(name, value);
  }
  return { essence: asciiLower(`${type}/${subtype}`), params };
}
