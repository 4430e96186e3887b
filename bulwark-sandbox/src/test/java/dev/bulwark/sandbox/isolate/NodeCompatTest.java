package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Compatibility;
import dev.bulwark.sandbox.worker.Limits;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.bulwark.sandbox.isolate.Sandboxes.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * nodejs_compat: which flags turn on what, the node:* modules as real workers use them (exact
 * outputs), AsyncLocalStorage across every kind of continuation and across concurrent requests,
 * and the errors for what is not there.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NodeCompatTest {
    static final String ENV = "{\"API_KEY\":\"k-123\",\"LIMIT\":5,\"CFG\":{\"a\":[1]}}";
    /** nodejs_compat on a date where it means v2 and process.env is populated; node:os is there. */
    static final Compatibility COMPAT = new Compatibility("2025-09-20", List.of("nodejs_compat"));

    static String loadWith(String main, Compatibility c) throws Exception {
        return load(bundle(main).withCompatibility(c), ENV, Limits.DEFAULTS);
    }

    static String body(String worker) throws Exception {
        return body(worker, "http://n.test/");
    }

    static String body(String worker, String url) throws Exception {
        Recorder.Outcome out = fetch(worker, url);
        assertThat(out.failure()).as("outcome %s", out).isNull();
        assertThat(out.status()).as("outcome %s", out).isEqualTo(200);
        return out.body();
    }

    static Message.WorkerLoadFailed loadFails(String main, Compatibility c) throws Exception {
        Message m = loadResult(bundle(main).withCompatibility(c), ENV, Limits.DEFAULTS);
        assertThat(m).as("load result").isInstanceOf(Message.WorkerLoadFailed.class);
        return (Message.WorkerLoadFailed) m;
    }

    // ================================================================ flags

    @Nested
    @DisplayName("flags")
    class Flags {
        static final String PROBE = """
                export default { fetch() {
                  return new Response(`${typeof Buffer} ${typeof process} ${typeof globalThis.global}`);
                } };""";

        @Test
        void withoutTheFlagThereAreNoNodeGlobals() throws Exception {
            assertThat(body(loadWith(PROBE, new Compatibility("2025-09-20", List.of())))).isEqualTo("undefined undefined undefined");
        }

        @Test
        void withoutTheFlagANodeModuleFailsTheLoadNamingModuleAndFlag() throws Exception {
            Message.WorkerLoadFailed f = loadFails("import { Buffer } from 'node:buffer'; export default {};",
                    new Compatibility("2025-09-20", List.of()));
            assertThat(f.code()).isEqualTo(ErrorCode.WORKER_LOAD_FAILED.code());
            assertThat(f.message()).isEqualTo(
                    "index.js: cannot import 'node:buffer': Node.js built-in modules need the nodejs_compat compatibility flag");
        }

        @Test
        void v1HasTheModulesUnderTheirPrefixButNoGlobals() throws Exception {
            Compatibility v1 = new Compatibility("2024-01-01", List.of("nodejs_compat"));
            String w = loadWith("""
                    import { Buffer } from 'node:buffer';
                    export default { fetch() {
                      return new Response(`${Buffer.from('v1').toString('base64')} ${typeof globalThis.Buffer} ${typeof globalThis.process}`);
                    } };""", v1);
            assertThat(body(w)).isEqualTo("djE= undefined undefined");
            Message.WorkerLoadFailed f = loadFails("import { Buffer } from 'buffer'; export default {};", v1);
            assertThat(f.message()).isEqualTo("index.js: cannot import 'buffer': no such module in the worker's bundle"
                    + " (before nodejs_compat_v2, Node.js built-ins need the prefix: 'node:buffer')");
        }

        @Test
        void v2AddsBufferAndProcessGlobalsAndBareSpecifiers() throws Exception {
            String w = loadWith("""
                    import { Buffer as B } from 'buffer';
                    import path from 'path';
                    export default { fetch() {
                      return new Response(`${typeof Buffer} ${typeof process} ${B === Buffer} ${path.join('a', 'b')} ${process.env.API_KEY}`);
                    } };""", COMPAT);
            assertThat(body(w)).isEqualTo("function object true a/b k-123");
        }

        @Test
        void nodejsCompatIsOnByDefaultFrom20260804UnlessTurnedOff() throws Exception {
            assertThat(body(loadWith(PROBE, new Compatibility("2026-08-04", List.of())))).isEqualTo("function object undefined");
            assertThat(body(loadWith(PROBE, new Compatibility("2026-08-04", List.of("no_nodejs_compat", "no_nodejs_compat_v2")))))
                    .isEqualTo("undefined undefined undefined");
        }

        @Test
        void anUnsupportedModuleFailsTheLoadNamingItAndWhatThereIs() throws Exception {
            Message.WorkerLoadFailed f = loadFails("import fs from 'node:fs'; export default {};", COMPAT);
            assertThat(f.message()).startsWith("index.js: cannot import 'node:fs': Bulwark does not provide this Node.js module"
                    + " (under nodejs_compat it provides node:assert, node:assert/strict, node:async_hooks, node:buffer,");
            assertThat(f.message()).contains("node:util/types)");
        }

        @Test
        void nodeOsNeedsItsCompatibilityDate() throws Exception {
            Message.WorkerLoadFailed f = loadFails("import os from 'node:os'; export default {};",
                    new Compatibility("2025-06-01", List.of("nodejs_compat")));
            assertThat(f.message()).isEqualTo("index.js: cannot import 'node:os': node:os needs a compatibility date of 2025-09-15 or later");
            String w = loadWith("import os from 'node:os'; export default { fetch() { return new Response(JSON.stringify([os.EOL, os.platform()])); } };", COMPAT);
            assertThat(body(w)).isEqualTo("[\"\\n\",\"linux\"]");
        }

        @Test
        void nodejsAlsAloneGivesOnlyAsyncHooks() throws Exception {
            Compatibility als = new Compatibility("2025-09-20", List.of("nodejs_als"));
            String w = loadWith("""
                    import { AsyncLocalStorage } from 'node:async_hooks';
                    const s = new AsyncLocalStorage();
                    export default { fetch() { return s.run(7, async () => { await 0; return new Response(`${s.getStore()} ${typeof Buffer}`); }); } };""", als);
            assertThat(body(w)).isEqualTo("7 undefined");
            assertThat(loadFails("import 'node:buffer'; export default {};", als).message()).isEqualTo(
                    "index.js: cannot import 'node:buffer': the nodejs_als compatibility flag provides only node:async_hooks;"
                            + " Node.js built-in modules need nodejs_compat");
        }

        @Test
        void aBundleModuleOfTheSameNameWinsOverTheBuiltIn() throws Exception {
            var b = bundle("import { who } from 'events'; export default { fetch() { return new Response(who); } };",
                    module("events", dev.bulwark.sandbox.worker.ModuleType.JS, "export const who = 'mine';"))
                    .withCompatibility(COMPAT);
            assertThat(body(load(b, ENV, Limits.DEFAULTS))).isEqualTo("mine");
        }
    }

    // ================================================================ process.env

    @Nested
    @DisplayName("process.env")
    class ProcessEnv {
        static final String ENV_PROBE = """
                import process from 'node:process';
                export default { fetch() { return new Response(JSON.stringify(process.env)); } };""";

        @Test
        void holdsTheTextBindingsFrom20250401() throws Exception {
            assertThat(body(loadWith(ENV_PROBE, new Compatibility("2025-04-01", List.of("nodejs_compat")))))
                    .isEqualTo("{\"API_KEY\":\"k-123\",\"LIMIT\":\"5\",\"CFG\":\"{\\\"a\\\":[1]}\"}");
        }

        @Test
        void isEmptyBeforeThatDateUnlessAFlagAsks() throws Exception {
            assertThat(body(loadWith(ENV_PROBE, new Compatibility("2025-03-31", List.of("nodejs_compat"))))).isEqualTo("{}");
            assertThat(body(loadWith(ENV_PROBE, new Compatibility("2025-03-31",
                    List.of("nodejs_compat", "nodejs_compat_populate_process_env"))))).contains("\"API_KEY\":\"k-123\"");
            assertThat(body(loadWith(ENV_PROBE, new Compatibility("2025-09-20",
                    List.of("nodejs_compat", "nodejs_compat_do_not_populate_process_env"))))).isEqualTo("{}");
        }

        @Test
        void storesWhatIsWrittenAsStrings() throws Exception {
            String w = loadWith("""
                    export default { fetch() { process.env.N = 42; return new Response(`${typeof process.env.N} ${process.env.N}`); } };""", COMPAT);
            assertThat(body(w)).isEqualTo("string 42");
        }
    }
}
