package dev.bulwark.server.governance;

import dev.bulwark.server.config.GovernanceSettings;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The parts of configured tools that need no node (the example's test covers the rest with one). */
class ConfiguredGovernanceTest {
    @Test
    void webhookHeadersGetTheSecretsValuesOnlyWhereReferenced() {
        Map<String, String> headers = ConfiguredGovernance.headers(
                Map.of("Authorization", "Bearer ${TOKEN}", "X-Static", "plain $1 \\ value", "X-Two", "${A}:${B}"),
                Map.of("TOKEN", "t0k$en\\", "A", "a", "B", "b", "UNUSED", "x"));
        assertThat(headers).isEqualTo(Map.of("Authorization", "Bearer t0k$en\\", "X-Static", "plain $1 \\ value", "X-Two", "a:b"));
        assertThatThrownBy(() -> ConfiguredGovernance.headers(Map.of("A", "${MISSING}"), Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("${");
    }

    @Test
    void anEntrypointToolRefusesASessionOfAnotherTenantWithoutCallingTheWorker() {
        // No EntrypointCalls at all: reaching the worker would throw a NullPointerException instead.
        ToolFunction f = ConfiguredGovernance.entrypoint(null, "acme", new GovernanceSettings.Entrypoint("tools", "Tools", "open"));
        assertThatThrownBy(() -> f.run(new ToolCall("ses_x", "globex", "mallory", "tickets.open", Map.of(), "k")))
                .isInstanceOf(IllegalStateException.class).hasMessage("a session of globex called a tool of acme");
    }
}
