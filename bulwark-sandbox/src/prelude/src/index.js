// Bulwark Web platform prelude: entry point. Defines the Web APIs on globalThis and the
// one-shot, non-enumerable globalThis.__bulwark_install(host).
import './early.js';
import { defineGlobals } from './util.js';
import { DOMException } from './dom-exception.js';
import { Event, EventTarget, CustomEvent, AbortController, AbortSignal, isEventTarget, isAbortSignal } from './events.js';
import { TextEncoder, TextDecoder } from './encoding.js';
import { atob, btoa } from './base64.js';
import { URL, URLSearchParams, isURL, isURLSearchParams } from './url.js';
import {
  ReadableStream, ReadableStreamDefaultReader, ReadableStreamBYOBReader, ReadableStreamBYOBRequest,
  ReadableByteStreamController, ReadableStreamDefaultController, WritableStream, WritableStreamDefaultWriter,
  WritableStreamDefaultController, TransformStream, TransformStreamDefaultController,
  ByteLengthQueuingStrategy, CountQueuingStrategy, isReadableStream,
} from './streams-core.js';
import { TextEncoderStream, TextDecoderStream, IdentityTransformStream, FixedLengthStream } from './streams-extra.js';
import { Blob, File } from './blob.js';
import { FormData, isFormData } from './formdata.js';
import { Headers, isHeaders } from './headers.js';
import { Request, isRequest } from './request.js';
import { Response, isResponse } from './response.js';
import { fetch } from './fetch.js';
import { Crypto, SubtleCrypto, CryptoKey, createCrypto } from './crypto.js';
import { structuredClone, registerNonSerializable } from './structured-clone.js';
import { setTimeout, clearTimeout, setInterval, clearInterval, queueMicrotask, scheduler } from './timers.js';
import { console } from './console.js';
import { install, warmRequestPath } from './runtime.js';
import { CompressionStream, DecompressionStream } from './compression.js';
import { MessageChannel, MessagePort, MessageEvent } from './messaging.js';
import { performance, navigator, reportError } from './platform.js';
import { URLPattern } from './urlpattern-lazy.js';
import { HTMLRewriter } from './html-rewriter.js';
import { WebSocket, WebSocketPair, WebSocketRequestResponsePair, CloseEvent, ErrorEvent } from './websocket.js';
import { addEventListener, removeEventListener, dispatchEvent, PromiseRejectionEvent, ExtendableEvent } from './global-scope.js';

// Platform objects that structuredClone must reject.
for (const check of [isEventTarget, isURL, isURLSearchParams, isReadableStream, isFormData, isHeaders, isRequest, isResponse]) {
  registerNonSerializable(check);
}
registerNonSerializable((v) => v instanceof CompressionStream || v instanceof DecompressionStream || v instanceof MessageChannel
  || v instanceof URLPattern || v instanceof HTMLRewriter);
registerNonSerializable((v) => v instanceof TextEncoder || v instanceof TextDecoder);
registerNonSerializable((v) => v instanceof WebSocket || v instanceof Event || v instanceof AbortController || v instanceof WritableStream || v instanceof TransformStream || v instanceof CryptoKey);
registerNonSerializable((v) => v instanceof TextEncoder || v instanceof TextDecoder || v instanceof TextEncoderStream
  || v instanceof TextDecoderStream || v instanceof Crypto || v instanceof SubtleCrypto);

defineGlobals({
  DOMException, Event, EventTarget, CustomEvent, AbortController, AbortSignal,
  TextEncoder, TextDecoder, TextEncoderStream, TextDecoderStream, atob, btoa,
  URL, URLSearchParams,
  ReadableStream, ReadableStreamDefaultReader, ReadableStreamBYOBReader, ReadableStreamBYOBRequest,
  ReadableByteStreamController, ReadableStreamDefaultController, WritableStream, WritableStreamDefaultWriter,
  WritableStreamDefaultController, TransformStream, TransformStreamDefaultController,
  ByteLengthQueuingStrategy, CountQueuingStrategy, IdentityTransformStream, FixedLengthStream,
  Blob, File, FormData, Headers, Request, Response, fetch,
  Crypto, SubtleCrypto, CryptoKey, crypto: createCrypto(),
  structuredClone, setTimeout, clearTimeout, setInterval, clearInterval, queueMicrotask, scheduler,
  console, performance, navigator, self: globalThis,
  URLPattern, HTMLRewriter, CompressionStream, DecompressionStream, MessageChannel, MessagePort, MessageEvent, reportError,
  WebSocket, WebSocketPair, WebSocketRequestResponsePair, CloseEvent, ErrorEvent,
  addEventListener, removeEventListener, dispatchEvent, PromiseRejectionEvent, ExtendableEvent,
});

// One-shot, for the startup snapshot only (IsolatePool.snapshot): removes itself when called.
Object.defineProperty(globalThis, '__bulwark_warm', {
  value: function __bulwark_warm() {
    delete globalThis.__bulwark_warm;
    return warmRequestPath();
  },
  writable: false, enumerable: false, configurable: true,
});

Object.defineProperty(globalThis, '__bulwark_install', {
  value: function __bulwark_install(host) { return install(host); },
  writable: false, enumerable: false, configurable: true,
});
