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
//
// The frame also says which invocation a continuation belongs to (INVOCATION, set when an event
// is dispatched): the one current when the reaction was made, as workerd resumes a continuation in
// the IoContext that awaited, not in the one whose task settled the promise. The owned host
// functions (host.js) pass it with each call; a frame without it (the root) leaves the host's own.
import { ReflectApply } from './util.js';

// Captured before any worker code runs: a worker that replaces Map or its methods changes nothing here.
const SafeMap = Map;
const mapGet = Map.prototype.get, mapSet = Map.prototype.set, mapHas = Map.prototype.has, mapDelete = Map.prototype.delete;
const mapSize = Object.getOwnPropertyDescriptor(Map.prototype, 'size').get;
const mapEntries = Map.prototype.entries;
const mapIteratorNext = Object.getPrototypeOf(new Map().entries()).next;

// The key of the invocation id in a frame, and of the mark of a durable object's event (whose
// invocations share the object's I/O, as workerd gives an object one IoContext); user code never
// holds them.
const INVOCATION = { __proto__: null };
const SHARED = { __proto__: null };

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

/**
 * The frame an event of invocation id starts in: no AsyncLocalStorage store, only the invocation
 * ({@code shared}: an event of a durable object).
 */
export function invocationFrame(id, shared) {
  const frame = new SafeMap();
  ReflectApply(mapSet, frame, [INVOCATION, id]);
  if (shared) ReflectApply(mapSet, frame, [SHARED, true]);
  return frame;
}

/**
 * The invocation whose I/O objects (RPC promises and their pipelines) the running code may use
 * alone, as workerd's IoContext: 0 when the frame names none or a durable object's event.
 */
export function requestOwner() {
  const frame = getData();
  if (frame === undefined || ReflectApply(mapGet, frame, [SHARED]) === true) return 0;
  const id = ReflectApply(mapGet, frame, [INVOCATION]);
  return id === undefined ? 0 : id;
}

/** workerd's error for an I/O object of one request used by another (io-context.c++'s words). */
export function crossRequestError(type) {
  return new Error('Cannot perform I/O on behalf of a different request. I/O objects (such as streams, '
    + 'request/response bodies, and others) created in the context of one request handler cannot be '
    + "accessed from a different request's handler. This is a limitation of Cloudflare Workers which "
    + `allows us to improve overall performance. (I/O type: ${type})`);
}

/** The invocation the running code belongs to by its frame; 0 when the frame does not say. */
export function frameInvocation() {
  const frame = getData();
  if (frame === undefined) return 0;
  const id = ReflectApply(mapGet, frame, [INVOCATION]);
  return id === undefined ? 0 : id;
}

/**
 * frame with the current frame's invocation instead of its own: for a frame captured earlier and
 * entered again by AsyncLocalStorage.bind/snapshot or an AsyncResource, whose stores come back but
 * whose work belongs to the invocation running now.
 */
export function frameHere(frame) {
  const id = frameInvocation();
  const shared = valueIn(getData(), SHARED) === true;
  if (valueIn(frame, INVOCATION) === (id === 0 ? undefined : id) && (valueIn(frame, SHARED) === true) === shared) return frame;
  const next = id === 0 ? frameWithout(frame, INVOCATION) : frameWith(frame, INVOCATION, id);
  return shared ? frameWith(next, SHARED, true) : frameWithout(next, SHARED);
}

/**
 * Whether code running now may enter a frame captured earlier as workerd's
 * bind_asynclocalstorage_snapshot_to_request allows: it was captured outside any request, or in a
 * durable object's event (an object's events share one IoContext), or in the request running now.
 */
export function frameOfThisRequest(frame) {
  const made = valueIn(frame, INVOCATION);
  return made === undefined || valueIn(frame, SHARED) === true || made === frameInvocation();
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
