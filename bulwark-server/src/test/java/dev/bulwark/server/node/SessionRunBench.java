package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.sandbox.worker.WorkerCode;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.SessionSandboxSettings;
import dev.bulwark.server.config.Settings;
import dev.bulwark.server.governance.Admission;
import dev.bulwark.server.governance.Budgets;
import dev.bulwark.server.governance.Contract;
import dev.bulwark.server.governance.Governance;
import dev.bulwark.server.governance.Tool;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static org.awaitility.Awaitility.await;

/**
 * What a session's run costs in its own process (docs/notes/sessionproc.md), CPU and wall, for three
 * cases, interleaved round by round: {@code cold} (a new session, no spare: the run starts its JVM),
 * {@code spare} (a new session whose run takes a spare started beforehand), {@code reuse} (a later run of a
 * session, in its process). CPU is the node JVM's plus its session sandboxes' (sampled every 20 ms
 * until each is killed, so a few ms at the end of each may be missed). Not a test (its name keeps it
 * out of {@code verify}): {@code -Dtest=SessionRunBench -Dsurefire.failIfNoSpecifiedTests=false -Drounds=5}.
 */
class SessionRunBench {
    static final int ROUNDS = Integer.getInteger("rounds", 5);
    static final WorkerCode CODE = SessionCapabilityLeakTest.code(
            "export default async (input, env) => env.TOOLS.call(\"desk.note\", {n: 1});");

    record Sample(double wallMs, double cpuMs, long rssMb) {}

    @Test
    void cost() throws Exception {
        Map<String, List<Sample>> results = new java.util.LinkedHashMap<>();
        for (String c : List.of("cold", "spare", "reuse")) results.put(c, new ArrayList<>());
        for (int round = 0; round <= ROUNDS; round++) {
            for (String c : results.keySet()) {
                Sample s = once(c);
                if (round > 0) results.get(c).add(s); // the first round warms the page cache
            }
        }
        System.out.println("BENCH load average at the end: " + ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        results.forEach((c, v) -> System.out.printf("BENCH %-5s wall ms %s median %.0f | cpu ms %s median %.0f | rss MiB %s%n", c,
                v.stream().map(x -> Math.round(x.wallMs())).toList(), median(v.stream().map(Sample::wallMs).toList()),
                v.stream().map(x -> Math.round(x.cpuMs())).toList(), median(v.stream().map(Sample::cpuMs).toList()),
                v.stream().map(Sample::rssMb).toList()));
    }

    private static Sample once(String kind) throws Exception {
        Path data = Files.createTempDirectory("bulwark-session-bench");
        SessionSandboxSettings sessions = new SessionSandboxSettings(SessionSandboxSettings.Per.SESSION, 16, 4, 10_000,
                kind.equals("spare") ? 1 : 0, 300_000, 60_000);
        Node node = Node.start(Settings.of(data, "acme").withPort(0)
                .withSandboxes(SandboxSettings.DEFAULTS.withSessions(sessions)));
        Map<Long, Long> sandboxCpu = new ConcurrentHashMap<>();
        Thread sampler = Thread.ofPlatform().daemon(true).start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                for (SandboxProcess p : node.supervisor().processes()) {
                    long pid = p.pid();
                    ProcessHandle.of(pid).flatMap(h -> h.info().totalCpuDuration())
                            .ifPresent(d -> sandboxCpu.merge(pid, d.toNanos(), Math::max));
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        try {
            Governance gov = node.governance();
            gov.registerTool(new Tool("desk.note", new ObjectMapper().readTree("{\"type\": \"object\"}"),
                    Contract.CONTROLLED_MUTATION, 0, call -> "noted"));
            String session = (String) gov.admit("acme", new Admission("agent", "low", List.of("desk.note"), Budgets.DEFAULTS,
                    Map.of())).get("id");
            SessionSandboxes sandboxes = node.sessionWorkers().sandboxes();
            if (kind.equals("spare")) await().atMost(Duration.ofSeconds(120)).until(() -> sandboxes.spares("acme") == 1);
            if (kind.equals("reuse")) gov.run("acme", session, CODE, Map.of()); // the session's first run starts its process
            Thread.sleep(500); // let the node and sandboxes settle (isolate pool, JIT)
            Map<Long, Long> before = Map.copyOf(sandboxCpu);
            long sandboxBefore = before.values().stream().mapToLong(Long::longValue).sum();
            long nodeBefore = nodeCpuNanos();
            long t0 = System.nanoTime();
            Object result = gov.run("acme", session, CODE, Map.of()).result();
            long wall = System.nanoTime() - t0;
            long nodeCpu = nodeCpuNanos() - nodeBefore;
            if (!Map.of("ok", true, "value", "noted").equals(result)) throw new AssertionError(result);
            // The run's process stays up (idle time 60 s): sample it once more before counting.
            if (kind.equals("spare")) await().atMost(Duration.ofSeconds(120)).until(() -> sandboxes.spares("acme") == 1);
            Thread.sleep(100);
            // A spare refilled behind the run costs a start too, but not on the run's path: not counted here.
            List<Long> spares = sandboxes.sparePids("acme");
            long sandboxAfter = sandboxCpu.entrySet().stream().filter(e -> !spares.contains(e.getKey()))
                    .mapToLong(Map.Entry::getValue).sum()
                    + sandboxCpu.entrySet().stream().filter(e -> spares.contains(e.getKey()) && before.containsKey(e.getKey()))
                    .mapToLong(e -> before.get(e.getKey())).sum();
            long rss = node.supervisor().processes().stream().filter(p -> DynamicWorkers.isSession(p.tenant())
                    && !spares.contains(p.pid())).mapToLong(SandboxProcess::residentBytes).max().orElse(0) >> 20;
            return new Sample(wall / 1e6, (nodeCpu + sandboxAfter - sandboxBefore) / 1e6, rss);
        } finally {
            sampler.interrupt();
            node.close();
        }
    }

    private static long nodeCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static double median(List<Double> v) {
        List<Double> s = v.stream().sorted().toList();
        return s.get(s.size() / 2);
    }
}
