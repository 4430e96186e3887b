package dev.bulwark.server.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.bulwark.server.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code bulwark serve} of a project whose migrations cannot be applied: the refusal in one line, a configuration error (exit 2). */
class ServeMigrationsTest {
    @TempDir
    Path dir;

    @Test
    void aMigrationThatDeletesABoundClassStopsServeInOneLine() throws Exception {
        Files.createDirectories(dir.resolve("src"));
        Files.writeString(dir.resolve("src/index.js"), """
                import { DurableObject } from 'cloudflare:workers';
                export class Counter extends DurableObject {}
                export default { fetch() { return new Response('x'); } };
                """);
        Files.writeString(dir.resolve("wrangler.jsonc"), """
                { "name": "m", "main": "src/index.js", "compatibility_date": "2025-09-01",
                  "durable_objects": { "bindings": [{ "name": "C", "class_name": "Counter" }] },
                  "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Counter"] },
                                 { "tag": "v2", "deleted_classes": ["Counter"] }] }""");
        MainTest.Run r = run("serve", "--port", "0", "--data", dir.resolve("data").toString(), dir.toString());
        assertThat(r.status()).as(r.err()).isEqualTo(2);
        // The configuration's own warning says the same from the loader's side; then the refusal, one line.
        assertThat(r.errLines()).containsExactly(
                "bulwark: warning: wrangler.jsonc: durable object class 'Counter' (binding C) is not created by any "
                        + "migration; add it to a migration's new_sqlite_classes",
                "bulwark: worker m: binding C names class 'Counter', but migration 'v2' deletes it; change or remove the binding");
        assertThat(r.out()).doesNotContain("serving");
    }
}
