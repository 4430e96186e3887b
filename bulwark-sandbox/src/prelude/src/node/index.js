// Bulwark's node:* modules, loaded into an isolate only for a worker under nodejs_compat (or
// nodejs_als). build-node.mjs bundles this into node.js: a script whose value is init().
//
// init(internals, options) -> { resolve(specifier), module(name), names }
//   internals: the prelude's nodeInternals (async context frame, inspect, host hashes)
//   options:   { mode: 'als' | 'v1' | 'v2', env: object of strings or null, nodeOs: boolean }
import { I, ObjectDefineProperty } from './internals.js';
import { asyncHooksModule } from './async_hooks.js';
import { Buffer, bufferModule } from './buffer.js';
import { eventsModule } from './events.js';
import { streamModule, streamPromisesModule, streamWebModule } from './stream.js';
import { pathModule } from './path.js';
import { utilModule } from './util.js';
import { types } from './types.js';
import { assertModule, assertStrictModule } from './assert.js';
import { cryptoModule } from './crypto.js';
import { makeProcess } from './process.js';
import { osModule } from './os.js';
import { diagnosticsChannelModule } from './diagnostics_channel.js';
import { timersModule, timersPromisesModule, setImmediate, clearImmediate } from './timers.js';
import { urlModule } from './url.js';
import { stringDecoderModule } from './string_decoder.js';
import { testModule } from './test.js';

function withDefault(exports) {
  return 'default' in exports ? exports : { default: { ...exports }, ...exports };
}

export function init(internals, options) {
  Object.assign(I, internals);
  const mode = options.mode;
  let process = null;
  const factories = new Map();
  if (mode === 'als') {
    factories.set('node:async_hooks', () => withDefault(asyncHooksModule()));
  } else {
    factories.set('node:assert', assertModule);
    factories.set('node:assert/strict', assertStrictModule);
    factories.set('node:async_hooks', () => withDefault(asyncHooksModule()));
    factories.set('node:buffer', () => withDefault(bufferModule()));
    factories.set('node:crypto', cryptoModule);
    factories.set('node:diagnostics_channel', diagnosticsChannelModule);
    factories.set('node:events', eventsModule);
    if (options.nodeOs) factories.set('node:os', osModule);
    factories.set('node:path', pathModule);
    factories.set('node:path/posix', pathModule);
    factories.set('node:process', () => {
      const named = { default: process };
      for (const k of Object.keys(process)) if (!k.startsWith('_')) named[k] = process[k];
      return named;
    });
    factories.set('node:stream', streamModule);
    factories.set('node:stream/promises', () => withDefault(streamPromisesModule()));
    factories.set('node:stream/web', () => withDefault(streamWebModule()));
    factories.set('node:string_decoder', stringDecoderModule);
    factories.set('node:test', testModule);
    factories.set('node:timers', timersModule);
    factories.set('node:timers/promises', timersPromisesModule);
    factories.set('node:url', urlModule);
    factories.set('node:util', utilModule);
    factories.set('node:util/types', () => withDefault({ ...types }));
  }

  const made = new Map();
  function module(name) {
    let exports = made.get(name);
    if (exports === undefined) {
      const factory = factories.get(name);
      if (factory === undefined) return null;
      exports = factory();
      made.set(name, exports);
    }
    return exports;
  }
  /** The built-in a specifier names, or null: "node:x" always, a bare "x" only under v2 (not node:test, as in Node). */
  function resolve(specifier) {
    if (specifier.startsWith('node:')) return factories.has(specifier) ? specifier : null;
    if (mode === 'v2' && specifier !== 'test' && factories.has('node:' + specifier)) return 'node:' + specifier;
    return null;
  }
  function getBuiltinModule(id) {
    const name = resolve(`${id}`.startsWith('node:') ? `${id}` : 'node:' + id);
    return name === null ? undefined : module(name).default;
  }

  if (mode !== 'als') {
    process = makeProcess(options.env ?? {}, getBuiltinModule);
  }
  if (mode === 'v2') {
    // nodejs_compat_v2: Buffer, process, setImmediate and clearImmediate are globals, as in workerd.
    ObjectDefineProperty(globalThis, 'Buffer', { value: Buffer, writable: true, configurable: true, enumerable: false });
    ObjectDefineProperty(globalThis, 'process', { value: process, writable: true, configurable: true, enumerable: false });
    ObjectDefineProperty(globalThis, 'setImmediate', { value: setImmediate, writable: true, configurable: true, enumerable: false });
    ObjectDefineProperty(globalThis, 'clearImmediate', { value: clearImmediate, writable: true, configurable: true, enumerable: false });
  }
  return Object.freeze({ resolve, module, names: Object.freeze([...factories.keys()]) });
}
