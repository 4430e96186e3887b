package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A live durable object whose storage sat unused past {@code sandboxes.object_storage_idle_ms}
 * (100 ms in {@code dormant-project}; objects stay in their isolate for a minute there) holds no
 * file open in its sandbox, and the same instance then reads what it wrote, writes, runs SQL,
 * sets an alarm that fires and writes from its handler; a database that cannot be opened again
 * fails the storage call with a message that says so.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class IdleStorageNodeTest {
    @TempDir
    static Path data;
    static Node node;
    static final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        node = TestProjects.serve(data, "dormant-project");
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static HttpResponse<String> get(String path) throws Exception {
        return TestProjects.HTTP.send(TestProjects.request(node, path).timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode ok(String path) throws Exception {
        HttpResponse<String> r = get(path);
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return json.readTree(r.body());
    }

    @Test
    void theSameInstanceUsesItsStorageAfterItsConnectionClosedAndHoldsNoFileMeanwhile() throws Exception {
        int instance = ok("/a/put?k=greeting&v=hello").get("instance").asInt();
        assertThat(ok("/a/note?text=first").get("instance").asInt()).isEqualTo(instance);
        awaitNoDatabaseFileOpen();

        JsonNode read = ok("/a/get?k=greeting");
        assertThat(read.get("value").asText()).isEqualTo("hello");
        assertThat(read.get("instance").asInt()).as("the object stayed in its isolate").isEqualTo(instance);
        awaitNoDatabaseFileOpen();

        ok("/a/note?text=second");
        awaitNoDatabaseFileOpen();
        assertThat(ok("/a/notes").get("notes").toString()).isEqualTo("[\"first\",\"second\"]");
        awaitNoDatabaseFileOpen();

        ok("/a/alarm?ms=400");
        await().atMost(60, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(100))
                .until(() -> !ok("/a/rang").get("rang").isNull());
        JsonNode rang = ok("/a/rang");
        assertThat(rang.at("/rang/instance").asInt()).as("the alarm ran on the same instance").isEqualTo(instance);
        assertThat(rang.get("alarm").isNull()).as("the alarm is spent").isTrue();
        awaitNoDatabaseFileOpen();
    }

    @Test
    void aDatabaseThatCannotBeOpenedAgainFailsTheStorageCallWithAClearMessage() throws Exception {
        String id = ok("/b/put?k=k&v=v").get("id").asText();
        awaitNoDatabaseFileOpen();
        Path file = databaseOf(id);
        Files.delete(file);

        HttpResponse<String> r = get("/b/get?k=k");
        assertThat(r.statusCode()).isEqualTo(500);
        assertThat(json.readTree(r.body()).get("error").asText())
                .isEqualTo("Error: could not open the object's storage again: the object's database file is gone");
        assertThat(file).as("not recreated empty").doesNotExist();
    }

    /** Waits until the sandbox holds no object's database or WAL open (the idle sweep ran). */
    static void awaitNoDatabaseFileOpen() {
        await().atMost(60, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(50))
                .until(() -> openDatabaseFiles().isEmpty());
    }

    /** The object database files (".sqlite", "-wal", "-shm") the tenant's sandbox JVM has open. */
    static List<String> openDatabaseFiles() throws IOException {
        String dataDir = data.toAbsolutePath().toString();
        List<ProcessHandle> sandboxes = ProcessHandle.current().descendants().filter(p -> {
            String cmd = cmdline(p.pid());
            return cmd.contains("SandboxMain") && cmd.contains(dataDir) && cmd.split(" ")[0].endsWith("/java");
        }).toList();
        assertThat(sandboxes).hasSize(1);
        List<String> open = new java.util.ArrayList<>();
        try (var fds = Files.list(Path.of("/proc/" + sandboxes.getFirst().pid() + "/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.matches(".*/objects/.*\\.sqlite(-wal|-shm)?")) open.add(target);
                } catch (IOException gone) {
                    // closed meanwhile
                }
            }
        }
        return open;
    }

    private static String cmdline(long pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
        } catch (IOException gone) {
            return "";
        }
    }

    /** The database file of the object with this id. */
    private static Path databaseOf(String id) throws IOException {
        try (var files = Files.walk(data)) {
            List<Path> found = files.filter(p -> p.getFileName().toString().equals(id + ".sqlite")).toList();
            assertThat(found).hasSize(1);
            return found.getFirst();
        }
    }
}
