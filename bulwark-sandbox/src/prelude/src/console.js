// console and a Node-style value inspector (util.inspect-like output).
import { H } from './host.js';
import { ObjectGetOwnPropertyDescriptor, ObjectGetPrototypeOf, ArrayIsArray, ReflectApply, typedArrayName, isArrayBuffer, isSharedArrayBuffer, isDataView } from './util.js';

/** Internal symbol: platform classes implement [inspectCustom]() returning { name, value }. */
export const inspectCustom = Symbol('bulwark.inspect');
const nodeCustom = Symbol.for('nodejs.util.inspect.custom');

const getter = (proto, name) => ObjectGetOwnPropertyDescriptor(proto, name).get;
const mapSize = getter(Map.prototype, 'size');
const setSize = getter(Set.prototype, 'size');
const regexpGlobal = getter(RegExp.prototype, 'global');
const regexpToString = RegExp.prototype.toString;
const dateGetTime = Date.prototype.getTime;
const dateToISOString = Date.prototype.toISOString;
const fnToString = Function.prototype.toString;
const mapEntries = Map.prototype.entries;
const setValues = Set.prototype.values;
const weakMapHas = WeakMap.prototype.has;
const weakSetHas = WeakSet.prototype.has;
const numberValueOf = Number.prototype.valueOf;
const stringValueOf = String.prototype.valueOf;
const booleanValueOf = Boolean.prototype.valueOf;
const bigintValueOf = BigInt.prototype.valueOf;
const symbolValueOf = Symbol.prototype.valueOf;
const symbolToString = Symbol.prototype.toString;
const errorToString = Error.prototype.toString;
const ReflectOwnKeys = Reflect.ownKeys;
const PromiseProto = Promise.prototype;
const isErrorNative = typeof Error.isError === 'function' ? Error.isError : null;

function is(fn, v, ...args) {
  try { ReflectApply(fn, v, args); return true; } catch { return false; }
}
function isError(v) {
  if (isErrorNative !== null) return isErrorNative(v);
  return v instanceof Error;
}

const identRe = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const strEscapeRe = /[\x00-\x1f\x27\x5c\x7f-\x9f]/;

function quoteString(s) {
  let quote = "'";
  if (s.includes("'")) {
    if (!s.includes('"')) quote = '"';
    else if (!s.includes('`') && !s.includes('${')) quote = '`';
  }
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i];
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
      if (c === 0x0a) out += '\\n';
      else if (c === 0x09) out += '\\t';
      else if (c === 0x0d) out += '\\r';
      else if (c === 0x08) out += '\\b';
      else if (c === 0x0c) out += '\\f';
      else if (c === 0x0b) out += '\\v';
      else out += '\\x' + c.toString(16).toUpperCase().padStart(2, '0');
    } else out += ch;
  }
  return quote + out + quote;
}

function formatPrimitive(v, ctx) {
  switch (typeof v) {
    case 'string': return quoteString(v);
    case 'number': return Object.is(v, -0) ? '-0' : `${v}`;
    case 'bigint': return `${v}n`;
    case 'boolean': return `${v}`;
    case 'undefined': return 'undefined';
    case 'symbol': return ReflectApply(symbolToString, v, []);
    default: return v === null ? 'null' : String(v);
  }
}

function formatKey(key) {
  if (typeof key === 'symbol') return `[${ReflectApply(symbolToString, key, [])}]`;
  return identRe.test(key) ? key : quoteString(key);
}

function constructorName(obj) {
  let proto = obj;
  for (let i = 0; i < 100 && proto !== null; i++) {
    let d;
    try { d = ObjectGetOwnPropertyDescriptor(proto, 'constructor'); } catch { return null; }
    if (d !== undefined && typeof d.value === 'function' && typeof d.value.name === 'string' && d.value.name !== '') return d.value.name;
    try { proto = ObjectGetPrototypeOf(proto); } catch { return null; }
  }
  return null;
}

function getPrefix(obj, fallback, size) {
  const name = constructorName(obj);
  let tag = '';
  try {
    const t = obj[Symbol.toStringTag];
    if (typeof t === 'string' && t !== '' && t !== (name ?? fallback)) tag = ` [${t}]`;
  } catch { /* ignore */ }
  const sizeStr = size === undefined ? '' : `(${size})`;
  if (name === null) return `[${fallback}${sizeStr}: null prototype]${tag} `;
  if (name === fallback && fallback === 'Object' && tag === '') return '';
  if (name === fallback && fallback === 'Array' && tag === '') return '';
  return `${name}${sizeStr}${tag} `;
}

function functionBase(fn) {
  let src = '';
  try { src = ReflectApply(fnToString, fn, []); } catch { /* ignore */ }
  let name = '';
  try { name = typeof fn.name === 'string' ? fn.name : ''; } catch { /* ignore */ }
  if (src.startsWith('class') && /^class\b/.test(src)) {
    let s = `[class ${name || '(anonymous)'}`;
    try {
      const sup = ObjectGetPrototypeOf(fn);
      if (sup !== null && sup !== Function.prototype && typeof sup.name === 'string' && sup.name) s += ` extends ${sup.name}`;
    } catch { /* ignore */ }
    return s + ']';
  }
  let type = 'Function';
  try {
    const t = fn[Symbol.toStringTag];
    if (t === 'AsyncFunction' || t === 'GeneratorFunction' || t === 'AsyncGeneratorFunction') type = t;
  } catch { /* ignore */ }
  return name ? `[${type}: ${name}]` : `[${type} (anonymous)]`;
}

function formatErrorBase(err) {
  let stack;
  try { stack = err.stack; } catch { /* ignore */ }
  if (typeof stack === 'string' && stack !== '') return stack;
  try { return ReflectApply(errorToString, err, []); } catch { return '[Error]'; }
}

function ownEntries(ctx, obj, recurse, skip) {
  const out = [];
  let keys;
  try { keys = ReflectOwnKeys(obj); } catch { return out; }
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (skip !== undefined && skip(key)) continue;
    let d;
    try { d = ObjectGetOwnPropertyDescriptor(obj, key); } catch { continue; }
    if (d === undefined || (!d.enumerable && !ctx.showHidden)) continue;
    let str;
    if ('value' in d) str = formatValue(ctx, d.value, recurse);
    else if (d.get !== undefined) str = d.set !== undefined ? '[Getter/Setter]' : '[Getter]';
    else str = d.set !== undefined ? '[Setter]' : 'undefined';
    const k = d.enumerable ? formatKey(key) : `[${typeof key === 'symbol' ? ReflectApply(symbolToString, key, []) : key}]`;
    out.push(`${k}: ${str}`);
  }
  return out;
}

/** A promise's state as Node and workerd show it ("<pending>", its value, "<rejected> reason"), asked of the host. */
function promiseStateText(ctx, promise, recurseTimes) {
  let state;
  try { state = H.promiseState(promise); } catch { state = undefined; }
  if (!ArrayIsArray(state)) return '<state unknown>';
  if (state[0] === 0) return '<pending>';
  const shown = formatValue(ctx, state[1], recurseTimes - 1);
  return state[0] === 2 ? `<rejected> ${shown}` : shown;
}

function isIndexKey(key) {
  if (typeof key !== 'string') return false;
  const n = Number(key);
  return n >>> 0 === n && `${n}` === key && n !== 4294967295;
}

/**
 * Lay out many short array entries in aligned columns (roughly square, assuming a character
 * is 2.5 times as high as it is wide), the way Node's util.inspect does.
 */
function groupColumns(ctx, output, value) {
  let n = output.length;
  const hasMore = n > 0 && output[n - 1].startsWith('... ') && output[n - 1].endsWith(' more items');
  if (hasMore) n--;
  let total = 0, widest = 0;
  for (let i = 0; i < n; i++) {
    total += output[i].length + 2;
    if (output[i].length > widest) widest = output[i].length;
  }
  const cell = widest + 2;
  if (!(cell * 3 + ctx.indent.length < 80 && (total / cell > 5 || widest <= 6))) return output;
  const bias = Math.sqrt(cell - total / output.length);
  const biasedCell = Math.max(cell - 3 - bias, 1);
  const cols = Math.min(Math.round(Math.sqrt(2.5 * biasedCell * n) / biasedCell), Math.floor((80 - ctx.indent.length) / cell), 12, 15);
  if (cols <= 1) return output;
  const colWidth = [];
  for (let c = 0; c < cols; c++) {
    let w = 0;
    for (let k = c; k < n; k += cols) if (output[k].length > w) w = output[k].length;
    colWidth.push(w + 2);
  }
  let numeric = value !== undefined;
  if (numeric) {
    for (let k = 0; k < n; k++) if (typeof value[k] !== 'number' && typeof value[k] !== 'bigint') { numeric = false; break; }
  }
  const lines = [];
  for (let start = 0; start < n; start += cols) {
    const end = Math.min(start + cols, n);
    let line = '';
    for (let k = start; k < end - 1; k++) {
      const text = `${output[k]}, `;
      line += numeric ? text.padStart(colWidth[k - start]) : text.padEnd(colWidth[k - start]);
    }
    line += numeric ? output[end - 1].padStart(colWidth[end - 1 - start] - 2) : output[end - 1];
    lines.push(line);
  }
  if (hasMore) lines.push(output[n]);
  return lines;
}

function reduceToSingleString(ctx, output, base, braces, isArrayLike, value) {
  const [open, close] = braces;
  if (output.length === 0) return base ? `${base}${open}${close}` : `${open}${close}`;
  const count = output.length;
  if (isArrayLike && count > 6) output = groupColumns(ctx, output, value);
  if (output.length === count) {
    // Try a single line when everything fits in 80 columns.
    let width = output.length * 2 + ctx.indent.length + open.length + base.length + 10;
    let fits = !base.includes('\n');
    for (let i = 0; i < output.length && fits; i++) {
      width += output[i].length;
      if (width > 80 || output[i].includes('\n')) fits = false;
    }
    if (fits) return `${base}${open} ${output.join(', ')} ${close}`;
  }
  const ind = `\n${ctx.indent}  `;
  return `${base}${open}${ind}${output.join(`,${ind}`)}\n${ctx.indent}${close}`;
}

function formatList(ctx, value, recurse, items, more, extraKeysSkip) {
  const out = items;
  if (more > 0) out.push(`... ${more} more item${more > 1 ? 's' : ''}`);
  const extra = ownEntries(ctx, value, recurse, extraKeysSkip);
  for (let i = 0; i < extra.length; i++) out.push(extra[i]);
  return out;
}

function formatValue(ctx, value, recurseTimes) {
  if ((typeof value !== 'object' || value === null) && typeof value !== 'function') return formatPrimitive(value, ctx);

  // Circular references.
  if (ctx.seen.includes(value)) {
    let idx = ctx.circular.get(value);
    if (idx === undefined) { idx = ctx.circular.size + 1; ctx.circular.set(value, idx); }
    return `[Circular *${idx}]`;
  }
  const result = formatRaw(ctx, value, recurseTimes);
  const idx = ctx.circular.get(value);
  if (idx !== undefined) return `<ref *${idx}> ${result}`;
  return result;
}

function formatRaw(ctx, value, recurseTimes) {
  // Custom inspection (platform classes and Node's util.inspect.custom).
  try {
    const custom = value[inspectCustom];
    if (typeof custom === 'function') {
      const rep = ReflectApply(custom, value, []);
      if (rep !== undefined) {
        ctx.seen.push(value);
        try { return rep.name + (rep.value === undefined ? '' : ' ' + formatValue(ctx, rep.value, recurseTimes)); } finally { ctx.seen.pop(); }
      }
    }
    const nc = value[nodeCustom];
    if (typeof nc === 'function' && nc !== formatValue) {
      const r = ReflectApply(nc, value, [recurseTimes, { depth: recurseTimes }, inspect]);
      if (r !== value) return typeof r === 'string' ? r : formatValue(ctx, r, recurseTimes);
    }
  } catch { /* fall through */ }

  let base = '';
  let braces = ['{', '}'];
  let isArrayLike = false;
  let items = null; // for list-like
  let entriesFn = null;
  let skip;

  if (typeof value === 'function') {
    base = functionBase(value);
    const keys = ownEntries(ctx, value, recurseTimes - 1, (k) => k === 'prototype' || k === 'name' || k === 'length');
    if (keys.length === 0) return base;
    if (recurseTimes < 0) return base;
    ctx.seen.push(value);
    try { return reduceToSingleString(ctx, keys, `${base} `, braces, false); } finally { ctx.seen.pop(); }
  }

  if (ArrayIsArray(value)) {
    const name = getPrefix(value, 'Array', value.length === 0 ? undefined : undefined);
    if (recurseTimes < 0) return `[${name.trim() || 'Array'}]`;
    braces = ['[', ']'];
    base = name;
    isArrayLike = true;
    entriesFn = () => {
      const out = [];
      const len = value.length;
      const max = Math.min(len, 100);
      let holes = 0;
      for (let i = 0; i < max; i++) {
        if (!Object.prototype.hasOwnProperty.call(value, i)) { holes++; continue; }
        if (holes > 0) { out.push(`<${holes} empty item${holes > 1 ? 's' : ''}>`); holes = 0; }
        out.push(formatValue(ctx, value[i], recurseTimes - 1));
      }
      if (holes > 0) out.push(`<${holes} empty item${holes > 1 ? 's' : ''}>`);
      return formatList(ctx, value, recurseTimes - 1, out, len - max, (k) => isIndexKey(k) || k === 'length');
    };
  } else if (typedArrayName(value) !== undefined) {
    const tname = typedArrayName(value);
    const len = value.length;
    base = `${constructorName(value) ?? tname}(${len}) `;
    if (recurseTimes < 0) return `[${tname}]`;
    braces = ['[', ']'];
    isArrayLike = true;
    entriesFn = () => {
      const out = [];
      const max = Math.min(len, 100);
      for (let i = 0; i < max; i++) out.push(formatPrimitive(value[i], ctx));
      return formatList(ctx, value, recurseTimes - 1, out, len - max, isIndexKey);
    };
  } else if (is(mapSize, value)) {
    const size = ReflectApply(mapSize, value, []);
    base = getPrefix(value, 'Map', size);
    if (recurseTimes < 0) return `[${base.trim()}]`;
    entriesFn = () => {
      const out = [];
      let n = 0;
      const it = ReflectApply(mapEntries, value, []);
      for (let r = it.next(); !r.done; r = it.next()) {
        if (n++ >= 100) break;
        out.push(`${formatValue(ctx, r.value[0], recurseTimes - 1)} => ${formatValue(ctx, r.value[1], recurseTimes - 1)}`);
      }
      return formatList(ctx, value, recurseTimes - 1, out, size - Math.min(size, 100));
    };
  } else if (is(setSize, value)) {
    const size = ReflectApply(setSize, value, []);
    base = getPrefix(value, 'Set', size);
    if (recurseTimes < 0) return `[${base.trim()}]`;
    isArrayLike = true;
    entriesFn = () => {
      const out = [];
      let n = 0;
      const it = ReflectApply(setValues, value, []);
      for (let r = it.next(); !r.done; r = it.next()) {
        if (n++ >= 100) break;
        out.push(formatValue(ctx, r.value, recurseTimes - 1));
      }
      return formatList(ctx, value, recurseTimes - 1, out, size - Math.min(size, 100));
    };
  } else if (isError(value)) {
    let s = formatErrorBase(value);
    if (ctx.indent) s = s.split('\n').join(`\n${ctx.indent}`);
    const keys = ownEntries(ctx, value, recurseTimes - 1, (k) => k === 'stack' || k === 'message');
    let cause;
    try {
      const d = ObjectGetOwnPropertyDescriptor(value, 'cause');
      if (d !== undefined && !d.enumerable && 'value' in d) cause = d;
    } catch { /* ignore */ }
    if (cause !== undefined) {
      ctx.seen.push(value);
      ctx.indent += '  ';
      try { keys.push(`[cause]: ${formatValue(ctx, cause.value, recurseTimes - 1)}`); } finally { ctx.indent = ctx.indent.slice(2); ctx.seen.pop(); }
    }
    if (keys.length === 0) return s;
    if (recurseTimes < 0) return s;
    return `${s} {\n${ctx.indent}  ${keys.join(`,\n${ctx.indent}  `)}\n${ctx.indent}}`;
  } else if (is(dateGetTime, value)) {
    const t = ReflectApply(dateGetTime, value, []);
    base = Number.isNaN(t) ? 'Invalid Date' : ReflectApply(dateToISOString, value, []);
    const keys = ownEntries(ctx, value, recurseTimes - 1);
    if (keys.length === 0) return base;
    return reduceToSingleString(ctx, keys, `${base} `, braces, false);
  } else if (is(regexpGlobal, value) && value !== RegExp.prototype) {
    base = ReflectApply(regexpToString, value, []);
    const keys = ownEntries(ctx, value, recurseTimes - 1, (k) => k === 'lastIndex');
    if (keys.length === 0) return base;
    return reduceToSingleString(ctx, keys, `${base} `, braces, false);
  } else if (isArrayBuffer(value) || isSharedArrayBuffer(value)) {
    const name = isArrayBuffer(value) ? 'ArrayBuffer' : 'SharedArrayBuffer';
    base = getPrefix(value, name) || `${name} `;
    if (recurseTimes < 0) return `[${name}]`;
    entriesFn = () => {
      let bytes;
      try { bytes = new Uint8Array(value); } catch { return ['(detached)']; }
      const max = Math.min(bytes.length, 50);
      let hex = '';
      for (let i = 0; i < max; i++) hex += (i ? ' ' : '') + bytes[i].toString(16).padStart(2, '0');
      if (bytes.length > max) hex += ` ... ${bytes.length - max} more byte${bytes.length - max > 1 ? 's' : ''}`;
      return [`[Uint8Contents]: <${hex}>`, `byteLength: ${bytes.length}`];
    };
  } else if (isDataView(value)) {
    base = 'DataView ';
    if (recurseTimes < 0) return '[DataView]';
    entriesFn = () => [`byteLength: ${value.byteLength}`, `byteOffset: ${value.byteOffset}`, `buffer: ${formatValue(ctx, value.buffer, recurseTimes - 1)}`];
  } else if (is(numberValueOf, value)) {
    base = `[Number: ${formatPrimitive(ReflectApply(numberValueOf, value, []))}]`;
  } else if (is(stringValueOf, value)) {
    base = `[String: ${quoteString(ReflectApply(stringValueOf, value, []))}]`;
    skip = (k) => isIndexKey(k) || k === 'length';
  } else if (is(booleanValueOf, value)) {
    base = `[Boolean: ${ReflectApply(booleanValueOf, value, [])}]`;
  } else if (is(bigintValueOf, value)) {
    base = `[BigInt: ${ReflectApply(bigintValueOf, value, [])}n]`;
  } else if (is(symbolValueOf, value)) {
    base = `[Symbol: ${ReflectApply(symbolToString, ReflectApply(symbolValueOf, value, []), [])}]`;
  } else if (is(weakMapHas, value, {})) {
    return `${getPrefix(value, 'WeakMap')}{ <items unknown> }`;
  } else if (is(weakSetHas, value, {})) {
    return `${getPrefix(value, 'WeakSet')}{ <items unknown> }`;
  } else if (value instanceof Promise || ObjectGetPrototypeOf(value) === PromiseProto) {
    base = getPrefix(value, 'Promise');
    const keys = ownEntries(ctx, value, recurseTimes - 1);
    return `${base}{ ${[promiseStateText(ctx, value, recurseTimes), ...keys].join(', ')} }`;
  } else {
    base = getPrefix(value, 'Object');
    if (recurseTimes < 0) return `[${base.trim() || 'Object'}]`;
  }
  if (base !== '' && !base.endsWith(' ')) {
    // Boxed primitive style: "[Number: 3]" (+ own props)
    const keys = ownEntries(ctx, value, recurseTimes - 1, skip);
    if (keys.length === 0) return base;
    if (recurseTimes < 0) return base;
    ctx.seen.push(value);
    try { return reduceToSingleString(ctx, keys, `${base} `, braces, false); } finally { ctx.seen.pop(); }
  }

  ctx.seen.push(value);
  const savedIndent = ctx.indent;
  ctx.indent += '  ';
  let output;
  try {
    output = entriesFn !== null ? entriesFn() : ownEntries(ctx, value, recurseTimes - 1, skip);
  } catch (err) {
    output = [`<Inspection threw (${safeMessage(err)})>`];
  } finally {
    ctx.indent = savedIndent;
    ctx.seen.pop();
  }
  return reduceToSingleString(ctx, output, base, braces, isArrayLike, ArrayIsArray(value) || typedArrayName(value) !== undefined ? value : undefined);
}

function safeMessage(err) {
  try { return isError(err) ? `${err.name}: ${err.message}` : String(err); } catch { return 'unknown'; }
}

/** Node-style util.inspect(value). */
export function inspect(value, options = undefined) {
  const depth = options && typeof options.depth === 'number' ? options.depth : (options && options.depth === null ? Infinity : 2);
  const ctx = { seen: [], circular: new Map(), indent: '', depth, showHidden: !!(options && options.showHidden) };
  try {
    return formatValue(ctx, value, depth);
  } catch (err) {
    return `<Inspection threw (${safeMessage(err)})>`;
  }
}

function jsonStringify(v) {
  try {
    return JSON.stringify(v) ?? 'undefined';
  } catch (err) {
    const m = safeMessage(err);
    if (m.includes('circular')) return '[Circular]';
    throw err;
  }
}

/** Node-style util.format(...args). */
export function format(...args) {
  let first = args[0];
  let a = 0;
  let str = '';
  if (typeof first === 'string') {
    if (args.length === 1) return first;
    a = 1;
    let last = 0;
    for (let i = 0; i < first.length - 1; i++) {
      if (first.charCodeAt(i) !== 37) continue; // '%'
      const c = first[i + 1];
      if (c === '%') { str += first.slice(last, i) + '%'; last = i + 2; i++; continue; }
      if (a >= args.length) continue;
      let rep;
      const arg = args[a];
      switch (c) {
        case 's':
          if (typeof arg === 'bigint') rep = `${arg}n`;
          else if (typeof arg === 'number' && Object.is(arg, -0)) rep = '-0';
          else if (typeof arg === 'object' && arg !== null) rep = inspect(arg, { depth: 0 });
          else if (typeof arg === 'symbol') rep = ReflectApply(symbolToString, arg, []);
          else rep = String(arg);
          break;
        case 'd':
          if (typeof arg === 'bigint') rep = `${arg}n`;
          else if (typeof arg === 'symbol' || (typeof arg === 'object' && arg !== null)) rep = 'NaN';
          else { const n = Number(arg); rep = Object.is(n, -0) ? '-0' : `${n}`; }
          break;
        case 'i':
          if (typeof arg === 'bigint') rep = `${arg}n`;
          else if (typeof arg === 'symbol') rep = 'NaN';
          else rep = `${parseInt(arg)}`;
          break;
        case 'f':
          rep = typeof arg === 'symbol' ? 'NaN' : `${parseFloat(arg)}`;
          break;
        case 'j': rep = jsonStringify(arg); break;
        case 'o': rep = inspect(arg, { showHidden: true, depth: 4 }); break;
        case 'O': rep = inspect(arg); break;
        case 'c': rep = ''; break;
        default: continue;
      }
      str += first.slice(last, i) + rep;
      last = i + 2;
      i++;
      a++;
    }
    str += first.slice(last);
  }
  for (; a < args.length; a++) {
    const v = args[a];
    const s = typeof v === 'string' ? v : inspect(v);
    str += (str === '' && a === 0) ? s : ` ${s}`;
  }
  return str;
}

// ---------------------------------------------------------------------------------------

let groupIndent = '';
const counts = new Map();
const timersByLabel = new Map();

function emit(level, message) {
  if (groupIndent !== '') message = groupIndent + message.split('\n').join(`\n${groupIndent}`);
  try { if (H.installed) H.log(level, message); } catch { /* a console must never throw */ }
}
const method = (level) => function (...args) { emit(level, format(...args)); };

export const console = {
  log: method('log'),
  info: method('info'),
  warn: method('warn'),
  error: method('error'),
  debug: method('debug'),
  trace(...args) {
    const err = {};
    if (typeof Error.captureStackTrace === 'function') Error.captureStackTrace(err, console.trace);
    const stack = typeof err.stack === 'string' ? err.stack.split('\n').slice(1).join('\n') : '';
    emit('log', `Trace${args.length ? ': ' + format(...args) : ''}${stack ? '\n' + stack : ''}`);
  },
  assert(condition, ...args) {
    if (condition) return;
    if (args.length === 0) emit('error', 'Assertion failed');
    else if (typeof args[0] === 'string') emit('error', `Assertion failed: ${format(...args)}`);
    else emit('error', `Assertion failed: ${format(...args)}`);
  },
  dir(obj, options = undefined) { emit('log', inspect(obj, options)); },
  dirxml(...args) { emit('log', format(...args)); },
  table(data, ...rest) { emit('log', format(data, ...rest)); },
  count(label = 'default') {
    label = `${label}`;
    const n = (counts.get(label) ?? 0) + 1;
    counts.set(label, n);
    emit('info', `${label}: ${n}`);
  },
  countReset(label = 'default') { counts.delete(`${label}`); },
  group(...args) { if (args.length) emit('log', format(...args)); groupIndent += '  '; },
  groupCollapsed(...args) { if (args.length) emit('log', format(...args)); groupIndent += '  '; },
  groupEnd() { groupIndent = groupIndent.slice(2); },
  time(label = 'default') { timersByLabel.set(`${label}`, Date.now()); },
  timeEnd(label = 'default') {
    label = `${label}`;
    const t = timersByLabel.get(label);
    if (t === undefined) { emit('warn', `Warning: No such label '${label}' for console.timeEnd()`); return; }
    timersByLabel.delete(label);
    emit('info', `${label}: ${Date.now() - t}ms`);
  },
  timeLog(label = 'default', ...data) {
    label = `${label}`;
    const t = timersByLabel.get(label);
    if (t === undefined) { emit('warn', `Warning: No such label '${label}' for console.timeLog()`); return; }
    emit('info', `${label}: ${Date.now() - t}ms${data.length ? ' ' + format(...data) : ''}`);
  },
  clear() {},
  profile() {},
  profileEnd() {},
  timeStamp() {},
};
for (const key of Object.keys(console)) {
  Object.defineProperty(console[key], 'name', { value: key, configurable: true });
}
Object.defineProperty(console, Symbol.toStringTag, { value: 'console', configurable: true });
