package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.worker.Limits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static dev.bulwark.sandbox.isolate.Sandboxes.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a worker sees of how its isolate was made cheaply (docs/notes/isocost.md): the host
 * functions behind one V8 function bound per index, install()'s and a load's code compiled in the
 * snapshot by running them once there (bindHost, linkExports on a throwaway handler, JSON.parse),
 * cloudflare:workers' exports made in one call. None of it may show.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class IsolateSetupTest {

    @Test
    void cloudflareWorkersExportsTheClassesTheWorkersEnvAndItsOwnExports() throws Exception {
        String w = load(bundle("""
                import * as cf from 'cloudflare:workers';
                import { WorkerEntrypoint, env, exports } from 'cloudflare:workers';
                const atTopLevel = [Object.keys(exports).length, Object.isFrozen(exports), env.GREETING].join(' ');
                export class Named extends WorkerEntrypoint {}
                export const notAnEntrypoint = 1;
                export default {
                  fetch(request, handlerEnv, ctx) {
                    return new Response([Object.keys(cf).join(','), atTopLevel, cf.exports === ctx.exports,
                      Object.keys(ctx.exports).sort().join(','), Object.isFrozen(ctx.exports),
                      cf.env.GREETING, handlerEnv.GREETING, cf.env === env].join(' | '));
                  }
                };"""), "{\"GREETING\": \"hi\"}", Limits.DEFAULTS);
        // cf.exports is not ctx.exports itself but reads it (withExports may replace it for a while).
        assertThat(fetch(w, "http://s.test/").body()).isEqualTo(
                "DurableObject,RpcPromise,RpcProperty,RpcStub,RpcTarget,ServiceStub,WorkerEntrypoint,WorkflowEntrypoint,env,exports,"
                        + "waitUntil,withEnv,withExports | 0 false hi | false"
                        + " | Named,default | true | hi | hi | true");
    }

    @Test
    void theHostsOneFunctionIsReachableFromNoGlobal() throws Exception {
        String w = load(bundle("""
                export default {
                  fetch() {
                    const names = Object.getOwnPropertyNames(globalThis).filter((n) => /host|bulwark/i.test(n));
                    const reach = ['hostCall', 'hostNames', 'H', 'host'].map((n) => typeof globalThis[n]);
                    return new Response(JSON.stringify(names) + ' ' + reach.join(','));
                  }
                };"""), Limits.DEFAULTS);
        assertThat(fetch(w, "http://s.test/").body()).isEqualTo("[] undefined,undefined,undefined,undefined");
    }

    @Test
    void hostFunctionsGetTheirOwnArgumentsThroughTheSharedFunction() throws Exception {
        // Several host functions, each with its own arguments after the index is taken off: a Java
        // refusal at top level (setTimer) arrives as the same catchable error; then log, randomBytes,
        // now and domainToAscii in one request.
        String w = load(bundle("""
                let refused;
                try { setTimeout(() => {}, 1); } catch (e) { refused = e.message; }
                export default {
                  fetch() {
                    console.log('a', 1);
                    const bytes = crypto.getRandomValues(new Uint8Array(16));
                    return new Response([bytes.length, typeof Date.now(), new URL('http://B\u00dcCHER.example/').host,
                      refused].join(' | '));
                  }
                };"""), Limits.DEFAULTS);
        assertThat(fetch(w, "http://s.test/").body()).isEqualTo("16 | number | xn--bcher-kva.example | "
                + "Disallowed operation called within global scope: timers can only be set while handling a request");
    }

    @Test
    void lazyPreludePartsAnswerAlikeInEveryIsolate() throws Exception {
        // crypto.subtle's implementation and URLPattern's are compiled into an isolate by its first
        // use: from source in the first isolate of the process, from V8's code cache of the part in
        // the next ones (PreludeParts). Each isolate must get the same answers, with the same shape.
        String source = """
                export default {
                  async fetch() {
                    const d = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('abc')));
                    const key = await crypto.subtle.importKey('raw', new Uint8Array(16), 'AES-GCM', false, ['encrypt']);
                    const p = new URLPattern({ pathname: '/books/:id' });
                    return new Response([Array.from(d, (b) => b.toString(16).padStart(2, '0')).join(''),
                      key instanceof CryptoKey, key.algorithm.name, Object.keys(SubtleCrypto.prototype).join(','),
                      p.exec('https://x.test/books/7').pathname.groups.id].join(' | '));
                  }
                };""";
        for (int i = 0; i < 3; i++) {
            String w = load(bundle(source), Limits.DEFAULTS);
            assertThat(fetch(w, "http://s.test/").body()).isEqualTo(
                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad | true | AES-GCM"
                            + " | digest,generateKey,importKey,exportKey,sign,verify,encrypt,decrypt,deriveBits,deriveKey,"
                            + "wrapKey,unwrapKey,timingSafeEqual | 7");
        }
    }
}
