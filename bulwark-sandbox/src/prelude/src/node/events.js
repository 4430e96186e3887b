// node:events: the npm `events` package (MIT), with the helpers Node has added since.
import EventEmitter from 'events';

export { EventEmitter };

function on(emitter, event) {
  const queue = [];
  const waiters = [];
  let error = null;
  let done = false;
  const onEvent = (...args) => {
    const w = waiters.shift();
    if (w) w.resolve({ value: args, done: false });
    else queue.push(args);
  };
  const onError = (err) => {
    done = true;
    const w = waiters.shift();
    if (w) w.reject(err);
    else error = err;
  };
  emitter.on(event, onEvent);
  if (event !== 'error') emitter.on('error', onError);
  const cleanup = () => {
    emitter.removeListener(event, onEvent);
    emitter.removeListener('error', onError);
  };
  return {
    next() {
      if (queue.length > 0) return Promise.resolve({ value: queue.shift(), done: false });
      if (error !== null) { const e = error; error = null; cleanup(); return Promise.reject(e); }
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    return() {
      done = true;
      cleanup();
      for (const w of waiters.splice(0)) w.resolve({ value: undefined, done: true });
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(err) { cleanup(); return Promise.reject(err); },
    [Symbol.asyncIterator]() { return this; },
  };
}

function getEventListeners(emitter, name) {
  if (typeof emitter.listeners === 'function') return emitter.listeners(name);
  return [];
}
function setMaxListeners(n = 10, ...targets) {
  if (targets.length === 0) EventEmitter.defaultMaxListeners = n;
  for (const t of targets) if (typeof t.setMaxListeners === 'function') t.setMaxListeners(n);
}

EventEmitter.on = on;
EventEmitter.getEventListeners = getEventListeners;
EventEmitter.setMaxListeners = setMaxListeners;
EventEmitter.errorMonitor = Symbol('events.errorMonitor');
EventEmitter.captureRejectionSymbol = Symbol.for('nodejs.rejection');

export function eventsModule() {
  return {
    default: EventEmitter,
    EventEmitter, once: EventEmitter.once, on, getEventListeners, setMaxListeners,
    defaultMaxListeners: EventEmitter.defaultMaxListeners,
    errorMonitor: EventEmitter.errorMonitor, captureRejectionSymbol: EventEmitter.captureRejectionSymbol,
  };
}
