// Event, EventTarget, CustomEvent, AbortController, AbortSignal (DOM Standard, no tree).
import { ObjectDefineProperty, toDOMString, toDictionary, illegalConstructor, webidlClass, isObjectLike, ReflectApply } from './util.js';
import { DOMException } from './dom-exception.js';
import { reportException } from './report.js';
import { internalSetTimeout } from './timers.js';
import { inspectCustom } from './console.js';
import { now, timeOrigin } from './clock.js';
import { requestOwner, crossRequestError } from './async-context.js';
import { compat, EVENT_TARGET_THIS } from './compat.js';

const NONE = 0, CAPTURING_PHASE = 1, AT_TARGET = 2, BUBBLING_PHASE = 3;

// Internal accessors, assigned by the classes' static blocks.
let eventIsTrusted, isEvent, eventInternals;
let removeRecord, listenersOf, isEventTarget;
let isAbortSignal, newSignal, addAbortAlgorithm, removeAbortAlgorithm, signalAbort, signalAborted;

const isTrustedGetter = function isTrusted() { return eventIsTrusted(this); };

export class Event {
  #type;
  #bubbles = false;
  #cancelable = false;
  #composed = false;
  #target = null;
  #currentTarget = null;
  #phase = NONE;
  #stopPropagation = false;
  #stopImmediate = false;
  #canceled = false;
  #inPassive = false;
  #dispatching = false;
  #initialized = true;
  #trusted = false;
  #timeStamp = now() - timeOrigin();

  constructor(type, eventInitDict = undefined) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'Event': 1 argument required, but only 0 present.");
    this.#type = toDOMString(type);
    const init = toDictionary(eventInitDict, "Failed to construct 'Event'");
    this.#bubbles = !!init.bubbles;
    this.#cancelable = !!init.cancelable;
    this.#composed = !!init.composed;
    ObjectDefineProperty(this, 'isTrusted', { get: isTrustedGetter, enumerable: true, configurable: false });
  }
  get type() { return this.#type; }
  get target() { return this.#target; }
  get srcElement() { return this.#target; }
  get currentTarget() { return this.#currentTarget; }
  composedPath() { return this.#currentTarget !== null ? [this.#currentTarget] : []; }
  get eventPhase() { return this.#phase; }
  stopPropagation() { this.#stopPropagation = true; }
  get cancelBubble() { return this.#stopPropagation; }
  set cancelBubble(v) { if (v) this.#stopPropagation = true; }
  stopImmediatePropagation() { this.#stopPropagation = true; this.#stopImmediate = true; }
  get bubbles() { return this.#bubbles; }
  get cancelable() { return this.#cancelable; }
  get returnValue() { return !this.#canceled; }
  set returnValue(v) { if (!v && this.#cancelable && !this.#inPassive) this.#canceled = true; }
  preventDefault() { if (this.#cancelable && !this.#inPassive) this.#canceled = true; }
  get defaultPrevented() { return this.#canceled; }
  get composed() { return this.#composed; }
  get timeStamp() { return this.#timeStamp; }
  [inspectCustom]() {
    return { name: this.constructor && typeof this.constructor.name === 'string' ? this.constructor.name : 'Event',
      value: { type: this.#type, defaultPrevented: this.#canceled, cancelable: this.#cancelable, timeStamp: this.#timeStamp } };
  }
  initEvent(type, bubbles = false, cancelable = false) {
    if (this.#dispatching) return;
    this.#initialized = true;
    this.#stopPropagation = false;
    this.#stopImmediate = false;
    this.#canceled = false;
    this.#trusted = false;
    this.#target = null;
    this.#type = toDOMString(type);
    this.#bubbles = !!bubbles;
    this.#cancelable = !!cancelable;
  }

  static {
    eventIsTrusted = (e) => { if (!isObjectLike(e) || !(#trusted in e)) throw new TypeError('Illegal invocation'); return e.#trusted; };
    isEvent = (e) => isObjectLike(e) && #type in e;
    eventInternals = {
      setTrusted(e) { e.#trusted = true; },
      beginDispatch(e, target) {
        if (e.#dispatching || !e.#initialized) throw new DOMException('The event is already being dispatched.', 'InvalidStateError');
        e.#dispatching = true;
        e.#target = target;
        e.#currentTarget = target;
        e.#phase = AT_TARGET;
      },
      endDispatch(e) {
        e.#dispatching = false;
        e.#phase = NONE;
        e.#currentTarget = null;
        e.#stopPropagation = false;
        e.#stopImmediate = false;
      },
      stoppedImmediate(e) { return e.#stopImmediate; },
      setPassive(e, v) { e.#inPassive = v; },
      canceled(e) { return e.#canceled; },
    };
  }
}
for (const [k, v] of [['NONE', NONE], ['CAPTURING_PHASE', CAPTURING_PHASE], ['AT_TARGET', AT_TARGET], ['BUBBLING_PHASE', BUBBLING_PHASE]]) {
  ObjectDefineProperty(Event, k, { value: v, enumerable: true });
  ObjectDefineProperty(Event.prototype, k, { value: v, enumerable: true });
}
webidlClass(Event);
export { isEvent };

export class CustomEvent extends Event {
  #detail;
  constructor(type, eventInitDict = undefined) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'CustomEvent': 1 argument required, but only 0 present.");
    super(type, eventInitDict);
    const init = toDictionary(eventInitDict, "Failed to construct 'CustomEvent'");
    this.#detail = init.detail === undefined ? null : init.detail;
  }
  get detail() { return this.#detail; }
  initCustomEvent(type, bubbles = false, cancelable = false, detail = null) {
    this.initEvent(type, bubbles, cancelable);
    this.#detail = detail;
  }
}
webidlClass(CustomEvent);

function flattenOptions(options) {
  if (typeof options === 'boolean') return { capture: options };
  if (options === undefined || options === null) return { capture: false };
  if (!isObjectLike(options)) return { capture: !!options };
  return options;
}

export class EventTarget {
  // Map type -> array of listener records {callback, capture, once, passive, removed, signal, onAbort}
  #listeners = new Map();

  constructor() {}

  addEventListener(type, callback, options = undefined) {
    if (arguments.length < 2) throw new TypeError(`Failed to execute 'addEventListener' on 'EventTarget': 2 arguments required, but only ${arguments.length} present.`);
    type = toDOMString(type);
    const opts = flattenOptions(options);
    const capture = !!opts.capture;
    const once = !!opts.once;
    const passive = opts.passive === undefined ? false : !!opts.passive;
    const signal = opts.signal;
    if (signal !== undefined && !isAbortSignal(signal)) throw new TypeError("Failed to execute 'addEventListener' on 'EventTarget': member signal is not of type AbortSignal.");
    if (callback === null || callback === undefined) return;
    if (!isObjectLike(callback)) throw new TypeError("Failed to execute 'addEventListener' on 'EventTarget': The callback provided as parameter 2 is not an object.");
    if (signal !== undefined && signal.aborted) return;
    let list = this.#listeners.get(type);
    if (list === undefined) { list = []; this.#listeners.set(type, list); }
    for (let i = 0; i < list.length; i++) {
      if (list[i].callback === callback && list[i].capture === capture) return;
    }
    const record = { callback, capture, once, passive, removed: false, signal: null, onAbort: null };
    list.push(record);
    if (signal !== undefined) {
      record.signal = signal;
      record.onAbort = () => removeRecord(this, type, record);
      addAbortAlgorithm(signal, record.onAbort);
    }
  }

  removeEventListener(type, callback, options = undefined) {
    if (arguments.length < 2) throw new TypeError(`Failed to execute 'removeEventListener' on 'EventTarget': 2 arguments required, but only ${arguments.length} present.`);
    type = toDOMString(type);
    const capture = !!flattenOptions(options).capture;
    const list = this.#listeners.get(type);
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) {
      if (list[i].callback === callback && list[i].capture === capture) {
        removeRecord(this, type, list[i]);
        return;
      }
    }
  }

  dispatchEvent(event) {
    if (!isEvent(event)) throw new TypeError("Failed to execute 'dispatchEvent' on 'EventTarget': parameter 1 is not of type 'Event'.");
    return dispatch(this, event);
  }

  static {
    removeRecord = (target, type, record) => {
      const list = target.#listeners.get(type);
      record.removed = true;
      if (record.signal !== null) { removeAbortAlgorithm(record.signal, record.onAbort); record.signal = null; }
      if (list === undefined) return;
      const i = list.indexOf(record);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) target.#listeners.delete(type);
    };
    listenersOf = (target, type) => {
      const list = target.#listeners.get(type);
      return list === undefined ? [] : list.slice();
    };
    isEventTarget = (v) => isObjectLike(v) && #listeners in v;
  }
}
webidlClass(EventTarget);
export { isEventTarget };

/** While {@link collectingReturns} runs: the thenables listeners returned, else null. */
let returned = null;

/**
 * Runs {@code dispatch} and gives back the promises its listeners returned (an async listener's
 * work): a WebSocket event keeps them alive, as workerd's context does for the socket's life.
 */
export function collectingReturns(dispatch) {
  const outer = returned;
  const mine = returned = [];
  try {
    dispatch();
  } finally {
    returned = outer;
  }
  return mine;
}

function keepReturned(value) {
  if (returned !== null && isObjectLike(value) && typeof value.then === 'function') returned.push(value);
}

function invokeListeners(target, event, listeners, phaseCapture) {
  for (let i = 0; i < listeners.length; i++) {
    const l = listeners[i];
    if (l.capture !== phaseCapture || l.removed) continue;
    if (l.once) removeRecord(target, event.type, l);
    if (l.passive) eventInternals.setPassive(event, true);
    try {
      // set_event_target_this (from 2025-08-01): `this` is the target (the listener object for
      // handleEvent), as the DOM Standard says; before it workerd called both with none.
      const withThis = compat(EVENT_TARGET_THIS);
      if (typeof l.callback === 'function') {
        keepReturned(ReflectApply(l.callback, withThis ? target : undefined, [event]));
      } else {
        const handle = l.callback.handleEvent;
        if (typeof handle !== 'function') throw new TypeError("'handleEvent' property of event listener should be a function");
        keepReturned(ReflectApply(handle, withThis ? l.callback : undefined, [event]));
      }
    } catch (err) {
      reportException(err);
    }
    eventInternals.setPassive(event, false);
    if (eventInternals.stoppedImmediate(event)) return true;
  }
  return false;
}

function dispatch(target, event) {
  eventInternals.beginDispatch(event, target);
  try {
    const listeners = listenersOf(target, event.type);
    // At target: capturing listeners first, then non-capturing (current DOM spec).
    if (!invokeListeners(target, event, listeners, true)) invokeListeners(target, event, listeners, false);
  } finally {
    eventInternals.endDispatch(event);
  }
  return !eventInternals.canceled(event);
}

// ---------------------------------------------------------------------------------------
// AbortSignal / AbortController

let creatingSignal = false;

export class AbortSignal extends EventTarget {
  #aborted = false;
  #reason = undefined;
  #algorithms = new Set();
  #onabort = null;
  #dependents = null; // Set of dependent signals (AbortSignal.any)
  #dependent = false;
  // The request that made it (0: global scope or a durable object's event). Its state is that
  // request's I/O, as workerd's signal holds an IoOwn of its IoContext: another request reading
  // it gets workerd's error (its reason and events stay readable, as in workerd).
  #owner = requestOwner();

  constructor() {
    if (!creatingSignal) illegalConstructor();
    super();
  }
  [inspectCustom]() { return { name: 'AbortSignal', value: { aborted: this.#aborted } }; }
  get aborted() { this.#checkOwner(); return this.#aborted; }
  get reason() { return this.#reason; }
  throwIfAborted() { this.#checkOwner(); if (this.#aborted) throw this.#reason; }
  #checkOwner() {
    if (this.#owner === 0) return;
    const here = requestOwner();
    if (here !== 0 && here !== this.#owner) throw crossRequestError('RefcountedCanceler');
  }
  get onabort() { return this.#onabort; }
  set onabort(v) {
    if (this.#onabort !== null) this.removeEventListener('abort', this.#onabort);
    this.#onabort = isObjectLike(v) ? v : null;
    if (this.#onabort !== null) this.addEventListener('abort', this.#onabort);
  }

  static abort(reason = undefined) {
    const s = newSignal();
    s.#aborted = true;
    s.#reason = reason === undefined ? new DOMException('The operation was aborted', 'AbortError') : reason;
    return s;
  }
  static timeout(milliseconds) {
    const ms = Number(milliseconds);
    if (!Number.isFinite(ms) || ms < 0 || ms > Number.MAX_SAFE_INTEGER) throw new TypeError("Failed to execute 'timeout' on 'AbortSignal': Value is outside the 'unsigned long long' value range.");
    const s = newSignal();
    internalSetTimeout(() => {
      signalAbort(s, new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    }, Math.floor(ms));
    return s;
  }
  static any(signals) {
    const list = [];
    for (const s of signals) {
      if (!isAbortSignal(s)) throw new TypeError("Failed to execute 'any' on 'AbortSignal': Failed to convert value to 'AbortSignal'.");
      list.push(s);
    }
    const result = newSignal();
    for (const s of list) {
      if (s.#aborted) { result.#aborted = true; result.#reason = s.#reason; return result; }
    }
    result.#dependent = true;
    for (const s of list) {
      const sources = s.#dependent ? s.#sourcesOf() : [s];
      for (const src of sources) {
        if (src.#dependents === null) src.#dependents = new Set();
        src.#dependents.add(result);
        (result.#sources ??= new Set()).add(src);
      }
    }
    return result;
  }
  #sources = null;
  #sourcesOf() { return this.#sources === null ? [] : [...this.#sources]; }

  static {
    isAbortSignal = (v) => isObjectLike(v) && #aborted in v;
    signalAborted = (s) => s.#aborted;
    newSignal = () => { creatingSignal = true; try { return new AbortSignal(); } finally { creatingSignal = false; } };
    addAbortAlgorithm = (s, fn) => { if (!s.#aborted) s.#algorithms.add(fn); };
    removeAbortAlgorithm = (s, fn) => { s.#algorithms.delete(fn); };
    signalAbort = (s, reason) => {
      if (s.#aborted) return;
      s.#aborted = true;
      s.#reason = reason === undefined ? new DOMException('The operation was aborted', 'AbortError') : reason;
      const dependentsToAbort = [];
      if (s.#dependents !== null) {
        for (const d of s.#dependents) {
          if (!d.#aborted) { d.#aborted = true; d.#reason = s.#reason; dependentsToAbort.push(d); }
        }
        s.#dependents = null;
      }
      runAbortSteps(s);
      for (const d of dependentsToAbort) runAbortSteps(d);
    };
    const runAbortSteps = (s) => {
      const algos = [...s.#algorithms];
      s.#algorithms.clear();
      for (const fn of algos) {
        try { fn(); } catch (err) { reportException(err); }
      }
      if (s.#sources !== null) { for (const src of s.#sources) src.#dependents?.delete(s); s.#sources = null; }
      const ev = new Event('abort');
      eventInternals.setTrusted(ev);
      s.dispatchEvent(ev);
    };
  }
}
webidlClass(AbortSignal);
export { isAbortSignal, newSignal, addAbortAlgorithm, removeAbortAlgorithm, signalAbort, signalAborted };

export class AbortController {
  #signal = newSignal();
  constructor() {}
  get signal() { return this.#signal; }
  [inspectCustom]() { return { name: 'AbortController', value: { signal: this.#signal } }; }
  abort(reason = undefined) { signalAbort(this.#signal, reason); }
}
webidlClass(AbortController);

