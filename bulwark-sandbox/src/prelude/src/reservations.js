// The account of address-space reservations an isolate holds, with a bound: WebAssembly memories
// (wasm-memories.js) and resizable or growable buffers (resizable-buffers.js).
//
// Why: each of them reserves its largest possible size of address space up front and costs the
// process memory mappings, whatever its current size and whether it is ever touched, so neither
// V8's heap statistics nor the sandbox's resident memory see it. Measured on this V8 (Javet 5.0.6):
// ~32,500 live WebAssembly memories in one process reach the kernel's limit of 65,530 mappings and V8
// ends the whole process ("Fatal error ... process out of memory"), every isolate of the sandbox with
// it, after ~0.2 s of CPU; ~32,600 resizable ArrayBuffers reach the same limit (then every mapping
// the process asks for fails). A worker that keeps a few hundred per request could get there across
// requests. So an isolate may hold at most MAX_RESERVATIONS at once. Past the bound the account
// first drops what the garbage collector has freed (a full collection, once per attempt past the
// bound: a worker that keeps trying pays for each with its CPU time), then refuses with a RangeError,
// as V8 refuses a buffer it cannot allocate.
import { H } from './host.js';
import { ReflectApply, append } from './util.js';

// 64 live isolates in a generated-code sandbox (dynamic_workers_max) × 128 = 8,192 reservations,
// ~16,384 mappings: a quarter of the kernel's default limit, which the JVM and V8 need too.
export const MAX_RESERVATIONS = 128;

const WeakRefCtor = WeakRef;
const weakRefDeref = WeakRef.prototype.deref;

// What the account holds: [WeakRef to a memory, an instance or a buffer, reservations it counts]
// pairs, and their sum (with those of instantiations still under way, which have no object yet).
let held = [];
let count = 0;

function refuse(what) {
  return new RangeError(`${what}: this worker already holds ${MAX_RESERVATIONS} WebAssembly memories and ` +
    'resizable buffers (counting the memories its instances define), the most one isolate may hold at once');
}

// Drops the entries whose object the garbage collector freed.
function sweep() {
  const kept = [];
  let freed = 0;
  for (let i = 0; i < held.length; i++) {
    const entry = held[i];
    if (ReflectApply(weakRefDeref, entry[0], []) === undefined) freed += entry[1];
    else append(kept, entry);
  }
  held = kept;
  count -= freed;
}

/** Takes n reservations from the account, or throws the RangeError `what` would. */
export function reserve(n, what) {
  if (n === 0 || count + n <= MAX_RESERVATIONS) { count += n; return; }
  // Collect first, then look: deref() keeps its target alive until the end of the job, so a look
  // before the collection would keep every memory it saw.
  H.collectGarbage();
  sweep();
  if (count + n > MAX_RESERVATIONS) throw refuse(what);
  count += n;
}

export function release(n) {
  count -= n;
}

export function track(object, n) {
  if (n > 0) append(held, [new WeakRefCtor(object), n]);
}

/**
 * What make() returns, made under n reservations: taken first (or the RangeError `what` would
 * throw), given back if make throws, held for the object's life if it returns.
 */
export function accounted(n, what, make) {
  reserve(n, what);
  let object;
  try {
    object = make();
  } catch (e) {
    release(n);
    throw e;
  }
  track(object, n);
  return object;
}

