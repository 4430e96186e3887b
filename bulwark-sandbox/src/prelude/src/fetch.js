// fetch(): builds a Request, reads its body, calls host.fetch, and wraps the result.
import { H } from './host.js';
import { PromiseCtor, PromiseResolve, PromiseThen } from './util.js';
import { Request, requestInternals } from './request.js';
import { responseInternals } from './response.js';
import { headersToPairs } from './headers.js';
import { addAbortAlgorithm, removeAbortAlgorithm } from './events.js';
import { ReadableStream } from './streams-core.js';

function abortResponseBody(response, reason) {
  const body = responseInternals.body(response);
  if (body === null || body.used || body.stream !== null) return;
  body.bytes = null;
  body.stream = new ReadableStream({ start(c) { c.error(reason); } });
}

// What one fetch() may hand the host (checked here, before anything is copied out of V8).
const MAX_URL = 16 * 1024;
const MAX_HEADER_CHARS = 256 * 1024;
const MAX_BODY = 8 * 1024 * 1024;

function checkSubrequestSize(url, pairs, bytes) {
  if (url.length > MAX_URL) throw new TypeError(`fetch(): the URL is longer than ${MAX_URL} characters.`);
  let chars = 0;
  for (let i = 0; i < pairs.length; i++) chars += pairs[i][0].length + pairs[i][1].length + 1;
  if (chars > MAX_HEADER_CHARS) throw new TypeError(`fetch(): the request headers are larger than ${MAX_HEADER_CHARS} characters.`);
  if (bytes !== null && bytes.byteLength > MAX_BODY) {
    throw new TypeError(`fetch(): a request body of ${bytes.byteLength} bytes is larger than this node sends upstream (${MAX_BODY} bytes).`);
  }
}

export function fetch(input, init = undefined) {
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
    const bodyPromise = body === null ? PromiseResolve(null) : body.consume();
    PromiseThen(bodyPromise, (bytes) => {
      if (settled) return;
      let pending;
      try {
        const url = requestInternals.url(request);
        const pairs = headersToPairs(requestInternals.headers(request));
        checkSubrequestSize(url, pairs, bytes);
        pending = H.fetch(requestInternals.method(request), url, pairs, bytes, invocation);
      } catch (err) {
        fail(err);
        return;
      }
      PromiseThen(PromiseResolve(pending), (result) => {
        if (settled) return; // aborted meanwhile: ignore the late result
        try {
          response = responseInternals.fromHost(result, requestInternals.url(request));
        } catch (err) {
          fail(err);
          return;
        }
        settled = true;
        resolve(response);
      }, fail);
    }, fail);
  });
}
