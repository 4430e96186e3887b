package dev.bulwark.objects.process;

import dev.bulwark.objects.storage.Durability;
import dev.bulwark.objects.storage.StorageOptions;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The node's storage settings reach a sandbox's store unchanged through its command line. */
class SandboxStorageArgumentsTest {

    private static Map<String, String> options(List<String> args) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i + 1 < args.size(); i += 2) m.put(args.get(i), args.get(i + 1));
        return m;
    }

    @Test
    void theArgumentsGiveBackTheOptions() {
        StorageOptions full = new StorageOptions(1L << 20, 5L << 20, Durability.FULL);
        assertThat(SandboxMain.storageOptions(options(SandboxMain.storageArguments(full)))).isEqualTo(full);
        StorageOptions d = StorageOptions.defaults();
        assertThat(SandboxMain.storageArguments(d))
                .containsExactly("--max-value-bytes", "33554432", "--max-database-bytes", "10000000000", "--durability", "normal");
        assertThat(SandboxMain.storageOptions(options(SandboxMain.storageArguments(d)))).isEqualTo(d);
    }

    @Test
    void withoutThemTheDefaultsApply() {
        assertThat(SandboxMain.storageOptions(Map.of())).isEqualTo(StorageOptions.defaults());
    }
}
