package dev.bulwark.server.config;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static dev.bulwark.server.config.Fixtures.project;
import static dev.bulwark.server.config.Fixtures.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code governance.lanes}: per-tenant budgets and the behaviour of a full lane. */
class LaneSettingsTest {
    @TempDir
    Path dir;

    @BeforeEach
    void worker() {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01" }""");
    }

    @Test
    void lanesAreReadAndUnsetOnesKeepTheirDefaults() throws Exception {
        write(dir, "bulwark.toml", """
                [governance.lanes.interactive]
                per_tenant = 3
                concurrency = 20
                when_full = "downgrade"
                retry_after_s = 2

                [governance.lanes.long]
                when_full = "reject"
                queue_ms = 0
                """);
        GovernanceSettings g = ProjectLoader.load(dir).settings().governance();
        assertThat(g.lanes()).isEqualTo(new LaneSettings(
                new LaneSettings.Lane(3, 20, LaneSettings.WhenFull.DOWNGRADE, 2_000, 256, 2),
                new LaneSettings.Lane(4, 16, LaneSettings.WhenFull.REJECT, 0, 256, 5),
                LaneSettings.DEFAULTS.approval()));
        assertThat(g.isEmpty()).isFalse();
    }

    @Test
    void withoutLanesTheDefaultsHold() throws Exception {
        write(dir, "bulwark.toml", "");
        GovernanceSettings g = ProjectLoader.load(dir).settings().governance();
        assertThat(g.lanes()).isEqualTo(LaneSettings.DEFAULTS);
        assertThat(g.isEmpty()).isTrue();
    }

    @Test
    void badLanesAreErrors() {
        refused("[governance.lanes.fast]\nper_tenant = 1\n", "is not a lane; the lanes are approval, interactive, long");
        refused("[governance.lanes.interactive]\nper_tenant = 0\n", "1 to 1000000");
        refused("[governance.lanes.interactive]\nwhen_full = \"drop\"\n", "\"reject\", \"queue\" or \"downgrade\"");
        refused("[governance.lanes.long]\nwhen_full = \"downgrade\"\n", "the long lane has no lane to downgrade to");
        refused("[governance.lanes.interactive]\nburst = 3\n",
                "is not a key of a lane; a lane has concurrency, per_tenant, queue_max, queue_ms, retry_after_s, when_full");
    }

    private void refused(String toml, String message) {
        write(dir, "bulwark.toml", toml);
        assertThatThrownBy(() -> ProjectLoader.load(dir)).as(toml).isInstanceOf(ConfigException.class)
                .hasMessageContaining(message);
    }
}
