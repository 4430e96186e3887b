// Web Streams come from web-streams-polyfill (WHATWG reference-implementation based).
import {
  ReadableStream, ReadableStreamDefaultReader, ReadableStreamBYOBReader, ReadableStreamBYOBRequest,
  ReadableByteStreamController, ReadableStreamDefaultController, WritableStream, WritableStreamDefaultWriter,
  WritableStreamDefaultController, TransformStream, TransformStreamDefaultController,
  ByteLengthQueuingStrategy, CountQueuingStrategy,
} from 'web-streams-polyfill';
import { ReflectApply } from './util.js';

export {
  ReadableStream, ReadableStreamDefaultReader, ReadableStreamBYOBReader, ReadableStreamBYOBRequest,
  ReadableByteStreamController, ReadableStreamDefaultController, WritableStream, WritableStreamDefaultWriter,
  WritableStreamDefaultController, TransformStream, TransformStreamDefaultController,
  ByteLengthQueuingStrategy, CountQueuingStrategy,
};

const rsLocked = Object.getOwnPropertyDescriptor(ReadableStream.prototype, 'locked').get;
const rsGetReader = ReadableStream.prototype.getReader;
const rsTee = ReadableStream.prototype.tee;
const rsCancel = ReadableStream.prototype.cancel;
const readerRead = ReadableStreamDefaultReader.prototype.read;
const readerRelease = ReadableStreamDefaultReader.prototype.releaseLock;
const readerCancel = ReadableStreamDefaultReader.prototype.cancel;
const wsLocked = Object.getOwnPropertyDescriptor(WritableStream.prototype, 'locked').get;
const wsGetWriter = WritableStream.prototype.getWriter;
const writerWrite = WritableStreamDefaultWriter.prototype.write;
const writerClose = WritableStreamDefaultWriter.prototype.close;
const writerAbort = WritableStreamDefaultWriter.prototype.abort;

export function isReadableStream(v) {
  if (typeof v !== 'object' || v === null) return false;
  try { ReflectApply(rsLocked, v, []); return true; } catch { return false; }
}
export function isStreamLocked(s) { return ReflectApply(rsLocked, s, []); }
/** "disturbed" per the Streams Standard (the polyfill keeps it in _disturbed). */
export function isStreamDisturbed(s) { return s._disturbed === true; }
export function getReader(s) { return ReflectApply(rsGetReader, s, []); }
export function readerReadChunk(r) { return ReflectApply(readerRead, r, []); }
export function readerReleaseLock(r) { ReflectApply(readerRelease, r, []); }
export function readerCancelWith(r, reason) { return ReflectApply(readerCancel, r, [reason]); }
export function teeStream(s) { return ReflectApply(rsTee, s, []); }
export function cancelStream(s, reason) { return ReflectApply(rsCancel, s, [reason]); }
export function isWritableStream(v) {
  if (typeof v !== 'object' || v === null) return false;
  try { ReflectApply(wsLocked, v, []); return true; } catch { return false; }
}
export function isWritableLocked(s) { return ReflectApply(wsLocked, s, []); }
export function getWriter(s) { return ReflectApply(wsGetWriter, s, []); }
export function writerWriteChunk(w, chunk) { return ReflectApply(writerWrite, w, [chunk]); }
export function writerCloseStream(w) { return ReflectApply(writerClose, w, []); }
export function writerAbortWith(w, reason) { return ReflectApply(writerAbort, w, [reason]); }

// Readable console.log output instead of the polyfill's internal fields.
import { inspectCustom } from './console.js';
const defineInspect = (cls, fn) => Object.defineProperty(cls.prototype, inspectCustom, { value: fn, configurable: true });
defineInspect(ReadableStream, function () {
  return { name: 'ReadableStream', value: { locked: this.locked, state: this._state, supportsBYOB: this._readableStreamController instanceof ReadableByteStreamController } };
});
defineInspect(WritableStream, function () { return { name: 'WritableStream', value: { locked: this.locked, state: this._state } }; });
defineInspect(TransformStream, function () { return { name: 'TransformStream', value: { readable: this.readable, writable: this.writable } }; });
for (const cls of [ReadableStreamDefaultReader, ReadableStreamBYOBReader, ReadableStreamBYOBRequest, ReadableByteStreamController,
  ReadableStreamDefaultController, WritableStreamDefaultWriter, WritableStreamDefaultController, TransformStreamDefaultController]) {
  const name = cls.name;
  defineInspect(cls, function () { return { name, value: {} }; });
}

// The polyfill's async iterator prototype is a plain object; in the Streams Standard (WebIDL
// async iterable) it inherits from %AsyncIteratorPrototype%, which code can observe.
{
  const iteratorProto = Object.getPrototypeOf(ReflectApply(ReadableStream.prototype.values, new ReadableStream(), []));
  const AsyncIteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf(async function* () {}).prototype);
  Object.setPrototypeOf(iteratorProto, AsyncIteratorPrototype);
}
