import * as shared from './shared.js';

async function settle(f) {
  try { return { value: await f() }; } catch (e) { return { error: `${e.name}: ${e.message}` }; }
}

// A dynamic worker whose modules use import(): relative paths, a CommonJS module, JSON with
// attributes, a node: built-in, and attempts to reach its parent's modules.
const DYNAMIC = {
  compatibilityDate: '2025-09-01',
  compatibilityFlags: ['nodejs_compat'],
  mainModule: 'main.js',
  modules: {
    'main.js': `
      import * as util from './lib/util.js';
      async function settle(f) {
        try { return { value: await f() }; } catch (e) { return { error: e.name + ': ' + e.message }; }
      }
      export default {
        async fetch(request, env) {
          const lazy = await import('./lib/lazy.js');
          const cjs = (await import('./lib/helper.cjs')).default;
          return Response.json({
            lazy: lazy.answer(),
            same: (await import('lib/util.js')) === util && lazy.util === util,
            cjs: (await cjs.importUtil()) === util,
            json: (await import('./data.json', { with: { type: 'json' } })).default.n,
            buffer: typeof (await import('node:buffer')).Buffer.from,
            parent: await settle(() => import('../src/index.js')),
            parentByName: await settle(() => import('/src/index.js')),
            secret: env.SECRET_OF_THE_PARENT ?? null,
          });
        }
      };`,
    'lib/util.js': 'export const twice = (x) => 2 * x;',
    'lib/lazy.js': "import * as util from './util.js'; export { util }; export const answer = () => util.twice(21);",
    'lib/helper.cjs': { cjs: "exports.importUtil = () => import('./util.js');" },
    'data.json': { json: { n: 7 } },
  },
};

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case '/chunks': {
        const first = await import('./chunks/render-4KQ2.js');
        const again = await import('./chunks/render-4KQ2.js');
        const config = await import('./chunks/config.json', { with: { type: 'json' } });
        return Response.json({
          text: first.render('chunks'),
          same: first === again,
          runs: globalThis.renderChunkRuns,
          sharedIsTheStaticImport: (await import('./shared.js')) === shared,
          renders: shared.renders,
          feature: config.default.feature,
        });
      }
      case '/loader': {
        const worker = env.LOADER.get('dyn', () => DYNAMIC);
        return worker.getEntrypoint().fetch(request);
      }
      case '/missing':
        return Response.json(await settle(() => import('./chunks/gone.js')));
    }
    return new Response('not found', { status: 404 });
  }
};
