// TextEncoderStream, TextDecoderStream and the Workers-specific IdentityTransformStream / FixedLengthStream.
import { TransformStream } from './streams-core.js';
import { utf8Encode, TextDecoder } from './encoding.js';
import { toDOMString, webidlClass, viewBytes, isObjectLike, isDetachedBufferSource } from './util.js';
import { chunkToBytes } from './body.js';
import { compat, ENCODER_BACKPRESSURE } from './compat.js';

// encoder_stream_spec_compliant_backpressure (from 2026-03-24): the readable side's high water mark
// is the Encoding Standard's 0, so a write waits for a read; before, workerd's was 1.
const readableStrategy = () => (compat(ENCODER_BACKPRESSURE) ? undefined : { highWaterMark: 1 });

export class TextEncoderStream {
  #transform;
  constructor() {
    let pendingHigh = '';
    this.#transform = new TransformStream({
      transform(chunk, controller) {
        let s = pendingHigh + toDOMString(chunk);
        pendingHigh = '';
        if (s.length > 0) {
          const last = s.charCodeAt(s.length - 1);
          if (last >= 0xd800 && last <= 0xdbff) { pendingHigh = s[s.length - 1]; s = s.slice(0, -1); }
        }
        if (s.length > 0) controller.enqueue(utf8Encode(s));
      },
      flush(controller) {
        if (pendingHigh !== '') controller.enqueue(new Uint8Array([0xef, 0xbf, 0xbd]));
      },
    }, undefined, readableStrategy());
  }
  get encoding() { return 'utf-8'; }
  get readable() { return this.#transform.readable; }
  get writable() { return this.#transform.writable; }
}
webidlClass(TextEncoderStream);

export class TextDecoderStream {
  #decoder;
  #transform;
  constructor(label = 'utf-8', options = undefined) {
    const decoder = new TextDecoder(label, options);
    this.#decoder = decoder;
    this.#transform = new TransformStream({
      transform(chunk, controller) {
        // A detached buffer holds no bytes (WebIDL's "get a copy of the bytes"): no output.
        if (isObjectLike(chunk) && isDetachedBufferSource(chunk)) return;
        const view = isObjectLike(chunk) ? viewBytes(chunk) : null;
        if (view === null) throw new TypeError("Failed to execute 'transform' on 'TextDecoderStream': The provided value is not of type '(ArrayBuffer or ArrayBufferView)'.");
        const s = decoder.decode(view, { stream: true });
        if (s !== '') controller.enqueue(s);
      },
      flush(controller) {
        const s = decoder.decode();
        if (s !== '') controller.enqueue(s);
      },
    }, undefined, readableStrategy());
  }
  get encoding() { return this.#decoder.encoding; }
  get fatal() { return this.#decoder.fatal; }
  get ignoreBOM() { return this.#decoder.ignoreBOM; }
  get readable() { return this.#transform.readable; }
  get writable() { return this.#transform.writable; }
}
webidlClass(TextDecoderStream);

/** Workers: a TransformStream that passes bytes through unchanged. */
export class IdentityTransformStream extends TransformStream {
  constructor(options = undefined) {
    super({ transform(chunk, controller) { controller.enqueue(chunkToBytes(chunk)); } });
  }
}
webidlClass(IdentityTransformStream);

/** Workers: an identity stream that requires exactly `expectedLength` bytes. */
export class FixedLengthStream extends TransformStream {
  constructor(expectedLength, options = undefined) {
    const expected = Number(expectedLength);
    if (!(expected >= 0) || !Number.isFinite(expected)) throw new TypeError('FixedLengthStream requires a non-negative expected length');
    let seen = 0;
    super({
      transform(chunk, controller) {
        const bytes = chunkToBytes(chunk);
        seen += bytes.byteLength;
        if (seen > expected) throw new TypeError('Attempt to write too many bytes through a FixedLengthStream.');
        controller.enqueue(bytes);
      },
      flush() {
        if (seen < expected) throw new TypeError('FixedLengthStream did not see all expected bytes before close().');
      },
    });
  }
}
webidlClass(FixedLengthStream);
