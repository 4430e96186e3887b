// WebSockets, server side, as in Workers: `new WebSocketPair()`, `accept()`, `send`, `close`,
// events, and a 101 Response carrying the client end. The client's real socket lives in the node;
// a socket gets its node-wide id when the Response carrying its peer leaves (see bindResponseSocket)
// and frames cross as host calls (socketSend/socketClose) and socket events (deliverSocketEvent).
// Durable objects also accept sockets through the Hibernation API (objects.js): those are kept by
// the node across the object's restarts and come back here as restored sockets.
import { H, safeLog } from './host.js';
import { Event, EventTarget, collectingReturns } from './events.js';
import { viewBytes, bytesToArrayBuffer, toDictionary, ReflectApply, PromiseResolve, PromiseThen, GLOBAL_SCOPE_IO } from './util.js';
import { serialize, deserialize } from './serialize.js';
import { utf8Encode } from './encoding.js';
import { MessageEvent } from './messaging.js';
import { Blob } from './blob.js';
import { DOMException } from './dom-exception.js';
import { compat, WEBSOCKET_BLOB, CLOSE_REASON_LIMIT, WEBSOCKET_AUTO_REPLY } from './compat.js';
import { parseURL, serializeURL } from './url.js';
import { fetch } from './fetch.js';

const INTERNAL = Symbol('internal');
/** Workers' limit on one WebSocket message, both ways. */
export const MAX_MESSAGE_BYTES = 1 << 20;
const MAX_ATTACHMENT_BYTES = 2048;

export class CloseEvent extends Event {
  #code; #reason; #wasClean;
  constructor(type, init = undefined) {
    super(type, init);
    const opts = toDictionary(init, "Failed to construct 'CloseEvent'");
    this.#code = opts.code === undefined ? 0 : Number(opts.code);
    this.#reason = opts.reason === undefined ? '' : `${opts.reason}`;
    this.#wasClean = !!opts.wasClean;
  }
  get code() { return this.#code; }
  get reason() { return this.#reason; }
  get wasClean() { return this.#wasClean; }
}

export class ErrorEvent extends Event {
  #message; #error;
  constructor(type, init = undefined) {
    super(type, init);
    const opts = toDictionary(init, "Failed to construct 'ErrorEvent'");
    this.#message = opts.message === undefined ? '' : `${opts.message}`;
    this.#error = opts.error;
  }
  get message() { return this.#message; }
  get error() { return this.#error; }
}

let socketInternals;
const localSockets = new Map(); // socket id -> WebSocket (accepted with accept(), bound)
// objects.js: { claimed(ws, invocationId) -> the object's entry that accepted a client end, or
// undefined; connecting(handshake) -> an object's event waits for new WebSocket()'s handshake;
// current() -> the entry the running code's invocation is for, or undefined }.
let outboundOwner = null;

export function setOutboundOwner(hooks) { outboundOwner = hooks; }

/** workerd's error (io-context.c++, throwNotCurrentJsError) for one object's socket used by another object of the isolate. */
function checkOwner(owner) {
  const now = outboundOwner.current();
  if (now !== undefined && now !== null && now !== owner) {
    throw new Error('Cannot perform I/O on behalf of a different Durable Object. I/O objects (such as streams, '
      + 'request/response bodies, and others) created in the context of one Durable Object cannot be accessed '
      + 'from a different Durable Object in the same isolate. This is a limitation of Cloudflare Workers which '
      + 'allows us to improve overall performance.');
  }
}

export class WebSocket extends EventTarget {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;
  #peer = null;        // the other end of a local pair
  #remoteId = null;    // a socket another invocation handed over (a durable object's 101), until accepted
  #id = null;          // node-wide id once bound
  #state = 1;
  #accepted = false;
  #hibernation = null; // { entry, object, tags } when accepted with ctx.acceptWebSocket
  #queue = [];         // sends before the socket is bound
  #attachment = null;  // serialized bytes
  #closeSent = false;
  #closeReceived = false; // a local pair's peer closed (node-bound sockets go straight to CLOSED)
  #allowHalfOpen = false; // accept({ allowHalfOpen }): no automatic close reply
  #binaryType = null;      // 'blob' or 'arraybuffer'; null until set: the default of the worker's date
  #client = null;          // new WebSocket(url): { url, protocol, connecting }
  #owner = null;           // the durable object (objects.js' entry) whose event accepted this client end

  constructor(token, a = undefined, b = undefined) {
    if (token !== INTERNAL) {
      if (arguments.length < 1) throw new TypeError("Failed to construct 'WebSocket': 1 argument required, but only 0 present.");
      // As workerd (its constructor needs the request's context): no connection from global scope.
      let invocation = 0;
      try { invocation = Number(H.currentInvocation() || 0); } catch { /* outside any invocation */ }
      if (invocation === 0) throw new Error(GLOBAL_SCOPE_IO);
      const url = `${token}`, protocols = clientProtocols(a);
      const record = parseURL(url);
      if (record === null) throw new DOMException('WebSocket Constructor: The url is invalid.', 'SyntaxError');
      if (record.scheme !== 'ws' && record.scheme !== 'wss') throw new DOMException('WebSocket Constructor: The url scheme must be ws or wss.', 'SyntaxError');
      if (record.fragment !== null) throw new DOMException('WebSocket Constructor: The url fragment must be empty.', 'SyntaxError');
      super();
      // As workerd: ws/wss become http/https, and the handshake is an ordinary fetch() with
      // Upgrade (so the same egress rules, or the worker's globalOutbound fetcher, decide).
      record.scheme = record.scheme === 'ws' ? 'http' : 'https';
      this.#state = 0;
      this.#client = { url, protocol: '', connecting: true };
      WebSocket.#connect(this, serializeURL(record), protocols);
      return;
    }
    super();
  }

  /** The handshake of new WebSocket(url): 'open' once connected, else 'error' then 'close' (1006). */
  static #connect(ws, httpUrl, protocols) {
    const headers = [['Upgrade', 'websocket']];
    if (protocols !== '') headers.push(['Sec-WebSocket-Protocol', protocols]);
    const failed = (message) => {
      if (ws.#state === 3) return;
      ws.#state = 3;
      ws.#client.connecting = false;
      fire(ws, new ErrorEvent('error', { message }));
      fire(ws, new CloseEvent('close', { code: 1006, reason: '', wasClean: false }));
    };
    let pending;
    try {
      pending = fetch(httpUrl, { headers });
    } catch (err) {
      PromiseThen(PromiseResolve(undefined), () => failed(err && err.message ? err.message : `${err}`));
      return;
    }
    const connected = PromiseThen(pending, (resp) => {
      const remote = resp.webSocket;
      if (resp.status !== 101 || remote === null || remote.#remoteId === null) {
        failed('Failed to establish the WebSocket connection: expected server to reply with HTTP status code 101 '
          + `(switching protocols), but received ${resp.status} instead.`);
        return;
      }
      ws.#remoteId = remote.#remoteId;
      remote.#remoteId = null;
      ws.#client.protocol = resp.headers.get('sec-websocket-protocol') ?? '';
      ws.#client.connecting = false;
      const closedMeanwhile = ws.#state === 3;
      ws.accept();
      if (closedMeanwhile) {
        // close() while connecting: the connection made meanwhile is closed at once.
        ws.#state = 1;
        ws.close(1000);
        ws.#state = 3;
        return;
      }
      ws.#state = 1;
      fire(ws, new Event('open'));
    }, (err) => failed(err && err.message ? err.message : `${err}`));
    // A durable object's event waits for its handshake (workerd: the actor's IoContext outlives
    // the request), so the socket is accepted, and the object's, even after the response is sent.
    if (outboundOwner !== null) outboundOwner.connecting(connected);
  }

  get readyState() { return this.#state; }
  get url() { return this.#client === null ? null : this.#client.url; }
  get protocol() { return this.#client === null ? null : this.#client.protocol; }
  get extensions() { return this.#client === null ? null : ''; }
  // websocket_standard_binary_type (from 2026-03-17): "blob" by default, as the WebSocket Standard
  // says; before, "arraybuffer". Other values are ignored, as the standard says. It decides what
  // the 'message' listeners get; the hibernation handler webSocketMessage always gets an ArrayBuffer.
  get binaryType() { return this.#binaryType ?? (compat(WEBSOCKET_BLOB) ? 'blob' : 'arraybuffer'); }
  set binaryType(v) {
    v = `${v}`;
    if (v === 'blob' || v === 'arraybuffer') this.#binaryType = v;
  }

  accept(options = undefined) {
    if (this.#client !== null && this.#client.connecting) {
      throw new TypeError("Websockets obtained from the 'new WebSocket()' constructor cannot call accept");
    }
    if (this.#client !== null && this.#accepted) return; // open already: nothing to do (as workerd)
    if (this.#accepted) throw new TypeError('The WebSocket was already accepted.');
    // web_socket_auto_reply_to_close (from 2026-04-07): a close frame gets the close reply unless
    // the socket asks for half-open; before, workerd's sockets were half-open unless told otherwise.
    const halfOpen = toDictionary(options, "Failed to execute 'accept' on 'WebSocket'").allowHalfOpen;
    this.#allowHalfOpen = halfOpen === undefined ? !compat(WEBSOCKET_AUTO_REPLY) : !!halfOpen;
    this.#accepted = true;
    if (this.#remoteId !== null) {
      // The client end of a socket a response handed over (a durable object's 101): the node
      // carries it between the two isolates; this end goes by the negated socket id.
      const remote = this.#remoteId;
      this.#remoteId = null;
      this.#id = -remote;
      localSockets.set(this.#id, this);
      const invocation = H.currentInvocation();
      H.socketClaim(invocation, remote);
      // Accepted in a durable object's event: the socket is the object's and closes with it.
      if (outboundOwner !== null) this.#owner = outboundOwner.claimed(this, Number(invocation)) ?? null;
      return;
    }
    // Both ends of a pair accepted here: the pair is local, and what the peer sent so far arrives.
    const peer = this.#localPeer();
    if (peer !== null) {
      const queued = peer.#queue;
      peer.#queue = [];
      for (const item of queued) WebSocket.#deliver(this, item);
    }
  }

  /** The peer when both ends of a pair are accepted in this isolate (messages go straight across), else null. */
  #localPeer() {
    const peer = this.#peer;
    return peer !== null && peer.#accepted && this.#id === null && peer.#id === null
      && this.#hibernation === null && peer.#hibernation === null ? peer : null;
  }

  /**
   * A message or close frame of a local pair arrives at {@code to} in a later microtask, as from a
   * peer across the network. A close frame gets the automatic close reply unless {@code to} was
   * accepted with allowHalfOpen (workerd's web_socket_auto_reply_to_close), then 'close' fires.
   */
  static #deliver(to, item) {
    PromiseThen(PromiseResolve(undefined), () => {
      if (to.#state === 3 || to.#closeReceived) return;
      if (typeof item === 'object' && item !== null && item.close === true) {
        to.#closeReceived = true;
        if (!to.#closeSent && !to.#allowHalfOpen) {
          to.#closeSent = true;
          WebSocket.#deliver(to.#peer, item);
        }
        to.#state = to.#closeSent ? 3 : 2;
        fire(to, new CloseEvent('close', { code: item.code, reason: item.reason, wasClean: true }));
      } else {
        fire(to, new MessageEvent('message', { data: typeof item === 'string' ? item : binaryData(to, item) }));
      }
    });
  }

  send(message) {
    if (!this.#accepted) {
      throw new TypeError('You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.');
    }
    if (this.#closeSent || this.#state === 3) throw new TypeError("Can't call WebSocket send() after close().");
    if (this.#owner !== null) checkOwner(this.#owner);
    let payload;
    if (typeof message === 'string') {
      if (message.length * 3 > MAX_MESSAGE_BYTES && utf8Encode(message).byteLength > MAX_MESSAGE_BYTES) tooLarge();
      payload = message;
    } else {
      const view = viewBytes(message);
      if (view === null) payload = `${message}`;
      else {
        if (view.byteLength > MAX_MESSAGE_BYTES) tooLarge();
        payload = view.slice();
      }
    }
    const peer = this.#localPeer();
    if (peer !== null) WebSocket.#deliver(peer, payload);
    else if (this.#id === null) this.#queue.push(payload);
    else H.socketSend(this.#id, payload);
  }

  close(code = undefined, reason = undefined) {
    if (code !== undefined) {
      code = Number(code);
      if (!(code === 1000 || (code >= 3000 && code <= 4999))) {
        throw new TypeError(`Invalid WebSocket close code: ${code}. It must be 1000 or in the range 3000-4999.`);
      }
    }
    reason = reason === undefined ? '' : `${reason}`;
    if (this.#client !== null && this.#client.connecting) {
      this.#state = 3; // before the connection is made: it is closed as soon as it is
      return;
    }
    // websocket_close_reason_byte_limit (from 2026-03-03): the WebSocket Standard's limit. Before
    // it, workerd took any length; a close frame holds at most 123 bytes of reason on the wire, so
    // the node is given that much (a local pair's peer still gets all of it).
    const reasonBytes = utf8Encode(reason).byteLength;
    if (reasonBytes > 123 && compat(CLOSE_REASON_LIMIT)) {
      throw new DOMException('WebSocket close reason must not be longer than 123 bytes when UTF-8 encoded.', 'SyntaxError');
    }
    if (this.#closeSent || this.#state === 3) return;
    if (this.#owner !== null) checkOwner(this.#owner);
    this.#closeSent = true;
    this.#state = this.#closeReceived ? 3 : 2;
    const frame = { close: true, code: code ?? 1005, reason };
    const peer = this.#localPeer();
    if (peer !== null) WebSocket.#deliver(peer, frame);
    else if (this.#id === null) this.#queue.push(frame);
    else H.socketClose(this.#id, frame.code, reasonBytes > 123 ? wireReason(reason) : reason);
  }

  serializeAttachment(value) {
    const bytes = serialize(value);
    if (bytes.byteLength > MAX_ATTACHMENT_BYTES) {
      throw new TypeError(`serializeAttachment: the serialized attachment is ${bytes.byteLength} bytes; the limit is ${MAX_ATTACHMENT_BYTES}.`);
    }
    this.#attachment = bytes;
    if (this.#id !== null && this.#hibernation !== null) H.socketAttachment(this.#id, bytes);
  }

  deserializeAttachment() {
    return this.#attachment === null ? null : deserialize(this.#attachment);
  }

  static {
    socketInternals = {
      pair() {
        const a = new WebSocket(INTERNAL), b = new WebSocket(INTERNAL);
        a.#peer = b;
        b.#peer = a;
        return [a, b];
      },
      remote(id) {
        const ws = new WebSocket(INTERNAL);
        ws.#remoteId = id;
        return ws;
      },
      restored(id, tags, attachment, entry, object) {
        const ws = new WebSocket(INTERNAL);
        ws.#id = id;
        ws.#accepted = true;
        ws.#attachment = attachment;
        ws.#hibernation = { entry, object, tags };
        return ws;
      },
      isSocket: (v) => v !== null && typeof v === 'object' && #peer in v,
      /** ctx.acceptWebSocket: the socket joins the object's hibernatable set. */
      acceptHibernatable(ws, entry, object, tags) {
        if (ws.#remoteId !== null || ws.#peer === null) throw new TypeError('acceptWebSocket() needs the server end of a new WebSocketPair.');
        if (ws.#accepted) throw new TypeError('The WebSocket was already accepted.');
        ws.#accepted = true;
        ws.#hibernation = { entry, object, tags };
      },
      hibernation: (ws) => ws.#hibernation,
      id: (ws) => ws.#id,
      /** The local end of a Response's socket gets its id; what it queued leaves now. */
      bind(responseSocket, invocationId) {
        if (responseSocket.#client !== null) {
          throw new TypeError("Can't return WebSocket in a Response if it was created with `new WebSocket()`");
        }
        if (responseSocket.#remoteId !== null) {
          H.socketOpen(invocationId, responseSocket.#remoteId, false, '', null, null);
          return;
        }
        const local = responseSocket.#peer;
        if (local === null || local.#id !== null || responseSocket.#accepted) {
          throw new TypeError('The WebSocket of a 101 Response must be the client end of a new WebSocketPair.');
        }
        local.#id = invocationId;
        const h = local.#hibernation;
        if (h !== null) {
          H.socketOpen(invocationId, invocationId, true, h.tags.join('\n'), h.object.className, h.object.id);
          h.entry.pendingSockets.delete(local);
          h.entry.socketsById.set(invocationId, local);
          if (local.#attachment !== null) H.socketAttachment(invocationId, local.#attachment);
        } else {
          H.socketOpen(invocationId, invocationId, false, '', null, null);
          localSockets.set(invocationId, local);
        }
        const queued = local.#queue;
        local.#queue = [];
        for (const item of queued) {
          if (typeof item === 'object' && item !== null && item.close === true) H.socketClose(invocationId, item.code, wireReason(item.reason));
          else H.socketSend(invocationId, item);
        }
      },
      /**
       * The durable object holding this client end is gone (reset, evicted): the node closes the
       * connection (the server hears 1001) and no event of it fires any more, as in workerd, where
       * the socket dies with the actor's IoContext.
       */
      abandon(ws, reason) {
        if (ws.#id === null || ws.#state === 3) return;
        ws.#state = 3;
        localSockets.delete(ws.#id);
        H.socketClose(ws.#id, 1001, wireReason(reason), true);
      },
      /** The client closed (or the node gave up on) the socket. */
      closed(ws) {
        ws.#state = 3;
        if (ws.#id !== null) localSockets.delete(ws.#id);
        const h = ws.#hibernation;
        if (h !== null && ws.#id !== null) h.entry.socketsById.delete(ws.#id);
      },
    };
  }
}
export { socketInternals };

/** new WebSocket(url, protocols): the Sec-WebSocket-Protocol value, checked as workerd checks it. */
function clientProtocols(protocols) {
  if (protocols === undefined) return '';
  const list = typeof protocols === 'string' ? [protocols] : [...protocols].map((p) => `${p}`);
  if (typeof protocols !== 'string' && list.length === 0) {
    throw new DOMException('WebSocket Constructor: The protocols array cannot be empty.', 'SyntaxError');
  }
  const seen = new Set();
  for (const p of list) {
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(p)) {
      throw new DOMException('WebSocket Constructor: The protocol header token is invalid.', 'SyntaxError');
    }
    if (seen.has(p)) throw new DOMException('WebSocket Constructor: The protocols header cannot have repeating values.', 'SyntaxError');
    seen.add(p);
  }
  return list.join(', ');
}

function tooLarge() {
  throw new RangeError(`WebSocket message too large: the limit is ${MAX_MESSAGE_BYTES} bytes.`);
}

export class WebSocketPair {
  constructor() {
    const [a, b] = socketInternals.pair();
    Object.defineProperty(this, 0, { value: a, enumerable: true });
    Object.defineProperty(this, 1, { value: b, enumerable: true });
  }
  *[Symbol.iterator]() { yield this[0]; yield this[1]; }
}

export class WebSocketRequestResponsePair {
  #request; #response;
  constructor(request, response) {
    if (arguments.length < 2) throw new TypeError("Failed to construct 'WebSocketRequestResponsePair': 2 arguments required.");
    this.#request = `${request}`;
    this.#response = `${response}`;
  }
  get request() { return this.#request; }
  get response() { return this.#response; }
}

function messageData(ev) {
  return ev.text !== null && ev.text !== undefined ? ev.text : bytesToArrayBuffer(ev.data);
}

/** A binary message as the socket's binaryType asks: a Blob or an ArrayBuffer. */
function binaryData(ws, bytes) {
  return ws.binaryType === 'blob' ? new Blob([bytes]) : bytesToArrayBuffer(bytes);
}

const StringCharCodeAt = String.prototype.charCodeAt, StringSlice = String.prototype.slice;

/**
 * A close reason cut to the 123 UTF-8 bytes a close frame holds, on a code point boundary (a lone
 * surrogate counts as the 3 bytes of the U+FFFD it becomes). Intrinsics captured: the worker's
 * code must not be able to make the node's socket send a longer one.
 */
function wireReason(reason) {
  if (reason.length <= 41 || utf8Encode(reason).byteLength <= 123) return reason;
  let bytes = 0, i = 0;
  while (i < reason.length) {
    const c = ReflectApply(StringCharCodeAt, reason, [i]);
    let n = c < 0x80 ? 1 : c < 0x800 ? 2 : 3, units = 1;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < reason.length) {
      const d = ReflectApply(StringCharCodeAt, reason, [i + 1]);
      if (d >= 0xdc00 && d <= 0xdfff) { n = 4; units = 2; }
    }
    if (bytes + n > 123) break;
    bytes += n;
    i += units;
  }
  return ReflectApply(StringSlice, reason, [0, i]);
}

function fire(ws, event) {
  try {
    ws.dispatchEvent(event);
  } catch (err) {
    safeLog('error', `Uncaught ${err && err.stack ? err.stack : err}`);
  }
}

/**
 * Delivers a socket event to a socket accepted with accept() (its listeners); returns the
 * promises async listeners returned (their work goes on after the event is delivered).
 */
export function deliverToListeners(ev) {
  const ws = localSockets.get(ev.id);
  if (ws === undefined) return [];
  return collectingReturns(() => dispatchToListeners(ws, ev));
}

function dispatchToListeners(ws, ev) {
  switch (ev.kind) {
    case 'message': {
      const data = ev.text !== null && ev.text !== undefined ? ev.text : binaryData(ws, ev.data);
      fire(ws, new MessageEvent('message', { data }));
      break;
    }
    case 'close':
      socketInternals.closed(ws);
      fire(ws, new CloseEvent('close', { code: ev.code, reason: ev.reason ?? '', wasClean: ev.code !== 1006 }));
      break;
    default:
      socketInternals.closed(ws);
      fire(ws, new ErrorEvent('error', { message: ev.reason ?? 'WebSocket error' }));
  }
}

/** Delivers a socket event to an object's hibernation handlers, looked up on the instance now. */
export async function deliverToObject(instance, ws, ev) {
  switch (ev.kind) {
    case 'message': {
      const handler = instance.webSocketMessage;
      if (typeof handler === 'function') await ReflectApply(handler, instance, [ws, messageData(ev)]);
      break;
    }
    case 'close': {
      socketInternals.closed(ws);
      const handler = instance.webSocketClose;
      if (typeof handler === 'function') await ReflectApply(handler, instance, [ws, ev.code, ev.reason ?? '', ev.code !== 1006]);
      break;
    }
    default: {
      socketInternals.closed(ws);
      const handler = instance.webSocketError;
      if (typeof handler === 'function') await ReflectApply(handler, instance, [ws, new Error(ev.reason ?? 'WebSocket error')]);
    }
  }
}
