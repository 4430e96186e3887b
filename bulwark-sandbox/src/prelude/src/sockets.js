// cloudflare:sockets: connect(), an outbound TCP connection as in Workers. The sandbox has no
// network: the node's egress gateway opens the connection (its policy must allow the host and
// port by a rule naming "tcp"; loopback, private and metadata addresses are denied as for
// fetch()) and carries it as a streamed subrequest used as a tunnel (TcpTunnel in the node): its
// head is the socket's `opened`; its body, acknowledged as it is read (the node never reads more
// than a window ahead of the worker), the readable side; the pieces the node pulls are what the
// writable side was given, then a startTls() or the end, in order (a Connection). A socket belongs
// to the invocation that made it and is closed when that invocation ends.
import { H } from './host.js';
import { PromiseCtor, PromiseThen, viewBytes, isObjectLike, GLOBAL_SCOPE_IO } from './util.js';
import { WritableStream } from './streams-core.js';
import { subrequestBodyStream, subrequestEnd, startUploadSource, endUpload, detachBody, sendBodyPiece } from './egress.js';
import { hasGlobalOutbound } from './services.js';
import { parseURL } from './url.js';

const MAX_ADDRESS = 255;
/** The largest piece answered to one pull of the node. */
const PIECE = 64 * 1024;
const CONNECT_FAILED = 'proxy request failed, cannot connect to the specified address';
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
  constructor(id, invocation) {
    this.id = id;
    this.items = [];
    this.pulled = false;
    this.ended = false;   // the end (or an error) was sent: nothing more goes out
    this.reason = null;   // why, when it was canceled from here
    this.tlsStarted = undefined; // resolves the upgraded socket's opening, while the handshake runs
    connections.set(id, this);
    startUploadSource(id, invocation, this);
  }

  send(item) {
    if (this.ended) {
      if (item.reject !== undefined) item.reject(this.reason);
      return;
    }
    this.items.push(item);
    this.serve();
  }

  /** The node asks for the next item. */
  pull() {
    this.pulled = true;
    this.serve();
  }

  /** Nothing more goes out (the invocation ended, or the socket failed): what is queued rejects with `reason`. */
  cancel(reason) {
    connections.delete(this.id);
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
    if (!this.pulled || this.ended || this.items.length === 0) return;
    this.pulled = false;
    const item = this.items[0];
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
  #address;
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

  constructor(token, conn, address, secureTransport, allowHalfOpen, whenOpen) {
    if (token !== CONSTRUCT) throw new TypeError('Illegal constructor');
    this.#conn = conn;
    this.#address = address;
    this.#secureTransport = secureTransport;
    this.#allowHalfOpen = allowHalfOpen;
    this.#opened = new PromiseCtor((resolve, reject) => { this.#resolveOpened = resolve; this.#rejectOpened = reject; });
    this.#closed = new PromiseCtor((resolve, reject) => { this.#resolveClosed = resolve; this.#rejectClosed = reject; });
    // Unobserved failures are not unhandled rejections.
    PromiseThen(this.#opened, undefined, () => {});
    PromiseThen(this.#closed, undefined, () => {});
    PromiseThen(whenOpen, () => this.#resolveOpened({ remoteAddress: address, localAddress: undefined }),
      (err) => this.#fail(new Error(`${CONNECT_FAILED}: ${messageOf(err)}`)));
    // The readable side: the peer's bytes; canceling it closes the socket.
    this.#readable = subrequestBodyStream(conn.id, (how) => this.#readEnded(how), () => { this.close(); });
    // The writable side: bytes only, copied when written (the worker may reuse its buffer before
    // the node pulls it); a write settles when the node has taken it.
    const self = this;
    this.#writable = new WritableStream({
      write(chunk) {
        if (self.#upgraded) throw new TypeError('This socket was upgraded by startTls(): write to the socket it returned.');
        const view = isObjectLike(chunk) ? viewBytes(chunk) : null;
        if (view === null) {
          // The writable side errors for good: the connection goes with it.
          const err = new TypeError('This WritableStream only supports writing byte types.');
          self.#fail(err);
          throw err;
        }
        return new PromiseCtor((resolve, reject) => conn.send({ kind: 'bytes', bytes: view.slice(), offset: 0, resolve, reject }));
      },
      close() { return self.#endWrites(); },
      abort(reason) { conn.send({ kind: 'error', message: messageOf(reason) }); },
    });
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
    this.#upgraded = true;
    this.#over = true;
    detachBody(this.#conn.id);
    const whenOpen = new PromiseCtor((resolve) => { this.#conn.tlsStarted = resolve; });
    const next = new Socket(CONSTRUCT, this.#conn, this.#address, 'on', this.#allowHalfOpen, whenOpen);
    this.#conn.send({ kind: 'tls' });
    this.#resolveClosed();
    return next;
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
    subrequestEnd(this.#conn.id, null); // a readable side still open closes after what it holds
    this.#release();
    this.#resolveClosed();
  }

  #fail(reason) {
    if (this.#over) return;
    this.#over = true;
    this.#rejectOpened(reason); // no-op once opened
    subrequestEnd(this.#conn.id, messageOf(reason));
    endUpload(this.#conn.id, reason); // writes pending or to come reject with the same reason
    this.#release();
    this.#rejectClosed(reason);
  }

  /** The node closes the connection, and the host forgets the socket. */
  #release() {
    connections.delete(this.#conn.id);
    try { H.subrequestCancel(this.#conn.id); } catch { /* the invocation is over */ }
  }
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
  const { hostname, port, text } = parseAddress(address);
  const secureTransport = parseSecureTransport(options);
  const allowHalfOpen = isObjectLike(options) && options.allowHalfOpen === true;
  if (hasGlobalOutbound()) {
    throw new TypeError("connect() is not available to a worker whose globalOutbound is a fetcher: "
      + "its outbound traffic goes through that fetcher's fetch().");
  }
  let invocation = 0;
  try { invocation = H.currentInvocation() || 0; } catch { /* outside any invocation */ }
  if (invocation === 0) throw new Error(GLOBAL_SCOPE_IO);
  const host = hostname.includes(':') && !hostname.startsWith('[') ? `[${hostname}]` : hostname;
  // The node connects plain (tcp), with TLS at once (tls), or plain until startTls() (starttls).
  const scheme = secureTransport === 'off' ? 'tcp' : secureTransport === 'on' ? 'tls' : 'starttls';
  const url = `${scheme}://${host}:${port}`;
  const [answer, id] = H.fetch('CONNECT', url, [], null, invocation, true);
  const conn = new Connection(Number(id), Number(invocation));
  return new Socket(CONSTRUCT, conn, text, secureTransport, allowHalfOpen, answer);
}
