// Regenerates bundle.js: in an empty directory, `npm install cookie-signature@1.2.2 esbuild@0.28.2`,
// copy entry.js and this file there, `node build.mjs`, copy bundle.js back. As wrangler does under
// nodejs_compat, a require() of a Node.js built-in becomes an import of node:<name>.
import { build } from 'esbuild';
import { builtinModules } from 'node:module';

await build({
  entryPoints: ['entry.js'],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  outfile: 'bundle.js',
  legalComments: 'inline',
  plugins: [{
    name: 'node-builtins',
    setup(b) {
      const filter = new RegExp(`^(node:)?(${builtinModules.join('|')})$`);
      b.onResolve({ filter }, (args) => args.kind === 'require-call'
        ? { path: args.path.replace(/^node:/, ''), namespace: 'node-builtin' }
        : { path: args.path.startsWith('node:') ? args.path : `node:${args.path}`, external: true });
      b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({
        contents: `export * from 'node:${args.path}'; export { default } from 'node:${args.path}';`,
      }));
    },
  }],
});
