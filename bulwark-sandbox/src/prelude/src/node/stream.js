// node:stream: the npm `readable-stream` package (Node's own streams, MIT), and stream/promises,
// stream/web on the platform's Web streams.
import Stream from 'readable-stream';

// Captured when node.js is evaluated, before the worker's code runs.
const webStreams = {};
for (const n of ['ReadableStream', 'ReadableStreamDefaultReader', 'ReadableStreamBYOBReader',
  'ReadableStreamBYOBRequest', 'ReadableByteStreamController', 'ReadableStreamDefaultController',
  'TransformStream', 'TransformStreamDefaultController', 'WritableStream', 'WritableStreamDefaultWriter',
  'WritableStreamDefaultController', 'ByteLengthQueuingStrategy', 'CountQueuingStrategy',
  'TextEncoderStream', 'TextDecoderStream', 'CompressionStream', 'DecompressionStream']) {
  if (typeof globalThis[n] === 'function') webStreams[n] = globalThis[n];
}

export function streamModule() {
  return {
    default: Stream,
    Stream, Readable: Stream.Readable, Writable: Stream.Writable, Duplex: Stream.Duplex,
    Transform: Stream.Transform, PassThrough: Stream.PassThrough, pipeline: Stream.pipeline,
    finished: Stream.finished, addAbortSignal: Stream.addAbortSignal, compose: Stream.compose,
    destroy: Stream.destroy, isDisturbed: Stream.isDisturbed, isErrored: Stream.isErrored,
    isReadable: Stream.isReadable, promises: Stream.promises,
  };
}

export function streamPromisesModule() {
  return { pipeline: Stream.promises.pipeline, finished: Stream.promises.finished };
}

export function streamWebModule() {
  return { ...webStreams };
}
