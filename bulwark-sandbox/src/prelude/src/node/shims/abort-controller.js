// readable-stream falls back to the abort-controller package; the platform has both classes.
export const AbortController = globalThis.AbortController;
export const AbortSignal = globalThis.AbortSignal;
export default AbortController;
