package dev.bulwark.server.node;

import dev.bulwark.server.config.ProjectLoader;
import dev.bulwark.server.config.SandboxSettings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A facet evicted for being idle (issue 14): like any durable object it leaves its isolate after
 * {@code sandboxes.object_idle_ms} without an event, and its next request makes a new instance
 * (its constructor runs again) over the same database.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class FacetIdleTest {
    @TempDir
    Path data;
    Node node;

    static final String APP = """
            import { DurableObject } from 'cloudflare:workers';
            export class App extends DurableObject {
              constructor(ctx, env) {
                super(ctx, env);
                this.born = crypto.randomUUID();
                ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS counter (n INTEGER)');
              }
              async fetch() {
                this.ctx.storage.sql.exec('INSERT INTO counter VALUES (1)');
                await this.ctx.storage.put('kv', ((await this.ctx.storage.get('kv')) ?? 0) + 1);
                const n = this.ctx.storage.sql.exec('SELECT count(*) AS n FROM counter').one().n;
                return new Response(n + ' ' + (await this.ctx.storage.get('kv')) + ' ' + this.born);
              }
            }
            """;

    @AfterEach
    void stop() {
        if (node != null) node.close();
    }

    String ok(String path) throws Exception {
        HttpResponse<String> r = TestProjects.HTTP.send(TestProjects.request(node, path).header("Host", "facets").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return r.body();
    }

    @Test
    void anIdleFacetIsEvictedAndItsNextRequestRunsItsConstructorAgainOverTheSameData() throws Exception {
        Path project = Path.of("src", "test", "resources", "facets-project").toAbsolutePath();
        node = Node.serve(ProjectLoader.load(project, s -> {
            SandboxSettings sb = s.sandboxes();
            return s.withPort(0).withDataDir(data).withSandboxes(sb.withObjectIdleMs(1_000));
        }));
        HttpResponse<String> up = TestProjects.HTTP.send(TestProjects.request(node, "/i1/code/X").header("Host", "facets")
                .POST(HttpRequest.BodyPublishers.ofString(APP)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
        String[] first = ok("/i1/app/X/").split(" ");
        assertThat(first[0] + " " + first[1]).isEqualTo("1 1");

        // Idle for longer than object_idle_ms: the next request meets a new instance with the old data.
        AtomicReference<String[]> later = new AtomicReference<>();
        int[] expected = {1};
        await().atMost(Duration.ofSeconds(90)).pollDelay(Duration.ofSeconds(3)).pollInterval(Duration.ofSeconds(3)).until(() -> {
            String[] now = ok("/i1/app/X/").split(" ");
            expected[0]++;
            // Every request counted once, in SQL and in KV, whichever instance served it.
            assertThat(now[0] + " " + now[1]).isEqualTo(expected[0] + " " + expected[0]);
            later.set(now);
            return !now[2].equals(first[2]);
        });
        assertThat(later.get()[2]).as("the constructor ran again").isNotEqualTo(first[2]);
        // The facet is the same facet to the node: one record, every request counted.
        FacetRecord record = node.facetRecords().stream().filter(r -> r.path().endsWith("/X") || r.path().equals("X"))
                .findFirst().orElseThrow();
        assertThat(record.requests()).isEqualTo(expected[0]);
        assertThat(record.errors()).isZero();
    }
}
