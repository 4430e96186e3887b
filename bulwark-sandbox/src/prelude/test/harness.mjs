// Dev test harness: runs every conformance worker in ../../test/resources/prelude-tests
// (each must answer GET with the body "ok") plus the host-contract tests in test/contract.mjs.
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createIsolate, loadWorker, dispatch } from './host.mjs';
import { contractTests } from './contract.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const preludePath = join(here, '..', '..', 'main', 'resources', 'dev', 'bulwark', 'sandbox', 'prelude', 'prelude.js');
const testsDir = join(here, '..', '..', 'test', 'resources', 'prelude-tests');
const verbose = process.argv.includes('-v');
const filter = process.argv.slice(2).filter((a) => !a.startsWith('-'));

let passed = 0, failed = 0;
const report = (name, ok, detail) => {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? `\n       ${detail.replace(/\n/g, '\n       ')}` : ''}`);
};

// WebCrypto is computed by the JDK (CryptoHost), which this Node harness does not have: the
// crypto workers run only in real isolates (PreludeConformanceTest).
const files = readdirSync(testsDir).filter((f) => f.endsWith('.js') && !f.startsWith('crypto')).sort();
for (const file of files) {
  const name = file.replace(/\.js$/, '');
  if (filter.length && !filter.some((f) => name.includes(f))) continue;
  const started = Date.now();
  try {
    const iso = createIsolate(preludePath, { verbose });
    const handler = await loadWorker(iso, readFileSync(join(testsDir, file), 'utf8'), file);
    const r = await dispatch(iso, handler, { url: `https://prelude-tests.invalid/${name}` }, 1, 20000);
    if (r.error) report(name, false, `${r.error.name}: ${r.error.message}\n${r.error.stack}`);
    else if (!r.start || r.start.status !== 200 || !r.end || r.body.toString('utf8') !== 'ok') {
      report(name, false, `unexpected response: status=${r.start && r.start.status} end=${r.end} body=${JSON.stringify(r.body.toString('utf8').slice(0, 500))}`);
    } else report(`${name} (${Date.now() - started} ms)`, true);
  } catch (err) {
    report(name, false, err && err.stack ? err.stack : String(err));
  }
}

for (const [name, fn] of contractTests) {
  if (filter.length && !filter.some((f) => `contract: ${name}`.includes(f))) continue;
  try {
    await fn({ preludePath, verbose });
    report(`contract: ${name}`, true);
  } catch (err) {
    report(`contract: ${name}`, false, err && err.stack ? err.stack : String(err));
  }
}

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
