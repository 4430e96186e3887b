// What node.js (the node:* modules, evaluated only for workers under nodejs_compat) needs from the
// prelude: the async context frame, console's formatter, and host functions. Handed over through
// the runtime object, which only the host sees.
import { H } from './host.js';
import { currentFrame, runInFrame, frameWith, frameWithout, frameHere, valueIn } from './async-context.js';
import { format, inspect } from './console.js';

export const nodeInternals = Object.freeze({
  currentFrame,
  runInFrame,
  frameWith,
  frameWithout,
  frameHere,
  valueIn,
  format,
  inspect,
  /** bytes -> Uint8Array digest; algorithm is md5, sha1, sha224, sha256, sha384 or sha512. */
  hash: (algorithm, bytes) => H.nodeHash(algorithm, bytes),
  hmac: (algorithm, key, bytes) => H.nodeHmac(algorithm, key, bytes),
  randomBytes: (n) => H.randomBytes(n),
});
