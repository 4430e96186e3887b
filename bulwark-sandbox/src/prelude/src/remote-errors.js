// Errors across stubs (durable objects, service bindings, dynamic workers, passed functions), as
// workerd shows them to the caller (measured on workerd 2026-11-17; docs/notes/fidelity.md):
// - the callee's thrown value crosses with serialize's richErrors (class, message, a name that is
//   not the class's own, own properties; no stack);
// - a thrown primitive (string, number, null, undefined, ...) becomes an Error of its text;
// - an object's RPC error (an object, not a DOMException) carries `durableObjectId`, the id's hex;
// - the caller's copy gets an own, enumerable `remote: true`, except an object's reset error
//   (ctx.abort, a rejected blockConcurrencyWhile), which carries `durableObjectReset: true` instead;
// - fetch() through a stub rejects with that error (it never becomes a 500 Response).
// One encoding for RPC results and fetch failures.
import { serialize, deserialize } from './serialize.js';
import { DOMException, isDOMException } from './dom-exception.js';
import { enhancedErrorSerialization } from './structured-clone.js';
import { ObjectDefineProperty, ObjectGetOwnPropertyDescriptor, isObjectLike } from './util.js';

const ErrorCtor = Error;
const ErrorCaptureStackTrace = Error.captureStackTrace;

function defineOwn(obj, key, value) {
  try {
    ObjectDefineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  } catch { /* frozen or a proxy that refuses: left as it is */ }
}

/** The callee's thrown value as it crosses: primitives become an Error; an object's gets its id. */
export function thrownForCaller(err, objectId = undefined) {
  if (!isObjectLike(err)) return new ErrorCtor(`${typeof err === 'symbol' ? err.toString() : err}`);
  if (objectId !== undefined && !isDOMException(err) && !isReset(err)) defineOwn(err, 'durableObjectId', objectId);
  return err;
}

/**
 * The error an object's reset shows its callers: {@code reason} (a rejected blockConcurrencyWhile's
 * error) or, for ctx.abort, an Error of the reason's text; marked `durableObjectReset: true`.
 */
export function resetError(reason, fromAbort) {
  const err = fromAbort
    ? new ErrorCtor(reason === undefined ? 'Application called abort() to reset Durable Object.' : `${reason}`)
    : thrownForCaller(reason);
  defineOwn(err, 'durableObjectReset', true);
  return err;
}

/** Whether {@code err} is an object's reset error (its stub is broken from then on, as in workerd). */
export function isReset(err) {
  if (!isObjectLike(err)) return false;
  const reset = ObjectGetOwnPropertyDescriptor(err, 'durableObjectReset');
  return reset !== undefined && reset.value === true;
}

/**
 * The caller's side: marks a decoded thrown value as remote (a reset error stays as it came) and
 * gives an error the caller's stack: the frames below {@code above} (an RPC: the caller's awaiting
 * functions), none when {@code above} is undefined (fetch), never the callee's or the prelude's.
 */
export function remoteError(value, above = undefined, fromFetch = false) {
  if (!isObjectLike(value)) return value;
  if (!enhancedErrorSerialization()) value = fromDescription(value);
  // workerd marks a fetch() failure remote even when it is a reset (measured: a rejected
  // blockConcurrencyWhile the object caught), an RPC reset error not.
  const reset = isReset(value);
  if (!reset) defineOwn(value, 'remote', true);
  else if (fromFetch) {
    // remote first, then durableObjectReset: workerd's order.
    try { delete value.durableObjectReset; } catch { /* kept where it was */ }
    defineOwn(value, 'remote', true);
    defineOwn(value, 'durableObjectReset', true);
  }
  if (value instanceof ErrorCtor && typeof ErrorCaptureStackTrace === 'function') {
    const limit = ErrorCtor.stackTraceLimit;
    try {
      if (above === undefined) ErrorCtor.stackTraceLimit = 0;
      ErrorCaptureStackTrace(value, above);
    } catch { /* left without */ } finally {
      if (above === undefined) ErrorCtor.stackTraceLimit = limit;
    }
    withHeader(value);
  }
  return value;
}

// The error classes workerd tunnels by name (jsg's JS_ERROR_TYPES, in its order), and the
// prefixes the callee's side recognizes (the same and DOMException).
const Wasm = typeof WebAssembly === 'object' ? WebAssembly : {};
const TUNNELED = [['Error', ErrorCtor], ['RangeError', RangeError], ['TypeError', TypeError], ['SyntaxError', SyntaxError],
  ['ReferenceError', ReferenceError], ['CompileError', Wasm.CompileError], ['LinkError', Wasm.LinkError],
  ['RuntimeError', Wasm.RuntimeError], ['SuspendError', Wasm.SuspendError], ['AggregateError', AggregateError],
  ['SuppressedError', typeof SuppressedError === 'function' ? SuppressedError : undefined], ['URIError', URIError],
  ['EvalError', EvalError]];

/**
 * A thrown error as a caller without enhanced_error_serialization sees it: workerd does not use
 * the serialized error then but the exception's text, String(error) on the callee's side (here:
 * of the copy, which has the callee's name and message), prefixed "Error: " unless it starts with
 * a tunneled class's name; the caller gets that class with the text after the name's ": ", and
 * nothing of the error's own properties but what the exception carries besides (an object's id,
 * a reset). A DOMException keeps its name and message.
 */
function fromDescription(value) {
  let out;
  if (isDOMException(value)) {
    out = new DOMException(value.message, value.name);
  } else {
    let text;
    try { text = `${value}`; } catch { text = 'Error'; }
    let known = text.startsWith('DOMException');
    for (let i = 0; i < TUNNELED.length && !known; i++) known = text.startsWith(TUNNELED[i][0]);
    if (!known) text = `Error: ${text}`;
    for (let i = 0; i < TUNNELED.length && out === undefined; i++) {
      const [name, ctor] = TUNNELED[i];
      if (!text.startsWith(name)) continue;
      const rest = text.slice(name.length);
      // jsg's trimErrorMessage: the text after ':' and its spaces, else none.
      const message = rest.startsWith(':') ? rest.slice(1).replace(/^ +/, '') : '';
      out = ctor === undefined ? new ErrorCtor(message) : ctor === AggregateError ? new ctor([], message) : new ctor(message);
    }
    if (out === undefined) out = new ErrorCtor(text);
  }
  for (const key of ['durableObjectId', 'durableObjectReset']) {
    const d = ObjectGetOwnPropertyDescriptor(value, key);
    if (d !== undefined && 'value' in d) defineOwn(out, key, d.value);
  }
  return out;
}

// The stack's first line as V8 writes it from the error's name and message now (this V8 keeps the
// one from the error's construction, before the message and name were defined on it).
function withHeader(err) {
  try {
    const stack = err.stack;
    if (typeof stack !== 'string') return;
    const name = err.name === undefined ? 'Error' : `${err.name}`;
    const message = err.message === undefined ? '' : `${err.message}`;
    const header = message === '' ? name : name === '' ? message : `${name}: ${message}`;
    if (stack.startsWith(header) && (stack.length === header.length || stack[header.length] === '\n')) return;
    const at = stack.indexOf('\n    at ');
    ObjectDefineProperty(err, 'stack', { value: header + (at < 0 ? '' : stack.slice(at)), writable: true, enumerable: false, configurable: true });
  } catch { /* left as it is */ }
}

// A fetch() failure's thrown value crosses as plain data (no capabilities) and at most this big;
// a larger one, or one that cannot be serialized, crosses as an Error of its text.
const MAX_THROWN_BYTES = 64 * 1024;

/** The bytes of a fetch handler's thrown value for the caller of stub.fetch(). */
export function encodeThrown(err) {
  const value = thrownForCaller(err);
  try {
    const bytes = serialize(value, { richErrors: true, maxBytes: MAX_THROWN_BYTES });
    if (bytes.length <= MAX_THROWN_BYTES) return bytes;
  } catch { /* below */ }
  let text;
  try { text = `${value.message !== undefined ? value.message : value}`; } catch { text = 'Uncaught exception'; }
  const plain = new ErrorCtor(text.length > 4096 ? text.slice(0, 4096) : text);
  return serialize(plain, { richErrors: true });
}

/** The error a stub's fetch() rejects with, from the bytes encodeThrown made, or undefined if malformed. */
export function decodeThrown(bytes) {
  try {
    return remoteError(deserialize(bytes), undefined, true);
  } catch {
    return undefined;
  }
}
