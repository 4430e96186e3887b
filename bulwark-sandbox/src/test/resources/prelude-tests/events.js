// DOM Standard: Event, CustomEvent, EventTarget (no tree: dispatch at target), DOMException.
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
function assertThrows(fn, check, what) {
  try { fn(); } catch (e) { if (!check(e)) throw new Error(`${what}: threw ${e && e.name}`); return; }
  throw new Error(`${what}: did not throw`);
}

function events() {
  const e = new Event('test', { bubbles: true, cancelable: true });
  assertEq(e.type, 'test', 'type');
  assertEq(e.bubbles, true, 'bubbles');
  assertEq(e.cancelable, true, 'cancelable');
  assertEq(e.composed, false, 'composed');
  assertEq(e.isTrusted, false, 'isTrusted');
  assertEq(Object.getOwnPropertyDescriptor(e, 'isTrusted').configurable, false, 'isTrusted is an unforgeable own property');
  assertEq(e.eventPhase, Event.NONE, 'eventPhase');
  assertEq(e.target, null, 'target');
  assertEq(e.defaultPrevented, false, 'defaultPrevented');
  assertEq(typeof e.timeStamp, 'number', 'timeStamp');
  e.preventDefault();
  assertEq(e.defaultPrevented, true, 'preventDefault on a cancelable event');
  assertEq(e.returnValue, false, 'returnValue');
  const nc = new Event('x');
  nc.preventDefault();
  assertEq(nc.defaultPrevented, false, 'preventDefault ignored when not cancelable');
  assertThrows(() => new Event(), (x) => x instanceof TypeError, 'Event requires a type');
  assertEq(Event.AT_TARGET, 2, 'AT_TARGET');
  const ce = new CustomEvent('c', { detail: { a: 1 } });
  assertEq(ce.detail.a, 1, 'CustomEvent detail');
  assertEq(new CustomEvent('c').detail, null, 'CustomEvent default detail');
  assertEq(ce instanceof Event, true, 'CustomEvent extends Event');
}

function targets() {
  const t = new EventTarget();
  const log = [];
  const fn = function (ev) { log.push(['fn', this === t, ev.currentTarget === t, ev.target === t, ev.eventPhase]); };
  t.addEventListener('a', fn);
  t.addEventListener('a', fn); // duplicate ignored
  t.addEventListener('a', fn, true); // different capture: separate listener
  const handler = { handleEvent(ev) { log.push(['obj', this === handler]); } };
  t.addEventListener('a', handler, { once: true });
  t.addEventListener('a', null);
  const ev = new Event('a');
  assertEq(t.dispatchEvent(ev), true, 'dispatch returns true when not canceled');
  assertEq(JSON.stringify(log), JSON.stringify([['fn', true, true, true, 2], ['fn', true, true, true, 2], ['obj', true]]), 'listener invocation');
  assertEq(ev.eventPhase, 0, 'phase reset after dispatch');
  assertEq(ev.currentTarget, null, 'currentTarget reset after dispatch');
  assertEq(ev.target, t, 'target kept after dispatch');
  log.length = 0;
  t.dispatchEvent(new Event('a'));
  assertEq(log.length, 2, 'once listener removed');
  t.removeEventListener('a', fn);
  log.length = 0;
  t.dispatchEvent(new Event('a'));
  assertEq(log.length, 1, 'removeEventListener(capture=false) removes only that one');
  t.removeEventListener('a', fn, { capture: true });
  log.length = 0;
  t.dispatchEvent(new Event('a'));
  assertEq(log.length, 0, 'capture listener removed');

  // Capture listeners run first at the target; stopImmediatePropagation stops the rest.
  const order = [];
  const t2 = new EventTarget();
  t2.addEventListener('o', () => order.push('bubble1'));
  t2.addEventListener('o', () => order.push('capture'), true);
  t2.addEventListener('o', (e) => { order.push('bubble2'); e.stopImmediatePropagation(); });
  t2.addEventListener('o', () => order.push('never'));
  t2.dispatchEvent(new Event('o'));
  assertEq(order.join(','), 'capture,bubble1,bubble2', 'order and stopImmediatePropagation');

  // preventDefault, passive listeners.
  const t3 = new EventTarget();
  t3.addEventListener('p', (e) => e.preventDefault(), { passive: true });
  assertEq(t3.dispatchEvent(new Event('p', { cancelable: true })), true, 'passive listener cannot cancel');
  t3.addEventListener('p', (e) => e.preventDefault());
  assertEq(t3.dispatchEvent(new Event('p', { cancelable: true })), false, 'canceled dispatch returns false');

  // Listeners added during dispatch are not run; removed ones are skipped.
  const t4 = new EventTarget();
  const seen = [];
  const late = () => seen.push('late');
  const removed = () => seen.push('removed');
  t4.addEventListener('d', () => { seen.push('first'); t4.addEventListener('d', late); t4.removeEventListener('d', removed); });
  t4.addEventListener('d', removed);
  t4.dispatchEvent(new Event('d'));
  assertEq(seen.join(','), 'first', 'listener list snapshot, removal honoured');

  // signal option.
  const ac = new AbortController();
  let calls = 0;
  t4.addEventListener('s', () => calls++, { signal: ac.signal });
  t4.dispatchEvent(new Event('s'));
  ac.abort();
  t4.dispatchEvent(new Event('s'));
  assertEq(calls, 1, 'signal removes the listener');
  t4.addEventListener('s', () => calls++, { signal: AbortSignal.abort() });
  t4.dispatchEvent(new Event('s'));
  assertEq(calls, 1, 'already-aborted signal: listener not added');

  // Re-dispatching an event being dispatched is an InvalidStateError.
  const t5 = new EventTarget();
  let inner;
  t5.addEventListener('r', (e) => { try { t5.dispatchEvent(e); } catch (x) { inner = x; } });
  t5.dispatchEvent(new Event('r'));
  assertEq(inner instanceof DOMException && inner.name === 'InvalidStateError', true, 'InvalidStateError on re-dispatch');
  assertThrows(() => t5.dispatchEvent({ type: 'r' }), (x) => x instanceof TypeError, 'dispatchEvent needs an Event');
  assertThrows(() => t5.addEventListener('x'), (x) => x instanceof TypeError, 'addEventListener arity');

  // Subclassing.
  class Emitter extends EventTarget { fire() { return this.dispatchEvent(new CustomEvent('fire', { detail: 7 })); } }
  const em = new Emitter();
  let detail;
  em.addEventListener('fire', (e) => { detail = e.detail; });
  em.fire();
  assertEq(detail, 7, 'EventTarget subclass');
}

function domExceptions() {
  const d = new DOMException('msg', 'NotFoundError');
  assertEq(d.name, 'NotFoundError', 'name');
  assertEq(d.message, 'msg', 'message');
  assertEq(d.code, 8, 'legacy code');
  assertEq(d instanceof Error, true, 'inherits from Error');
  assertEq(String(d), 'NotFoundError: msg', 'toString');
  assertEq(typeof d.stack, 'string', 'stack');
  assertEq(new DOMException().name, 'Error', 'default name');
  assertEq(new DOMException().message, '', 'default message');
  assertEq(new DOMException('x', 'CustomName').code, 0, 'unknown names have code 0');
  assertEq(DOMException.ABORT_ERR, 20, 'constant on the constructor');
  assertEq(d.DATA_CLONE_ERR, 25, 'constant on the prototype');
  const codes = { IndexSizeError: 1, HierarchyRequestError: 3, InvalidCharacterError: 5, NotSupportedError: 9, InvalidStateError: 11, SyntaxError: 12, InvalidAccessError: 15, TypeMismatchError: 17, SecurityError: 18, NetworkError: 19, AbortError: 20, QuotaExceededError: 22, TimeoutError: 23, DataCloneError: 25, EncodingError: 0, NotReadableError: 0, OperationError: 0 };
  for (const [name, code] of Object.entries(codes)) assertEq(new DOMException('', name).code, code, `code of ${name}`);
  assertEq(Object.prototype.toString.call(d), '[object DOMException]', 'toStringTag');
}

export default {
  async fetch() {
    events();
    targets();
    domExceptions();
    return new Response('ok');
  },
};
