// Globals Workers code checks: navigator, performance (Workers' clock), reportError, scheduler.wait,
// MessageChannel / MessagePort / MessageEvent.
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
function assertThrows(fn, type, what) {
  try { fn(); } catch (e) { if (!(e instanceof type)) throw new Error(`${what}: threw ${e && e.name} instead of ${type.name}`); return; }
  throw new Error(`${what}: did not throw`);
}
const tick = () => new Promise((r) => setTimeout(r, 0));

async function run() {
  assertEq(navigator.userAgent, 'Cloudflare-Workers', 'navigator.userAgent');
  assertEq(navigator.hardwareConcurrency, 1, 'navigator.hardwareConcurrency');
  assertEq(`${navigator.language} ${navigator.languages.join()}`, 'en en', 'navigator.language(s)');
  assertEq(Object.prototype.toString.call(navigator), '[object Navigator]', 'Navigator tag');

  // As in workerd: timeOrigin is 0 and performance.now() is Date.now().
  assertEq(performance.timeOrigin, 0, 'performance.timeOrigin');
  const before = Date.now();
  const now = performance.now();
  const after = Date.now();
  assertEq(now >= before && now <= after, true, 'performance.now() reads the Date.now() clock');
  assertEq(JSON.stringify(performance.toJSON()), '{"timeOrigin":0}', 'performance.toJSON');

  // reportError reports and does not throw.
  assertEq(reportError(new Error('reported on purpose')), undefined, 'reportError returns');
  assertThrows(() => reportError(), TypeError, 'reportError needs an argument');

  // scheduler.wait resolves after the delay, and rejects when aborted.
  const t0 = Date.now();
  await scheduler.wait(20);
  assertEq(Date.now() - t0 >= 19, true, 'scheduler.wait(20) waited');
  const ac = new AbortController();
  const waiting = scheduler.wait(10000, { signal: ac.signal });
  ac.abort(new Error('stop'));
  let reason = null;
  try { await waiting; } catch (e) { reason = e.message; }
  assertEq(reason, 'stop', 'scheduler.wait aborted');

  // MessageChannel: structured clones, in order, asynchronously, only to started ports.
  const { port1, port2 } = new MessageChannel();
  assertEq(port1 instanceof MessagePort && port1 instanceof EventTarget, true, 'ports are MessagePorts');
  assertThrows(() => new MessagePort(), TypeError, 'MessagePort is not constructible');
  const got = [];
  const sent = { n: 1, nested: { list: [1, 2] } };
  port2.onmessage = (e) => got.push(e);
  port1.postMessage(sent);
  port1.postMessage('second');
  sent.nested.list.push(3);
  assertEq(got.length, 0, 'delivery is asynchronous');
  await tick();
  assertEq(got.length, 2, 'both messages delivered');
  assertEq(got[0] instanceof MessageEvent, true, 'a MessageEvent');
  assertEq(got[0].type, 'message', 'event type');
  assertEq(JSON.stringify(got[0].data), '{"n":1,"nested":{"list":[1,2]}}', 'data is a clone taken when posted');
  assertEq(got[0].data === sent, false, 'data is not the same object');
  assertEq(got[1].data, 'second', 'order kept');
  // Replies go the other way; addEventListener needs start().
  const replies = [];
  port1.addEventListener('message', (e) => replies.push(e.data));
  port2.postMessage('reply');
  await tick();
  assertEq(replies.length, 0, 'not delivered before start()');
  port1.start();
  await tick();
  assertEq(replies.join(), 'reply', 'delivered once started');
  // Uncloneable data throws in postMessage.
  let cloneError = null;
  try { port1.postMessage(() => 1); } catch (e) { cloneError = e.name; }
  assertEq(cloneError, 'DataCloneError', 'functions cannot be posted');
  // Closing either side stops delivery.
  port1.close();
  port2.postMessage('lost');
  port1.postMessage('lost too');
  await tick();
  assertEq(replies.length, 1, 'nothing after close');
  assertEq(got.length, 2, 'nothing after close (other side)');
  assertEq(new MessageEvent('message', { data: 5 }).data, 5, 'MessageEvent constructor');
  return 'ok';
}

export default {
  async fetch() {
    try {
      return new Response(await run());
    } catch (e) {
      return new Response(`FAIL: ${e && e.stack || e}`, { status: 500 });
    }
  },
};
