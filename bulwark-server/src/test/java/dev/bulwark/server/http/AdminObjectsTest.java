package dev.bulwark.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.server.config.ProjectConfig;
import dev.bulwark.server.config.ProjectLoader;
import dev.bulwark.server.node.Node;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The admin endpoints for durable objects against a real node with two tenants ({@code alpha},
 * the default worker, and {@code beta}, reached as {@code beta.localhost}), real sandboxes and
 * real SQLite files, from the operator's side and from an attacker's.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class AdminObjectsTest {
    @TempDir
    static Path data;
    static Node node;
    static String token;
    static final ObjectMapper json = new ObjectMapper();
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    static final String PREFIX = "/cdn-cgi/bulwark/";

    @BeforeAll
    static void start() throws Exception {
        Path root = Path.of("src", "test", "resources", "admin-project").toAbsolutePath();
        // A copy a previous node left behind (it stopped while sending it): swept at start.
        Files.createDirectories(data.resolve("tenants/alpha/snapshots"));
        Files.writeString(data.resolve("tenants/alpha/snapshots/" + "ab".repeat(16) + ".sqlite"), "left over");
        node = Node.serve(ProjectLoader.load(root.resolve("a"), s -> s.withPort(0).withDataDir(data)));
        ProjectConfig beta = ProjectLoader.load(root.resolve("b"), s -> s.withPort(0).withDataDir(data));
        assertThat(node.deploy(node.worker(beta), beta.routes(), beta.sourceRoot(), true)).isNull();
        token = Files.readString(data.resolve("admin.token")).trim();
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static HttpResponse<String> request(String host, String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + path))
                .timeout(Duration.ofSeconds(90));
        if (host != null) b.header("Host", host);
        if (authorization != null) b.header("Authorization", authorization);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> admin(String path) throws Exception {
        return request(null, PREFIX + path, "Bearer " + token);
    }

    static JsonNode adminJson(String path) throws Exception {
        HttpResponse<String> r = admin(path);
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json; charset=utf-8");
        return json.readTree(r.body());
    }

    /** Writes k=v into the object {@code name} of a tenant's Store; returns the object's id once acknowledged. */
    static String put(String host, String name, String k, String v) throws Exception {
        HttpResponse<String> r = request(host, "/store/" + name + "/put?k=" + k + "&v=" + v, null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return json.readTree(r.body()).get("id").asText();
    }

    static void assertError(HttpResponse<String> r, int status, String code) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(json.readTree(r.body()).get("error").get("code").asText()).isEqualTo(code);
    }

    /** Downloads a snapshot into a file and opens it. */
    static Connection snapshot(String namespace, String id, Path into) throws Exception {
        HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + PREFIX
                        + "namespaces/" + namespace + "/objects/" + id + "/snapshot"))
                .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(90)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).as(new String(r.body())).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/vnd.sqlite3");
        assertThat(r.headers().firstValue("content-disposition")).hasValue("attachment; filename=\"" + id + ".sqlite\"");
        Files.write(into, r.body());
        return DriverManager.getConnection("jdbc:sqlite:" + into.toAbsolutePath());
    }

    static String value(Connection db, String k) throws Exception {
        try (var p = db.prepareStatement("SELECT v FROM entries WHERE k = ?")) {
            p.setString(1, k);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    static String integrity(Connection db) throws Exception {
        try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery("PRAGMA integrity_check")) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void everyObjectEndpointRefusesAMissingOrWrongToken() throws Exception {
        String id = put(null, "token-check", "a", "1");
        for (String path : List.of("namespaces", "namespaces/alpha/Store/objects", "namespaces/alpha/Store/objects/" + id,
                "namespaces/alpha/Store/objects/" + id + "/snapshot")) {
            for (String auth : new String[] {null, "Bearer", "Bearer ", "Bearer " + token + "0", "Bearer " + token.substring(1),
                    "Basic " + token, "Bearer " + token.toUpperCase(java.util.Locale.ROOT), token, "Bearer  x" + token}) {
                HttpResponse<String> r = request(null, PREFIX + path, auth);
                assertThat(r.statusCode()).as(path + " with " + auth).isEqualTo(401);
                assertError(r, 401, "unauthorized");
                assertThat(r.body()).doesNotContain(token);
            }
        }
        assertThat(snapshotFiles("alpha")).isEmpty();
        // The scheme's case does not matter (RFC 9110 11.1); the token's does.
        assertThat(request(null, PREFIX + "namespaces", "bearer " + token).statusCode()).isEqualTo(200);
    }

    @Test
    void aCopyLeftByAnEarlierNodeIsRemovedAtStart() throws Exception {
        assertThat(data.resolve("tenants/alpha/snapshots/" + "ab".repeat(16) + ".sqlite")).doesNotExist();
    }

    @Test
    void namespacesAreTheBoundClassesWithTenantAndBindings() throws Exception {
        JsonNode list = adminJson("namespaces").get("namespaces");
        assertThat(list).hasSize(2);
        assertThat(list.get(0).toString()).isEqualTo(
                "{\"id\":\"alpha/Store\",\"tenant\":\"alpha\",\"worker\":\"alpha\",\"class\":\"Store\",\"bindings\":[\"alpha.STORE\"]}");
        assertThat(list.get(1).toString()).isEqualTo(
                "{\"id\":\"beta/Store\",\"tenant\":\"beta\",\"worker\":\"beta\",\"class\":\"Store\",\"bindings\":[\"beta.STORE\"]}");
    }

    @Test
    void objectsArePagedInIdOrderWithACursor() throws Exception {
        TreeSet<String> mine = new TreeSet<>();
        for (int i = 0; i < 5; i++) mine.add(put("beta.localhost", "paged-" + i, "k", "v" + i));
        List<String> seen = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            JsonNode page = adminJson("namespaces/beta/Store/objects?limit=2" + (cursor == null ? "" : "&cursor=" + cursor));
            assertThat(page.get("namespace").asText()).isEqualTo("beta/Store");
            for (JsonNode o : page.get("objects")) {
                seen.add(o.get("id").asText());
                assertThat(o.get("sizeBytes").asLong()).isPositive();
            }
            assertThat(page.get("objects").size()).isLessThanOrEqualTo(2);
            cursor = page.get("cursor").isNull() ? null : page.get("cursor").asText();
            pages++;
        } while (cursor != null);
        // Other tests may add beta objects too, but never in this order-breaking way: ids come sorted, each once.
        assertThat(seen).isSorted().doesNotHaveDuplicates().containsAll(mine);
        assertThat(pages).isEqualTo((seen.size() + 1) / 2);
        assertError(admin("namespaces/beta/Store/objects?limit=0"), 400, "bad_request");
        assertError(admin("namespaces/beta/Store/objects?limit=1001"), 400, "bad_request");
        assertError(admin("namespaces/beta/Store/objects?limit=x"), 400, "bad_request");
        assertError(admin("namespaces/beta/Store/objects?cursor=..%2F..%2Fadmin.token"), 400, "bad_request");
    }

    /** A client socket that answers nothing. */
    static final class Quiet implements WebSocket.Listener {
        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence d, boolean last) {
            webSocket.request(1);
            return null;
        }
    }

    @Test
    void anObjectShowsItsSizeAlarmSocketsAndWhereItRuns() throws Exception {
        String id = put(null, "shown", "k", "v");
        long at = System.currentTimeMillis() + 3_600_000;
        HttpResponse<String> alarm = request(null, "/store/shown/alarm?at=" + at, null);
        assertThat(alarm.statusCode()).as(alarm.body()).isEqualTo(200);
        List<WebSocket> sockets = new ArrayList<>();
        for (String tags : List.of("red,blue", "green")) {
            sockets.add(http.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + node.port()
                    + "/store/shown/ws?tags=" + tags), new Quiet()).get(60, TimeUnit.SECONDS));
        }
        JsonNode info = adminJson("namespaces/alpha/Store/objects/" + id);
        assertThat(info.get("namespace").asText()).isEqualTo("alpha/Store");
        assertThat(info.get("id").asText()).isEqualTo(id);
        assertThat(info.get("sizeBytes").asLong()).isPositive();
        assertThat(info.get("alarm").asLong()).isEqualTo(at);
        assertThat(info.get("websockets").get("count").asInt()).isEqualTo(2);
        List<String> tags = new ArrayList<>();
        info.get("websockets").get("tags").forEach(t -> tags.add(t.toString()));
        assertThat(tags).containsExactlyInAnyOrder("[\"red\",\"blue\"]", "[\"green\"]");
        assertThat(info.get("active").asBoolean()).isTrue();
        assertThat(node.supervisor().pids("alpha")).contains(info.get("sandbox").get("pid").asLong());

        for (WebSocket s : sockets) s.sendClose(1000, "bye").get(30, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(30)).until(() ->
                adminJson("namespaces/alpha/Store/objects/" + id).get("websockets").get("count").asInt() == 0);
    }

    @Test
    void aSnapshotHoldsEveryAcknowledgedWriteAndOpensAsSqlite(@TempDir Path dir) throws Exception {
        for (int i = 0; i < 5; i++) {
            String id = put(null, "snap", "k" + i, "value-" + i);
            // Asked right after the acknowledgement, while the object is active in its sandbox.
            try (Connection db = snapshot("alpha/Store", id, dir.resolve("s" + i + ".sqlite"))) {
                assertThat(integrity(db)).isEqualTo("ok");
                for (int j = 0; j <= i; j++) assertThat(value(db, "k" + j)).isEqualTo("value-" + j);
            }
        }
        assertThat(snapshotFiles("alpha")).as("the node deletes each copy once sent").isEmpty();
    }

    @Test
    void aSnapshotOfAnObjectThatRunsNowhereIsTakenWhereTheDirectoryPlacesIt(@TempDir Path dir) throws Exception {
        String id = put("beta.localhost", "restarted", "k", "before-the-kill");
        long pid = node.supervisor().pids("beta").getFirst();
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        await().atMost(Duration.ofSeconds(120)).until(() ->
                !node.supervisor().pids("beta").isEmpty() && !node.supervisor().pids("beta").contains(pid));
        assertThat(adminJson("namespaces/beta/Store/objects/" + id).get("active").asBoolean()).isFalse();
        try (Connection db = snapshot("beta/Store", id, dir.resolve("r.sqlite"))) {
            assertThat(integrity(db)).isEqualTo("ok");
            assertThat(value(db, "k")).isEqualTo("before-the-kill");
        }
        // The copy did not construct the object, and its next event still runs (nothing holds its file).
        assertThat(put("beta.localhost", "restarted", "k2", "after")).isEqualTo(id);
        try (Connection db = snapshot("beta/Store", id, dir.resolve("r2.sqlite"))) {
            assertThat(value(db, "k2")).isEqualTo("after");
        }
    }

    @Test
    void unknownNamespacesAndObjectsAreStructured404s() throws Exception {
        String alphaId = put(null, "mine", "k", "v");
        String betaId = put("beta.localhost", "theirs", "k", "secret");
        assertError(admin("namespaces/alpha/Nope/objects"), 404, "not_found");
        assertError(admin("namespaces/nope/Store/objects"), 404, "not_found");
        // Another tenant's object id under this namespace is not found, for its details and its data.
        assertError(admin("namespaces/alpha/Store/objects/" + betaId), 404, "not_found");
        assertError(admin("namespaces/alpha/Store/objects/" + betaId + "/snapshot"), 404, "not_found");
        assertError(admin("namespaces/beta/Store/objects/" + alphaId + "/snapshot"), 404, "not_found");
        assertError(admin("namespaces/alpha/Store/objects/" + "0".repeat(64)), 404, "not_found");
        assertError(admin("namespaces/alpha/Store/objects/" + "0".repeat(64) + "/snapshot"), 404, "not_found");
        assertError(admin("namespaces/alpha/Store/objects/" + alphaId + "/other"), 404, "not_found");
        assertError(admin("namespaces/alpha/Store"), 404, "not_found");
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + PREFIX
                + "namespaces")).header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.noBody())
                .build(), HttpResponse.BodyHandlers.ofString());
        assertError(post, 405, "method_not_allowed");
    }

    @Test
    void pathTricksInIdsFindNothing() throws Exception {
        String betaId = put("beta.localhost", "tricked", "k", "secret");
        String upper = betaId.toUpperCase(java.util.Locale.ROOT);
        // Not an id of this namespace: 404 from the admin endpoints.
        for (String id : List.of(upper, betaId + ".sqlite", betaId.substring(1), betaId + "0", "*", "%20",
                "..")) { // '..' is resolved by Jetty: .../Store/snapshot, no such endpoint
            HttpResponse<String> r = admin("namespaces/alpha/Store/objects/" + id + "/snapshot");
            assertThat(r.statusCode()).as(id).isEqualTo(404);
            assertError(r, 404, "not_found");
        }
        // A NUL, an encoded dot segment or an empty segment never reaches them: 400 (Jetty for the first
        // two; the front door for an empty segment under /cdn-cgi/bulwark/, which workers may get).
        for (String id : List.of(betaId + "%00", "%2E", "%2E%2E", "")) {
            HttpResponse<String> r = admin("namespaces/alpha/Store/objects/" + id + "/snapshot");
            assertThat(r.statusCode()).as(id).isEqualTo(400);
            assertError(r, 400, "bad_request");
        }
        // An encoded '/' never reaches them: the front door refuses an ambiguous path under
        // /cdn-cgi/bulwark/ (400, the node's JSON shape), though a worker's path may hold one.
        assertError(admin("namespaces/alpha/Store/objects/..%2F..%2F..%2Fbeta%2FStore%2F" + betaId + "/snapshot"), 400,
                "bad_request");
        assertError(admin("namespaces/..%2Fbeta/Store/objects/" + betaId), 400, "bad_request");
        assertThat(snapshotFiles("beta")).isEmpty();
    }

    static List<Path> snapshotFiles(String tenant) throws Exception {
        Path dir = data.resolve("tenants").resolve(tenant).resolve("snapshots");
        if (!Files.isDirectory(dir)) return List.of();
        try (var files = Files.list(dir)) {
            return files.toList();
        }
    }
}
