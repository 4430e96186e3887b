package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Limits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.bulwark.sandbox.isolate.Sandboxes.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which invocation owns asynchronous work, as workerd's IoContext decides it: a continuation
 * belongs to the invocation that awaited, not to the one whose task settled the promise; and an
 * invocation that waits on nothing that can ever settle it is failed at once (hang detection).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InvocationOwnershipTest {
    /** A wall-clock limit far above what each test waits, so a hang shows as the limit's 504. */
    private static final Limits LONG_WALL = limits(Limits.DEFAULTS.cpuMs(), 20_000);

    @Test
    void aContinuationBelongsToTheInvocationThatAwaitedNotToTheOneThatSettled() throws Exception {
        // /wait awaits a promise /release settles, then sets a timer: the timer must be /wait's.
        // Were it /release's (which ends at once), it would be dropped with /release and /wait
        // would never answer. The waitUntil timer keeps the isolate from looking hung meanwhile.
        String w = load(bundle("""
                let release;
                export default {
                  async fetch(request, env, ctx) {
                    if (new URL(request.url).pathname === '/wait') {
                      ctx.waitUntil(scheduler.wait(3000));
                      await new Promise((r) => { release = r; });
                      await scheduler.wait(50);
                      return new Response('waited');
                    }
                    for (let i = 0; release === undefined && i < 100; i++) await scheduler.wait(10);
                    release();
                    return new Response('released');
                  }
                };"""), LONG_WALL);
        long waiting = start(w, "GET", "http://o.test/wait", null);
        Recorder.Outcome released = fetch(w, "http://o.test/release");
        assertThat(released.body()).isEqualTo("released");
        Recorder.Outcome waited = RECORDER.awaitWithin(waiting, 10, TimeUnit.SECONDS);
        assertThat(waited.failure()).as("outcome %s", waited).isNull();
        assertThat(waited.body()).isEqualTo("waited");
    }

    @Test
    void aRequestWaitingOnNothingIsFailedAsHungAtOnce() throws Exception {
        String w = load(bundle("""
                export default {
                  async fetch() {
                    await new Promise(() => {});
                    return new Response('never');
                  }
                };"""), LONG_WALL);
        long started = System.nanoTime();
        Recorder.Outcome out = RECORDER.awaitWithin(start(w, "GET", "http://o.test/", null), 10, TimeUnit.SECONDS);
        assertThat(out.failure()).as("outcome %s", out).isNotNull();
        assertThat(out.failure().code()).isEqualTo(ErrorCode.WORKER_HUNG.code());
        assertThat(out.failure().message()).startsWith("The Workers runtime canceled this request because it detected"
                + " that your Worker's code had hung and would never generate a response.");
        assertThat(ErrorCode.WORKER_HUNG.status()).isEqualTo(500);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).as("long before the wall-clock limit")
                .isLessThan(10_000);
    }

    @Test
    void aRequestWaitingOnItsTimerOrOnAnotherRequestsTimerIsNotHung() throws Exception {
        // Its own timer, then a promise another request's timer settles: neither is a hang.
        String w = load(bundle("""
                let settle;
                export default {
                  async fetch(request, env, ctx) {
                    if (new URL(request.url).pathname === '/own') {
                      await scheduler.wait(200);
                      return new Response('own timer');
                    }
                    if (new URL(request.url).pathname === '/other') {
                      const p = new Promise((r) => { settle = r; });
                      return new Response(await p);
                    }
                    ctx.waitUntil(scheduler.wait(500).then(() => settle('settled by another')));
                    return new Response('armed');
                  }
                };"""), LONG_WALL);
        assertThat(fetch(w, "http://o.test/own").body()).isEqualTo("own timer");
        long arm = start(w, "GET", "http://o.test/arm", null);
        Thread.sleep(50); // /arm answered, its waitUntil timer runs (an outcome is complete only when that is over)
        // /other has nothing of its own to wait on: only /arm's timer, which will settle it.
        Recorder.Outcome out = RECORDER.awaitWithin(start(w, "GET", "http://o.test/other", null), 10, TimeUnit.SECONDS);
        assertThat(RECORDER.await(arm).body()).isEqualTo("armed");
        assertThat(out.failure()).as("outcome %s", out).isNull();
        assertThat(out.body()).isEqualTo("settled by another");
    }

    /** A worker whose /fetch makes a subrequest it awaits and shares; /share awaits that, /never awaits nothing. */
    private static final String SHARED_SUBREQUEST = """
            let shared;
            export default {
              async fetch(request) {
                const path = new URL(request.url).pathname;
                if (path === '/fetch') {
                  shared = fetch('https://api.test/slow').then((r) => r.text());
                  return new Response(await shared);
                }
                if (path === '/share') return new Response('shared ' + await shared);
                await new Promise(() => {});
              }
            };""";

    @Test
    void aRequestAwaitingAnotherRequestsSubrequestIsNotHung() throws Exception {
        String w = load(bundle(SHARED_SUBREQUEST), LONG_WALL);
        long fetching = start(w, "GET", "http://o.test/fetch", null);
        Message.Subrequest sub = RECORDER.awaitSubrequest(fetching, 0);
        long sharing = start(w, "GET", "http://o.test/share", null);
        // /share waits on /fetch's subrequest only, longer than the grace for calls to the worker itself.
        Thread.sleep(HangRule.GRACE_MS + 1_000);
        RUNTIME.deliver(new Message.SubrequestResult(sub.subrequestId(), 200, "OK", List.of(),
                "late".getBytes(StandardCharsets.UTF_8), "https://api.test/slow"));
        assertThat(RECORDER.await(fetching).body()).isEqualTo("late");
        Recorder.Outcome shared = RECORDER.awaitWithin(sharing, 10, TimeUnit.SECONDS);
        assertThat(shared.failure()).as("outcome %s", shared).isNull();
        assertThat(shared.body()).isEqualTo("shared late");
    }

    @Test
    void aRequestWaitingOnNothingIsHungOnlyOnceNoFetchOfAnotherIsInFlight() throws Exception {
        // Another request's fetch may settle anything when it comes back, as a timer may, and so
        // may its calls to other workers (ServicesTest's coalescing); calls to the worker itself
        // only delay it by the grace (js-rpc-test's crossContextSharingDoesntWork, cyclicAwaitsWorks).
        String w = load(bundle(SHARED_SUBREQUEST), LONG_WALL);
        long fetching = start(w, "GET", "http://o.test/fetch", null);
        Message.Subrequest sub = RECORDER.awaitSubrequest(fetching, 0);
        long never = start(w, "GET", "http://o.test/never", null);
        Thread.sleep(HangRule.GRACE_MS + 500);
        assertThat(RECORDER.events(never)).as("still waiting while /fetch's subrequest is out")
                .noneMatch(m -> m instanceof Message.InvocationFailed);
        RUNTIME.deliver(new Message.SubrequestFailed(sub.subrequestId(), "done"));
        assertThat(RECORDER.await(fetching).failure()).isNotNull();
        Recorder.Outcome out = RECORDER.awaitWithin(never, 10, TimeUnit.SECONDS);
        assertThat(out.failure()).as("outcome %s", out).isNotNull();
        assertThat(out.failure().code()).isEqualTo(ErrorCode.WORKER_HUNG.code());
    }

    @Test
    void anAbortSignalIsItsRequestsIOAnotherRequestReadingItGetsWorkerdsError() throws Exception {
        // workerd's AbortSignal holds an IoOwn of its IoContext: aborted and throwIfAborted() from
        // another request throw; its reason stays readable, and a global scope's signal is nobody's.
        String w = load(bundle("""
                const global = AbortSignal.abort('g');
                let made;
                export default {
                  async fetch(request) {
                    if (new URL(request.url).pathname === '/make') {
                      made = AbortSignal.abort('r');
                      return new Response(String(made.aborted));
                    }
                    const tries = {};
                    for (const [name, fn] of Object.entries({
                      aborted: () => made.aborted,
                      throwIfAborted: () => made.throwIfAborted(),
                      reason: () => made.reason,
                      global: () => global.aborted,
                    })) {
                      try { tries[name] = String(fn()); } catch (e) { tries[name] = e.message; }
                    }
                    return new Response(JSON.stringify(tries));
                  }
                };"""), LONG_WALL);
        assertThat(fetch(w, "http://o.test/make").body()).isEqualTo("true");
        String other = fetch(w, "http://o.test/read").body();
        String error = "Cannot perform I/O on behalf of a different request. I/O objects (such as streams, "
                + "request/response bodies, and others) created in the context of one request handler cannot be "
                + "accessed from a different request's handler. This is a limitation of Cloudflare Workers which "
                + "allows us to improve overall performance. (I/O type: RefcountedCanceler)";
        assertThat(other).isEqualTo("{\"aborted\":\"" + error + "\",\"throwIfAborted\":\"" + error
                + "\",\"reason\":\"r\",\"global\":\"true\"}");
    }
}
