// HTMLRewriter as in Workers (lol-html in WebAssembly): element, text, comment, doctype and end
// handlers, async handlers, attributes, content insertion, streaming through a Response.
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
async function assertRejects(promise, what) {
  try { await promise; } catch (e) { return e; }
  throw new Error(`${what}: did not reject`);
}
const html = (body, init) => new Response(body, { headers: { 'Content-Type': 'text/html', 'Content-Length': '999' }, ...init });

async function run() {
  const page = '<!DOCTYPE html><html><head><title>Old</title></head><body>' +
    '<a href="http://example.com/a">A</a><!-- note --><p class="x">Hello <b>world</b></p>' +
    '<img src="/i.png"><div id="gone">bye</div></body></html>';
  const seen = [];
  const res = new HTMLRewriter()
    .on('a[href]', {
      element(el) {
        seen.push(`a ${el.tagName} ${el.getAttribute('href')} ${el.hasAttribute('rel')}`);
        el.setAttribute('href', el.getAttribute('href').replace('http:', 'https:'));
        el.setAttribute('rel', 'noopener');
      },
    })
    .on('title', { element(el) { el.setInnerContent('New & <improved>'); } })
    .on('p.x', {
      element(el) {
        seen.push(`attrs ${[...el.attributes].map(([k, v]) => `${k}=${v}`).join(',')}`);
        el.prepend('<i>hi</i> ', { html: true });
        el.after('<hr>', { html: true });
        el.onEndTag((end) => { seen.push(`end ${end.name}`); });
      },
      text(t) { if (t.text) seen.push(`text ${JSON.stringify(t.text)} ${t.lastInTextNode}`); },
    })
    .on('b', { text(t) { if (t.text) t.replace(t.text.toUpperCase()); } })
    .on('#gone', { element(el) { el.remove(); } })
    .on('img', {
      // An async handler: the rewriter waits for it.
      async element(el) {
        await new Promise((r) => setTimeout(r, 5));
        el.setAttribute('alt', 'waited');
      },
    })
    .onDocument({
      doctype(d) { seen.push(`doctype ${d.name}`); },
      comments(c) { seen.push(`comment ${JSON.stringify(c.text)}`); c.replace('<!-- replaced -->', { html: true }); },
      end(end) { end.append('<!-- end -->', { html: true }); },
    })
    .transform(html(page, { status: 201 }));
  assertEq(res instanceof Response, true, 'transform returns a Response');
  assertEq(res.status, 201, 'status kept');
  assertEq(res.headers.get('Content-Type'), 'text/html', 'headers kept');
  assertEq(res.headers.get('Content-Length'), null, 'Content-Length dropped');
  const out = await res.text();
  assertEq(out,
    '<!DOCTYPE html><html><head><title>New &amp; &lt;improved&gt;</title></head><body>' +
    '<a href="https://example.com/a" rel="noopener">A</a><!-- replaced --><p class="x"><i>hi</i> Hello <b>WORLD</b></p><hr>' +
    '<img src="/i.png" alt="waited"></body></html><!-- end -->', 'rewritten document');
  assertEq(seen.join(' | '),
    'doctype html | a a http://example.com/a false | comment " note " | attrs class=x | text "Hello " false | text "world" false | end p', 'handler calls');

  // Streaming: a document split anywhere, even inside tags, comes out the same.
  const parts = ['<di', 'v cla', 'ss="c">te', 'xt</d', 'iv>'];
  const stream = new ReadableStream({
    pull(c) { if (parts.length) c.enqueue(new TextEncoder().encode(parts.shift())); else c.close(); },
  });
  const streamed = new HTMLRewriter().on('div.c', { element(el) { el.setAttribute('data-seen', '1'); } }).transform(new Response(stream));
  assertEq(await streamed.text(), '<div class="c" data-seen="1">text</div>', 'streamed body');

  // A handler that throws errors the body stream.
  const failing = new HTMLRewriter().on('p', { element() { throw new Error('handler failed'); } }).transform(html('<p>x</p>'));
  const err = await assertRejects(failing.text(), 'throwing handler');
  assertEq(String(err && err.message).includes('handler failed'), true, `the handler's error reaches the reader (${err && err.message})`);

  // Two rewriters at once, each with async handlers.
  const slow = (tag, ms) => new HTMLRewriter().on(tag, { async element(el) { await new Promise((r) => setTimeout(r, ms)); el.setAttribute('t', tag); } });
  const [one, two] = await Promise.all([
    slow('u', 10).transform(html('<u>1</u><u>2</u>')).text(),
    slow('s', 1).transform(html('<s>3</s>')).text(),
  ]);
  assertEq(`${one} ${two}`, '<u t="u">1</u><u t="u">2</u> <s t="s">3</s>', 'concurrent rewriters');

  // A large document: every element rewritten, output gathered into pieces (not one per token).
  const many = '<p class="a">hello <b>x</b></p>'.repeat(5000);
  let pieces = 0, total = 0;
  const manyOut = new HTMLRewriter().on('p', { element(e) { e.setAttribute('x', '1'); } }).transform(new Response(many));
  for await (const piece of manyOut.body) { pieces++; total += piece.length; }
  assertEq(total, many.length + 5000 * ' x="1"'.length, 'large document length');
  assertEq(pieces <= Math.ceil(total / 16384) + 1, true, `large document in ${pieces} pieces`);

  // A null body still runs the document end handlers; an invalid selector is a TypeError.
  assertEq(await new HTMLRewriter().onDocument({ end(e) { e.append('tail'); } }).transform(new Response(null)).text(), 'tail', 'null body');
  let selectorError = null;
  try { new HTMLRewriter().on('p:::bad', {}).transform(html('<p></p>')); } catch (e) { selectorError = e; }
  assertEq(selectorError instanceof TypeError, true, 'invalid selector');
  return 'ok';
}

export default {
  async fetch() {
    try {
      return new Response(await run());
    } catch (e) {
      return new Response(`FAIL: ${e && e.stack || e}`, { status: 500 });
    }
  },
};
