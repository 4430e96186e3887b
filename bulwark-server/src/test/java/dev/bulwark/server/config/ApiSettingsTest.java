package dev.bulwark.server.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;

import static dev.bulwark.server.config.Fixtures.project;
import static dev.bulwark.server.config.Fixtures.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The tenant API's keys: read as SHA-256 digests, and a presented key maps to its tenant only. */
class ApiSettingsTest {
    @TempDir
    Path dir;

    static String sha256(String key) {
        return HexFormat.of().formatHex(ApiSettings.digest(key));
    }

    @Test
    void keysAreReadAsDigestsAndMatchTheirTenantOnly() throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01" }""");
        write(dir, "bulwark.toml", """
                [[api.keys]]
                tenant = "acme"
                key_sha256 = "%s"

                [[api.keys]]
                tenant = "globex"
                key_sha256 = "%s"
                """.formatted(sha256("acme-key-0123456789"), sha256("globex-key-9876543210")));

        ApiSettings api = ProjectLoader.load(dir).settings().api();

        assertThat(api.keys()).extracting(ApiSettings.Key::tenant).containsExactly("acme", "globex");
        assertThat(api.tenantOf("acme-key-0123456789")).isEqualTo("acme");
        assertThat(api.tenantOf("globex-key-9876543210")).isEqualTo("globex");
        for (String wrong : List.of("acme-key-012345678", "acme-key-01234567890", "ACME-KEY-0123456789", "", sha256("acme-key-0123456789"))) {
            assertThat(api.tenantOf(wrong)).as(wrong).isNull();
        }
        assertThat(api.tenantOf(null)).isNull();
        assertThat(api.keys().getFirst().toString()).doesNotContain(sha256("acme-key-0123456789"));
    }

    @Test
    void withoutKeysNobodyGetsIn() throws ConfigException {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01" }""");
        assertThat(ProjectLoader.load(dir).settings().api()).isEqualTo(ApiSettings.NONE);
        assertThat(ApiSettings.NONE.tenantOf("anything")).isNull();
    }

    @Test
    void aKeyInTheClearOrAMalformedEntryIsAnErrorThatDoesNotEchoIt() {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01",
                  "bulwark": { "api": { "keys": [ { "tenant": "acme", "key_sha256": "my-secret-key" } ] } } }""");
        assertThatThrownBy(() -> ProjectLoader.load(dir)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("bulwark.api.keys[0].key_sha256")
                .hasMessageContaining("64 lower-case hex digits")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("my-secret-key"));
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01",
                  "bulwark": { "api": { "keys": [ { "tenant": "acme", "key": "x" } ] } } }""");
        assertThatThrownBy(() -> ProjectLoader.load(dir)).hasMessageContaining("is not a key of an API key");
        String digest = sha256("k-0123456789");
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01",
                  "bulwark": { "api": { "keys": [ { "tenant": "a", "key_sha256": "%s" }, { "tenant": "b", "key_sha256": "%s" } ] } } }"""
                .formatted(digest, digest));
        assertThatThrownBy(() -> ProjectLoader.load(dir)).hasMessageContaining("is the digest of a key listed before");
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01",
                  "bulwark": { "api": { "keys": [ { "tenant": "no:colons", "key_sha256": "%s" } ] } } }""".formatted(digest));
        assertThatThrownBy(() -> ProjectLoader.load(dir)).hasMessageContaining("tenant");
    }
}
