// Response (Fetch Standard).
import { toDictionary, toByteString, webidlClass, isObjectLike } from './util.js';
import { subrequestBodyStream } from './egress.js';
import { Headers, fillHeaders, setHeadersGuard, getHeadersGuard, headerHas, appendHeader } from './headers.js';
import { Body, extractBody, installBodyMixin, bytesToStream } from './body.js';
import { parseURL, serializeURL } from './url.js';
import { utf8Encode } from './encoding.js';
import { inspectCustom } from './console.js';
import { socketInternals } from './websocket.js';

let isResponse, responseInternals;

const nullBodyStatus = (s) => s === 101 || s === 103 || s === 204 || s === 205 || s === 304;
const redirectStatus = (s) => s === 301 || s === 302 || s === 303 || s === 307 || s === 308;
const reasonPhraseRe = /^[\t\x20-\x7e\x80-\xff]*$/;

export class Response {
  #type = 'default';
  #status = 200;
  #statusText = '';
  #headers = new Headers();
  #body = null;
  #urlList = [];
  #webSocket = null;
  #cf = undefined;

  constructor(body = null, init = undefined) {
    const opts = toDictionary(init, "Failed to construct 'Response'");
    let status = 200;
    if (opts.status !== undefined) {
      status = Number(opts.status);
      status = Number.isFinite(status) ? Math.trunc(status) % 65536 : 0;
      if (status < 0) status += 65536;
    }
    if (opts.webSocket !== undefined && opts.webSocket !== null) {
      if (status !== 101) throw new RangeError('Responses with a WebSocket must have status code 101.');
      if (!socketInternals.isSocket(opts.webSocket)) throw new TypeError("Failed to construct 'Response': webSocket is not a WebSocket.");
      this.#webSocket = opts.webSocket;
    } else if (status < 200 || status > 599) {
      throw new RangeError(`Failed to construct 'Response': The status provided (${status}) is outside the range [200, 599].`);
    }
    if (opts.statusText !== undefined) {
      const st = toByteString(opts.statusText, "Failed to construct 'Response'");
      if (!reasonPhraseRe.test(st)) throw new TypeError("Failed to construct 'Response': Invalid statusText");
      this.#statusText = st;
    }
    this.#status = status;
    if (opts.cf !== undefined && opts.cf !== null) this.#cf = opts.cf;
    if (opts.headers !== undefined) fillHeaders(this.#headers, opts.headers);
    if (body !== null && body !== undefined) {
      if (nullBodyStatus(status)) throw new TypeError(`Response with null body status (${status}) cannot have a body.`);
      const { body: b, type } = extractBody(body);
      this.#body = b;
      if (type !== null && !headerHas(this.#headers, 'content-type')) appendHeader(this.#headers, 'content-type', type);
    }
  }

  static error() {
    const r = new Response(null);
    r.#type = 'error';
    r.#status = 0;
    setHeadersGuard(r.#headers, 'immutable');
    return r;
  }
  static redirect(url, status = 302) {
    const r = parseURL(url);
    if (r === null) throw new TypeError(`Failed to execute 'redirect' on 'Response': Invalid URL: ${url}`);
    status = Number(status);
    if (!redirectStatus(status)) throw new RangeError(`Failed to execute 'redirect' on 'Response': Invalid status code ${status}`);
    const res = new Response(null, { status });
    appendHeader(res.#headers, 'location', serializeURL(r));
    setHeadersGuard(res.#headers, 'immutable');
    return res;
  }
  static json(data, init = undefined) {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError("Failed to execute 'json' on 'Response': The data is not JSON serializable");
    const opts = toDictionary(init, "Failed to execute 'json' on 'Response'");
    const res = new Response(null, { status: opts.status, statusText: opts.statusText, headers: opts.headers });
    if (nullBodyStatus(res.#status)) throw new TypeError(`Response with null body status (${res.#status}) cannot have a body.`);
    res.#body = new Body(utf8Encode(text), null);
    if (!headerHas(res.#headers, 'content-type')) appendHeader(res.#headers, 'content-type', 'application/json');
    return res;
  }

  get type() { return this.#type; }
  get url() {
    const last = this.#urlList.length ? this.#urlList[this.#urlList.length - 1] : '';
    const i = last.indexOf('#');
    return i >= 0 ? last.slice(0, i) : last;
  }
  get redirected() { return this.#urlList.length > 1; }
  get status() { return this.#status; }
  get ok() { return this.#status >= 200 && this.#status <= 299; }
  get statusText() { return this.#statusText; }
  get headers() { return this.#headers; }
  get webSocket() { return this.#webSocket; }
  get cf() { return this.#cf; }

  clone() {
    if (this.#body !== null && this.#body.unusable) throw new TypeError("Failed to execute 'clone' on 'Response': Response body is already used");
    const r = new Response(null);
    r.#type = this.#type;
    r.#status = this.#status;
    r.#statusText = this.#statusText;
    r.#urlList = this.#urlList.slice();
    r.#cf = this.#cf;
    fillHeaders(r.#headers, this.#headers);
    setHeadersGuard(r.#headers, getHeadersGuard(this.#headers));
    r.#body = this.#body === null ? null : this.#body.clone();
    return r;
  }
  [inspectCustom]() {
    return { name: 'Response', value: { status: this.#status, statusText: this.#statusText, headers: this.#headers, ok: this.ok, redirected: this.redirected, url: this.url, body: this.#body === null ? null : this.body, bodyUsed: this.bodyUsed } };
  }

  static {
    isResponse = (v) => isObjectLike(v) && #status in v;
    responseInternals = {
      access: (r) => {
        if (!isResponse(r)) throw new TypeError('Illegal invocation');
        return { body: r.#body, headers: r.#headers };
      },
      body: (r) => r.#body,
      parts: (r) => ({ type: r.#type, status: r.#status, statusText: r.#statusText, headers: r.#headers, body: r.#body, webSocket: r.#webSocket }),
      /** Response from a host fetch result. */
      fromHost(result, requestUrl, signal) {
        const r = new Response(null);
        r.#status = result.status;
        r.#statusText = result.statusText ?? '';
        for (const p of result.headers) {
          // A durable object's 101: the node names the socket it handed over (a name no worker can set).
          if (p[0] === ':bulwark-websocket') {
            if (result.status === 101) r.#webSocket = socketInternals.remote(Number(p[1]));
            continue;
          }
          appendHeader(r.#headers, p[0], p[1]);
        }
        setHeadersGuard(r.#headers, 'immutable');
        r.#type = 'basic';
        r.#urlList = result.url && result.url !== requestUrl ? [requestUrl, result.url] : [result.url || requestUrl];
        if (typeof result.stream === 'number') {
          r.#body = new Body(null, subrequestBodyStream(result.stream));
        } else if (result.body !== null && result.body !== undefined) {
          r.#body = new Body(result.body, null);
        }
        return r;
      },
    };
  }
}
installBodyMixin(Response, (r) => responseInternals.access(r));
webidlClass(Response);

export { isResponse, responseInternals };
