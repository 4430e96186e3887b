// Test host for V8Check.java: implements the host contract in JS (crypto via Java callbacks,
// timers as a queue that the Java loop pumps), installs the prelude and drives dispatchFetch.
(function () {
  const timers = new Map();
  let seq = 0;
  const state = { done: false, r: null, logs: [] };
  const dec = new TextDecoder();
  const host = {
    log(level, msg) { state.logs.push(level + ': ' + msg); },
    randomBytes(n) { return __jrandom(n); },
    digest(alg, data) { return __jdigest(alg, data); },
    hmac(alg, key, data) { return __jhmac(alg, key, data); },
    setTimer(id, delay) { timers.set(id, [Date.now() + delay, seq++]); },
    clearTimer(id) { timers.delete(id); },
    fetch() { return Promise.reject(new TypeError('no network in this test')); },
    responseStart(id, status) { state.r.status = status; },
    responseChunk(id, chunk) { if (!(chunk instanceof Uint8Array)) throw new Error('chunk type'); state.r.body += dec.decode(chunk, { stream: true }); },
    responseEnd() { state.r.end = true; },
    responseError(id, name, message, stack) { state.r.error = stack || (name + ': ' + message); },
    currentInvocation() { return 1; },
    // The real host answers with ICU4J's UTS #46; this runner has no ICU: ASCII only.
    domainToAscii(domain) { return /^[\x00-\x7f]*$/.test(domain) ? domain.toLowerCase() : null; },
    now() { return Date.now(); },
  };
  const runtime = __bulwark_install(host);
  globalThis.__test = {
    run(handler) {
      state.done = false;
      state.r = { status: 0, body: '', end: false, error: null };
      runtime.dispatchFetch(handler, { method: 'GET', url: 'https://prelude-tests.invalid/', headers: [], body: null }, {}, 1)
        .then(() => { state.done = true; }, (e) => { state.r.error = 'dispatch rejected: ' + e; state.done = true; });
    },
    done() { return state.done; },
    nextTimerDelay() {
      let min = Infinity;
      for (const [due] of timers.values()) if (due < min) min = due;
      return min === Infinity ? -1 : Math.max(0, min - Date.now());
    },
    fireDue() {
      const now = Date.now();
      const due = [...timers.entries()].filter(([, v]) => v[0] <= now).sort((a, b) => a[1][0] - b[1][0] || a[1][1] - b[1][1]);
      for (const [id] of due) { if (timers.has(id)) { timers.delete(id); runtime.fireTimer(id); } }
    },
    result() { return JSON.stringify(state.r); },
    logs() { const l = state.logs.join('\n'); state.logs = []; return l; },
  };
})();
