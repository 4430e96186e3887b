// node:assert and node:assert/strict.
import { I, ReflectApply } from './internals.js';
import { deepEqual } from './deep-equal.js';
import { types } from './types.js';

export class AssertionError extends Error {
  constructor(options) {
    if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be of type object.');
    const { message, actual, expected, operator } = options;
    const generated = message === undefined;
    super(generated ? `${I.inspect(actual)} ${operator} ${I.inspect(expected)}` : `${message}`);
    this.generatedMessage = generated;
    this.code = 'ERR_ASSERTION';
    this.actual = actual;
    this.expected = expected;
    this.operator = operator;
  }
}
Object.defineProperty(AssertionError.prototype, 'name', { value: 'AssertionError', writable: true, configurable: true });

function fail(actual, expected, message, operator, defaultMessage) {
  if (message instanceof Error) throw message;
  const e = new AssertionError({ actual, expected, operator, message: message ?? defaultMessage });
  if (message === undefined && defaultMessage !== undefined) e.generatedMessage = true;
  throw e;
}

function innerOk(value, message, argCount) {
  if (value) return;
  if (argCount === 0) fail(undefined, true, undefined, '==', 'No value argument passed to `assert.ok()`');
  fail(value, true, message, '==', message === undefined ? 'The expression evaluated to a falsy value' : undefined);
}

function matches(err, expected, message, fnName) {
  if (expected === undefined) return;
  if (typeof expected === 'function') {
    if (expected.prototype !== undefined && err instanceof expected) return;
    if (Error.isPrototypeOf(expected) || expected === Error) {
      fail(err, expected, message, fnName, `The error is expected to be an instance of "${expected.name}". Received "${err && err.name}"`);
    }
    if (ReflectApply(expected, {}, [err]) === true) return;
    fail(err, expected, message, fnName, `The ${fnName === 'rejects' ? 'rejection' : 'error'} validation function is expected to return "true".`);
  }
  if (types.isRegExp(expected)) {
    if (expected.test(`${err}`)) return;
    fail(err, expected, message, fnName, `The input did not match the regular expression ${expected}. Input:\n\n${I.inspect(`${err}`)}\n`);
  }
  if (typeof expected === 'object' && expected !== null) {
    for (const key of Object.keys(expected)) {
      const want = expected[key], got = err === null || err === undefined ? undefined : err[key];
      const ok = types.isRegExp(want) && typeof got === 'string' ? want.test(got) : deepEqual(got, want, true);
      if (!ok) fail(err, expected, message, fnName, `Expected values to be strictly deep-equal:\n${key}: ${I.inspect(got)} !== ${I.inspect(want)}`);
    }
    return;
  }
  throw new TypeError('The "expected" argument must be a function, RegExp or object');
}

const NO_EXCEPTION = Symbol('no exception');

function makeAssert(strict) {
  function assert(...args) { innerOk(args[0], args[1], args.length); }
  const a = assert;
  a.ok = (...args) => innerOk(args[0], args[1], args.length);
  a.fail = (message = 'Failed') => {
    if (message instanceof Error) throw message;
    const e = new AssertionError({ message, operator: 'fail' });
    e.generatedMessage = message === 'Failed';
    throw e;
  };
  a.strictEqual = (actual, expected, message) => {
    if (!Object.is(actual, expected)) fail(actual, expected, message, 'strictEqual', `Expected values to be strictly equal:\n\n${I.inspect(actual)} !== ${I.inspect(expected)}\n`);
  };
  a.notStrictEqual = (actual, expected, message) => {
    if (Object.is(actual, expected)) fail(actual, expected, message, 'notStrictEqual', `Expected "actual" to be strictly unequal to: ${I.inspect(expected)}`);
  };
  a.deepStrictEqual = (actual, expected, message) => {
    if (!deepEqual(actual, expected, true)) fail(actual, expected, message, 'deepStrictEqual', `Expected values to be strictly deep-equal:\n${I.inspect(actual)}\n\nshould equal\n\n${I.inspect(expected)}`);
  };
  a.notDeepStrictEqual = (actual, expected, message) => {
    if (deepEqual(actual, expected, true)) fail(actual, expected, message, 'notDeepStrictEqual', `Expected "actual" not to be strictly deep-equal to: ${I.inspect(expected)}`);
  };
  const looseEqual = (actual, expected, message) => {
    if (!(actual == expected || (Number.isNaN(actual) && Number.isNaN(expected)))) fail(actual, expected, message, '==', `${I.inspect(actual)} == ${I.inspect(expected)}`);
  };
  const looseNotEqual = (actual, expected, message) => {
    if (actual == expected || (Number.isNaN(actual) && Number.isNaN(expected))) fail(actual, expected, message, '!=', `${I.inspect(actual)} != ${I.inspect(expected)}`);
  };
  const looseDeep = (actual, expected, message) => {
    if (!deepEqual(actual, expected, false)) fail(actual, expected, message, 'deepEqual', `Expected values to be loosely deep-equal:\n\n${I.inspect(actual)}\n\nshould loosely deep-equal\n\n${I.inspect(expected)}`);
  };
  const looseNotDeep = (actual, expected, message) => {
    if (deepEqual(actual, expected, false)) fail(actual, expected, message, 'notDeepEqual', `"actual" deepEqual "expected"`);
  };
  a.equal = strict ? a.strictEqual : looseEqual;
  a.notEqual = strict ? a.notStrictEqual : looseNotEqual;
  a.deepEqual = strict ? a.deepStrictEqual : looseDeep;
  a.notDeepEqual = strict ? a.notDeepStrictEqual : looseNotDeep;
  a.throws = (fn, expected, message) => {
    if (typeof fn !== 'function') throw new TypeError('The "fn" argument must be of type function.');
    if (typeof expected === 'string') { message = expected; expected = undefined; }
    let err = NO_EXCEPTION;
    try { fn(); } catch (e) { err = e; }
    if (err === NO_EXCEPTION) fail(undefined, expected, message, 'throws', 'Missing expected exception' + (expected && expected.name ? ` (${expected.name}).` : '.'));
    matches(err, expected, message, 'throws');
  };
  a.doesNotThrow = (fn, expected, message) => {
    if (typeof expected === 'string') { message = expected; }
    try { fn(); } catch (e) {
      fail(e, expected, message, 'doesNotThrow', `Got unwanted exception.\nActual message: "${e && e.message}"`);
    }
  };
  a.rejects = async (promiseFn, expected, message) => {
    if (typeof expected === 'string') { message = expected; expected = undefined; }
    let err = NO_EXCEPTION;
    try { await (typeof promiseFn === 'function' ? promiseFn() : promiseFn); } catch (e) { err = e; }
    if (err === NO_EXCEPTION) fail(undefined, expected, message, 'rejects', 'Missing expected rejection' + (expected && expected.name ? ` (${expected.name}).` : '.'));
    matches(err, expected, message, 'rejects');
  };
  a.doesNotReject = async (promiseFn, expected, message) => {
    if (typeof expected === 'string') { message = expected; }
    try { await (typeof promiseFn === 'function' ? promiseFn() : promiseFn); } catch (e) {
      fail(e, expected, message, 'doesNotReject', `Got unwanted rejection.\nActual message: "${e && e.message}"`);
    }
  };
  a.match = (string, regexp, message) => {
    if (typeof string !== 'string' || !regexp.test(string)) fail(string, regexp, message, 'match', `The input did not match the regular expression ${regexp}. Input:\n\n${I.inspect(string)}\n`);
  };
  a.doesNotMatch = (string, regexp, message) => {
    if (typeof string !== 'string' || regexp.test(string)) fail(string, regexp, message, 'doesNotMatch', `The input was expected to not match the regular expression ${regexp}. Input:\n\n${I.inspect(string)}\n`);
  };
  a.ifError = (value) => {
    if (value !== null && value !== undefined) {
      if (value instanceof Error) throw value;
      fail(value, null, undefined, 'ifError', `ifError got unwanted exception: ${I.inspect(value)}`);
    }
  };
  a.AssertionError = AssertionError;
  return a;
}

const strictAssert = makeAssert(true);
const looseAssert = makeAssert(false);
looseAssert.strict = strictAssert;
strictAssert.strict = strictAssert;

function moduleOf(a) {
  const out = { default: a };
  for (const k of Object.keys(a)) out[k] = a[k];
  return out;
}

export function assertModule() {
  return moduleOf(looseAssert);
}
export function assertStrictModule() {
  return moduleOf(strictAssert);
}
