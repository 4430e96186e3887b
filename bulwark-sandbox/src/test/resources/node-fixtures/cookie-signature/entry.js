// A worker that signs and checks cookies with cookie-signature (express's), which needs
// node:crypto and the global Buffer: nodejs_compat v2.
import { sign, unsign } from 'cookie-signature';

export default {
  fetch(request) {
    const url = new URL(request.url);
    const secret = 'tobiiscool';
    const signed = sign(url.searchParams.get('v') ?? 'hello', secret);
    const back = unsign(signed, secret);
    const forged = unsign(signed.slice(0, -1) + 'x', secret);
    return Response.json({ signed, back, forged });
  },
};
