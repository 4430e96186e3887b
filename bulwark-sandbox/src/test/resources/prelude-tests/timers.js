// HTML timers and microtasks: setTimeout/clearTimeout/setInterval/clearInterval, queueMicrotask,
// ordering against promise jobs, plus Workers' scheduler.wait and performance.now.
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function run() {
  // Microtasks (promise jobs and queueMicrotask, in FIFO order) run before any timer task.
  const order = [];
  setTimeout(() => order.push('timeout0'), 0);
  Promise.resolve().then(() => order.push('promise1'));
  queueMicrotask(() => order.push('microtask'));
  Promise.resolve().then(() => order.push('promise2'));
  order.push('sync');
  await sleep(20);
  assertEq(order.join(','), 'sync,promise1,microtask,promise2,timeout0', 'microtasks before timers');

  // Timers fire in delay order, ties in creation order, and pass extra arguments.
  const fired = [];
  setTimeout((x) => fired.push(x), 30, 'c');
  setTimeout((x, y) => fired.push(x + y), 5, 'a', '1');
  setTimeout((x) => fired.push(x), 5, 'b');
  await sleep(60);
  assertEq(fired.join(','), 'a1,b,c', 'ordering and arguments');

  // Ids and clearTimeout.
  const id1 = setTimeout(() => { throw new Error('cleared timer ran'); }, 5);
  const id2 = setTimeout(() => {}, 5);
  assertEq(Number.isInteger(id1) && id1 > 0 && id1 !== id2, true, 'ids are distinct positive integers');
  clearTimeout(id1);
  clearTimeout(id1);
  clearTimeout(987654321);
  clearTimeout(undefined);
  clearTimeout(null);
  await sleep(20);

  // A timer cleared by an earlier timer callback does not run.
  let lateRan = false;
  let laterId;
  setTimeout(() => clearTimeout(laterId), 5);
  laterId = setTimeout(() => { lateRan = true; }, 15);
  await sleep(30);
  assertEq(lateRan, false, 'cleared from another callback');

  // setInterval / clearInterval, also from inside the callback.
  let ticks = 0;
  await new Promise((resolve) => {
    const iv = setInterval((step) => {
      ticks += step;
      if (ticks === 3) { clearInterval(iv); resolve(); }
    }, 2, 1);
  });
  await sleep(20);
  assertEq(ticks, 3, 'interval stops after clearInterval');
  const iv2 = setInterval(() => { throw new Error('cleared interval ran'); }, 1);
  clearInterval(iv2);
  const iv3 = setTimeout(() => { throw new Error('clearInterval must clear timeouts too'); }, 1);
  clearInterval(iv3);
  await sleep(10);

  // Negative, NaN and string delays are treated as numbers / zero.
  let odd = 0;
  setTimeout(() => odd++, -5);
  setTimeout(() => odd++, NaN);
  setTimeout(() => odd++, '3');
  await sleep(20);
  assertEq(odd, 3, 'odd delays');

  // Exceptions in a callback are reported and do not stop other timers.
  let survived = false;
  setTimeout(() => { throw new Error('timer failure (expected in this test)'); }, 1);
  setTimeout(() => { survived = true; }, 2);
  await sleep(15);
  assertEq(survived, true, 'later timers still run');

  // queueMicrotask argument checking and exception reporting.
  let threw = false;
  try { queueMicrotask('nope'); } catch (e) { threw = e instanceof TypeError; }
  assertEq(threw, true, 'queueMicrotask requires a function');
  let stringCallback = false;
  try { setTimeout('1 + 1', 0); } catch (e) { stringCallback = e instanceof TypeError; }
  assertEq(stringCallback, true, 'string callbacks are rejected (no eval)');
  queueMicrotask(() => { throw new Error('microtask failure (expected in this test)'); });
  let afterMicrotask = false;
  queueMicrotask(() => { afterMicrotask = true; });
  await null; await null;
  assertEq(afterMicrotask, true, 'microtask after a failing one');

  // An exception no one caught is an 'error' event at the global scope first (workerd's
  // ServiceWorkerGlobalScope); a listener sees it in the thrower's place and can cancel the log.
  const boom = new Error('reported to a listener (expected in this test)');
  let seen = null;
  const onError = (event) => { seen = event; event.preventDefault(); };
  addEventListener('error', onError);
  queueMicrotask(() => { throw boom; });
  await null; await null;
  removeEventListener('error', onError);
  assertEq(seen !== null && seen.error === boom && seen.message === `Uncaught Error: ${boom.message}`, true, "the 'error' event carries the exception");
  assertEq(seen.defaultPrevented, true, "the 'error' event is cancelable");
  assertEq(dispatchEvent(new Event('custom')), true, 'the global scope dispatches events');

  // scheduler.wait and performance.now.
  const t0 = performance.now();
  await scheduler.wait(25);
  const elapsed = performance.now() - t0;
  assertEq(elapsed >= 20, true, `scheduler.wait waited (${elapsed} ms)`);
  assertEq(typeof performance.timeOrigin, 'number', 'performance.timeOrigin');
  const ac = new AbortController();
  const waiting = scheduler.wait(10000, { signal: ac.signal });
  ac.abort(new Error('wait aborted'));
  let waitErr;
  try { await waiting; } catch (e) { waitErr = e.message; }
  assertEq(waitErr, 'wait aborted', 'scheduler.wait honours a signal');
}

export default {
  async fetch() {
    await run();
    return new Response('ok');
  },
};
