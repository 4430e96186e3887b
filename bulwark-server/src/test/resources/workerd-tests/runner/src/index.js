export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/list') return Response.json(await env.T.list());
    if (url.pathname === '/run') return Response.json(await env.T.run(url.searchParams.get('name')));
    return new Response('not found', { status: 404 });
  },
};
