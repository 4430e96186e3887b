// A durable object as a long-lived WebSocket client: one request opens the socket, later ones use
// it; what the server sends is logged by the socket's listeners, as the object's events.
import { DurableObject } from 'cloudflare:workers';

// A module global: another object of the same isolate can find a socket here (and must not use it).
let lastOpened = null;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class Client extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.born = crypto.randomUUID(); // a new instance (after eviction or a reset) has a new one
    this.log = [];
    this.ws = null;
  }

  async fetch(request) {
    const url = new URL(request.url);
    const q = (name) => url.searchParams.get(name);
    switch (url.pathname) {
      case '/open': {
        if (q('how') === 'ctor') {
          const ws = new WebSocket(`ws://127.0.0.1:${q('port')}/echo`);
          await new Promise((resolve, reject) => {
            ws.addEventListener('open', resolve);
            ws.addEventListener('error', (e) => reject(new Error(e.message)));
          });
          this.listen(ws);
        } else {
          const resp = await fetch(`http://127.0.0.1:${q('port')}/echo`, { headers: { Upgrade: 'websocket' } });
          resp.webSocket.accept();
          this.listen(resp.webSocket);
        }
        lastOpened = this.ws;
        return new Response(`opened ${this.born}`);
      }
      case '/open-late': {
        // new WebSocket() not awaited: the handshake ends after this request's response.
        const ws = new WebSocket(`ws://127.0.0.1:${q('port')}/echo`);
        ws.addEventListener('open', () => this.log.push('open'));
        ws.addEventListener('error', (e) => this.log.push(`error:${e.message}`));
        this.listen(ws);
        return new Response(`opening ${this.born}`);
      }
      case '/send':
        if (this.ws === null) return new Response('no socket');
        this.ws.send(q('text'));
        return new Response('sent');
      case '/log':
        return new Response(`${this.born} ${this.ws === null ? 'none' : this.ws.readyState} ${this.log.join('|')}`);
      case '/block':
        // The server's echo of 'during-block' arrives while the input gate is shut: its message
        // event waits until the callback is done.
        await this.ctx.blockConcurrencyWhile(async () => {
          this.log.push('block:start');
          this.ws.send('during-block');
          await sleep(600);
          this.log.push('block:end');
        });
        return new Response('blocked');
      case '/spin':
        for (;;) { /* past the CPU limit: the isolate is condemned */ }
      case '/abort':
        this.ctx.abort('reset by the test');
        return new Response('not reached');
      case '/steal':
        try {
          lastOpened.send('stolen');
          return new Response('sent');
        } catch (e) {
          return new Response(`${e.name}: ${e.message}`);
        }
      case '/close':
        this.ws.close(4100, 'the object closes');
        return new Response('closed');
      default:
        return new Response('no such path', { status: 404 });
    }
  }

  listen(ws) {
    this.ws = ws;
    ws.addEventListener('message', async (e) => {
      this.log.push(`message:${e.data}`);
      if (e.data === 'txn') {
        // A transaction shuts the gate: a fetch that arrives meanwhile waits for its end. (waitUntil:
        // the event's invocation, and its timers, last until it is done.)
        this.ctx.waitUntil(this.ctx.storage.transaction(async (txn) => {
          this.log.push('txn:start');
          await txn.put('last', e.data);
          await sleep(600);
          this.log.push('txn:end');
        }));
      }
    });
    ws.addEventListener('close', (e) => this.log.push(`close:${e.code}:${e.reason}`));
  }
}

export default {
  fetch(request, env) {
    return env.CLIENT.getByName(new URL(request.url).searchParams.get('name') ?? 'a').fetch(request);
  },
};
