package dev.bulwark.sandbox.isolate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Compatibility;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.bulwark.sandbox.isolate.Sandboxes.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Dynamic import() in a worker's modules (ImportCalls renames the calls, ModuleLinker answers them):
 * resolution as a static import's, the same module records, evaluation on demand, workerd's errors,
 * the options' checks, CommonJS modules, and what hostile code gets from it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DynamicImportTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Compatibility NODE = new Compatibility("2025-09-01", List.of("nodejs_compat"));
    static String worker;

    static WorkerModule js(String name, String source) {
        return module(name, ModuleType.JS, source);
    }

    /** Each probe of the main module answers {value} or {error: "Name: message"}. */
    static final String MAIN = """
            import * as a from './a.js';
            import * as buffer from 'node:buffer';
            import cjs from './lib/c.cjs';
            const atLoad = await import('./tla.js');
            const probes = {
              async same() { return (await import('./a.js')) === a && (await import('a.js')) === a && (await import('/a.js')) === a; },
              async fromNested() { const x = await import('./lib/x.js'); return (await x.parent()) === a && x.sibling === (await import('./lib/y.js')).default; },
              async lazyOnce() {
                const one = await import('./lazy.js'), two = await import('./lib/../lazy.js');
                return [one === two, one.runs, globalThis.lazyRuns];
              },
              async builtins() {
                const cf = await import('cloudflare:workers');
                return [(await import('node:buffer')) === buffer, (await import('buffer')) === buffer, typeof cf.WorkerEntrypoint,
                  typeof (await import('cloudflare:sockets')).connect];
              },
              async atLoad() { return [atLoad.v, atLoad === await import('./tla.js')]; },
              async topLevelAwait() { return (await import('./late-tla.js')).v; },
              async unsettled() { return (await import('./never.js')).v; },
              async throws() {
                const errors = [];
                for (let i = 0; i < 2; i++) try { await import('./boom.js'); } catch (e) { errors.push(e); }
                return [String(errors[0]), errors[0] === errors[1]];
              },
              async missing() { return await import('./nope.js'); },
              async aboveRoot() { return await import('../outside.js'); },
              async badStatic() { return await import('bad-static.js'); },
              async missingStatic() { return await import('missing-static.js'); },
              async neverThrowsSynchronously() {
                let p;
                try { p = import(Symbol('s')); } catch (e) { return 'threw ' + e; }
                return p.then(() => 'resolved', (e) => String(e));
              },
              async toStringOfTheSpecifier() { return (await import({ toString() { return './a.js'; } })) === a; },
              async json() { return (await import('./data.json', { with: { type: 'json' } })).default; },
              async optionsNotObject() { return await import('./a.js', 1); },
              async withNotObject() { return await import('./a.js', { with: 1 }); },
              async attributeNotString() { return await import('./a.js', { with: { type: 1 } }); },
              async commonJs() { return [(await cjs.load()) === a, cjs.name]; },
              async cycle() { await import('./cyc-a.js'); const b = await import('./cyc-b.js'); return (await b.early).default; },
              async syntaxError() { return await import('./broken.js'); },
              async deepChain() { return (await import('./chain/0.js')).depth; },
              async timerAtTopLevel() { return (await import('./timer.js')).set; },
              async selfDuringEvaluation() { return (await import('./self.js')).seen; },
              async nodeFsIsNotInTheBundle() { return await import('/etc/passwd'); },
              async schemes() {
                const out = [];
                for (const s of ['file:///etc/passwd', 'data:text/javascript,export default 1', 'https://example.com/x.js', 'java.lang.System', 'cloudflare:nothing'])
                  try { await import(s); out.push('loaded ' + s); } catch (e) { out.push(String(e)); }
                return out;
              },
              async helperName() { return typeof \u00efmport; },
              async newFunction() { return new Function('return import("./a.js")')(); },
              async evalCode() { return eval('import("./a.js")'); },
              async where() { try { (await import('./thrower.js')).fail(); } catch (e) { return e.stack.split('\\n')[1].trim(); } },
            };
            export default {
              async fetch(request) {
                const name = new URL(request.url).pathname.slice(1);
                try { return Response.json({ value: await probes[name]() }); }
                catch (e) { return Response.json({ error: `${e.name}: ${e.message}` }); }
              }
            };
            """;

    @BeforeAll
    static void load() throws Exception {
        worker = Sandboxes.load(WorkerBundle.of("index.js", plus(chain(40),
                js("index.js", MAIN),
                js("a.js", "export const name = 'a';"),
                js("lazy.js", "globalThis.lazyRuns = (globalThis.lazyRuns ?? 0) + 1; export const runs = globalThis.lazyRuns;"),
                js("lib/x.js", "export const parent = () => import('../a.js'); import y from 'y.js'; export const sibling = y;"),
                js("lib/y.js", "export default { y: 1 };"),
                js("tla.js", "await Promise.resolve(); export const v = 'tla';"),
                js("late-tla.js", "await null; await Promise.resolve(); export const v = 42;"),
                js("never.js", "await new Promise(() => {}); export const v = 1;"),
                js("boom.js", "throw new RangeError('boom');"),
                js("bad-static.js", "import '../dep.js';"),
                js("missing-static.js", "import './lib/missing.js';"),
                // Imported first, cyc-a evaluates cyc-b first, which calls a function of cyc-a whose body has not run yet.
                js("cyc-a.js", "import './cyc-b.js'; export function load() { return import('./lib/y.js'); }"),
                js("cyc-b.js", "import { load } from './cyc-a.js'; export const early = load();"),
                js("broken.js", "export const a = 1;\nconst b = ;\n"),
                js("timer.js", "export const set = typeof setTimeout(() => {}, 0);"),
                js("self.js", "export const early = 1; const me = await import('./self.js'); export const seen = me.early;"),
                js("thrower.js", "export function fail() {\n  return import('./a.js') &&\n    fail.missing.property;\n}"),
                module("data.json", ModuleType.JSON, "{\"k\": [1, 2]}"),
                module("lib/c.cjs", ModuleType.CJS, "exports.name = 'cjs'; exports.load = () => import('../a.js');")))
                .withCompatibility(NODE), Limits.DEFAULTS);
    }

    static List<WorkerModule> plus(WorkerModule[] more, WorkerModule... modules) {
        List<WorkerModule> all = new java.util.ArrayList<>(List.of(modules));
        all.addAll(List.of(more));
        return all;
    }

    /** chain/0.js .. chain/(n-1).js, each importing the next at its top level (nested host calls). */
    static WorkerModule[] chain(int n) {
        WorkerModule[] out = new WorkerModule[n];
        for (int i = 0; i < n; i++) {
            out[i] = js("chain/" + i + ".js", i == n - 1 ? "export const depth = " + n + ";"
                    : "export const { depth } = await import('./" + (i + 1) + ".js');");
        }
        return out;
    }

    static JsonNode probe(String name) throws Exception {
        Recorder.Outcome out = fetch(worker, "http://m.test/" + name);
        assertThat(out.failure()).as("%s: %s", name, out).isNull();
        return JSON.readTree(out.body());
    }

    static String value(String name) throws Exception {
        JsonNode r = probe(name);
        assertThat(r.has("value")).as("%s: %s", name, r).isTrue();
        return r.get("value").toString();
    }

    static String error(String name) throws Exception {
        JsonNode r = probe(name);
        assertThat(r.has("error")).as("%s: %s", name, r).isTrue();
        return r.get("error").asText();
    }

    @Test
    void theSameModuleRecordAsAStaticImportFromAnyPathThatNamesIt() throws Exception {
        assertThat(value("same")).isEqualTo("true");
        assertThat(value("fromNested")).isEqualTo("true");
        assertThat(value("builtins")).isEqualTo("[true,true,\"function\",\"function\"]");
        assertThat(value("toStringOfTheSpecifier")).isEqualTo("true");
    }

    @Test
    void aModuleNotYetEvaluatedIsEvaluatedOnDemandAndOnce() throws Exception {
        assertThat(value("lazyOnce")).isEqualTo("[true,1,1]");
        assertThat(value("lazyOnce")).isEqualTo("[true,1,1]");
        assertThat(value("atLoad")).isEqualTo("[\"tla\",true]");
        assertThat(value("topLevelAwait")).isEqualTo("42");
        // Evaluated inside the request (workerd evaluates it outside, where a timer is refused).
        assertThat(value("timerAtTopLevel")).isEqualTo("\"number\"");
        // A function of a module that a cycle calls before the module's body ran imports too.
        assertThat(value("cycle")).isEqualTo("{\"y\":1}");
        // An import of itself while it evaluates: its namespace as it is (workerd's kEvaluating).
        assertThat(value("selfDuringEvaluation")).isEqualTo("1");
    }

    @Test
    void evaluationErrorsAndUnsettledTopLevelAwaitRejectWithWorkerdsWords() throws Exception {
        assertThat(value("throws")).isEqualTo("[\"RangeError: boom\",true]");
        assertThat(error("unsettled")).isEqualTo("Error: Top-level await in module is unsettled.");
    }

    @Test
    void unknownModulesRejectWithWorkerdsWords() throws Exception {
        assertThat(error("missing")).isEqualTo("Error: No such module \"nope.js\".");
        assertThat(error("aboveRoot")).isEqualTo("Error: No such module \"../outside.js\"");
        assertThat(error("badStatic")).isEqualTo("TypeError: Invalid module specifier \"../dep.js\".\n  imported from \"bad-static.js\".");
        assertThat(error("missingStatic")).isEqualTo("Error: No such module \"lib/missing.js\".\n  imported from \"missing-static.js\"");
        assertThat(value("neverThrowsSynchronously")).isEqualTo("\"TypeError: Cannot convert a Symbol value to a string\"");
    }

    @Test
    void importAttributesAreCheckedAsV8DoesAndOtherwiseIgnoredAsForAStaticImport() throws Exception {
        assertThat(value("json")).isEqualTo("{\"k\":[1,2]}");
        assertThat(error("optionsNotObject")).isEqualTo("TypeError: The second argument to import() must be an object");
        assertThat(error("withNotObject")).isEqualTo("TypeError: The 'with' option must be an object");
        assertThat(error("attributeNotString")).isEqualTo("TypeError: Import attribute value must be a string");
    }

    @Test
    void aModuleCompiledOnDemandWithASyntaxErrorRejectsWithItsPlace() throws Exception {
        // Bulwark's load-failure text, place first, as an Error (workerd compiles every module at start:
        // there the load itself fails).
        assertThat(error("syntaxError")).isEqualTo("Error: broken.js:2:10: SyntaxError: Unexpected token ';'");
    }

    @Test
    void importsNestedAtTopLevelAreBoundedLikeRequire() throws Exception {
        // 40 modules each importing the next while it evaluates: the 33rd nested evaluation is refused.
        assertThat(error("deepChain")).isEqualTo("Error: import() is nested too deep (more than 32 modules evaluating at once)");
    }

    @Test
    void commonJsModulesImportToo() throws Exception {
        assertThat(value("commonJs")).isEqualTo("[true,\"cjs\"]");
    }

    @Test
    void linesAndColumnsOfARewrittenModuleStay() throws Exception {
        // The failing read (.property of undefined) is at line 3, column 18 of thrower.js as written.
        assertThat(value("where")).isEqualTo("\"at Module.fail (thrower.js:3:18)\"");
    }

    @Test
    void hostileCodeGetsNothingAStaticImportCouldNotReach() throws Exception {
        assertThat(error("nodeFsIsNotInTheBundle")).isEqualTo("Error: No such module \"etc/passwd\".");
        assertThat(value("schemes")).isEqualTo("[\"Error: No such module \\\"file:/etc/passwd\\\".\","
                + "\"Error: No such module \\\"data:text/javascript,export default 1\\\".\","
                + "\"Error: No such module \\\"https:/example.com/x.js\\\".\","
                + "\"Error: No such module \\\"java.lang.System\\\".\","
                + "\"Error: No such module \\\"cloudflare:nothing\\\".\"]");
        // The helper's name in user code is the module's own import function: nothing new.
        assertThat(value("helperName")).isEqualTo("\"function\"");
        // Code made from strings is not rewritten, and cannot be made at all.
        assertThat(error("newFunction")).startsWith("EvalError: Code generation from strings disallowed");
        assertThat(error("evalCode")).startsWith("EvalError: Code generation from strings disallowed");
    }

    @Test
    void theImporterModuleCannotBeImportedByAModuleThatDoesNotCallImport() throws Exception {
        Message m = loadResult(bundle("import f from 'bulwark:import'; export default { fetch() { return new Response(typeof f); } };"),
                Limits.DEFAULTS);
        assertThat(m).isInstanceOf(Message.WorkerLoadFailed.class);
        assertThat(((Message.WorkerLoadFailed) m).message()).contains("cannot import 'bulwark:import'");
    }

    @Test
    void aSyntaxErrorAfterAnImportCallKeepsItsLineAndColumn() throws Exception {
        Message m = loadResult(bundle("const x = await import('./a.js');\nconst y = ;\n", js("a.js", "export default 1;")), Limits.DEFAULTS);
        assertThat(m).isInstanceOf(Message.WorkerLoadFailed.class);
        assertThat(((Message.WorkerLoadFailed) m).message()).contains("index.js:2").contains("SyntaxError");
    }
}
