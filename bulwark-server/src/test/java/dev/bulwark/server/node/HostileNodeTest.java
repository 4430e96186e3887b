package dev.bulwark.server.node;

import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile workers against a real node and real sandbox processes: whatever they do, they get a
 * structured error and the node goes on serving their tenant and others.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class HostileNodeTest {
    @TempDir
    static Path data;
    static Node node;
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    static final String HOSTILE = """
                        export default {
                          async fetch(request) {
                            const path = new URL(request.url).pathname;
                            switch (path) {
                              case "/heap": { const a = []; while (true) a.push({x: new Array(1000).fill(1)}); }
                              case "/strings": { let s = []; for (;;) s.push("x".repeat(1000) + Math.random()); }
                              case "/typed": { const a = []; for (;;) a.push(new Uint8Array(32 << 20).fill(7)); }
                              case "/wasm": {
                                const m = [];
                                try { for (;;) m.push(new WebAssembly.Memory({initial: 1024, maximum: 65536})); }
                                catch (e) { return new Response(e.name + " after " + m.length, {status: 507}); }
                              }
                              case "/keep-buffers": {
                                globalThis.kept ??= [];
                                try { for (let i = 0; i < 500; i++) kept.push(new ArrayBuffer(8, {maxByteLength: 1 << 30})); }
                                catch (e) { return new Response(e.name + " holding " + kept.length, {status: 507}); }
                                return new Response("holding " + kept.length);
                              }
                              case "/recurse": { const f = (n) => f(n + 1) + 1; return new Response(String(f(0))); }
                              case "/exit": {
                                const tried = [];
                                for (const name of ["process", "Deno", "Bun", "quit", "exit", "java", "Packages"]) {
                                  tried.push(name + ":" + typeof globalThis[name]);
                                }
                                return new Response(tried.join(","));
                              }
                              default: return new Response("fine");
                            }
                          }
                        };""";

    @BeforeAll
    static void start() throws Exception {
        Limits limits = new Limits(500, 10_000, 64, 5, 1 << 20, 1 << 16, 1 << 20);
        Settings settings = Settings.of(data, "hostile").withPort(0).withLimits(limits)
                .withSandboxes(SandboxSettings.DEFAULTS.withRssCeilingMb(700).withPoolSize(2));
        node = Node.start(settings);
        node.deploy(new DeployedWorker("hostile", "hostile", WorkerBundle.of("index.js", List.of(WorkerModule.text(
                "index.js", ModuleType.JS, HOSTILE))), "{}", limits));
        // The same code with CPU to spare: what stops a heap or Wasm bomb is then the memory check
        // alone, not whichever of it and the CPU limit (GC work counts as CPU) comes first.
        node.deploy(new DeployedWorker("roomy", "hostile", WorkerBundle.of("index.js", List.of(WorkerModule.text(
                "index.js", ModuleType.JS, HOSTILE))), "{}", new Limits(10_000, 30_000, 64, 5, 1 << 20, 1 << 16, 1 << 20)));
        node.deploy(new DeployedWorker("bystander", "other-tenant", WorkerBundle.of("index.js", List.of(
                WorkerModule.text("index.js", ModuleType.JS, "export default { fetch() { return new Response('still here'); } };"))),
                "{}", limits));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static HttpResponse<String> get(String worker, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + path))
                .header("Host", worker).timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
    }


    private static void assertStillServing() throws Exception {
        assertThat(get("hostile", "/").body()).isEqualTo("fine");
        assertThat(get("bystander", "/").body()).isEqualTo("still here");
    }

    @Test
    void aHeapBombThatTurboFanWouldHaveHiddenIsTerminated() throws Exception {
        HttpResponse<String> r = get("hostile", "/heap");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.body()).contains("\"code\":\"memory_limit_exceeded\"");
        assertStillServing();
    }

    @Test
    void aStringHeapBombIsTerminatedAtTheHeapLimit() throws Exception {
        HttpResponse<String> r = get("roomy", "/strings");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.body()).contains("\"code\":\"memory_limit_exceeded\"");
        assertStillServing();
    }

    @Test
    void aTypedArrayBombOutsideTheHeapIsStoppedInsideItsSandboxByTheMemoryWatchdog() throws Exception {
        // 32 MiB arrays filled in a loop: outside the V8 heap, so the heap cap does not see them. The
        // sandbox's watchdog stops the task once the process grew by more than twice the heap cap
        // (128 MiB here) within it, after ~4 arrays, and before the node's kill at the RSS ceiling
        // (700 MiB), whose outcome for the client would be sandbox_crashed and would take every other
        // request of the sandbox with it. The roomy worker's 10 s of CPU: faulting in 128 MiB of fresh
        // pages costs 0.5-1.2 s of CPU on some VMs (measured on an AMD EPYC Firecracker guest), more
        // than the hostile worker's 500 ms, and this test is about the memory watchdog.
        long sandbox = sandboxOf("hostile");
        HttpResponse<String> r = get("roomy", "/typed");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.body()).contains("\"code\":\"memory_limit_exceeded\"");
        assertStillServing();
        assertThat(sandboxOf("hostile")).as("the sandbox was not killed and replaced").isEqualTo(sandbox);
    }

    @Test
    void theNodeReadsASandboxsResidentSizeAsTheKernelReportsIt() throws Exception {
        // What the monitor compares with the RSS ceiling (700 MiB here) ten times a second.
        assertThat(get("bystander", "/").body()).isEqualTo("still here");
        SandboxProcess p = node.supervisor().processes().stream().filter(s -> s.tenant().equals("other-tenant")).findFirst().orElseThrow();
        long vmRss = 0;
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc", Long.toString(p.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) vmRss = Long.parseLong(line.replaceAll("[^0-9]", "")) << 10;
        }
        assertThat(vmRss).isGreaterThan(32L << 20);
        assertThat(p.residentBytes()).isBetween(vmRss * 9 / 10, vmRss * 11 / 10);
    }

    /** The pid of the one sandbox process of {@code tenant}. */
    static long sandboxOf(String tenant) {
        List<Long> pids = node.supervisor().processes().stream().filter(p -> p.tenant().equals(tenant))
                .map(SandboxProcess::pid).toList();
        assertThat(pids).hasSize(1);
        return pids.getFirst();
    }

    @Test
    void aLoopOfWebAssemblyMemoriesIsRefusedAtTheIsolatesBound() throws Exception {
        // Each Memory makes 64 MiB accessible without touching it and reserves its largest size of
        // address space and two memory mappings: nothing the memory watchdog or V8's heap
        // statistics see, and ~32,500 of them end the whole sandbox process. The prelude's account
        // (wasm-memories.js) lets an isolate hold 128; the 129th is a RangeError the worker can catch.
        HttpResponse<String> r = get("hostile", "/wasm");
        assertThat(r.statusCode()).isEqualTo(507);
        assertThat(r.body()).isEqualTo("RangeError after 128");
        assertStillServing();
    }

    @Test
    void resizableBuffersKeptAcrossRequestsAreRefusedAtTheIsolatesBound() throws Exception {
        // Each reserves 1 GiB of address space and a mapping of the process, counted by nothing the
        // watchdogs read: ~32,600 kept would use up the sandbox's mappings (65 requests of 500).
        // The account refuses the 129th, in this request and in every later one.
        for (int request = 0; request < 3; request++) {
            HttpResponse<String> r = get("hostile", "/keep-buffers");
            assertThat(r.statusCode()).isEqualTo(507);
            assertThat(r.body()).isEqualTo("RangeError holding 128");
        }
        assertStillServing();
    }

    @Test
    void infiniteRecursionIsARangeErrorNotACrash() throws Exception {
        HttpResponse<String> r = get("hostile", "/recurse");
        assertThat(r.statusCode()).isEqualTo(500);
        // The RangeError itself goes to the operator's log; the client sees only the code.
        assertThat(r.body()).contains("\"code\":\"worker_threw\"").doesNotContain("RangeError");
        assertStillServing();
    }

    @Test
    void thereIsNoWayToEndTheProcessFromJavaScript() throws Exception {
        assertThat(get("hostile", "/exit").body())
                .isEqualTo("process:undefined,Deno:undefined,Bun:undefined,quit:undefined,exit:undefined,"
                        + "java:undefined,Packages:undefined");
        assertStillServing();
    }
}
