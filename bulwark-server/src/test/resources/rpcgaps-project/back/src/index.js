import { WorkerEntrypoint } from 'cloudflare:workers';

export class Admin extends WorkerEntrypoint {
  whoami() { return this.ctx.props; }
  async fetch(request) {
    return new Response(`admin fetch ${new URL(request.url).pathname} props=${JSON.stringify(this.ctx.props)}`);
  }
}

export default {
  async fetch(request, env, ctx) {
    return new Response(`back saw ${request.method} ${new URL(request.url).pathname} ${await request.text()}`);
  },
};
