// cloudflare:email. The Agents SDK imports EmailMessage at load time; a send_email binding (not
// provided by Bulwark yet) is what would carry one. A missing module would fail the whole worker.
export class EmailMessage {
  #from;
  #to;
  #raw;
  constructor(from, to, raw) {
    if (arguments.length < 3) throw new TypeError(`Failed to construct 'EmailMessage': 3 arguments required, but only ${arguments.length} present.`);
    this.#from = `${from}`;
    this.#to = `${to}`;
    this.#raw = raw;
  }
  get from() { return this.#from; }
  get to() { return this.#to; }
  get raw() { return this.#raw; }
}
Object.defineProperty(EmailMessage.prototype, Symbol.toStringTag, { value: 'EmailMessage', configurable: true });
