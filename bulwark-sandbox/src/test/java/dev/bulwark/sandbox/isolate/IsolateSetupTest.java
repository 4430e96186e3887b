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
        assertThat(fetch(w, "http://s.test/").body()).isEqualTo(
                "DurableObject,RpcTarget,WorkerEntrypoint,WorkflowEntrypoint,env,exports | 0 false hi | true"
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
}
