// Builds ../main/resources/dev/bulwark/sandbox/prelude/prelude.js (single classic script) and
// THIRD_PARTY_LICENSES.txt next to it. Deterministic: same inputs, same bytes.
import { build } from 'esbuild';
import { readFileSync, writeFileSync, mkdirSync, copyFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, '..', 'main', 'resources', 'dev', 'bulwark', 'sandbox', 'prelude');
const outFile = join(outDir, 'prelude.js');
// The prelude is baked into the startup snapshot: its size costs snapshot bytes, not start-up time.
const MAX_BYTES = 640 * 1024;

// Packages whose code ends up in prelude.js.
const bundled = ['web-streams-polyfill', 'urlpattern-polyfill', 'html-rewriter-wasm'];

// urlpattern-polyfill 10.1.0 (the newest on npm) predates parts of the current URL Pattern
// Standard that workerd follows. Its source is edited here, at build time, each edit checked to
// apply exactly once (an upgrade must re-check them all):
// - its three /[$_\p{ID_Start}]/u-style literals are replaced by src/urlpattern-ids.js (a Unicode
//   property escape must not be compiled while the snapshot is made);
// - the tokenizer and pattern serializer read code points, not UTF-16 code units, so a group
//   name with a character outside the BMP (":a\u{10450}b") is one name;
// - regular expressions are compiled with the `v` flag (set notation, as the spec and workerd);
// - hostname and port canonicalization, and the default ports, are those of src/urlpattern-canon.js
//   (the URL parser with a state override, as the spec defines them).
const URLPATTERN_VERSION = '10.1.0';
const idLiterals = [
  ['/[$_\\p{ID_Start}]/u', '__bulwarkIdStart'],
  ['/[$_\\u200C\\u200D\\p{ID_Continue}]/u', '__bulwarkIdContinue'],
];
const urlpatternEdits = [
  // The tokenizer's name loop: one code point at a time.
  ['let i=e.substr(s,1);if(s===n+1&&Re.test(i)||s!==n+1&&Ee.test(i)){f+=e[s++];continue}',
    'let i=__bulwarkCodePointAt(e,s);if(s===n+1&&Re.test(i)||s!==n+1&&Ee.test(i)){f+=i,s+=i.length;continue}'],
  // A char token and an escaped-char token hold a whole code point.
  ['r.push({type:"CHAR",index:n,value:e[n++]})',
    '{let __c=__bulwarkCodePointAt(e,n);r.push({type:"CHAR",index:n,value:__c}),n+=__c.length}'],
  ['r.push({type:"ESCAPED_CHAR",index:n++,value:e[n++]})',
    '{let __i=n++,__c=__bulwarkCodePointAt(e,n);r.push({type:"ESCAPED_CHAR",index:__i,value:__c}),n+=__c===void 0?1:__c.length}'],
  // Generating a pattern string: "is the next code point a name code point".
  ['let A=p.value.length>0?p.value[0]:"";', 'let A=p.value.length>0?__bulwarkCodePointAt(p.value,0):"";'],
  ['c.test(s.suffix[0])', 'c.test(__bulwarkCodePointAt(s.suffix,0))'],
];
// Whole functions replaced, found by the name the bundler keeps for them (a(NAME,"display name")).
const urlpatternFunctions = {
  flags: (n) => `function ${n}(e){return e&&e.ignoreCase?"vi":"v"}`,
  hostnameEncodeCallback: (n) => `function ${n}(e){return __bulwarkCanonicalizeHostname(e)}`,
  canonicalizeHostname: (n) => `function ${n}(e,t){return t?e:__bulwarkCanonicalizeHostname(e)}`,
  portEncodeCallback: (n) => `function ${n}(e){return __bulwarkCanonicalizePort(e)}`,
  canonicalizePort: (n) => `function ${n}(e,t,r){return r?e:__bulwarkCanonicalizePort(e,t)}`,
  defaultPortForProtocol: (n) => `function ${n}(e){return __bulwarkDefaultPortString(e)}`,
};
function replaceOnce(source, from, to) {
  const at = source.indexOf(from);
  if (at < 0 || source.indexOf(from, at + 1) >= 0) throw new Error(`urlpattern-polyfill: expected ${JSON.stringify(from.slice(0, 60))} exactly once (has the package changed?)`);
  return source.slice(0, at) + to + source.slice(at + from.length);
}
function replaceFunction(source, displayName, make) {
  const marker = new RegExp(`a\\(([A-Za-z_$][\\w$]*),"${displayName}"\\)`).exec(source);
  if (!marker) throw new Error(`urlpattern-polyfill: no function named ${displayName} (has the package changed?)`);
  const name = marker[1];
  const start = source.lastIndexOf(`function ${name}(`, marker.index);
  if (start < 0) throw new Error(`urlpattern-polyfill: no definition of ${displayName}`);
  if (/[;}]a\([A-Za-z_$][\w$]*,"/.test(source.slice(start, marker.index))) throw new Error(`urlpattern-polyfill: ${displayName} is not one function before its name marker`);
  // The definition ends right before the marker: "function X(...){...};a(X,...)".
  return source.slice(0, start) + make(name) + ';' + source.slice(marker.index);
}
const urlpatternIds = {
  name: 'urlpattern-ids',
  setup(b) {
    b.onLoad({ filter: /urlpattern-polyfill[\\/]dist[\\/]urlpattern\.js$/ }, (args) => {
      const pkg = JSON.parse(readFileSync(join(dirname(args.path), '..', 'package.json'), 'utf8'));
      if (pkg.version !== URLPATTERN_VERSION) throw new Error(`urlpattern-polyfill ${pkg.version}: the build edits are for ${URLPATTERN_VERSION}; re-check them`);
      let source = readFileSync(args.path, 'utf8');
      for (const [literal, name] of idLiterals) {
        if (!source.includes(literal)) throw new Error(`urlpattern-polyfill: expected ${literal} (has the package changed?)`);
        source = source.split(literal).join(name);
      }
      for (const [from, to] of urlpatternEdits) source = replaceOnce(source, from, to);
      for (const [displayName, make] of Object.entries(urlpatternFunctions)) source = replaceFunction(source, displayName, make);
      const ids = JSON.stringify(join(here, 'src', 'urlpattern-ids.js'));
      const canon = JSON.stringify(join(here, 'src', 'urlpattern-canon.js'));
      return {
        contents: `import { idStart as __bulwarkIdStart, idContinue as __bulwarkIdContinue } from ${ids};\n`
          + `import { canonicalizeHostname as __bulwarkCanonicalizeHostname, canonicalizePort as __bulwarkCanonicalizePort, defaultPortString as __bulwarkDefaultPortString, codePointAt as __bulwarkCodePointAt } from ${canon};\n${source}`,
        loader: 'js',
      };
    });
  },
};

// html-rewriter-wasm's wasm-bindgen glue is written for Node: it requires 'util', 'assert', 'fs'
// and 'path', and instantiates the module when it loads. Here it takes the prelude's encoders and
// an assert of its own, and instantiates only when the first HTMLRewriter is used (src/html-rewriter.js
// calls __init with a module compiled from bytes the host gives). The .wasm goes next to prelude.js.
const shims = JSON.stringify(join(here, 'src', 'html-rewriter-shims.js'));
const glueEdits = {
  'html_rewriter.js': [
    ['require(String.raw`./asyncify.js`)', 'require("./asyncify.js")'],
    ['require(String.raw`util`)', `require(${shims})`],
    [`const path = require('path').join(__dirname, 'html_rewriter_bg.wasm');
const bytes = require('fs').readFileSync(path);

const wasmModule = new WebAssembly.Module(bytes);
const wasmInstance = new WebAssembly.Instance(wasmModule, imports);
wasm = wasmInstance.exports;
setWasmExports(wasm);
module.exports.__wasm = wasm;`, `module.exports.__init = function (wasmModule) {
    const wasmInstance = new WebAssembly.Instance(wasmModule, imports);
    wasm = wasmInstance.exports;
    setWasmExports(wasm);
};`],
  ],
  'asyncify.js': [['const assert = require("assert");', `const { assert } = require(${shims});`]],
};
const htmlRewriterGlue = {
  name: 'html-rewriter-glue',
  setup(b) {
    b.onLoad({ filter: /html-rewriter-wasm[\\/]dist[\\/](html_rewriter|asyncify)\.js$/ }, (args) => {
      let source = readFileSync(args.path, 'utf8');
      for (const [from, to] of glueEdits[args.path.replace(/^.*[\\/]/, '')]) {
        if (!source.includes(from)) throw new Error(`html-rewriter-wasm: expected ${JSON.stringify(from.slice(0, 60))} (has the package changed?)`);
        source = source.split(from).join(to);
      }
      return { contents: source, loader: 'js' };
    });
  },
};

const result = await build({
  absWorkingDir: here, // comment paths in the output are relative to this: cwd-independent
  entryPoints: [join(here, 'src', 'index.js')],
  bundle: true,
  format: 'iife',
  platform: 'neutral',
  mainFields: ['module', 'main'],
  target: 'es2022',
  inject: [join(here, 'src', 'inject.js')],
  banner: { js: '// Bulwark Web platform prelude. GENERATED by bulwark-sandbox/src/prelude (npm run build): do not edit.\n"use strict";' },
  legalComments: 'eof',
  charset: 'ascii',
  // Minified: every isolate holds the prelude's source (V8 keeps it for lazy compilation and
  // toString) and Javet holds a private copy of the snapshot blob that contains it; minifying
  // took 4311 -> 3757 KiB RSS per isolate (docs/notes/isomem.md). keepNames keeps .name right.
  minify: true,
  treeShaking: true,
  keepNames: true, // class and function names (Request.name, stack traces) survive renaming
  write: false,
  logLevel: 'warning',
  metafile: true,
  plugins: [],
});

const code = result.outputFiles[0].text;

// Parts of the prelude that most workers never use: built apart, kept out of the startup snapshot,
// compiled into an isolate on first use (PreludeParts.java, asked for through H.preludePart). A
// part's script evaluates to a function of the prelude's internals (what it imports from the
// prelude's own modules, passed in rather than bundled twice), which returns the part's exports.
const parts = {
  'html-rewriter': { entry: join(here, 'src', 'parts', 'html-rewriter-glue.js'), internals: { 'encoding.js': ['TextDecoder', 'TextEncoder'] }, plugins: [htmlRewriterGlue] },
  // SubtleCrypto's implementation (src/subtle-impl.js, crypto-keys.js); every other prelude module
  // it imports is the prelude's own (src/subtle.js passes them in), never a second copy.
  subtle: {
    entry: join(here, 'src', 'parts', 'subtle.js'),
    internals: {
      'util.js': ['bytesToArrayBuffer', 'PromiseResolve', 'PromiseReject', 'isObjectLike', 'toDOMString'],
      'encoding.js': ['utf8Encode'],
      'base64.js': ['base64Encode'],
      'crypto-key.js': ['keyRecord', 'newKey'],
      'crypto-intrinsics.js': ['U8', 'len', 'copy', 'JSONStringify', 'utf8ToString', 'parseJsonObject', 'b64urlDecode', 'ObjectKeys', 'append'],
      'crypto-common.js': ['host', 'unframe', 'notSupported', 'invalidAccess', 'dataError', 'operationError', 'syntaxError',
        'normalize', 'hashMember', 'required', 'unsigned', 'bytesArg', 'viewArg', 'digestBytes', 'hmacBytes', 'truncateBits',
        'randomKeyBytes', 'parseUsages', 'checkUsages', 'only', 'has', 'MAX_INPUT'],
    },
    plugins: [],
    // Nothing but these two files may be bundled into the part.
    own: ['src/subtle-impl.js', 'src/crypto-keys.js', 'src/parts/subtle.js'],
  },
  urlpattern: {
    entry: join(here, 'src', 'parts', 'urlpattern.js'),
    internals: { 'url.js': ['URL', 'basicParse', 'newRecord', 'defaultPort', 'HOSTNAME', 'PORT'] },
    inject: [join(here, 'src', 'parts', 'inject-url.js')],
    plugins: [urlpatternIds],
  },
};
const partCodes = {};
for (const [name, part] of Object.entries(parts)) {
  // `import ... from './encoding.js'` inside the part: the prelude's own objects, from __bulwark_internals.
  const fromPrelude = {
    name: 'prelude-internals',
    setup(b) {
      b.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, (args) => {
        const file = args.path.slice(2);
        return part.internals[file] ? { path: file, namespace: 'prelude-internals' } : undefined;
      });
      b.onLoad({ filter: /.*/, namespace: 'prelude-internals' }, (args) => ({
        contents: part.internals[args.path].map((n) => `export const ${n} = __bulwark_internals.${n};`).join('\n'),
        loader: 'js',
      }));
    },
  };
  const built = await build({
    absWorkingDir: here,
    entryPoints: [part.entry],
    bundle: true,
    format: 'iife',
    globalName: '__bulwark_part',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    target: 'es2022',
    banner: { js: `// Bulwark prelude part "${name}". GENERATED by bulwark-sandbox/src/prelude (npm run build): do not edit.\n(function (__bulwark_internals) {\n"use strict";` },
    footer: { js: 'return __bulwark_part.part;\n})' },
    legalComments: 'eof',
    charset: 'ascii',
    minify: true,
    treeShaking: true,
    keepNames: true,
    write: false,
    logLevel: 'warning',
    metafile: true,
    inject: part.inject || [],
    plugins: [fromPrelude, ...part.plugins],
  });
  if (part.own) {
    const stray = Object.keys(built.metafile.inputs).filter((f) => !f.startsWith('prelude-internals:') && !part.own.includes(f));
    if (stray.length > 0) throw new Error(`part ${name} would bundle a second copy of ${stray.join(', ')}: pass it in as internals`);
  }
  partCodes[name] = built.outputFiles[0].text;
}

// Guard rails: no run-time code generation or module loading. (The isolates have ICU since
// Javet's i18n build: Intl and Unicode property escapes are allowed.)
const forbidden = [
  [/\beval\s*\(/, 'eval('],
  [/\bnew\s+Function\s*\(/, 'new Function('],
  [/\bimport\s*\(/, 'import('],
  [/\brequire\s*\(/, 'require('],
];
for (const [file, text] of [['prelude.js', code], ...Object.entries(partCodes).map(([n, c]) => [`parts/${n}.js`, c])]) {
  for (const [re, what] of forbidden) {
    const m = re.exec(text);
    if (m) throw new Error(`${file} must not contain ${what} (at offset ${m.index}: ${text.slice(Math.max(0, m.index - 60), m.index + 40)})`);
  }
}
const size = Buffer.byteLength(code);
if (size > MAX_BYTES) throw new Error(`prelude.js is ${size} bytes, over the ${MAX_BYTES} byte budget`);

mkdirSync(outDir, { recursive: true });
writeFileSync(outFile, code);
mkdirSync(join(outDir, 'parts'), { recursive: true });
for (const [name, text] of Object.entries(partCodes)) writeFileSync(join(outDir, 'parts', `${name}.js`), text);

// Packages whose bundled code is edited by this build (said next to their licence).
const modified = {
  'urlpattern-polyfill': 'Modified: edited at build time by bulwark-sandbox/src/prelude/build.mjs (code points in the tokenizer, the v flag, hostname and port canonicalization from src/urlpattern-canon.js).',
};
let licenses = 'Third-party software bundled into prelude.js\n============================================\n';
for (const name of bundled) {
  const pkg = JSON.parse(readFileSync(join(here, 'node_modules', name, 'package.json'), 'utf8'));
  const licenseFile = join(here, 'node_modules', name, 'LICENSE');
  const text = existsSync(licenseFile) ? readFileSync(licenseFile, 'utf8').trim() : readFileSync(join(here, 'licenses', `${name}.txt`), 'utf8').trim();
  const note = modified[name] ? `${modified[name]}\n` : '';
  licenses += `\n${pkg.name} ${pkg.version} (${pkg.license})\n${pkg.repository && pkg.repository.url ? pkg.repository.url.replace(/^git\+/, '') + '\n' : ''}${note}${'-'.repeat(72)}\n${text}\n`;
}
writeFileSync(join(outDir, 'THIRD_PARTY_LICENSES.txt'), licenses);
copyFileSync(join(here, 'node_modules', 'html-rewriter-wasm', 'dist', 'html_rewriter_bg.wasm'), join(outDir, 'html_rewriter_bg.wasm'));

const inputs = Object.entries(result.metafile.inputs).map(([k, v]) => [k, v.bytes]);
console.log(`prelude.js: ${size} bytes (${(size / 1024).toFixed(1)} KiB) from ${inputs.length} inputs`);
for (const [name, text] of Object.entries(partCodes)) console.log(`parts/${name}.js: ${Buffer.byteLength(text)} bytes`);
