package dev.bulwark.server.node;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Java values through the prelude's structured serialization format, and bytes a hostile sandbox could send. */
class CloneCodecTest {
    static byte[] bytes(int... b) {
        byte[] out = new byte[b.length];
        for (int i = 0; i < b.length; i++) out[i] = (byte) b[i];
        return out;
    }

    @Test
    void javaValuesRoundTripAsTheirJsCounterparts() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("n", 1.5);
        m.put("i", -7.0);
        m.put("s", "héllo \ud83d\ude00");
        m.put("lone", "\ud800x");
        m.put("b", true);
        m.put("z", null);
        m.put("list", List.of(1.0, "x", List.of()));
        m.put("set", Set.of("only"));
        Object back = CloneCodec.deserialize(CloneCodec.serialize(m));
        assertThat(back).isEqualTo(m);
        assertThat((byte[]) CloneCodec.deserialize(CloneCodec.serialize(new byte[] {1, 2, (byte) 255}))).containsExactly(1, 2, 255);
        // Integers become JS numbers, and come back as Double.
        assertThat(CloneCodec.deserialize(CloneCodec.serialize(List.of(3, 4L, -0.0)))).isEqualTo(List.of(3.0, 4.0, -0.0));
    }

    @Test
    void theWireFormIsSerializeJs() {
        // serialize.js: [1, "a"] is B7 01, ARRAY 2, INT zigzag(1)=2, STRING 1 'a', no extra properties.
        assertThat(CloneCodec.serialize(List.of(1, "a"))).containsExactly(bytes(0xB7, 1, 0x12, 2, 0x04, 2, 0x07, 1, 'a', 0));
        assertThat(CloneCodec.serialize(Map.of("k", false))).containsExactly(bytes(0xB7, 1, 0x11, 1, 0x07, 1, 'k', 0x03));
    }

    @Test
    void sharedAndCyclicReferencesSurvive() {
        List<Object> cyclic = new ArrayList<>();
        cyclic.add(cyclic);
        @SuppressWarnings("unchecked")
        List<Object> back = (List<Object>) CloneCodec.deserialize(CloneCodec.serialize(cyclic));
        assertThat(back.getFirst()).isSameAs(back);
    }

    @Test
    void errorsComeBackAsJsError() {
        // ERROR, TypeError (5), flags message, "no"
        assertThat(CloneCodec.deserialize(bytes(0xB7, 1, 0x1a, 5, 1, 0x07, 2, 'n', 'o')))
                .isEqualTo(new CloneCodec.JsError("TypeError", "no"));
    }

    @Test
    void hostileBytesAreRefusedWithoutHugeAllocations() {
        // An array claiming 2^40 elements, a string claiming 2^31 bytes, a reference to nothing, a stub slot, deep nesting.
        for (byte[] b : List.of(bytes(0xB7, 1, 0x12, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20),
                bytes(0xB7, 1, 0x07, 0x80, 0x80, 0x80, 0x80, 0x08),
                bytes(0xB7, 1, 0x10, 5),
                bytes(0xB7, 1, 0x20, 0),
                bytes(0xB7, 1, 0x13, 0x80, 0x80, 0x80, 0x80, 0x0f, 0, 0),
                bytes(0xB7, 2, 0x01),
                bytes(0xB7, 1, 0x01, 0x01))) {
            assertThatThrownBy(() -> CloneCodec.deserialize(b)).isInstanceOf(IllegalArgumentException.class);
        }
        byte[] deep = new byte[2 + 2 * 2000 + 1];
        deep[0] = (byte) 0xB7;
        deep[1] = 1;
        for (int i = 0; i < 2000; i++) {
            deep[2 + 2 * i] = 0x12;
            deep[3 + 2 * i] = 1;
        }
        deep[deep.length - 1] = 0x01;
        assertThatThrownBy(() -> CloneCodec.deserialize(deep)).hasMessageContaining("nested too deeply");
        assertThatThrownBy(() -> CloneCodec.serialize(new Object())).isInstanceOf(IllegalArgumentException.class);
    }
}
