package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.FacetIds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A facet's alarm after a restart of the node (issue 14): the node starts the facet from its own
 * facet index (its class and last code version), without its supervisor, and the alarm fires.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class FacetAlarmRestartTest {
    @TempDir
    Path data;

    static final String APP = """
            import { DurableObject } from 'cloudflare:workers';
            export class App extends DurableObject {
              async fetch(request) {
                const url = new URL(request.url);
                if (url.pathname === '/alarm') {
                  await this.ctx.storage.setAlarm(Date.now() + Number(url.searchParams.get('in')));
                  return new Response('set');
                }
                if (url.pathname === '/env') return new Response(typeof this.env.CAP + ' ' + this.env.PLAIN);
                return new Response(String((await this.ctx.storage.get('alarmed')) ?? 'none'));
              }
              async alarm() { await this.ctx.storage.put('alarmed', 'VERSION ' + typeof this.env.CAP + ' ' + this.env.PLAIN); }
            }
            """;

    static String send(Node node, String method, String path, String body) throws Exception {
        HttpResponse<String> r = TestProjects.HTTP.send(TestProjects.request(node, path).header("Host", "facets")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return r.body();
    }

    static long count(Path db, String sql, String id) throws Exception {
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + db.toAbsolutePath());
             var p = c.prepareStatement(sql)) {
            p.setString(1, id);
            try (var rs = p.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    @Test
    void aFacetsAlarmFiresAfterANodeRestartWithoutItsSupervisor() throws Exception {
        String facetId, eId;
        try (Node node = TestProjects.serve(data, "facets-project")) {
            String supervisor = send(node, "GET", "/r1/id/-", null);
            facetId = FacetIds.id(supervisor, "X");
            eId = FacetIds.id(supervisor, "E");
            send(node, "POST", "/r1/code/X", APP.replace("VERSION", "v1"));
            assertThat(send(node, "GET", "/r1/app/X/alarm?in=600000", null)).isEqualTo("set");
            // A new code version sets the alarm again: still one alarm row (and one index row) for the facet.
            send(node, "POST", "/r1/code/X", APP.replace("VERSION", "v2"));
            assertThat(send(node, "GET", "/r1/app/X/alarm?in=3000", null)).isEqualTo("set");
            // Facet E's env, as its supervisor gives it, has a plain value and a capability.
            send(node, "POST", "/r1/code/E?env=1", APP.replace("VERSION", "e1"));
            assertThat(send(node, "GET", "/r1/app/E/env", null)).isEqualTo("function plain");
            assertThat(send(node, "GET", "/r1/app/E/alarm?in=3000", null)).isEqualTo("set");
        }
        assertThat(count(data.resolve("alarms.sqlite"), "SELECT count(*) FROM alarms WHERE id = ?", facetId)).isEqualTo(1);
        assertThat(count(data.resolve("facets.sqlite"), "SELECT count(*) FROM facets WHERE id = ?", facetId)).isEqualTo(1);

        try (Node node = TestProjects.serve(data, "facets-project")) {
            // Known from the index at once; nothing called it yet.
            assertThat(node.facets().recordOf(facetId).requests()).isZero();
            // The alarm runs and succeeds (its row leaves the index) before any request reaches the
            // supervisor: one invocation of the facet, without errors, at the code version that set it.
            await().atMost(120, TimeUnit.SECONDS).until(() ->
                    count(data.resolve("alarms.sqlite"), "SELECT count(*) FROM alarms WHERE id = ?", facetId) == 0);
            FacetRecord r = node.facets().recordOf(facetId);
            assertThat(r.requests()).isEqualTo(1);
            assertThat(r.errors()).isZero();
            assertThat(send(node, "GET", "/r1/app/X/alarmed", null)).isEqualTo("v2 undefined undefined");
            // Started by the node for its alarm, E has its plain env values but not its supervisor's
            // capability (it belonged to the supervisor's run; facetfast.md says why).
            await().atMost(120, TimeUnit.SECONDS).until(() ->
                    count(data.resolve("alarms.sqlite"), "SELECT count(*) FROM alarms WHERE id = ?", eId) == 0);
            assertThat(node.facets().recordOf(eId).errors()).isZero();
            // The supervisor's callback ran once, for that request, never for the alarm.
            assertThat(send(node, "GET", "/r1/callbacks/X", null)).isEqualTo("1");
            assertThat(send(node, "GET", "/r1/app/E/alarmed", null)).isEqualTo("e1 undefined plain");
        }
    }
}
