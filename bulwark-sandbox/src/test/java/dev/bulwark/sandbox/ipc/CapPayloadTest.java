package dev.bulwark.sandbox.ipc;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The capability header of RPC payloads, and the Java side of structured serialization. */
class CapPayloadTest {
    @Test
    void aPayloadWithoutCapabilitiesIsTheSerializedBytesThemselves() {
        byte[] plain = CloneValues.serialize("x");
        assertThat(CapPayload.hasRefs(plain)).isFalse();
        assertThat(CapPayload.decode(plain).encode()).isSameAs(plain);
    }

    @Test
    void everyKindOfRefRoundTrips() {
        byte[] value = CloneValues.serialize(List.of("a"));
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

    @Test
    void javaValuesRoundTripAsStructuredCloneValues() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "é ✓");
        m.put("n", 1.5);
        m.put("i", 42);
        m.put("neg", -7L);
        m.put("list", Arrays.asList(true, null, false));
        m.put("bytes", new byte[] {1, 2, 3});
        m.put("lone", "\ud800x");
        Object back = CloneValues.deserialize(CloneValues.serialize(m));
        assertThat(back).isInstanceOf(Map.class);
        @SuppressWarnings("unchecked") Map<String, Object> b = (Map<String, Object>) back;
        assertThat(b.get("s")).isEqualTo("é ✓");
        assertThat(b.get("n")).isEqualTo(1.5);
        assertThat(b.get("i")).isEqualTo(42.0);
        assertThat(b.get("neg")).isEqualTo(-7.0);
        assertThat(b.get("list")).isEqualTo(Arrays.asList(true, null, false));
        assertThat((byte[]) b.get("bytes")).containsExactly(1, 2, 3);
        assertThat(b.get("lone")).isEqualTo("\ud800x");
        assertThat(CloneValues.deserialize(CloneValues.serialize(new CloneValues.JsError("RangeError", "nope"))))
                .isEqualTo(new CloneValues.JsError("RangeError", "nope"));
    }

    @Test
    void javaObjectsThatAreNotCloneValuesAreRefused() {
        assertThatThrownBy(() -> CloneValues.serialize(new Object())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cannot be passed to JavaScript");
        assertThatThrownBy(() -> CloneValues.serialize(Map.of(1, 2))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> CloneValues.deserialize(new byte[] {(byte) 0xb7, 1, 0x20, 0}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot be passed to a Java capability");
        assertThatThrownBy(() -> CloneValues.deserialize(new byte[] {(byte) 0xb7, 1, 0x12, (byte) 0xff, (byte) 0xff, 0x7f}))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
