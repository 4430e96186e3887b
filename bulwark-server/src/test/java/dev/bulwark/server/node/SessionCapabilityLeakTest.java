package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.objects.java.StructuredValues;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerCode;
import dev.bulwark.sandbox.worker.WorkerModule;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import dev.bulwark.server.governance.Admission;
import dev.bulwark.server.governance.Budgets;
import dev.bulwark.server.governance.Contract;
import dev.bulwark.server.governance.Governance;
import dev.bulwark.server.governance.Tool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Cross-session leakage (issue 15) from a subverted sandbox's side: sessions A and B of one tenant
 * run at the same time, each with its own {@code env.TOOLS}, each in a sandbox process of its own
 * (docs/notes/sessionproc.md). A's process, subverted, forges the protocol message a tool call is
 * ({@code CapCall}) with B's TOOLS id, from A's invocation and claiming B's. The node refuses both
 * (the tool never runs) and B's audit trail records each attempt.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SessionCapabilityLeakTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path data;
    Node node;

    @AfterEach
    void stop() {
        if (node != null) node.close();
    }

    static WorkerCode code(String main) {
        return WorkerCode.of("2025-06-01", List.of(), "agent.js", List.of(WorkerModule.text("agent.js", ModuleType.JS, main)), "{}",
                false, null, null);
    }

    static Object field(Object o, String name) throws Exception {
        java.lang.reflect.Field f = o.getClass().getDeclaredField(name);
        f.setAccessible(true);
        return f.get(o);
    }

    @Test
    void aForgedToolCallOnOneSessionsConnectionWithAnotherSessionsIdsIsRefusedAndAuditedInThatSession() throws Exception {
        node = Node.start(Settings.of(data, "acme").withPort(0)
                .withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(0)));
        Governance gov = node.governance();
        CountDownLatch bothHolding = new CountDownLatch(2);
        CountDownLatch release = new CountDownLatch(1);
        List<String> effects = Collections.synchronizedList(new ArrayList<>());
        gov.registerTool(new Tool("desk.hold", JSON.readTree("{\"type\": \"object\"}"), Contract.CONTROLLED_MUTATION, 0, call -> {
            effects.add(call.session() + " " + call.idempotencyKey());
            if (Boolean.TRUE.equals(call.args().get("hold"))) {
                bothHolding.countDown();
                release.await(120, TimeUnit.SECONDS);
            }
            return "held";
        }));
        String a = (String) gov.admit("acme", new Admission("agent-a", "low", List.of("desk.hold"), Budgets.DEFAULTS, Map.of())).get("id");
        String b = (String) gov.admit("acme", new Admission("agent-b", "low", List.of("desk.hold"), Budgets.DEFAULTS, Map.of())).get("id");
        WorkerCode holds = code("export default async (input, env) => env.TOOLS.call(\"desk.hold\", {hold: true}, {idempotencyKey: \"own\"});");
        CompletableFuture<Governance.Run> runA = CompletableFuture.supplyAsync(() -> gov.run("acme", a, holds, null));
        CompletableFuture<Governance.Run> runB = CompletableFuture.supplyAsync(() -> gov.run("acme", b, holds, null));
        assertThat(bothHolding.await(120, TimeUnit.SECONDS)).isTrue();

        // What the sandbox knows: the invocations it runs and the capability ids in its workers' envs.
        Capabilities caps = (Capabilities) field(node, "caps");
        CapabilityCalls calls = (CapabilityCalls) field(node, "capCalls");
        Map<String, Long> invocationOf = new LinkedHashMap<>();
        Map<String, Long> toolsOf = new LinkedHashMap<>();
        caps.invocationWorkers().forEach((invocation, worker) -> caps.envJavaCapabilities(worker).forEach((capId, name) -> {
            String session = name.split(":")[1]; // bulwark-session:<session>:<envelope>
            invocationOf.put(session, invocation);
            toolsOf.put(session, capId);
        }));
        assertThat(invocationOf.keySet()).containsExactlyInAnyOrder(a, b);
        SandboxProcess sandboxA = runsIn(invocationOf.get(a));
        SandboxProcess sandboxB = runsIn(invocationOf.get(b));
        // The two sessions run at the same moment in two processes, each its session's only one.
        assertThat(sandboxA).isNotSameAs(sandboxB);
        assertThat(sandboxA.pid()).isNotEqualTo(sandboxB.pid());
        assertThat(DynamicWorkers.isSession(sandboxA.tenant())).isTrue();
        assertThat(sandboxA.tenant()).isNotEqualTo(sandboxB.tenant());
        assertThat(sandboxA.runs(invocationOf.get(b))).isFalse();
        assertThat(sandboxB.runs(invocationOf.get(a))).isFalse();
        // Each process was given its own session's worker, and so its own TOOLS id, and nothing else.
        Map<Long, String> workerOf = caps.invocationWorkers();
        String workerA = workerOf.get(invocationOf.get(a));
        String workerB = workerOf.get(invocationOf.get(b));
        assertThat(capabilityIds(sandboxA, workerA)).containsExactly(toolsOf.get(a));
        assertThat(capabilityIds(sandboxB, workerB)).containsExactly(toolsOf.get(b));
        assertThat(sandboxA.loaded(workerB)).isNull();
        assertThat(sandboxB.loaded(workerA)).isNull();

        // Nor can A's process reach B's worker by address (an RPC or fetch it forges): the node's check
        // for a call from a sandbox finds nothing callable, as B's own process finds itself.
        assertThat(node.callable(sandboxA.tenant(), invocationOf.get(a), new dev.bulwark.sandbox.ipc.Address.Worker(workerB)))
                .isNull();
        assertThat(node.callable(sandboxA.tenant(), invocationOf.get(b), new dev.bulwark.sandbox.ipc.Address.Worker(workerB)))
                .isNull();
        assertThat(node.callable(sandboxB.tenant(), invocationOf.get(b), new dev.bulwark.sandbox.ipc.Address.Worker(workerB)))
                .isNotNull();

        // The table: B's TOOLS answers B's invocation on B's connection only.
        assertThat(caps.use(sandboxB, invocationOf.get(b), toolsOf.get(b)).target).isInstanceOf(Capabilities.Java.class);
        for (long claimed : new long[] {invocationOf.get(a), invocationOf.get(b)}) {
            Capabilities.CapabilityException refused = org.junit.jupiter.api.Assertions.assertThrows(Capabilities.CapabilityException.class,
                    () -> caps.use(sandboxA, claimed, toolsOf.get(b)));
            assertThat(refused).hasMessage(Capabilities.NOT_GRANTED);
        }

        // The forged protocol calls on A's connection, through the node's capability-call path: from A's
        // own invocation, and as B's invocation (what a subverted process running both could send before).
        byte[] args = StructuredValues.encode(List.of("desk.hold", Map.of("hold", false), Map.of("idempotencyKey", "forged")), 1 << 20);
        calls.receive(sandboxA, new Message.CapCall(invocationOf.get(a), 9_007_000_000_000L, toolsOf.get(b), "call", args));
        calls.receive(sandboxA, new Message.CapCall(invocationOf.get(b), 9_007_000_000_001L, toolsOf.get(b), "call", args));

        // B's trail records both attempts (the notice is sent on a thread of its own: wait for it, bounded).
        List<String> refusals = List.of();
        for (int i = 0; i < 600 && refusals.size() < 2; i++) {
            refusals = refusals(gov, b);
            if (refusals.size() < 2) Thread.sleep(100);
        }
        assertThat(refusals).containsExactly("capability_not_held", "capability_not_held");
        assertThat(refusals(gov, a)).isEmpty();

        release.countDown();
        assertThat(runA.get(120, TimeUnit.SECONDS).result()).isEqualTo(Map.of("ok", true, "value", "held"));
        assertThat(runB.get(120, TimeUnit.SECONDS).result()).isEqualTo(Map.of("ok", true, "value", "held"));
        // The forged call never reached the tool: exactly the two sessions' own calls happened.
        assertThat(effects).containsExactlyInAnyOrder(a + " own", b + " own");
        assertThat(gov.session("acme", b).get("toolCalls")).isEqualTo(1L);
        assertThat(gov.audit("acme", b).get("firstBroken")).isEqualTo(0L);
    }

    SandboxProcess runsIn(long invocation) {
        List<SandboxProcess> in = node.supervisor().processes().stream().filter(p -> p.runs(invocation)).toList();
        assertThat(in).hasSize(1);
        return in.getFirst();
    }

    /** The capability ids the node sent {@code sandbox} with {@code worker}'s load (its env's stubs). */
    static List<Long> capabilityIds(SandboxProcess sandbox, String worker) {
        SandboxProcess.Loaded loaded = sandbox.loaded(worker);
        assertThat(loaded).isNotNull();
        return loaded.worker().bindings().stream().filter(x -> x instanceof dev.bulwark.sandbox.worker.Binding.Capability)
                .map(x -> ((dev.bulwark.sandbox.worker.Binding.Capability) x).capId()).toList();
    }

    @SuppressWarnings("unchecked")
    static List<String> refusals(Governance gov, String session) {
        List<String> out = new ArrayList<>();
        for (Object row : (List<Object>) gov.audit("acme", session).get("rows")) {
            Map<String, Object> r = (Map<String, Object>) row;
            if (!"refused".equals(r.get("kind"))) continue;
            String body = String.valueOf(r.get("body"));
            if (body.contains("capability_not_held")) out.add("capability_not_held");
        }
        return out;
    }
}
