import assert from 'node:assert';
export default {
 async fetch(request, env, ctx) {
   return new Response(JSON.stringify(ctx.props));
 },
 async test(request, env, ctx) {
   const resp = await env.SERVICE.fetch(new Request("https://placeholder/hello"));
   const body = await resp.json();
   assert.deepStrictEqual(body, {foo: 123});
 },
};
