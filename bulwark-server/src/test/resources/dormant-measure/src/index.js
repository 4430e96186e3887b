// As ../shared/bench/worker/front.js's /dyn: load dynamic worker `id` (code from the query) and call it.
const DEFAULT_CODE = (id) =>
  `export default { fetch(req, env) { return new Response("dyn-" + ${JSON.stringify(id)}); } };`;

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const id = url.searchParams.get("id") || "default";
    const worker = env.LOADER.get(id, () => ({
      compatibilityDate: "2025-09-01",
      mainModule: "main.js",
      modules: { "main.js": DEFAULT_CODE(id) },
      env: {},
      globalOutbound: null,
    }));
    return worker.getEntrypoint().fetch(request);
  },
};
