// esbuild "inject" shims: free references to these globals inside bundled packages
// (web-streams-polyfill) resolve to the prelude's own implementations, not to
// whatever user code may later put on globalThis.
export { AbortController } from './events.js';
export { queueMicrotask } from './timers.js';
export { structuredClone } from './structured-clone.js';
export { URL } from './url.js';
