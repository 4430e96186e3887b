// esbuild "inject" for the urlpattern part: its free URL is the prelude's (passed in), as in prelude.js.
export { URL } from './url.js';
