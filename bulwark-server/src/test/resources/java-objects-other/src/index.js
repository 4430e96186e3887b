// Reaches a Java durable object (JavaCounter, registered by the test) through an ordinary binding.
const describe = (e) => ({ name: e?.name, message: e?.message, isError: e instanceof Error,
  ctor: e?.constructor?.name, text: String(e) });

async function outcome(promise) {
  try {
    return { value: await promise };
  } catch (e) {
    return { error: describe(e) };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, what, name = 'x'] = url.pathname.split('/');
    const stub = env.COUNTER.getByName(name);
    switch (what) {
      case 'inc': return Response.json(await stub.increment());
      case 'get': return Response.json(await stub.get());
      case 'id': return Response.json(env.COUNTER.idFromName(name).toString());
      case 'slow': return Response.json(await stub.slow(url.searchParams.get('who')));
      case 'alarm': return Response.json(await stub.setAlarmIn(Number(url.searchParams.get('ms'))));
      case 'fetch': {
        const r = await stub.fetch('http://object/hello?q=1', { method: 'POST', body: 'hi', headers: { 'x-a': 'b' } });
        return new Response(await r.text(), { status: r.status, headers: { 'x-from-object': r.headers.get('x-object') ?? 'none' } });
      }
      case 'echo': {
        const value = await stub.echo({ a: [1, 'two', null], n: 1.5, big: 10n, bytes: new Uint8Array([1, 2]), when: new Date(5), tags: new Set(['x', 2]) });
        return Response.json({ a: value.a, n: value.n, big: typeof value.big + ':' + value.big,
          bytes: value.bytes instanceof Uint8Array ? [...value.bytes] : 'not bytes', when: value.when instanceof Date ? value.when.getTime() : 'not a date',
          tags: value.tags instanceof Set ? [...value.tags] : 'not a set',
          javaAdded: value.javaAdded });
      }
      case 'errors': return Response.json({
        range: (await outcome(stub.fail())).error,
        crash: (await outcome(stub.crash())).error,
        notExported: (await outcome(stub.notListed())).error,
        reserved: (await outcome(stub.constructor())).error,
        propertyRead: (await outcome(stub.get)).error,
        unsupported: (await outcome(stub.echo(/x/))).error,
        fetchThrows: (await outcome(env.COUNTER.getByName('throwing-fetch').fetch('http://object/throw'))).error,
      });
      case 'foreign': {
        try {
          env.COUNTER.idFromString(url.searchParams.get('id'));
          return Response.json('accepted');
        } catch (e) {
          return Response.json(describe(e));
        }
      }
      default: return new Response('no such route', { status: 404 });
    }
  },
};
