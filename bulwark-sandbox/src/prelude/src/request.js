// Request (Fetch Standard, as in Cloudflare Workers: no forbidden headers, no base URL).
import { toDictionary, toByteString, toDOMString, webidlClass, isObjectLike, isToken, asciiLower } from './util.js';
import { Headers, fillHeaders, setHeadersGuard, getHeadersGuard, headerHas, appendHeader } from './headers.js';
import { Body, extractBody, installBodyMixin } from './body.js';
import { canonicalURL } from './url.js';
import { newSignal, isAbortSignal, addAbortAlgorithm, signalAbort, signalAborted } from './events.js';
import { inspectCustom } from './console.js';
import { compat, CACHE_OPTION } from './compat.js';

let isRequest, requestInternals;

// Captured before any worker code runs: a worker may replace JSON.parse.
const JSONParse = JSON.parse;
const normalizedMethods = { delete: 'DELETE', get: 'GET', head: 'HEAD', options: 'OPTIONS', post: 'POST', put: 'PUT' };
const forbiddenMethods = new Set(['connect', 'trace', 'track']);
const redirectModes = new Set(['follow', 'error', 'manual']);


export function normalizeMethod(m) {
  // Already normalized (what the node and most code send): no lower-casing regexp.
  if (m === 'GET' || m === 'POST' || m === 'PUT' || m === 'DELETE' || m === 'HEAD' || m === 'OPTIONS') return m;
  const lower = asciiLower(m);
  return Object.prototype.hasOwnProperty.call(normalizedMethods, lower) ? normalizedMethods[lower] : m;
}

// What requestInternals.incoming passes the constructor: no one else holds it.
const INCOMING = Object.freeze({ __proto__: null });

/** A signal that follows `parent` (if any). */
function followingSignal(parent) {
  const s = newSignal();
  if (parent !== null && parent !== undefined) {
    if (signalAborted(parent)) signalAbort(s, parent.reason);
    else addAbortAlgorithm(parent, () => signalAbort(s, parent.reason));
  }
  return s;
}

export class Request {
  #method = 'GET';
  #url = '';
  #headers;
  #body = null;
  #signal;
  #redirect = 'follow';
  #integrity = '';
  #keepalive = false;
  #cache = undefined;
  #cf = undefined;
  #cfJson = undefined; // an incoming request's cf as the node sent it, until first read

  constructor(input, init = undefined) {
    if (input === INCOMING) { // requestInternals.incoming sets the rest: no URL to parse, no init to read
      this.#signal = newSignal();
      this.#headers = new Headers();
      return;
    }
    if (arguments.length < 1) throw new TypeError("Failed to construct 'Request': 1 argument required, but only 0 present.");
    const opts = toDictionary(init, "Failed to construct 'Request'");
    let inputRequest = null;
    let parentSignal = null;
    if (isRequest(input)) {
      inputRequest = input;
      this.#method = input.#method;
      this.#url = input.#url;
      this.#redirect = input.#redirect;
      this.#integrity = input.#integrity;
      this.#keepalive = input.#keepalive;
      this.#cache = input.#cache;
      this.#cf = input.#readCf();
      parentSignal = input.#signal;
    } else {
      const s = typeof input === 'string' ? input : `${input}`;
      const r = canonicalURL(s);
      if (r === null) throw new TypeError(`Invalid URL: ${s}`);
      if (r.credentials) throw new TypeError(`Request cannot be constructed from a URL that includes credentials: ${s}`);
      this.#url = r.href;
    }
    if (opts.method !== undefined) {
      const m = toByteString(opts.method, "Failed to construct 'Request'");
      if (!isToken(m)) throw new TypeError(`'${m}' is not a valid HTTP method.`);
      if (forbiddenMethods.has(asciiLower(m))) throw new TypeError(`'${m}' HTTP method is unsupported.`);
      this.#method = normalizeMethod(m);
    }
    if (opts.signal !== undefined) {
      if (opts.signal !== null && !isAbortSignal(opts.signal)) throw new TypeError("Failed to construct 'Request': member signal is not of type AbortSignal.");
      parentSignal = opts.signal;
    }
    if (opts.redirect !== undefined) {
      const r = toDOMString(opts.redirect);
      if (!redirectModes.has(r)) throw new TypeError(`Failed to construct 'Request': The provided value '${r}' is not a valid enum value of type RequestRedirect.`);
      this.#redirect = r;
    }
    if (opts.integrity !== undefined) this.#integrity = toDOMString(opts.integrity);
    if (opts.keepalive !== undefined) this.#keepalive = !!opts.keepalive;
    if (opts.cache !== undefined) {
      // cache_option_enabled (on from 2024-11-11): without it Workers refuse RequestInit's cache member.
      if (!compat(CACHE_OPTION)) throw new Error("The 'cache' field on 'RequestInitializerDict' is not implemented.");
      const c = toDOMString(opts.cache);
      if (c !== 'no-store' && c !== 'no-cache' && c !== 'default' && c !== 'reload' && c !== 'force-cache' && c !== 'only-if-cached') {
        throw new TypeError(`Failed to construct 'Request': The provided value '${c}' is not a valid enum value of type RequestCache.`);
      }
      this.#cache = c;
    }
    if (opts.cf !== undefined) this.#cf = opts.cf;
    this.#signal = followingSignal(parentSignal);

    // Headers
    this.#headers = new Headers();
    if (opts.headers !== undefined) fillHeaders(this.#headers, opts.headers);
    else if (inputRequest !== null) fillHeaders(this.#headers, inputRequest.#headers);

    const initBody = opts.body;
    const hasInitBody = initBody !== undefined && initBody !== null;
    const inputBody = inputRequest !== null ? inputRequest.#body : null;
    if ((hasInitBody || (inputBody !== null && initBody === undefined)) && (this.#method === 'GET' || this.#method === 'HEAD')) {
      throw new TypeError('Request with a GET or HEAD method cannot have a body.');
    }
    if (hasInitBody) {
      const { body, type } = extractBody(initBody);
      this.#body = body;
      if (type !== null && !headerHas(this.#headers, 'content-type')) appendHeader(this.#headers, 'content-type', type);
    } else if (inputBody !== null && initBody === undefined) {
      this.#body = inputBody.transfer();
    }
  }

  get method() { return this.#method; }
  get url() { return this.#url; }
  get headers() { return this.#headers; }
  get redirect() { return this.#redirect; }
  get signal() { return this.#signal; }
  get integrity() { return this.#integrity; }
  get keepalive() { return this.#keepalive; }
  get cache() { return this.#cache; }
  get cf() { return this.#readCf(); }
  #readCf() {
    if (this.#cfJson !== undefined) {
      const json = this.#cfJson;
      this.#cfJson = undefined;
      try { this.#cf = JSONParse(json); } catch { this.#cf = undefined; }
    }
    return this.#cf;
  }
  get destination() { return ''; }
  get referrer() { return 'about:client'; }
  get referrerPolicy() { return ''; }
  get mode() { return 'cors'; }
  get credentials() { return 'same-origin'; }
  get isReloadNavigation() { return false; }
  get isHistoryNavigation() { return false; }
  get duplex() { return 'half'; }
  get fetcher() { return null; }

  clone() {
    if (this.#body !== null && this.#body.unusable) throw new TypeError('Failed to execute \'clone\' on \'Request\': Request body is already used');
    const r = new Request(this.#url, { method: this.#method, redirect: this.#redirect, integrity: this.#integrity, keepalive: this.#keepalive, cf: this.#readCf(), cache: this.#cache });
    fillHeaders(r.#headers, this.#headers);
    setHeadersGuard(r.#headers, getHeadersGuard(this.#headers));
    r.#body = this.#body === null ? null : this.#body.clone();
    r.#signal = followingSignal(this.#signal);
    return r;
  }
  [inspectCustom]() {
    return { name: 'Request', value: { method: this.#method, url: this.#url, headers: this.#headers, body: this.#body === null ? null : this.body, bodyUsed: this.bodyUsed, redirect: this.#redirect, signal: this.#signal } };
  }

  static {
    isRequest = (v) => isObjectLike(v) && #method in v;
    requestInternals = {
      body: (r) => r.#body,
      headers: (r) => r.#headers,
      method: (r) => r.#method,
      signal: (r) => r.#signal,
      url: (r) => r.#url,
      access: (r) => {
        if (!isRequest(r)) throw new TypeError('Illegal invocation');
        return { body: r.#body, headers: r.#headers };
      },
      /**
       * What a stub's fetch(input, init) sends: {method, url, headers, body} of new Request(input, init).
       * For a Request and no init (`stub.fetch(request)`, the common call) the copy's parts without
       * the copy: the same checks and the body moved out of the input as the copy would, but no
       * header list validated again, no signal, no cf parsed; its headers are the input's own, to
       * be read at once (before the input can change).
       */
      forCall(input, init) {
        if (init !== undefined || !isRequest(input)) {
          const r = new Request(input, init);
          return { method: r.#method, url: r.#url, headers: r.#headers, body: r.#body };
        }
        const inputBody = input.#body;
        if (inputBody !== null && (input.#method === 'GET' || input.#method === 'HEAD')) {
          throw new TypeError('Request with a GET or HEAD method cannot have a body.');
        }
        return { method: input.#method, url: input.#url, headers: input.#headers, body: inputBody === null ? null : inputBody.transfer() };
      },
      /** Build an incoming request (dispatchFetch) with immutable headers. */
      incoming(method, url, headerPairs, body, cfJson) {
        const r = new Request(INCOMING);
        r.#method = method;
        r.#cfJson = cfJson;
        r.#url = url;
        for (const p of headerPairs) appendHeader(r.#headers, p[0], p[1]);
        setHeadersGuard(r.#headers, 'immutable');
        r.#body = body;
        return r;
      },
    };
  }
}
installBodyMixin(Request, (r) => requestInternals.access(r));
webidlClass(Request);

export { isRequest, requestInternals };
