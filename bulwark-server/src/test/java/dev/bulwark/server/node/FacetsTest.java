package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

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
 * Durable object facets end to end (issue 14): a supervisor written in JS
 * ({@code facets-project}) runs generated apps as facets in the tenant's sandbox for generated
 * code. Each test uses its own supervisor (the first path segment), so tests do not share facets.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class FacetsTest {
    @TempDir
    static Path data;
    static Node node;
    static final ObjectMapper json = new ObjectMapper();
    static final HttpClient http = TestProjects.HTTP;

    /** A counter app; {@code VERSION} is replaced per upload. */
    static final String COUNTER = """
            import { DurableObject } from 'cloudflare:workers';
            export class App extends DurableObject {
              constructor(ctx, env) {
                super(ctx, env);
                ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS counter (n INTEGER)');
              }
              async fetch(request) {
                const path = new URL(request.url).pathname;
                const sql = this.ctx.storage.sql;
                if (path === '/slow') { await new Promise((r) => setTimeout(r, 3000)); return new Response('slow done'); }
                if (path === '/throw') throw new RangeError('app threw');
                if (path === '/loop') { for (;;) {} }
                if (path === '/oom') { const a = []; for (;;) a.push(new Array(1 << 20).fill(path)); }
                if (path === '/alarm') { await this.ctx.storage.setAlarm(Date.now() + 300); return new Response('set'); }
                if (path === '/alarmed') return new Response(String((await this.ctx.storage.get('alarmed')) ?? 0));
                if (path === '/tables') return Response.json(sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").toArray().map((r) => r.name));
                if (path === '/kv') return Response.json([...(await this.ctx.storage.list()).keys()]);
                if (path === '/attach') {
                  const out = [];
                  for (const q of ["ATTACH DATABASE '../objects/x.sqlite' AS other", "ATTACH DATABASE 'file:/etc/passwd' AS p",
                                   "SELECT * FROM _cf_KV", "SELECT * FROM _bw_alarm", "PRAGMA database_list"]) {
                    try { out.push(JSON.stringify(sql.exec(q).toArray())); } catch (e) { out.push('refused: ' + e.message); }
                  }
                  return Response.json(out);
                }
                if (path === '/nest') {
                  // A child facet of this facet's own class (ctx.exports, as Cloudflare's), n levels down.
                  const n = Number(new URL(request.url).searchParams.get('n'));
                  sql.exec('INSERT INTO counter VALUES (1)');
                  const mine = sql.exec('SELECT count(*) AS n FROM counter').one().n;
                  if (n === 0) return new Response('leaf ' + mine);
                  let child;
                  try { child = this.ctx.facets.get('c', () => ({ class: this.ctx.exports.App })); }
                  catch (e) { return new Response('level ' + mine + ' > ' + e.name + ': ' + e.message); }
                  const res = await child.fetch('http://c/nest?n=' + (n - 1));
                  return new Response('level ' + mine + ' > ' + await res.text());
                }
                if (path === '/child') {
                  // A facet of a facet named like a sibling: its own child, with its own database.
                  const child = this.ctx.facets.get('Y', () => ({ class: null }));
                  try { await child.fetch('http://x/'); return new Response('reached'); } catch (e) { return new Response('child: ' + e.message); }
                }
                await this.ctx.storage.put('k-' + this.ctx.id, 1);
                sql.exec('INSERT INTO counter VALUES (1)');
                const n = sql.exec('SELECT count(*) AS n FROM counter').one().n;
                return new Response('VERSION ' + n);
              }
              async alarm() { await this.ctx.storage.put('alarmed', ((await this.ctx.storage.get('alarmed')) ?? 0) + 1); }
              hello(who) { return 'hello ' + who; }
            }
            """;

    @BeforeAll
    static void start() throws Exception {
        node = TestProjects.serve(data, "facets-project");
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static HttpResponse<String> send(String method, String path, String body) throws Exception {
        return http.send(TestProjects.request(node, path)
                .header("Host", "facets")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    static String ok(String path) throws Exception {
        HttpResponse<String> r = send("GET", path, null);
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return r.body();
    }

    static void upload(String sup, String app, String version) throws Exception {
        HttpResponse<String> r = send("POST", "/" + sup + "/code/" + app, COUNTER.replace("VERSION", version));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    static Path facetFiles() {
        return data.resolve("tenants").resolve(TenantNames.directoryName(DynamicWorkers.generatedTenant("facets"))).resolve("facets");
    }

    @Test
    void aFacetRunsGeneratedCodeWithItsOwnDatabaseAndANewVersionSeesTheOldData() throws Exception {
        upload("s1", "X", "v1");
        assertThat(ok("/s1/app/X/hit")).isEqualTo("v1 1");
        assertThat(ok("/s1/app/X/hit")).isEqualTo("v1 2");
        assertThat(ok("/s1/rpc/X/hello?arg=you")).isEqualTo("{\"value\":\"hello you\"}");
        // The callback ran once: the facet was running for the later calls.
        assertThat(ok("/s1/callbacks/X")).isEqualTo("1");
        // Its database is a file of its own in the sandbox for generated code.
        try (var files = Files.list(facetFiles())) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".sqlite")).count()).isGreaterThanOrEqualTo(1);
        }
        // New code: abort, the callback runs again, and v2 sees v1's rows.
        upload("s1", "X", "v2");
        assertThat(ok("/s1/app/X/hit")).isEqualTo("v2 3");
        assertThat(ok("/s1/callbacks/X")).isEqualTo("2");
        // abort without new code keeps the data too.
        assertThat(ok("/s1/abort/X")).isEqualTo("aborted");
        assertThat(ok("/s1/app/X/hit")).isEqualTo("v2 4");
        // delete removes the database: the next start begins empty.
        assertThat(ok("/s1/delete/X")).isEqualTo("deleted");
        assertThat(ok("/s1/app/X/hit")).isEqualTo("v2 1");
    }

    @Test
    void facetsCannotReachTheSupervisorsOrASiblingsStorage() throws Exception {
        upload("s2", "X", "x");
        upload("s2", "Y", "y");
        assertThat(ok("/s2/app/X/hit")).isEqualTo("x 1");
        assertThat(ok("/s2/app/X/hit")).isEqualTo("x 2");
        assertThat(ok("/s2/app/Y/hit")).isEqualTo("y 1");
        // Y sees only its own table (and the runtime's reserved ones, which it cannot use) and its own keys.
        List<String> tables = new java.util.ArrayList<>();
        json.readTree(ok("/s2/app/Y/tables")).forEach(t -> tables.add(t.asText()));
        assertThat(tables.stream().filter(t -> !t.startsWith("_bw_")).toList()).containsExactly("counter");
        JsonNode kv = json.readTree(ok("/s2/app/Y/kv"));
        assertThat(kv).hasSize(1);
        // ATTACH, reserved tables and pragmas that name files are refused.
        JsonNode attach = json.readTree(ok("/s2/app/Y/attach"));
        for (JsonNode line : attach) assertThat(line.asText()).as(attach.toString()).startsWith("refused: ");
        // A facet's facet named "Y" is its own child, not its sibling: it cannot be reached by name.
        assertThat(ok("/s2/app/X/child")).startsWith("child: ");
        // Another supervisor's "X" is another facet.
        upload("s2b", "X", "other");
        assertThat(ok("/s2b/app/X/hit")).isEqualTo("other 1");
        // The supervisor's own data is untouched and its own.
        assertThat(ok("/s2/own/-")).contains("supervisor-secret");
    }

    @Test
    void aFacetOfTheWorkersOwnClassRunsBesideItsParentWithTheIdItWasGiven() throws Exception {
        // ctx.exports.Note (no namespace) as the class; ctx.id is the callback's id (its name)
        assertThat(ok("/o1/note/n")).isEqualTo("given 1 calls 1 / 1");
        assertThat(ok("/o1/note/n")).isEqualTo("given 2 calls 2 / 2");
        assertThat(ok("/o1/note/n?id=other")).as("a running facet keeps its id").isEqualTo("given 3 calls 3 / 3");
        // another parent's facet "n", and another name: their own databases
        assertThat(ok("/o2/note/n")).isEqualTo("given 1 calls 1 / 1");
        assertThat(ok("/o1/note/m?id=none")).as("no id: the parent's").isEqualTo("o1 1 calls 1 / 1");
        // abort: a new instance over the same data; delete: the next one starts empty
        assertThat(ok("/o1/abort/n")).isEqualTo("aborted");
        assertThat(ok("/o1/note/n?id=again")).isEqualTo("again 4 calls 1 / 4");
        assertThat(ok("/o1/delete/n")).isEqualTo("deleted");
        assertThat(ok("/o1/note/n")).isEqualTo("given 1 calls 1 / 1");
        assertThat(ok("/o1/note/m")).as("its sibling is untouched").isEqualTo("o1 2 calls 2 / 2");
    }

    @Test
    void namesAreCheckedAndFacetStubsCannotBePassedOn() throws Exception {
        JsonNode names = json.readTree(ok("/s3/names/-"));
        assertThat(names.get(0).asText()).isEqualTo("TypeError: facets.get(): a facet name must be a non-empty string.");
        assertThat(names.get(1).asText()).isEqualTo("TypeError: facets.get(): a facet name cannot contain '/'.");
        assertThat(names.get(2).asText()).isEqualTo("TypeError: facets.get(): a facet name cannot contain '/'.");
        assertThat(names.get(3).asText()).isEqualTo("TypeError: facets.get(): a facet name cannot contain control characters.");
        assertThat(names.get(4).asText()).isEqualTo("TypeError: facets.get(): a facet name can be at most 128 characters long.");
        assertThat(names.get(5).asText()).isEqualTo("TypeError: facets.get(): a facet name must be a non-empty string.");
        assertThat(names.get(6).asText()).isEqualTo("128 accepted");
        assertThat(names.get(7).asText()).isEqualTo("NUL accepted");
        assertThat(ok("/s3/badclass/-")).startsWith("TypeError: The facet callback's 'class' must be a DurableObjectClass");
        upload("s3", "X", "x");
        // Facet stubs are not serializable (the issue): RPC and structuredClone refuse them.
        assertThat(ok("/s3/pass/X")).isEqualTo("DataCloneError: A facet stub could not be cloned: facet stubs are not serializable.");
        assertThat(ok("/s3/clone/X")).isEqualTo("DataCloneError: Could not serialize object of type \"Fetcher\". This type does not support serialization.");
    }

    @Test
    void abortDuringAnInFlightRequestFailsItsStubsWithTheReason() throws Exception {
        upload("s4", "X", "x");
        assertThat(ok("/s4/app/X/hit")).isEqualTo("x 1");
        JsonNode outcomes = json.readTree(ok("/s4/inflight/X"));
        assertThat(outcomes.get(0).asText()).isEqualTo("slow: swap during a request");
        assertThat(outcomes.get(1).asText()).isEqualTo("old stub: swap during a request");
        assertThat(outcomes.get(2).asText()).isEqualTo("new stub: x 2");
    }

    @Test
    void aBrokenFacetFailsOnlyItsOwnRequests() throws Exception {
        upload("s5", "X", "x");
        upload("s5", "Z", "z");
        assertThat(ok("/s5/app/X/hit")).isEqualTo("x 1");
        HttpResponse<String> threw = send("GET", "/s5/app/Z/throw", null);
        assertThat(threw.statusCode()).isEqualTo(502);
        assertThat(json.readTree(threw.body()).get("message").asText()).contains("app threw");
        HttpResponse<String> loop = send("GET", "/s5/app/Z/loop", null);
        assertThat(loop.statusCode()).isEqualTo(502);
        assertThat(ok("/s5/app/X/hit")).isEqualTo("x 2");
        // kill -9 of the sandbox that runs the facets: Z's in-flight request fails, X comes back.
        List<Long> pids = node.supervisor().pids(DynamicWorkers.generatedTenant("facets"));
        assertThat(pids).hasSize(1);
        var slow = http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/s5/app/Z/slow"))
                .header("Host", "facets").build(), HttpResponse.BodyHandlers.ofString());
        Thread.sleep(800);
        ProcessHandle.of(pids.get(0)).orElseThrow().destroyForcibly();
        HttpResponse<String> killed = slow.get(60, TimeUnit.SECONDS);
        assertThat(killed.statusCode()).as(killed.body()).isEqualTo(502);
        await().atMost(60, TimeUnit.SECONDS).untilAsserted(() -> assertThat(ok("/s5/app/X/hit")).isEqualTo("x 3"));
        assertThat(ok("/s5/own/-")).contains("supervisor-secret");
        // A facet that exhausts its memory fails its own request; X and the supervisor go on.
        HttpResponse<String> oom = send("GET", "/s5/app/Z/oom", null);
        assertThat(oom.statusCode()).as(oom.body()).isEqualTo(502);
        JsonNode oomError = json.readTree(oom.body());
        assertThat(oomError.get("code").asText()).isEqualTo("memory_limit_exceeded");
        assertThat(oomError.get("message").asText())
                .isEqualTo("the worker exceeded its memory limit (the isolate's heap reached its limit)");
        await().atMost(60, TimeUnit.SECONDS).untilAsserted(() -> assertThat(ok("/s5/app/X/hit")).isEqualTo("x 4"));
        assertThat(ok("/s5/own/-")).contains("supervisor-secret");
    }

    @Test
    void eachFacetHasItsOwnAlarm() throws Exception {
        upload("s6", "X", "x");
        upload("s6", "Y", "y");
        assertThat(ok("/s6/app/X/alarm")).isEqualTo("set");
        await().atMost(30, TimeUnit.SECONDS).untilAsserted(() -> assertThat(ok("/s6/app/X/alarmed")).isEqualTo("1"));
        assertThat(ok("/s6/app/Y/alarmed")).isEqualTo("0");
    }

    @Test
    void aFacetStartsChildrenOfItsOwnClassUpToFourLevelsCountingTheRoot() throws Exception {
        upload("s10", "X", "x");
        // Supervisor (1) → X (2) → c (3) → c (4): each with its own database.
        assertThat(ok("/s10/app/X/nest?n=2")).isEqualTo("level 1 > level 1 > leaf 1");
        assertThat(ok("/s10/app/X/nest?n=2")).isEqualTo("level 2 > level 2 > leaf 2");
        assertThat(ok("/s10/app/X/nest?n=1")).isEqualTo("level 3 > leaf 3");
        // A fifth level is refused where the fourth asks for it; the levels above keep working.
        assertThat(ok("/s10/app/X/nest?n=3")).isEqualTo("level 4 > level 4 > level 3 > "
                + "RangeError: facets.get(): facets can be nested at most 4 deep, counting the root object.");
        assertThat(ok("/s10/app/X/hit")).isEqualTo("x 5");
        String supervisor = ok("/s10/id/-");
        String x = dev.bulwark.sandbox.ipc.FacetIds.id(supervisor, "X");
        String c = dev.bulwark.sandbox.ipc.FacetIds.id(x, "c");
        String cc = dev.bulwark.sandbox.ipc.FacetIds.id(c, "c");
        assertThat(node.facets().recordOf(c).path()).isEqualTo("X/c");
        assertThat(node.facets().recordOf(cc).path()).isEqualTo("X/c/c");
        assertThat(node.facets().recordOf(cc).supervisor()).isEqualTo(supervisor);
    }

    @Test
    void theFacetCountQuotaRefusesOneMore() throws Exception {
        String supervisor = ok("/s7/id/-");
        node.facetQuotas().set(supervisor, new FacetQuotas.Limits(2, -1, -1, -1, 60_000, -1));
        for (String app : List.of("A", "B", "C")) upload("s7", app, app);
        assertThat(ok("/s7/app/A/hit")).isEqualTo("A 1");
        assertThat(ok("/s7/app/B/hit")).isEqualTo("B 1");
        HttpResponse<String> third = send("GET", "/s7/app/C/hit", null);
        assertThat(third.statusCode()).isEqualTo(502);
        JsonNode err = json.readTree(third.body());
        assertThat(err.get("code").asText()).isEqualTo("facet_quota");
        assertThat(err.get("message").asText()).isEqualTo("facet quota: this supervisor may have at most 2 facets");
        // The others and the supervisor keep working; raising the quota at run time lets C in.
        assertThat(ok("/s7/app/A/hit")).isEqualTo("A 2");
        node.facetQuotas().set(supervisor, new FacetQuotas.Limits(3, -1, -1, -1, 60_000, -1));
        assertThat(ok("/s7/app/C/hit")).isEqualTo("C 1");
    }

    @Test
    void namesThatLookLikePathsNameADatabaseByItsHash() throws Exception {
        for (String name : List.of("..", ".", "..%5C..", "x.sqlite", "%7E")) {
            HttpResponse<String> r = send("POST", "/s10/named/-?name=" + name, COUNTER.replace("VERSION", "n"));
            assertThat(r.statusCode()).as(name + ": " + r.body()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("n 1");
        }
        assertThat(send("POST", "/s10/named/-?name=..", COUNTER.replace("VERSION", "n")).body()).isEqualTo("n 2");
        // Every facet database is a 64-hex-digit file directly in facets/; nothing else was created.
        try (var files = Files.list(facetFiles())) {
            for (Path p : files.toList()) {
                // A WAL may vanish between the listing and the look: an idle connection's close removes it.
                if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) continue;
                assertThat(Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).isTrue();
                assertThat(p.getFileName().toString()).matches("[0-9a-f]{64}\\.sqlite(-wal|-shm)?");
            }
        }
    }

    static String token() throws Exception {
        return Files.readString(data.resolve("admin.token")).trim();
    }

    static HttpResponse<String> admin(String method, String path, String body, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/cdn-cgi/bulwark/" + path))
                .timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) b.header("Authorization", "Bearer " + token);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode refusal(String path) throws Exception {
        HttpResponse<String> r = send("GET", path, null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
        JsonNode err = json.readTree(r.body());
        assertThat(err.get("code").asText()).isEqualTo("facet_quota");
        return err;
    }

    @Test
    void theAdminApiShowsEachFacetsRecordsAndChangesQuotasAtRunTime() throws Exception {
        upload("s8", "X", "x");
        assertThat(ok("/s8/app/X/hit")).isEqualTo("x 1");
        assertThat(ok("/s8/app/X/hit")).isEqualTo("x 2");
        String supervisor = ok("/s8/id/-");
        assertThat(admin("GET", "facets", null, null).statusCode()).isEqualTo(401);
        assertThat(admin("GET", "facets/quotas/default", null, "wrong").statusCode()).isEqualTo(401);
        JsonNode list = json.readTree(admin("GET", "facets", null, token()).body()).get("facets");
        JsonNode x = null;
        for (JsonNode f : list) if (f.get("supervisor").asText().equals(supervisor) && f.get("path").asText().equals("X")) x = f;
        assertThat(x).as(list.toString()).isNotNull();
        assertThat(x.get("tenant").asText()).isEqualTo("facets");
        assertThat(x.get("requests").asLong()).isEqualTo(2);
        assertThat(x.get("errors").asLong()).isEqualTo(0);
        assertThat(x.get("storageBytes").asLong()).isGreaterThan(0);
        // The code hash is the SHA-256 of the code version (what the facet index keeps it by); the
        // running dynamic worker's id is a secret of this node run.
        assertThat(x.get("codeHash").asText()).matches("[0-9a-f]{64}");
        assertThat(x.get("running").asText()).startsWith("dyn-");
        // Each quota, set at run time over the admin API, refuses the facet with a structured error.
        String quotas = "facets/quotas/" + supervisor;
        assertThat(admin("PUT", quotas, "{\"requestsPerSecond\": 0}", token()).statusCode()).isEqualTo(200);
        assertThat(refusal("/s8/app/X/hit").get("message").asText())
                .isEqualTo("facet quota: the facet is over its limit of 0 requests per second");
        assertThat(admin("PUT", quotas, "{\"cpuMsPerPeriod\": 0, \"periodMs\": 1000}", token()).statusCode()).isEqualTo(200);
        assertThat(refusal("/s8/app/X/hit").get("message").asText()).startsWith("facet quota: the facet used ");
        assertThat(admin("PUT", quotas, "{\"maxBytesPerFacet\": 1}", token()).statusCode()).isEqualTo(200);
        assertThat(refusal("/s8/app/X/hit").get("message").asText()).endsWith("is over its limit of 1 bytes");
        assertThat(admin("PUT", quotas, "{\"maxBytesTotal\": 1}", token()).statusCode()).isEqualTo(200);
        assertThat(refusal("/s8/app/X/hit").get("message").asText()).endsWith("over the limit of 1 bytes");
        // The supervisor itself keeps working while its facet is refused.
        assertThat(ok("/s8/own/-")).contains("supervisor-secret");
        JsonNode read = json.readTree(admin("GET", quotas, null, token()).body());
        assertThat(read.get("maxBytesTotal").asLong()).isEqualTo(1);
        assertThat(admin("PUT", quotas, "{\"maxFacet\": 1}", token()).statusCode()).isEqualTo(400);
        assertThat(admin("PUT", quotas, "{}", token()).statusCode()).isEqualTo(200);
        assertThat(ok("/s8/app/X/hit")).isEqualTo("x 3");
        assertThat(admin("GET", "facets/quotas/NOT-AN-ID", null, token()).statusCode()).isEqualTo(404);
        assertThat(json.readTree(admin("GET", "facets/quotas/default", null, token()).body()).get("maxFacets").asLong()).isEqualTo(-1);
    }

    /**
     * {@code max_bytes_total} counts every facet under the root supervisor, nested ones too, as
     * their files are after the caller's previous call (what a call wrote counts for the next one).
     */
    @Test
    void theTotalStorageQuotaCountsNestedFacetsAndWhatTheLastCallWrote() throws Exception {
        upload("s11", "A", "a");
        assertThat(ok("/s11/app/A/nest?n=1")).isEqualTo("level 1 > leaf 1");
        String supervisor = ok("/s11/id/-");
        java.util.Map<String, String> idsByPath = new java.util.TreeMap<>();
        for (JsonNode f : json.readTree(admin("GET", "facets", null, token()).body()).get("facets")) {
            if (f.get("supervisor").asText().equals(supervisor)) idsByPath.put(f.get("path").asText(), f.get("id").asText());
        }
        assertThat(idsByPath).hasSize(2).containsKey("A");
        String a = idsByPath.get("A");
        long sizeA = storedBytes(a);
        long total = idsByPath.values().stream().mapToLong(FacetsTest::storedBytes).sum();
        assertThat(total).isGreaterThan(sizeA);
        String quotas = "facets/quotas/" + supervisor;

        assertThat(admin("PUT", quotas, "{\"maxBytesTotal\": " + sizeA + "}", token()).statusCode()).isEqualTo(200);
        assertThat(refusal("/s11/app/A/hit").get("message").asText())
                .isEqualTo("facet quota: this supervisor's facets store " + total + " bytes, over the limit of " + sizeA + " bytes");

        assertThat(admin("PUT", quotas, "{\"maxBytesTotal\": " + total + "}", token()).statusCode()).isEqualTo(200);
        assertThat(ok("/s11/app/A/hit")).isEqualTo("a 2");
        long after = idsByPath.values().stream().mapToLong(FacetsTest::storedBytes).sum();
        assertThat(after).isGreaterThan(total);
        assertThat(refusal("/s11/app/A/hit").get("message").asText())
                .isEqualTo("facet quota: this supervisor's facets store " + after + " bytes, over the limit of " + total + " bytes");
        assertThat(admin("PUT", quotas, "{}", token()).statusCode()).isEqualTo(200);
    }

    /** A facet's database bytes as the node counts them: its file and its WAL. */
    static long storedBytes(String facetId) {
        long n = 0;
        for (String suffix : new String[] {"", "-wal"}) {
            try {
                n += java.nio.file.Files.size(facetFiles().resolve(facetId + ".sqlite" + suffix));
            } catch (java.io.IOException e) {
                // not there
            }
        }
        return n;
    }

    static final InvocationListener NOOP = new InvocationListener() {
        public void head(dev.bulwark.sandbox.ipc.Message.ResponseHead head) {}
        public void chunk(byte[] data) {}
        public void end() {}
        public void failed(dev.bulwark.sandbox.ipc.Message.InvocationFailed failure) {}
        public void rpcReturn(dev.bulwark.sandbox.ipc.Message.RpcReturn result) {}
        public void socketOpen(dev.bulwark.sandbox.ipc.Message.SocketOpen open) {}
        public void done(long cpuMicros) {}
    };

    /** What a subverted sandbox could send: calls and facet operations with forged addresses. */
    @Test
    void theNodeRefusesForgedFacetCalls() throws Exception {
        upload("s9", "X", "x");
        assertThat(ok("/s9/app/X/hit")).isEqualTo("x 1");
        String s9 = ok("/s9/id/-");
        JsonNode records = json.readTree(admin("GET", "facets", null, token()).body()).get("facets");
        JsonNode x = null;
        for (JsonNode f : records) if (f.get("supervisor").asText().equals(s9)) x = f;
        assertThat(x).isNotNull();
        String worker = x.get("running").asText();
        var facets = node.facets();
        var replies = new java.util.concurrent.LinkedBlockingQueue<dev.bulwark.sandbox.ipc.Message>();
        // No event of any object: refused.
        var target = new dev.bulwark.sandbox.ipc.Address.DurableObject(worker, "App", x.get("id").asText(), "X");
        facets.call("facets", new dev.bulwark.sandbox.ipc.Message.CallStart(987_654L, 1L, target, "GET", "http://x/hit",
                List.of(), null), replies::add);
        assertThat(failure(replies)).isEqualTo("only a durable object can use facets");
        // An event of another supervisor (s9b) naming s9's facet X (its id, its path): refused.
        String other = "ab".repeat(32);
        facets.watch(987_655L, new dev.bulwark.sandbox.ipc.Address.DurableObject("facets", "Supervisor", other, "s9b"), NOOP);
        facets.call("facets", new dev.bulwark.sandbox.ipc.Message.CallStart(987_655L, 2L, target, "GET", "http://x/hit",
                List.of(), null), replies::add);
        assertThat(failure(replies)).isEqualTo("a durable object can reach only its own facets");
        facets.rpc("facets", new dev.bulwark.sandbox.ipc.Message.RpcCall(987_655L, 3L,
                new dev.bulwark.sandbox.ipc.Address.DurableObject(dev.bulwark.sandbox.ipc.FacetIds.CONTROL_WORKER, "Facets",
                        x.get("id").asText(), "X"), "delete", null), replies::add);
        assertThat(failure(replies)).isEqualTo("a durable object can reach only its own facets");
        // Its own facet X, but a class of a dynamic worker that does not exist (or is another tenant's): refused.
        var own = new dev.bulwark.sandbox.ipc.Address.DurableObject("dyn-" + "00".repeat(12), "App",
                dev.bulwark.sandbox.ipc.FacetIds.id(other, "X"), "X");
        facets.call("facets", new dev.bulwark.sandbox.ipc.Message.CallStart(987_655L, 4L, own, "GET", "http://x/hit",
                List.of(), null), replies::add);
        assertThat(failure(replies)).startsWith("no worker 'dyn-");
        // A path that skips a level (depth) or a name with '/' in it: refused.
        var deep = new dev.bulwark.sandbox.ipc.Address.DurableObject(worker, "App",
                dev.bulwark.sandbox.ipc.FacetIds.id(other, "a/b"), "a/b");
        facets.call("facets", new dev.bulwark.sandbox.ipc.Message.CallStart(987_655L, 5L, deep, "GET", "http://x/hit",
                List.of(), null), replies::add);
        assertThat(failure(replies)).isEqualTo("a durable object can reach only its own facets");
        // s9's X is untouched.
        assertThat(ok("/s9/app/X/hit")).isEqualTo("x 2");
    }

    static String failure(java.util.concurrent.BlockingQueue<dev.bulwark.sandbox.ipc.Message> replies) throws Exception {
        var m = replies.poll(30, TimeUnit.SECONDS);
        assertThat(m).isInstanceOf(dev.bulwark.sandbox.ipc.Message.CallFailed.class);
        return ((dev.bulwark.sandbox.ipc.Message.CallFailed) m).message();
    }
}
