import { DurableObject } from 'cloudflare:workers';

// A chat room on the Hibernation API: tags, getWebSockets, attachments, auto-response.
export class Chat extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
    this.born = Date.now();
  }
  async fetch(request) {
    const url = new URL(request.url);
    if (request.headers.get('Upgrade') !== 'websocket') return new Response('expected a WebSocket', { status: 426 });
    const user = url.searchParams.get('user') ?? 'anon';
    const { 0: client, 1: server } = new WebSocketPair();
    const extra = Number(url.searchParams.get('extraTags') ?? 0);
    const tags = ['user:' + user, 'room'];
    for (let i = 0; i < extra; i++) tags.push('t' + i);
    this.ctx.acceptWebSocket(server, tags);
    server.serializeAttachment({ user, joined: this.ctx.getWebSockets().length });
    return new Response(null, { status: 101, webSocket: client });
  }
  async webSocketMessage(ws, message) {
    const me = ws.deserializeAttachment();
    if (message === 'who') {
      const users = this.ctx.getWebSockets().map((w) => w.deserializeAttachment().user).sort();
      ws.send(JSON.stringify({ users, tags: this.ctx.getTags(ws), byTag: this.ctx.getWebSockets('user:' + me.user).length }));
      return;
    }
    if (message === 'born') { ws.send(String(this.born)); return; }
    if (message === 'big-attachment') {
      try { ws.serializeAttachment({ user: me.user, pad: 'x'.repeat(3000) }); } catch (e) { ws.send(`refused: ${e.message}`); }
      return;
    }
    if (typeof message !== 'string') { ws.send(message); return; }
    for (const other of this.ctx.getWebSockets('room')) other.send(`${me.user}: ${message}`);
  }
  async webSocketClose(ws, code, reason, wasClean) {
    for (const other of this.ctx.getWebSockets()) if (other !== ws) other.send(`left: ${ws.deserializeAttachment().user} ${code}`);
  }
}

// A durable object that accepts with plain accept(): its listeners run through the object's gates.
export class Echo extends DurableObject {
  async fetch(request) {
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.addEventListener('message', async (e) => {
      if (e.data === 'wait') {
        // An async listener's work outlives its event: the timer fires, the send goes out.
        await new Promise((r) => setTimeout(r, 300));
        server.send('waited');
        return;
      }
      const n = ((await this.ctx.storage.get('n')) ?? 0) + 1;
      await this.ctx.storage.put('n', n);
      server.send(`${n}: ${e.data}`);
    });
    return new Response(null, { status: 101, webSocket: client });
  }
}

// The way the agents SDK wires hibernation: handlers as own, non-enumerable instance properties,
// attachments through WebSocket.prototype, the socket checked to be a global WebSocket.
export class Agentish extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    for (const [name, fn] of Object.entries({
      webSocketMessage: (ws, message) => {
        const a = WebSocket.prototype.deserializeAttachment.call(ws);
        ws.send(JSON.stringify({ isWebSocket: ws instanceof WebSocket, attachment: a, message }));
      },
      webSocketClose: () => {},
    })) {
      if (!(name in this)) Object.defineProperty(this, name, { value: fn, enumerable: false, configurable: true, writable: true });
    }
  }
  async fetch(request) {
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    WebSocket.prototype.serializeAttachment.call(pair[1], { id: 'conn-1' });
    return new Response(null, { status: 101, webSocket: pair[0] });
  }
}

// The output gate: a message leaves only after the writes before it are durable.
export class Ledger extends DurableObject {
  async fetch(request) {
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }
  async webSocketMessage(ws, message) {
    if (message === 'get') { ws.send(`have ${(await this.ctx.storage.get('n')) ?? 0}`); return; }
    const n = Number(message);
    this.ctx.storage.put('n', n); // no await: the send below still waits for the commit
    ws.send(`stored ${n}`);
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/slow') {
      const [client, server] = Object.values(new WebSocketPair());
      server.accept();
      server.addEventListener('message', async (e) => {
        if (e.data === 'later') {
          // A timeout the listener does not wait for: it fires all the same.
          setTimeout(() => server.send('later done'), 300);
          return;
        }
        if (e.data !== 'wait') {
          server.send(`quick: ${e.data}`);
          return;
        }
        await new Promise((r) => setTimeout(r, 300));
        server.send('waited');
      });
      return new Response(null, { status: 101, webSocket: client });
    }
    if (url.pathname === '/echo') {
      if (request.headers.get('Upgrade') !== 'websocket') return new Response('expected a WebSocket', { status: 426 });
      const [client, server] = Object.values(new WebSocketPair());
      server.accept();
      server.addEventListener('message', (e) => {
        if (typeof e.data === 'string') server.send(`echo: ${e.data}`);
        else server.send(new Uint8Array(e.data).reverse());
      });
      server.addEventListener('close', (e) => server.close(1000, 'bye'));
      return new Response(null, { status: 101, webSocket: client });
    }
    // 24 messages of (almost) 1 MiB for each message received: more than the node holds for a
    // client that does not read (16 MiB).
    if (url.pathname === '/firehose') {
      const [client, server] = Object.values(new WebSocketPair());
      server.accept();
      const mib = 'x'.repeat((1 << 20) - 16);
      const n = Number(url.searchParams.get('mib') ?? 24);
      server.addEventListener('message', () => { for (let i = 0; i < n; i++) server.send(mib); });
      return new Response(null, { status: 101, webSocket: client });
    }
    if (url.pathname === '/big') {
      const [client, server] = Object.values(new WebSocketPair());
      server.accept();
      server.addEventListener('message', () => {
        try { server.send('x'.repeat((1 << 20) + 1)); } catch (e) { server.send(`refused: ${e.message}`); }
      });
      return new Response(null, { status: 101, webSocket: client });
    }
    // The worker accepts the socket a durable object's 101 handed it (as the agents SDK's McpAgent
    // does): the node carries it between the two isolates.
    if (url.pathname.startsWith('/ask/')) {
      const r = await env.CHAT.getByName(url.pathname.slice(5)).fetch('http://do/?user=asker', { headers: { Upgrade: 'websocket' } });
      const ws = r.webSocket;
      if (r.status !== 101 || ws === null) return new Response('no socket', { status: 500 });
      ws.accept();
      const answer = await new Promise((resolve) => {
        ws.addEventListener('message', (e) => resolve(e.data), { once: true });
        ws.send('who');
      });
      const closed = new Promise((resolve) => ws.addEventListener('close', (e) => resolve(`${e.code} ${e.reason}`)));
      ws.close(1000, 'done');
      let again;
      try { r.webSocket.accept(); } catch (e) { again = `${e.name}: ${e.message}`; }
      return Response.json({ answer: JSON.parse(answer), closed: await closed, state: ws.readyState, again });
    }
    // 40 messages of 1 MiB at once toward an object that takes one at a time: the node queues 16 MiB
    // of them at most, then closes the socket.
    if (url.pathname.startsWith('/flood/')) {
      const r = await env.ECHO.getByName(url.pathname.slice(7)).fetch('http://do/', { headers: { Upgrade: 'websocket' } });
      const ws = r.webSocket;
      ws.accept();
      const closed = new Promise((resolve) => ws.addEventListener('close', (e) => resolve(`${e.code} ${e.reason}`)));
      const big = 'x'.repeat(1 << 20);
      for (let i = 0; i < 40; i++) ws.send(big);
      return new Response(await closed);
    }
    if (url.pathname.startsWith('/bridge/')) {
      const r = await env.CHAT.getByName(url.pathname.slice(8)).fetch('http://do/?user=bridged', { headers: { Upgrade: 'websocket' } });
      const upstream = r.webSocket;
      upstream.accept();
      const [client, server] = Object.values(new WebSocketPair());
      server.accept();
      server.addEventListener('message', (e) => upstream.send(e.data));
      upstream.addEventListener('message', (e) => server.send(typeof e.data === 'string' ? `via worker: ${e.data}` : e.data));
      server.addEventListener('close', () => upstream.close(1000, 'client left'));
      upstream.addEventListener('close', (e) => server.close(e.code === 1005 ? 1000 : e.code, 'upstream closed'));
      return new Response(null, { status: 101, webSocket: client });
    }
    if (url.pathname === '/fake101') return new Response('x', { status: 200, headers: { a: 'b' } });
    if (url.pathname.startsWith('/agent/')) return env.AGENT.getByName(url.pathname.slice(7)).fetch(request);
    if (url.pathname.startsWith('/ledger/')) return env.LEDGER.getByName(url.pathname.slice(8)).fetch(request);
    if (url.pathname.startsWith('/echo-object/')) {
      return env.ECHO.getByName(url.pathname.slice('/echo-object/'.length)).fetch(request);
    }
    if (url.pathname.startsWith('/chat/')) {
      return env.CHAT.getByName(url.pathname.slice('/chat/'.length)).fetch(request);
    }
    return new Response('not found', { status: 404 });
  },
};
