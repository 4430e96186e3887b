// A lazily loaded part of the prelude (build.mjs `parts`): SubtleCrypto's implementation
// (src/subtle-impl.js and crypto-keys.js), compiled into an isolate by its first crypto.subtle call
// (src/subtle.js asks the host for it). Not in the startup snapshot: most workers never use it.
export { impl as part } from '../subtle-impl.js';
