package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Dynamic import() on a real node (dynimport-project): a project's split chunks load lazily as the
 * same module records its static imports use, and a dynamic worker's modules (ES and CommonJS)
 * import their own modules but nothing of their parent's.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DynamicImportNodeTest {
    @TempDir
    static Path data;
    static Node node;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        node = TestProjects.serve(data, "dynimport-project");
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static JsonNode get(String path) throws Exception {
        return JSON.readTree(TestProjects.ok(node, "dynimport", path));
    }

    @Test
    void splitChunksLoadOnceAsTheModulesTheStaticImportsUse() throws Exception {
        JsonNode r = get("/chunks");
        assertThat(r.get("text").asText()).isEqualTo("hello, chunks");
        assertThat(r.get("same").asBoolean()).isTrue();
        assertThat(r.get("runs").asInt()).isEqualTo(1);
        // The chunk's import of shared.js is the main module's: its live binding counted the render.
        assertThat(r.get("sharedIsTheStaticImport").asBoolean()).isTrue();
        assertThat(r.get("renders").asInt()).isEqualTo(1);
        assertThat(r.get("feature").asText()).isEqualTo("on");
        assertThat(get("/missing").get("error").asText()).isEqualTo("Error: No such module \"chunks/gone.js\".");
    }

    @Test
    void aDynamicWorkersModulesImportTheirOwnModulesAndNothingOfTheParents() throws Exception {
        JsonNode r = get("/loader");
        assertThat(r.get("lazy").asInt()).isEqualTo(42);
        assertThat(r.get("same").asBoolean()).isTrue();
        assertThat(r.get("cjs").asBoolean()).isTrue();
        assertThat(r.get("json").asInt()).isEqualTo(7);
        assertThat(r.get("buffer").asText()).isEqualTo("function");
        assertThat(r.at("/parent/error").asText()).isEqualTo("Error: No such module \"../src/index.js\"");
        assertThat(r.at("/parentByName/error").asText()).isEqualTo("Error: No such module \"src/index.js\".");
        assertThat(r.get("secret").isNull()).isTrue();
    }
}
