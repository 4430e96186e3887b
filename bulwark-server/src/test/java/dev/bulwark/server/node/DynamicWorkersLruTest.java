package dev.bulwark.server.node;

import dev.bulwark.server.config.ProjectLoader;
import dev.bulwark.server.config.SandboxSettings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Many distinct dynamic worker ids loaded in turn through one parent's loader (issue 10: "10,000
 * distinct ids loaded in turn keep RSS and threads bounded"): the sandbox for generated code keeps
 * at most the tenant's budget of dynamic workers loaded (3 in the test project), so its live V8
 * isolates stay under budget + ready pool, and its threads do not grow with the number of ids
 * (isolates run on a bounded pool of carrier threads, none of their own).
 *
 * <p>300 ids by default; {@code -Dbulwark.test.dynamicIds=10000} runs the full count
 * (about 3-5 minutes on a 2-core machine).
 */
@Timeout(value = 30, unit = TimeUnit.MINUTES)
class DynamicWorkersLruTest {
    static final int IDS = Integer.getInteger("bulwark.test.dynamicIds", 300);

    @TempDir
    static Path data;
    static Node node;
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws Exception {
        Path project = Path.of("src", "test", "resources", "loader-project").toAbsolutePath();
        node = Node.serve(ProjectLoader.load(project, s -> s.withPort(0).withDataDir(data)));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static String body(String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + path))
                .header("Host", "loader").timeout(Duration.ofSeconds(90)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return r.body();
    }

    @Test
    void distinctIdsLoadedInTurnKeepIsolatesAndThreadsBounded() throws Exception {
        SandboxSettings sb = node.settings().sandboxes();
        int isolateBudget = sb.dynamicWorkersMax() * sb.isolatesPerWorker() + sb.poolSize();
        String tenant = DynamicWorkers.generatedTenant("loader");

        // A few ids first, so the sandbox, its pool and its carriers exist.
        for (int i = 0; i < 10; i++) assertThat(body("/get?id=warm-" + i)).startsWith("dyn warm-" + i + " hi");
        long pid = onlyPid(tenant);
        long threadsAtStart = status(pid, "Threads");
        assertThat(liveIsolates(pid)).as("the isolate probe sees the sandbox's isolates").isPositive();

        for (int i = 0; i < IDS; i++) {
            assertThat(body("/get?id=id-" + i)).startsWith("dyn id-" + i + " hi");
            if ((i + 1) % 100 == 0 || i == IDS - 1) {
                assertThat(onlyPid(tenant)).as("the same sandbox served every id").isEqualTo(pid);
                // Evicted isolates close on their carrier, just after the eviction: wait for that.
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                        assertThat(liveIsolates(pid)).as("live isolates after %d ids", IDS).isLessThanOrEqualTo(isolateBudget));
                long threads = status(pid, "Threads");
                System.out.printf("DynamicWorkersLruTest: %d ids, sandbox threads %d, live isolates %d, RSS %d KiB%n",
                        i + 1, threads, liveIsolates(pid), status(pid, "VmRSS"));
                // Carriers come and go with the load, bounded by their maximum (64), never by the ids.
                assertThat(threads).as("sandbox threads after %d ids", i + 1).isLessThanOrEqualTo(threadsAtStart + 64);
            }
        }
    }

    private static long onlyPid(String tenant) {
        List<Long> pids = node.supervisor().pids(tenant);
        assertThat(pids).hasSize(1);
        return pids.getFirst();
    }

    private static long status(long pid, String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith(key + ":")) return Long.parseLong(line.substring(key.length() + 1).trim().split("\\s+")[0]);
        }
        throw new IllegalStateException(key + " not in /proc/" + pid + "/status");
    }

    /**
     * V8 isolates alive in a sandbox, counted from outside: each isolate of this V8 build
     * (Javet 5.0.6, V8 14.7) reserves its own executable code range, an anonymous {@code rwxp}
     * mapping of at least 64 MiB; the JVM's code cache is smaller (measured with IdleIsolateRss:
     * 150 isolates, 150 such mappings; docs/notes/isomem.md).
     */
    static int liveIsolates(long pid) throws IOException {
        int n = 0;
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/maps"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 5 || !f[1].equals("rwxp")) continue; // named mappings have a 6th field
            String[] range = f[0].split("-");
            long size = Long.parseUnsignedLong(range[1], 16) - Long.parseUnsignedLong(range[0], 16);
            if (size >= 64L << 20) n++;
        }
        return n;
    }
}
