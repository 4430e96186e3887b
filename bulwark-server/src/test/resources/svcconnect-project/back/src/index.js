// The connect handlers front's sockets reach (ServiceConnectTest). The address the caller passed
// (`opened.localAddress` here) names what the handler does.
import { DurableObject, WorkerEntrypoint } from 'cloudflare:workers';

const enc = new TextEncoder();
const dec = new TextDecoder();

async function readAll(readable) {
  let text = '';
  for await (const chunk of readable) text += dec.decode(chunk, { stream: true });
  return text + dec.decode();
}

function recorder(env) {
  return env.RECORDER.get(env.RECORDER.idFromName('r'));
}

export class Recorder extends DurableObject {
  async record(key, value) { await this.ctx.storage.put(key, value); }
  async read(key) { return (await this.ctx.storage.get(key)) ?? null; }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/recorded') {
      return Response.json(await recorder(env).read(url.searchParams.get('key')));
    }
    return new Response('back');
  },

  async connect(socket, env, ctx) {
    const info = await socket.opened;
    const [what] = info.localAddress.split(':');
    switch (what) {
      case 'hello': {
        // Cloudflare's documented handler.
        const writer = socket.writable.getWriter();
        await writer.write(enc.encode('hello'));
        await writer.close();
        return;
      }
      case 'info': {
        const writer = socket.writable.getWriter();
        await writer.write(enc.encode(JSON.stringify({
          remoteAddress: info.remoteAddress ?? 'undefined',
          localAddress: info.localAddress,
          tag: Object.prototype.toString.call(socket),
          secureTransport: socket.secureTransport,
          args: [typeof env.RECORDER, typeof ctx.waitUntil],
        })));
        await writer.close();
        return;
      }
      case 'echo':
        // Everything back, until the caller's end: then this side ends too.
        await socket.readable.pipeTo(socket.writable);
        return;
      case 'halfclose': {
        // Ends its own side first, then reads what the caller still writes (a half-open caller).
        const writer = socket.writable.getWriter();
        await writer.write(enc.encode('bye'));
        await writer.close();
        await recorder(env).record('afterItsEnd', await readAll(socket.readable));
        return;
      }
      case 'never-reads': {
        // Tells the caller it is there, then never reads: the caller's writes must wait.
        const writer = socket.writable.getWriter();
        await writer.write(enc.encode('ready'));
        await new Promise((resolve) => setTimeout(resolve, 3000));
        return;
      }
      case 'flood': {
        // Writes for ever; how far it got is recorded (each write waits for the node's window).
        const writer = socket.writable.getWriter();
        const piece = new Uint8Array(64 * 1024);
        let written = 0;
        try {
          for (;;) {
            await writer.write(piece);
            written += piece.byteLength;
            if (written % (1 << 20) === 0) await recorder(env).record('flooded', written);
          }
        } catch (err) {
          await recorder(env).record('floodEnded', `${err && err.message}`);
        }
        return;
      }
      case 'outlive':
        // Reads until the caller's end, which never comes: the caller's request ends without closing the socket.
        await readAll(socket.readable);
        return;
      case 'throws':
        throw new Error('the handler broke: a secret of back');
      case 'returns-early':
        // The connection ends when the handler's promise settles, whatever it left unwritten.
        socket.writable.getWriter().write(enc.encode('partial'));
        return;
      default:
        throw new Error(`no such case ${what}`);
    }
  },
};

// A named entrypoint without a connect handler.
export class NoConnect extends WorkerEntrypoint {
  async fetch() { return new Response('no connect here'); }
}

// A WorkerEntrypoint's connect(socket): its env and ctx are the instance's.
export class Classy extends WorkerEntrypoint {
  async connect(socket) {
    const info = await socket.opened;
    const writer = socket.writable.getWriter();
    await writer.write(enc.encode(`classy ${info.localAddress} ${typeof this.env.RECORDER}`));
    await writer.close();
  }
}
