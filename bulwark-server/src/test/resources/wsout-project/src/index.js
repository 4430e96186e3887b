// A durable object that opens a WebSocket to a server, talks over it and stores what it heard.
import { DurableObject } from 'cloudflare:workers';

export class Client extends DurableObject {
  async fetch(request) {
    const port = new URL(request.url).searchParams.get('port');
    const resp = await fetch(`http://127.0.0.1:${port}/echo`, { headers: { Upgrade: 'websocket' } });
    const ws = resp.webSocket;
    ws.accept();
    const heard = new Promise((resolve) => ws.addEventListener('message', (e) => resolve(e.data)));
    ws.send('from the object');
    const text = await heard;
    this.ctx.storage.put('last', text);
    ws.close(1000, 'object done');
    return new Response(`${resp.status} ${text} ${await this.ctx.storage.get('last')}`);
  }
}

export default {
  fetch(request, env) {
    return env.CLIENT.getByName('a').fetch(request);
  },
};
