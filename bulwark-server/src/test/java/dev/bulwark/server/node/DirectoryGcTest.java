package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 11: the node's directory keeps placements of live objects only. Objects of {@code
 * dirgc-project} are evicted after 200 ms idle in one of two sandboxes; each construction counts
 * itself in the object's database, so the tests can tell exactly how many instances an id had
 * and whether two were ever live at once.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class DirectoryGcTest {
    @TempDir
    static Path data;
    static Node node;
    static final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        node = TestProjects.serve(data, "dirgc-project");
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static CompletableFuture<JsonNode> gen(String name) {
        return TestProjects.HTTP.sendAsync(TestProjects.request(node, "/gen/" + name).build(),
                HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
            assertThat(r.statusCode()).as(name + ": " + r.body()).isEqualTo(200);
            try {
                JsonNode body = json.readTree(r.body());
                // The instance that answers is the latest construction: none was made while it lived.
                assertThat(body.get("stored").asInt()).as(name + ": " + r.body()).isEqualTo(body.get("gen").asInt());
                return body;
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    static void awaitNoPlacements() {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                .untilAsserted(() -> assertThat(node.objectPlacements()).isZero());
    }

    @Test
    void evictedObjectsLeaveTheDirectoryAndComeBackOnTheirNextEvent() throws Exception {
        awaitNoPlacements();
        List<CompletableFuture<JsonNode>> first = new ArrayList<>();
        for (int i = 0; i < 20; i++) first.add(gen("evict-" + i));
        for (var f : first) assertThat(f.get(120, TimeUnit.SECONDS).get("gen").asInt()).isEqualTo(1);

        // Idle, they are evicted in their sandboxes and the node drops every placement.
        awaitNoPlacements();

        // The next event of an evicted object works, constructs it once more, and places it once.
        JsonNode again = gen("evict-3").get(120, TimeUnit.SECONDS);
        assertThat(again.get("gen").asInt()).isEqualTo(2);
        JsonNode still = gen("evict-3").get(120, TimeUnit.SECONDS);
        assertThat(still.get("gen").asInt()).as("the same instance answers while it lives").isEqualTo(2);
        awaitNoPlacements();
        assertThat(gen("evict-3").get(120, TimeUnit.SECONDS).get("gen").asInt()).isEqualTo(3);
    }

    @Test
    void callsArrivingWhileObjectsAreEvictedNeverMakeTwoLiveInstances() throws Exception {
        int ids = 6, rounds = 60;
        Map<String, Set<Integer>> gens = new HashMap<>();
        for (int i = 0; i < ids; i++) gens.put("race-" + i, new TreeSet<>());
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int round = 0; round < rounds; round++) {
            List<CompletableFuture<JsonNode>> calls = new ArrayList<>();
            List<String> names = new ArrayList<>();
            for (String name : gens.keySet()) {
                // Some ids get two calls at once, so a call may find its object just evicted while another is starting.
                int n = 1 + random.nextInt(2);
                for (int k = 0; k < n; k++) {
                    calls.add(gen(name));
                    names.add(name);
                }
            }
            for (int k = 0; k < calls.size(); k++) {
                gens.get(names.get(k)).add(calls.get(k).get(120, TimeUnit.SECONDS).get("gen").asInt());
            }
            // Around the idle time (200 ms; the sweep runs every 100 ms): the next calls race the evictions.
            Thread.sleep(150 + random.nextInt(150));
        }
        awaitNoPlacements();
        for (var e : gens.entrySet()) {
            JsonNode last = gen(e.getKey()).get(120, TimeUnit.SECONDS);
            e.getValue().add(last.get("gen").asInt());
            // Every construction answered at least one call (an object is constructed by its
            // event), and no instance saw a later one stored while it lived: the constructions
            // are exactly the numbers seen, one after another.
            int constructions = last.get("stored").asInt();
            assertThat(e.getValue()).as(e.getKey()).hasSize(constructions);
            assertThat(e.getValue()).as(e.getKey()).containsExactlyElementsOf(
                    java.util.stream.IntStream.rangeClosed(1, constructions).boxed().toList());
        }
        awaitNoPlacements();
    }
}
