// Smoke test: the globals exist.
export default {
  async fetch(request, env, ctx) {
    const names = ['Request', 'Response', 'Headers', 'URL', 'URLSearchParams', 'TextEncoder', 'TextDecoder', 'atob', 'btoa',
      'crypto', 'structuredClone', 'AbortController', 'AbortSignal', 'Event', 'EventTarget', 'CustomEvent', 'DOMException',
      'ReadableStream', 'WritableStream', 'TransformStream', 'ByteLengthQueuingStrategy', 'CountQueuingStrategy',
      'TextEncoderStream', 'TextDecoderStream', 'Blob', 'File', 'FormData', 'setTimeout', 'clearTimeout', 'setInterval',
      'clearInterval', 'queueMicrotask', 'console', 'fetch', 'navigator', 'scheduler', 'performance', 'CryptoKey'];
    for (const n of names) if (!(n in globalThis)) throw new Error(`missing global ${n}`);
    return new Response('ok');
  },
};
