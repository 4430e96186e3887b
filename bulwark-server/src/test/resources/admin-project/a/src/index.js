import { DurableObject } from 'cloudflare:workers';

// An object with a SQL table, an alarm and hibernatable WebSockets, for the admin endpoints.
export class Store extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    const op = url.pathname.split('/')[3];
    this.ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS entries (k TEXT PRIMARY KEY, v TEXT)');
    switch (op) {
      case 'put': {
        // Acknowledged only once committed (the output gate).
        this.ctx.storage.sql.exec('INSERT OR REPLACE INTO entries VALUES (?, ?)', url.searchParams.get('k'),
          url.searchParams.get('v'));
        return Response.json({ id: this.ctx.id.toString() });
      }
      case 'id':
        return Response.json({ id: this.ctx.id.toString() });
      case 'alarm': {
        await this.ctx.storage.setAlarm(Number(url.searchParams.get('at')));
        return Response.json({ id: this.ctx.id.toString() });
      }
      case 'ws': {
        const [client, server] = Object.values(new WebSocketPair());
        this.ctx.acceptWebSocket(server, (url.searchParams.get('tags') ?? '').split(',').filter((t) => t));
        return new Response(null, { status: 101, webSocket: client });
      }
      default:
        return new Response('unknown op', { status: 404 });
    }
  }
  async webSocketMessage(ws, message) {
    ws.send(message);
  }
  async alarm() {}
}

export default {
  async fetch(request, env) {
    const [, kind, name] = new URL(request.url).pathname.split('/');
    if (kind !== 'store') return new Response('not found', { status: 404 });
    return env.STORE.getByName(name).fetch(request);
  },
};
