package dev.bulwark.server.config;

import dev.bulwark.sandbox.worker.Limits;
import org.junit.jupiter.api.Test;

import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Each {@code with...} method changes its own component and no other. */
class SettingsWithersTest {
    static final Settings S = Settings.of(Path.of("/tmp/bulwark-withers"), "acme");

    @Test
    void eachWithChangesOnlyItsComponent() throws Exception {
        Map<String, Settings> changed = Map.ofEntries(
                Map.entry("port", S.withPort(0)),
                Map.entry("dataDir", S.withDataDir(Path.of("/tmp/bulwark-withers-other"))),
                Map.entry("limits", S.withLimits(new Limits(2_000, 30_000, 128, 50, 64L << 20, 1L << 20, 100L << 20))),
                Map.entry("sandboxes", S.withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(0))),
                Map.entry("egress", S.withEgress(new EgressSettings(List.of("*"), true))),
                Map.entry("frontDoor", S.withFrontDoor(new FrontDoorSettings(List.of("127.0.0.0/8"), "ZRH"))),
                Map.entry("api", S.withApi(new ApiSettings(List.of(ApiSettings.Key.of("acme", "k"))))),
                Map.entry("facets", S.withFacets(new FacetSettings(3, -1, -1, -1, 60_000, -1))),
                Map.entry("governance", S.withGovernance(new GovernanceSettings(List.of(), null, "2", "enforce"))),
                Map.entry("storage", S.withStorage(dev.bulwark.objects.storage.StorageOptions.defaults().withMaxValueBytes(1024))));
        // No caller varies the host, and the tenant is Settings.of's argument: neither has a with... method.
        List<String> withoutWith = List.of("host", "tenant");
        RecordComponent[] components = Settings.class.getRecordComponents();
        assertThat(changed.size() + withoutWith.size()).isEqualTo(components.length);
        for (RecordComponent c : components) {
            if (withoutWith.contains(c.getName())) continue;
            Settings s = changed.get(c.getName());
            assertThat(s).as(c.getName()).isNotNull();
            for (RecordComponent other : components) {
                Object was = other.getAccessor().invoke(S);
                Object now = other.getAccessor().invoke(s);
                if (other.equals(c)) {
                    assertThat(now).as(c.getName()).isNotEqualTo(was);
                } else {
                    assertThat(now).as(c.getName() + " leaves " + other.getName()).isEqualTo(was);
                }
            }
        }
    }
}
