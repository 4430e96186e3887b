// What node.js (the node:* modules, evaluated only for workers under nodejs_compat) needs from the
// prelude: the async context frame, console's formatter, and host functions. Handed over through
// the runtime object, which only the host sees.
import { H } from './host.js';
import { currentFrame, runInFrame, frameWith, frameWithout, frameHere, frameOfThisRequest, valueIn } from './async-context.js';
import { compat, BIND_ALS_SNAPSHOT } from './compat.js';
import { format, inspect } from './console.js';

/**
 * frameHere for node:async_hooks (AsyncLocalStorage.bind/snapshot, AsyncResource): from 2025-06-16
 * (bind_asynclocalstorage_snapshot_to_request) a frame captured in one request cannot be entered
 * from another, with workerd's error. Also AsyncResource.runInAsyncScope, which workerd does not
 * check (node.js calls this one function for all three).
 */
function boundFrameHere(frame) {
  if (compat(BIND_ALS_SNAPSHOT) && !frameOfThisRequest(frame)) {
    throw new Error('Cannot call this AsyncLocalStorage bound function outside of the request in which it was created.');
  }
  return frameHere(frame);
}

export const nodeInternals = Object.freeze({
  currentFrame,
  runInFrame,
  frameWith,
  frameWithout,
  frameHere: boundFrameHere,
  valueIn,
  format,
  inspect,
  /** bytes -> Uint8Array digest; algorithm is md5, sha1, sha224, sha256, sha384 or sha512. */
  hash: (algorithm, bytes) => H.nodeHash(algorithm, bytes),
  hmac: (algorithm, key, bytes) => H.nodeHmac(algorithm, key, bytes),
  randomBytes: (n) => H.randomBytes(n),
});
