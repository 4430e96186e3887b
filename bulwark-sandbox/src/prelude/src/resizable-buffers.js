// Resizable ArrayBuffers and growable SharedArrayBuffers under the isolate's account of reservations
// (reservations.js): V8 reserves a buffer's maxByteLength of address space when it is made, and
// counts only its current length as external memory. Each one made with a maxByteLength counts
// one; so does the resizable buffer ArrayBuffer.prototype.transfer makes from a resizable one.
// Buffers without a maxByteLength (every buffer the platform itself makes) are not counted.
//
// What stays reachable from worker code: ArrayBuffer and SharedArrayBuffer are replaced by
// constructors with the same names, lengths, prototypes and statics (isView, Symbol.species), which
// read their arguments as the natives do (length first, then the option's maxByteLength, once each)
// and construct the native with new.target, so instanceof, subclassing and brand checks behave as before.
import { accounted } from './reservations.js';
import { ReflectApply, ObjectGetOwnPropertyDescriptor, replaceNative } from './util.js';

const ReflectConstruct = Reflect.construct;

// A constructor in front of `Native` (ArrayBuffer or SharedArrayBuffer) that counts the buffers made
// with a maxByteLength.
function accountedConstructor(name, Native) {
  const what = `${name}()`;
  function Accounted(length, options) {
    if (new.target === undefined) throw new TypeError(`Constructor ${name} requires 'new'`);
    // As the spec's constructor: ToIndex(length) (here its ToNumber, the only step that runs
    // worker code; the native does the rest on the number), then Get(options, "maxByteLength").
    const len = +length;
    const max = (typeof options === 'object' && options !== null) || typeof options === 'function'
      ? options.maxByteLength : undefined;
    if (max === undefined) return ReflectConstruct(Native, [len], new.target);
      return accounted(1, what, () => ReflectConstruct(Native, [len, { maxByteLength: max }], new.target));
  }
  return Accounted;
}

// ArrayBuffer and its transfer are replaced here, when the prelude is evaluated for the startup
// snapshot: every isolate starts with them, at no cost of its own.
{
  const NativeArrayBuffer = globalThis.ArrayBuffer;
  const proto = NativeArrayBuffer.prototype;
  const nativeTransfer = proto.transfer;
  const resizable = ObjectGetOwnPropertyDescriptor(proto, 'resizable')?.get;
  replaceNative(globalThis, 'ArrayBuffer', accountedConstructor('ArrayBuffer', NativeArrayBuffer));
  // transfer() of a resizable buffer makes a resizable one with the same maxByteLength. A method,
  // as the native: no prototype, not a constructor, length 0.
  const { transfer } = {
    transfer(...args) {
      let fromResizable = false;
      try {
        fromResizable = ReflectApply(resizable, this, []) === true;
      } catch {
        // not an ArrayBuffer: the native throws its TypeError below
      }
      if (!fromResizable) return ReflectApply(nativeTransfer, this, args);
      return accounted(1, 'ArrayBuffer.prototype.transfer()', () => ReflectApply(nativeTransfer, this, args));
    },
  };
  if (typeof nativeTransfer === 'function' && resizable !== undefined) replaceNative(proto, 'transfer', transfer);
}

/** SharedArrayBuffer, which V8 adds to a context only after the startup snapshot: at install. */
export function installSharedBufferAccount() {
  if (typeof globalThis.SharedArrayBuffer === 'function') {
    replaceNative(globalThis, 'SharedArrayBuffer', accountedConstructor('SharedArrayBuffer', globalThis.SharedArrayBuffer));
  }
}
