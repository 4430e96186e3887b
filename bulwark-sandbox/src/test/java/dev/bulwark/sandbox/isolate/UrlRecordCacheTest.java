package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.worker.Limits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static dev.bulwark.sandbox.isolate.Sandboxes.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code new URL(string)} keeps the parsed records of recent strings (url.js, parseAbsolute): every
 * URL made from the same string must still be a URL of its own, as if it had been parsed anew.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class UrlRecordCacheTest {
    private static final String WORKER = """
            const S = 'https://user:pw@example.com:8080/a/b/c?x=1&y=2#frag';
            function parts(u) {
              return [u.href, u.protocol, u.username, u.password, u.host, u.pathname, u.search, u.hash,
                [...u.searchParams].map((p) => p.join('=')).join('&')].join('|');
            }
            export default {
              async fetch(request) {
                const out = [];
                const first = new URL(S);
                const pristine = parts(first);
                // Every setter of one URL made from S...
                first.protocol = 'http:'; first.username = 'u2'; first.password = 'p2'; first.hostname = 'other.org';
                first.port = '81'; first.pathname = '/z'; first.search = '?q=9'; first.hash = '#h';
                first.searchParams.append('more', '1');
                const second = new URL(S);
                // ...changes neither the next URL made from S nor one made before it.
                out.push(parts(second) === pristine);
                const third = new URL(S);
                second.pathname = '/changed/path';
                second.searchParams.set('x', 'changed');
                out.push(parts(third) === pristine);
                out.push(parts(new URL(S)) === pristine);
                out.push(first.href === 'http://u2:p2@other.org:81/z?q=9&more=1#h');
                // A string that is not a URL fails every time, not only the first.
                let failures = 0;
                for (let i = 0; i < 3; i++) { try { new URL('not a url'); } catch (e) { if (e instanceof TypeError) failures++; } }
                out.push(failures === 3);
                // An object's toString runs once per URL made, as without the cache.
                let calls = 0;
                const o = { toString() { calls++; return S; } };
                new URL(o); new URL(o);
                out.push(calls === 2);
                // With a base the base is used, whatever was parsed before without one.
                new URL('/rel', 'https://base.test/dir/');
                out.push(new URL('/rel', 'https://base.test/dir/').href === 'https://base.test/rel');
                return new Response(out.join(','));
              },
            };
            """;

    @Test
    void urlsMadeFromTheSameStringAreIndependentAndLikeFreshParses() throws Exception {
        String w = load(bundle(WORKER), Limits.DEFAULTS);
        for (int i = 0; i < 3; i++) {
            Recorder.Outcome out = fetch(w, "http://cache.test/");
            assertThat(out.failure()).isNull();
            assertThat(out.body()).isEqualTo("true,true,true,true,true,true,true");
        }
    }
}
