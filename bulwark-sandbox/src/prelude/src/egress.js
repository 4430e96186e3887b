// Streamed subrequest response bodies. The node's egress gateway sends an upstream body in
// chunks, never more than a window ahead of what this worker has read: each chunk a reader takes
// out of the stream is acknowledged (host.subrequestAck), which lets the node send that much
// more. A body nobody reads therefore costs at most one window here and nothing in the node;
// canceling the stream (or ending the invocation) tells the node to drop the upstream.
import { H } from './host.js';
import { PromiseCtor } from './util.js';
import { ReadableStream, getReader, readerReadChunk } from './streams-core.js';
import { chunkToBytes } from './body.js';

const bodies = new Map(); // subrequestId -> { chunks, ended, error, wake, over }

/**
 * The body of subrequest {@code id} as a byte stream. {@code ended}, if given, hears how it ended
 * once: null (the whole body was read), the TypeError it errored with, or the reason it was
 * canceled for; and {@code onCancel}, if given, replaces telling the node (a socket's owner does).
 */
export function subrequestBodyStream(id, ended = null, onCancel = null) {
  const body = unboundBodyStream(ended, onCancel);
  body.bind(id);
  return body.stream;
}

/**
 * {@link subrequestBodyStream} before its id is known (a connect() through a loader's fetcher is
 * sent once the worker is loaded): {@code bind(id)} registers it; nothing arrives before that.
 */
export function unboundBodyStream(ended = null, onCancel = null) {
  const state = { chunks: [], ended: false, error: null, wake: null, over: null };
  let id = 0;
  // An error is heard at once (a socket's `closed` rejects whether or not anyone reads); the end
  // only once the reader got there.
  const over = (how) => { if (ended !== null) { const f = ended; ended = null; f(how); } };
  state.over = over;
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
      over(null);
      return true;
    }
    return false;
  };
  let canceled = false;
  const stream = new ReadableStream({
    type: 'bytes',
    pull(controller) {
      if (next(controller)) return undefined;
      return new PromiseCtor((resolve) => {
        state.wake = () => { state.wake = null; next(controller); resolve(); };
      });
    },
    cancel(reason) {
      canceled = true;
      bodies.delete(id);
      state.chunks = [];
      if (onCancel !== null) onCancel(reason);
      else if (id !== 0) try { H.subrequestCancel(id); } catch { /* invocation over */ }
    },
  }, { highWaterMark: 0 });
  const bind = (boundId) => {
    id = boundId;
    if (!canceled) bodies.set(id, state);
  };
  // The end (error: null) or failure of this body, whether or not it is bound yet.
  const end = (error) => endBody(state, error);
  return { stream, bind, end };
}

export function subrequestChunk(id, bytes) {
  const state = bodies.get(id);
  if (state === undefined) return;
  state.chunks.push(bytes);
  if (state.wake !== null) state.wake();
}

export function subrequestEnd(id, error) {
  const state = bodies.get(id);
  if (state !== undefined) endBody(state, error);
}

function endBody(state, error) {
  if (error === null || error === undefined) {
    state.ended = true;
  } else {
    state.error = `${error}`;
    state.over(new TypeError(state.error));
  }
  if (state.wake !== null) state.wake();
}

/**
 * A connect() socket's startTls(): its plain readable side closes where it is (what it holds
 * unread is acknowledged, so the node's window stays whole), and the next body stream made for
 * {@code id} receives what comes after.
 */
export function detachBody(id) {
  const state = bodies.get(id);
  if (state === undefined) return;
  bodies.delete(id);
  let unread = 0;
  for (const b of state.chunks) unread += b.byteLength;
  state.chunks = [];
  state.ended = true;
  if (unread > 0) try { H.subrequestAck(id, unread); } catch { /* invocation over */ }
  if (state.wake !== null) state.wake();
}

/** The host dropped the subrequest (its invocation ended): the stream errors, nothing is kept. */
export function subrequestDrop(id) {
  const state = bodies.get(id);
  if (state === undefined) return;
  bodies.delete(id);
  state.chunks = [];
  state.error = 'The request that made this fetch() has ended.';
  state.over(new TypeError(state.error));
  if (state.wake !== null) state.wake();
}

// Streamed request bodies of subrequests: the node pulls, one piece of at most 64 KiB per pull,
// so a worker's stream is read only as fast as the upstream takes it.
const PIECE = 64 * 1024;
const uploads = new Map(); // subrequestId (or a call's token) -> { reader, rest, invocation, source }

/** An upload read from a stream (`reader`), or one that answers the pulls itself (`source`). */
function upload(reader, invocation, source = null) {
  return { reader, rest: null, invocation, source };
}

export function startUpload(id, stream, invocation) {
  uploads.set(id, upload(getReader(stream), invocation));
}

/**
 * An upload that answers the node's pulls itself (a connect() socket: its pieces, its startTls()
 * and its end, in order): {@code source.pull()} on each pull, {@code source.cancel(reason)} when
 * the upload is ended from here (its invocation ended, or the subrequest is over).
 */
export function startUploadSource(id, invocation, source) {
  uploads.set(id, upload(null, invocation, source));
}

/** The invocation is over: drop whatever of its uploads the node did not finish pulling. */
export function endUploadsOf(invocation) {
  for (const [id, u] of uploads) if (u.invocation === invocation) endUpload(id);
}

let nextToken = 0;

/** A token for a call's upload that answers the pulls itself ({@link startUploadSource} under it): a connect() through a fetcher. */
export function newCallToken() {
  return --nextToken;
}

/** The other side of a connect() call is over (CallRelay.done): upload {@code key} will not be pulled again. */
export function uploadPeerDone(key) {
  const u = uploads.get(key);
  if (u === undefined) return;
  uploads.delete(key);
  if (u.source !== null) u.source.peerDone();
}

/**
 * A request body of a call (a stub's fetch()) streamed on the callee's pulls: registered before
 * the host knows the call's id, under a token (negative: never a subrequest id), which the host
 * hands back with each pull ({@link subrequestBodyPull}(id, token)).
 */
export function startCallUpload(stream, invocation) {
  const token = --nextToken;
  uploads.set(token, upload(getReader(stream), invocation));
  return token;
}

/** The next piece of upload {@code key} (the subrequest id, or a call's token) goes to subrequest or call {@code id}. */
export function subrequestBodyPull(id, key = id) {
  const u = uploads.get(key);
  if (u === undefined) return;
  if (u.source !== null) { u.source.pull(); return; }
  const send = (b) => {
    if (b.byteLength > PIECE) {
      u.rest = b.subarray(PIECE);
      b = b.subarray(0, PIECE);
    } else {
      u.rest = null;
    }
    sendBodyPiece(id, b);
  };
  if (u.rest !== null) { send(u.rest); return; }
  readerReadChunk(u.reader).then(({ done, value }) => {
    if (!uploads.has(key)) return;
    if (done) {
      uploads.delete(key);
      H.subrequestBodyEnd(id, null);
      return;
    }
    let b;
    try { b = chunkToBytes(value); } catch (err) { uploads.delete(key); H.subrequestBodyEnd(id, `${err}`); return; }
    send(b);
  }, (err) => {
    uploads.delete(key);
    try { H.subrequestBodyEnd(id, `${err && err.message !== undefined ? err.message : err}`); } catch { /* over */ }
  });
}

/** One piece of an upload to the node, in a buffer of its own (the host takes a whole buffer). */
export function sendBodyPiece(id, b) {
  H.subrequestBodyChunk(id, b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : b.slice());
}

/** The subrequest is over (answered, canceled or dropped): stop reading the worker's stream (canceled for `reason`). */
export function endUpload(id, reason = undefined) {
  const u = uploads.get(id);
  if (u === undefined) return;
  uploads.delete(id);
  if (u.source !== null) { u.source.cancel(reason); return; }
  try { u.reader.cancel(reason).catch(() => {}); } catch { /* already closed */ }
}
