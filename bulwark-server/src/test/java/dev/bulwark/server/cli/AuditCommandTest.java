package dev.bulwark.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.server.config.ApiSettings;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import dev.bulwark.server.governance.Contract;
import dev.bulwark.server.governance.Tool;
import dev.bulwark.server.node.Node;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.bulwark.server.cli.MainTest.assertOneLine;
import static dev.bulwark.server.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The audit evidence end to end: sessions of a real node, the tenant's export and proofs over the
 * tenant API, {@code bulwark audit prove} and {@code bulwark audit verify}, and tampering: a row
 * edited in a session's SQLite file with the node stopped, a checkpoint signature changed, a row
 * edited and re-chained by someone who knows the hash formula but not the checkpoint key.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class AuditCommandTest {
    static final String ACME_KEY = "tk_acme_5d2f9a7c1b3e4d6f8a0b2c4d6e8f0a1b";
    static final String EVIL_KEY = "tk_evil_9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b";
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path data;
    @TempDir
    Path tmp;
    Node node;

    void start() throws Exception {
        ApiSettings keys = new ApiSettings(List.of(ApiSettings.Key.of("acme", ACME_KEY), ApiSettings.Key.of("evil", EVIL_KEY)));
        node = Node.start(Settings.of(data, "acme").withPort(0).withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(0))
                .withApi(keys));
        node.governance().registerTool(new Tool("tickets.read", JSON.readTree("{\"type\": \"object\"}"), Contract.READ_ONLY, 0,
                call -> List.of("T-1")));
    }

    @AfterEach
    void stop() {
        if (node != null) node.close();
    }

    HttpResponse<String> send(String key, String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/cdn-cgi/bulwark/api/" + path))
                .timeout(Duration.ofSeconds(120))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (key != null) b.header("Authorization", "Bearer " + key);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A session admitted and ended: two records, admitted (1) and terminated (2). */
    String session(String key) throws Exception {
        HttpResponse<String> r = send(key, "POST", "v1/sessions", "{\"actor\": \"alice\", \"tools\": [\"tickets.read\"]}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        String id = JSON.readTree(r.body()).get("id").asText();
        assertThat(send(key, "POST", "v1/sessions/" + id + "/end", "{\"reason\": \"completed\"}").statusCode()).isEqualTo(200);
        return id;
    }

    Path export(String name) throws Exception {
        HttpResponse<String> r = send(ACME_KEY, "GET", "v1/audit/export", null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("application/x-ndjson");
        Path f = tmp.resolve(name);
        Files.writeString(f, r.body());
        return f;
    }

    static List<JsonNode> lines(Path f, String type) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(f)) {
            JsonNode n = JSON.readTree(l);
            if (n.get("type").asText().equals(type)) out.add(n);
        }
        return out;
    }

    @Test
    void anExportVerifiesAndEarlierCheckpointsStayPrefixesOfTheTree() throws Exception {
        start();
        String a = session(ACME_KEY), b = session(ACME_KEY);
        session(EVIL_KEY);
        Path first = export("first.jsonl");
        assertThat(lines(first, "record")).hasSize(4).allSatisfy(r -> assertThat(r.get("session").asText()).isIn(a, b));
        assertThat(lines(first, "checkpoint")).singleElement().satisfies(cp -> {
            assertThat(cp.get("tenant").asText()).isEqualTo("acme");
            assertThat(cp.get("size").asInt()).isEqualTo(4);
        });
        assertThat(lines(first, "proof")).hasSize(4);
        MainTest.Run ok = run("audit", "verify", first.toString());
        assertThat(ok.status()).as(ok.err()).isZero();
        assertThat(ok.out()).contains("ok: 4 records, 1 checkpoints, 4 proofs verified");
        // Pinned to the node's key file, and refused when pinned to another key.
        assertThat(run("audit", "verify", "--public-key", data.resolve("governance/audit.pub").toString(), first.toString()).status()).isZero();
        assertOneLine(run("audit", "verify", "--public-key", data.resolve("governance/envelope.pub").toString(), first.toString()), 1,
                "audit broken: header: the export's public key is not the pinned key");

        // The checkpoints are kept on disk; a session that sorts before the others adds leaves at the end.
        assertThat(data.resolve("governance/audit/acme.checkpoints.jsonl")).exists();
        session(ACME_KEY);
        Path second = export("second.jsonl");
        assertThat(lines(second, "checkpoint")).hasSize(2);
        assertThat(lines(second, "record").subList(0, 4).toString()).isEqualTo(lines(first, "record").toString());
        // The CLI's export (streamed into a file) is the same export, and verifies.
        Path third = tmp.resolve("third.jsonl");
        MainTest.Run exported = run("audit", "export", "--port", Integer.toString(node.port()), "--api-key", ACME_KEY, "-o", third.toString());
        assertThat(exported.status()).as(exported.err()).isZero();
        assertThat(lines(third, "record").toString()).isEqualTo(lines(second, "record").toString());
        assertThat(lines(third, "proof").toString()).isEqualTo(lines(second, "proof").toString());
        assertThat(run("audit", "verify", third.toString()).out()).contains("ok: 6 records, 2 checkpoints, 6 proofs verified");
        MainTest.Run ocsf = run("audit", "export", "--port", Integer.toString(node.port()), "--api-key", ACME_KEY, "--format", "ocsf");
        assertThat(ocsf.status()).as(ocsf.err()).isZero();
        assertThat(ocsf.out().lines().toList()).hasSize(6).allSatisfy(l -> assertThat(l).contains("\"class_uid\":6003"));
        assertOneLine(run("audit", "export", "--port", Integer.toString(node.port()), "--api-key", "tk_wrong_key_0000000000000000000000",
                "-o", tmp.resolve("x.jsonl").toString()), 1, "the node answered 401");
        assertThat(tmp.resolve("x.jsonl")).doesNotExist();
        MainTest.Run ok2 = run("audit", "verify", second.toString());
        assertThat(ok2.status()).as(ok2.err()).isZero();
        assertThat(ok2.out()).contains("ok: 6 records, 2 checkpoints, 6 proofs verified");
        // Exporting again without new records makes no new checkpoint.
        assertThat(lines(export("third.jsonl"), "checkpoint")).hasSize(2);
    }

    @Test
    void proveGivesTheRecordsInclusionProofAndOtherTenantsGetNothing() throws Exception {
        start();
        String a = session(ACME_KEY);
        MainTest.Run r = run("audit", "prove", a + ":2", "--port", String.valueOf(node.port()), "--api-key", ACME_KEY);
        assertThat(r.status()).as(r.err()).isZero();
        JsonNode doc = JSON.readTree(r.out());
        assertThat(doc.get("record").get("id").asText()).isEqualTo(a + ":2");
        assertThat(doc.get("record").get("kind").asText()).isEqualTo("terminated");
        assertThat(doc.get("proof").get("leaf").asInt()).isEqualTo(1);
        assertThat(doc.get("proof").get("size").asInt()).isEqualTo(2);
        assertThat(doc.get("proof").get("path")).hasSize(1);
        assertThat(doc.get("checkpoint").get("root").asText()).hasSize(64);

        // The document is itself checkable: header + record 1 + record 2 + checkpoint + the proof.
        HttpResponse<String> first = send(ACME_KEY, "GET", "v1/audit/proof/" + a + ":1", null);
        assertThat(first.statusCode()).isEqualTo(200);
        ObjectNode header = JSON.createObjectNode().put("type", "header").put("format", "bulwark-audit-export/1").put("tenant", "acme")
                .put("publicKey", doc.get("publicKey").asText());
        JsonNode one = JSON.readTree(first.body());
        Path f = tmp.resolve("proofs.jsonl");
        Files.writeString(f, String.join("\n", header.toString(), one.get("record").toString(), doc.get("record").toString(),
                doc.get("checkpoint").toString(), one.get("proof").toString(), doc.get("proof").toString()) + "\n");
        MainTest.Run v = run("audit", "verify", f.toString());
        assertThat(v.status()).as(v.err()).isZero();

        // Another tenant's key, an unknown record, no key: refused, one line each.
        HttpResponse<String> foreign = send(EVIL_KEY, "GET", "v1/audit/proof/" + a + ":1", null);
        assertThat(foreign.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(foreign.body()).get("error").get("code").asText()).isEqualTo("not_found");
        assertOneLine(run("audit", "prove", a + ":9", "--port", String.valueOf(node.port()), "--api-key", ACME_KEY), 1,
                "the node answered 404");
        assertOneLine(run("audit", "prove", a + ":1", "--port", String.valueOf(node.port()), "--api-key", EVIL_KEY), 1,
                "the node answered 404");
        assertThat(send(EVIL_KEY, "GET", "v1/audit/export", null).body()).doesNotContain(a);
        assertThat(send(ACME_KEY, "POST", "v1/audit/export", null).statusCode()).isEqualTo(405);
        HttpResponse<String> badFormat = send(ACME_KEY, "GET", "v1/audit/export?format=xml", null);
        assertThat(badFormat.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(badFormat.body()).get("error").get("code").asText()).isEqualTo("bad_request");
    }

    @Test
    void theOcsfExportHasOneApiActivityEventPerRecord() throws Exception {
        start();
        String a = session(ACME_KEY);
        HttpResponse<String> r = send(ACME_KEY, "GET", "v1/audit/export?format=ocsf", null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        List<JsonNode> events = new ArrayList<>();
        for (String l : r.body().split("\n")) events.add(JSON.readTree(l));
        assertThat(events).hasSize(2).allSatisfy(e -> {
            assertThat(e.get("class_uid").asInt()).isEqualTo(6003);
            assertThat(e.get("category_uid").asInt()).isEqualTo(6);
            assertThat(e.get("type_uid").asLong()).isEqualTo(600300 + e.get("activity_id").asInt());
            assertThat(e.get("metadata").get("version").asText()).startsWith("1.");
            assertThat(e.get("actor").get("user").get("name").asText()).isEqualTo("alice");
            assertThat(e.get("time").asLong()).isPositive();
            assertThat(e.get("status_id").asInt()).isEqualTo(1);
        });
        assertThat(events.get(0).get("activity_id").asInt()).isEqualTo(1);
        assertThat(events.get(0).get("metadata").get("uid").asText()).isEqualTo(a + ":1");
        assertThat(events.get(1).get("activity_id").asInt()).isEqualTo(4);
        assertThat(events.get(1).get("api").get("operation").asText()).isEqualTo("terminated");
    }

    @Test
    void aRowEditedInTheSessionsSqliteFileIsNamedByVerify() throws Exception {
        start();
        String a = session(ACME_KEY);
        assertThat(run("audit", "verify", export("before.jsonl").toString()).status()).isZero();
        node.close();
        node = null;

        Path db;
        try (var files = Files.walk(data.resolve("node-objects"))) {
            db = files.filter(p -> p.toString().contains("BulwarkSession") && p.toString().endsWith(".sqlite")).findFirst().orElseThrow();
        }
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + db); var s = c.createStatement()) {
            assertThat(s.executeUpdate("UPDATE audit SET body = '{\"reason\":\"denied\"}' WHERE seq = 2")).isEqualTo(1);
        }

        start();
        Path after = export("after.jsonl");
        assertOneLine(run("audit", "verify", after.toString()), 1,
                "audit broken: record " + a + ":2: its hash does not match its content");
    }

    @Test
    void aTamperedCheckpointSignatureAndARechainedRowAreNamed() throws Exception {
        start();
        String a = session(ACME_KEY);
        Path f = export("x.jsonl");
        List<String> lines = Files.readAllLines(f);

        // One character of the checkpoint's signature changed.
        List<String> badSig = new ArrayList<>();
        for (String l : lines) {
            JsonNode n = JSON.readTree(l);
            if (n.get("type").asText().equals("checkpoint")) {
                String sig = n.get("signature").asText();
                ((ObjectNode) n).put("signature", (sig.charAt(0) == 'A' ? "B" : "A") + sig.substring(1));
                l = n.toString();
            }
            badSig.add(l);
        }
        Path sigFile = tmp.resolve("sig.jsonl");
        Files.write(sigFile, badSig, StandardCharsets.UTF_8);
        assertOneLine(run("audit", "verify", sigFile.toString()), 1, "audit broken: checkpoint 1 (size 2): its signature does not verify");

        // Record 1 edited and its chain recomputed (the formula is public), the checkpoint left alone.
        List<String> rechained = new ArrayList<>();
        String prevHash = null;
        for (String l : lines) {
            JsonNode n = JSON.readTree(l);
            if (n.get("type").asText().equals("record")) {
                ObjectNode r = (ObjectNode) n;
                if (r.get("seq").asLong() == 1) r.put("body", r.get("body").asText().replace("alice", "mallory"));
                if (prevHash != null) r.put("prev", prevHash);
                String hash = sha256(r.get("prev").asText() + "\n" + r.get("seq").asLong() + "\n" + r.get("at").asLong() + "\n"
                                + r.get("kind").asText() + "\n" + r.get("body").asText());
                r.put("hash", hash);
                prevHash = hash;
                l = r.toString();
            }
            rechained.add(l);
        }
        assertThat(String.join("\n", rechained)).contains("mallory");
        Path chainFile = tmp.resolve("rechained.jsonl");
        Files.write(chainFile, rechained, StandardCharsets.UTF_8);
        assertOneLine(run("audit", "verify", chainFile.toString()), 1,
                "audit broken: record " + a + ":1: not included in checkpoint of size 2 (its proof fails)");

        // A file that is not an export, and no file: one line each.
        Path junk = Files.writeString(tmp.resolve("junk.jsonl"), "hello\n");
        assertOneLine(run("audit", "verify", junk.toString()), 1, "audit broken: line 1: not JSON");
        assertOneLine(run("audit", "verify", tmp.resolve("missing.jsonl").toString()), 2, "no such readable file");
    }

    static String sha256(String s) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }
}
