// The platform's front door: every request goes to one supervisor object, which routes
// /_apps/{app} (upload, delete, list) and /{app}/... (the app's facet). With facets.route_prefix
// set (wrangler.jsonc, as shipped) the node does this itself and this worker does not run; it is
// what runs without the route.
export default {
  async fetch(request, env) {
    return env.PLATFORM.getByName('main').fetch(request);
  }
};
