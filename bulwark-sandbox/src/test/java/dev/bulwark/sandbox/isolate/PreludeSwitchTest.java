package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.worker.Compatibility;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The switches Java sends and those the prelude reads are the same, bit for bit. */
class PreludeSwitchTest {
    private static final Path COMPAT_JS = Path.of("src/prelude/src/compat.js");

    @Test
    void thePreludeListsTheSameSwitchesInTheSameOrder() throws Exception {
        String source = Files.readString(COMPAT_JS);
        Matcher list = Pattern.compile("export const SWITCHES = Object\\.freeze\\(\\[([^\\]]*)]\\)").matcher(source);
        assertThat(list.find()).as("SWITCHES in compat.js").isTrue();
        List<String> names = new ArrayList<>();
        Matcher name = Pattern.compile("'([A-Z0-9_]+)'").matcher(list.group(1));
        while (name.find()) names.add(name.group(1));
        assertThat(names).containsExactlyElementsOf(Arrays.stream(PreludeSwitch.values()).map(Enum::name).toList());
        // Each constant's bit is its place in the list.
        for (PreludeSwitch s : PreludeSwitch.values()) {
            assertThat(source).as("compat.js's constant %s", s).contains("export const " + s + " = 1 << " + s.ordinal() + ";");
        }
        assertThat(PreludeSwitch.values().length).as("bits of one int").isLessThanOrEqualTo(31);
    }

    @Test
    void bitsAreTheSwitchesACompatibilityTurnsOn() {
        int bits = PreludeSwitch.bits(new Compatibility("2024-11-10", List.of("enable_abortsignal_rpc")));
        assertThat(bits).isEqualTo(1 << PreludeSwitch.ABORT_SIGNAL_RPC.ordinal());
        assertThat(PreludeSwitch.bits(new Compatibility("2024-11-11", List.of())))
                .isEqualTo(1 << PreludeSwitch.CACHE_OPTION.ordinal());
    }

    @Test
    void thePreludesDefaultIsWhatABundleWithNoDateGets() throws Exception {
        // Before any load (the snapshot, the node harness) the prelude behaves as an undated bundle.
        String source = Files.readString(COMPAT_JS);
        Matcher initial = Pattern.compile("let bits = ([^;]*);").matcher(source);
        assertThat(initial.find()).as("the initial bits in compat.js").isTrue();
        int bits = 0;
        for (String name : initial.group(1).split("\\|")) bits |= 1 << PreludeSwitch.valueOf(name.trim()).ordinal();
        assertThat(bits).isEqualTo(PreludeSwitch.bits(Compatibility.NONE));
    }
}
