// What html-rewriter-wasm's glue takes from Node ('util' and 'assert'), from the prelude instead.
export { TextDecoder, TextEncoder } from './encoding.js';

function assert(value, message) {
  if (!value) throw new Error(message || 'HTMLRewriter: internal assertion failed');
}
assert.strictEqual = (actual, expected, message) => {
  if (actual !== expected) throw new Error(message || `HTMLRewriter: internal assertion failed (${actual} !== ${expected})`);
};
export { assert };
