// Bulwark's own testharness.js host: the part of web-platform-tests' harness API that the
// vendored .any.js files call (test, async_test, promise_test, the assert_* family, setup, done,
// step_func, ...), written for Bulwark isolates. It is not WPT's testharness.js: that file is
// built for documents and workers with postMessage reporting; here a worker's fetch handler runs
// one test file and answers its results as JSON (see WptRunner.java).
//
// Semantics follow testharness.js where tests can tell the difference: test() runs at once,
// async_test() runs its body at once and ends on done(), promise_test()s run one after another
// after the file's own code, a harness timeout ends what is still running (TIMEOUT) and what never
// started (NOTRUN).

const PASS = 'PASS', FAIL = 'FAIL', TIMEOUT = 'TIMEOUT', NOTRUN = 'NOTRUN', PRECONDITION_FAILED = 'PRECONDITION_FAILED';

class AssertionError extends Error {
  constructor(message) { super(message); this.name = 'AssertionError'; }
}
class OptionalFeatureUnsupportedError extends AssertionError {
  constructor(message) { super(message); this.name = 'OptionalFeatureUnsupportedError'; }
}

const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

const harness = {
  tests: [],
  unfinished: 0, // tests whose status is still null (kept as a count: checked after every test)
  promiseQueue: Promise.resolve(),
  explicitDone: false,
  doneCalled: false,
  scriptEnded: false,
  finished: false,
  status: 'OK',
  message: null,
  timeoutMs: 5000,
  timer: null,
  resolve: null,
  singleTest: null,
  allowUncaught: false,
};

function formatValue(v, seen = []) {
  if (seen.includes(v)) return '[...]';
  switch (typeof v) {
    case 'string': {
      const s = v.replace(/[\\"\u0000-\u001f\ud800-\udfff]/g, (c) => {
        switch (c) {
          case '\\': return '\\\\';
          case '"': return '\\"';
          case '\n': return '\\n';
          case '\r': return '\\r';
          case '\t': return '\\t';
          default: return '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0');
        }
      });
      return '"' + s + '"';
    }
    case 'number': return Object.is(v, -0) ? '-0' : String(v);
    case 'bigint': return v + 'n';
    case 'symbol': return v.toString();
    case 'function': return 'function "' + (v.name || '') + '"';
    case 'undefined': return 'undefined';
    case 'boolean': return String(v);
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) return '[' + v.map((x) => formatValue(x, seen.concat([v]))).join(', ') + ']';
      try {
        if (v instanceof Error || (typeof DOMException === 'function' && v instanceof DOMException)) {
          return `object "${v.name}: ${v.message}"`;
        }
      } catch { /* a hostile getter */ }
      try { return 'object "' + String(v) + '"'; } catch { return 'object'; }
    }
  }
  return String(v);
}

/** Text put into an assertion message as it is (a function's source), not formatted. */
class Raw {
  constructor(text) { this.text = String(text); }
}

function sameValue(x, y) {
  if (y !== y) return x !== x;
  if (x === 0 && y === 0) return 1 / x === 1 / y;
  return x === y;
}

function describe(description, message) {
  return (description ? description + ': ' : '') + message;
}

function assert(condition, fn, description, message, substitutions) {
  if (condition) return;
  let text = message;
  if (substitutions) {
    // One pass over the template: substituted text (a function's source) is never rescanned.
    text = message.replace(/\$\{([^}]+)\}/g, (_, k) => {
      const v = substitutions[k];
      return v instanceof Raw ? v.text : formatValue(v);
    });
  }
  throw new AssertionError(describe(description, fn + ': ' + text));
}

// ------------------------------------------------------------------ assertions

function assert_true(actual, description) {
  assert(actual === true, 'assert_true', description, 'expected true got ${actual}', { actual });
}
function assert_false(actual, description) {
  assert(actual === false, 'assert_false', description, 'expected false got ${actual}', { actual });
}
function assert_equals(actual, expected, description) {
  if (typeof actual !== typeof expected) {
    assert(false, 'assert_equals', description, 'expected (' + typeof expected + ') ${expected} but got (' + typeof actual + ') ${actual}', { expected, actual });
  }
  assert(sameValue(actual, expected), 'assert_equals', description, 'expected ${expected} but got ${actual}', { expected, actual });
}
function assert_not_equals(actual, expected, description) {
  assert(!sameValue(actual, expected), 'assert_not_equals', description, 'got disallowed value ${actual}', { actual });
}
function assert_in_array(actual, expected, description) {
  assert(expected.indexOf(actual) !== -1, 'assert_in_array', description, 'value ${actual} not in array ${expected}', { actual, expected });
}
function assert_array_equals(actual, expected, description) {
  assert(typeof actual === 'object' && actual !== null && 'length' in actual, 'assert_array_equals', description,
    'value is ${actual}, expected array', { actual });
  assert(actual.length === expected.length, 'assert_array_equals', description,
    'lengths differ, expected array ${expected} length ' + expected.length + ', got ${actual} length ' + actual.length, { expected, actual });
  for (let i = 0; i < actual.length; i++) {
    assert(Object.prototype.hasOwnProperty.call(actual, i) === Object.prototype.hasOwnProperty.call(expected, i),
      'assert_array_equals', description, 'expected property ' + i + ' to be ' +
      (Object.prototype.hasOwnProperty.call(expected, i) ? 'present' : 'missing'), {});
    assert(sameValue(expected[i], actual[i]), 'assert_array_equals', description,
      'expected property ' + i + ' to be ${expected} but got ${actual} (expected array ${arrayExpected} got ${arrayActual})',
      { expected: expected[i], actual: actual[i], arrayExpected: expected, arrayActual: actual });
  }
}
function assert_array_approx_equals(actual, expected, epsilon, description) {
  assert(actual.length === expected.length, 'assert_array_approx_equals', description, 'lengths differ', {});
  for (let i = 0; i < actual.length; i++) {
    assert(typeof actual[i] === 'number' && Math.abs(actual[i] - expected[i]) <= epsilon, 'assert_array_approx_equals',
      description, 'property ' + i + ', expected ${e} +/- ${eps}, got ${a}', { e: expected[i], eps: epsilon, a: actual[i] });
  }
}
function assert_approx_equals(actual, expected, epsilon, description) {
  assert(typeof actual === typeof expected, 'assert_approx_equals', description, 'expected a ' + typeof expected + ' but got a ' + typeof actual, {});
  if (isFinite(actual) || isFinite(expected)) {
    assert(Math.abs(actual - expected) <= epsilon, 'assert_approx_equals', description,
      'expected ${expected} +/- ${epsilon} but got ${actual}', { expected, epsilon, actual });
  } else {
    assert_equals(actual, expected, description);
  }
}
function compareNumbers(name, ok, text) {
  return function (actual, expected, description) {
    assert(typeof actual === 'number' || typeof actual === 'bigint', name, description, 'expected a number but got ${actual}', { actual });
    assert(ok(actual, expected), name, description, 'expected a number ' + text + ' ${expected} but got ${actual}', { expected, actual });
  };
}
const assert_less_than = compareNumbers('assert_less_than', (a, e) => a < e, 'less than');
const assert_greater_than = compareNumbers('assert_greater_than', (a, e) => a > e, 'greater than');
const assert_less_than_equal = compareNumbers('assert_less_than_equal', (a, e) => a <= e, 'less than or equal to');
const assert_greater_than_equal = compareNumbers('assert_greater_than_equal', (a, e) => a >= e, 'greater than or equal to');
function assert_between_exclusive(actual, lower, upper, description) {
  assert(typeof actual === 'number' && actual > lower && actual < upper, 'assert_between_exclusive', description,
    'expected a number between ${lower} and ${upper} but got ${actual}', { lower, upper, actual });
}
function assert_between_inclusive(actual, lower, upper, description) {
  assert(typeof actual === 'number' && actual >= lower && actual <= upper, 'assert_between_inclusive', description,
    'expected a number between ${lower} and ${upper} but got ${actual}', { lower, upper, actual });
}
function assert_regexp_match(actual, expected, description) {
  assert(expected.test(actual), 'assert_regexp_match', description, 'expected ${expected} but got ${actual}', { expected, actual });
}
function assert_not_regexp_match(actual, expected, description) {
  assert(!expected.test(actual), 'assert_not_regexp_match', description, 'expected not ${expected} but got ${actual}', { expected, actual });
}
function assert_class_string(object, className, description) {
  const actual = Object.prototype.toString.call(object);
  const expected = '[object ' + className + ']';
  assert(actual === expected, 'assert_class_string', description, 'expected ${expected} but got ${actual}', { expected, actual });
}
function assert_own_property(object, name, description) {
  assert(object !== null && object !== undefined && Object.prototype.hasOwnProperty.call(object, name),
    'assert_own_property', description, 'expected property ${name} missing', { name });
}
function assert_not_own_property(object, name, description) {
  assert(!Object.prototype.hasOwnProperty.call(object, name), 'assert_not_own_property', description,
    'unexpected property ${name} is found on object', { name });
}
function assert_inherits(object, name, description) {
  assert(typeof object === 'object' || typeof object === 'function', 'assert_inherits', description, 'provided value is not an object', {});
  assert('hasOwnProperty' in object, 'assert_inherits', description, 'provided value is an object but has no hasOwnProperty method', {});
  assert(!object.hasOwnProperty(name), 'assert_inherits', description, 'property ${name} found on object expected in prototype chain', { name });
  assert(name in object, 'assert_inherits', description, 'property ${name} not found in prototype chain', { name });
}
const assert_idl_attribute = assert_inherits;
function assert_readonly(object, name, description) {
  const initial = object[name];
  try {
    object[name] = initial + 'a';
    assert(sameValue(object[name], initial), 'assert_readonly', description, 'changing property ${name} succeeded', { name });
  } finally {
    try { object[name] = initial; } catch { /* read-only indeed */ }
  }
}
function assert_unreached(description) {
  assert(false, 'assert_unreached', description, 'Reached unreachable code', {});
}
function assert_implements(condition, description) {
  assert(!!condition, 'assert_implements', description, 'feature not implemented', {});
}
function assert_implements_optional(condition, description) {
  if (!condition) throw new OptionalFeatureUnsupportedError(describe(description, 'assert_implements_optional'));
}
function assert_object_equals(actual, expected, description) {
  assert(typeof actual === 'object' && actual !== null, 'assert_object_equals', description, 'value is ${actual}, expected object', { actual });
  const check = (a, e, path, stack) => {
    for (const p in a) {
      assert(Object.prototype.hasOwnProperty.call(e, p), 'assert_object_equals', description, 'unexpected property ' + path + '.' + p, {});
      if (typeof a[p] === 'object' && a[p] !== null) {
        if (!stack.includes(a[p])) check(a[p], e[p], path + '.' + p, stack.concat([a[p]]));
      } else {
        assert(sameValue(a[p], e[p]), 'assert_object_equals', description, 'property ' + path + '.' + p + ' expected ${e} got ${a}', { e: e[p], a: a[p] });
      }
    }
    for (const p in e) {
      assert(Object.prototype.hasOwnProperty.call(a, p), 'assert_object_equals', description, 'expected property ' + path + '.' + p + ' missing', {});
    }
  };
  check(actual, expected, '', [actual]);
}

function assert_throws_js(constructor, func, description) {
  let threw = false, error;
  try { func.call(this); } catch (e) { threw = true; error = e; }
  const f = new Raw(func);
  assert(threw, 'assert_throws_js', description, '${f} did not throw', { f });
  assert(typeof error === 'object' && error !== null, 'assert_throws_js', description, '${f} threw ${e}, not an object', { f, e: error });
  assert(error.constructor === constructor, 'assert_throws_js', description,
    '${f} threw ${e} (${c}) expected instance of ${n}', { f, e: error, c: new Raw(error.constructor && error.constructor.name), n: new Raw(constructor.name) });
  assert(error.name === constructor.name, 'assert_throws_js', description, '${f} threw ${e} with name ${en}, expected ${n}',
    { f, e: error, en: new Raw(error.name), n: new Raw(constructor.name) });
}

const DOM_CODES = {
  IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4, InvalidCharacterError: 5,
  NoModificationAllowedError: 7, NotFoundError: 8, NotSupportedError: 9, InUseAttributeError: 10,
  InvalidStateError: 11, SyntaxError: 12, InvalidModificationError: 13, NamespaceError: 14,
  InvalidAccessError: 15, TypeMismatchError: 17, SecurityError: 18, NetworkError: 19, AbortError: 20,
  URLMismatchError: 21, QuotaExceededError: 22, TimeoutError: 23, InvalidNodeTypeError: 24, DataCloneError: 25,
  EncodingError: 0, NotReadableError: 0, UnknownError: 0, ConstraintError: 0, DataError: 0,
  TransactionInactiveError: 0, ReadOnlyError: 0, VersionError: 0, OperationError: 0, NotAllowedError: 0,
  OptOutError: 0,
};
const LEGACY_NAMES = {
  INDEX_SIZE_ERR: 'IndexSizeError', HIERARCHY_REQUEST_ERR: 'HierarchyRequestError', WRONG_DOCUMENT_ERR: 'WrongDocumentError',
  INVALID_CHARACTER_ERR: 'InvalidCharacterError', NO_MODIFICATION_ALLOWED_ERR: 'NoModificationAllowedError',
  NOT_FOUND_ERR: 'NotFoundError', NOT_SUPPORTED_ERR: 'NotSupportedError', INUSE_ATTRIBUTE_ERR: 'InUseAttributeError',
  INVALID_STATE_ERR: 'InvalidStateError', SYNTAX_ERR: 'SyntaxError', INVALID_MODIFICATION_ERR: 'InvalidModificationError',
  NAMESPACE_ERR: 'NamespaceError', INVALID_ACCESS_ERR: 'InvalidAccessError', TYPE_MISMATCH_ERR: 'TypeMismatchError',
  SECURITY_ERR: 'SecurityError', NETWORK_ERR: 'NetworkError', ABORT_ERR: 'AbortError', URL_MISMATCH_ERR: 'URLMismatchError',
  QUOTA_EXCEEDED_ERR: 'QuotaExceededError', TIMEOUT_ERR: 'TimeoutError', INVALID_NODE_TYPE_ERR: 'InvalidNodeTypeError',
  DATA_CLONE_ERR: 'DataCloneError',
};

function checkDomException(fn, type, constructor, error, description) {
  let name = type;
  if (typeof type === 'number') {
    name = Object.keys(DOM_CODES).find((k) => DOM_CODES[k] === type);
  } else if (LEGACY_NAMES[type]) {
    name = LEGACY_NAMES[type];
  }
  assert(name in DOM_CODES, fn, description, 'test bug: unrecognized DOMException code ' + formatValue(type), {});
  assert(typeof error === 'object' && error !== null, fn, description, 'threw ${e}, not an object', { e: error });
  assert(error instanceof constructor, fn, description, 'threw ${e}, not an instance of ' + constructor.name, { e: error });
  assert(error.name === name, fn, description, 'threw ${e} that is not a DOMException ' + name + ': property name is ${n}', { e: error, n: error.name });
  assert(error.code === DOM_CODES[name], fn, description, 'threw ${e} with code ${c}, expected ' + DOM_CODES[name], { e: error, c: error.code });
}

function assert_throws_dom(type, funcOrConstructor, descriptionOrFunc, maybeDescription) {
  let constructor, func, description;
  if (typeof descriptionOrFunc === 'function') {
    constructor = funcOrConstructor; func = descriptionOrFunc; description = maybeDescription;
  } else {
    constructor = globalThis.DOMException; func = funcOrConstructor; description = descriptionOrFunc;
  }
  let threw = false, error;
  try { func.call(this); } catch (e) { threw = true; error = e; }
  assert(threw, 'assert_throws_dom', description, '${f} did not throw', { f: new Raw(func) });
  checkDomException('assert_throws_dom', type, constructor, error, description);
}

function assert_throws_exactly(exception, func, description) {
  let threw = false, error;
  try { func.call(this); } catch (e) { threw = true; error = e; }
  assert(threw, 'assert_throws_exactly', description, '${f} did not throw', { f: new Raw(func) });
  assert(sameValue(error, exception), 'assert_throws_exactly', description, 'threw ${e} but we expected it to throw ${x}', { e: error, x: exception });
}

function promise_rejects_js(test, constructor, promise, description) {
  return Promise.resolve(promise).then(
    test.unreached_func('Should have rejected: ' + (description || '')),
    (e) => assert_throws_js(constructor, () => { throw e; }, description));
}
function promise_rejects_dom(test, type, promiseOrConstructor, descriptionOrPromise, maybeDescription) {
  let constructor, promise, description;
  if (typeof promiseOrConstructor === 'function' && !(promiseOrConstructor instanceof Promise)) {
    constructor = promiseOrConstructor; promise = descriptionOrPromise; description = maybeDescription;
  } else {
    constructor = globalThis.DOMException; promise = promiseOrConstructor; description = descriptionOrPromise;
  }
  return Promise.resolve(promise).then(
    test.unreached_func('Should have rejected: ' + (description || '')),
    (e) => checkDomException('promise_rejects_dom', type, constructor, e, description));
}
function promise_rejects_exactly(test, exception, promise, description) {
  return Promise.resolve(promise).then(
    test.unreached_func('Should have rejected: ' + (description || '')),
    (e) => assert_throws_exactly(exception, () => { throw e; }, description));
}

// ------------------------------------------------------------------ tests

function errorMessage(e) {
  if (e instanceof AssertionError) return e.message;
  try {
    if (e && typeof e === 'object' && 'name' in e && 'message' in e) {
      return `${e.name}: ${e.message}` + (e.stack ? '\n' + String(e.stack).split('\n').slice(1, 4).join('\n') : '');
    }
    return formatValue(e);
  } catch {
    return 'an unprintable error';
  }
}

class Test {
  constructor(name, properties) {
    this.name = String(name);
    this.properties = properties || {};
    this.status = null;
    this.message = null;
    this.started = false;
    this.cleanups = [];
    this.finishedPromise = new Promise((resolve) => { this.resolveFinished = resolve; });
    harness.tests.push(this);
    harness.unfinished++;
  }

  /** Sets the status once (null -> final) and keeps the harness's count of unfinished tests. */
  settle(status, message) {
    if (this.status !== null) return false;
    this.status = status;
    this.message = message;
    harness.unfinished--;
    return true;
  }

  get phase() { return this.status === null ? 1 : 4; }

  step(func, thisObj, ...args) {
    if (this.status !== null) return undefined;
    this.started = true;
    try {
      return func.apply(thisObj === undefined ? this : thisObj, args);
    } catch (e) {
      this.fail(e);
      return undefined;
    }
  }

  step_func(func, thisObj) {
    const test = this;
    return function (...args) {
      return test.step(func, thisObj === undefined ? this : thisObj, ...args);
    };
  }

  step_func_done(func, thisObj) {
    const test = this;
    return function (...args) {
      let result;
      if (func) result = test.step(func, thisObj === undefined ? this : thisObj, ...args);
      test.done();
      return result;
    };
  }

  unreached_func(description) {
    return this.step_func(function () { assert_unreached(description); });
  }

  step_timeout(func, timeout, ...args) {
    const test = this;
    return realSetTimeout(this.step_func(function () { return func.apply(test, args); }), timeout);
  }

  step_wait_func(cond, func, description, timeout = 3000, interval = 100) {
    const start = Date.now();
    const poll = this.step_func(() => {
      if (cond()) { func(); return; }
      if (Date.now() - start > timeout) { assert_unreached(description || 'Timed out waiting on condition'); }
      this.step_timeout(poll, interval);
    });
    poll();
  }

  step_wait_func_done(cond, func, description, timeout, interval) {
    this.step_wait_func(cond, () => { if (func) func(); this.done(); }, description, timeout, interval);
  }

  step_wait(cond, description, timeout = 3000, interval = 100) {
    return new Promise((resolve) => this.step_wait_func(cond, resolve, description, timeout, interval));
  }

  add_cleanup(fn) { this.cleanups.push(fn); }

  set_status(status, message) {
    if (!this.settle(status, message)) { this.status = status; this.message = message; }
  }

  fail(e) {
    if (this.status !== null) return;
    this.settle(e instanceof OptionalFeatureUnsupportedError ? PRECONDITION_FAILED : FAIL, errorMessage(e));
    this.finish();
  }

  done() {
    if (this.settle(PASS, null)) this.finish();
  }

  force_timeout() { this.fail(new AssertionError('Test timed out (force_timeout)')); }

  finish() {
    const pending = [];
    for (const fn of this.cleanups.splice(0)) {
      try {
        const r = fn();
        if (r && typeof r.then === 'function') pending.push(r);
      } catch (e) {
        harnessError('cleanup of "' + this.name + '" threw ' + errorMessage(e));
      }
    }
    Promise.all(pending).then(() => this.resolveFinished(), (e) => {
      harnessError('cleanup of "' + this.name + '" rejected: ' + errorMessage(e));
      this.resolveFinished();
    });
    checkComplete();
  }
}

function nameOf(func, name) {
  if (name !== undefined) return name;
  if (typeof func === 'function' && func.name) return func.name;
  return harness.singleTestName || 'Untitled';
}

function test(func, name, properties) {
  const t = new Test(nameOf(func, name), properties);
  t.step(func, t, t);
  t.done();
  return t;
}

function async_test(func, name, properties) {
  if (typeof func !== 'function') {
    properties = name; name = func; func = null;
  }
  const t = new Test(nameOf(func, name), properties);
  if (func) t.step(func, t, t);
  return t;
}

function promise_test(func, name, properties) {
  const t = new Test(nameOf(func, name), properties);
  harness.promiseQueue = harness.promiseQueue.then(() => {
    if (harness.finished || t.status !== null) return undefined;
    let value;
    t.started = true;
    try {
      value = func.call(t, t);
    } catch (e) {
      t.fail(e);
      return t.finishedPromise;
    }
    if (!value || typeof value.then !== 'function') {
      t.fail(new AssertionError('promise_test: test body must return a \'thenable\' object (received ' + formatValue(value) + ')'));
      return t.finishedPromise;
    }
    return Promise.resolve(value).then(() => t.done(), (e) => {
      if (e instanceof AssertionError) t.fail(e);
      else t.fail(new AssertionError('promise_test: Unhandled rejection with value: ' + errorMessage(e)));
    }).then(() => t.finishedPromise);
  });
  return t;
}

function promise_setup(func, properties) {
  setup(properties || {});
  harness.promiseQueue = harness.promiseQueue.then(() => Promise.resolve(func()).catch((e) => {
    harnessError('promise_setup failed: ' + errorMessage(e));
    for (const t of harness.tests) if (t.status === null) t.set_status(NOTRUN, 'promise_setup failed');
  }));
}

function generate_tests(func, args, properties) {
  for (const [name, ...rest] of args) test(() => func(...rest), name, properties);
}

function setup(funcOrProperties, maybeProperties) {
  let func = null, properties = {};
  if (typeof funcOrProperties === 'function') { func = funcOrProperties; properties = maybeProperties || {}; }
  else properties = funcOrProperties || {};
  if (properties.explicit_done) harness.explicitDone = true;
  if (properties.single_test) harness.singleTest = new Test(harness.singleTestName || 'Untitled');
  if (properties.allow_uncaught_exception) harness.allowUncaught = true;
  if (func) {
    try { func(); } catch (e) { harnessError('setup failed: ' + errorMessage(e)); }
  }
}

function done() {
  harness.doneCalled = true;
  if (harness.singleTest) harness.singleTest.done();
  checkComplete();
}

function harnessError(message) {
  if (harness.status === 'OK') {
    harness.status = 'ERROR';
    harness.message = message;
  }
}

function checkComplete() {
  if (harness.finished || !harness.scriptEnded) return;
  if (harness.explicitDone && !harness.doneCalled) return;
  if (harness.unfinished > 0) return;
  // Let cleanups and the promise queue settle before answering.
  Promise.all(harness.tests.map((t) => t.finishedPromise)).then(() => complete());
}

function complete() {
  if (harness.finished) return;
  harness.finished = true;
  if (harness.timer !== null) realClearTimeout(harness.timer);
  harness.resolve();
}

function onTimeout() {
  if (harness.finished) return;
  harness.status = harness.status === 'OK' ? 'TIMEOUT' : harness.status;
  for (const t of harness.tests) {
    if (t.status === null) {
      t.settle(t.started ? TIMEOUT : NOTRUN, t.started ? 'Test timed out' : 'Not run: the harness timed out first');
    }
  }
  complete();
}

class EventWatcher {
  constructor(test, watchedNode, eventTypes, timeoutPromise) {
    if (typeof eventTypes === 'string') eventTypes = [eventTypes];
    this.waiting = null;
    this.recordedEvents = null;
    const handler = test.step_func((evt) => {
      assert_true(!!this.waiting, 'Not expecting event, but got ' + evt.type + ' event');
      assert_equals(evt.type, this.waiting.types[0], 'Expected ' + this.waiting.types[0] + ' event, but got ' + evt.type + ' event instead');
      if (this.recordedEvents) this.recordedEvents.push(evt);
      this.waiting.types.shift();
      if (this.waiting.types.length === 0) {
        const w = this.waiting;
        this.waiting = null;
        w.resolve(this.recordedEvents || evt);
      }
    });
    for (const type of eventTypes) watchedNode.addEventListener(type, handler);
    this.stop_watching = () => { for (const type of eventTypes) watchedNode.removeEventListener(type, handler); };
    test.add_cleanup(() => this.stop_watching());
    this.timeoutPromise = timeoutPromise;
  }

  wait_for(types, options) {
    if (this.waiting) return Promise.reject(new Error('Already waiting for an event or events'));
    if (typeof types === 'string') types = [types];
    this.recordedEvents = options && options.record === 'all' ? [] : null;
    return new Promise((resolve, reject) => {
      this.waiting = { types: types.slice(), resolve, reject };
    });
  }
}

function step_timeout(func, timeout, ...args) {
  return realSetTimeout(() => func(...args), timeout);
}

const GLOBAL = {
  isWindow() { return false; },
  isWorker() { return true; },
  isShadowRealm() { return false; },
};

function format_value(v) { return formatValue(v); }

const exported = {
  test, async_test, promise_test, promise_setup, generate_tests, setup, done, step_timeout, format_value,
  assert_true, assert_false, assert_equals, assert_not_equals, assert_in_array, assert_array_equals,
  assert_array_approx_equals, assert_approx_equals, assert_less_than, assert_greater_than, assert_less_than_equal,
  assert_greater_than_equal, assert_between_exclusive, assert_between_inclusive, assert_regexp_match,
  assert_not_regexp_match, assert_class_string, assert_own_property, assert_not_own_property, assert_inherits,
  assert_idl_attribute, assert_readonly, assert_unreached, assert_implements, assert_implements_optional,
  assert_object_equals, assert_throws_js, assert_throws_dom, assert_throws_exactly, promise_rejects_js,
  promise_rejects_dom, promise_rejects_exactly, EventWatcher, GLOBAL, AssertionError,
  OptionalFeatureUnsupportedError,
};
for (const [name, value] of Object.entries(exported)) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}

/**
 * Runs one test file (its META includes and its body, wrapped by WptRunner in one function) and
 * answers its results. `resources` maps absolute WPT paths to the text of files the test may
 * fetch(); `path` is the file's WPT path, `timeoutMs` the harness timeout.
 */
export async function run(body, { path, resources, timeoutMs }) {
  const base = 'http://wpt.test/' + path;
  if (typeof globalThis.location === 'undefined') {
    // WorkerLocation: WPT's common/subset-tests.js reads location.search.
    const url = new URL(base);
    Object.defineProperty(globalThis, 'location', {
      value: Object.freeze({ href: url.href, origin: url.origin, protocol: url.protocol, host: url.host, hostname: url.hostname,
        port: url.port, pathname: url.pathname, search: '', hash: '', toString() { return url.href; } }),
      configurable: true, writable: true,
    });
  }
  const realFetch = globalThis.fetch;
  // Files next to the test (JSON test data) are served from the bundle, as wptserve would.
  globalThis.fetch = function fetch(input, init) {
    let url;
    try { url = new URL(typeof input === 'string' ? input : String(input.url ?? input), base); } catch { url = null; }
    if (url !== null && url.origin === 'http://wpt.test') {
      const text = resources[url.pathname.slice(1)];
      if (text === undefined) return Promise.resolve(new Response('not found: ' + url.pathname, { status: 404 }));
      const type = url.pathname.endsWith('.json') ? 'application/json' : 'text/plain';
      return Promise.resolve(new Response(text, { headers: { 'content-type': type } }));
    }
    return realFetch.call(this, input, init);
  };
  harness.timeoutMs = timeoutMs;
  const finished = new Promise((resolve) => { harness.resolve = resolve; });
  harness.timer = realSetTimeout(onTimeout, timeoutMs);
  try {
    body();
  } catch (e) {
    harnessError('uncaught exception: ' + errorMessage(e));
  }
  harness.scriptEnded = true;
  // promise_tests start after the script, one after the other.
  harness.promiseQueue.then(() => checkComplete());
  checkComplete();
  await finished;
  return {
    status: harness.status,
    message: harness.message,
    tests: harness.tests.map((t) => ({ name: t.name, status: t.status, message: t.message })),
  };
}
