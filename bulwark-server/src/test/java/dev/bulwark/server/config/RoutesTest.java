package dev.bulwark.server.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static dev.bulwark.server.config.Fixtures.project;
import static dev.bulwark.server.config.Fixtures.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** wrangler routes as Bulwark reads and matches them, and the module root that names modules in messages. */
class RoutesTest {
    @TempDir
    Path dir;

    @Test
    void routesAreReadAsStringsObjectsAndCustomDomains() throws Exception {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01",
                  "routes": [ "Example.com/*", { "pattern": "*.example.org/api/*", "zone_name": "example.org" },
                              { "pattern": "shop.example.net", "custom_domain": true } ],
                  "route": "solo.example.com/x" }""");
        ProjectConfig config = ProjectLoader.load(dir);
        assertThat(config.routes()).containsExactly(new Route("example.com/*", false),
                new Route("*.example.org/api/*", false), new Route("shop.example.net", true),
                new Route("solo.example.com/x", false));
        assertThat(config.warnings()).isEmpty();
        assertThat(config.workersDev()).as("workers_dev defaults to true").isTrue();
    }

    @Test
    void workersDevFalseIsRead() throws Exception {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01", "workers_dev": false,
                  "route": { "pattern": "example.org/*", "zone_name": "example.org" } }""");
        assertThat(ProjectLoader.load(dir).workersDev()).isFalse();
    }

    @Test
    void aPatternWithoutAPathOrWithAStarInsideIsAnError() {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01", "routes": [ "example.com" ] }""");
        assertThatThrownBy(() -> ProjectLoader.load(dir)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("wrangler.jsonc: routes[0] must be a route pattern");
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01",
                  "routes": [ { "pattern": "shop.example.com/*", "custom_domain": true } ] }""");
        assertThatThrownBy(() -> ProjectLoader.load(dir)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("a custom domain has no path");
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01", "routes": [ "ex*ample.com/a*b" ] }""");
        assertThatThrownBy(() -> ProjectLoader.load(dir)).isInstanceOf(ConfigException.class);
    }

    @Test
    void matching() {
        Route wildcard = new Route("*.example.com/api/*", false);
        assertThat(wildcard.matches("a.example.com", "/api/v1")).isTrue();
        assertThat(wildcard.matches("a.b.example.com", "/api/")).isTrue();
        assertThat(wildcard.matches("example.com", "/api/v1")).as("the apex is not a subdomain").isFalse();
        assertThat(wildcard.matches("a.example.com", "/other")).isFalse();
        assertThat(wildcard.matches("evil-example.com", "/api/x")).isFalse();
        Route exact = new Route("example.com/login", false);
        assertThat(exact.matches("example.com", "/login")).isTrue();
        assertThat(exact.matches("example.com", "/login/x")).isFalse();
        Route domain = new Route("shop.example.net", true);
        assertThat(domain.matches("shop.example.net", "/any/path")).isTrue();
        assertThat(domain.matches("x.shop.example.net", "/")).isFalse();
        assertThat(new Route("example.com/api/*", false).specificity())
                .isGreaterThan(new Route("example.com/*", false).specificity())
                .isGreaterThan(new Route("*.example.com/api/long/path/*", false).specificity());
    }

    @Test
    void theSourceRootIsWhereModuleNamesStart() throws Exception {
        write(dir, "wrangler.jsonc", """
                { "name": "w", "main": "src/index.js", "compatibility_date": "2025-09-01" }""");
        write(dir, "src/index.js", "export default {};");
        ProjectConfig config = ProjectLoader.load(dir);
        assertThat(config.bundle().mainModule()).isEqualTo("index.js");
        assertThat(config.sourceRoot()).isEqualTo("src/");
        assertThat(List.of(config.bundle().modules().keySet().toArray())).containsExactly("index.js");
    }

    @Test
    void mainFromTheCommandLineReplacesTheWranglerMain() throws Exception {
        write(dir, "wrangler.jsonc", """
                { "name": "w", "main": "src/index.ts", "compatibility_date": "2025-09-01" }""");
        write(dir, "src/index.ts", "export default {} as unknown;");
        write(dir, "dist/index.js", "export default {};");
        ProjectConfig config = ProjectLoader.load(dir, Path.of("dist/index.js"), s -> s);
        assertThat(config.bundle().mainModule()).isEqualTo("index.js");
        assertThat(config.sourceRoot()).isEqualTo("dist/");
        Path outside = java.nio.file.Files.createTempFile("outside", ".js");
        try {
            assertThatThrownBy(() -> ProjectLoader.load(dir, outside, s -> s))
                    .isInstanceOf(ConfigException.class).hasMessageContaining("not inside the project directory");
        } finally {
            java.nio.file.Files.deleteIfExists(outside);
        }
    }
}
