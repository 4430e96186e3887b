// node:path: the npm `path-browserify` package (MIT), Node's POSIX path functions.
import path from 'path-browserify';

export function pathModule() {
  const out = { default: path };
  for (const k of Object.keys(path)) out[k] = path[k];
  out.posix = path;
  return out;
}
