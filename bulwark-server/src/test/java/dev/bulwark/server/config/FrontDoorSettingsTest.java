package dev.bulwark.server.config;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FrontDoorSettingsTest {
    @Test
    void trustsExactlyTheListedAddressesAndBlocks() throws Exception {
        FrontDoorSettings s = new FrontDoorSettings(List.of("10.0.0.0/8", "192.168.1.5", "2001:db8::/32"), "local");
        assertThat(s.trusts(InetAddress.getByName("10.200.3.4"))).isTrue();
        assertThat(s.trusts(InetAddress.getByName("11.0.0.1"))).isFalse();
        assertThat(s.trusts(InetAddress.getByName("192.168.1.5"))).isTrue();
        assertThat(s.trusts(InetAddress.getByName("192.168.1.6"))).isFalse();
        assertThat(s.trusts(InetAddress.getByName("2001:db8:1::1"))).isTrue();
        assertThat(s.trusts(InetAddress.getByName("2001:db9::1"))).isFalse();
        assertThat(FrontDoorSettings.DEFAULTS.trusts(InetAddress.getByName("127.0.0.1"))).isFalse();
    }

    @Test
    void refusesWhatIsNotAnAddressWithoutLookingItUp() {
        for (String bad : List.of("proxy.example.com", "10.0.0.0/33", "300.1.1.1", "10.0.0.0/x", "")) {
            assertThat(FrontDoorSettings.isAddressOrBlock(bad)).as(bad).isFalse();
        }
        assertThatThrownBy(() -> new FrontDoorSettings(List.of("localhost"), "local"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theDefaultCapGivesRequestsInFlightHalfTheHeap() {
        assertThat(FrontDoorSettings.defaultMaxConcurrentRequests(256L << 20)).isEqualTo(64);
        assertThat(FrontDoorSettings.defaultMaxConcurrentRequests(4L << 30)).isEqualTo(1024);
        assertThat(FrontDoorSettings.defaultMaxConcurrentRequests(16L << 20)).isEqualTo(16);
        assertThat(FrontDoorSettings.defaultMaxConcurrentRequests(64L << 30)).isEqualTo(4096);
        assertThat(FrontDoorSettings.DEFAULTS.maxConcurrentRequests())
                .isEqualTo(FrontDoorSettings.defaultMaxConcurrentRequests(Runtime.getRuntime().maxMemory()));
    }
}
