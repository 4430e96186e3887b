// fetch(): builds a Request, reads its body, calls host.fetch, and wraps the result.
import { outboundFetch } from './services.js';
import { H } from './host.js';
import { PromiseCtor, PromiseResolve, PromiseThen } from './util.js';
import { Request, requestInternals } from './request.js';
import { responseInternals } from './response.js';
import { headersToPairs } from './headers.js';
import { addAbortAlgorithm, removeAbortAlgorithm } from './events.js';
import { ReadableStream } from './streams-core.js';
import { parseURL, serializeURL, serializeOrigin } from './url.js';
import { startUpload } from './egress.js';
import { compat, STRIP_AUTHORIZATION } from './compat.js';

function abortResponseBody(response, reason) {
  const body = responseInternals.body(response);
  if (body === null || body.used || body.stream !== null) return;
  body.bytes = null;
  body.stream = new ReadableStream({ start(c) { c.error(reason); } });
}

// What one fetch() may hand the host (checked here, before anything is copied out of V8).
const MAX_URL = 16 * 1024;
const MAX_HEADER_CHARS = 256 * 1024;
// Request bodies in hand up to this size cross in the Subrequest message; larger ones are streamed.
const INLINE_BODY = 1024 * 1024;

function checkSubrequestSize(url, pairs, bytes) {
  if (url.length > MAX_URL) throw new TypeError(`fetch(): the URL is longer than ${MAX_URL} characters.`);
  let chars = 0;
  for (let i = 0; i < pairs.length; i++) chars += pairs[i][0].length + pairs[i][1].length + 1;
  if (chars > MAX_HEADER_CHARS) throw new TypeError(`fetch(): the request headers are larger than ${MAX_HEADER_CHARS} characters.`);
  if (bytes !== null && bytes.byteLength > INLINE_BODY) throw new TypeError('fetch(): internal error: an inline body over the inline limit.');
}

const MAX_REDIRECTS = 20;
const REQUEST_BODY_HEADERS = new Set(['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']);

function dropHostBody(result) {
  if (typeof result.stream === 'number') {
    try { H.subrequestCancel(result.stream); } catch { /* the request is over */ }
  }
}

function originOf(url) {
  const u = parseURL(url);
  return u === null ? '' : serializeOrigin(u);
}

/** Where a redirect response sends a "follow" request next (a URL string), an Error for "error"/bad ones, or null. */
function redirectTarget(request, result, currentUrl) {
  const s = result.status;
  if (s !== 301 && s !== 302 && s !== 303 && s !== 307 && s !== 308) return null;
  const mode = request.redirect;
  if (mode === 'manual') return null;
  let location = null;
  for (const p of result.headers) if (p[0].toLowerCase() === 'location') { location = p[1]; break; }
  if (location === null) return null;
  if (mode === 'error') return new TypeError('Redirect was not allowed (redirect: "error").');
  const next = parseURL(location, currentUrl);
  if (next === null) return new TypeError(`Invalid redirect location: ${location}`);
  if (next.scheme !== 'http' && next.scheme !== 'https') return new TypeError(`Fetch API cannot follow a redirect to ${next.scheme}:`);
  return serializeURL(next);
}

export function fetch(input, init = undefined) {
  // A dynamic worker whose globalOutbound is a fetcher: every fetch() goes to its fetch handler.
  const viaOutbound = outboundFetch(input, init);
  if (viaOutbound !== null) return viaOutbound;
  return new PromiseCtor((resolve, reject) => {
    let request;
    try {
      request = new Request(input, init);
    } catch (err) {
      reject(err);
      return;
    }
    let invocation = 0;
    try { invocation = H.currentInvocation() || 0; } catch { /* ignore */ }
    const signal = requestInternals.signal(request);
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    let settled = false;
    let response = null;
    const onAbort = () => {
      if (!settled) {
        settled = true;
        reject(signal.reason);
      } else if (response !== null) {
        abortResponseBody(response, signal.reason);
      }
    };
    addAbortAlgorithm(signal, onAbort);
    const fail = (err) => {
      if (settled) return;
      settled = true;
      removeAbortAlgorithm(signal, onAbort);
      reject(err);
    };
    const body = requestInternals.body(request);
    // A body that is a stream is sent as one (pulled by the node); bytes in hand cross at once.
    let upload = null;
    if (body !== null && body.peekBytes() === null && body.stream !== null) {
      if (body.unusable) { fail(new TypeError('Body has already been used. It can only be used once. Use tee() first if you need to read it twice.')); return; }
      upload = body.stream;
    }
    const bodyPromise = body === null || upload !== null ? PromiseResolve(null) : body.consume();
    PromiseThen(bodyPromise, (bytes) => {
      if (settled) return;
      const requestUrl = requestInternals.url(request);
      // One hop: a request to the gateway; a redirect (mode "follow") is a new hop, which the
      // gateway checks against the allowlist and the address rules like any other request.
      const hop = (method, url, pairs, body, redirects) => {
        let pending;
        try {
          const large = body !== null && body.byteLength > INLINE_BODY;
          checkSubrequestSize(url, pairs, large ? null : body);
          if ((upload !== null && redirects === 0) || large) {
            // Large bytes are streamed too (a plain stream: the bytes stay usable for a redirect).
            const source = large ? new ReadableStream({ start(c) { c.enqueue(body); c.close(); } }) : upload;
            const [promise, id] = H.fetch(method, url, pairs, null, invocation, true);
            startUpload(Number(id), source, Number(invocation));
            pending = promise;
          } else {
            pending = H.fetch(method, url, pairs, body, invocation);
          }
        } catch (err) {
          fail(err);
          return;
        }
        PromiseThen(PromiseResolve(pending), (result) => {
          if (settled) {
            dropHostBody(result);
            return; // aborted meanwhile: ignore the late result
          }
          const next = redirectTarget(request, result, url);
          if (next !== null) {
            dropHostBody(result);
            if (next instanceof Error) { fail(next); return; }
            if (redirects >= MAX_REDIRECTS) { fail(new TypeError('Too many redirects.')); return; }
            const status = result.status;
            let nextMethod = method, nextBody = body, nextPairs = pairs;
            if ((status === 303 && method !== 'GET' && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
              nextMethod = 'GET';
              nextBody = null;
              nextPairs = nextPairs.filter((p) => !REQUEST_BODY_HEADERS.has(p[0].toLowerCase()));
            } else if (upload !== null) {
              // A streamed body was sent once and cannot be sent again (as the Fetch standard says).
              fail(new TypeError('Cannot follow a redirect with a streamed request body.'));
              return;
            }
            // strip_authorization_on_cross_origin_redirect (from 2025-09-01), as the Fetch Standard says.
            if (compat(STRIP_AUTHORIZATION) && originOf(next) !== originOf(url)) nextPairs = nextPairs.filter((p) => p[0].toLowerCase() !== 'authorization');
            hop(nextMethod, next, nextPairs, nextBody, redirects + 1);
            return;
          }
          try {
            response = responseInternals.fromHost(result, requestUrl);
          } catch (err) {
            fail(err);
            return;
          }
          settled = true;
          resolve(response);
        }, fail);
      };
      let pairs;
      try {
        pairs = headersToPairs(requestInternals.headers(request));
      } catch (err) {
        fail(err);
        return;
      }
      hop(requestInternals.method(request), requestUrl, pairs, bytes, 0);
    }, fail);
  });
}
