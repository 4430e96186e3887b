// A lazily loaded part of the prelude (build.mjs `parts`): urlpattern-polyfill (edited by build.mjs),
// compiled into an isolate when its first URLPattern is made (src/urlpattern-lazy.js asks the host
// for it). Not in the startup snapshot: most workers never use it.
export { URLPattern as part } from 'urlpattern-polyfill/urlpattern';
