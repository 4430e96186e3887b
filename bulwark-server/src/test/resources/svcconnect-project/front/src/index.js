// connect() through a service binding, ctx.exports, a dynamic worker's entrypoint and a dynamic
// worker's globalOutbound, against back's connect handlers (ServiceConnectTest). One case per path.
import { WorkerEntrypoint, DurableObject } from 'cloudflare:workers';

const enc = new TextEncoder();
const dec = new TextDecoder();

async function readAll(readable) {
  let text = '';
  for await (const chunk of readable) text += dec.decode(chunk, { stream: true });
  return text + dec.decode();
}

async function settle(promise) {
  try {
    const value = await promise;
    return { ok: value === undefined ? 'undefined' : value };
  } catch (err) {
    return { error: `${err && err.name}: ${err && err.message}` };
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes `mib` MiB of a pattern while reading the echo back; both sides' counts and checksums. */
async function echoThrough(socket, mib) {
  const total = mib * 1024 * 1024;
  const piece = new Uint8Array(64 * 1024);
  const writing = (async () => {
    const writer = socket.writable.getWriter();
    let sum = 0;
    for (let sent = 0; sent < total; sent += piece.byteLength) {
      for (let i = 0; i < piece.length; i++) piece[i] = (sent + i) * 7 & 0xff;
      for (let i = 0; i < piece.length; i++) sum = (sum + piece[i] * ((sent + i) % 251 + 1)) % 1000000007;
      await writer.write(piece);
    }
    await writer.close();
    return sum;
  })();
  let received = 0, sum = 0, chunks = 0;
  for await (const chunk of socket.readable) {
    for (let i = 0; i < chunk.length; i++) sum = (sum + chunk[i] * ((received + i) % 251 + 1)) % 1000000007;
    received += chunk.length;
    chunks++;
  }
  const sentSum = await writing;
  await socket.closed;
  return { total, received, same: sentSum === sum, chunks };
}

// This worker's own connect handler, reached through ctx.exports.
export class Local extends WorkerEntrypoint {
  async connect(socket) {
    const info = await socket.opened;
    const writer = socket.writable.getWriter();
    await writer.write(enc.encode(`local ${info.localAddress} props=${JSON.stringify(this.ctx.props)} `));
    // Then what the caller writes, upper-cased.
    for await (const chunk of socket.readable) await writer.write(enc.encode(dec.decode(chunk).toUpperCase()));
    await writer.close();
  }
}

// A durable object's connect(socket): a connection to one object, with its storage.
export class Room extends DurableObject {
  async connect(socket) {
    const info = await socket.opened;
    const seen = dec.decode((await socket.readable.getReader().read()).value);
    const count = ((await this.ctx.storage.get('count')) ?? 0) + 1;
    await this.ctx.storage.put('count', count);
    const writer = socket.writable.getWriter();
    await writer.write(enc.encode(`room ${this.ctx.id.name} ${info.localAddress} saw ${seen} (${count})`));
    await writer.close();
  }
}

// A durable object without a connect handler.
export class Plain extends DurableObject {}

// A parent's interceptor of its child's sockets (the child's globalOutbound).
export class Interceptor extends WorkerEntrypoint {
  async fetch(request) { return new Response(`intercepted fetch ${request.url}`); }
  async connect(socket) {
    const info = await socket.opened;
    const writer = socket.writable.getWriter();
    const first = await socket.readable.getReader().read();
    await writer.write(enc.encode(`intercepted ${info.localAddress} saw ${dec.decode(first.value)}`));
    await writer.close();
  }
}

const CHILD = `
import { connect } from 'cloudflare:sockets';
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    let socket;
    try {
      // A stub the parent passed in env, or cloudflare:sockets (through globalOutbound).
      socket = url.searchParams.get('via') === 'env' ? env.SVC.connect(url.searchParams.get('to')) : connect(url.searchParams.get('to'));
    } catch (err) {
      return new Response('threw ' + err.name + ': ' + err.message);
    }
    const writer = socket.writable.getWriter();
    await writer.write(new TextEncoder().encode('child-bytes'));
    await writer.close();
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of socket.readable) text += decoder.decode(chunk, { stream: true });
    return new Response(text);
  },
  async connect(socket) {
    const info = await socket.opened;
    const writer = socket.writable.getWriter();
    await writer.write(new TextEncoder().encode('dynamic ' + info.localAddress));
    await writer.close();
  },
};
`;

function child(globalOutbound, env = undefined) {
  const code = { compatibilityDate: '2025-09-01', mainModule: 'child.js', modules: { 'child.js': CHILD } };
  if (env !== undefined) code.env = env;
  if (globalOutbound !== undefined) code.globalOutbound = globalOutbound;
  return code;
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case '/hello': {
        // Cloudflare's documented pair: the handler writes "hello" and closes.
        const socket = env.BACK.connect('hello:1234');
        const opened = await socket.opened;
        const text = await readAll(socket.readable);
        await socket.closed;
        return Response.json({ text, opened: { remoteAddress: opened.remoteAddress, localAddress: opened.localAddress ?? 'undefined' } });
      }
      case '/info': {
        const socket = env.BACK.connect({ hostname: 'info', port: 99 });
        return new Response(socket.readable);
      }
      case '/classy': {
        const socket = env.CLASSY.connect('classy.example:7');
        return new Response(await readAll(socket.readable));
      }
      case '/echo': {
        const socket = env.BACK.connect('echo:1');
        return Response.json(await echoThrough(socket, Number(url.searchParams.get('mib') ?? '1')));
      }
      case '/slow': {
        // The caller writes only after a while: the handler waiting on its read is not hung.
        const socket = env.BACK.connect('echo:2');
        await socket.opened;
        await sleep(2500);
        const writer = socket.writable.getWriter();
        await writer.write(enc.encode('late'));
        await writer.close();
        return new Response(await readAll(socket.readable));
      }
      case '/self': {
        // ctx.exports: this worker's own entrypoint, with props; the caller half-closes first.
        const socket = ctx.exports.Local({ props: { who: 'me' } }).connect('self.local:5');
        const writer = socket.writable.getWriter();
        await writer.write(enc.encode('abc'));
        await writer.close();
        const text = await readAll(socket.readable);
        await socket.closed;
        return new Response(text);
      }
      case '/dynamic': {
        const w = env.LOADER.get('connect-child', () => child(undefined));
        const socket = w.getEntrypoint().connect('dyn:42');
        return new Response(await readAll(socket.readable));
      }
      case '/outbound': {
        // The child's cloudflare:sockets connect() goes to its globalOutbound fetcher's connect handler.
        const via = url.searchParams.get('via');
        const outbound = via === 'back' ? env.BACK : via === 'null' ? null : ctx.exports.Interceptor;
        const w = env.LOADER.load(child(outbound));
        const res = await w.getEntrypoint().fetch(`https://child.test/?to=${encodeURIComponent(url.searchParams.get('to'))}`);
        return new Response(await res.text());
      }
      case '/passed': {
        // A service binding passed to a dynamic worker in its env: connect() through the passed stub.
        const w = env.LOADER.load(child(null, { SVC: env.BACK }));
        const res = await w.getEntrypoint().fetch('https://child.test/?via=env&to=echo:1');
        return new Response(await res.text());
      }
      case '/forge': {
        // A CONNECT through fetch() is refused before it leaves: only connect() reaches a connect handler.
        return Response.json({
          request: await settle((async () => new Request('https://back/', { method: 'CONNECT' }))()),
          fetch: await settle(env.BACK.fetch('https://back/', { method: 'CONNECT' })),
        });
      }
      case '/noconnect': {
        const socket = env.NOCONNECT.connect(url.searchParams.get('to') ?? 'x:1');
        const opened = await settle(socket.opened);
        const closed = await settle(socket.closed);
        return Response.json({ opened, closed });
      }
      case '/tls': {
        const socket = env.BACK.connect('hello:1', { secureTransport: 'on' });
        const starttls = env.BACK.connect('hello:1', { secureTransport: 'starttls' });
        await starttls.opened;
        let startTls;
        try { starttls.startTls(); startTls = 'no error'; } catch (err) { startTls = `${err.name}: ${err.message}`; }
        return Response.json({ opened: await settle(socket.opened), startTls, text: await readAll(starttls.readable) });
      }
      case '/halfclose': {
        // back ends its side first; this (half-open) side writes after that.
        const socket = env.BACK.connect('halfclose:1', { allowHalfOpen: true });
        const text = await readAll(socket.readable);
        const writer = socket.writable.getWriter();
        await writer.write(enc.encode('after your end'));
        await writer.close();
        await socket.closed;
        return new Response(text);
      }
      case '/recorded':
        return env.BACK.fetch(`https://back/recorded?key=${url.searchParams.get('key')}`);
      case '/never-reads': {
        const socket = env.BACK.connect('never-reads:1');
        const reader = socket.readable.getReader();
        const ready = dec.decode((await reader.read()).value);
        const writer = socket.writable.getWriter();
        let settled = 'pending';
        const write = writer.write(new Uint8Array(64 * 1024)).then(() => { settled = 'written'; }, (err) => { settled = `rejected: ${err.message}`; });
        await sleep(1000);
        const after1s = settled;
        await write; // the handler returns after 3 s: its connection is over, the write fails
        return Response.json({ ready, after1s, finally: settled });
      }
      case '/flood': {
        const socket = env.BACK.connect('flood:1');
        const flooded = async () => (await (await env.BACK.fetch('https://back/recorded?key=flooded')).json()) ?? 0;
        let first = 0;
        for (let i = 0; i < 100 && first < (1 << 20); i++) {
          await sleep(100);
          first = await flooded();
        }
        await sleep(1500);
        const later = await flooded();
        if (first < (1 << 20)) return Response.json({ first, later, read: 0 });
        // Reading lets it go on.
        const reader = socket.readable.getReader();
        let read = 0;
        while (read < 4 * 1024 * 1024) read += (await reader.read()).value.length;
        await socket.close();
        return Response.json({ first, later, read });
      }
      case '/outlive': {
        const socket = env.BACK.connect('outlive:1');
        await socket.opened;
        const writer = socket.writable.getWriter();
        await writer.write(enc.encode('x'));
        return new Response('left open');
      }
      case '/handler-ends': {
        const throws = env.BACK.connect('throws:1');
        const early = env.BACK.connect('returns-early:1');
        return Response.json({
          throws: { text: await settle(readAll(throws.readable)), closed: await settle(throws.closed) },
          early: { text: await settle(readAll(early.readable)), closed: await settle(early.closed) },
        });
      }
      case '/object': {
        const socket = env.ROOM.get(env.ROOM.idFromName('lobby')).connect('room.example:1');
        const writer = socket.writable.getWriter();
        await writer.write(enc.encode('knock'));
        const text = await readAll(socket.readable);
        const plain = env.PLAIN.get(env.PLAIN.idFromName('p')).connect('p:1');
        return Response.json({ text, plain: await settle(plain.opened) });
      }
      default:
        return new Response('no such case', { status: 404 });
    }
  },
};
