// Tenant b: asks its own loader for the same ids tenant a uses.
let callbacks = 0;

export default {
  async fetch(request, env) {
    const id = new URL(request.url).searchParams.get("id");
    const worker = env.LOADER.get(id, () => {
      callbacks++;
      return { compatibilityDate: "2025-06-01", mainModule: "main.js", globalOutbound: null,
               modules: { "main.js": `export default { fetch() { return new Response("tenant b's own " + ${JSON.stringify(id)}); } };` } };
    });
    const r = await worker.getEntrypoint().fetch("http://child/");
    return new Response(`${await r.text()} callbacks=${callbacks}`);
  },
};
