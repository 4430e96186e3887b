// cloudflare:sockets: connect(), an outbound TCP connection as in Workers. The sandbox has no
// network: the node's egress gateway opens the connection (its policy must allow the host and
// port by a rule naming "tcp"; loopback, private and metadata addresses are denied as for
// fetch()) and carries it as a streamed subrequest used as a tunnel (TcpTunnel in the node): its
// head is the socket's `opened`; its body, acknowledged as it is read (the node never reads more
// than a window ahead of the worker), the readable side; its request body, pulled by the node one
// piece at a time, the writable side. A socket belongs to the invocation that made it and is
// closed when that invocation ends.
import { H } from './host.js';
import { PromiseCtor, PromiseThen, viewBytes, isObjectLike, GLOBAL_SCOPE_IO } from './util.js';
import { TransformStream, getWriter, writerCloseStream, isWritableLocked } from './streams-core.js';
import { subrequestBodyStream, subrequestEnd, startUpload, endUpload } from './egress.js';
import { hasGlobalOutbound } from './services.js';
import { parseURL } from './url.js';

const MAX_ADDRESS = 255;
const CONNECT_FAILED = 'proxy request failed, cannot connect to the specified address';
const CONSTRUCT = Symbol('Socket');

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

function messageOf(err) {
  return err !== null && typeof err === 'object' && typeof err.message === 'string' ? err.message : `${err}`;
}

export class Socket {
  #id;
  #readable;
  #writable;
  #opened;
  #closed;
  #resolveClosed;
  #rejectClosed;
  #secureTransport;
  #allowHalfOpen;
  #over = false;
  #readDone = false;
  #writeDone = false;
  #closing = null;

  constructor(token, id, answer, address, secureTransport, allowHalfOpen, invocation) {
    if (token !== CONSTRUCT) throw new TypeError('Illegal constructor');
    this.#id = id;
    this.#secureTransport = secureTransport;
    this.#allowHalfOpen = allowHalfOpen;
    this.#closed = new PromiseCtor((resolve, reject) => { this.#resolveClosed = resolve; this.#rejectClosed = reject; });
    PromiseThen(this.#closed, undefined, () => {}); // an unobserved failure is not an unhandled rejection
    // The readable side: the peer's bytes; its end is the end of the peer's side. Canceling it closes the socket.
    this.#readable = subrequestBodyStream(id, (how) => this.#readEnded(how), () => { this.close(); });
    // The writable side: bytes only, copied when written (the worker may reuse its buffer before the node pulls it).
    const ts = new TransformStream({
      transform(chunk, controller) {
        const view = isObjectLike(chunk) ? viewBytes(chunk) : null;
        if (view === null) throw new TypeError('This WritableStream only supports writing byte types.');
        controller.enqueue(view.slice());
      },
    });
    this.#writable = ts.writable;
    startUpload(id, ts.readable, invocation, (how) => this.#writeEnded(how));
    this.#opened = PromiseThen(answer, () => ({ remoteAddress: address, localAddress: undefined }), (err) => {
      const reason = new Error(`${CONNECT_FAILED}: ${messageOf(err)}`);
      this.#fail(reason);
      throw reason;
    });
    PromiseThen(this.#opened, undefined, () => {});
  }

  get readable() { return this.#readable; }
  get writable() { return this.#writable; }
  get opened() { return this.#opened; }
  get closed() { return this.#closed; }
  get upgraded() { return false; }
  get secureTransport() { return this.#secureTransport; }

  /**
   * Closes the socket: what was written is sent first when the writable side is not held by a
   * writer (else what is still queued is dropped), then both sides close. Returns `closed`.
   */
  close() {
    if (this.#over || this.#closing !== null) return this.#closed;
    this.#closing = true;
    if (!this.#writeDone && !isWritableLocked(this.#writable)) {
      PromiseThen(writerCloseStream(getWriter(this.#writable)), undefined, () => endUpload(this.#id));
    } else {
      endUpload(this.#id);
    }
    return this.#closed;
  }

  startTls() {
    if (this.#secureTransport === 'on') throw new TypeError('Cannot startTls on a TLS socket.');
    if (this.#secureTransport !== 'starttls') {
      throw new TypeError("The `secureTransport` socket option must be set to 'starttls' for startTls to be used.");
    }
    throw new TypeError('startTls() is not supported by Bulwark yet; connect with secureTransport: "on" instead.');
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

  /** The node has the writable side's end (how null), or it ended otherwise (how: why). */
  #writeEnded(how) {
    this.#writeDone = true;
    // A broken writable (a non-byte chunk, an abort) breaks the connection: the node says so on the readable side.
    if (how === null || this.#closing !== null) this.#settle();
  }

  #settle() {
    if (this.#over || !this.#writeDone || !(this.#readDone || this.#closing !== null)) return;
    this.#over = true;
    subrequestEnd(this.#id, null); // a readable side still open closes after what it holds
    this.#release();
    this.#resolveClosed();
  }

  #fail(reason) {
    if (this.#over) return;
    this.#over = true;
    subrequestEnd(this.#id, messageOf(reason));
    endUpload(this.#id, reason); // writes pending or to come reject with the same reason
    this.#release();
    this.#rejectClosed(reason);
  }

  /** The node closes the connection, and the host forgets the socket. */
  #release() {
    try { H.subrequestCancel(this.#id); } catch { /* the invocation is over */ }
  }
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
  const url = `${secureTransport === 'on' ? 'tls' : 'tcp'}://${host}:${port}`;
  const [answer, id] = H.fetch('CONNECT', url, [], null, invocation, true);
  return new Socket(CONSTRUCT, Number(id), answer, text, secureTransport, allowHalfOpen, Number(invocation));
}
