export class MyError extends Error { constructor(m) { super(m); this.name = 'MyError'; } }
export function make(kind) {
  switch (kind) {
    case 'error': return new Error('plain boom');
    case 'type': return new TypeError('type boom');
    case 'range': return new RangeError('range boom');
    case 'custom': return new MyError('custom boom');
    case 'string': return 'string boom';
    case 'object': return { a: 1, msg: 'object boom' };
    case 'number': return 42;
    case 'undefined': return undefined;
    case 'props': { const e = new Error('props boom'); e.code = 'E_X'; e.detail = { x: 1 }; e.num = 7; return e; }
    case 'dom': return new DOMException('dom boom', 'NotFoundError');
    case 'agg': return new AggregateError([new Error('a')], 'agg boom');
    case 'cause': return new Error('cause boom', { cause: new Error('inner') });
    case 'protoname': { class P extends Error {} P.prototype.name = 'ProtoName'; return new P('proto boom'); }
    case 'nomsg': return new Error();
    case 'fnprop': { const e = new Error('fn boom'); e.f = () => 1; return e; }
    case 'getter': { const e = new Error('getter boom'); Object.defineProperty(e, 'g', { get() { return 5; }, enumerable: true }); Object.defineProperty(e, 'hidden', { value: 9, enumerable: false }); return e; }
    case 'null': return null;
    case 'nested': { const e = new Error('nested boom'); e.inner = new TypeError('inner t'); e.inner.k = 1; return e; }
    case 'eval': return new EvalError('eval boom');
    case 'syntax': return new SyntaxError('syntax boom');
    case 'ref': return new ReferenceError('ref boom');
    case 'uri': return new URIError('uri boom');
    case 'remoteflag': { const e = new Error('flag boom'); e.remote = false; e.retryable = true; return e; }
  }
}
