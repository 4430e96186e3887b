// The runner of WorkerdConformanceTest (which writes this worker's configuration): one service
// binding per suite, to the BulwarkConformance entrypoint of the suite's main worker.
// GET /list?binding=S names a suite's tests; GET /run?binding=S&name=N runs one.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const suite = env[url.searchParams.get('binding')];
    if (suite === undefined) return new Response('no such suite', { status: 404 });
    if (url.pathname === '/list') return Response.json(await suite.list());
    if (url.pathname === '/run') return Response.json(await suite.run(url.searchParams.get('name')));
    return new Response('not found', { status: 404 });
  },
};
