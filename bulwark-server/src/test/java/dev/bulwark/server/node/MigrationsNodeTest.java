package dev.bulwark.server.node;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Migrations across node restarts on one data directory, as an operator deploys them: a renamed
 * class keeps its objects (idFromName reaches the same object and its data), a deleted class's
 * objects are gone, and a migration that contradicts a binding stops the deploy.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class MigrationsNodeTest {
    @TempDir
    Path project;
    @TempDir
    Path data;
    static final HttpClient http = HttpClient.newHttpClient();

    static final String CODE = """
            import { DurableObject } from 'cloudflare:workers';
            class Base extends DurableObject {
              async fetch() {
                const n = ((await this.ctx.storage.get('n')) ?? 0) + 1;
                await this.ctx.storage.put('n', n);
                return new Response(n + ' ' + this.ctx.id.toString());
              }
            }
            export class Counter extends Base {}
            export class Tally extends Base {}
            export class Fresh extends Base {}
            export class Loot extends Base {}
            export default { fetch(request, env) { return env.NS.getByName('x').fetch(request); } };
            """;

    void configure(String className, String migrations) throws Exception {
        Files.createDirectories(project.resolve("src"));
        Files.writeString(project.resolve("src/index.js"), CODE);
        Files.writeString(project.resolve("wrangler.jsonc"), """
                { "name": "mig", "main": "src/index.js", "compatibility_date": "2025-09-01",
                  "durable_objects": { "bindings": [{ "name": "NS", "class_name": "%s" }] },
                  "migrations": [%s] }""".formatted(className, migrations));
    }

    /** Starts a node on the project, makes {@code calls} requests, stops it; returns the last answer. */
    String serve(int calls) throws Exception {
        try (Node node = Node.serve(TestProjects.load(project, data))) {
            String last = null;
            for (int i = 0; i < calls; i++) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                last = r.body();
            }
            return last;
        }
    }

    Path classDir(String className) {
        return data.resolve("tenants/mig/objects/mig/" + className);
    }

    @Test
    void aRenamedClassKeepsItsObjectsAndADeletedOneLosesThem() throws Exception {
        String v1 = """
                { "tag": "v1", "new_sqlite_classes": ["Counter"] }""";
        configure("Counter", v1);
        String first = serve(3);
        assertThat(first).startsWith("3 ");
        String id = first.substring(2);

        String v2 = v1 + """
                , { "tag": "v2", "renamed_classes": [{ "from": "Counter", "to": "Tally" }] }""";
        configure("Tally", v2);
        assertThat(serve(1)).as("same object, same data, under the new name").isEqualTo("4 " + id);
        assertThat(classDir("Counter")).doesNotExist();
        assertThat(classDir("Tally").resolve(id + ".sqlite")).exists();

        // The same configuration again: v2 is not applied twice (the data stays and goes on counting).
        assertThat(serve(1)).isEqualTo("5 " + id);

        // A delete while the binding still names the class is refused, and changes nothing.
        String v3 = v2 + """
                , { "tag": "v3", "deleted_classes": ["Tally"], "new_sqlite_classes": ["Fresh"] }""";
        configure("Tally", v3);
        assertThatThrownBy(() -> serve(0)).isInstanceOf(MigrationException.class)
                .hasMessage("worker mig: binding NS names class 'Tally', but migration 'v3' deletes it; change or remove "
                        + "the binding");
        assertThat(classDir("Tally").resolve(id + ".sqlite")).exists();

        configure("Fresh", v3);
        String fresh = serve(1);
        assertThat(fresh).startsWith("1 ");
        assertThat(classDir("Tally")).doesNotExist();
    }

    /** Writes worker {@code name}'s project under {@link #project} with {@link #CODE}. */
    Path worker(String name, String binding, String migrations) throws Exception {
        Path dir = project.resolve(name);
        Files.createDirectories(dir.resolve("src"));
        Files.writeString(dir.resolve("src/index.js"), CODE);
        Files.writeString(dir.resolve("wrangler.jsonc"), """
                { "name": "%s", "main": "src/index.js", "compatibility_date": "2025-09-01",
                  "bulwark": { "tenant": "shop" },
                  "durable_objects": { "bindings": [%s] },
                  "migrations": [%s] }""".formatted(name, binding, migrations));
        return dir;
    }

    /** Starts a node on the given workers, sends one request to each named host in turn, returns the answers. */
    java.util.List<String> serveWorkers(java.util.List<Path> workers, String... hosts) throws Exception {
        java.util.List<dev.bulwark.server.config.ProjectConfig> projects = new java.util.ArrayList<>();
        for (Path w : workers) projects.add(TestProjects.load(w, data));
        try (Node node = Node.serve(projects)) {
            java.util.List<String> answers = new java.util.ArrayList<>();
            for (String host : hosts) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/"))
                        .version(HttpClient.Version.HTTP_1_1).header("Host", host + ".localhost").build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                answers.add(r.body());
            }
            return answers;
        }
    }

    @Test
    void aTransferredClassKeepsItsObjectsAndTheOldWorkersBindingFollowsIt() throws Exception {
        String oldBinding = """
                { "name": "NS", "class_name": "Counter" }""";
        String oldMigrations = """
                { "tag": "v1", "new_sqlite_classes": ["Counter"] }""";
        Path old = worker("old", oldBinding, oldMigrations);
        java.util.List<String> before = serveWorkers(java.util.List.of(old), "old", "old");
        assertThat(before.get(1)).startsWith("2 ");
        String id = before.get(1).substring(2);

        Path fresh = worker("fresh", """
                { "name": "NS", "class_name": "Tally" }""", """
                { "tag": "t1", "transferred_classes": [{ "from": "Counter", "from_script": "old", "to": "Tally" }] }""");
        java.util.List<String> after = serveWorkers(java.util.List.of(old, fresh), "fresh", "old", "fresh");
        assertThat(after).as("the destination has the objects and their data; idFromName makes the same id; the old "
                + "worker's binding reaches the same objects").containsExactly("3 " + id, "4 " + id, "5 " + id);
        assertThat(data.resolve("tenants/shop/objects/old/Counter")).doesNotExist();
        assertThat(data.resolve("tenants/shop/objects/fresh/Tally/" + id + ".sqlite")).exists();

        // Restarted on the same data, nothing moves again.
        assertThat(serveWorkers(java.util.List.of(old, fresh), "fresh")).containsExactly("6 " + id);
    }

    @Test
    void aTransferCannotReachAnotherTenantsObjects() throws Exception {
        Path victim = worker("victim", """
                { "name": "NS", "class_name": "Counter" }""", """
                { "tag": "v1", "new_sqlite_classes": ["Counter"] }""");
        String id = serveWorkers(java.util.List.of(victim), "victim").getFirst().substring(2);
        Path stored = data.resolve("tenants/shop/objects/victim/Counter/" + id + ".sqlite");
        assertThat(stored).exists();

        // Another tenant names the victim's worker as the source: its transfer finds nothing of its own to move.
        Path thief = worker("thief", """
                { "name": "NS", "class_name": "Loot" }""", """
                { "tag": "t1", "transferred_classes": [{ "from": "Counter", "from_script": "victim", "to": "Loot" }] }""");
        Files.writeString(thief.resolve("wrangler.jsonc"), Files.readString(thief.resolve("wrangler.jsonc"))
                .replace("\"tenant\": \"shop\"", "\"tenant\": \"mallory\""));
        java.util.List<String> answers = serveWorkers(java.util.List.of(victim, thief), "thief", "victim");
        assertThat(answers.get(0)).as("the thief's namespace is empty").startsWith("1 ");
        assertThat(answers.get(1)).as("the victim keeps its objects").isEqualTo("2 " + id);
        assertThat(stored).exists();
    }
}
