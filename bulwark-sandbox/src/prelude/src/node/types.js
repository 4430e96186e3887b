// util.types: brand checks through intrinsic getters and Object.prototype.toString where V8
// offers nothing better. isProxy and isExternal cannot be answered from JavaScript: false.
const toStringTag = (v) => Object.prototype.toString.call(v).slice(8, -1);
const getter = (proto, name) => Object.getOwnPropertyDescriptor(proto, name).get;
const TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype);
const taTag = getter(TypedArrayProto, Symbol.toStringTag);
const brand = (fn) => (v) => {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return false;
  try { fn(v); return true; } catch { return false; }
};
const isObj = (v) => v !== null && typeof v === 'object';

const isArrayBuffer = brand((v) => Reflect.apply(getter(ArrayBuffer.prototype, 'byteLength'), v, []));
const isSharedArrayBuffer = typeof SharedArrayBuffer === 'function'
  ? brand((v) => Reflect.apply(getter(SharedArrayBuffer.prototype, 'byteLength'), v, [])) : () => false;
const isDataView = brand((v) => Reflect.apply(getter(DataView.prototype, 'buffer'), v, []));
const isMap = brand((v) => Reflect.apply(getter(Map.prototype, 'size'), v, []));
const isSet = brand((v) => Reflect.apply(getter(Set.prototype, 'size'), v, []));
const isWeakMap = brand((v) => Reflect.apply(WeakMap.prototype.has, v, [{}]));
const isWeakSet = brand((v) => Reflect.apply(WeakSet.prototype.has, v, [{}]));
const isDate = brand((v) => Reflect.apply(Date.prototype.getTime, v, []));
const regExpSource = getter(RegExp.prototype, 'source');
const isRegExp = brand((v) => {
  if (v === RegExp.prototype) throw new TypeError('not a RegExp'); // its getter answers "(?:)"
  Reflect.apply(regExpSource, v, []);
});
const isPromise = (v) => isObj(v) && toStringTag(v) === 'Promise' && v instanceof Promise;
const typedName = (v) => (isObj(v) ? Reflect.apply(taTag, v, []) : undefined);
const isTypedArray = (v) => typedName(v) !== undefined;
const typed = (name) => (v) => typedName(v) === name;
const fnTag = (tag) => (v) => typeof v === 'function' && toStringTag(v) === tag;
const boxed = (proto, method) => brand((v) => Reflect.apply(proto[method], v, []));
const isNumberObject = (v) => isObj(v) && boxed(Number.prototype, 'valueOf')(v);
const isStringObject = (v) => isObj(v) && boxed(String.prototype, 'valueOf')(v);
const isBooleanObject = (v) => isObj(v) && boxed(Boolean.prototype, 'valueOf')(v);
const isBigIntObject = (v) => isObj(v) && boxed(BigInt.prototype, 'valueOf')(v);
const isSymbolObject = (v) => isObj(v) && boxed(Symbol.prototype, 'valueOf')(v);

export const types = Object.freeze({
  isAnyArrayBuffer: (v) => isArrayBuffer(v) || isSharedArrayBuffer(v),
  isArrayBuffer, isSharedArrayBuffer, isDataView,
  isArrayBufferView: (v) => isTypedArray(v) || isDataView(v),
  isArgumentsObject: (v) => isObj(v) && toStringTag(v) === 'Arguments',
  isAsyncFunction: (v) => fnTag('AsyncFunction')(v) || fnTag('AsyncGeneratorFunction')(v),
  isGeneratorFunction: (v) => fnTag('GeneratorFunction')(v) || fnTag('AsyncGeneratorFunction')(v),
  isGeneratorObject: (v) => isObj(v) && toStringTag(v) === 'Generator',
  isMap, isSet, isWeakMap, isWeakSet,
  isMapIterator: (v) => isObj(v) && toStringTag(v) === 'Map Iterator',
  isSetIterator: (v) => isObj(v) && toStringTag(v) === 'Set Iterator',
  isDate, isRegExp, isPromise,
  isNativeError: (v) => isObj(v) && toStringTag(v) === 'Error' && v instanceof Error,
  isTypedArray,
  isUint8Array: typed('Uint8Array'), isUint8ClampedArray: typed('Uint8ClampedArray'),
  isUint16Array: typed('Uint16Array'), isUint32Array: typed('Uint32Array'),
  isInt8Array: typed('Int8Array'), isInt16Array: typed('Int16Array'), isInt32Array: typed('Int32Array'),
  isFloat32Array: typed('Float32Array'), isFloat64Array: typed('Float64Array'),
  isBigInt64Array: typed('BigInt64Array'), isBigUint64Array: typed('BigUint64Array'),
  isNumberObject, isStringObject, isBooleanObject, isBigIntObject, isSymbolObject,
  isBoxedPrimitive: (v) => isNumberObject(v) || isStringObject(v) || isBooleanObject(v) || isBigIntObject(v) || isSymbolObject(v),
  isModuleNamespaceObject: (v) => isObj(v) && toStringTag(v) === 'Module' && Object.getPrototypeOf(v) === null,
  isWeakRef: (v) => isObj(v) && toStringTag(v) === 'WeakRef',
  isKeyObject: () => false, isCryptoKey: (v) => isObj(v) && toStringTag(v) === 'CryptoKey',
  isProxy: () => false, isExternal: () => false,
});
