// cloudflare:sockets: connect(), an outbound TCP connection as in Workers. The sandbox has no
// network: the node's egress gateway opens the connection (its policy must allow the host and
// port by a rule naming "tcp"; loopback, private and metadata addresses are denied as for
// fetch()) and carries it as a streamed subrequest used as a tunnel (TcpTunnel in the node): its
// head is the socket's `opened`; its body, acknowledged as it is read (the node never reads more
// than a window ahead of the worker), the readable side; the pieces the node pulls are what the
// writable side was given, then a startTls() or the end, in order (a Connection). A socket belongs
// to the invocation that made it and is closed when that invocation ends.
//
// connect() on a fetcher (a service binding, a ctx.exports entrypoint, a dynamic worker's
// entrypoint, a stub passed on, and cloudflare:sockets' connect() of a worker whose globalOutbound
// is a fetcher) is the same socket over a call instead of the egress gateway: a streamed CONNECT to
// the callee's connect handler, whose request body is what this side writes and whose response
// body is what the callee writes (the node's CallRelay carries both with their windows). The
// callee's side is an accepted socket (acceptSocket) over its invocation's request and response.
import { H } from './host.js';
import { PromiseCtor, PromiseResolve, PromiseReject, PromiseThen, viewBytes, isObjectLike, GLOBAL_SCOPE_IO } from './util.js';
import { WritableStream } from './streams-core.js';
import { unboundBodyStream, startUploadSource, endUpload, detachBody, sendBodyPiece, newCallToken } from './egress.js';
import { hasGlobalOutbound, outboundConnect } from './services.js';
import { parseURL } from './url.js';
import { bindConnect } from './caps.js';

const MAX_ADDRESS = 255;
/** The largest piece answered to one pull of the node. */
const PIECE = 64 * 1024;
const CONNECT_FAILED = 'proxy request failed, cannot connect to the specified address';
const HTTP_PORT_HINT = '. It looks like you might be trying to connect to a HTTP-based service — consider using fetch instead';
const CONSTRUCT = Symbol('Socket');
const connections = new Map(); // subrequest id -> Connection

/** workerd's check of an address: its length and characters (not whether it resolves). */
function isValidAddress(s) {
  return s.length > 0 && s.length <= MAX_ADDRESS && /^[A-Za-z0-9\-._[\]:]+$/.test(s);
}

/** `address` ("host:port" or {hostname, port}) as {hostname, port, text}; TypeErrors in workerd's words. */
function parseAddress(address) {
  let hostname, port, text;
  if (typeof address === 'string') {
    if (!isValidAddress(address)) {
      throw new TypeError('Specified address is empty string, contains unsupported characters or is too long.');
    }
    const url = parseURL(`fake://${address}`);
    if (url === null) throw new TypeError('Specified address could not be parsed.');
    hostname = url.host === null ? '' : `${url.host}`;
    if (hostname === '') throw new TypeError('Specified address is missing hostname.');
    if (url.port === null) throw new TypeError('Specified address is missing port.');
    port = url.port;
    text = address;
  } else if (isObjectLike(address)) {
    hostname = `${address.hostname}`;
    port = Number(address.port);
    text = `${hostname}:${address.port}`;
    if (!isValidAddress(text)) {
      throw new TypeError('Specified address is empty string, contains unsupported characters or is too long.');
    }
  } else {
    throw new TypeError('Specified address could not be parsed.');
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError(`Specified address has an invalid port: ${port}`);
  return { hostname, port, text };
}

function parseSecureTransport(options) {
  const value = !isObjectLike(options) || options.secureTransport === undefined ? 'off' : `${options.secureTransport}`;
  if (value !== 'off' && value !== 'on' && value !== 'starttls') {
    throw new TypeError(`Unsupported value in secureTransport socket option: ${value}`);
  }
  return value;
}

function closedError() {
  return new TypeError('The socket is closed.');
}

function messageOf(err) {
  return err !== null && typeof err === 'object' && typeof err.message === 'string' ? err.message : `${err}`;
}

/**
 * One connection's outgoing side, as the node pulls it: one item per pull, in the order they were
 * given (so a startTls() comes after every byte written before it, and the end after everything).
 * Items: {kind: 'bytes', bytes, offset, resolve, reject}, {kind: 'tls'}, {kind: 'end', resolve},
 * {kind: 'error', message}.
 */
class Connection {
  /**
   * {@code id}: the subrequest's (egress) or call's id, 0 until a call is sent ({@link bind});
   * {@code key}: what the node's pulls name its upload by (the id, or a call's token); {@code egress}:
   * the egress gateway's connection (it pulls as fast as the network takes, and can start TLS), or
   * a call's to a worker's connect handler (pulled as the handler reads; no TLS).
   */
  constructor(id, invocation, key = id, egress = true) {
    this.id = 0;
    this.key = key;
    this.egress = egress;
    this.items = [];
    this.pulled = false;
    this.ended = false;   // the end (or an error) was sent: nothing more goes out
    this.peerGone = false; // the other worker's invocation is over: nothing more is pulled
    this.reason = null;   // why, when it was canceled from here
    this.released = false;
    this.body = null;
    this.tlsStarted = undefined; // resolves the upgraded socket's opening, while the handshake runs
    startUploadSource(key, invocation, this);
    if (id !== 0) this.bind(id);
  }

  /** The readable side: the body of the subrequest or call. */
  readable(ended, onCancel) {
    this.body = unboundBodyStream(ended, onCancel);
    if (this.id !== 0) this.body.bind(this.id);
    return this.body.stream;
  }

  /** The subrequest or call went out as {@code id}. */
  bind(id) {
    if (this.released) {
      try { H.subrequestCancel(id); } catch { /* the invocation is over */ }
      return;
    }
    this.id = id;
    connections.set(id, this);
    if (this.body !== null) this.body.bind(id);
    this.serve(); // an end queued before the call went out
  }

  /** The readable side ends (error null: after what it holds) or fails. */
  endRead(error) {
    if (this.body !== null) this.body.end(error);
  }

  /** What is queued to be written, and what comes, rejects with {@code reason}. */
  dropWrites(reason) {
    endUpload(this.key, reason);
  }

  /** The node closes the connection (or the call), and the host forgets it. */
  release() {
    this.released = true;
    if (this.id === 0) return;
    connections.delete(this.id);
    try { H.subrequestCancel(this.id); } catch { /* the invocation is over */ }
  }

  /** startTls(): the plain readable side closes where it is. */
  detachReadable() {
    detachBody(this.id);
  }

  send(item) {
    if (this.ended) {
      // Ending the writes to a peer that is gone is no error (its end was never pulled).
      if (this.peerGone && item.kind === 'end') item.resolve();
      else if (item.reject !== undefined) item.reject(this.reason);
      return;
    }
    this.items.push(item);
    this.serve();
  }

  /** The worker on the other side is done (its invocation is over): writes fail, an end is done. */
  peerDone() {
    if (this.ended) return;
    this.peerGone = true;
    this.ended = true;
    this.reason = closedError();
    const rest = this.items;
    this.items = [];
    for (const item of rest) {
      if (item.kind === 'end') item.resolve();
      else if (item.reject !== undefined) item.reject(this.reason);
    }
  }

  /** The node asks for the next item. */
  pull() {
    this.pulled = true;
    this.serve();
  }

  /** Nothing more goes out (the invocation ended, or the socket failed): what is queued rejects with `reason`. */
  cancel(reason) {
    if (this.id !== 0) connections.delete(this.id);
    if (this.ended) return;
    this.#end(reason ?? closedError());
  }

  /** The end (or an error) went out, or the connection is gone: whatever was queued behind it rejects. */
  #end(reason) {
    this.ended = true;
    this.reason = reason;
    const rest = this.items;
    this.items = [];
    for (const item of rest) if (item.reject !== undefined) item.reject(reason);
  }

  serve() {
    if (this.ended || this.id === 0 || this.items.length === 0) return;
    const item = this.items[0];
    // A call's end (or abort) goes without waiting for a pull: the node keeps it for the callee's
    // next read (CallRelay), so closing never waits on a handler that does not read.
    if (!this.pulled && (this.egress || (item.kind !== 'end' && item.kind !== 'error'))) return;
    this.pulled = false;
    switch (item.kind) {
      case 'bytes': {
        const piece = item.bytes.subarray(item.offset, item.offset + PIECE);
        item.offset += piece.byteLength;
        if (item.offset >= item.bytes.byteLength) {
          this.items.shift();
          item.resolve();
        }
        sendBodyPiece(this.id, piece);
        return;
      }
      case 'tls':
        this.items.shift();
        H.subrequestStartTls(this.id);
        return;
      case 'end':
        this.items.shift();
        this.#end(closedError());
        H.subrequestBodyEnd(this.id, null);
        item.resolve();
        return;
      case 'error':
        this.items.shift();
        this.#end(new TypeError(item.message));
        H.subrequestBodyEnd(this.id, item.message);
        return;
    }
  }
}

export class Socket {
  #conn;
  #readable;
  #writable;
  #info;     // what `opened` resolves with: {remoteAddress, localAddress}
  #opened;
  #resolveOpened;
  #rejectOpened;
  #closed;
  #resolveClosed;
  #rejectClosed;
  #secureTransport;
  #allowHalfOpen;
  #over = false;       // closed, failed or upgraded: `closed` has settled
  #readDone = false;
  #writeDone = false;
  #closing = false;
  #upgraded = false;
  // startTls() flushes what was written before it (workerd flushes the writable side first): writes
  // are counted as they enter the writable's queue (its strategy's size()) and as they reach the
  // sink; the ones counted before startTls() still go out plain, then the TLS request.
  #accepted = 0;
  #delivered = 0;
  #plainUntil = -1; // after startTls(): the last write that still goes out before TLS starts
  #sendTls = null; // after startTls(): queues the TLS request (behind those writes) and lets the new socket write

  /**
   * {@code conn}: the wire (a Connection, or an InboundWire for a connect handler's socket);
   * {@code whenOpen} settles when the connection is open or failed, {@code openError} makes the
   * error `opened` and `closed` reject with from its failure.
   */
  constructor(token, conn, info, secureTransport, allowHalfOpen, whenOpen, openError, writable = null) {
    if (token !== CONSTRUCT) throw new TypeError('Illegal constructor');
    this.#conn = conn;
    this.#info = info;
    this.#secureTransport = secureTransport;
    this.#allowHalfOpen = allowHalfOpen;
    this.#opened = new PromiseCtor((resolve, reject) => { this.#resolveOpened = resolve; this.#rejectOpened = reject; });
    this.#closed = new PromiseCtor((resolve, reject) => { this.#resolveClosed = resolve; this.#rejectClosed = reject; });
    // Unobserved failures are not unhandled rejections.
    PromiseThen(this.#opened, undefined, () => {});
    PromiseThen(this.#closed, undefined, () => {});
    PromiseThen(whenOpen, () => this.#resolveOpened({ remoteAddress: info.remoteAddress, localAddress: info.localAddress }),
      (err) => this.#fail(openError(err)));
    // The readable side: the peer's bytes; canceling it closes the socket.
    this.#readable = conn.readable((how) => this.#readEnded(how), () => { this.close(); });
    // The writable side: bytes only, copied when written (the worker may reuse its buffer before
    // the node pulls it); a write settles when the node has taken it.
    const self = this;
    // {@code writable}: for the socket startTls() returns, settles once the TLS request is queued
    // (its writes go after it).
    this.#writable = new WritableStream({
      write(chunk) {
        const n = ++self.#delivered;
        if (self.#upgraded && n > self.#plainUntil) {
          throw new TypeError('This socket was upgraded by startTls(): write to the socket it returned.');
        }
        const view = isObjectLike(chunk) ? viewBytes(chunk) : null;
        if (view === null) {
          // The writable side errors for good: the connection goes with it.
          const err = new TypeError('This WritableStream only supports writing byte types.');
          self.#fail(err);
          self.#tlsAfter(n);
          throw err;
        }
        const bytes = view.slice();
        const send = () => new PromiseCtor((resolve, reject) => {
          conn.send({ kind: 'bytes', bytes, offset: 0, resolve, reject });
          self.#tlsAfter(n);
        });
        return writable === null ? send() : PromiseThen(writable, send);
      },
      close() { return writable === null ? self.#endWrites() : PromiseThen(writable, () => self.#endWrites()); },
      abort(reason) {
        const send = () => conn.send({ kind: 'error', message: messageOf(reason) });
        if (writable === null) send();
        else PromiseThen(writable, send);
      },
    }, { highWaterMark: 1, size() { self.#accepted++; return 1; } });
  }

  get readable() { return this.#readable; }
  get writable() { return this.#writable; }
  get opened() { return this.#opened; }
  get closed() { return this.#closed; }
  get upgraded() { return this.#upgraded; }
  get secureTransport() { return this.#secureTransport; }

  /**
   * Closes the socket: what was written before is sent, then both sides close. The promise settles
   * (fulfilled) once `closed` has, whether the connection ended well or not.
   */
  close() {
    if (!this.#over && !this.#closing) {
      this.#closing = true;
      if (this.#writeDone) this.#settle();
      else PromiseThen(this.#endWrites(), undefined, () => {});
    }
    return PromiseThen(this.#closed, () => undefined, () => undefined);
  }

  /**
   * Starts TLS on a socket opened with secureTransport "starttls", after everything written to it
   * so far: this socket's sides close where they are (`closed` resolves, `upgraded` is true) and
   * the returned socket carries the connection over TLS (the server's name is the one connected to).
   */
  startTls(options = undefined) {
    if (this.#secureTransport === 'on') throw new TypeError('Cannot startTls on a TLS socket.');
    if (this.#secureTransport !== 'starttls') {
      throw new TypeError("The `secureTransport` socket option must be set to 'starttls' for startTls to be used.");
    }
    if (this.#upgraded) throw new TypeError('startTls has already been called on this socket.');
    if (this.#over || this.#closing || this.#conn.ended) {
      throw new TypeError('The connection was closed before startTls could be started.');
    }
    if (isObjectLike(options) && options.expectedServerHostname !== undefined) {
      throw new TypeError('The expectedServerHostname option is not currently supported in startTls.');
    }
    // A worker's connect handler has no TLS to start (workerd's has none either).
    if (!this.#conn.egress) throw new TypeError('startTls() is not supported on a socket to a worker\'s connect handler.');
    this.#upgraded = true;
    this.#over = true;
    this.#conn.detachReadable();
    const whenOpen = new PromiseCtor((resolve) => { this.#conn.tlsStarted = resolve; });
    const tlsQueued = new PromiseCtor((resolve) => { this.#sendTls = resolve; });
    const next = new Socket(CONSTRUCT, this.#conn, this.#info, 'on', this.#allowHalfOpen, whenOpen, egressOpenError,
      tlsQueued);
    // The writes already in the writable's queue go first (the sink takes them one by one).
    this.#plainUntil = this.#accepted;
    this.#tlsAfter(this.#delivered);
    this.#resolveClosed();
    return next;
  }

  /** Write {@code n} reached the connection's queue (or failed): the TLS request goes behind the last plain one. */
  #tlsAfter(n) {
    if (this.#sendTls === null || n < this.#plainUntil) return;
    const resolve = this.#sendTls;
    this.#sendTls = null;
    this.#conn.send({ kind: 'tls' });
    resolve();
  }

  /** The end of the writable side goes after what was written; settles once the node has it. */
  #endWrites() {
    return new PromiseCtor((resolve, reject) => this.#conn.send({
      kind: 'end',
      resolve: () => { this.#writeDone = true; this.#settle(); resolve(); },
      reject,
    }));
  }

  /** The peer ended its side (how null), or the connection broke (how: the error). */
  #readEnded(how) {
    if (how !== null) {
      this.#fail(how);
      return;
    }
    this.#readDone = true;
    // As Workers: the writable side closes when the readable side ends, unless allowHalfOpen.
    if (!this.#allowHalfOpen) this.close();
    else this.#settle();
  }

  /** Both sides are over (or close() asked and the writes are out): the connection closes. */
  #settle() {
    if (this.#over || !this.#writeDone || !(this.#readDone || this.#closing)) return;
    this.#over = true;
    this.#conn.endRead(null); // a readable side still open closes after what it holds
    this.#conn.release();
    this.#resolveClosed();
  }

  #fail(reason) {
    if (this.#over) return;
    this.#over = true;
    this.#rejectOpened(reason); // no-op once opened
    this.#conn.endRead(messageOf(reason));
    this.#conn.dropWrites(reason); // writes pending or to come reject with the same reason
    this.#conn.release();
    this.#rejectClosed(reason);
  }
}

Object.defineProperty(Socket.prototype, Symbol.toStringTag, { value: 'Socket', configurable: true });

function egressOpenError(err) {
  return new Error(`${CONNECT_FAILED}: ${messageOf(err)}`);
}

/** The node finished the TLS handshake a startTls() asked for: the new socket is open. */
export function socketTlsStarted(id) {
  const conn = connections.get(id);
  if (conn === undefined || conn.tlsStarted === undefined) return;
  const resolve = conn.tlsStarted;
  conn.tlsStarted = undefined;
  resolve();
}

/** connect(address, options) of cloudflare:sockets. */
export function connect(address, options = undefined) {
  // workerd's: a worker whose globalOutbound is a fetcher connects through that fetcher's connect handler.
  if (hasGlobalOutbound()) return outboundConnect(address, options);
  const { hostname, port, text } = parseAddress(address);
  const secureTransport = parseSecureTransport(options);
  const allowHalfOpen = isObjectLike(options) && options.allowHalfOpen === true;
  const invocation = callingInvocation();
  const host = hostname.includes(':') && !hostname.startsWith('[') ? `[${hostname}]` : hostname;
  // The node connects plain (tcp), with TLS at once (tls), or plain until startTls() (starttls).
  const scheme = secureTransport === 'off' ? 'tcp' : secureTransport === 'on' ? 'tls' : 'starttls';
  const url = `${scheme}://${host}:${port}`;
  const [answer, id] = H.fetch('CONNECT', url, [], null, invocation, true);
  const conn = new Connection(Number(id), invocation);
  return new Socket(CONSTRUCT, conn, { remoteAddress: text, localAddress: undefined }, secureTransport, allowHalfOpen,
    answer, egressOpenError);
}

function callingInvocation() {
  let invocation = 0;
  try { invocation = Number(H.currentInvocation() || 0); } catch { /* outside any invocation */ }
  if (invocation === 0) throw new Error(GLOBAL_SCOPE_IO);
  return invocation;
}

/**
 * connect(address, options) on a fetcher: {@code start(method, url, headerLines, token)} sends the
 * call as the fetcher's fetch() would (the host function of its kind), answering
 * [answerPromise, callId], or a promise of that when the callee must be loaded first. The address
 * goes to the callee as the call's URL (its socket's `localAddress`). Failures are workerd's: the
 * callee's reason does not reach the caller.
 */
export function fetcherConnect(start, address, options = undefined) {
  const { port, text } = parseAddress(address);
  const secureTransport = parseSecureTransport(options);
  const allowHalfOpen = isObjectLike(options) && options.allowHalfOpen === true;
  const invocation = callingInvocation();
  const failed = () => new Error(port === 443 || port === 80 ? `${CONNECT_FAILED}${HTTP_PORT_HINT}` : CONNECT_FAILED);
  const token = newCallToken();
  const conn = new Connection(0, invocation, token, false);
  const info = { remoteAddress: text, localAddress: undefined };
  let whenOpen;
  if (secureTransport === 'on') {
    // A connect handler takes no TLS (workerd: "Incoming CONNECT with TLS not supported"): nothing is sent.
    whenOpen = PromiseReject(failed());
  } else {
    let sent;
    try {
      sent = start('CONNECT', text, '', token);
    } catch (err) {
      endUpload(token);
      throw err;
    }
    whenOpen = PromiseThen(PromiseResolve(sent), ([answer, id]) => {
      conn.bind(Number(id));
      return PromiseThen(answer, (head) => {
        if (head.status < 200 || head.status >= 300) throw failed();
      });
    });
  }
  return new Socket(CONSTRUCT, conn, info, secureTransport, allowHalfOpen, whenOpen, failed);
}

/**
 * The callee's side of a connect() call (what a connect handler receives). {@code io}, from the
 * runtime, is its invocation's request and response: {@code readable(ended, onCancel)} (the
 * caller's writes), {@code write(bytes)} (a promise, settled when the node has taken them),
 * {@code end()} (the response's end: the caller reads its end of stream) and
 * {@code stopReading(error)}.
 */
class InboundWire {
  constructor(io) {
    this.io = io;
    this.egress = false;
    this.ended = false;
    this.reason = null;
    this.chain = PromiseResolve();
  }

  readable(ended, onCancel) { return this.io.readable(ended, onCancel); }

  /** Bytes and the end go out in order, one after the other (a write waits for the node's window). */
  send(item) {
    if (this.ended) {
      if (item.kind === 'end') item.resolve();
      else if (item.reject !== undefined) item.reject(this.reason ?? closedError());
      return;
    }
    switch (item.kind) {
      case 'bytes':
        this.chain = PromiseThen(this.chain, () => {
          if (this.ended) { item.reject(this.reason ?? closedError()); return undefined; }
          return PromiseThen(this.io.write(item.bytes), item.resolve, item.reject);
        });
        return;
      case 'end':
      case 'error':
        // An abort ends the stream too: the caller reads its end (the reason does not cross).
        this.chain = PromiseThen(this.chain, () => {
          this.#finish(closedError());
          if (item.resolve !== undefined) item.resolve();
        });
        return;
      case 'tls':
        return;
    }
  }

  #finish(reason) {
    if (this.ended) return;
    this.ended = true;
    this.reason = reason;
    this.io.end();
  }

  endRead(error) { this.io.stopReading(error); }
  dropWrites(reason) { this.#finish(reason); }
  release() {
    this.#finish(closedError());
    this.io.stopReading(null);
  }
  detachReadable() {}
}

/**
 * The socket a connect handler receives, over {@code io} (see InboundWire), open at once: its
 * `opened` has the address the caller connected to as `localAddress`, as workerd's. Not half-open,
 * as workerd's: the caller's end of stream closes its writable side. Returns the socket and the
 * function that ends the connection when the handler is done.
 */
export function acceptSocket(io, address) {
  const wire = new InboundWire(io);
  const socket = new Socket(CONSTRUCT, wire, { remoteAddress: undefined, localAddress: address }, 'off', false,
    PromiseResolve(), closedError);
  return [socket, () => wire.release()];
}
bindConnect(fetcherConnect);
