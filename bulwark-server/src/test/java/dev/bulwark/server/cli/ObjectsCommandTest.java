package dev.bulwark.server.cli;

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
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.concurrent.TimeUnit;

import static dev.bulwark.server.cli.MainTest.assertOneLine;
import static dev.bulwark.server.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code bulwark objects ...} against a real node serving the admin test project (tenant alpha). */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ObjectsCommandTest {
    @TempDir
    static Path data;
    @TempDir
    static Path out;
    static Node node;
    static String id;

    @BeforeAll
    static void start() throws Exception {
        Path project = Path.of("src", "test", "resources", "admin-project", "a").toAbsolutePath();
        node = Node.serve(ProjectLoader.load(project, s -> s.withPort(0).withDataDir(data)));
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + node.port() + "/store/cli/put?k=greeting&v=hello")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        id = r.body().replaceAll(".*\"id\":\"([0-9a-f]{64})\".*", "$1");
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    String[] args(String... first) {
        String[] all = java.util.Arrays.copyOf(first, first.length + 4);
        all[first.length] = "--port";
        all[first.length + 1] = Integer.toString(node.port());
        all[first.length + 2] = "--data";
        all[first.length + 3] = data.toString();
        return all;
    }

    @Test
    void namespacesListAndShow() {
        MainTest.Run ns = run(args("objects", "namespaces"));
        assertThat(ns.status()).as(ns.err()).isZero();
        assertThat(ns.out()).isEqualTo("alpha/Store\ttenant=alpha\tbindings=alpha.STORE\n");

        MainTest.Run list = run(args("objects", "list", "alpha/Store"));
        assertThat(list.status()).as(list.err()).isZero();
        assertThat(list.out().lines().toList()).singleElement().satisfies(l -> assertThat(l).matches(id + "\t[1-9][0-9]*"));

        MainTest.Run show = run(args("objects", "show", "alpha/Store", id));
        assertThat(show.status()).as(show.err()).isZero();
        assertThat(show.out()).contains("\"id\" : \"" + id + "\"").contains("\"active\" : true");
    }

    @Test
    void aSnapshotIsWrittenToAFileThatOpensAsSqlite() throws Exception {
        Path file = out.resolve("copy.sqlite");
        MainTest.Run snap = run(args("objects", "snapshot", "alpha/Store", id, "-o", file.toString()));
        assertThat(snap.status()).as(snap.err()).isZero();
        assertThat(snap.out()).startsWith("bulwark: wrote ").endsWith(" bytes to " + file + "\n");
        try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + file);
             ResultSet rs = db.createStatement().executeQuery("SELECT v FROM entries WHERE k = 'greeting'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("hello");
        }
        try (var left = Files.list(out)) {
            assertThat(left.map(p -> p.getFileName().toString())).as("no partial file left beside it")
                    .noneMatch(n -> n.endsWith(".part"));
        }
    }

    @Test
    void failuresAreOneLine() throws Exception {
        assertOneLine(run(args("objects", "list", "alpha")), 2, "expected <worker>/<class>");
        assertOneLine(run(args("objects", "show", "alpha/Store", "../../x")), 2, "expected 64 hex digits");
        assertOneLine(run(args("objects", "list", "alpha/Nope")), 1, "no durable object namespace 'alpha/Nope'");
        assertOneLine(run(args("objects", "show", "alpha/Store", "0".repeat(64))), 1, "holds no object");
        assertOneLine(run(args("objects", "snapshot", "alpha/Store", id, "-o", out.resolve("no/such/dir.sqlite").toString())),
                2, "its directory does not exist");
        assertOneLine(run("objects", "namespaces", "--port", Integer.toString(node.port()), "--data",
                out.resolve("elsewhere").toString()), 2, "no admin token");
        Path wrong = Files.createDirectories(out.resolve("wrong"));
        Files.writeString(wrong.resolve("admin.token"), "not-the-token");
        assertOneLine(run("objects", "namespaces", "--port", Integer.toString(node.port()), "--data", wrong.toString()), 1,
                "admin token");
        int closed;
        try (var s = new java.net.ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        assertOneLine(run("objects", "namespaces", "--port", Integer.toString(closed), "--data", data.toString()), 1,
                "no node answers");
    }
}
