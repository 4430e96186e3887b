// What bundled packages (readable-stream) take from `process`: nextTick, on a microtask.
const queue = globalThis.queueMicrotask;
export const nextTick = (fn, ...args) => queue(() => fn(...args));
export const env = {};
export const stdout = undefined;
export const stderr = undefined;
export default { nextTick, env, stdout, stderr };
