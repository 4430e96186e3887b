// Body handling shared by Request and Response (Fetch Standard "body" and the Body mixin).
import { viewBytes, isObjectLike, concatBytes, bytesToArrayBuffer, toUSVString, ObjectDefineProperty, ReflectApply, ArrayIsArray } from './util.js';
import { utf8Encode, utf8Decode, utf8DecodeReplace } from './encoding.js';
import { compat, STRIP_BOM, FETCH_ITERABLE, FETCH_ITERABLE_ADJUSTMENT } from './compat.js';
import { ReadableStream, isReadableStream, isStreamDisturbed, isStreamLocked, getReader, readerReadChunk, teeStream } from './streams-core.js';
import { Blob, isBlob, blobBytes } from './blob.js';
import { FormData, isFormData, serializeMultipart, parseMultipart } from './formdata.js';
import { isURLSearchParams, getParamsList, serializeUrlencoded, parseUrlencodedBytes } from './url.js';
import { parseMimeType } from './mime.js';
import { headerGet } from './headers.js';

/** Convert a stream chunk to bytes (Uint8Array/ArrayBuffer/any view/string accepted). */
export function chunkToBytes(chunk) {
  if (typeof chunk === 'string') return utf8Encode(chunk);
  const view = isObjectLike(chunk) ? viewBytes(chunk) : null;
  if (view === null) throw new TypeError('This ReadableStream did not return bytes.');
  return view;
}

/** A byte stream that yields `bytes` (ownership is transferred to the stream). */
export function bytesToStream(bytes) {
  return new ReadableStream({
    type: 'bytes',
    start(controller) {
      if (bytes !== null && bytes.byteLength > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
}

export async function readAllBytes(stream) {
  const reader = getReader(stream);
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await readerReadChunk(reader);
    if (done) break;
    let bytes;
    try {
      bytes = chunkToBytes(value);
    } catch (err) {
      reader.cancel(err).catch(() => {});
      throw err;
    }
    if (bytes.byteLength === 0) continue;
    chunks.push(bytes.slice());
    total += bytes.byteLength;
  }
  return chunks.length === 1 ? chunks[0] : concatBytes(chunks, total);
}

/** Internal body record: either fully buffered bytes (lazy stream) or a ReadableStream. */
export class Body {
  constructor(bytes, stream) {
    this.bytes = bytes;   // Uint8Array | null
    this.stream = stream; // ReadableStream | null
    this.consumed = false;
    this.shared = false;  // bytes are shared with a clone or a Blob: copy before handing out
  }
  get used() {
    return this.stream !== null ? isStreamDisturbed(this.stream) : this.consumed;
  }
  get locked() {
    return this.stream !== null && isStreamLocked(this.stream);
  }
  get unusable() { return this.used || this.locked; }
  getStream() {
    if (this.stream === null) {
      if (this.consumed) {
        this.stream = bytesToStream(null);
        this.stream._disturbed = true;
      } else {
        this.stream = bytesToStream(this.shared ? this.bytes.slice() : this.bytes);
      }
      this.bytes = null;
    }
    return this.stream;
  }
  /** Buffered bytes if this body has not been turned into a stream yet (no copy). */
  peekBytes() { return this.stream === null && !this.consumed ? this.bytes : null; }
  async consume() {
    if (this.unusable) throw new TypeError('Body has already been used. It can only be used once. Use tee() first if you need to read it twice.');
    if (this.stream === null) {
      this.consumed = true;
      const b = this.bytes;
      this.bytes = null;
      return this.shared ? b.slice() : b;
    }
    return readAllBytes(this.stream);
  }
  /** Take the bytes synchronously when buffered (marks the body used), else null. */
  takeBytesSync() {
    if (this.stream !== null || this.consumed) return null;
    this.consumed = true;
    const b = this.bytes;
    this.bytes = null;
    return this.shared ? b.slice() : b;
  }
  clone() {
    if (this.unusable) throw new TypeError('Body has already been used. It can only be used once. Use tee() first if you need to read it twice.');
    if (this.stream === null) {
      const b = new Body(this.bytes, null);
      this.shared = b.shared = true;
      return b;
    }
    const [a, b] = teeStream(this.stream);
    this.stream = a;
    return new Body(null, b);
  }
  /** Move this body out (new Request(request)): the source becomes used. */
  transfer() {
    if (this.unusable) throw new TypeError('Cannot construct a Request with a Request object that has already been used.');
    const b = new Body(this.bytes, this.stream);
    b.shared = this.shared;
    this.bytes = null;
    this.consumed = true;
    if (this.stream !== null) {
      this.stream = bytesToStream(null);
      this.stream._disturbed = true;
    }
    return b;
  }
}

// A body in hand up to this size crosses an RPC (a stub's fetch(), a Request or Response passed
// over RPC) in the message itself; a larger one, and any body that is a stream, is streamed to the
// receiver on its pulls.
export const INLINE_BODY_BYTES = 1024 * 1024;

/**
 * A Request's or Response's body as it crosses RPC: null, its bytes (taken: the body is used
 * now), or its stream (locked by the one who sends it).
 */
export function rpcBody(body) {
  if (body === null) return null;
  if (body.unusable) throw new TypeError('Body has already been used. It can only be used once. Use tee() first if you need to read it twice.');
  const bytes = body.peekBytes();
  if (bytes !== null && bytes.byteLength <= INLINE_BODY_BYTES) return body.takeBytesSync();
  return body.getStream();
}

/** Fetch "extract a body": returns { body: Body, type: string | null }. */
export function extractBody(object) {
  if (typeof object === 'string') return { body: new Body(utf8Encode(object), null), type: 'text/plain;charset=UTF-8' };
  if (isObjectLike(object)) {
    if (isReadableStream(object)) {
      if (isStreamDisturbed(object) || isStreamLocked(object)) throw new TypeError('This ReadableStream is disturbed (has already been read from), and cannot be used as a body.');
      return { body: new Body(null, object), type: null };
    }
    if (isBlob(object)) {
      const body = new Body(blobBytes(object), null);
      body.shared = true;
      return { body, type: object.type === '' ? null : object.type };
    }
    const view = viewBytes(object);
    if (view !== null) return { body: new Body(view.slice(), null), type: null };
    if (isURLSearchParams(object)) {
      return { body: new Body(utf8Encode(serializeUrlencoded(getParamsList(object))), null), type: 'application/x-www-form-urlencoded;charset=UTF-8' };
    }
    if (isFormData(object)) {
      const { bytes, contentType } = serializeMultipart(object);
      return { body: new Body(bytes, null), type: contentType };
    }
    const iterable = compat(FETCH_ITERABLE) ? iterableBody(object) : null;
    if (iterable !== null) return { body: new Body(null, iterable), type: null };
  }
  return { body: new Body(utf8Encode(toUSVString(object)), null), type: 'text/plain;charset=UTF-8' };
}

const objectToString = Object.prototype.toString;
const objectToPrimitive = Object.prototype[Symbol.toPrimitive]; // undefined: Object.prototype has none
const ReadableStreamFrom = ReadableStream.from;
const SymbolIterator = Symbol.iterator, SymbolAsyncIterator = Symbol.asyncIterator, SymbolToPrimitive = Symbol.toPrimitive;

/**
 * fetch_iterable_type_support (from 2026-02-19): a sync or async iterable (an Array too) is a body
 * whose chunks are what it yields; before, it was stringified. Its override adjustment: a sync
 * iterable other than an Array with its own toString or Symbol.toPrimitive is still stringified.
 * Null when the object is no such iterable.
 */
function iterableBody(object) {
  if (typeof object[SymbolAsyncIterator] !== 'function') {
    if (compat(FETCH_ITERABLE_ADJUSTMENT) && !ArrayIsArray(object)
      && (object.toString !== objectToString || object[SymbolToPrimitive] !== objectToPrimitive)) return null;
    if (typeof object[SymbolIterator] !== 'function') return null;
  }
  return ReflectApply(ReadableStreamFrom, ReadableStream, [object]);
}

/**
 * text() and json(): UTF-8, a leading BOM dropped from 2026-01-13 (strip_bom_in_read_all_text);
 * before, workerd kept it as U+FEFF.
 */
function bodyText(bytes) {
  return compat(STRIP_BOM) ? utf8Decode(bytes) : utf8DecodeReplace(bytes);
}

function usedError() {
  return new TypeError('Body has already been used. It can only be used once. Use tee() first if you need to read it twice.');
}

/**
 * Install the Body mixin on a class. `access(obj)` returns { body: Body|null, headers: Headers }
 * or throws TypeError for a foreign receiver.
 */
export function installBodyMixin(cls, access) {
  const consume = async (obj) => {
    const { body } = access(obj);
    if (body === null) return new Uint8Array(0);
    if (body.unusable) throw usedError();
    return body.consume();
  };
  const methods = {
    async arrayBuffer() { return bytesToArrayBuffer(await consume(this)); },
    async bytes() { return await consume(this); },
    async text() { return bodyText(await consume(this)); },
    async json() { return JSON.parse(bodyText(await consume(this))); },
    async blob() {
      const { headers } = access(this);
      const bytes = await consume(this);
      const ct = headerGet(headers, 'content-type');
      const mime = ct === null ? null : parseMimeType(ct);
      return new Blob([bytes], { type: mime === null ? '' : ct });
    },
    async formData() {
      const { headers } = access(this);
      const ct = headerGet(headers, 'content-type');
      const mime = ct === null ? null : parseMimeType(ct);
      if (mime !== null && mime.essence === 'multipart/form-data') {
        const boundary = mime.params.get('boundary');
        if (boundary === undefined) throw new TypeError('Failed to parse body as FormData: missing boundary.');
        return parseMultipart(await consume(this), boundary);
      }
      if (mime !== null && mime.essence === 'application/x-www-form-urlencoded') {
        const fd = new FormData();
        for (const [n, v] of parseUrlencodedBytes(await consume(this))) fd.append(n, v);
        return fd;
      }
      throw new TypeError(`Failed to parse body as FormData: unsupported Content-Type ${ct === null ? '(none)' : JSON.stringify(ct)}.`);
    },
  };
  for (const name of Object.keys(methods)) {
    ObjectDefineProperty(cls.prototype, name, { value: methods[name], writable: true, configurable: true, enumerable: true });
  }
  ObjectDefineProperty(cls.prototype, 'body', {
    get: function body() { const b = access(this).body; return b === null ? null : b.getStream(); },
    configurable: true, enumerable: true,
  });
  ObjectDefineProperty(cls.prototype, 'bodyUsed', {
    get: function bodyUsed() { const b = access(this).body; return b !== null && b.used; },
    configurable: true, enumerable: true,
  });
}
