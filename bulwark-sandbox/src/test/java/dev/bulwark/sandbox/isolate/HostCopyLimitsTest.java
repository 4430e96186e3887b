package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.ErrorCode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static dev.bulwark.sandbox.isolate.Sandboxes.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 13: what a worker hands the host is size-checked before a byte is copied out of V8, and
 * the worker gets a clear JavaScript error (never a Java one, never a broken frame): a fetch URL
 * over 16 KiB, fetch headers over 256 Ki characters, response headers over 256 Ki characters and a
 * status text over 1 KiB. The sandbox goes on serving the same isolate afterwards.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostCopyLimitsTest {
    static String worker;

    @BeforeAll
    static void load() throws Exception {
        worker = Sandboxes.load(bundle("""
                export default {
                  async fetch(request) {
                    const path = new URL(request.url).pathname;
                    const big = "x".repeat(300 * 1024);
                    try {
                      switch (path) {
                        case "/url": await fetch("https://example.com/" + "a".repeat(16 * 1024)); break;
                        case "/request-headers": await fetch("https://example.com/", { headers: { "x-big": big } }); break;
                        case "/response-headers": return new Response("big", { headers: { "x-big": big } });
                        case "/status-text": return new Response("long", { statusText: "s".repeat(2000) });
                        default: return new Response("fine");
                      }
                      return new Response("not refused");
                    } catch (e) {
                      return new Response(e.name + ": " + e.message);
                    }
                  }
                };"""), limits(5_000, 20_000));
    }

    @Test
    void aFetchUrlOver16KiBIsRefusedBeforeItIsCopied() throws Exception {
        assertThat(fetch(worker, "http://limits.test/url").body())
                .isEqualTo("TypeError: fetch(): the URL is longer than 16384 characters.");
        assertThat(fetch(worker, "http://limits.test/").body()).isEqualTo("fine");
    }

    @Test
    void fetchHeadersOver256KiCharactersAreRefusedBeforeTheyAreCopied() throws Exception {
        assertThat(fetch(worker, "http://limits.test/request-headers").body())
                .isEqualTo("TypeError: fetch(): the request headers are larger than 262144 characters.");
        assertThat(fetch(worker, "http://limits.test/").body()).isEqualTo("fine");
    }

    @Test
    void responseHeadersOver256KiCharactersFailTheRequestBeforeTheyAreCopied() throws Exception {
        Recorder.Outcome out = fetch(worker, "http://limits.test/response-headers");
        assertThat(out.failure()).isNotNull();
        assertThat(out.failure().code()).isEqualTo(ErrorCode.WORKER_THREW.code());
        assertThat(out.failure().message()).contains("TypeError: The response headers are larger than 262144 characters.");
        assertThat(fetch(worker, "http://limits.test/").body()).isEqualTo("fine");
    }

    @Test
    void aStatusTextOver1KiBFailsTheRequestBeforeItIsCopied() throws Exception {
        Recorder.Outcome out = fetch(worker, "http://limits.test/status-text");
        assertThat(out.failure()).isNotNull();
        assertThat(out.failure().code()).isEqualTo(ErrorCode.WORKER_THREW.code());
        assertThat(out.failure().message()).contains("TypeError: The response status text is longer than 1024 characters.");
        assertThat(fetch(worker, "http://limits.test/").body()).isEqualTo("fine");
    }
}
