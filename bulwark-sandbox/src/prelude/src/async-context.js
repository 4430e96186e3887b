// The async context frame: the value V8 carries along every continuation ("continuation-preserved
// embedder data"). V8 captures it when a promise reaction is made (await, then, thenables) and
// restores it when the reaction runs, so it survives native async/await. The two functions that
// read and write it come from V8's extras binding object, which the host digs out of the native
// context (AsyncContextHost.java) and hands to install(): user code can never reach them.
//
// A frame is undefined (the root: no AsyncLocalStorage has a store) or a frozen Map from an
// AsyncLocalStorage to its store. node:async_hooks builds on currentFrame/runInFrame; timers
// capture the frame when they are set and run their callback in it.
import { ReflectApply } from './util.js';

let getData = () => undefined;
let setData = () => {};

export function installAsyncContext(get, set) {
  if (typeof get !== 'function' || typeof set !== 'function') throw new TypeError('async context functions missing');
  getData = get;
  setData = set;
}

export function currentFrame() {
  return getData();
}

/** Replaces the current frame (no restore): for entry points from the host only. */
export function enterFrame(frame) {
  setData(frame);
}

/** Calls fn with the frame current, then puts the previous frame back. */
export function runInFrame(frame, fn, thisArg, args) {
  const previous = getData();
  setData(frame);
  try {
    return ReflectApply(fn, thisArg, args);
  } finally {
    setData(previous);
  }
}
