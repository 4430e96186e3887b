import { WorkerEntrypoint } from 'cloudflare:workers';
import { make } from './thrower.js';
export default class extends WorkerEntrypoint {
  async fetch(req) { throw make(new URL(req.url).searchParams.get('k')); }
  async boom(k) { throw make(k); }
}
