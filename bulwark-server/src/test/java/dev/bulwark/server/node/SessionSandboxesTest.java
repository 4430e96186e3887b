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
import dev.bulwark.server.governance.GovernanceException;
import dev.bulwark.server.governance.Tool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Where sessions' runs run (docs/notes/sessionproc.md), against a real node and real sandboxes:
 * a run takes a started spare, its process is its alone and ends with it, a killed one fails only
 * its own run, nothing is left behind after many runs, and past the bounds a run waits or is
 * refused with a retryable error. (The forged calls are {@link SessionCapabilityLeakTest}'s.)
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SessionSandboxesTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final WorkerCode HOLDS = SessionCapabilityLeakTest.code(
            "export default async (input, env) => env.TOOLS.call(\"desk.hold\", {hold: input.hold === true});");

    @TempDir
    Path data;
    Node node;
    Governance gov;
    /** Calls of desk.hold with {hold: true} wait here: each release lets one go. */
    final Semaphore holding = new Semaphore(0);
    final Semaphore releases = new Semaphore(0);
    final List<String> effects = Collections.synchronizedList(new ArrayList<>());

    @AfterEach
    void stop() {
        releases.release(1000);
        if (node != null) node.close();
    }

    void start(SessionSandboxSettings sessions) throws Exception {
        node = Node.start(Settings.of(data, "acme").withPort(0)
                .withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(0).withSessions(sessions)));
        gov = node.governance();
        gov.registerTool(new Tool("desk.hold", JSON.readTree("{\"type\": \"object\"}"), Contract.CONTROLLED_MUTATION, 0, call -> {
            effects.add(call.session());
            if (Boolean.TRUE.equals(call.args().get("hold"))) {
                holding.release();
                releases.acquire();
            }
            return "held";
        }));
    }

    String admit() {
        return (String) gov.admit("acme", new Admission("agent", "low", List.of("desk.hold"), Budgets.DEFAULTS, Map.of())).get("id");
    }

    CompletableFuture<Governance.Run> run(String session, boolean hold) {
        return CompletableFuture.supplyAsync(() -> gov.run("acme", session, HOLDS, Map.of("hold", hold)));
    }

    /** Live sandbox processes of sessions' runs (spares included). */
    List<SandboxProcess> sessionProcesses() {
        return node.supervisor().processes().stream().filter(p -> DynamicWorkers.isSession(p.tenant()) && p.isAlive()).toList();
    }

    SessionSandboxes sandboxes() {
        return node.sessionWorkers().sandboxes();
    }

    /** The one process running the session's run now (the only one running a dynamic worker of that session). */
    SandboxProcess processOf(String session) throws Exception {
        Capabilities caps = (Capabilities) SessionCapabilityLeakTest.field(node, "caps");
        List<SandboxProcess> found = new ArrayList<>();
        caps.invocationWorkers().forEach((invocation, worker) -> caps.envJavaCapabilities(worker).forEach((id, name) -> {
            if (name.split(":")[1].equals(session)) {
                node.supervisor().processes().stream().filter(p -> p.runs(invocation)).forEach(found::add);
            }
        }));
        assertThat(found).hasSize(1);
        return found.getFirst();
    }

    @Test
    void aSessionsRunsShareItsProcessNoOtherSessionsAndAKilledOneFailsOnlyItsSession() throws Exception {
        start(SessionSandboxSettings.DEFAULTS);
        String a = admit();
        await().atMost(Duration.ofSeconds(120)).until(() -> sandboxes().spares("acme") == 1);
        long spare = sessionProcesses().getFirst().pid();

        CompletableFuture<Governance.Run> runA = run(a, true);
        assertThat(holding.tryAcquire(120, TimeUnit.SECONDS)).isTrue();
        SandboxProcess processA = processOf(a);
        assertThat(processA.pid()).isEqualTo(spare); // the session's first run did not wait for a JVM to start

        String b = admit();
        CompletableFuture<Governance.Run> runB = run(b, true);
        assertThat(holding.tryAcquire(120, TimeUnit.SECONDS)).isTrue();
        SandboxProcess processB = processOf(b);
        assertThat(processB.pid()).isNotEqualTo(processA.pid());

        processA.kill("killed by the test");
        ExecutionException failed = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> runA.get(120, TimeUnit.SECONDS));
        assertThat(failed.getCause()).isInstanceOf(GovernanceException.class);
        assertThat(((GovernanceException) failed.getCause()).error().code()).isEqualTo("sandbox_crashed");
        // It is not replaced under its key: nothing else ever runs there.
        await().atMost(Duration.ofSeconds(60)).until(() -> node.supervisor().pids(processA.tenant()).isEmpty());
        assertThat(processB.isAlive()).isTrue();

        releases.release(2);
        assertThat(runB.get(120, TimeUnit.SECONDS).result()).isEqualTo(Map.of("ok", true, "value", "held"));
        assertThat(gov.session("acme", b).get("toolCalls")).isEqualTo(1L);

        // B's next run comes back to B's process; A's next run gets a new one, which is not B's.
        CompletableFuture<Governance.Run> againB = run(b, true);
        assertThat(holding.tryAcquire(120, TimeUnit.SECONDS)).isTrue();
        assertThat(processOf(b)).isSameAs(processB);
        CompletableFuture<Governance.Run> againA = run(a, true);
        assertThat(holding.tryAcquire(120, TimeUnit.SECONDS)).isTrue();
        SandboxProcess newA = processOf(a);
        assertThat(newA).isNotSameAs(processA).isNotSameAs(processB);
        assertThat(newA.pid()).isNotEqualTo(processB.pid());
        releases.release(2);
        assertThat(againA.get(120, TimeUnit.SECONDS).result()).isEqualTo(Map.of("ok", true, "value", "held"));
        assertThat(againB.get(120, TimeUnit.SECONDS).result()).isEqualTo(Map.of("ok", true, "value", "held"));

        // Ending a session stops its process (no run of it is in flight).
        gov.end("acme", b, "completed");
        assertThat(processB.isAlive()).isFalse();
    }

    @Test
    void perRunEachRunOfASessionHasAProcessOfItsOwn() throws Exception {
        start(new SessionSandboxSettings(SessionSandboxSettings.Per.RUN, 16, 4, 10_000, 0, 300_000, 10_000));
        String a = admit();
        CompletableFuture<Governance.Run> first = run(a, true);
        assertThat(holding.tryAcquire(120, TimeUnit.SECONDS)).isTrue();
        // The second run's call waits for the session's lock (the first holds it in its tool): its process is up.
        CompletableFuture<Governance.Run> second = run(a, true);
        await().atMost(Duration.ofSeconds(120)).until(() -> sessionProcesses().size() == 2);
        releases.release(2);
        assertThat(first.get(120, TimeUnit.SECONDS).result()).isEqualTo(Map.of("ok", true, "value", "held"));
        assertThat(second.get(120, TimeUnit.SECONDS).result()).isEqualTo(Map.of("ok", true, "value", "held"));
        assertThat(sessionProcesses()).isEmpty(); // each stopped with its run
    }

    @Test
    void manySessionsLeaveOnlyTheSpareBehindNoProcessDirectoryOrDataOfTheirOwn() throws Exception {
        // No idle time: a session's process stops with its last run.
        start(new SessionSandboxSettings(SessionSandboxSettings.Per.SESSION, 16, 4, 10_000, 1, 300_000, 0));
        Path runDir = (Path) SessionCapabilityLeakTest.field(node, "runDir");
        int runs = 0;
        for (int round = 0; round < 3; round++) {
            // Two sessions at once, then one alone.
            CompletableFuture<Governance.Run> x = run(admit(), false);
            CompletableFuture<Governance.Run> y = run(admit(), false);
            assertThat(x.get(120, TimeUnit.SECONDS).result()).isEqualTo(Map.of("ok", true, "value", "held"));
            assertThat(y.get(120, TimeUnit.SECONDS).result()).isEqualTo(Map.of("ok", true, "value", "held"));
            assertThat(run(admit(), false).get(120, TimeUnit.SECONDS).result()).isEqualTo(Map.of("ok", true, "value", "held"));
            runs += 3;
        }
        // Every process started ran one run or is the one spare: nothing else is alive, in the node or the OS.
        int expected = runs + 1;
        await().atMost(Duration.ofSeconds(120)).until(() -> sandboxes().started() == expected
                && sandboxes().spares("acme") == 1 && sessionProcesses().size() == 1);
        SandboxProcess spare = sessionProcesses().getFirst();
        await().atMost(Duration.ofSeconds(60)).until(() -> javaDescendants().equals(List.of(spare.pid())));
        await().atMost(Duration.ofSeconds(60)).until(() -> sandboxDirectories(runDir).size() == 1);
        try (var tenants = Files.list(data.resolve("tenants"))) {
            assertThat(tenants.map(p -> p.getFileName().toString()).toList())
                    .containsExactly(TenantNames.directoryName(spare.tenant()));
        }
        assertThat(sandboxes().placed("acme")).isZero();
    }

    @Test
    void pastItsBoundARunIsRefusedRetryablyUnlessAnIdleSessionsProcessCanBeStopped() throws Exception {
        start(new SessionSandboxSettings(SessionSandboxSettings.Per.SESSION, 1, 1, 0, 0, 300_000, 600_000));
        String a = admit();
        CompletableFuture<Governance.Run> runA = run(a, true);
        assertThat(holding.tryAcquire(120, TimeUnit.SECONDS)).isTrue();

        GovernanceException full = org.junit.jupiter.api.Assertions.assertThrows(GovernanceException.class,
                () -> gov.run("acme", admit(), HOLDS, Map.of()));
        assertThat(full.status()).isEqualTo(503);
        assertThat(full.errorMap()).containsEntry("code", "session_sandboxes_full").containsEntry("retryable", true);
        assertThat(full.retryAfterSeconds()).isEqualTo(1);
        assertThat(sessionProcesses()).hasSize(1); // no spares: only the running run's

        releases.release();
        assertThat(runA.get(120, TimeUnit.SECONDS).result()).isEqualTo(Map.of("ok", true, "value", "held"));
        SandboxProcess idleA = sessionProcesses().getFirst(); // A's, idle: it waits for A's next run
        // Another session needs the place: A's idle process is stopped for it.
        assertThat(run(admit(), false).get(120, TimeUnit.SECONDS).result()).isEqualTo(Map.of("ok", true, "value", "held"));
        assertThat(idleA.isAlive()).isFalse();
    }

    @Test
    void aRunPastTheBoundWaitsItsTurnWhenTheWaitAllowsIt() throws Exception {
        start(new SessionSandboxSettings(SessionSandboxSettings.Per.SESSION, 1, 1, 120_000, 0, 300_000, 0));
        CompletableFuture<Governance.Run> first = run(admit(), true);
        assertThat(holding.tryAcquire(120, TimeUnit.SECONDS)).isTrue();
        String second = admit();
        CountDownLatch submitted = new CountDownLatch(1);
        CompletableFuture<Governance.Run> waiting = CompletableFuture.supplyAsync(() -> {
            submitted.countDown();
            return gov.run("acme", second, HOLDS, Map.of());
        });
        assertThat(submitted.await(60, TimeUnit.SECONDS)).isTrue();
        assertThat(waiting).isNotDone(); // it cannot have run: the one place is held
        releases.release();
        assertThat(first.get(120, TimeUnit.SECONDS).result()).isEqualTo(Map.of("ok", true, "value", "held"));
        assertThat(waiting.get(120, TimeUnit.SECONDS).result()).isEqualTo(Map.of("ok", true, "value", "held"));
        assertThat(effects).hasSize(2);
    }

    static List<Long> javaDescendants() {
        return ProcessHandle.current().descendants().filter(h -> h.isAlive()
                        && h.info().command().map(c -> c.endsWith("/java")).orElse(false))
                .map(ProcessHandle::pid).sorted().toList();
    }

    static List<Path> sandboxDirectories(Path runDir) throws java.io.IOException {
        try (var dirs = Files.list(runDir)) {
            return dirs.filter(p -> p.getFileName().toString().startsWith("sandbox-")).toList();
        }
    }
}
