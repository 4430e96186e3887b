// As a bundler's split chunk: loaded only by import(), importing what the main chunk imports too.
import { greeting, counted } from '../shared.js';
globalThis.renderChunkRuns = (globalThis.renderChunkRuns ?? 0) + 1;
export function render(name) {
  counted();
  return `${greeting}, ${name}`;
}
