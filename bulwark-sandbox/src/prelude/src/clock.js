// Time origin for performance.now() and Event.timeStamp. The prelude may be evaluated while a
// V8 startup snapshot is created, so the origin is reset when the runtime is installed.
let origin = Date.now();
export function timeOrigin() { return origin; }
export function resetTimeOrigin() { origin = Date.now(); }
