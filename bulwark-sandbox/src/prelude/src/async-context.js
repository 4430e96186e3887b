// The async context frame: the value V8 carries along every continuation ("continuation-preserved
// embedder data"). V8 captures it when a promise reaction is made (await, then, thenables) and
// restores it when the reaction runs, so it survives native async/await. The two functions that
// read and write it come from V8's extras binding object, which the host digs out of the native
// context (AsyncContextHost.java) and hands to install(): user code can never reach them.
//
// A frame is undefined (the root: no AsyncLocalStorage has a store) or a Map, never changed once
// made, from a key (an AsyncLocalStorage, or a key of the prelude's own, which user code never
// holds) to its value. node:async_hooks builds on these functions; timers capture the frame when
// they are set and run their callback in it.
import { ReflectApply } from './util.js';

// Captured before any worker code runs: a worker that replaces Map or its methods changes nothing here.
const SafeMap = Map;
const mapGet = Map.prototype.get, mapSet = Map.prototype.set, mapHas = Map.prototype.has, mapDelete = Map.prototype.delete;
const mapSize = Object.getOwnPropertyDescriptor(Map.prototype, 'size').get;
const mapEntries = Map.prototype.entries;
const mapIteratorNext = Object.getPrototypeOf(new Map().entries()).next;

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

function copy(frame) {
  const next = new SafeMap();
  if (frame !== undefined) {
    const it = ReflectApply(mapEntries, frame, []);
    for (let e = ReflectApply(mapIteratorNext, it, []); !e.done; e = ReflectApply(mapIteratorNext, it, [])) {
      ReflectApply(mapSet, next, e.value);
    }
  }
  return next;
}

/** frame with key set to value (a new frame). */
export function frameWith(frame, key, value) {
  const next = copy(frame);
  ReflectApply(mapSet, next, [key, value]);
  return next;
}

/** frame without key (a new frame, or the root when nothing is left). */
export function frameWithout(frame, key) {
  if (frame === undefined || !ReflectApply(mapHas, frame, [key])) return frame;
  const next = copy(frame);
  ReflectApply(mapDelete, next, [key]);
  return ReflectApply(mapSize, next, []) === 0 ? undefined : next;
}

/** The value of key in frame, undefined when it has none. */
export function valueIn(frame, key) {
  return frame === undefined ? undefined : ReflectApply(mapGet, frame, [key]);
}
