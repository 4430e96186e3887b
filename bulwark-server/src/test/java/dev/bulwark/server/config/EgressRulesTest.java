package dev.bulwark.server.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EgressRulesTest {

    @Test
    void aRuleAllowsOnlyWhatEveryPartOfItAllows() {
        EgressRule rule = new EgressRule("api.example.com", Set.of("https"), Set.of(443), "/v1/", Set.of("GET"),
                Set.of("billing"), Set.of());
        assertThat(rule.allows("https", "api.example.com", 443, "/v1/charges", "GET", "billing", "t")).isTrue();
        assertThat(rule.allows("http", "api.example.com", 443, "/v1/charges", "GET", "billing", "t")).isFalse();
        assertThat(rule.allows("https", "api.example.com", 8443, "/v1/charges", "GET", "billing", "t")).isFalse();
        assertThat(rule.allows("https", "api.example.com", 443, "/v2/charges", "GET", "billing", "t")).isFalse();
        assertThat(rule.allows("https", "api.example.com", 443, "/v1/charges", "POST", "billing", "t")).isFalse();
        assertThat(rule.allows("https", "api.example.com", 443, "/v1/charges", "GET", "other", "t")).isFalse();
        assertThat(rule.allows("https", "evil.example.com", 443, "/v1/charges", "GET", "billing", "t")).isFalse();
    }

    @Test
    void rulesAreReadFromTheBulwarkSettings(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("wrangler.toml"), """
                name = "w"
                main = "index.js"
                compatibility_date = "2025-01-01"
                """);
        Files.writeString(dir.resolve("index.js"), "export default { fetch() { return new Response('x') } }");
        Files.writeString(dir.resolve("bulwark.toml"), """
                [egress]
                max_response_bytes = 1048576
                timeout_ms = 5000
                max_concurrent = 8
                max_concurrent_per_tenant = 2

                [[egress.rules]]
                host = "api.example.com"
                schemes = ["https"]
                ports = [443]
                path_prefix = "/v1/"
                methods = ["get", "POST"]
                workers = ["w"]
                """);
        EgressSettings egress = ProjectLoader.load(dir).settings().egress();
        assertThat(egress.rules()).containsExactly(new EgressRule("api.example.com", Set.of("https"), Set.of(443), "/v1/",
                Set.of("GET", "POST"), Set.of("w"), Set.of()));
        assertThat(egress.maxResponseBytes()).isEqualTo(1 << 20);
        assertThat(egress.timeoutMs()).isEqualTo(5000);
        assertThat(egress.maxConcurrent()).isEqualTo(8);
        assertThat(egress.maxConcurrentPerTenant()).isEqualTo(2);
        assertThat(egress.testOnlyAllowLoopback()).isFalse();
        assertThat(egress.allows("https", "api.example.com", 443, "/v1/x", "POST", "w", "w")).isTrue();
        assertThat(egress.allows("https", "api.example.com", 443, "/admin", "POST", "w", "w")).isFalse();
    }

    @Test
    void aMisspeltRuleKeyIsAnError(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("wrangler.toml"), "name = \"w\"\nmain = \"index.js\"\ncompatibility_date = \"2025-01-01\"\n");
        Files.writeString(dir.resolve("index.js"), "export default {}");
        Files.writeString(dir.resolve("bulwark.toml"), "[[egress.rules]]\nhost = \"a.example\"\npath = \"/v1\"\n");
        assertThatThrownBy(() -> ProjectLoader.load(dir)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("path").hasMessageContaining("path_prefix");
    }

    @Test
    void hostPatternsStillAllowAnyRequestToTheirHosts() {
        EgressSettings egress = new EgressSettings(List.of("*.example.org"), false);
        assertThat(egress.allows("http", "a.example.org", 8080, "/anything", "DELETE", "w", "t")).isTrue();
        assertThat(egress.allows("http", "example.org", 80, "/", "GET", "w", "t")).isFalse();
    }

    @Test
    void rawTcpIsAllowedOnlyByARuleThatNamesTcp(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        // connect() (cloudflare:sockets) is asked for as scheme "tcp", method CONNECT, path "/".
        EgressSettings hostsOnly = new EgressSettings(List.of("*"), false)
                .withRules(List.of(EgressRule.anyRequestTo("db.example.com")));
        assertThat(hostsOnly.allows("https", "db.example.com", 443, "/", "GET", "w", "t")).isTrue();
        assertThat(hostsOnly.allows("tcp", "db.example.com", 5432, "/", "CONNECT", "w", "t"))
                .as("an HTTP host pattern or a rule without schemes never allows a raw TCP connection").isFalse();

        Files.writeString(dir.resolve("wrangler.toml"), "name = \"w\"\nmain = \"index.js\"\ncompatibility_date = \"2025-01-01\"\n");
        Files.writeString(dir.resolve("index.js"), "export default {}");
        Files.writeString(dir.resolve("bulwark.toml"), """
                [[egress.rules]]
                host = "db.example.com"
                schemes = ["tcp"]
                ports = [5432]
                """);
        EgressSettings egress = ProjectLoader.load(dir).settings().egress();
        assertThat(egress.allows("tcp", "db.example.com", 5432, "/", "CONNECT", "w", "t")).isTrue();
        assertThat(egress.allows("tcp", "db.example.com", 22, "/", "CONNECT", "w", "t")).isFalse();
        assertThat(egress.allows("https", "db.example.com", 5432, "/", "GET", "w", "t"))
                .as("a tcp rule allows no HTTP request").isFalse();

        Files.writeString(dir.resolve("bulwark.toml"), "[[egress.rules]]\nhost = \"a.example\"\nschemes = [\"udp\"]\n");
        assertThatThrownBy(() -> ProjectLoader.load(dir)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("\"tcp\"");
    }
}
