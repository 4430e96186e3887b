// A lazily loaded part of the prelude (build.mjs `parts`): html-rewriter-wasm's wasm-bindgen glue,
// compiled into an isolate only when its first HTMLRewriter transforms a response
// (html-rewriter.js asks the host for it). Not in the startup snapshot: most workers never use it.
import * as glue from 'html-rewriter-wasm';

export const part = glue;
