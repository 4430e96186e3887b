// The global scope as an event target, as workerd's ServiceWorkerGlobalScope: addEventListener,
// removeEventListener and dispatchEvent on globalThis, and the events the runtime fires there:
// 'error' for an exception nothing caught, 'unhandledrejection' and 'rejectionhandled'.
import { Event, EventTarget } from './events.js';
import { ErrorEvent } from './websocket.js';
import { toDictionary, webidlClass, illegalConstructor, ReflectApply } from './util.js';
import { onUncaught, reportRejection } from './report.js';
import { safeLog } from './host.js';

export class PromiseRejectionEvent extends Event {
  #promise; #reason;
  constructor(type, init = undefined) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'PromiseRejectionEvent': 1 argument required, but only 0 present.");
    super(type, init);
    const opts = toDictionary(init, "Failed to construct 'PromiseRejectionEvent'");
    this.#promise = opts.promise;
    this.#reason = opts.reason;
  }
  get promise() { return this.#promise; }
  get reason() { return this.#reason; }
}
webidlClass(PromiseRejectionEvent);

// Present as in workerd, but only the runtime could make one (its waitUntil needs a trusted event),
// and no service-worker event is dispatched here.
export class ExtendableEvent extends Event {
  constructor() {
    illegalConstructor();
  }
}
webidlClass(ExtendableEvent);

const target = new EventTarget();

export function addEventListener(type, listener, options = undefined) {
  if (arguments.length < 2) throw new TypeError(`Failed to execute 'addEventListener' on 'ServiceWorkerGlobalScope': 2 arguments required, but only ${arguments.length} present.`);
  target.addEventListener(type, listener, options);
}
export function removeEventListener(type, listener, options = undefined) {
  if (arguments.length < 2) throw new TypeError(`Failed to execute 'removeEventListener' on 'ServiceWorkerGlobalScope': 2 arguments required, but only ${arguments.length} present.`);
  target.removeEventListener(type, listener, options);
}
export function dispatchEvent(event) {
  return target.dispatchEvent(event);
}

// An exception nothing caught: an 'error' event first; logged unless a listener canceled it.
let reporting = false;
onUncaught((err) => {
  if (reporting) return false; // a listener of 'error' threw: log it, do not fire again
  reporting = true;
  try {
    let message; // as workerd and browsers: "Uncaught Error: boom", "Uncaught boom"
    try {
      message = `Uncaught ${String(err)}`;
    } catch {
      message = 'Uncaught exception';
    }
    return !dispatchEvent(new ErrorEvent('error', { error: err, message, cancelable: true }));
  } finally {
    reporting = false;
  }
});

// Unhandled rejections. V8 tells the host of a rejection that has no handler and of a handler added
// to a rejected promise (Isolate.java, through promiseRejected/promiseHandled); after the microtask
// checkpoint the host calls reportRejections(), which fires 'unhandledrejection' for each one
// still unhandled (logged unless a listener canceled it) and 'rejectionhandled' for a reported one
// that got a handler since, as workerd does.
// The first two run inside V8's callback: with the intrinsics captured here, code that replaced
// Map or WeakSet methods does not run there.
const mapSet = Map.prototype.set, mapDelete = Map.prototype.delete, mapForEach = Map.prototype.forEach, mapClear = Map.prototype.clear;
const weakSetAdd = WeakSet.prototype.add, weakSetHas = WeakSet.prototype.has, weakSetDelete = WeakSet.prototype.delete;
const pending = new Map(); // promise -> reason, in the order of the rejections
let reported = new WeakSet();
const handledLate = new Map(); // promise -> true: reported, then handled

export function promiseRejected(promise, reason) {
  ReflectApply(mapSet, pending, [promise, reason]);
}

export function promiseHandled(promise) {
  if (ReflectApply(mapDelete, pending, [promise])) return;
  if (ReflectApply(weakSetHas, reported, [promise])) {
    ReflectApply(weakSetDelete, reported, [promise]);
    ReflectApply(mapSet, handledLate, [promise, true]);
  }
}

/** Fires the events of the rejections noted since the last call; false when there was none. */
export function reportRejections() {
  const rejections = [], handled = [];
  ReflectApply(mapForEach, pending, [(reason, promise) => { rejections[rejections.length] = [promise, reason]; }]);
  ReflectApply(mapForEach, handledLate, [(_, promise) => { handled[handled.length] = promise; }]);
  if (rejections.length === 0 && handled.length === 0) return false;
  ReflectApply(mapClear, pending, []);
  ReflectApply(mapClear, handledLate, []);
  for (let i = 0; i < rejections.length; i++) {
    const promise = rejections[i][0], reason = rejections[i][1];
    ReflectApply(weakSetAdd, reported, [promise]);
    let canceled = false;
    try {
      canceled = !dispatchEvent(new PromiseRejectionEvent('unhandledrejection', { promise, reason, cancelable: true }));
    } catch (err) {
      safeLog('error', `unhandledrejection could not be dispatched: ${err}`);
    }
    if (!canceled) reportRejection(reason);
  }
  // workerd's rejectionhandled carries no reason (V8 does not give it when a handler is added).
  for (let i = 0; i < handled.length; i++) dispatchEvent(new PromiseRejectionEvent('rejectionhandled', { promise: handled[i] }));
  return true;
}

/** Drops what was noted (a load that failed reports its error itself). */
export function forgetRejections() {
  ReflectApply(mapClear, pending, []);
  ReflectApply(mapClear, handledLate, []);
  reported = new WeakSet();
}
