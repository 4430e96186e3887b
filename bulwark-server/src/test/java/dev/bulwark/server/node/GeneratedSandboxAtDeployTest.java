package dev.bulwark.server.node;

import dev.bulwark.sandbox.worker.Binding;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A deployed worker with a loader binding has its tenant's sandbox for generated code started
 * right after its deploy, before any load (its first load does not wait for a JVM to start); a
 * worker without one leaves its tenant with no such process.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class GeneratedSandboxAtDeployTest {
    @TempDir
    static Path data;
    static Node node;

    @BeforeAll
    static void start() throws Exception {
        node = TestProjects.serve(data, "loader-project");
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    private static DeployedWorker worker(String name, String tenant, List<Binding> bindings) {
        return new DeployedWorker(name, tenant, WorkerBundle.of("index.js", List.of(WorkerModule.text("index.js",
                ModuleType.JS, "export default { fetch() { return new Response('hi'); } };"))),
                "{}", bindings, true, Limits.DEFAULTS);
    }

    @Test
    void aProjectWithALoaderHasItsSandboxForGeneratedCodeUpWithoutALoad() {
        String generated = DynamicWorkers.generatedTenant("loader");
        assertThat(node.supervisor().upOrStarting(generated)).isTrue();
        await().atMost(Duration.ofSeconds(60)).until(() -> node.supervisor().pids(generated).size() == 1);
        assertThat(node.supervisor().pids(generated)).doesNotContainAnyElementsOf(node.supervisor().pids("loader"));
    }

    @Test
    void anotherWorkerWithALoaderInTheSameTenantStartsNoSecondOne() {
        String generated = DynamicWorkers.generatedTenant("loader");
        await().atMost(Duration.ofSeconds(60)).until(() -> node.supervisor().pids(generated).size() == 1);
        List<Long> before = node.supervisor().pids(generated);
        assertThat(node.deploy(worker("second", "loader", List.of(new Binding.WorkerLoader("LOADER"))))).isNull();
        assertThat(node.supervisor().pids(generated)).isEqualTo(before);
    }

    @Test
    void aWorkerWithoutALoaderLeavesItsTenantWithNoSandboxForGeneratedCode() {
        assertThat(node.deploy(worker("plain", "plain", List.of()))).isNull();
        assertThat(node.supervisor().pids("plain")).hasSize(1);
        assertThat(node.supervisor().upOrStarting(DynamicWorkers.generatedTenant("plain"))).isFalse();
    }
}
