// Blob and File (in-memory).
import { toUSVString, toDOMString, toDictionary, viewBytes, webidlClass, isObjectLike, concatBytes, bytesToArrayBuffer, PromiseResolve, PromiseReject, ReflectApply } from './util.js';
import { utf8Encode, utf8DecodeReplace } from './encoding.js';
import { ReadableStream } from './streams-core.js';
import { inspectCustom } from './console.js';

let isBlob, blobBytes, isFile;

function normalizeType(t) {
  const s = toDOMString(t);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return '';
  }
  return s.toLowerCase();
}
function convertLineEndings(s) {
  return s.replace(/\r\n|\r|\n/g, '\n');
}

export class Blob {
  #bytes;
  #type;
  constructor(blobParts = undefined, options = undefined) {
    // WebIDL converts the arguments in order: the sequence (its iterator method read once, each
    // element converted as it is reached), then the options dictionary.
    const parts = [];
    if (blobParts !== undefined) {
      const iteratorMethod = isObjectLike(blobParts) ? blobParts[Symbol.iterator] : undefined;
      if (typeof iteratorMethod !== 'function') {
        throw new TypeError("Failed to construct 'Blob': The provided value cannot be converted to a sequence.");
      }
      for (const part of { [Symbol.iterator]: () => ReflectApply(iteratorMethod, blobParts, []) }) {
        if (isBlob(part)) parts.push(part.#bytes);
        else {
          const view = isObjectLike(part) ? viewBytes(part) : null;
          parts.push(view !== null ? view.slice() : toUSVString(part));
        }
      }
    }
    const opts = toDictionary(options, "Failed to construct 'Blob'");
    const endings = opts.endings === undefined ? 'transparent' : toDOMString(opts.endings);
    if (endings !== 'transparent' && endings !== 'native') throw new TypeError(`Failed to construct 'Blob': The provided value '${endings}' is not a valid enum value of type EndingType.`);
    const chunks = parts.map((p) => (typeof p === 'string' ? utf8Encode(endings === 'native' ? convertLineEndings(p) : p) : p));
    this.#bytes = chunks.length === 1 ? (chunks[0]) : concatBytes(chunks);
    this.#type = opts.type === undefined ? '' : normalizeType(opts.type);
  }
  get size() { return this.#bytes.byteLength; }
  get type() { return this.#type; }
  slice(start = undefined, end = undefined, contentType = undefined) {
    const size = this.#bytes.byteLength;
    let s = start === undefined ? 0 : Math.trunc(Number(start)) || 0;
    let e = end === undefined ? size : Math.trunc(Number(end)) || 0;
    s = s < 0 ? Math.max(size + s, 0) : Math.min(s, size);
    e = e < 0 ? Math.max(size + e, 0) : Math.min(e, size);
    const blob = new Blob();
    blob.#bytes = this.#bytes.subarray(s, Math.max(s, e));
    blob.#type = contentType === undefined ? '' : normalizeType(contentType);
    return blob;
  }
  stream() {
    const bytes = this.#bytes;
    return new ReadableStream({
      type: 'bytes',
      start(controller) {
        if (bytes.byteLength > 0) controller.enqueue(bytes.slice());
        controller.close();
      },
    });
  }
  text() {
    if (!isBlob(this)) return PromiseReject(new TypeError('Illegal invocation'));
    return PromiseResolve(utf8DecodeReplace(this.#bytes));
  }
  arrayBuffer() {
    if (!isBlob(this)) return PromiseReject(new TypeError('Illegal invocation'));
    return PromiseResolve(bytesToArrayBuffer(this.#bytes.slice()));
  }
  bytes() {
    if (!isBlob(this)) return PromiseReject(new TypeError('Illegal invocation'));
    return PromiseResolve(this.#bytes.slice());
  }
  [inspectCustom]() { return { name: 'Blob', value: { size: this.size, type: this.type } }; }
  static {
    isBlob = (v) => isObjectLike(v) && #bytes in v;
    blobBytes = (b) => b.#bytes;
  }
}
webidlClass(Blob);

export class File extends Blob {
  #name;
  #lastModified;
  constructor(fileBits, fileName, options = undefined) {
    if (arguments.length < 2) throw new TypeError(`Failed to construct 'File': 2 arguments required, but only ${arguments.length} present.`);
    super(fileBits, options);
    const opts = toDictionary(options, "Failed to construct 'File'");
    this.#name = toUSVString(fileName);
    this.#lastModified = opts.lastModified === undefined ? Date.now() : Number(BigInt.asIntN(64, BigInt(Math.trunc(Number(opts.lastModified)) || 0)));
  }
  get name() { return this.#name; }
  get lastModified() { return this.#lastModified; }
  get webkitRelativePath() { return ''; }
  [inspectCustom]() { return { name: 'File', value: { size: this.size, type: this.type, name: this.#name, lastModified: this.#lastModified } }; }
  static {
    isFile = (v) => isObjectLike(v) && #name in v;
  }
}
webidlClass(File);

export { isBlob, isFile, blobBytes };
