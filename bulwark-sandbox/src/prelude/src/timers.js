// setTimeout & co. on top of host.setTimer / runtime.fireTimer.
import { H } from './host.js';
import { ReflectApply, PromiseCtor, PromiseResolve, PromiseThen } from './util.js';
import { reportException } from './report.js';
import { currentFrame, runInFrame } from './async-context.js';

const MAX_DELAY = 2147483647;
/** workerd's limit on the timeouts one request has set and not yet run (the host also caps the isolate's). */
const MAX_ACTIVE_TIMEOUTS = 10000;
const timers = new Map(); // id -> { callback, args, repeat, delay, invocation, frame }
const byInvocation = new Map(); // invocation -> Set<id>
const finishedByInvocation = new Map(); // invocation -> how many of its timeouts have run
const settledWaiters = new Map(); // invocation -> resolvers waiting for its timeouts to be run or cleared
let nextId = 1;

function normalizeDelay(ms) {
  ms = Number(ms);
  if (!(ms >= 0)) return 0; // NaN, negative
  return ms > MAX_DELAY ? MAX_DELAY : Math.floor(ms);
}
/** Invocation ids may cross from the host as Number or BigInt (a Java long); key by Number. */
export function normalizeInvocationId(v) {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}
/** The invocation whose task runs now (0 outside one). */
export function currentInvocation() {
  try { return normalizeInvocationId(H.currentInvocation()); } catch { return 0; }
}
function allocateId() {
  for (;;) {
    const id = nextId;
    nextId = nextId >= 0x7fffffff ? 1 : nextId + 1;
    if (!timers.has(id)) return id;
  }
}
function schedule(callback, delay, args, repeat) {
  const id = allocateId();
  const invocation = currentInvocation();
  const active = byInvocation.get(invocation)?.size ?? 0;
  if (active >= MAX_ACTIVE_TIMEOUTS) {
    throw new Error(`You have exceeded the number of active timeouts you may set. max active timeouts: ${MAX_ACTIVE_TIMEOUTS}, `
      + `current active timeouts: ${active}, finished timeouts: ${finishedByInvocation.get(invocation) ?? 0}`);
  }
  // The async context frame travels with the timer (AsyncLocalStorage sees it in the callback).
  timers.set(id, { callback, args, repeat, delay: normalizeDelay(delay), invocation, frame: currentFrame() });
  let set = byInvocation.get(invocation);
  if (set === undefined) { set = new Set(); byInvocation.set(invocation, set); }
  set.add(id);
  try {
    H.setTimer(id, timers.get(id).delay);
  } catch (err) {
    forget(id);
    throw err;
  }
  return id;
}
function forget(id) {
  const t = timers.get(id);
  if (t === undefined) return false;
  timers.delete(id);
  const set = byInvocation.get(t.invocation);
  if (set !== undefined) { set.delete(id); if (set.size === 0) byInvocation.delete(t.invocation); }
  return true;
}
function cancel(id) {
  if (typeof id !== 'number') {
    if (id === undefined || id === null) return;
    id = Number(id);
  }
  const t = timers.get(id);
  if (forget(id)) {
    try { H.clearTimer(id); } catch { /* ignore */ }
    wakeIfSettled(t.invocation);
  }
}

/** The invocation's timeouts not yet run or cleared (intervals do not count: they never end). */
function timeoutsOf(invocation) {
  const set = byInvocation.get(invocation);
  if (set === undefined) return 0;
  let n = 0;
  for (const id of set) if (!timers.get(id).repeat) n++;
  return n;
}

function wakeIfSettled(invocation) {
  const waiting = settledWaiters.get(invocation);
  if (waiting === undefined || timeoutsOf(invocation) > 0) return;
  settledWaiters.delete(invocation);
  for (let i = 0; i < waiting.length; i++) waiting[i]();
}

/**
 * Settles once the invocation has no timeout left to run (ones its timeouts set on the way
 * included); resolves at once when it has none. A WebSocket event keeps its listeners' timeouts
 * alive this way, as workerd's socket context does. Intervals do not count.
 */
export function timeoutsSettled(invocation) {
  invocation = normalizeInvocationId(invocation);
  if (timeoutsOf(invocation) === 0) return PromiseResolve(undefined);
  return new PromiseCtor((resolve) => {
    let waiting = settledWaiters.get(invocation);
    if (waiting === undefined) settledWaiters.set(invocation, waiting = []);
    waiting.push(resolve);
  });
}

/** Whether the invocation has a timeout not yet run or cleared. */
export function hasTimeouts(invocation) {
  return timeoutsOf(normalizeInvocationId(invocation)) > 0;
}
function checkCallback(callback, name) {
  if (typeof callback !== 'function') throw new TypeError(`Failed to execute '${name}': parameter 1 is not a function (string callbacks are not supported).`);
}

export function setTimeout(callback, delay = 0, ...args) {
  checkCallback(callback, 'setTimeout');
  return schedule(callback, delay, args, false);
}
export function setInterval(callback, delay = 0, ...args) {
  checkCallback(callback, 'setInterval');
  return schedule(callback, delay, args, true);
}
export function clearTimeout(id = undefined) { cancel(id); }
export function clearInterval(id = undefined) { cancel(id); }

export function internalSetTimeout(fn, delay) { return schedule(fn, delay, [], false); }
export function internalClearTimeout(id) { cancel(id); }

/** Called by the Java event loop through runtime.fireTimer(id). */
export function fireTimer(id) {
  const t = timers.get(id);
  if (t === undefined) return;
  if (t.repeat) {
    try { H.setTimer(id, t.delay); } catch (err) { forget(id); reportException(err); }
  } else {
    forget(id);
    finishedByInvocation.set(t.invocation, (finishedByInvocation.get(t.invocation) ?? 0) + 1);
  }
  try {
    runInFrame(t.frame, t.callback, globalThis, t.args);
  } catch (err) {
    reportException(err);
  }
  wakeIfSettled(t.invocation); // after the callback: a timeout it set keeps the wait going
}

/** Drop (and cancel with the host) every timer created by an invocation that has finished. */
export function cancelInvocationTimers(invocation) {
  invocation = normalizeInvocationId(invocation);
  finishedByInvocation.delete(invocation);
  settledWaiters.delete(invocation); // the invocation is over: nobody waits any more
  const set = byInvocation.get(invocation);
  if (set === undefined) return;
  byInvocation.delete(invocation);
  for (const id of set) {
    timers.delete(id);
    try { H.clearTimer(id); } catch { /* ignore */ }
  }
}

export function queueMicrotask(callback) {
  if (typeof callback !== 'function') throw new TypeError("Failed to execute 'queueMicrotask' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'function'.");
  PromiseThen(PromiseResolve(undefined), () => {
    try { callback(); } catch (err) { reportException(err); }
  });
}

export const scheduler = {
  wait(delay = 0, options = undefined) {
    const signal = options !== undefined && options !== null ? options.signal : undefined;
    return new PromiseCtor((resolve, reject) => {
      if (signal !== undefined && signal !== null && signal.aborted) { reject(signal.reason); return; }
      const id = internalSetTimeout(() => resolve(undefined), delay);
      if (signal !== undefined && signal !== null && typeof signal.addEventListener === 'function') {
        signal.addEventListener('abort', () => { cancel(id); reject(signal.reason); }, { once: true });
      }
    });
  },
};
Object.defineProperty(scheduler, Symbol.toStringTag, { value: 'Scheduler', configurable: true });
