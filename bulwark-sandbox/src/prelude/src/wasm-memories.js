// WebAssembly's memories under the isolate's account of reservations (reservations.js): a memory made
// by `new WebAssembly.Memory` counts one, an instance counts the memories its module defines
// (imported ones are counted where they were made).
//
// What stays reachable from worker code: the constructors and functions below replace the natives
// on the WebAssembly namespace with the same names, lengths, prototypes and statics; instances get
// the native prototypes, so instanceof, subclassing and brand checks behave as before.
import { reserve, release, track, accounted } from './reservations.js';
import { ReflectApply, ObjectDefineProperty, ObjectGetOwnPropertyDescriptor, PromiseThen, PromiseResolve, PromiseReject, viewBytes, replaceNative } from './util.js';

// The namespace and its natives, captured at the worker's first use of WebAssembly: V8 adds the
// namespace to a context after the startup snapshot, as it does SharedArrayBuffer (installWasmAccount).
let WA, NativeMemory, NativeInstance, NativeModule, nativeInstantiate, moduleExports;
const ReflectConstruct = Reflect.construct;
const WeakMapCtor = WeakMap;
const weakMapGet = WeakMap.prototype.get;
const weakMapSet = WeakMap.prototype.set;

// Module -> number of memories it defines (read from its bytes when it was compiled).
const definedByModule = new WeakMapCtor();

// Reads an unsigned LEB128 at bytes[pos.at]; -1 if it runs past the end or over 32 bits.
function leb(bytes, pos) {
  let result = 0;
  let shift = 0;
  while (pos.at < bytes.length && shift < 35) {
    const b = bytes[pos.at++];
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return result <= 0xffffffff ? result : -1;
    shift += 7;
  }
  return -1;
}

/**
 * How many memories the module in `source` (a BufferSource) defines: the count of its memory
 * section (id 5). Imported memories are not among them. For bytes this cannot read, 1: whatever
 * they are, the native compile decides whether they are a module.
 */
function definedMemories(source) {
  let bytes;
  try {
    bytes = viewBytes(source);
  } catch {
    return 1; // a detached buffer: the native compile says what is wrong with it
  }
  if (bytes === null || bytes.length < 8) return 1;
  const pos = { at: 8 }; // magic and version
  while (pos.at < bytes.length) {
    const id = bytes[pos.at++];
    const size = leb(bytes, pos);
    if (size < 0 || pos.at + size > bytes.length) return 1;
    if (id === 5) {
      const n = leb(bytes, pos);
      return n < 0 ? 1 : n;
    }
    pos.at += size;
  }
  return 0;
}

// The memories a compiled module defines, or undefined when `value` is no WebAssembly.Module:
// known for every module compiled through the functions below; for one made elsewhere (the host's
// own, compiled with the native constructor), the memories it exports, and at least one.
function definedOf(value) {
  const known = ReflectApply(weakMapGet, definedByModule, [value]);
  if (known !== undefined) return known;
  let exports;
  try {
    exports = ReflectApply(moduleExports, undefined, [value]);
  } catch {
    return undefined; // its brand check: not a module
  }
  let exported = 0;
  for (let i = 0; i < exports.length; i++) if (exports[i].kind === 'memory') exported++;
  return exported > 0 ? exported : 1;
}

function remember(module, n) {
  ReflectApply(weakMapSet, definedByModule, [module, n]);
  return module;
}

function Memory(descriptor) {
  if (new.target === undefined) throw new TypeError("WebAssembly.Memory must be invoked with 'new'");
  return accounted(1, 'WebAssembly.Memory()', () => ReflectConstruct(NativeMemory, [descriptor], new.target));
}

function Module(bytes) {
  if (new.target === undefined) throw new TypeError("WebAssembly.Module must be invoked with 'new'");
  const n = definedMemories(bytes); // read before the native compile: a view's bytes could change later
  return remember(ReflectConstruct(NativeModule, [bytes], new.target), n);
}

function Instance(module, importObject) {
  if (new.target === undefined) throw new TypeError("WebAssembly.Instance must be invoked with 'new'");
  const n = definedOf(module);
  if (n === undefined) return ReflectConstruct(NativeInstance, [module, importObject], new.target); // its TypeError
  return accounted(n, 'WebAssembly.Instance()',
    () => ReflectConstruct(NativeInstance, [module, importObject], new.target));
}

// The bytes of a BufferSource, copied now, as the spec's compile and instantiate take them.
function stableCopy(bytes, what) {
  const view = viewBytes(bytes);
  if (view === null) throw new TypeError(`${what}: Argument 0 must be a buffer source`);
  return view.slice();
}

// compile(bytes) and instantiate(bytes) compile in the worker's own task, as new WebAssembly.Module
// does, and settle their promise from it. V8's asynchronous compile finishes on a background thread
// and then needs a task of the isolate's own to settle the promise: an isolate that was waiting for
// nothing else never ran one, so the promise stayed pending (seen here: a request that awaited
// WebAssembly.instantiate(bytes) alone now and then hung to its wall-clock limit). Compiled here,
// the work is also the worker's CPU time, under its limit, instead of a background thread's.
// Methods, not function declarations: like the natives they have no prototype and cannot be constructed.
const { compile, instantiate } = {
  compile(bytes) {
    let copy;
    try {
      copy = stableCopy(bytes, 'WebAssembly.compile()');
    } catch (e) {
      return PromiseReject(e);
    }
    const n = definedMemories(copy);
    return PromiseThen(PromiseResolve(), () => remember(new NativeModule(copy), n));
  },

  instantiate(source, importObject) {
    const inModule = definedOf(source);
    if (inModule !== undefined) {
      try {
        reserve(inModule, 'WebAssembly.instantiate()');
      } catch (e) {
        return PromiseReject(e);
      }
      // From a module V8 instantiates at once and settles through a microtask: no background thread.
      return PromiseThen(ReflectApply(nativeInstantiate, WA, [source, importObject]), (instance) => {
        track(instance, inModule);
        return instance;
      }, (e) => {
        release(inModule);
        throw e;
      });
    }
    let copy;
    try {
      copy = stableCopy(source, 'WebAssembly.instantiate()');
    } catch (e) {
      return PromiseReject(e);
    }
    const n = definedMemories(copy);
    return PromiseThen(PromiseResolve(), () => {
      const module = remember(new NativeModule(copy), n);
      const instance = accounted(n, 'WebAssembly.instantiate()', () => new NativeInstance(module, importObject));
      return { module, instance };
    });
  },
};

// Puts the account in front of the namespace's natives. Redefining properties of V8's WebAssembly
// objects is dear (~200 µs of CPU per isolate measured in IsolateSetupCpu), so it is done when the
// worker first reaches the namespace (installWasmAccount), not for every isolate.
function accountFor(namespace) {
  WA = namespace;
  ({ Memory: NativeMemory, Instance: NativeInstance, Module: NativeModule, instantiate: nativeInstantiate } = WA);
  moduleExports = NativeModule.exports;
  replaceNative(WA, 'Memory', Memory);
  replaceNative(WA, 'Module', Module); // with its statics: exports, imports, customSections
  replaceNative(WA, 'Instance', Instance);
  replaceNative(WA, 'compile', compile);
  replaceNative(WA, 'instantiate', instantiate);
}

/**
 * At install, before any worker code: the global WebAssembly becomes an accessor that puts the
 * account in front of the namespace at its first use, read or written, and then turns back into
 * the data property it was. The natives are reachable only through the namespace (the host's own
 * Wasm module, HTMLRewriter's, is instantiated through the global too), so none is used before.
 */
export function installWasmAccount() {
  const descriptor = ObjectGetOwnPropertyDescriptor(globalThis, 'WebAssembly');
  if (descriptor === undefined || typeof descriptor.value !== 'object' || descriptor.value === null) return;
  const namespace = descriptor.value;
  let settled = false;
  // The accessor's functions stay reachable (a worker may have kept them); once the global is a
  // data property again, calling them changes nothing.
  const settle = (value) => {
    if (WA === undefined) accountFor(namespace);
    if (settled) return;
    settled = true;
    ObjectDefineProperty(globalThis, 'WebAssembly', { value, writable: true, enumerable: false, configurable: true });
  };
  const { get, set } = {
    get() {
      settle(namespace);
      return namespace;
    },
    set(value) {
      settle(value);
    },
  };
  ObjectDefineProperty(globalThis, 'WebAssembly', { get, set, enumerable: false, configurable: true });
}
