// Workers' clock. As a mitigation of timing side channels (Spectre), Date.now(), new Date(),
// performance.now() and Intl.DateTimeFormat's "now" do not advance while code runs: they return
// the time of the last I/O, i.e. when the running task began (a request arrived, a timer fired, a
// subrequest or body chunk came back), and 0 (the epoch) in global scope, where no request is
// being handled, as workerd does. performance.timeOrigin is 0, so performance.now() equals
// Date.now(), as in workerd. The host owns the clock (host.now); before the runtime is installed
// (while the startup snapshot is made) the real clock is used.
import { H } from './host.js';
import { ReflectApply, ObjectDefineProperty, ObjectGetOwnPropertyDescriptor } from './util.js';

const RealDate = Date;
const realNow = Date.now;
const ReflectConstruct = Reflect.construct;
const dateToString = Date.prototype.toString;

/** The frozen time of the running task, in ms since the epoch. */
export function now() {
  return H.installed ? H.now() : ReflectApply(realNow, RealDate, []);
}

/** performance.timeOrigin: 0, so performance.now() is Date.now() (workerd does the same). */
export function timeOrigin() { return 0; }

// Date with no arguments (new Date(), Date(), subclasses' super()) reads the frozen clock.
const FrozenDate = new Proxy(RealDate, {
  construct(target, args, newTarget) {
    return ReflectConstruct(target, args.length === 0 ? [now()] : args, newTarget === FrozenDate ? target : newTarget);
  },
  apply() {
    return ReflectApply(dateToString, ReflectConstruct(RealDate, [now()]), []);
  },
});
ObjectDefineProperty(RealDate, 'now', {
  value: { now() { return now(); } }.now, writable: true, enumerable: false, configurable: true,
});
ObjectDefineProperty(RealDate.prototype, 'constructor', {
  value: FrozenDate, writable: true, enumerable: false, configurable: true,
});
ObjectDefineProperty(globalThis, 'Date', { value: FrozenDate, writable: true, enumerable: false, configurable: true });

// Intl.DateTimeFormat's format(undefined) and formatToParts(undefined) format "now".
if (typeof Intl === 'object' && Intl !== null && typeof Intl.DateTimeFormat === 'function') {
  const proto = Intl.DateTimeFormat.prototype;
  const formatGetter = ObjectGetOwnPropertyDescriptor(proto, 'format').get;
  const formatToParts = proto.formatToParts;
  // As the spec's, the getter answers the same function for the same formatter every time.
  const boundFormats = new WeakMap();
  const weakGet = WeakMap.prototype.get, weakSet = WeakMap.prototype.set;
  ObjectDefineProperty(proto, 'format', {
    get: ObjectGetOwnPropertyDescriptor({ get format() {
      const bound = ReflectApply(formatGetter, this, []); // throws for a non-formatter, as V8's does
      let fn = ReflectApply(weakGet, boundFormats, [this]);
      if (fn === undefined) {
        fn = (date) => bound(date === undefined ? now() : date);
        ReflectApply(weakSet, boundFormats, [this, fn]);
      }
      return fn;
    } }, 'format').get,
    enumerable: false, configurable: true,
  });
  ObjectDefineProperty(proto, 'formatToParts', {
    value: { formatToParts(date) {
      return ReflectApply(formatToParts, this, [date === undefined ? now() : date]);
    } }.formatToParts,
    writable: true, enumerable: false, configurable: true,
  });
}

// No Temporal: the sandbox starts V8 with --no-harmony-temporal, as workerd's V8 (IsolateSettings).
