package dev.bulwark.server.egress;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetAddress;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What the gateway may connect to, from the attacker's side: every spelling of an internal address is internal. */
class AddressClassifierTest {
    /** A host whose own interfaces are loopback, a private address and a public one. */
    static final AddressClassifier CLASSIFIER = new AddressClassifier(() -> Set.of(
            addr("127.0.0.1"), addr("::1"), addr("10.1.2.3"), addr("203.0.114.7"), addr("2a01:4f8::7")));

    static InetAddress addr(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    @ParameterizedTest(name = "{0} is {1}")
    @CsvSource({
            "127.0.0.1, LOOPBACK", "127.255.0.9, LOOPBACK", "::1, LOOPBACK",
            "203.0.114.7, HOST", "2a01:4f8::7, HOST",
            "169.254.169.254, METADATA", "fd00:ec2::254, METADATA", "100.100.100.200, METADATA",
            "10.9.9.9, PRIVATE", "172.16.0.1, PRIVATE", "172.31.255.255, PRIVATE", "192.168.1.1, PRIVATE",
            "fc00::1, PRIVATE", "fd12:3456::1, PRIVATE", "fec0::1, PRIVATE", "64:ff9b:1::1, PRIVATE",
            "169.254.1.1, LINK_LOCAL", "fe80::1, LINK_LOCAL",
            "100.64.0.1, CGNAT", "100.127.255.255, CGNAT",
            "0.0.0.0, RESERVED", "0.1.2.3, RESERVED", "::, RESERVED", "224.0.0.1, RESERVED", "255.255.255.255, RESERVED",
            "240.0.0.1, RESERVED", "192.0.2.1, RESERVED", "198.18.0.1, RESERVED", "ff02::1, RESERVED", "2001:db8::1, RESERVED",
            "8.8.8.8, PUBLIC", "172.32.0.1, PUBLIC", "100.128.0.1, PUBLIC", "2606:4700::1111, PUBLIC", "1.1.1.1, PUBLIC",
    })
    void classifiesPlainAddresses(String literal, AddressClass expected) {
        assertThat(CLASSIFIER.classify(addr(literal))).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} carries {1}")
    @CsvSource({
            // IPv4-compatible, mapped and translated forms
            "::127.0.0.1, LOOPBACK", "::ffff:127.0.0.1, LOOPBACK", "::ffff:0:127.0.0.1, LOOPBACK",
            "::169.254.169.254, METADATA", "::ffff:169.254.169.254, METADATA", "::ffff:10.0.0.1, PRIVATE",
            "::ffff:203.0.114.7, HOST",
            // NAT64 64:ff9b::/96
            "64:ff9b::7f00:1, LOOPBACK", "64:ff9b::a9fe:a9fe, METADATA", "64:ff9b::c0a8:0101, PRIVATE",
            // 6to4 2002::/16: the IPv4 is in bits 16-47
            "2002:7f00:0001::1, LOOPBACK", "2002:a9fe:a9fe::, METADATA", "2002:0a00:0001::1, PRIVATE",
            // Teredo 2001::/32: server in bits 32-63, client inverted in the last 32
            "2001:0:7f00:1:0:0:f7f7:f7f7, LOOPBACK", "2001:0:4136:e378:8000:63bf:80ff:fffe, LOOPBACK",
            "2001:0:4136:e378:8000:63bf:5601:5601, METADATA",
            // ... and public ones stay public
            "::ffff:8.8.8.8, PUBLIC", "64:ff9b::808:808, PUBLIC", "2002:0808:0808::1, PUBLIC",
    })
    void judgesIpv6FormsByTheIpv4TheyCarry(String literal, AddressClass expected) {
        assertThat(CLASSIFIER.classify(addr(literal))).isEqualTo(expected);
    }

    @Test
    void theLiveInterfacesOfThisMachineAreHostAddresses() {
        AddressClassifier live = new AddressClassifier();
        for (InetAddress a : AddressClassifier.localInterfaceAddresses()) {
            assertThat(live.classify(a)).as(a.getHostAddress()).isNotEqualTo(AddressClass.PUBLIC);
        }
    }

    @ParameterizedTest(name = "{0} is {1}")
    @CsvSource({
            "2130706433, 127.0.0.1", "0x7f000001, 127.0.0.1", "017700000001, 127.0.0.1", "0x7f.1, 127.0.0.1",
            "127.1, 127.0.0.1", "0177.0.0.1, 127.0.0.1", "127.0.1, 127.0.0.1", "0, 0.0.0.0", "2852039166, 169.254.169.254",
            "0xa9.0xfe.0xa9.0xfe, 169.254.169.254", "EXAMPLE.com., example.com", "[::FFFF:127.0.0.1], 127.0.0.1",
            "[::1], 0:0:0:0:0:0:0:1",
    })
    void readsHostsAsUrlsDo(String host, String canonical) {
        assertThat(HostName.parse(host).name()).isEqualTo(canonical);
    }

    @ParameterizedTest
    @CsvSource({"256.0.0.1", "1.2.3.4.5", "0x100000000", "4294967296", "1.2.3.0x100", "foo.123", "[fe80::1%eth0]", "a b"})
    void refusesHostsThatAreNotHosts(String host) {
        assertThatThrownBy(() -> HostName.parse(host)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void everyFormOfAnInternalAddressIsDeniedByTheGuard() throws Exception {
        AddressGuard guard = new AddressGuard(CLASSIFIER, false, false);
        for (String host : List.of("127.0.0.1", "2130706433", "0x7f.1", "[::1]", "[::ffff:127.0.0.1]", "[::127.0.0.1]",
                "169.254.169.254", "[64:ff9b::a9fe:a9fe]", "[2002:7f00:1::1]", "10.0.0.1", "203.0.114.7", "localhost")) {
            assertThatThrownBy(() -> guard.check(HostName.parse(host))).as(host).isInstanceOf(AddressGuard.Denied.class);
        }
        assertThat(guard.check(HostName.parse("8.8.8.8"))).containsExactly(addr("8.8.8.8"));
    }

    @Test
    void privateNetworksAndTheTestLoopbackAllowanceOpenOnlyWhatTheySay() throws Exception {
        AddressGuard privateOk = new AddressGuard(CLASSIFIER, true, false);
        assertThat(privateOk.check(HostName.parse("192.168.0.9"))).hasSize(1);
        assertThatThrownBy(() -> privateOk.check(HostName.parse("127.0.0.1"))).isInstanceOf(AddressGuard.Denied.class);
        assertThatThrownBy(() -> privateOk.check(HostName.parse("169.254.169.254"))).isInstanceOf(AddressGuard.Denied.class);
        assertThatThrownBy(() -> privateOk.check(HostName.parse("203.0.114.7"))).isInstanceOf(AddressGuard.Denied.class);
        assertThatThrownBy(() -> privateOk.check(HostName.parse("10.1.2.3"))).as("this host's own private address")
                .isInstanceOf(AddressGuard.Denied.class);
        AddressGuard loopbackOk = new AddressGuard(CLASSIFIER, false, true);
        assertThat(loopbackOk.check(HostName.parse("127.0.0.1"))).hasSize(1);
        assertThatThrownBy(() -> loopbackOk.check(HostName.parse("10.9.9.9"))).isInstanceOf(AddressGuard.Denied.class);
    }

    @Test
    void targetsAreReadOnceInCanonicalForm() {
        EgressTarget t = EgressTarget.parse("http://0x7f.1:8080/v1/x?y=1");
        assertThat(t.host().name()).isEqualTo("127.0.0.1");
        assertThat(t.port()).isEqualTo(8080);
        assertThat(t.uri().toString()).isEqualTo("http://127.0.0.1:8080/v1/x?y=1");
        assertThat(EgressTarget.parse("https://API.example.com/").port()).isEqualTo(443);
        assertThatThrownBy(() -> EgressTarget.parse("http://u:p@example.com/")).hasMessageContaining("credentials");
        assertThatThrownBy(() -> EgressTarget.parse("http://example.com/v1/%2e%2e/admin")).hasMessageContaining("dot segments");
        assertThatThrownBy(() -> EgressTarget.parse("file:///etc/passwd")).hasMessageContaining("cannot load");
    }
}
