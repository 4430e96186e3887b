// The platform's front door: every request goes to one supervisor object, which routes
// /_apps/{app} (upload, delete, list) and /{app}/... (the app's facet).
export default {
  async fetch(request, env) {
    return env.PLATFORM.getByName('main').fetch(request);
  }
};
