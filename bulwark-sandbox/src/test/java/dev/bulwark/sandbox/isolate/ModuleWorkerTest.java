package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.bulwark.sandbox.isolate.Sandboxes.*;
import static org.assertj.core.api.Assertions.assertThat;

/** Workers as bundles of modules: what loads, what does not and why, and the fetch handler's contract. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ModuleWorkerTest {

    static WorkerModule js(String name, String source) {
        return module(name, ModuleType.JS, source);
    }

    static Message.WorkerLoadFailed loadFails(WorkerBundle bundle) throws Exception {
        return loadFails(bundle, "{}", Limits.DEFAULTS);
    }

    static Message.WorkerLoadFailed loadFails(WorkerBundle bundle, String env, Limits limits) throws Exception {
        Message m = loadResult(bundle, env, limits);
        assertThat(m).as("load result").isInstanceOf(Message.WorkerLoadFailed.class);
        return (Message.WorkerLoadFailed) m;
    }

    static Recorder.Outcome ok(Recorder.Outcome out) {
        assertThat(out.failure()).as("outcome %s", out).isNull();
        assertThat(out.status()).as("outcome %s", out).isEqualTo(200);
        return out;
    }

    // ================================================================ module types and resolution

    @Nested
    @DisplayName("bundles")
    class Bundles {
        @Test
        void textDataAndJsonModulesAreDefaultExports() throws Exception {
            String w = load(bundle("""
                    import text from './greeting.txt';
                    import data from './blob.bin';
                    import config from './config.json';
                    export default {
                      fetch() {
                        const bytes = new Uint8Array(data);
                        return Response.json({
                          text, dataIsArrayBuffer: data instanceof ArrayBuffer, bytes: [...bytes], config,
                        });
                      }
                    };""",
                    module("greeting.txt", ModuleType.TEXT, "héllo ✓"),
                    new WorkerModule("blob.bin", ModuleType.DATA, new byte[]{0, 1, (byte) 255}),
                    module("config.json", ModuleType.JSON, "{\"name\": \"bulwark\", \"list\": [1, 2]}")), Limits.DEFAULTS);
            assertThat(ok(fetch(w, "http://m.test/")).body()).isEqualTo(
                    "{\"text\":\"héllo ✓\",\"dataIsArrayBuffer\":true,\"bytes\":[0,1,255],\"config\":{\"name\":\"bulwark\",\"list\":[1,2]}}");
        }

        @Test
        void aWasmModuleIsACompiledWebAssemblyModule() throws Exception {
            String w = load(bundle("""
                    import mod from './add.wasm';
                    export default {
                      async fetch() {
                        const sync = new WebAssembly.Instance(mod).exports.add(2, 3);
                        const { exports } = await WebAssembly.instantiate(mod);
                        return new Response(`${mod instanceof WebAssembly.Module} ${sync} ${exports.add(40, 2)}`);
                      }
                    };""", new WorkerModule("add.wasm", ModuleType.WASM, WasmModules.add())), Limits.DEFAULTS);
            assertThat(ok(fetch(w, "http://m.test/")).body()).isEqualTo("true 5 42");
        }

        @Test
        void invalidWasmFailsTheLoadNamingTheModule() throws Exception {
            Message.WorkerLoadFailed f = loadFails(bundle("import m from './bad.wasm'; export default {};",
                    new WorkerModule("bad.wasm", ModuleType.WASM, new byte[]{1, 2, 3})));
            assertThat(f.code()).isEqualTo(ErrorCode.WORKER_LOAD_FAILED.code());
            assertThat(f.message()).contains("bad.wasm").contains("WebAssembly");
        }

        @Test
        void invalidJsonFailsTheLoadNamingTheModule() throws Exception {
            Message.WorkerLoadFailed f = loadFails(bundle("import c from './c.json'; export default {};",
                    module("c.json", ModuleType.JSON, "{not json")));
            assertThat(f.message()).contains("c.json").contains("invalid JSON");
        }

        @Test
        void relativeImportsResolveAcrossDirectories() throws Exception {
            WorkerBundle b = WorkerBundle.of("src/index.js", List.of(
                    js("src/index.js", """
                            import { a } from './lib/a.js';
                            import { c } from '/src/lib/deep/c.js';
                            export default { fetch() { return new Response(a() + ' ' + c); } };"""),
                    js("src/lib/a.js", "import { b } from '../b.js'; import { c } from './deep/c.js'; export const a = () => 'a' + b + c;"),
                    js("src/b.js", "export const b = 'b';"),
                    js("src/lib/deep/c.js", "import { b } from '../../b.js'; export const c = 'c' + b;")));
            assertThat(ok(fetch(load(b, Limits.DEFAULTS), "http://m.test/")).body()).isEqualTo("abcb cb");
        }

        @Test
        void aModuleIsEvaluatedOnceHoweverOftenItIsImported() throws Exception {
            String w = load(bundle("""
                    import { n as n1 } from './counter.js';
                    import { n as n2 } from './lib/../counter.js';
                    import { n as n3 } from './again.js';
                    export default { fetch() { return new Response(`${n1} ${n2} ${n3} ${globalThis.evaluations}`); } };""",
                    js("counter.js", "globalThis.evaluations = (globalThis.evaluations ?? 0) + 1; export const n = globalThis.evaluations;"),
                    js("again.js", "export { n } from './counter.js';")), Limits.DEFAULTS);
            assertThat(ok(fetch(w, "http://m.test/")).body()).isEqualTo("1 1 1 1");
        }

        @Test
        void workerEntrypointFromCloudflareWorkersIsAHandlerClassWithEnv() throws Exception {
            for (String specifier : List.of("cloudflare:workers", "bulwark:workers")) {
                String w = load(bundle("""
                        import { WorkerEntrypoint } from '%s';
                        export default class extends WorkerEntrypoint {
                          async fetch(request) {
                            return new Response(`${this.env.GREETING} ${new URL(request.url).pathname} ${typeof this.ctx.waitUntil}`);
                          }
                        };""".formatted(specifier)), "{\"GREETING\": \"hi\"}", Limits.DEFAULTS);
                assertThat(ok(fetch(w, "http://m.test/there")).body()).as(specifier).isEqualTo("hi /there function");
            }
        }

        @Test
        void durableObjectAndTheOtherBaseClassesResolve() throws Exception {
            String w = load(bundle("""
                    import { DurableObject, WorkerEntrypoint, RpcTarget, WorkflowEntrypoint } from 'cloudflare:workers';
                    import * as alias from 'bulwark:workers';
                    export class Counter extends DurableObject {}
                    export default {
                      fetch() {
                        return new Response([typeof DurableObject, typeof WorkerEntrypoint, typeof RpcTarget,
                          typeof WorkflowEntrypoint, alias.DurableObject === DurableObject,
                          new Counter('ctx', 'env').env].join(' '));
                      }
                    };"""), Limits.DEFAULTS);
            assertThat(ok(fetch(w, "http://m.test/")).body()).isEqualTo("function function function function true env");
        }

        @Test
        void aSyntaxErrorFailsTheLoadNamingFileAndLine() throws Exception {
            Message.WorkerLoadFailed f = loadFails(bundle("""
                    export default {
                      fetch() {
                        return new Response('x';
                      }
                    };"""));
            assertThat(f.code()).isEqualTo(ErrorCode.WORKER_LOAD_FAILED.code());
            assertThat(f.message()).contains("index.js:3").contains("SyntaxError");
        }

        @Test
        void aSyntaxErrorInAnImportedModuleNamesThatModuleAndLine() throws Exception {
            Message.WorkerLoadFailed f = loadFails(bundle("import './lib/broken.js'; export default {};",
                    js("lib/broken.js", "// fine\n// fine\nconst = 1;\n")));
            assertThat(f.message()).contains("lib/broken.js:3").contains("SyntaxError");
        }

        @Test
        void aMissingImportFailsTheLoadNamingTheSpecifier() throws Exception {
            Message.WorkerLoadFailed f = loadFails(bundle("import { x } from './nowhere.js'; export default {};"));
            assertThat(f.code()).isEqualTo(ErrorCode.WORKER_LOAD_FAILED.code());
            assertThat(f.message()).contains("index.js").contains("'./nowhere.js'");
        }

        @Test
        void aMissingImportInANestedModuleNamesTheImporter() throws Exception {
            Message.WorkerLoadFailed f = loadFails(bundle("import './lib/a.js'; export default {};",
                    js("lib/a.js", "import '../lib/nope.js';")));
            assertThat(f.message()).contains("lib/a.js").contains("'../lib/nope.js'");
        }

        @Test
        void anImportEscapingTheBundleRootFails() throws Exception {
            WorkerBundle b = WorkerBundle.of("src/index.js", List.of(
                    js("src/index.js", "import x from '../../x.js'; export default {};"),
                    js("x.js", "export default 1;")));
            Message.WorkerLoadFailed f = loadFails(b);
            assertThat(f.message()).contains("src/index.js").contains("'../../x.js'");
        }

        @Test
        void aBareSpecifierIsAPathFromTheImportingModulesDirectory() throws Exception {
            // As workerd's (kj::Path::eval): from lib/a.js, 'w.js' is lib/w.js; '/v.js' is from the root.
            String w = load(bundle("import { v } from 'lib/v.js'; export default { fetch() { return new Response(v); } };",
                    js("lib/v.js", "import { w } from 'w.js'; import { r } from '/r.js'; export const v = 'bare ' + w + r;"),
                    js("lib/w.js", "export const w = 'w';"), js("r.js", "export const r = 'r';")), Limits.DEFAULTS);
            assertThat(ok(fetch(w, "http://m.test/")).body()).isEqualTo("bare wr");
            Message.WorkerLoadFailed f = loadFails(bundle("import { v } from 'v.js'; export default {};",
                    js("lib/v.js", "export const v = 'bare';")));
            assertThat(f.message()).contains("'v.js'");
        }

        static WorkerModule cjs(String name, String source) {
            return module(name, ModuleType.CJS, source);
        }

        @Test
        void aCommonJsModuleIsTheDefaultExportOfItsModuleExports() throws Exception {
            // require() of CommonJS (relative, with a cycle: b sees a's exports so far), of an ES
            // module (its default export from 2022-10-31), of text; __filename/__dirname are bundle
            // paths; the body runs once, in the module graph's order.
            String w = load(bundle("""
                    import order from './order.js';
                    import a from './lib/a.cjs';
                    import again from './lib/a.cjs';
                    export default {
                      fetch() {
                        return Response.json({ order: [...order], same: a === again, a });
                      }
                    };""",
                    js("order.js", "export default [];"),
                    cjs("lib/a.cjs", """
                            const order = require('../order.js');
                            order.push('a');
                            exports.early = true;
                            const b = require('./b.cjs');
                            module.exports = { b, file: __filename, dir: __dirname, text: require('/t.txt'),
                              esm: require('../esm.js'), self: this === exports };"""),
                    cjs("lib/b.cjs", """
                            require('../order.js').push('b');
                            module.exports = { sawEarly: require('./a.cjs').early };"""),
                    js("esm.js", "export default 'esm default'; export const other = 1;"),
                    module("t.txt", ModuleType.TEXT, "text"))
                    .withCompatibility(new dev.bulwark.sandbox.worker.Compatibility("2024-01-01", List.of())), Limits.DEFAULTS);
            assertThat(ok(fetch(w, "http://m.test/")).body()).isEqualTo("{\"order\":[\"a\",\"b\"],\"same\":true,\"a\":"
                    + "{\"b\":{\"sawEarly\":true},\"file\":\"/lib/a.cjs\",\"dir\":\"/lib\",\"text\":\"text\","
                    + "\"esm\":\"esm default\",\"self\":true}}");
        }

        @Test
        void aCommonJsMainModuleExportsTheHandlersAndRequiresLater() throws Exception {
            // Before 2022-10-31 require() of an ES module gives its namespace; a require() in a
            // handler (after the load) links and evaluates a module nothing imported yet.
            String w = load(WorkerBundle.of("index.cjs", List.of(
                    cjs("index.cjs", """
                            module.exports = {
                              fetch() {
                                const late = require('./late.js');
                                return new Response(`${late.default} ${late.named} ${require('./late.js') === late}`);
                              }
                            };"""),
                    js("late.js", "export default 'late'; export const named = 2;")))
                    .withCompatibility(new dev.bulwark.sandbox.worker.Compatibility("2022-01-01", List.of())), Limits.DEFAULTS);
            assertThat(ok(fetch(w, "http://m.test/")).body()).isEqualTo("late 2 true");
        }

        @Test
        void requireReachesOnlyTheBundleAndItsErrorsAreWorkerds() throws Exception {
            String w = load(WorkerBundle.of("index.cjs", List.of(
                    cjs("index.cjs", """
                            const tryIt = (s) => { try { require(s); return 'loaded'; } catch (e) { return `${e.name}: ${e.message}`; } };
                            module.exports = {
                              fetch() {
                                return Response.json([tryIt('../outside.js'), tryIt('./nope.js'), tryIt('node:fs'),
                                  tryIt('/etc/passwd'), tryIt('./throws.cjs'), tryIt('./throws.cjs'), tryIt('./tla.js')]);
                              }
                            };"""),
                    cjs("throws.cjs", "\n\nthrow new RangeError('at line 3');"),
                    js("tla.js", "await new Promise(() => {}); export default 1;"))), Limits.DEFAULTS);
            assertThat(ok(fetch(w, "http://m.test/")).body()).isEqualTo("[\"TypeError: Invalid module specifier \\\"../outside.js\\\".\","
                    + "\"Error: No such module \\\"nope.js\\\".\",\"Error: No such module \\\"node:fs\\\".\","
                    + "\"Error: No such module \\\"etc/passwd\\\".\",\"RangeError: at line 3\",\"RangeError: at line 3\","
                    + "\"Error: Top-level await in module is unsettled.\"]");
        }

        @Test
        void aThrowInACommonJsModuleFailsTheLoadWithItsPlace() throws Exception {
            Message.WorkerLoadFailed f = loadFails(bundle("import x from './c.cjs'; export default {};",
                    cjs("c.cjs", "exports.a = 1;\nnull.boom;")));
            assertThat(f.message()).contains("TypeError").contains("c.cjs:2");
            f = loadFails(bundle("import x from './c.cjs'; export default {};", cjs("c.cjs", "exports.a = 1;\n}")));
            assertThat(f.message()).contains("SyntaxError").contains("c.cjs:2");
        }

        @Test
        void aCommonJsModuleHasOnlyADefaultExport() throws Exception {
            Message.WorkerLoadFailed f = loadFails(bundle("import { a } from './c.cjs'; export default {};",
                    cjs("c.cjs", "exports.a = 1;")));
            assertThat(f.message()).contains("SyntaxError").contains("'a'");
        }

        @Test
        void aDeepChainOfRequiresThroughEsModulesFailsWithoutTakingTheSandboxDown() throws Exception {
            // c0.cjs requires e0.js, which imports c1.cjs, which requires e1.js, ...: every step nests
            // a host call (require of an ES module links and evaluates it from Java).
            int depth = 3000; // past ModuleLinker.MAX_REQUIRE_NESTING: refused before the stack runs out
            List<WorkerModule> modules = new java.util.ArrayList<>();
            modules.add(js("index.js", """
                    import c from './c0.cjs';
                    export default { fetch() { return new Response(String(c)); } };"""));
            for (int i = 0; i < depth; i++) {
                modules.add(cjs("c" + i + ".cjs", "module.exports = require('./e" + i + ".js');"));
                modules.add(js("e" + i + ".js", i + 1 < depth ? "import c from './c" + (i + 1) + ".cjs'; export default c;" : "export default 'bottom';"));
            }
            Message m = loadResult(WorkerBundle.of("index.js", modules), Limits.DEFAULTS);
            assertThat(m).isInstanceOf(Message.WorkerLoadFailed.class);
            assertThat(((Message.WorkerLoadFailed) m).message()).contains("require() is nested too deep");
            // Either way the sandbox is still there: a plain worker loads and answers.
            String w = load(bundle("export default { fetch() { return new Response('alive'); } };"), Limits.DEFAULTS);
            assertThat(ok(fetch(w, "http://m.test/")).body()).isEqualTo("alive");
        }

        @Test
        void aNestedRequireBesideATopLevelAwaitModule() throws Exception {
            // workerd's module-tla-nested-require-test graphs, imported statically (the suite itself
            // imports them with import(), DynamicImportTest and WorkerdConformanceTest): a CommonJS module's nested require() while a sibling's top-level await
            // is pending (a V8 CHECK in workerd before its fix); and a require() of a module whose
            // top-level await never settles fails the load with workerd's message.
            WorkerModule leaf = js("leaf", "await Promise.resolve();\nexport const v = 1;\n");
            WorkerModule pump = cjs("pump", "require('trivial'); exports.ok = true;");
            WorkerModule trivial = cjs("trivial", "exports.ok = true;");
            String w = load(bundle("""
                    import v from 'entry';
                    import pump from 'pump';
                    export default { fetch() { return new Response(`${v} ${pump.ok}`); } };""",
                    js("entry", "import { v } from 'leaf';\nimport 'pump';\nexport default v;\n"), leaf, pump, trivial), Limits.DEFAULTS);
            assertThat(ok(fetch(w, "http://m.test/")).body()).isEqualTo("1 true");
            Message.WorkerLoadFailed f = loadFails(bundle("import 'req-entry'; export default {};",
                    js("req-entry", "import 'req-pump';\nexport default 1;\n"),
                    cjs("req-pump", "module.exports = require('req-never-settles');"),
                    js("req-never-settles", "await new Promise(() => {});\nexport const x = 1;\n")));
            assertThat(f.message()).contains("Top-level await in module is unsettled.");
        }

        @Test
        void withEnvAndWithExportsReplaceTheImportedOnesForTheCodeTheyRun() throws Exception {
            String source = """
                    import { env, exports, withEnv, withExports } from 'cloudflare:workers';
                    const atLoad = env.FOO;
                    export default {
                      async fetch(request, argEnv) {
                        const out = [atLoad, env.FOO, typeof exports.default];
                        out.push(await withEnv({ BAZ: 1 }, async () => {
                          await scheduler.wait(1);
                          return `${env.FOO} ${env.BAZ} ${Object.keys(env)}`;
                        }));
                        out.push(withEnv(null, () => `${typeof env} ${Object.keys(env).length}`));
                        out.push(withExports('not an object', () => typeof exports.default));
                        out.push(withExports({ x: 1 }, (a) => `${exports.x} ${exports.default} ${a}`, 'arg'));
                        env.SET = 'set';
                        exports.ignored = 1; // as workerd's: a write to exports is lost, not an error
                        out.push(`${env.FOO} ${env.SET} ${argEnv.SET} ${env === argEnv} ${exports.ignored}`);
                        return new Response(out.join('|'));
                      }
                    };""";
            String w = load(bundle(source), "{\"FOO\":\"bar\"}", Limits.DEFAULTS);
            assertThat(ok(fetch(w, "http://m.test/")).body())
                    .isEqualTo("bar|bar|function|undefined 1 BAZ|object 0|function|1 undefined arg|bar set undefined false undefined");
            // disallow_importable_env: both are empty (withEnv still works).
            String off = load(bundle(source).withCompatibility(new dev.bulwark.sandbox.worker.Compatibility(
                    "2025-09-01", List.of("disallow_importable_env"))), "{\"FOO\":\"bar\"}", Limits.DEFAULTS);
            assertThat(ok(fetch(off, "http://m.test/")).body())
                    .isEqualTo("||undefined|undefined 1 BAZ|object 0|undefined|1 undefined arg|undefined set undefined false undefined");
        }

        @Test
        void requireOfNodeBuiltinsUnderNodejsCompat() throws Exception {
            String w = load(WorkerBundle.of("index.cjs", List.of(
                    cjs("index.cjs", """
                            const { Buffer } = require('node:buffer');
                            const path = require('path');
                            module.exports = { fetch() { return new Response(Buffer.from(path.join('a', 'b')).toString('hex')); } };""")))
                    .withCompatibility(new dev.bulwark.sandbox.worker.Compatibility("2025-09-20", List.of("nodejs_compat"))),
                    Limits.DEFAULTS);
            assertThat(ok(fetch(w, "http://m.test/")).body()).isEqualTo("612f62");
        }

        @Test
        void aTopLevelThrowFailsTheLoadWithTheError() throws Exception {
            Message.WorkerLoadFailed f = loadFails(bundle("throw new Error('no config'); export default {};"));
            assertThat(f.code()).isEqualTo(ErrorCode.WORKER_LOAD_FAILED.code());
            assertThat(f.message()).contains("index.js").contains("Error: no config");
        }

        @Test
        void aTopLevelRejectedAwaitFailsTheLoadWithTheError() throws Exception {
            Message.WorkerLoadFailed f = loadFails(bundle("await Promise.reject(new TypeError('async no')); export default {};"));
            assertThat(f.message()).contains("TypeError: async no");
        }

        @Test
        void aTopLevelAwaitThatNeverSettlesFailsTheLoad() throws Exception {
            for (String source : List.of(
                    "await new Promise(() => {});\nexport default { fetch() { return new Response('never'); } };",
                    "export default { fetch() { return new Response('half evaluated'); } };\nawait new Promise(() => {});")) {
                Message.WorkerLoadFailed f = loadFails(bundle(source));
                assertThat(f.code()).isEqualTo(ErrorCode.WORKER_LOAD_FAILED.code());
                assertThat(f.message()).as(source).contains("index.js").contains("top-level await");
            }
        }

        @Test
        void timersCannotBeSetInTheGlobalScope() throws Exception {
            Message.WorkerLoadFailed f = loadFails(bundle("setTimeout(() => {}, 1); export default {};"));
            assertThat(f.message()).contains("Disallowed operation called within global scope");
        }

        @Test
        void aFetchToAWorkerWhoseLoadFailedFailsWithTheLoadError() throws Exception {
            long correlation = nextId();
            String id = "broken" + correlation;
            RUNTIME.deliver(new Message.LoadWorker(correlation, id, bundle("throw new Error('broken at load');"), "{}", Limits.DEFAULTS));
            assertThat(RECORDER.load(correlation).get(30, TimeUnit.SECONDS)).isInstanceOf(Message.WorkerLoadFailed.class);
            Recorder.Outcome out = fetch(id, "http://m.test/");
            assertThat(out.failure().code()).isEqualTo(ErrorCode.WORKER_LOAD_FAILED.code());
            assertThat(out.failure().message()).contains("broken at load");
        }

        @Test
        void aFetchToAnUnknownWorkerIsNotFound() throws Exception {
            Recorder.Outcome out = fetch("no-such-worker", "http://m.test/");
            assertThat(out.failure().code()).isEqualTo(ErrorCode.NOT_FOUND.code());
        }

        @Test
        void reloadingAWorkerIdReplacesItsCode() throws Exception {
            String id = "reloaded" + nextId();
            for (String version : List.of("v1", "v2")) {
                long correlation = nextId();
                RUNTIME.deliver(new Message.LoadWorker(correlation, id,
                        bundle("export default { fetch() { return new Response('" + version + "'); } };"), "{}", Limits.DEFAULTS));
                assertThat(RECORDER.load(correlation).get(30, TimeUnit.SECONDS)).isInstanceOf(Message.WorkerLoaded.class);
                assertThat(ok(fetch(id, "http://m.test/")).body()).isEqualTo(version);
            }
        }
    }

    // ================================================================ limits on what is loaded

    @Nested
    @DisplayName("load limits and env")
    class LoadLimits {
        @Test
        void codeOverTheCodeSizeLimitIsCodeTooLarge() throws Exception {
            Limits d = Limits.DEFAULTS;
            Limits small = new Limits(d.cpuMs(), d.wallMs(), d.heapMb(), d.subrequests(), 1_000, d.envBytes(), d.requestBodyBytes());
            WorkerBundle b = bundle("export default {};", module("big.txt", ModuleType.TEXT, "x".repeat(1_000)));
            Message.WorkerLoadFailed f = loadFails(b, "{}", small);
            assertThat(f.code()).isEqualTo(ErrorCode.CODE_TOO_LARGE.code());
            assertThat(f.message()).contains(String.valueOf(b.codeSize())).contains("1000");
            assertThat(loadResult(bundle("export default {};"), small)).isInstanceOf(Message.WorkerLoaded.class);
        }

        @Test
        void anEnvOverTheEnvSizeLimitIsEnvTooLarge() throws Exception {
            Limits d = Limits.DEFAULTS;
            Limits small = new Limits(d.cpuMs(), d.wallMs(), d.heapMb(), d.subrequests(), d.codeBytes(), 100, d.requestBodyBytes());
            String env = "{\"SECRET\": \"" + "s".repeat(100) + "\"}";
            Message.WorkerLoadFailed f = loadFails(bundle("export default {};"), env, small);
            assertThat(f.code()).isEqualTo(ErrorCode.ENV_TOO_LARGE.code());
            assertThat(f.message()).contains(String.valueOf(env.length())).contains("100");
        }

        @Test
        void envVarsReachTheHandler() throws Exception {
            String w = load(bundle("""
                    export default {
                      fetch(request, env) {
                        return Response.json({ greeting: env.GREETING, n: env.N + 1, nested: env.NESTED.list, keys: Object.keys(env) });
                      }
                    };"""), "{\"GREETING\": \"grüß dich\", \"N\": 41, \"NESTED\": {\"list\": [true, null]}}", Limits.DEFAULTS);
            assertThat(ok(fetch(w, "http://m.test/")).body())
                    .isEqualTo("{\"greeting\":\"grüß dich\",\"n\":42,\"nested\":[true,null],\"keys\":[\"GREETING\",\"N\",\"NESTED\"]}");
        }

        @Test
        void aNullEnvIsAnEmptyObject() throws Exception {
            long correlation = nextId();
            String id = "nullenv" + correlation;
            RUNTIME.deliver(new Message.LoadWorker(correlation, id,
                    bundle("export default { fetch(r, env) { return new Response(JSON.stringify(env)); } };"), null, Limits.DEFAULTS));
            assertThat(RECORDER.load(correlation).get(30, TimeUnit.SECONDS)).isInstanceOf(Message.WorkerLoaded.class);
            assertThat(ok(fetch(id, "http://m.test/")).body()).isEqualTo("{}");
        }
    }

    // ================================================================ the fetch handler

    @Nested
    @DisplayName("fetch handler")
    class Handler {
        @Test
        void waitUntilWorkRunsAfterTheResponseWasSent() throws Exception {
            String w = load(bundle("""
                    export default {
                      fetch(request, env, ctx) {
                        ctx.waitUntil(scheduler.wait(20).then(() => console.log('after the response')));
                        return new Response('sent');
                      }
                    };"""), Limits.DEFAULTS);
            long id = start(w, "GET", "http://m.test/", null);
            assertThat(ok(RECORDER.await(id)).body()).isEqualTo("sent");
            List<Message> events = RECORDER.events(id);
            int end = indexOf(events, m -> m instanceof Message.ResponseEnd);
            int log = indexOf(events, m -> m instanceof Message.LogLine l && l.message().equals("after the response"));
            int done = indexOf(events, m -> m instanceof Message.InvocationDone);
            assertThat(end).as("ResponseEnd in %s", events).isNotNegative();
            assertThat(log).as("the waitUntil log line comes after ResponseEnd: %s", events).isGreaterThan(end);
            assertThat(done).as("InvocationDone comes last: %s", events).isEqualTo(events.size() - 1);
        }

        @Test
        void aRejectedWaitUntilIsLoggedAndDoesNotFailTheResponse() throws Exception {
            String w = load(bundle("""
                    export default {
                      fetch(request, env, ctx) {
                        ctx.waitUntil(scheduler.wait(5).then(() => { throw new Error('background failed'); }));
                        return new Response('fine');
                      }
                    };"""), Limits.DEFAULTS);
            long id = start(w, "GET", "http://m.test/", null);
            assertThat(ok(RECORDER.await(id)).body()).isEqualTo("fine");
            assertThat(RECORDER.logs(id)).anySatisfy(l -> {
                assertThat(l.level()).isEqualTo("error");
                assertThat(l.message()).contains("background failed");
            });
        }

        @Test
        void passThroughOnExceptionMarksTheFailure() throws Exception {
            String w = load(bundle("""
                    export default {
                      fetch(request, env, ctx) {
                        ctx.passThroughOnException();
                        throw new Error('let the origin answer');
                      }
                    };"""), Limits.DEFAULTS);
            Recorder.Outcome out = fetch(w, "http://m.test/");
            assertThat(out.failure()).isNotNull();
            assertThat(out.failure().code()).isEqualTo(ErrorCode.WORKER_THREW.code());
            assertThat(out.failure().passThrough()).isTrue();
            assertThat(out.failure().message()).isEqualTo("Error: let the origin answer");
        }

        @Test
        void withoutPassThroughAThrowIsNotMarked() throws Exception {
            String w = load(bundle("export default { fetch() { throw new Error('plain'); } };"), Limits.DEFAULTS);
            assertThat(fetch(w, "http://m.test/").failure().passThrough()).isFalse();
        }

        @Test
        void aHandlerReturningANonResponseIsAWorkerException() throws Exception {
            String w = load(bundle("export default { async fetch() { return 'just a string'; } };"), Limits.DEFAULTS);
            Recorder.Outcome out = fetch(w, "http://m.test/");
            assertThat(out.status()).isEqualTo(-1);
            assertThat(out.failure().code()).isEqualTo(ErrorCode.WORKER_THREW.code());
            assertThat(out.failure().message())
                    .isEqualTo("TypeError: Incorrect type for Promise: the Promise did not resolve to 'Response'.");
        }

        @Test
        void aModuleWithoutAFetchHandlerIsAWorkerException() throws Exception {
            String w = load(bundle("export const notDefault = 1;"), Limits.DEFAULTS);
            Recorder.Outcome out = fetch(w, "http://m.test/");
            assertThat(out.failure().code()).isEqualTo(ErrorCode.WORKER_THREW.code());
            assertThat(out.failure().message()).contains("Handler does not export a fetch() function.");
        }

        @Test
        void anUncaughtExceptionIsLoggedAsAnErrorWithItsStack() throws Exception {
            String w = load(bundle("""
                    function deep() { throw new Error('kaboom'); }
                    export default { fetch() { deep(); } };"""), Limits.DEFAULTS);
            long id = start(w, "GET", "http://m.test/", null);
            Recorder.Outcome out = RECORDER.await(id);
            assertThat(out.failure().code()).isEqualTo(ErrorCode.WORKER_THREW.code());
            assertThat(out.failure().message()).isEqualTo("Error: kaboom");
            assertThat(RECORDER.logs(id)).anySatisfy(l -> {
                assertThat(l.level()).isEqualTo("error");
                assertThat(l.invocationId()).isEqualTo(id);
                assertThat(l.workerId()).isEqualTo(w);
                assertThat(l.message()).startsWith("Uncaught Error: kaboom").contains("at deep (index.js:1:");
            });
        }

        @Test
        void anUncaughtExceptionIsLoggedOnce() throws Exception {
            String w = load(bundle("export default { async fetch() { throw new Error('once'); } };"), Limits.DEFAULTS);
            long id = start(w, "GET", "http://m.test/", null);
            RECORDER.await(id);
            assertThat(RECORDER.logs(id)).as("error lines").filteredOn(l -> l.message().contains("once")).hasSize(1);
        }

        @Test
        void aRejectionHandledLaterIsNotReportedAsUncaught() throws Exception {
            String w = load(bundle("""
                    export default {
                      async fetch() {
                        const p = Promise.reject(new Error('handled later'));
                        await null;
                        try { await p; } catch {}
                        try { await import('node:fs'); } catch {}
                        return new Response('fine');
                      }
                    };"""), Limits.DEFAULTS);
            long id = start(w, "GET", "http://m.test/", null);
            assertThat(ok(RECORDER.await(id)).body()).isEqualTo("fine");
            assertThat(RECORDER.logs(id)).isEmpty();
        }

        @Test
        void anUnhandledRejectionIsLoggedButDoesNotFailTheResponse() throws Exception {
            String w = load(bundle("""
                    export default {
                      fetch() {
                        Promise.reject(new Error('nobody listens'));
                        return new Response('fine');
                      }
                    };"""), Limits.DEFAULTS);
            long id = start(w, "GET", "http://m.test/", null);
            assertThat(ok(RECORDER.await(id)).body()).isEqualTo("fine");
            assertThat(RECORDER.logs(id)).anySatisfy(l -> {
                assertThat(l.level()).isEqualTo("error");
                assertThat(l.message()).startsWith("Uncaught (in promise)").contains("nobody listens");
            });
        }

        @Test
        void consoleLinesAreCapturedWithLevelAndInvocation() throws Exception {
            String w = load(bundle("""
                    export default {
                      fetch() {
                        console.log('plain', 1, {a: [1, 2]});
                        console.info('info');
                        console.warn('careful');
                        console.error('broken', new Error('e1').message);
                        console.debug('debug');
                        return new Response('logged');
                      }
                    };"""), Limits.DEFAULTS);
            long id = start(w, "GET", "http://m.test/", null);
            ok(RECORDER.await(id));
            List<Message.LogLine> lines = RECORDER.logs(id);
            assertThat(lines).extracting(Message.LogLine::level).containsExactly("log", "info", "warn", "error", "debug");
            assertThat(lines).extracting(Message.LogLine::message)
                    .containsExactly("plain 1 { a: [ 1, 2 ] }", "info", "careful", "broken e1", "debug");
            assertThat(lines).allSatisfy(l -> {
                assertThat(l.invocationId()).isEqualTo(id);
                assertThat(l.workerId()).isEqualTo(w);
                assertThat(l.timestampMillis()).isPositive();
            });
        }

        @Test
        void theRequestReachesTheHandler() throws Exception {
            String w = load(bundle("""
                    export default {
                      async fetch(request) {
                        const kind = new URL(request.url).searchParams.get('kind');
                        const body = kind === 'json' ? JSON.stringify(await request.json()) : await request.text();
                        return new Response(`${request.method} ${request.url} ${request.headers.get('x-h')} ${body}`);
                      }
                    };"""), Limits.DEFAULTS);
            byte[] text = "grüße, body".getBytes(StandardCharsets.UTF_8);
            long id = start(w, "POST", "http://m.test/p?kind=text", List.of(new Message.Header("X-H", "v")), text);
            assertThat(ok(RECORDER.await(id)).body()).isEqualTo("POST http://m.test/p?kind=text v grüße, body");
            byte[] json = "{\"a\": [1, {\"b\": null}]}".getBytes(StandardCharsets.UTF_8);
            id = start(w, "PUT", "http://m.test/p?kind=json", List.of(new Message.Header("content-type", "application/json")), json);
            assertThat(ok(RECORDER.await(id)).body()).isEqualTo("PUT http://m.test/p?kind=json null {\"a\":[1,{\"b\":null}]}");
        }

        @Test
        void aGetHasNoBody() throws Exception {
            String w = load(bundle("export default { async fetch(r) { return new Response(String(r.body) + ' [' + await r.text() + ']'); } };"),
                    Limits.DEFAULTS);
            assertThat(ok(fetch(w, "http://m.test/")).body()).isEqualTo("null []");
        }

        @Test
        void aStreamedResponseArrivesInFull() throws Exception {
            String w = load(bundle("""
                    export default {
                      fetch() {
                        let i = 0;
                        const enc = new TextEncoder();
                        return new Response(new ReadableStream({
                          async pull(c) {
                            if (i === 5) { c.close(); return; }
                            await scheduler.wait(2);
                            c.enqueue(enc.encode('chunk' + i++ + ';'));
                          }
                        }), { status: 201, headers: { 'content-type': 'text/plain' } });
                      }
                    };"""), Limits.DEFAULTS);
            long id = start(w, "GET", "http://m.test/", null);
            Recorder.Outcome out = RECORDER.await(id);
            assertThat(out.failure()).isNull();
            assertThat(out.status()).isEqualTo(201);
            assertThat(out.header("content-type")).isEqualTo("text/plain");
            assertThat(out.body()).isEqualTo("chunk0;chunk1;chunk2;chunk3;chunk4;");
            List<Message> events = RECORDER.events(id);
            assertThat(events.stream().filter(m -> m instanceof Message.ResponseChunk)).hasSize(5);
            assertThat(events.getFirst()).isInstanceOf(Message.ResponseHead.class);
            assertThat(events.get(events.size() - 2)).isInstanceOf(Message.ResponseEnd.class);
        }

        @Test
        void aStreamThatErrorsAfterTheHeadFailsTheInvocation() throws Exception {
            String w = load(bundle("""
                    export default {
                      fetch() {
                        return new Response(new ReadableStream({
                          start(c) { c.enqueue(new TextEncoder().encode('partial')); },
                          async pull(c) { await scheduler.wait(1); c.error(new Error('stream broke')); }
                        }));
                      }
                    };"""), Limits.DEFAULTS);
            Recorder.Outcome out = fetch(w, "http://m.test/");
            assertThat(out.status()).isEqualTo(200);
            assertThat(out.body()).isEqualTo("partial");
            assertThat(out.failure().code()).isEqualTo(ErrorCode.WORKER_THREW.code());
            assertThat(out.failure().message()).isEqualTo("Error: stream broke");
        }

        @Test
        void aSubrequestResultReachesTheWorker() throws Exception {
            String w = load(bundle("""
                    export default {
                      async fetch() {
                        const r = await fetch('https://api.test/v1', { method: 'POST', body: 'ping', headers: { 'x-a': 'b' } });
                        return new Response(`${r.status} ${r.statusText} ${r.headers.get('x-r')} ${await r.text()}`);
                      }
                    };"""), Limits.DEFAULTS);
            long id = start(w, "GET", "http://m.test/", null);
            Message.Subrequest sub = RECORDER.awaitSubrequest(id, 0);
            assertThat(sub.method()).isEqualTo("POST");
            assertThat(sub.url()).isEqualTo("https://api.test/v1");
            assertThat(sub.headers()).contains(new Message.Header("x-a", "b"));
            assertThat(new String(sub.body(), StandardCharsets.UTF_8)).isEqualTo("ping");
            RUNTIME.deliver(new Message.SubrequestResult(sub.subrequestId(), 201, "Created",
                    List.of(new Message.Header("x-r", "s")), "pong".getBytes(StandardCharsets.UTF_8), "https://api.test/v1"));
            assertThat(ok(RECORDER.await(id)).body()).isEqualTo("201 Created s pong");
        }

        /** Regression: a short timer used to fire on the scheduler thread before it was registered, and was lost. */
        @Test
        void zeroDelayTimersAlwaysFire() throws Exception {
            String w = load(bundle("""
                    export default {
                      async fetch() {
                        for (let i = 0; i < 300; i++) await new Promise(r => setTimeout(r, 0));
                        for (let i = 0; i < 300; i++) await scheduler.wait(0);
                        return new Response('all fired');
                      }
                    };"""), limits(5_000, 5_000));
            Recorder.Outcome out = fetch(w, "http://m.test/");
            assertThat(out.failure()).as("%s", out).isNull();
            assertThat(out.body()).isEqualTo("all fired");
        }

        @Test
        void aStreamedRequestBodyIsPulledChunkByChunk() throws Exception {
            String w = load(bundle("""
                    export default {
                      async fetch(request) {
                        const parts = [];
                        const reader = request.body.getReader();
                        const dec = new TextDecoder();
                        for (;;) {
                          const { done, value } = await reader.read();
                          if (done) break;
                          parts.push(dec.decode(value));
                        }
                        return new Response(parts.join('|'));
                      }
                    };"""), Limits.DEFAULTS);
            long id = nextId();
            RUNTIME.deliver(new Message.FetchStart(id, w, "POST", "http://m.test/", List.of(), null, true));
            List<String> chunks = List.of("one", "two", "three");
            for (int n = 0; n < chunks.size(); n++) {
                RECORDER.awaitBodyPull(id, n);
                RUNTIME.deliver(new Message.RequestBodyChunk(id, chunks.get(n).getBytes(StandardCharsets.UTF_8)));
            }
            RECORDER.awaitBodyPull(id, chunks.size());
            RUNTIME.deliver(new Message.RequestBodyEnd(id, null));
            assertThat(ok(RECORDER.await(id)).body()).isEqualTo("one|two|three");
        }

        @Test
        void aBrokenStreamedRequestBodyIsATypeErrorInTheWorker() throws Exception {
            String w = load(bundle("""
                    export default {
                      async fetch(request) {
                        try { await request.text(); return new Response('read'); }
                        catch (e) { return new Response(e.name + ': ' + e.message); }
                      }
                    };"""), Limits.DEFAULTS);
            long id = nextId();
            RUNTIME.deliver(new Message.FetchStart(id, w, "POST", "http://m.test/", List.of(), null, true));
            RECORDER.awaitBodyPull(id, 0);
            RUNTIME.deliver(new Message.RequestBodyEnd(id, "client reset the connection"));
            assertThat(ok(RECORDER.await(id)).body()).isEqualTo("TypeError: client reset the connection");
        }

        @Test
        void theCpuTimeOfAnInvocationIsReported() throws Exception {
            String w = load(bundle("export default { fetch() { let x = 0; for (let i = 0; i < 1e6; i++) x += i; return new Response(String(x)); } };"),
                    Limits.DEFAULTS);
            assertThat(ok(fetch(w, "http://m.test/")).cpuMicros()).isPositive();
        }
    }

    static int indexOf(List<Message> events, java.util.function.Predicate<Message> p) {
        for (int i = 0; i < events.size(); i++) if (p.test(events.get(i))) return i;
        return -1;
    }
}
