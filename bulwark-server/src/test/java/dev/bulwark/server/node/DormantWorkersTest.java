package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.server.config.ProjectConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Dormant dynamic workers against a real node (test project {@code dormant-project}: tenant a's
 * {@code front} with children idle for 1 s giving their isolates back, at most 2 live and 20
 * dormant; tenant b's {@code other}). A dormant worker keeps its code and grants in its sandbox:
 * its parent's callback does not run again, its next call makes it again on a spare isolate with
 * fresh module state, and everything it was granted behaves as before.
 *
 * <p>"Dormant" is read from outside: the tenant's sandbox for generated code holds no isolate
 * (the project keeps no ready ones), counted in {@code /proc/<pid>/maps} as {@link DynamicWorkersLruTest} does.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class DormantWorkersTest {
    static final int IDS = Integer.getInteger("bulwark.test.dormantIds", 8);

    @TempDir
    static Path data;
    static Node node;
    static final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        node = TestProjects.serve(data, "dormant-project", "front", "other");
        node.capabilities().register("tool", (method, args) -> (Long) args.get(0) + (Long) args.get(1));
        node.capabilities().register("revocable", (method, args) -> (Long) args.get(0) + (Long) args.get(1));
        ProjectConfig front = TestProjects.load(TestProjects.resource("dormant-project").resolve("front"), data);
        assertThat(node.deploy(node.withCapability(node.withCapability(node.worker(front), "TOOL", "tool"),
                "REVOCABLE", "revocable"))).isNull();
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static String text(String host, String path) throws Exception {
        HttpResponse<String> r = TestProjects.HTTP.send(TestProjects.request(node, path).header("Host", host + ".localhost").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return r.body();
    }

    static JsonNode call(String path) throws Exception {
        return json.readTree(text("front", path));
    }

    static long generatedPid() {
        List<Long> pids = node.supervisor().pids(DynamicWorkers.generatedTenant("a"));
        assertThat(pids).hasSize(1);
        return pids.getFirst();
    }

    /**
     * Waits until every dynamic worker of tenant a is dormant: its sandbox holds no isolate at all
     * (the project keeps no ready isolates, so none is counted that no worker holds).
     */
    static void awaitAllDormant() {
        long pid = generatedPid();
        assertThat(node.settings().sandboxes().poolSize()).isZero();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(DynamicWorkersLruTest.liveIsolates(pid)).isZero());
    }

    @Test
    void aDormantWorkerIsMadeAgainWithFreshStateAndItsCallbackDoesNotRunAgain() throws Exception {
        JsonNode first = call("/?id=state&plain&twice");
        assertThat(first.get("calls").asInt()).isEqualTo(1);
        assertThat(first.get("callbacks").asInt()).isEqualTo(1);
        JsonNode second = first.get("second");
        assertThat(second.get("calls").asInt()).as("the same isolate while it is used").isEqualTo(2);
        assertThat(second.get("made").asText()).isEqualTo(first.get("made").asText());

        awaitAllDormant();
        JsonNode woken = call("/?id=state&plain&twice");
        assertThat(woken.get("calls").asInt()).as("module state starts fresh in the new isolate").isEqualTo(1);
        assertThat(woken.get("made").asText()).isNotEqualTo(first.get("made").asText());
        assertThat(woken.get("callbacks").asInt()).as("the parent's callback did not run again").isEqualTo(1);
        assertThat(woken.get("second").get("calls").asInt()).isEqualTo(2);

    }

    @Test
    void grantsHoldAfterTheWorkerIsMadeAgainAndARevocationStays() throws Exception {
        JsonNode before = call("/?id=grants");
        assertThat(before.get("scoped").asText()).isEqualTo("scoped to tenant a");
        assertThat(before.get("props").asText()).as("the child cannot read its grant's props")
                .isEqualTo("TypeError: The RPC receiver does not implement the method \"props\".");
        assertThat(before.get("tool").asInt()).isEqualTo(5);
        assertThat(before.get("revocable").asInt()).isEqualTo(9);
        assertThat(before.get("secret").asText()).isEqualTo("undefined");
        assertThat(before.get("fetch").asText()).as("globalOutbound: null").startsWith("Error: ");

        awaitAllDormant();
        JsonNode woken = call("/?id=grants");
        assertThat(woken.get("calls").asInt()).isEqualTo(1);
        assertThat(woken.get("callbacks").asInt()).isEqualTo(1);
        for (String field : List.of("scoped", "props", "tool", "revocable", "secret", "fetch")) {
            assertThat(woken.get(field)).as(field + " after the worker was made again").isEqualTo(before.get(field));
        }

        // Revoked while the worker is dormant: the new isolate's stub is revoked too, and stays so.
        awaitAllDormant();
        node.revokeCapability("revocable");
        JsonNode revoked = call("/?id=grants");
        assertThat(revoked.get("calls").asInt()).isEqualTo(1);
        assertThat(revoked.get("revocable").asText()).isEqualTo("Error: The RPC stub was revoked by the host that granted it.");
        assertThat(revoked.get("tool").asInt()).isEqualTo(5);
        awaitAllDormant();
        JsonNode again = call("/?id=grants");
        assertThat(again.get("calls").asInt()).isEqualTo(1);
        assertThat(again.get("revocable").asText()).isEqualTo("Error: The RPC stub was revoked by the host that granted it.");
        assertThat(again.get("callbacks").asInt()).isEqualTo(1);
    }

    @Test
    void callsThatArriveWhileTheIsolateIsGivenBackAllSucceed() throws Exception {
        call("/?id=race&plain");
        awaitAllDormant();
        // Eight calls at once wake it. Each isolate it is made in counts its calls 1, 2, 3...: every
        // call was served by a loaded worker, none lost, none counted twice.
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Callable<JsonNode>> burst = new ArrayList<>();
            for (int i = 0; i < 8; i++) burst.add(() -> call("/?id=race&plain"));
            java.util.Map<String, List<Integer>> byIsolate = new java.util.HashMap<>();
            for (Future<JsonNode> f : pool.invokeAll(burst)) {
                JsonNode r = f.get();
                assertThat(r.get("callbacks").asInt()).isEqualTo(1);
                byIsolate.computeIfAbsent(r.get("made").asText(), k -> new ArrayList<>()).add(r.get("calls").asInt());
            }
            for (List<Integer> calls : byIsolate.values()) {
                assertThat(calls).containsExactlyInAnyOrderElementsOf(java.util.stream.IntStream.rangeClosed(1, calls.size()).boxed().toList());
            }
            System.out.println("DormantWorkersTest: a burst of 8 calls on a dormant worker was served by "
                    + byIsolate.size() + " isolate(s)");

            // Rounds of four calls at once, spaced around the idle time (1 s): some rounds arrive
            // while the isolate is being given back. Every call is answered by a loaded worker.
            int fresh = 0;
            for (int round = 0; round < 12; round++) {
                Thread.sleep(850 + 60L * (round % 6));
                List<Callable<JsonNode>> four = new ArrayList<>();
                for (int c = 0; c < 4; c++) four.add(() -> call("/?id=race&plain"));
                for (Future<JsonNode> f : pool.invokeAll(four)) {
                    JsonNode r = f.get();
                    assertThat(r.get("callbacks").asInt()).isEqualTo(1);
                    if (r.get("calls").asInt() == 1) fresh++;
                }
            }
            System.out.println("DormantWorkersTest: calls that found a freshly made isolate: " + fresh + " of 48");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aWorkerWhoseExportIsHeldKeepsItsIsolate() throws Exception {
        // The parent holds a stub on the child's RpcTarget for 1.5 s, past the child's 1 s idle time:
        // the isolate is not given back while something it exported is held.
        JsonNode held = call("/held?id=held");
        assertThat(held.get("first").asInt()).isEqualTo(1);
        assertThat(held.get("later").asInt()).as("the same module state, 1.5 s later").isEqualTo(2);
        awaitAllDormant(); // once the request ended, the stub was released and the worker went dormant
        assertThat(call("/held?id=held").get("first").asInt()).isEqualTo(1);
    }

    @Test
    void anotherTenantNeverReachesADormantWorker() throws Exception {
        JsonNode mine = call("/?id=shared&plain");
        assertThat(mine.get("callbacks").asInt()).isEqualTo(1);
        awaitAllDormant();
        // Tenant b's loader, asked for the same id, loads its own code in its own sandbox.
        assertThat(text("other", "/?id=shared")).isEqualTo("tenant b's own shared callbacks=1");
        assertThat(text("other", "/?id=shared")).isEqualTo("tenant b's own shared callbacks=1");
        assertThat(node.supervisor().pids(DynamicWorkers.generatedTenant("b"))).doesNotContain(generatedPid());
        // Tenant a's worker wakes as its own, its callback not run again.
        JsonNode woken = call("/?id=shared&plain");
        assertThat(woken.get("calls").asInt()).isEqualTo(1);
        assertThat(woken.get("callbacks").asInt()).isEqualTo(1);
    }

    @Test
    void manyMoreWorkersStayLoadedDormantThanLiveAndTheLeastRecentlyUsedIsEvictedPastBoth() throws Exception {
        long pid = generatedPid();
        int live = node.settings().sandboxes().dynamicWorkersMax();
        int pool = node.settings().sandboxes().poolSize();
        long rssBefore = status(pid, "VmRSS");
        for (int i = 0; i < IDS; i++) {
            assertThat(call("/?id=many-" + i + "&plain").get("callbacks").asInt()).isEqualTo(1);
            // Past the live budget the least recently used go dormant at once, idle time or not.
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                    assertThat(DynamicWorkersLruTest.liveIsolates(pid)).isLessThanOrEqualTo(live + pool));
        }
        Thread.sleep(1000);
        long rssLoaded = status(pid, "VmRSS");
        awaitAllDormant();
        long rssDormant = status(pid, "VmRSS");
        System.out.printf("DormantWorkersTest: %d ids: generated sandbox RSS %d KiB before, %d 1 s after loading, "
                + "%d once all dormant (%.1f KiB per worker after loading, %.1f dormant)%n", IDS, rssBefore, rssLoaded,
                rssDormant, (rssLoaded - rssBefore) / (double) IDS, (rssDormant - rssBefore) / (double) IDS);
        if (IDS > 20) return; // the eviction half is for the default count (the budget is 2 + 20)

        // All of them are still loaded: none of their callbacks runs again.
        for (int i = 0; i < IDS; i++) {
            JsonNode r = call("/?id=many-" + i + "&plain");
            assertThat(r.get("callbacks").asInt()).as("many-" + i).isEqualTo(1);
        }
        // Past the dormant budget too (2 + 20 loaded), the least recently used is evicted: its callback runs again.
        for (int i = 0; i < 22; i++) call("/?id=evict-" + i + "&plain");
        assertThat(call("/?id=many-0&plain").get("callbacks").asInt()).isEqualTo(2);
    }

    private static long status(long pid, String key) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith(key + ":")) return Long.parseLong(line.substring(key.length() + 1).trim().split("\\s+")[0]);
        }
        throw new IllegalStateException(key);
    }
}
