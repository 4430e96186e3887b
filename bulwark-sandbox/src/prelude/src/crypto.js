// crypto: getRandomValues, randomUUID, subtle (subtle.js) and DigestStream, backed by the host.
import { randomBytes } from './random.js';
import { DOMException } from './dom-exception.js';
import {
  typedArrayName, viewBytes, isObjectLike, webidlClass, illegalConstructor, bytesToArrayBuffer, PromiseCtor, PromiseThen,
  isArrayBuffer, isSharedArrayBuffer, isDataView, ObjectDefineProperty,
} from './util.js';
import { WritableStream } from './streams-core.js';
import { utf8Encode } from './encoding.js';
import { host, normalize, feed } from './crypto-common.js';
import { SubtleCrypto, newSubtle } from './subtle.js';
import { CryptoKey } from './crypto-key.js';

export { SubtleCrypto, CryptoKey };

const integerArrays = new Set(['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array']);
let constructing = false;

function getRandomValuesImpl(array) {
  const name = typedArrayName(array);
  if (name === undefined || !integerArrays.has(name)) {
    throw new DOMException("Failed to execute 'getRandomValues' on 'Crypto': The provided ArrayBufferView is of type '" + (name ?? typeof array) + "', which is not an integer array type.", 'TypeMismatchError');
  }
  const view = viewBytes(array);
  if (view.byteLength > 65536) {
    throw new DOMException(`Failed to execute 'getRandomValues' on 'Crypto': The ArrayBufferView's byte length (${view.byteLength}) exceeds the number of bytes of entropy available via this API (65536).`, 'QuotaExceededError');
  }
  if (view.byteLength > 0) view.set(randomBytes(view.byteLength));
  return array;
}

function randomUUIDImpl() {
  const b = randomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  let h = '';
  for (let i = 0; i < 16; i++) h += b[i].toString(16).padStart(2, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// ---------------------------------------------------------------------------------------
// crypto.DigestStream (Workers): a WritableStream whose `digest` promise resolves to the hash
// of everything written. The hash state lives in the host (one handle per stream, released on
// close or abort; the host drops the oldest open one beyond 1024, so abandoned streams cannot
// pile up). No FinalizationRegistry: with one in the isolates, HostileWorkerTest's CPU-limit
// cases failed (see docs/notes/crypto.md).

export class DigestStream extends WritableStream {
  #digest;
  #state;
  constructor(algorithm) {
    if (arguments.length < 1) throw new TypeError("Failed to construct 'DigestStream': 1 argument required, but only 0 present.");
    const { name } = normalize('digest', algorithm);
    const state = { handle: host('hashInit', name), bytes: 0, resolve: null, reject: null };
    const digest = new PromiseCtor((resolve, reject) => { state.resolve = resolve; state.reject = reject; });
    PromiseThen(digest, undefined, () => {}); // a rejected digest nobody reads is not an unhandled rejection
    const release = () => {
      if (state.handle !== 0) {
        host('hashDrop', state.handle);
        state.handle = 0;
      }
    };
    super({
      write(chunk) {
        let view = null;
        if (typeof chunk === 'string') view = utf8Encode(chunk);
        else if (isArrayBufferOrView(chunk)) view = viewBytes(chunk);
        if (view === null) {
          throw new TypeError('DigestStream is a byte stream but received an object of non-ArrayBuffer/ArrayBufferView/string type on its writable side.');
        }
        state.bytes += feed(state.handle, view);
      },
      close() {
        const out = host('hashFinish', state.handle);
        state.handle = 0;
        state.resolve(bytesToArrayBuffer(out));
      },
      abort(reason) {
        release();
        state.reject(reason);
      },
    });
    this.#digest = digest;
    this.#state = state;
  }
  get digest() { return this.#digest; }
  get bytesWritten() { return this.#state.bytes; }
}
webidlClass(DigestStream);

const isArrayBufferOrView = (v) => isArrayBuffer(v) || isSharedArrayBuffer(v) || typedArrayName(v) !== undefined || isDataView(v);

export class Crypto {
  #subtle;
  constructor() {
    if (!constructing) illegalConstructor();
    this.#subtle = newSubtle();
  }
  get subtle() { return this.#subtle; }
  getRandomValues(array) {
    if (arguments.length < 1) throw new TypeError("Failed to execute 'getRandomValues' on 'Crypto': 1 argument required, but only 0 present.");
    return getRandomValuesImpl(array);
  }
  randomUUID() { return randomUUIDImpl(); }
}
webidlClass(Crypto);
ObjectDefineProperty(Crypto.prototype, 'DigestStream', { value: DigestStream, writable: true, configurable: true, enumerable: false });

export function createCrypto() {
  constructing = true;
  try { return new Crypto(); } finally { constructing = false; }
}
