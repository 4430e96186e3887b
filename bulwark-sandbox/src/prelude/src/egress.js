// Streamed subrequest response bodies. The node's egress gateway sends an upstream body in
// chunks, never more than a window ahead of what this worker has read: each chunk a reader takes
// out of the stream is acknowledged (host.subrequestAck), which lets the node send that much
// more. A body nobody reads therefore costs at most one window here and nothing in the node;
// canceling the stream (or ending the invocation) tells the node to drop the upstream.
import { H } from './host.js';
import { PromiseCtor } from './util.js';
import { ReadableStream } from './streams-core.js';

const bodies = new Map(); // subrequestId -> { chunks, ended, error, wake }

export function subrequestBodyStream(id) {
  const state = { chunks: [], ended: false, error: null, wake: null };
  bodies.set(id, state);
  const next = (controller) => {
    if (state.chunks.length > 0) {
      const b = state.chunks.shift();
      const n = b.byteLength; // read first: a byte stream takes the buffer over
      controller.enqueue(b);
      try { H.subrequestAck(id, n); } catch { /* invocation over */ }
      return true;
    }
    if (state.error !== null) {
      bodies.delete(id);
      controller.error(new TypeError(state.error));
      return true;
    }
    if (state.ended) {
      bodies.delete(id);
      controller.close();
      return true;
    }
    return false;
  };
  return new ReadableStream({
    type: 'bytes',
    pull(controller) {
      if (next(controller)) return undefined;
      return new PromiseCtor((resolve) => {
        state.wake = () => { state.wake = null; next(controller); resolve(); };
      });
    },
    cancel() {
      bodies.delete(id);
      state.chunks = [];
      try { H.subrequestCancel(id); } catch { /* invocation over */ }
    },
  }, { highWaterMark: 0 });
}

export function subrequestChunk(id, bytes) {
  const state = bodies.get(id);
  if (state === undefined) return;
  state.chunks.push(bytes);
  if (state.wake !== null) state.wake();
}

export function subrequestEnd(id, error) {
  const state = bodies.get(id);
  if (state === undefined) return;
  if (error === null || error === undefined) state.ended = true;
  else state.error = `${error}`;
  if (state.wake !== null) state.wake();
}

/** The host dropped the subrequest (its invocation ended): the stream errors, nothing is kept. */
export function subrequestDrop(id) {
  const state = bodies.get(id);
  if (state === undefined) return;
  bodies.delete(id);
  state.chunks = [];
  state.error = 'The request that made this fetch() has ended.';
  if (state.wake !== null) state.wake();
}
