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
    void shapedStubsServiceStubsAndGrantedEntrypointsRoundTrip() {
        byte[] value = {(byte) 0xb7, 1, 0x30}; // null
        CapPayload p = new CapPayload(List.of(
                new CapPayload.Held(42, new CapPayload.ObjectShape("e".repeat(64), "room é")),
                new CapPayload.Held(43, new CapPayload.ObjectShape("f".repeat(64), null)),
                new CapPayload.Held(44, CapPayload.Shape.FETCHER),
                new CapPayload.Import(-2, CapPayload.Shape.FETCHER),
                new CapPayload.Import(9, new CapPayload.ObjectShape("a".repeat(64), "n")),
                new CapPayload.Service(-1, "Scoped", new byte[] {1, 2, 3}),
                new CapPayload.Service(3, null, null),
                new CapPayload.Addressed(new Address.Worker("dyn-2", "Ep", new Address.Grant(new byte[] {9}, 50, 0))),
                new CapPayload.Addressed(new Address.Worker("dyn-3", null, new Address.Grant(null, -1, 7)))), value);
        CapPayload back = CapPayload.decode(p.encode());
        assertThat(back.refs()).isEqualTo(p.refs());
        // A plain ref keeps the old encoding: a peer without shapes reads it as before.
        assertThat(new CapPayload(List.of(new CapPayload.Held(5)), value).encode()[2]).isEqualTo((byte) 3);
    }

    @Test
    void malformedShapesAndOversizedPropsAreRefused() {
        assertThatThrownBy(() -> CapPayload.decode(new byte[] {(byte) 0xCA, 1, 21, 5, 7})).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("shape");
        assertThatThrownBy(() -> CapPayload.decode(new byte[] {(byte) 0xCA, 1, 23, 1, 0, 1, (byte) 0xff, (byte) 0xff, 0x7f}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("props");
    }

    @Test
    void malformedHeadersAreRefused() {
        assertThatThrownBy(() -> CapPayload.decode(new byte[] {(byte) 0xCA, 1, 9})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> CapPayload.decode(new byte[] {(byte) 0xCA, 2, 1})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> CapPayload.decode(new byte[] {(byte) 0xCA, (byte) 0xff, (byte) 0xff, 3}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("too many");
    }
}
