// Headers (Fetch Standard). Guards: "none" and "immutable" (Workers has no forbidden headers).
import { toByteString, toDOMString, webidlClass, makeIteratorClass, createPairIterator, isObjectLike, trimHTTPWhitespace, isToken } from './util.js';
import { inspectCustom } from './console.js';

const HeadersIteratorPrototype = makeIteratorClass('Headers');
let headersList, setHeadersGuard, getHeadersGuard, isHeaders, fillHeaders, appendHeader, copyHeaders;

// ByteString conversion whose error message is built only when it fails: every incoming request
// appends its ~10 headers through here, and two template strings per header showed in profiles.
function byteString(value, method) {
  const s = toDOMString(value);
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 255) return toByteString(s, `Failed to execute '${method}' on 'Headers'`); // throws
  }
  return s;
}
// Each valid name and value is scanned once; on a failure the ByteString check runs first, so
// what is thrown (and the index its message names) is as when it ran first every time.
function validateName(name, method) {
  const n = toDOMString(name);
  if (isToken(n)) return n; // a token is ASCII: a ByteString
  byteString(n, method);
  throw new TypeError(`Failed to execute '${method}' on 'Headers': Invalid name`);
}
function normalizeValue(value, method) {
  const s = toDOMString(value);
  const v = trimHTTPWhitespace(s); // trims only whitespace: any character over 255 stays in v
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c > 255 || c === 0 || c === 0x0a || c === 0x0d) {
      byteString(s, method);
      throw new TypeError(`Failed to execute '${method}' on 'Headers': Invalid value`);
    }
  }
  return v;
}

export class Headers {
  #list = []; // entries: [lowercaseName, value]
  #guard = 'none';
  #sorted = null;

  constructor(init = undefined) {
    if (init !== undefined) fill(this, init);
  }
  #checkMutable() {
    if (this.#guard === 'immutable') throw new TypeError("Can't modify immutable headers.");
  }
  append(name, value) {
    if (arguments.length < 2) throw new TypeError(`Failed to execute 'append' on 'Headers': 2 arguments required, but only ${arguments.length} present.`);
    this.#append(name, value);
  }
  #append(name, value) {
    const n = validateName(name, 'append').toLowerCase();
    const v = normalizeValue(value, 'append');
    this.#checkMutable();
    this.#list.push([n, v]);
    this.#sorted = null;
  }
  delete(name) {
    if (arguments.length < 1) throw new TypeError("Failed to execute 'delete' on 'Headers': 1 argument required, but only 0 present.");
    const n = validateName(name, 'delete').toLowerCase();
    this.#checkMutable();
    if (!this.#list.some((e) => e[0] === n)) return;
    this.#list = this.#list.filter((e) => e[0] !== n);
    this.#sorted = null;
  }
  get(name) {
    if (arguments.length < 1) throw new TypeError("Failed to execute 'get' on 'Headers': 1 argument required, but only 0 present.");
    const n = validateName(name, 'get').toLowerCase();
    let out = null;
    for (const e of this.#list) {
      if (e[0] === n) out = out === null ? e[1] : `${out}, ${e[1]}`;
    }
    return out;
  }
  getSetCookie() {
    const out = [];
    for (const e of this.#list) if (e[0] === 'set-cookie') out.push(e[1]);
    return out;
  }
  getAll(name) {
    // Workers extension: only valid for Set-Cookie.
    const n = validateName(name, 'getAll').toLowerCase();
    if (n !== 'set-cookie') throw new TypeError('getAll() can only be used with the header name "Set-Cookie".');
    return this.getSetCookie();
  }
  has(name) {
    if (arguments.length < 1) throw new TypeError("Failed to execute 'has' on 'Headers': 1 argument required, but only 0 present.");
    const n = validateName(name, 'has').toLowerCase();
    return this.#list.some((e) => e[0] === n);
  }
  set(name, value) {
    if (arguments.length < 2) throw new TypeError(`Failed to execute 'set' on 'Headers': 2 arguments required, but only ${arguments.length} present.`);
    const n = validateName(name, 'set').toLowerCase();
    const v = normalizeValue(value, 'set');
    this.#checkMutable();
    const i = this.#list.findIndex((e) => e[0] === n);
    if (i < 0) this.#list.push([n, v]);
    else {
      this.#list[i] = [n, v];
      this.#list = this.#list.filter((e, j) => j <= i || e[0] !== n);
    }
    this.#sorted = null;
  }
  #sortAndCombine() {
    if (this.#sorted !== null) return this.#sorted;
    const names = [...new Set(this.#list.map((e) => e[0]))].sort();
    const out = [];
    for (const n of names) {
      if (n === 'set-cookie') {
        for (const e of this.#list) if (e[0] === n) out.push([n, e[1]]);
      } else {
        out.push([n, this.get(n)]);
      }
    }
    this.#sorted = out;
    return out;
  }
  entries() { return createPairIterator(HeadersIteratorPrototype, () => this.#sortAndCombine(), 'key+value'); }
  keys() { return createPairIterator(HeadersIteratorPrototype, () => this.#sortAndCombine(), 'key'); }
  values() { return createPairIterator(HeadersIteratorPrototype, () => this.#sortAndCombine(), 'value'); }
  [inspectCustom]() {
    const value = {};
    for (const [n, v] of this.#sortAndCombine()) {
      if (Object.prototype.hasOwnProperty.call(value, n)) value[n] = [].concat(value[n], v);
      else value[n] = v;
    }
    return { name: 'Headers', value };
  }

  static {
    headersList = (h) => h.#list;
    setHeadersGuard = (h, guard) => { h.#guard = guard; };
    getHeadersGuard = (h) => h.#guard;
    isHeaders = (v) => isObjectLike(v) && #list in v;
    fillHeaders = (h, init) => fill(h, init);
    appendHeader = (h, n, v) => h.#append(n, v);
    // Another Headers' entries are valid already (lower-case tokens, normalized values): as
    // appending each, without validating them again.
    copyHeaders = (h, from) => {
      for (const e of from.#list) {
        h.#checkMutable();
        h.#list.push([e[0], e[1]]);
        h.#sorted = null;
      }
    };
  }
}
Headers.prototype[Symbol.iterator] = Headers.prototype.entries;
// forEach: re-read the live list if it is mutated during iteration.
Headers.prototype.forEach = function forEach(callback, thisArg = undefined) {
  if (!isHeaders(this)) throw new TypeError('Illegal invocation');
  if (typeof callback !== 'function') throw new TypeError("Failed to execute 'forEach' on 'Headers': The callback provided as parameter 1 is not a function.");
  const it = this.entries();
  for (let r = it.next(); !r.done; r = it.next()) callback.call(thisArg, r.value[1], r.value[0], this);
};
webidlClass(Headers);
Object.defineProperty(Headers.prototype, Symbol.iterator, { enumerable: false });

function fill(headers, init) {
  if (isHeaders(init)) {
    copyHeaders(headers, init);
    return;
  }
  if (!isObjectLike(init)) throw new TypeError("Failed to construct 'Headers': The provided value is not of type '(record<ByteString, ByteString> or sequence<sequence<ByteString>>)'.");
  const iter = init[Symbol.iterator];
  if (iter !== undefined && iter !== null) {
    if (typeof iter !== 'function') throw new TypeError("Failed to construct 'Headers': The provided value cannot be converted to a sequence.");
    for (const pair of { [Symbol.iterator]: () => iter.call(init) }) {
      if (!isObjectLike(pair) || typeof pair[Symbol.iterator] !== 'function') throw new TypeError("Failed to construct 'Headers': The provided value cannot be converted to a sequence.");
      const items = Array.from(pair);
      if (items.length !== 2) throw new TypeError("Failed to construct 'Headers': Invalid value");
      appendHeader(headers, items[0], items[1]);
    }
    return;
  }
  for (const key of Reflect.ownKeys(init)) {
    const d = Object.getOwnPropertyDescriptor(init, key);
    if (d === undefined || !d.enumerable) continue;
    if (typeof key === 'symbol') throw new TypeError("Failed to construct 'Headers': Cannot convert a Symbol value to a string");
    appendHeader(headers, key, init[key]);
  }
}

/** A new Headers object from [[name, value], ...] with the given guard. */
export function headersFromPairs(pairs, guard = 'none') {
  const h = new Headers();
  for (const p of pairs) appendHeader(h, p[0], p[1]);
  setHeadersGuard(h, guard);
  return h;
}
/**
 * Headers as they cross the host boundary in one string, "name\nvalue\nname\nvalue": one call
 * instead of several per header. HTTP forbids CR and LF in names and values.
 */
export function headerLines(h) {
  const list = headersList(h);
  let out = '';
  for (let i = 0; i < list.length; i++) out += (i === 0 ? '' : '\n') + list[i][0] + '\n' + list[i][1];
  return out;
}

/** Copy of the raw header list as [[name, value], ...] (lowercase names, duplicates kept). */
export function headersToPairs(h) {
  return headersList(h).map((e) => [e[0], e[1]]);
}
/** Internal (not user-overridable) lookups and updates. */
export function headerGet(h, lowerName) {
  let out = null;
  for (const e of headersList(h)) if (e[0] === lowerName) out = out === null ? e[1] : `${out}, ${e[1]}`;
  return out;
}
export function headerHas(h, lowerName) {
  return headersList(h).some((e) => e[0] === lowerName);
}
export { appendHeader };
export { headersList, setHeadersGuard, getHeadersGuard, isHeaders, fillHeaders };
