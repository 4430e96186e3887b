package dev.bulwark.server.node;

import dev.bulwark.sandbox.worker.Binding;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.server.config.EgressSettings;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Path;
import java.util.List;

import static dev.bulwark.server.node.BudgetNodeMain.bundle;

/**
 * The node of {@link SoakTest}, in its own JVM (the test gives it a 256 MiB heap). Tenant
 * {@code alpha}: {@code fetcher} (the egress attacks of {@link BudgetNodeMain}) and {@code burner}
 * (builtins that ignore termination, a 200 MiB digest, requests back to this node; the default
 * worker, so its own requests to 127.0.0.1 reach it). Tenant {@code beta}: {@code responder} (huge
 * responses to clients that never read) and {@code flooder} (logs after the response, dynamic
 * workers whose top-level code blocks). Tenant {@code bystander}: one worker that answers.
 * Prints {@code PORT <n>} when it serves, then {@code HEAP <used bytes> <committed bytes>} every
 * 250 ms; stops when its standard input closes.
 *
 * <pre>SoakNodeMain DATA_DIR UPSTREAM_PORT</pre>
 */
public final class SoakNodeMain {
    static final String BURNER = """
            export default {
              async fetch(request, env) {
                switch (new URL(request.url).pathname) {
                  case "/sort": new Float32Array(50e6).sort(); return new Response("sorted");
                  case "/json": {
                    const deep = "[".repeat(5e6) + "]".repeat(5e6);
                    try { JSON.parse(deep); return new Response("parsed"); }
                    catch (e) { return new Response(e.name + ": " + e.message); }
                  }
                  case "/digest": {
                    const h = await crypto.subtle.digest("SHA-256", new Uint8Array(200 << 20));
                    return new Response(Array.from(new Uint8Array(h), (b) => b.toString(16).padStart(2, "0")).join(""));
                  }
                  case "/loop": {
                    // Three requests back to this node, each of which does the same.
                    const statuses = await Promise.all([0, 1, 2].map(() =>
                      fetch("http://127.0.0.1:" + env.SELF + "/loop").then((r) => r.status, () => 0)));
                    return new Response(statuses.join(","));
                  }
                  default: return new Response("burner");
                }
              }
            };""";

    static final String FLOODER = """
            export default {
              async fetch(request, env) {
                switch (new URL(request.url).pathname) {
                  case "/flood": {
                    // Detached: keeps logging long after the response was sent.
                    (async () => {
                      for (let i = 0; i < 20000; i++) {
                        console.log("late line " + i + " " + "x".repeat(4096));
                        if (i % 100 === 0) await null;
                      }
                    })();
                    return new Response("flooded");
                  }
                  case "/deploy": {
                    const w = env.LOADER.load({ compatibilityDate: "2025-06-01", mainModule: "m.js", modules: {
                      "m.js": "Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);\\n"
                            + "export default { fetch() { return new Response('loaded'); } };" } });
                    try {
                      const r = await w.getEntrypoint().fetch("http://dynamic/");
                      return new Response("answered " + r.status);
                    } catch (e) {
                      return new Response("load failed: " + e.message);
                    }
                  }
                  default: return new Response("flooder");
                }
              }
            };""";

    private SoakNodeMain() {}

    public static void main(String[] args) throws Exception {
        Path data = Path.of(args[0]);
        String upstream = args[1];
        // The egress attacks drain 64 MiB on a busy machine: a long wall limit. The others are
        // stopped by their CPU limit or by a short wall limit (a stalled client is let go after 15 s).
        Limits slow = new Limits(20_000, 60_000, 256, 50, 1 << 20, 1 << 16, 1 << 20);
        Limits tight = new Limits(1_000, 15_000, 256, 50, 1 << 20, 1 << 16, 1 << 20);
        EgressSettings egress = new EgressSettings(List.of("127.0.0.1"), false).withTestOnlyLoopbackAllowed()
                .withLimits(2L << 30, 60_000, 64, 32);
        try (Node node = Node.start(Settings.of(data, "fetcher").withPort(0).withLimits(tight)
                .withSandboxes(SandboxSettings.DEFAULTS.withRssCeilingMb(1536).withPoolSize(2)).withEgress(egress))) {
            String env = "{\"UPSTREAM\":\"" + upstream + "\",\"SELF\":\"" + node.port() + "\"}";
            node.deploy(new DeployedWorker("fetcher", "alpha", bundle(BudgetNodeMain.ATTACKER), env, slow));
            node.deploy(new DeployedWorker("burner", "alpha", bundle(BURNER), env, tight));
            node.deploy(new DeployedWorker("responder", "beta", bundle(BudgetNodeMain.ATTACKER), env, tight));
            node.deploy(new DeployedWorker("flooder", "beta", bundle(FLOODER), env,
                    List.of(new Binding.WorkerLoader("LOADER")), true, tight));
            node.deploy(new DeployedWorker("bystander", "bystander", bundle(
                    "export default { fetch() { return new Response('still here'); } };"), "{}", tight));
            node.defaultWorker("burner");
            System.out.println("PORT " + node.port());
            System.out.flush();
            Thread.ofPlatform().daemon().start(SoakNodeMain::reportHeap);
            while (System.in.read() >= 0) {
                // serve until the test closes our standard input
            }
        }
        System.exit(0);
    }

    private static void reportHeap() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        while (true) {
            var heap = memory.getHeapMemoryUsage();
            System.out.println("HEAP " + heap.getUsed() + " " + heap.getCommitted());
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                return;
            }
        }
    }
}
