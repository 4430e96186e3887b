package dev.bulwark.server.config;

import org.junit.jupiter.api.Test;

import java.lang.reflect.RecordComponent;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Each {@code with...} method changes its own component and no other. */
class SandboxSettingsTest {
    static final SandboxSettings D = SandboxSettings.DEFAULTS;

    @Test
    void eachWithChangesOnlyItsComponent() throws Exception {
        Map<String, SandboxSettings> changed = Map.ofEntries(
                Map.entry("processesPerTenant", D.withProcessesPerTenant(3)),
                Map.entry("isolatesPerWorker", D.withIsolatesPerWorker(3)),
                Map.entry("rssCeilingMb", D.withRssCeilingMb(300)),
                Map.entry("poolSize", D.withPoolSize(0)),
                Map.entry("jvmOptions", D.withJvmOptions(List.of("-Xmx64m"))),
                Map.entry("dynamicWorkersMax", D.withDynamicWorkersMax(3)),
                Map.entry("objectIdleMs", D.withObjectIdleMs(3)),
                Map.entry("confine", D.withConfine(SandboxSettings.Confine.OFF)),
                Map.entry("websocketsPerObject", D.withWebsocketsPerObject(3)),
                Map.entry("objectStorageIdleMs", D.withObjectStorageIdleMs(3)),
                Map.entry("sessions", D.withSessions(new SessionSandboxSettings(SessionSandboxSettings.Per.RUN, 2, 2, 0, 0, 1, 0))),
                Map.entry("dormant", D.withDormant(new DormantWorkerSettings(3, 3))));
        RecordComponent[] components = SandboxSettings.class.getRecordComponents();
        assertThat(changed).hasSameSizeAs(components);
        for (RecordComponent c : components) {
            SandboxSettings s = changed.get(c.getName());
            for (RecordComponent other : components) {
                Object was = other.getAccessor().invoke(D);
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
