// CommonJS modules of a worker's bundle, as workerd runs them (ModuleLinker.java links them).
// A CommonJS module's body runs once, the first time V8 evaluates its module (in the module
// graph's order: its ES face reads the face's `default`) or require() asks for it, whichever comes
// first; what it gives is module.exports. Resolution and ES modules stay in Java: require() asks
// the host, which answers with another CommonJS module's face or an evaluated module's namespace.
import { ObjectDefineProperty, ReflectApply } from './util.js';
import { importer } from './dynimport.js';
import { compat, REQUIRE_DEFAULT } from './compat.js';

// What the host's require answers, besides a face or a namespace (ModuleLinker.requireModule).
const INVALID = 0, MISSING = 1, FACE = 2, NAMESPACE = 3, THROW = 4, FAILED = 5;

const faces = new WeakMap(); // face -> its module's record
const weakMapGet = WeakMap.prototype.get, weakMapSet = WeakMap.prototype.set;
const mutableCopies = new WeakMap(); // namespace -> the copy require() gave for it
const ReflectOwnKeys = Reflect.ownKeys;

/**
 * What require() gives for an ES module's namespace when it does not give its default
 * (export_commonjs_namespace): from 2026-01-22 (require_returns_default_export) the default export
 * when there is one, else one mutable copy of the namespace (code patches what it required);
 * before, the namespace itself.
 */
function namespaceForRequire(namespace) {
  if (!compat(REQUIRE_DEFAULT)) return namespace;
  if ('default' in namespace) return namespace.default;
  let copy = ReflectApply(weakMapGet, mutableCopies, [namespace]);
  if (copy === undefined) {
    copy = { __proto__: null };
    const keys = ReflectOwnKeys(namespace);
    for (let i = 0; i < keys.length; i++) copy[keys[i]] = namespace[keys[i]];
    ReflectApply(weakMapSet, mutableCopies, [namespace, copy]);
  }
  return copy;
}

/**
 * The face of one CommonJS module: the object Java makes a synthetic module of. `body` is the
 * module's source compiled as function (exports, require, module, __filename, __dirname);
 * `host(specifier, name)` resolves and loads for require(); `exportDefault` is workerd's
 * export_commonjs_default (require() of an ES module gives its default export, not its namespace).
 * `importHost`, given when the body has import() calls (renamed by ModuleLinker), is dynamic import's
 * host (dynimport.js): the body then has a sixth parameter, the module's import function.
 */
export function cjsModule(name, body, host, exportDefault, importHost) {
  const module = { exports: {} };
  // state: 0 not run, 1 running, 2 done, 3 threw (error: what every later require throws again,
  // as V8 does for an ES module whose evaluation failed)
  const record = { module, state: 0, error: undefined, run: undefined };
  const path = '/' + name;
  const slash = path.lastIndexOf('/');
  const dirname = slash === 0 ? '/' : path.slice(0, slash);
  function require(specifier) {
    specifier = `${specifier}`;
    const answer = host(specifier, name);
    const kind = answer[0], value = answer[1];
    switch (kind) {
      case INVALID: throw new TypeError(`Invalid module specifier "${specifier}".`);
      case MISSING: throw new Error(`No such module "${value}".`);
      case FACE: return run(ReflectApply(weakMapGet, faces, [value]));
      case THROW: throw value;
      case FAILED: throw new Error(value);
      case NAMESPACE: {
        // As workerd's requireImpl: an ES module may name what require() gives ("module.exports",
        // or its default with __cjsUnwrapDefault), else the default export (the namespace before
        // export_commonjs_default).
        if ('module.exports' in value) return value['module.exports'];
        return exportDefault || value.__cjsUnwrapDefault === true ? value.default : namespaceForRequire(value);
      }
    }
  }
  const face = {};
  ObjectDefineProperty(face, 'default', { enumerable: true, get() { return run(record); } });
  // `this` is module.exports, as in Node.
  const dynamicImport = importHost === undefined ? undefined : importer(name, importHost);
  record.run = () => ReflectApply(body, module.exports, dynamicImport === undefined
    ? [module.exports, require, module, path, dirname]
    : [module.exports, require, module, path, dirname, dynamicImport]);
  ReflectApply(weakMapSet, faces, [face, record]);
  return face;
}

// A module required while its body runs (a cycle) gives what it has exported so far, as Node does.
function run(record) {
  if (record.state === 0) {
    record.state = 1;
    try {
      record.run();
    } catch (e) {
      record.state = 3;
      record.error = e;
      throw e;
    }
    record.state = 2;
  }
  if (record.state === 3) throw record.error;
  return record.module.exports;
}
