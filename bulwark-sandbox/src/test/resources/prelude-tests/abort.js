// DOM Standard: AbortController / AbortSignal (abort, timeout, any, throwIfAborted, onabort).
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

async function run() {
  const ac = new AbortController();
  const s = ac.signal;
  assertEq(s instanceof AbortSignal && s instanceof EventTarget, true, 'signal type');
  assertEq(ac.signal, s, 'same signal');
  assertEq(s.aborted, false, 'not aborted');
  assertEq(s.reason, undefined, 'no reason');
  s.throwIfAborted();
  const events = [];
  s.onabort = (e) => events.push(['onabort', e.type, e.isTrusted, e.target === s]);
  s.addEventListener('abort', () => events.push(['listener', s.aborted]));
  ac.abort();
  ac.abort('second call is ignored');
  assertEq(JSON.stringify(events), JSON.stringify([['onabort', 'abort', true, true], ['listener', true]]), 'abort event fires once');
  assertEq(s.aborted, true, 'aborted');
  assertEq(s.reason instanceof DOMException && s.reason.name === 'AbortError' && s.reason.code === 20
    && s.reason.message === 'The operation was aborted', true, 'default reason (workerd\'s message)');
  let thrown;
  try { s.throwIfAborted(); } catch (e) { thrown = e; }
  assertEq(thrown, s.reason, 'throwIfAborted throws the reason');

  const custom = new AbortController();
  custom.abort(42);
  assertEq(custom.signal.reason, 42, 'custom reason');
  const undef = new AbortController();
  undef.abort(undefined);
  assertEq(undef.signal.reason.name, 'AbortError', 'undefined reason becomes AbortError');

  assertEq(AbortSignal.abort().aborted, true, 'AbortSignal.abort()');
  assertEq(AbortSignal.abort('r').reason, 'r', 'AbortSignal.abort(reason)');
  let illegal = false;
  try { new AbortSignal(); } catch (e) { illegal = e instanceof TypeError; }
  assertEq(illegal, true, 'AbortSignal is not constructible');

  // timeout()
  const t = AbortSignal.timeout(10);
  assertEq(t.aborted, false, 'timeout not yet aborted');
  await new Promise((resolve) => t.addEventListener('abort', resolve));
  assertEq(t.reason instanceof DOMException && t.reason.name === 'TimeoutError' && t.reason.code === 23, true, 'TimeoutError reason');
  let rangeErr = false;
  try { AbortSignal.timeout(-1); } catch (e) { rangeErr = e instanceof TypeError; }
  assertEq(rangeErr, true, 'negative timeout');

  // any()
  const a1 = new AbortController(), a2 = new AbortController();
  const any = AbortSignal.any([a1.signal, a2.signal]);
  const nested = AbortSignal.any([any]);
  let anyEvents = 0;
  any.addEventListener('abort', () => anyEvents++);
  assertEq(any.aborted, false, 'any not aborted');
  a2.abort('second');
  assertEq(any.aborted && any.reason === 'second', true, 'any follows the first abort');
  assertEq(nested.aborted && nested.reason === 'second', true, 'nested any follows the source');
  a1.abort('first');
  assertEq(any.reason, 'second', 'any keeps the first reason');
  assertEq(anyEvents, 1, 'any fires once');
  assertEq(AbortSignal.any([AbortSignal.abort('pre')]).reason, 'pre', 'any of an aborted signal');
  assertEq(AbortSignal.any([]).aborted, false, 'any of nothing');
  let badAny = false;
  try { AbortSignal.any([{}]); } catch (e) { badAny = e instanceof TypeError; }
  assertEq(badAny, true, 'any needs signals');

  // Listener exceptions do not stop other listeners or the abort.
  const ac3 = new AbortController();
  let after = false;
  ac3.signal.addEventListener('abort', () => { throw new Error('listener failure (expected in this test)'); });
  ac3.signal.addEventListener('abort', () => { after = true; });
  ac3.abort();
  assertEq(after, true, 'later listeners still run');
  assertEq(Object.prototype.toString.call(ac3.signal), '[object AbortSignal]', 'toStringTag');
}

export default {
  async fetch() {
    await run();
    return new Response('ok');
  },
};
