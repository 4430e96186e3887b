package dev.bulwark.sandbox.ipc;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The capability header of RPC payloads (the value codec is tested in bulwark-objects' StructuredValuesTest). */
class CapPayloadTest {
    @Test
    void aPayloadWithoutCapabilitiesIsTheSerializedBytesThemselves() {
        byte[] plain = {(byte) 0xb7, 1, 0x07, 1, 'x'}; // serialize.js's bytes of "x"
        assertThat(CapPayload.hasRefs(plain)).isFalse();
        assertThat(CapPayload.decode(plain).encode()).isSameAs(plain);
    }

    @Test
    void everyKindOfRefRoundTrips() {
        byte[] value = {(byte) 0xb7, 1, 0x12, 1, 0x07, 1, 'a', 0}; // ["a"]
        CapPayload p = new CapPayload(List.of(new CapPayload.Export(5), new CapPayload.Import(-3), new CapPayload.Import(7),
                new CapPayload.Held(1L << 52), new CapPayload.ObjectStub(2, "a".repeat(64), null),
                new CapPayload.Addressed(new Address.Worker("dyn-1", null)),
                new CapPayload.Addressed(new Address.DurableObject("w", "C", "b".repeat(64), "name"))), value);
        CapPayload back = CapPayload.decode(p.encode());
        assertThat(back.refs()).isEqualTo(p.refs());
        assertThat(Arrays.equals(back.value(), value)).isTrue();
    }

    @Test
    void malformedHeadersAreRefused() {
        assertThatThrownBy(() -> CapPayload.decode(new byte[] {(byte) 0xCA, 1, 9})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> CapPayload.decode(new byte[] {(byte) 0xCA, 2, 1})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> CapPayload.decode(new byte[] {(byte) 0xCA, (byte) 0xff, (byte) 0xff, 3}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("too many");
    }
}
