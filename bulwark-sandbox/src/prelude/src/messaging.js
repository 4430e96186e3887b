// MessageChannel, MessagePort and MessageEvent (HTML "Channel messaging"), within one isolate.
// Messages are structured-cloned when posted and delivered in order, each in its own microtask
// turn, to a started port (setting onmessage starts it; addEventListener needs start()).
import { EventTarget, Event } from './events.js';
import { structuredClone } from './structured-clone.js';
import { webidlClass, toDictionary, illegalConstructor, ArrayIsArray, PromiseResolve, PromiseThen } from './util.js';
import { reportException } from './report.js';
import { DOMException } from './dom-exception.js';

export class MessageEvent extends Event {
  #data;
  #origin;
  #lastEventId;
  #source;
  #ports;
  constructor(type, eventInitDict = undefined) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'MessageEvent': 1 argument required, but only 0 present.");
    super(type, eventInitDict);
    const init = toDictionary(eventInitDict, "Failed to construct 'MessageEvent'");
    this.#data = init.data === undefined ? null : init.data;
    this.#origin = init.origin === undefined ? '' : String(init.origin);
    this.#lastEventId = init.lastEventId === undefined ? '' : String(init.lastEventId);
    this.#source = init.source === undefined ? null : init.source;
    this.#ports = Object.freeze(init.ports === undefined ? [] : [...init.ports]);
  }
  get data() { return this.#data; }
  get origin() { return this.#origin; }
  get lastEventId() { return this.#lastEventId; }
  get source() { return this.#source; }
  get ports() { return this.#ports; }
}
webidlClass(MessageEvent);

let constructing = false;
let portInternals;

export class MessagePort extends EventTarget {
  #peer = null;
  #started = false;
  #closed = false;
  #queue = [];
  #scheduled = false;
  #onmessage = null;
  #onmessageerror = null;

  constructor() {
    if (!constructing) illegalConstructor();
    super();
  }

  postMessage(message, transferOrOptions = undefined) {
    if (arguments.length === 0) throw new TypeError("Failed to execute 'postMessage' on 'MessagePort': 1 argument required, but only 0 present.");
    let transfer = [];
    if (ArrayIsArray(transferOrOptions)) transfer = transferOrOptions;
    else if (transferOrOptions !== undefined && transferOrOptions !== null) {
      const t = toDictionary(transferOrOptions, "Failed to execute 'postMessage' on 'MessagePort'").transfer;
      if (t !== undefined) transfer = [...t];
    }
    for (const t of transfer) {
      if (t === this) throw new DOMException('Port at index 0 contains the source port.', 'DataCloneError');
    }
    // Cloned even when there is no one to receive it, so errors are the same either way.
    const data = structuredClone(message, { transfer });
    const peer = this.#peer;
    if (this.#closed || peer === null) return;
    portInternals.enqueue(peer, data);
  }

  start() {
    if (this.#started) return;
    this.#started = true;
    portInternals.schedule(this);
  }

  close() {
    this.#closed = true;
    const peer = this.#peer;
    this.#peer = null;
    if (peer !== null) portInternals.disentangle(peer);
  }

  get onmessage() { return this.#onmessage; }
  set onmessage(v) {
    if (this.#onmessage !== null) this.removeEventListener('message', this.#onmessage);
    this.#onmessage = typeof v === 'function' ? v : null;
    if (this.#onmessage !== null) {
      this.addEventListener('message', this.#onmessage);
      this.start();
    }
  }
  get onmessageerror() { return this.#onmessageerror; }
  set onmessageerror(v) {
    if (this.#onmessageerror !== null) this.removeEventListener('messageerror', this.#onmessageerror);
    this.#onmessageerror = typeof v === 'function' ? v : null;
    if (this.#onmessageerror !== null) this.addEventListener('messageerror', this.#onmessageerror);
  }

  static {
    portInternals = {
      entangle(a, b) { a.#peer = b; b.#peer = a; },
      disentangle(p) { p.#peer = null; },
      enqueue(p, data) {
        p.#queue.push(data);
        portInternals.schedule(p);
      },
      schedule(p) {
        if (!p.#started || p.#scheduled || p.#queue.length === 0) return;
        p.#scheduled = true;
        PromiseThen(PromiseResolve(undefined), () => portInternals.deliver(p));
      },
      deliver(p) {
        p.#scheduled = false;
        if (p.#closed || p.#queue.length === 0) { p.#queue.length = 0; return; }
        const data = p.#queue.shift();
        try {
          p.dispatchEvent(new MessageEvent('message', { data }));
        } catch (err) {
          reportException(err);
        }
        portInternals.schedule(p);
      },
    };
  }
}
webidlClass(MessagePort);

export class MessageChannel {
  #port1;
  #port2;
  constructor() {
    constructing = true;
    try {
      this.#port1 = new MessagePort();
      this.#port2 = new MessagePort();
    } finally {
      constructing = false;
    }
    portInternals.entangle(this.#port1, this.#port2);
  }
  get port1() { return this.#port1; }
  get port2() { return this.#port2; }
}
webidlClass(MessageChannel);
