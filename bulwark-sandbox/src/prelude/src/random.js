// Randomness from the host (never used at snapshot time).
import { H } from './host.js';

export function randomBytes(n) {
  const out = H.randomBytes(n);
  if (!(out instanceof Uint8Array) || out.length !== n) throw new Error('host.randomBytes returned an invalid value');
  return out;
}
export function randomHex(nBytes) {
  let bytes;
  try { bytes = randomBytes(nBytes); } catch { bytes = new Uint8Array(nBytes).map(() => Math.floor(Math.random() * 256)); }
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += bytes[i].toString(16).padStart(2, '0');
  return s;
}
