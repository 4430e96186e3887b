// ctx.storage of a durable object: the SQL API, the key-value API (async and ctx.storage.kv),
// transactions and the alarm. All of it is synchronous underneath (the object's SQLite file is in
// this sandbox, as in workerd); the async methods return settled promises, so a read-modify-write
// with awaits between its storage calls is still atomic: no other event is delivered meanwhile.
// Writes commit together at the end of the task that made them, before any response leaves.
import { H } from './host.js';
import { PromiseResolve, PromiseReject, PromiseCtor, ReflectApply, ArrayIsArray, isArrayBuffer, isArrayBufferView, viewBytes } from './util.js';
import { serialize, deserialize } from './serialize.js';
import { currentFrame, runInFrame, frameWith, valueIn, frameInvocation } from './async-context.js';

const INTERNAL = Symbol('internal');
const JSONParse = JSON.parse;
const MAX_BATCH_KEYS = 128;
const MAX_BINDING_ARGS = 1024;
// SQL texts the host numbered (SqlTexts.java): exec sends the number, not the text. A text gets
// one the second time it runs (a text run once costs no extra crossing); -1: it stays text.
const sqlIds = new Map(); // text -> number (-1: none), or null after its first run
const MAX_SQL_IDS = 1024;
const MAX_SQL_ID_CHARS = 4096;

// The buffer shared with the host (SqlExchange.java, which fixes the layout): a call whose SQL
// text has a number and whose bindings are nulls, numbers, booleans or strings of at most
// X_MAX_CHARS code units goes through it, and H.sqlRun() (sqlExec without arguments) is called; a result
// without columns comes back as null with its counts in the buffer. Made at the first exec.
const X_SIZE = 64 << 10;
const X_MAX_BINDINGS = 64;
const X_TAGS = 32;
const X_SLOTS = X_TAGS + X_MAX_BINDINGS;
const X_DATA = X_SLOTS + 8 * X_MAX_BINDINGS;
const X_MAX_CHARS = 256;
const T_NULL = 0, T_NUMBER = 1, T_LATIN1 = 2, T_UTF16 = 3;
let xf64 = null; // Float64Array over the buffer; null until the first exec
let xi32, xu8, xu16;
// Captured at load, so that putBindings runs no worker code (nothing can call exec while the
// buffer is half written) and a replaced String.prototype.charCodeAt changes nothing.
const StringCharCodeAt = Function.prototype.call.bind(String.prototype.charCodeAt);
const StringFromCharCode = String.fromCharCode;
// A result of one row or none, with at most X_RESULT_COLUMNS columns of nulls, numbers and
// strings of at most X_MAX_CHARS code units (names too), comes back in the buffer as well
// (SqlExchange.result): names as entries 0.., values as entries X_RESULT_COLUMNS.. (tag + slot,
// as bindings go), the column count at int32 6, the row count at int32 7 (-1: no columns).
const X_RESULT_COLUMNS = X_MAX_BINDINGS / 2;

// Entry k's string, from its code units in the buffer.
function xString(k) {
  const len = xi32[(X_SLOTS >> 2) + 2 * k];
  const off = xi32[(X_SLOTS >> 2) + 2 * k + 1];
  let s = '';
  if (xu8[X_TAGS + k] === T_LATIN1) {
    for (let j = 0; j < len; j++) s += StringFromCharCode(xu8[off + j]);
  } else {
    const base = off >> 1;
    for (let j = 0; j < len; j++) s += StringFromCharCode(xu16[base + j]);
  }
  return s;
}

// Entry k's value: null, a number or a string.
function xValue(k) {
  const tag = xu8[X_TAGS + k];
  if (tag === T_NUMBER) return xf64[(X_SLOTS >> 3) + k];
  if (tag === T_NULL) return null;
  return xString(k);
}

// Captured at load: the buffer is wrapped by these even if worker code replaced the globals.
const Int32ArrayCtor = Int32Array, Uint8ArrayCtor = Uint8Array, Uint16ArrayCtor = Uint16Array, Float64ArrayCtor = Float64Array;

function exchange() {
  const buffer = H.sqlBuffer();
  xi32 = new Int32ArrayCtor(buffer);
  xu8 = new Uint8ArrayCtor(buffer);
  xu16 = new Uint16ArrayCtor(buffer);
  xf64 = new Float64ArrayCtor(buffer);
}

// Writes the bindings into the buffer; false (nothing usable written) when one does not fit.
function putBindings(bindings) {
  const n = bindings.length;
  if (n > X_MAX_BINDINGS) return false;
  let data = X_DATA;
  for (let i = 0; i < n; i++) {
    const v = bindings[i];
    const slot = (X_SLOTS >> 3) + i;
    if (typeof v === 'string') {
      const len = v.length;
      if (len > X_MAX_CHARS) return false;
      // One pass: copied as Latin-1 while every code unit fits (the usual case); at the first
      // that does not, written again from the start as UTF-16 (what was copied is not read).
      let k = 0;
      if (data + len <= X_SIZE) {
        for (; k < len; k++) {
          const c = StringCharCodeAt(v, k);
          if (c > 255) break;
          xu8[data + k] = c;
        }
      }
      if (k === len) {
        xu8[X_TAGS + i] = T_LATIN1;
      } else {
        data = (data + 1) & ~1;
        if (data + 2 * len > X_SIZE) return false;
        const base = data >> 1;
        for (let j = 0; j < len; j++) xu16[base + j] = StringCharCodeAt(v, j);
        xu8[X_TAGS + i] = T_UTF16;
      }
      xi32[slot * 2] = len;
      xi32[slot * 2 + 1] = data;
      data += xu8[X_TAGS + i] === T_LATIN1 ? len : 2 * len;
      continue;
    }
    if (typeof v === 'number' || typeof v === 'boolean') {
      xf64[slot] = typeof v === 'number' ? v : (v ? 1 : 0);
      xu8[X_TAGS + i] = T_NUMBER;
      continue;
    }
    if (v === null || v === undefined) {
      xu8[X_TAGS + i] = T_NULL;
      continue;
    }
    return false; // a bigint, a blob or an unsupported value: the argument path (sqlValue converts or refuses it)
  }
  xi32[6] = n;
  return true;
}

function settle(fn) {
  try {
    return PromiseResolve(fn());
  } catch (err) {
    return PromiseReject(err);
  }
}

function sqlValue(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') {
    if (v > 9223372036854775807n || v < -9223372036854775808n) throw new RangeError('BigInt out of range for SQLite');
    return Number(v);
  }
  if (isArrayBuffer(v)) return new Uint8Array(v.slice(0));
  if (isArrayBufferView(v)) return viewBytes(v).slice();
  throw new TypeError(`Unsupported type for an SQL binding: ${typeof v}`);
}

// Shared by cursors without results: never handed out (columnNames returns a copy) nor changed.
const NO_COLUMNS = Object.freeze([]);
const NO_ROWS = Object.freeze([]);

export class SqlStorageCursor {
  #columns;
  #rows;
  #next = 0;
  #rowsRead;
  #rowsWritten;
  // result: the host's flat answer [rowsRead, rowsWritten, columnCount, ...columnNames, ...values row by row],
  // or for SQL without result columns that read only the rows it wrote, the number of rows written,
  // or that array as JSON text (when all its values are nulls, numbers and strings).
  // Or null: the answer is in the exchange buffer (no result columns: the counts; or one small row).
  constructor(token, result) {
    if (token !== INTERNAL) throw new TypeError('Illegal constructor');
    if (result === null) {
      this.#rowsRead = xf64[0];
      this.#rowsWritten = xf64[1];
      const count = xi32[7];
      if (count < 0) {
        this.#columns = NO_COLUMNS;
        this.#rows = NO_ROWS;
        return;
      }
      const width = xi32[6];
      const columns = [];
      // Indexed stores, not push: a replaced Array.prototype.push must not run in the middle of
      // reading the buffer (it could call exec and overwrite it).
      for (let i = 0; i < width; i++) columns[i] = xString(i);
      this.#columns = columns;
      if (count === 0) {
        this.#rows = NO_ROWS;
        return;
      }
      const row = [];
      for (let i = 0; i < width; i++) row[i] = xValue(X_RESULT_COLUMNS + i);
      this.#rows = [row];
      return;
    }
    if (typeof result === 'string') result = JSONParse(result);
    if (typeof result === 'number') {
      this.#rowsRead = result;
      this.#rowsWritten = result;
      this.#columns = NO_COLUMNS;
      this.#rows = NO_ROWS;
      return;
    }
    const width = result[2];
    const first = 3 + width;
    this.#rowsRead = result[0];
    this.#rowsWritten = result[1];
    this.#columns = result.slice(3, first);
    const rows = [];
    if (width > 0) for (let i = first; i < result.length; i += width) rows.push(result.slice(i, i + width));
    this.#rows = rows;
  }
  #object(row) {
    const o = {};
    for (let i = 0; i < this.#columns.length; i++) o[this.#columns[i]] = row[i];
    return o;
  }
  next() {
    // { done: true } without a value key, as workerd's iterators answer.
    if (this.#next >= this.#rows.length) return { done: true };
    return { done: false, value: this.#object(this.#rows[this.#next++]) };
  }
  toArray() {
    const out = [];
    while (this.#next < this.#rows.length) out.push(this.#object(this.#rows[this.#next++]));
    return out;
  }
  one() {
    const remaining = this.#rows.length - this.#next;
    if (remaining === 0) throw new Error('Expected exactly one result from SQL query, but got no results.');
    if (remaining > 1) throw new Error('Expected exactly one result from SQL query, but got multiple results.');
    return this.#object(this.#rows[this.#next++]);
  }
  raw() {
    const cursor = this;
    const rows = this.#rows;
    const advance = () => (this.#next < rows.length ? { done: false, value: rows[this.#next++].slice() } : { done: true });
    return {
      next: advance,
      toArray() {
        const out = [];
        for (let r = advance(); !r.done; r = advance()) out.push(r.value);
        return out;
      },
      one() {
        const remaining = rows.length - cursor.#next;
        if (remaining !== 1) throw new Error(`Expected exactly one result from SQL query, but got ${remaining === 0 ? 'no' : 'multiple'} results.`);
        return advance().value;
      },
      get columnNames() { return cursor.columnNames; },
      get rowsRead() { return cursor.rowsRead; },
      get rowsWritten() { return cursor.rowsWritten; },
      [Symbol.iterator]() { return this; },
    };
  }
  get columnNames() { return this.#columns.slice(); }
  get rowsRead() { return this.#rowsRead; }
  get rowsWritten() { return this.#rowsWritten; }
  [Symbol.iterator]() { return this; }
}
Object.defineProperty(SqlStorageCursor.prototype, Symbol.toStringTag, { value: 'SqlStorageCursor', configurable: true });

class SqlStorage {
  #handle;
  constructor(token, handle) {
    if (token !== INTERNAL) throw new TypeError('Illegal constructor');
    this.#handle = handle;
  }
  exec(query, ...bindings) {
    if (typeof query !== 'string') throw new TypeError("Failed to execute 'exec' on 'SqlStorage': parameter 1 is not of type 'string'.");
    if (xf64 === null) exchange();
    const key = sqlKey(query);
    if (typeof key === 'number' && putBindings(bindings)) {
      xi32[4] = this.#handle;
      xi32[5] = key;
      return new SqlStorageCursor(INTERNAL, H.sqlRun());
    }
    // The bindings travel as arguments, so each string or number crosses with the call itself;
    // very many go as one array instead (a call's arguments are bounded).
    const args = [this.#handle, key];
    if (bindings.length <= MAX_BINDING_ARGS) {
      for (let i = 0; i < bindings.length; i++) args.push(sqlValue(bindings[i]));
    } else {
      const values = [];
      for (let i = 0; i < bindings.length; i++) values.push(sqlValue(bindings[i]));
      args.push(values);
    }
    return new SqlStorageCursor(INTERNAL, ReflectApply(H.sqlExec, undefined, args));
  }
  get databaseSize() { return H.storageOp(this.#handle, 'size'); }
  get Cursor() { return SqlStorageCursor; }
}
Object.defineProperty(SqlStorage.prototype, Symbol.toStringTag, { value: 'SqlStorage', configurable: true });

// What exec sends for the text: its number once the host gave one, else the text itself.
function sqlKey(query) {
  if (query.length > MAX_SQL_ID_CHARS) return query;
  const known = sqlIds.get(query);
  if (known === undefined) {
    if (sqlIds.size < MAX_SQL_IDS * 4) sqlIds.set(query, null);
    return query;
  }
  if (known !== null) return known < 0 ? query : known;
  const id = H.sqlText(query);
  sqlIds.set(query, id);
  return id < 0 ? query : id;
}

function checkKey(key) {
  if (typeof key !== 'string') key = `${key}`;
  return key;
}

function checkKeys(keys) {
  if (keys.length > MAX_BATCH_KEYS) throw new RangeError(`Maximum number of keys is ${MAX_BATCH_KEYS}; got ${keys.length}.`);
  const out = [];
  for (let i = 0; i < keys.length; i++) out.push(checkKey(keys[i]));
  return out;
}

function listOptions(options) {
  if (options === undefined || options === null) return {};
  const o = {};
  for (const name of ['start', 'startAfter', 'end', 'prefix']) {
    if (options[name] !== undefined) o[name] = `${options[name]}`;
  }
  if (options.reverse !== undefined) o.reverse = !!options.reverse;
  if (options.limit !== undefined) {
    const limit = Number(options.limit);
    if (!(limit > 0) || !Number.isInteger(limit)) throw new RangeError('List limit must be a positive integer.');
    o.limit = limit;
  }
  if (o.start !== undefined && o.startAfter !== undefined) {
    throw new TypeError('list() cannot be called with both start and startAfter values.');
  }
  return o;
}

// The key-value operations, synchronous; the async API and ctx.storage.kv wrap them.
class Kv {
  constructor(handle) { this.handle = handle; this.maxValueBytes = 0; }
  // The node's storage.max_value_bytes: the serializer stops there, so a value past it fails
  // before it is built in full (the host checks it again).
  serialize(value) {
    if (this.maxValueBytes === 0) this.maxValueBytes = H.storageOp(this.handle, 'maxValueBytes');
    try {
      return serialize(value, { maxBytes: this.maxValueBytes });
    } catch (e) {
      if (e instanceof RangeError && e.message.startsWith('The serialized value is larger')) {
        throw new RangeError(`Values cannot be larger than ${this.maxValueBytes} bytes.`);
      }
      throw e;
    }
  }
  get(key) {
    const bytes = H.kvGet(this.handle, checkKey(key));
    return bytes === undefined ? undefined : deserialize(bytes);
  }
  getMany(keys) {
    keys = checkKeys(keys);
    const values = H.kvGet(this.handle, keys);
    const map = new Map();
    for (let i = 0; i < keys.length; i++) {
      if (values[i] !== undefined && !map.has(keys[i])) map.set(keys[i], deserialize(values[i]));
    }
    return map;
  }
  put(key, value) {
    if (value === undefined) throw new TypeError('Cannot store undefined; use delete() instead.');
    H.kvPut(this.handle, checkKey(key), this.serialize(value));
  }
  putMany(entries) {
    if (entries === null || typeof entries !== 'object') throw new TypeError('put() takes a key and a value, or an object of entries.');
    const keys = Object.keys(entries);
    if (keys.length > MAX_BATCH_KEYS) throw new RangeError(`Maximum number of pairs is ${MAX_BATCH_KEYS}; got ${keys.length}.`);
    const values = [];
    for (const k of keys) {
      if (entries[k] === undefined) throw new TypeError('Cannot store undefined; use delete() instead.');
      values.push(this.serialize(entries[k]));
    }
    H.kvPut(this.handle, keys, values);
  }
  delete(key) { return H.kvDelete(this.handle, [checkKey(key)]) > 0; }
  deleteMany(keys) { return H.kvDelete(this.handle, checkKeys(keys)); }
  list(options) {
    const [keys, values] = H.kvList(this.handle, listOptions(options));
    const map = new Map();
    for (let i = 0; i < keys.length; i++) map.set(keys[i], deserialize(values[i]));
    return map;
  }
  deleteAll() { H.storageOp(this.handle, 'deleteAll'); }
}

// As in workerd, one kv.list() iterator is live at a time: starting a new list() ends the one
// before it, which then throws on its next step instead of yielding (its entries are read ahead here).
const LIST_INVALIDATED = 'kv.list() iterator was invalidated because a new call to kv.list() was started. ' +
  'Only one kv.list() iterator can exist at a time.';

class SyncKvStorage {
  #kv;
  #lists = 0;
  constructor(token, kv) {
    if (token !== INTERNAL) throw new TypeError('Illegal constructor');
    this.#kv = kv;
  }
  get(key) { return this.#kv.get(key); }
  put(key, value) { this.#kv.put(key, value); }
  delete(key) { return this.#kv.delete(key); }
  list(options = undefined) {
    const entries = this.#kv.list(options).entries();
    const mine = ++this.#lists;
    let done = false;
    return {
      next: () => {
        if (done) return { value: undefined, done: true };
        if (this.#lists !== mine) throw new Error(LIST_INVALIDATED);
        const step = entries.next();
        done = step.done;
        return step;
      },
      [Symbol.iterator]() { return this; },
    };
  }
}
Object.defineProperty(SyncKvStorage.prototype, Symbol.toStringTag, { value: 'SyncKvStorage', configurable: true });

// Rolls back the innermost savepoint after its closure threw; the closure's error is what the
// caller sees, also when nothing was left to roll back (ctx.abort() inside it dropped it all).
function rollbackAfter(handle) {
  try {
    H.storageOp(handle, 'rollback');
  } catch {
    // see above
  }
}

/** Drops the object's writes not yet committed (ctx.abort(), as workerd cancels unflushed writes). */
export let discardWrites;
/** Closes the object's storage under this instance (a transaction() past its deadline: the object is reset). */
export let closeStorage;
/** txn.rollback() of an open transaction {@code t} (DurableObjectStorage's static block). */
let rollbackTxn;

// The async context key of the transaction() whose closure the running code is in.
const IN_TXN = Symbol('storage transaction');

/** A transaction() ended (its closure settled): it leaves the open ones; its txn refuses calls. */
function endTxn(open, t) {
  t.ended = true;
  const i = open.lastIndexOf(t);
  if (i >= 0) open.splice(i, 1);
}

/**
 * The txn a transaction() closure gets, as workerd's DurableObjectTransaction: the key-value calls
 * and the alarm (the same storage: ctx.storage's calls join the transaction as well) and
 * rollback(). It refuses calls once rolled back, and once its closure has ended.
 */
class DurableObjectTransaction {
  #storage;
  #t;
  constructor(token, storage, t) {
    if (token !== INTERNAL) throw new TypeError('Illegal constructor');
    this.#storage = storage;
    this.#t = t;
  }
  #check(op) {
    if (this.#t.rolledBack) throw new Error(`Cannot ${op} on rolled back transaction`);
    if (this.#t.ended) {
      throw new Error(`Cannot call ${op} on transaction that has already committed: did you move \`txn\` outside of the closure?`);
    }
  }
  get(keys, options = undefined) {
    return settle(() => { this.#check('get'); return this.#storage.get(keys, options); });
  }
  put(keyOrEntries, value = undefined, options = undefined) {
    return settle(() => { this.#check('put'); return this.#storage.put(keyOrEntries, value, options); });
  }
  delete(keys, options = undefined) {
    return settle(() => { this.#check('delete'); return this.#storage.delete(keys, options); });
  }
  list(options = undefined) {
    return settle(() => { this.#check('list'); return this.#storage.list(options); });
  }
  getAlarm(options = undefined) {
    return settle(() => { this.#check('getAlarm'); return this.#storage.getAlarm(options); });
  }
  setAlarm(scheduledTime, options = undefined) {
    return settle(() => { this.#check('setAlarm'); return this.#storage.setAlarm(scheduledTime, options); });
  }
  deleteAlarm(options = undefined) {
    return settle(() => { this.#check('deleteAlarm'); return this.#storage.deleteAlarm(options); });
  }
  deleteAll() {
    return PromiseReject(new Error('Cannot call deleteAll() within a transaction'));
  }
  rollback() {
    if (this.#t.rolledBack) return; // more than one call is allowed
    this.#check('rollback');
    rollbackTxn(this.#storage, this.#t);
  }
}
Object.defineProperty(DurableObjectTransaction.prototype, Symbol.toStringTag, { value: 'DurableObjectTransaction', configurable: true });

export class DurableObjectStorage {
  #handle;
  #kv;
  #sql;
  #syncKv;
  /** The open transaction()s, outermost first: { done, ended, rolledBack }. */
  #txns = [];
  /** Closes the object's input gate until the promise given settles (objects.js). */
  #critical;
  constructor(token, handle, critical) {
    if (token !== INTERNAL) throw new TypeError('Illegal constructor');
    this.#handle = handle;
    this.#critical = critical;
    this.#kv = new Kv(handle);
    this.#sql = new SqlStorage(INTERNAL, handle);
    this.#syncKv = new SyncKvStorage(INTERNAL, this.#kv);
  }
  get sql() { return this.#sql; }
  get kv() { return this.#syncKv; }
  get(keys, options = undefined) {
    return settle(() => (ArrayIsArray(keys) ? this.#kv.getMany(keys) : this.#kv.get(keys)));
  }
  put(keyOrEntries, value = undefined, options = undefined) {
    return settle(() => {
      if (typeof keyOrEntries === 'object' && keyOrEntries !== null && !ArrayIsArray(keyOrEntries)) this.#kv.putMany(keyOrEntries);
      else this.#kv.put(keyOrEntries, value);
    });
  }
  delete(keys, options = undefined) {
    return settle(() => (ArrayIsArray(keys) ? this.#kv.deleteMany(keys) : this.#kv.delete(keys)));
  }
  list(options = undefined) { return settle(() => this.#kv.list(options)); }
  deleteAll(options = undefined) { return settle(() => this.#kv.deleteAll()); }
  transactionSync(closure) {
    if (typeof closure !== 'function') throw new TypeError("Failed to execute 'transactionSync': parameter 1 is not a function.");
    H.storageOp(this.#handle, 'begin');
    let result;
    try {
      result = closure();
    } catch (err) {
      rollbackAfter(this.#handle);
      throw err;
    }
    H.storageOp(this.#handle, 'release');
    return result;
  }
  /**
   * workerd's transaction() on SQLite: a critical section (no other event is delivered to the
   * object until the closure settles) around a savepoint that stays open across the closure's
   * awaits. It starts by committing what the turn wrote before it; it commits when the closure's
   * promise fulfils (before the output of that task leaves) and rolls back exactly what was written
   * meanwhile when it rejects or after txn.rollback(). Every storage call made while it is open
   * joins it, through txn or ctx.storage alike; a transaction() called inside the closure nests.
   */
  async transaction(closure) {
    if (typeof closure !== 'function') throw new TypeError("Failed to execute 'transaction' on 'DurableObjectStorage': parameter 1 is not a function.");
    const handle = this.#handle;
    const open = this.#txns;
    const outer = valueIn(currentFrame(), IN_TXN);
    let ended;
    const done = new PromiseCtor((resolve) => { ended = resolve; });
    this.#critical(done);
    try {
      // One child of a transaction at a time and none beside it, as workerd's critical sections:
      // wait until the innermost open one is the caller's own (or none is open).
      await undefined;
      while (open.length > 0 && open[open.length - 1] !== outer) await open[open.length - 1].done;
      const t = { done, ended: false, rolledBack: false };
      H.storageOp(handle, 'txnBegin', frameInvocation());
      open.push(t);
      let result;
      try {
        result = await runInFrame(frameWith(currentFrame(), IN_TXN, t), closure, undefined,
          [new DurableObjectTransaction(INTERNAL, this, t)]);
      } catch (err) {
        endTxn(open, t);
        if (!t.rolledBack) rollbackAfter(handle);
        throw err;
      }
      endTxn(open, t);
      if (!t.rolledBack) H.storageOp(handle, 'release');
      return result;
    } finally {
      ended();
    }
  }
  getAlarm(options = undefined) {
    return settle(() => {
      const t = H.storageOp(this.#handle, 'getAlarm');
      return t === null || t === undefined ? null : t;
    });
  }
  setAlarm(scheduledTime, options = undefined) {
    return settle(() => {
      const t = scheduledTime instanceof Date ? scheduledTime.getTime() : Number(scheduledTime);
      if (!Number.isFinite(t)) throw new TypeError('setAlarm() requires a Date or a number of milliseconds since the epoch.');
      H.storageOp(this.#handle, 'setAlarm', t);
    });
  }
  deleteAlarm(options = undefined) { return settle(() => { H.storageOp(this.#handle, 'deleteAlarm'); }); }
  sync() { return PromiseResolve(); }
  getCurrentBookmark() { return PromiseReject(new TypeError('Point-in-time recovery is not supported by Bulwark yet')); }
  static {
    rollbackTxn = (storage, t) => {
      if (storage.#txns[storage.#txns.length - 1] !== t) {
        throw new Error('Cannot roll back an outer transaction while a nested transaction is still running.');
      }
      t.rolledBack = true;
      H.storageOp(storage.#handle, 'rollback');
    };
    closeStorage = (storage) => {
      try {
        H.storageOp(storage.#handle, 'close');
      } catch {
        // closed already
      }
    };
    discardWrites = (storage) => {
      try {
        H.storageOp(storage.#handle, 'discard');
      } catch {
        // the storage was closed (the object reset): nothing is left to drop
      }
    };
  }
}
Object.defineProperty(DurableObjectStorage.prototype, Symbol.toStringTag, { value: 'DurableObjectStorage', configurable: true });

export function createStorage(handle, critical) {
  return new DurableObjectStorage(INTERNAL, handle, critical);
}
