package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.function.BooleanSupplier;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.bulwark.sandbox.isolate.Sandboxes.*;
import static org.assertj.core.api.Assertions.assertThat;

/** What an operator sees when a worker fails: one line each, naming the worker, the request and the limit. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OperatorVisibilityTest {

    private static List<Message.LogLine> limitLines(long invocationId) {
        return RECORDER.logs(invocationId).stream().filter(l -> l.level().equals(Isolate.LIMIT_LEVEL)).toList();
    }

    private static void eventually(BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("condition not met within 10 s");
            Thread.sleep(10);
        }
    }

    private static Message.LogLine awaitOneLimitLine(long invocationId) throws InterruptedException {
        eventually(() -> !limitLines(invocationId).isEmpty());
        List<Message.LogLine> lines = limitLines(invocationId);
        assertThat(lines).hasSize(1);
        return lines.getFirst();
    }

    @Test
    void aCpuLimitKillIsLoggedWithTheWorkerTheRequestAndTheLimit() throws Exception {
        String w = load(bundle("export default { fetch() { while (true) {} } };"), limits(50, 10_000));
        long id = start(w, "GET", "http://x/", null);
        assertThat(RECORDER.await(id).failure().code()).isEqualTo(ErrorCode.CPU_LIMIT_EXCEEDED.code());
        Message.LogLine line = awaitOneLimitLine(id);
        assertThat(line.workerId()).isEqualTo(w);
        assertThat(line.invocationId()).isEqualTo(id);
        assertThat(line.message()).isEqualTo("cpu: the worker exceeded its CPU time limit of 50 ms");
    }

    @Test
    void aWallClockKillIsLogged() throws Exception {
        // Waits on a timer past the limit: a promise nothing can settle would be canceled as hung instead.
        String w = load(bundle("export default { async fetch() { await scheduler.wait(60_000); } };"), limits(1_000, 200));
        long id = start(w, "GET", "http://x/", null);
        assertThat(RECORDER.await(id).failure().code()).isEqualTo(ErrorCode.WALL_TIME_EXCEEDED.code());
        Message.LogLine line = awaitOneLimitLine(id);
        assertThat(line.workerId()).isEqualTo(w);
        assertThat(line.message()).isEqualTo("wall_time: the worker did not finish within its wall-clock limit of 200 ms");
    }

    @Test
    void aMemoryLimitKillIsLogged() throws Exception {
        String w = load(bundle("""
                export default { fetch() { const a = []; while (true) a.push({x: new Array(1000).fill(1)}); } };"""),
                limits(30_000, 60_000));
        long id = start(w, "GET", "http://x/", null);
        assertThat(RECORDER.await(id).failure().code()).isEqualTo(ErrorCode.MEMORY_LIMIT_EXCEEDED.code());
        Message.LogLine line = awaitOneLimitLine(id);
        assertThat(line.workerId()).isEqualTo(w);
        assertThat(line.message()).isEqualTo("memory: the worker exceeded its memory limit (the isolate's heap reached its limit)");
    }

    @Test
    void goingOverTheSubrequestLimitIsLoggedOnce() throws Exception {
        Limits d = Limits.DEFAULTS;
        Limits none = new Limits(d.cpuMs(), d.wallMs(), d.heapMb(), 0, d.codeBytes(), d.envBytes(), d.requestBodyBytes());
        String w = load(bundle("""
                export default { async fetch() {
                  const errors = [];
                  for (let i = 0; i < 3; i++) { try { await fetch("http://example.com/"); } catch (e) { errors.push(e.message); } }
                  return new Response(String(errors.length));
                } };"""), none);
        long id = start(w, "GET", "http://x/", null);
        assertThat(RECORDER.await(id).body()).isEqualTo("3");
        Message.LogLine line = awaitOneLimitLine(id);
        assertThat(line.workerId()).isEqualTo(w);
        assertThat(line.message()).isEqualTo("subrequests: the worker exceeded its limit of 0 subrequests");
    }

    @Test
    void aWorkerThatLogsItsBudgetAwayIsStillReportedWhenKilled() throws Exception {
        String w = load(bundle("""
                export default { fetch() { for (let i = 0; i < 2000; i++) console.log("noise"); while (true) {} } };"""),
                limits(200, 10_000));
        long id = start(w, "GET", "http://x/", null);
        assertThat(RECORDER.await(id).failure().code()).isEqualTo(ErrorCode.CPU_LIMIT_EXCEEDED.code());
        assertThat(awaitOneLimitLine(id).message()).startsWith("cpu: ");
    }

    @Test
    void consoleOutputOfTopLevelCodeNamesTheWorker() throws Exception {
        String w = load(bundle("console.log('starting up'); export default { fetch() { return new Response('ok'); } };"),
                Limits.DEFAULTS);
        eventually(() -> RECORDER.logs.stream().anyMatch(l -> "starting up".equals(l.message())));
        assertThat(RECORDER.logs).filteredOn(l -> "starting up".equals(l.message()))
                .singleElement().satisfies(l -> assertThat(l.workerId()).isEqualTo(w));
    }

    @Test
    void aTopLevelThrowIsALoadErrorAndNotAlsoAnUncaughtRejection() throws Exception {
        Message m = loadResult(bundle("throw new Error('boom at load'); export default {};"), Limits.DEFAULTS);
        assertThat(m).isInstanceOf(Message.WorkerLoadFailed.class);
        assertThat(((Message.WorkerLoadFailed) m).message()).contains("index.js").contains("boom at load");
        // Give a stray rejection line time to arrive, then check none did.
        Thread.sleep(300);
        assertThat(RECORDER.logs).noneSatisfy(l -> assertThat(l.message()).contains("boom at load"));
    }

    @Test
    void aMissingImportNamesTheImportingModuleAndLine() throws Exception {
        Message m = loadResult(bundle("""
                import { a } from './lib/a.js';
                export default { fetch() { return new Response(a); } };""",
                module("lib/a.js", ModuleType.JS, "// helpers\n\nimport { b } from \"./missing.js\";\nexport const a = b;")),
                Limits.DEFAULTS);
        assertThat(m).isInstanceOf(Message.WorkerLoadFailed.class);
        assertThat(((Message.WorkerLoadFailed) m).message())
                .isEqualTo("lib/a.js:3: cannot import './missing.js': no such module in the worker's bundle");
    }
}
