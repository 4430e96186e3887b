// Dynamic import() of a worker's modules. Javet installs no host callback for V8's own import(), so
// ModuleLinker.java renames each import( of a module's source (ImportCalls.java) to a call of the
// function made here for that module, and the module imports it. Resolution, linking and evaluation
// stay in Java, as for a static import; this side is what V8's EvaluateImportCall does around them:
// the specifier's ToString, the options' checks, a promise that never throws synchronously.
import { ReflectApply, ReflectOwnKeys, PromiseCtor, PromiseResolve, PromiseReject, PromiseThen, isObjectLike,
  StringFromCharCode } from './util.js';
import { internalSetTimeout, internalClearTimeout } from './timers.js';

// What the host answers (ModuleLinker.importModule): [kind, ...].
const NAMESPACE = 0, PENDING = 1, THROW = 2, ERROR = 3, TYPE_ERROR = 4;
// "()": build.mjs refuses a prelude whose text has import followed by "(".
const CALL = StringFromCharCode(40, 41);
const propertyIsEnumerable = Object.prototype.propertyIsEnumerable;

/**
 * import(specifier, options) for module `referrer`: `host(specifier, referrer)` resolves, links and
 * evaluates as a static import of the same text would, and answers as above.
 */
export function importer(referrer, host) {
  // Not a constructor, as import() is not one (new import(x) is left unrenamed: V8's SyntaxError).
  return (specifier, options) => {
    let answer;
    try {
      const name = `${specifier}`; // ToString, as the spec says (a Symbol throws a TypeError)
      checkOptions(options);
      answer = host(name, referrer);
    } catch (e) {
      return PromiseReject(e);
    }
    switch (answer[0]) {
      case NAMESPACE: return PromiseResolve(answer[1]);
      case THROW: return PromiseReject(answer[1]);
      case ERROR: return PromiseReject(new Error(answer[1]));
      case TYPE_ERROR: return PromiseReject(new TypeError(answer[1]));
      case PENDING: return pending(answer[1], answer[2], answer[3]);
    }
    return PromiseReject(new Error('Failed to load dynamic module.'));
  };
}

// V8's checks of import()'s second argument (its words). The attributes themselves are then ignored,
// as they are for a static import here (and by workerd's module registry before
// throw_on_unrecognized_import_assertion).
function checkOptions(options) {
  if (options === undefined) return;
  if (!isObjectLike(options)) throw new TypeError(`The second argument to import${CALL} must be an object`);
  const attributes = options.with;
  if (attributes === undefined) return;
  if (!isObjectLike(attributes)) throw new TypeError("The 'with' option must be an object");
  for (const key of ReflectOwnKeys(attributes)) {
    if (typeof key !== 'string' || !ReflectApply(propertyIsEnumerable, attributes, [key])) continue;
    if (typeof attributes[key] !== 'string') throw new TypeError('Import attribute value must be a string');
  }
}

// A module whose top-level await had not settled when its evaluation returned. Inside another
// module's evaluation the import waits for it (workerd's ALLOW_PENDING_EVALUATION); from a handler,
// as workerd's module registry, it must settle once the microtask queue has drained (a timer of 0
// fires after that) or the import fails.
function pending(evaluation, namespace, nested) {
  const settled = PromiseThen(evaluation, () => namespace);
  if (nested) return settled;
  return new PromiseCtor((resolve, reject) => {
    let timer;
    try {
      timer = internalSetTimeout(() => reject(new Error('Top-level await in module is unsettled.')), 0);
    } catch {
      // no timer outside an invocation: the import waits for the module
    }
    const done = () => { if (timer !== undefined) internalClearTimeout(timer); };
    PromiseThen(settled, (ns) => { done(); resolve(ns); }, (e) => { done(); reject(e); });
  });
}
