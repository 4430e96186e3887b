package dev.bulwark.server.node;

import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import dev.bulwark.server.config.EgressSettings;
import dev.bulwark.server.config.FrontDoorSettings;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;

import java.nio.file.Path;
import java.util.List;

/**
 * A node for {@link NodeMemoryBudgetTest}, in its own JVM (started with a small heap): two attacker
 * tenants whose worker does everything the memory attacks need, and a bystander tenant. Prints
 * {@code PORT <n>} when it serves, and stops when its standard input closes.
 *
 * <pre>BudgetNodeMain DATA_DIR UPSTREAM_PORT</pre>
 */
public final class BudgetNodeMain {
    static final String ATTACKER = """
            export default {
              async fetch(request, env) {
                const url = new URL(request.url);
                const up = "http://127.0.0.1:" + env.UPSTREAM + "/big?mb=";
                switch (url.pathname) {
                  case "/drain": {
                    const r = await fetch(up + url.searchParams.get("mb"));
                    let n = 0; const rd = r.body.getReader();
                    for (;;) { const {done, value} = await rd.read(); if (done) break; n += value.byteLength; }
                    return new Response(String(n));
                  }
                  case "/hold": {
                    const r = await fetch(up + "1024");
                    await scheduler.wait(4000);
                    return new Response("held " + r.status);
                  }
                  case "/upload-stuck": {
                    // 1 GiB offered to an upstream that never reads it.
                    let n = 0;
                    const body = new ReadableStream({ pull(c) { if (n++ === 16384) c.close(); else c.enqueue(new Uint8Array(64 << 10)); } });
                    const sent = fetch("http://127.0.0.1:" + env.UPSTREAM + "/stuck", {method: "POST", body}).then(() => "answered", (e) => e.message);
                    return new Response(await Promise.race([sent, scheduler.wait(4000).then(() => "stuck")]));
                  }
                  case "/enqueue64": return new Response(new ReadableStream({ start(c) { c.enqueue(new Uint8Array(64 << 20)); c.close(); } }));
                  case "/body100": return new Response(new Uint8Array(100 << 20));
                  default: return new Response("attacker");
                }
              }
            };""";

    private BudgetNodeMain() {}

    public static void main(String[] args) throws Exception {
        Path data = Path.of(args[0]);
        String upstream = args[1];
        // A long wall limit: on a busy machine draining 128 MiB through a worker takes a while.
        Limits limits = new Limits(20_000, 90_000, 256, 50, 1 << 20, 1 << 16, 1 << 20);
        EgressSettings egress = new EgressSettings(List.of("127.0.0.1"), false).withTestOnlyLoopbackAllowed()
                .withLimits(2L << 30, 60_000, 64, 32);
        // The test has 31 requests in flight at once; the default cap for a 96 MiB heap (24) would refuse some.
        FrontDoorSettings frontDoor = new FrontDoorSettings(List.of(), "local", 48);
        try (Node node = Node.start(Settings.of(data, "fetcher").withPort(0).withLimits(limits)
                .withSandboxes(SandboxSettings.DEFAULTS.withRssCeilingMb(2048).withPoolSize(2)).withEgress(egress)
                .withFrontDoor(frontDoor))) {
            // Two attacker tenants: the response attacks cost their own sandbox a lot of memory (the
            // bodies live there until the clients read them), and must not decide the egress attacks' fate.
            node.deploy(new DeployedWorker("fetcher", "fetcher", bundle(ATTACKER),
                    "{\"UPSTREAM\":\"" + upstream + "\"}", limits));
            node.deploy(new DeployedWorker("responder", "responder", bundle(ATTACKER),
                    "{\"UPSTREAM\":\"" + upstream + "\"}", limits));
            node.deploy(new DeployedWorker("bystander", "bystander", bundle(
                    "export default { fetch() { return new Response('still here'); } };"), "{}", limits));
            System.out.println("PORT " + node.port());
            System.out.flush();
            while (System.in.read() >= 0) {
                // serve until the test closes our standard input
            }
        }
        System.exit(0);
    }

    static WorkerBundle bundle(String js) {
        return WorkerBundle.of("index.js", List.of(WorkerModule.text("index.js", ModuleType.JS, js)));
    }
}
